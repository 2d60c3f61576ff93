"""What the voice model's session baseline assumes: sessions holding other mixes of emotions than RAVDESS's.

    python benchmarks/audio_baseline_mix.py ../shared/data/speech/ravdess --trained runs/audio

The ``session`` variant z-scores a session's window features over the session's own speech. Each RAVDESS actor's
60 clips hold all eight emotions in near-equal numbers, so the speaker-independent figure (each actor baselined
over all of them) is that of a session with that mix. Here the same out-of-fold models judge each held-out actor
with the baseline taken over other "sessions" made of that actor's clips:

- every emotion: all 60 clips (the reported figure);
- a neutral start: the baseline over the neutral and calm clips alone, every clip judged against it;
- one emotion with neutral and calm: a session of one emotion's clips and the neutral and calm ones; its
  emotion's clips are judged (each of the six other emotions in turn);
- one emotion alone: a session of one emotion's clips only;
- a few clips: the baseline over K of the actor's clips drawn at random (any emotion; K = 5, 10, 20, 40: about
  2 s of speech each), every clip judged against it, as a session judged before much of it was heard;
- the population variant (``none``, no baseline), the same clips, for comparison.

``--varied-baselines N`` trains the session variant as ``emotrace train audio --varied-baselines N`` does: on
each training actor's windows z-scored over their whole set and over N more baselines of their own clips drawn
at random (``export.audio.train.random_baselines``: a few clips of any emotion, one emotion with or without
neutral and calm, neutral and calm alone); the shipped model was trained without.

``--mean-with-population`` judges every baselined row by the mean of the session variant's and the population
variant's probabilities instead (not a setting the device offers; measured to see what lies between them).

Training is as ``emotrace train audio`` fits the session variant (actors z-scored over their own clips), with
``--members`` MLPs (the shipped recipe has 5 and speed-perturbed copies; 1 and no copies by default, ≈ 2 min
from the feature cache of a training run, ≈ 3 min more without one). Nothing is chosen by this script.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from export.audio.datasets import load_corpus  # noqa: E402
from export.audio.extract import extract_windows  # noqa: E402
from export.audio.train import (  # noqa: E402
    CALM_LABELS,
    CLASSIFIER,
    LABELS,
    MAX_VARIED_BASELINES,
    TrainingRows,
    predict_proba,
    speaker_folds,
)
from export.metrics import classification_metrics  # noqa: E402
from runtime.arms.audio.features import clip_probabilities, zscore_against  # noqa: E402
from runtime.errors import InputError  # noqa: E402

CALM = tuple(LABELS.index(label) for label in CALM_LABELS)
FEW_CLIPS = (5, 10, 20, 40)
SESSIONS = ("every emotion", "a neutral start", "one emotion with neutral and calm", "one emotion alone",
            *(f"{k} clips at random" for k in FEW_CLIPS), "no baseline (population variant)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--trained", type=Path, help="a folder written by 'emotrace train audio' (its feature cache)")
    parser.add_argument("--members", type=int, default=1, help="MLPs averaged per fold (shipped: 5)")
    parser.add_argument("--varied-baselines", type=int, default=0, metavar="N",
                        help="train on N more random baselines per actor besides the whole set")
    parser.add_argument("--mean-with-population", action="store_true",
                        help="judge baselined rows by the mean of both variants' probabilities")
    args = parser.parse_args()
    if args.members < 1:
        parser.error("--members must be at least 1")
    if not 0 <= args.varied_baselines <= MAX_VARIED_BASELINES:
        parser.error(f"--varied-baselines must be from 0 to {MAX_VARIED_BASELINES}")
    try:
        report(args)
    except InputError as error:  # a missing corpus or cache folder: one line, as the commands give it
        raise SystemExit(str(error)) from None


def report(args: argparse.Namespace) -> None:
    corpus = load_corpus(args.data)
    table = extract_windows(corpus.clips, cache_dir=(args.trained or Path("/tmp/emotrace-audio-mix")) / "cache")
    features = table.features.astype(np.float64)
    y_clip = np.array([LABELS.index(c.emotion) for c in corpus.clips])
    speaker_clip = np.array([c.speaker for c in corpus.clips])
    y, speaker = y_clip[table.clip_index], speaker_clip[table.clip_index]
    spec = {**CLASSIFIER, "members": args.members}
    judged: dict[str, dict[int, np.ndarray]] = {name: {} for name in SESSIONS}
    session_rows = TrainingRows.build(table, y_clip, speaker_clip, "session", varied_baselines=args.varied_baselines)
    population_rows = TrainingRows.build(table, y_clip, speaker_clip, "none")
    rng = np.random.default_rng(0)
    for fold in speaker_folds(corpus.speakers, 5):
        models = Models(session_rows.fit(fold, spec), population_rows.fit(fold, spec), args.mean_with_population)
        for actor in fold:
            _judge_actor(judged, models, features, y, table.clip_index, np.flatnonzero(speaker == actor), rng)
        print(f"fold {', '.join(fold)} done", flush=True)
    print("\n| session the baseline is taken over | clips judged | UA, all judged | UA, the six emotions "
          "not neutral or calm |\n|---|---|---|---|")
    for name, clips in judged.items():
        index = np.array(sorted(clips))
        probs, truth = np.stack([clips[i] for i in index]), y_clip[index]
        emotions = ~np.isin(truth, CALM)
        print(f"| {name} | {len(index)} | {classification_metrics(truth, probs, LABELS)['ua']:.3f} | "
              f"{classification_metrics(truth[emotions], probs[emotions], LABELS)['ua']:.3f} |")


@dataclass
class Models:
    """One fold's session and population variants, as training fits them."""

    session: dict
    population: dict
    mean_with_population: bool

    def clip_probabilities(self, features: np.ndarray, clip_index: np.ndarray, rows: np.ndarray,
                           reference: np.ndarray | None) -> dict[int, np.ndarray]:
        """Each clip of ``rows`` judged with the baseline over ``reference`` rows (None: the population variant
        alone), averaged with the population variant's where asked."""
        if reference is None:
            return _clip_probabilities(self.population, features, clip_index, rows, None)
        mixed_with = self.population if self.mean_with_population else None
        return _clip_probabilities(self.session, features, clip_index, rows, reference, mixed_with)


def _judge_actor(judged: dict[str, dict[int, np.ndarray]], models: Models, features: np.ndarray, y: np.ndarray,
                 clip_index: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> None:
    """One held-out actor's clips judged in every session of ``SESSIONS``."""

    def judge(name: str, judged_rows: np.ndarray, reference: np.ndarray | None) -> None:
        judged[name].update(models.clip_probabilities(features, clip_index, judged_rows, reference))

    calm = rows[np.isin(y[rows], CALM)]
    judge("every emotion", rows, rows)
    judge("a neutral start", rows, calm)
    judge("no baseline (population variant)", rows, None)
    actor_clips = np.unique(clip_index[rows])
    for k in FEW_CLIPS:
        drawn = rng.choice(actor_clips, size=k, replace=False)
        judge(f"{k} clips at random", rows, rows[np.isin(clip_index[rows], drawn)])
    for emotion in sorted(set(range(len(LABELS))) - set(CALM)):
        own = rows[y[rows] == emotion]
        judge("one emotion with neutral and calm", own, np.r_[own, calm])
        judge("one emotion alone", own, own)


def _clip_probabilities(model: dict, features: np.ndarray, clip_index: np.ndarray, rows: np.ndarray,
                        reference: np.ndarray | None, mixed_with: dict | None = None) -> dict[int, np.ndarray]:
    """Each clip of ``rows`` judged with the baseline over ``reference`` rows (None: no baseline), its
    probabilities averaged with the ``mixed_with`` model's on the raw features where given."""
    x = features[rows] if reference is None else zscore_against(features[rows], features[reference])
    probs = predict_proba(model, x.astype(np.float32))
    if mixed_with is not None:
        probs = (probs + predict_proba(mixed_with, features[rows].astype(np.float32))) / 2
    return {int(clip): clip_probabilities(probs[clip_index[rows] == clip]) for clip in np.unique(clip_index[rows])}


if __name__ == "__main__":
    main()
