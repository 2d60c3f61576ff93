"""The shipped voice model on features with and without the DC offset removed: does it matter which?

    python benchmarks/audio_dc_check.py ../shared/data/speech/ravdess     # ≈ 5 min for RAVDESS 01-20

The device removes a recording's DC offset before the VAD and the features; before commit 9391550 the training
host did not, and the shipped ``models/audio-emotion`` was trained that way. This scores every clip of the
corpus with the shipped model twice, on window features computed as training computed them then (offset kept)
and as the device computes them (offset removed, as training does now), each clip as the mean of its windows
(per-speaker baseline for "session"), and prints how often the two agree on the clip's emotion and how far
their probabilities move, over the clips with speech in both.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from export.audio.datasets import load_corpus  # noqa: E402
from export.audio.extract import samples_window_features  # noqa: E402
from runtime.arms.audio.arm import judged_samples  # noqa: E402
from runtime.arms.audio.features import clip_probabilities, zscore_by_group  # noqa: E402
from runtime.arms.audio.model import load_audio_model  # noqa: E402
from runtime.audio_rate import AUDIO_RATE_HZ  # noqa: E402
from runtime.config import load_settings  # noqa: E402
from runtime.errors import InputError  # noqa: E402
from runtime.media import finite_samples, read_audio  # noqa: E402

READERS = {  # how a clip's samples were read for training: before 9391550, and as the device reads them
    "offset kept": lambda path: finite_samples(read_audio(path, AUDIO_RATE_HZ), path),
    "offset removed": lambda path: judged_samples(path, AUDIO_RATE_HZ),
}


def clip_table(clips, read) -> tuple[np.ndarray, np.ndarray]:
    """Every clip's window features read by ``read``, and the clip index of each window."""
    rows = [samples_window_features(read(clip.path)) for clip in clips]
    return np.concatenate(rows), np.concatenate([np.full(len(r), i) for i, r in enumerate(rows)])


def clip_probs(model, features: np.ndarray, clip_index: np.ndarray, speakers: np.ndarray,
               variant: str) -> dict[int, np.ndarray]:
    x = zscore_by_group(features, speakers[clip_index]) if variant == "session" else features
    p = model.predict(x.astype(np.float32), variant)
    return {int(c): clip_probabilities(p[clip_index == c]) for c in np.unique(clip_index)}


def corpus_tables(description: str, readers: dict) -> tuple[list, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """The corpus the command line names, and its ``clip_table`` by each of ``readers``; a bad corpus ends the
    run with its one line."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("data", type=Path, help="a RAVDESS folder (or any corpus train audio reads)")
    args = parser.parse_args()
    try:
        clips = load_corpus(args.data).clips
        return clips, {name: clip_table(clips, read) for name, read in readers.items()}
    except InputError as error:
        raise SystemExit(str(error)) from None


def main() -> None:
    clips, tables = corpus_tables(__doc__.splitlines()[0], READERS)
    model = load_audio_model(load_settings()["audio"]["model"])
    speakers = np.array([clip.speaker for clip in clips])
    for variant in ("session", "none"):
        kept, removed = (clip_probs(model, *tables[name], speakers, variant) for name in READERS)
        both = sorted(set(kept) & set(removed))
        if not both:
            raise SystemExit("no clip has speech in both passes")
        a, b = (np.array([probs[c] for c in both]) for probs in (kept, removed))
        print(f"{variant}: {len(both)} clips; the same emotion in {np.mean(a.argmax(1) == b.argmax(1)):.4f}; "
              f"probabilities moved by {np.abs(a - b).mean():.5f} on average, {np.abs(a - b).max():.4f} at most")


if __name__ == "__main__":
    main()
