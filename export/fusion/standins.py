"""Audio probability tables for the fusion comparison where the shipped model cannot be used honestly.

The shipped audio model has heard every RAVDESS actor, so its own table would be scored on seen speakers.
These write the classify format (``path,emotion,<one probability per canonical label>``) that
``emotrace audio classify`` writes, scored out of fold instead. (Faces need no stand-in: the shipped face
model never trained on FER-2013 PublicTest, so ``emotrace face classify DIR --cropped --csv OUT`` is its table.)

- audio-recipe: the audio model's own recipe (features, per-speaker baseline, classifier), every clip scored
  by a model fitted on the other speakers' folds only.
- audio: an independent, weaker stand-in: MFCC functionals, per-actor z-score, multinomial logistic
  regression, leave-actors-out (5 folds by actor).

Run: ``python -m export.fusion.standins audio-recipe RAVDESS_DIR --csv OUT [--cache DIR]`` /
``python -m export.fusion.standins audio RAVDESS_DIR --csv OUT``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from runtime.audio_rate import AUDIO_RATE_HZ
from runtime.errors import InputError
from runtime.track import CANONICAL_LABELS


def write_classify_csv(path: Path, paths: list[str], probs: np.ndarray, labels=CANONICAL_LABELS) -> None:
    from runtime.files import write_atomically

    lines = [",".join(["path", "emotion", *labels])]
    for name, row in zip(paths, probs, strict=True):
        lines.append(",".join([name, labels[int(np.argmax(row))], *(f"{p:.6f}" for p in row)]))
    write_atomically(Path(path), ("\n".join(lines) + "\n").encode())


def audio_clip_features(samples: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    """MFCC + delta means and standard deviations over the louder frames (the clip's speech)."""
    import librosa

    mfcc = librosa.feature.mfcc(y=samples, sr=sample_rate_hz, n_mfcc=30, hop_length=160, n_fft=512)
    rms = librosa.feature.rms(y=samples, hop_length=160, frame_length=512)[0]
    loud = rms >= 0.1 * rms.max() if rms.max() > 0 else np.ones_like(rms, dtype=bool)
    mfcc = mfcc[:, loud[: mfcc.shape[1]]]
    delta = librosa.feature.delta(mfcc) if mfcc.shape[1] >= 9 else np.zeros_like(mfcc)
    return np.concatenate([mfcc.mean(1), mfcc.std(1), delta.std(1), [np.log(rms[loud].mean() + 1e-6)]])


def audio_standin(ravdess_dir: Path, csv_path: Path, n_folds: int = 5) -> int:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    from export.fusion.tables import label_from_path, person_from_path
    from runtime.media import read_audio

    files = sorted(Path(ravdess_dir).rglob("03-01-*.*"))
    if not files:
        raise InputError(ravdess_dir, "no RAVDESS speech files (03-01-*) found")
    feats = np.array([audio_clip_features(read_audio(f, AUDIO_RATE_HZ, alone=True), AUDIO_RATE_HZ) for f in files])
    labels = np.array([CANONICAL_LABELS.index(label_from_path(f)) for f in files])
    actors = np.array([person_from_path(f) for f in files])
    for actor in np.unique(actors):  # per-speaker baseline, as the arm's session mode does
        rows = actors == actor
        feats[rows] = (feats[rows] - feats[rows].mean(0)) / np.maximum(feats[rows].std(0), 1e-3)
    probs = np.zeros((len(files), len(CANONICAL_LABELS)))
    for train, test in GroupKFold(n_splits=n_folds).split(feats, labels, actors):
        model = LogisticRegression(C=0.05, max_iter=2000).fit(feats[train], labels[train])
        probs[test] = model.predict_proba(feats[test])
    write_classify_csv(csv_path, [str(f) for f in files], probs)
    return len(files)


def audio_recipe_table(data_dir: Path, csv_path: Path, cache_dir: Path | None = None, cv_folds: int = 5,
                       mode: str = "session") -> int:
    """The audio model's own recipe (``export.audio``: features, per-speaker baseline, classifier), scored
    out of fold: every clip by a model fitted on the other speakers' folds only. Clips without speech are
    left out."""
    from export.audio.datasets import load_corpus
    from export.audio.extract import extract_windows
    from export.audio.train import SPEED_FACTORS, TrainingRows, clip_level, speaker_folds

    corpus = load_corpus(Path(data_dir))
    table = extract_windows(corpus.clips, cache_dir=cache_dir)
    augmented = tuple(extract_windows(corpus.clips, cache_dir=cache_dir, speed_factor=f) for f in SPEED_FACTORS)
    speaker_clip = np.array([clip.speaker for clip in corpus.clips])
    y_clip = np.array([CANONICAL_LABELS.index(clip.emotion) for clip in corpus.clips])
    rows = TrainingRows.build(table, y_clip, speaker_clip, mode, augmented)
    window_probs = rows.out_of_fold(speaker_folds(corpus.speakers, cv_folds))
    clip_probs, claimed = clip_level(window_probs, table.clip_index, len(corpus.clips))
    paths = [str(clip.path) for clip, ok in zip(corpus.clips, claimed, strict=True) if ok]
    write_classify_csv(csv_path, paths, clip_probs[claimed])
    return len(paths)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modality", choices=["audio", "audio-recipe"])
    parser.add_argument("data", type=Path)
    parser.add_argument("--csv", type=Path, required=True)
    parser.add_argument("--cache", type=Path, help="audio-recipe: window-feature cache folder")
    args = parser.parse_args(argv)
    if args.modality == "audio":
        count = audio_standin(args.data, args.csv)
    else:
        count = audio_recipe_table(args.data, args.csv, args.cache)
    print(f"{args.csv}: {count} rows")


if __name__ == "__main__":
    main()
