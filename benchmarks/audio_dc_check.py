"""The shipped voice model on features with and without the DC offset removed: does it matter which?

    python benchmarks/audio_dc_check.py ../shared/data/speech/ravdess [--cache runs/audio/cache]

The device removes a recording's DC offset before the VAD and the features; before commit 9391550 the training
host did not, and the shipped ``models/audio-emotion`` was trained that way. This scores every
clip of the corpus with the shipped model twice, on window features computed as training computed them then
(offset kept) and as the device computes them (offset removed, as training does now), and prints how often the
two agree on the clip's emotion and how far their probabilities move. Reading the clips takes about 2.5 minutes
a pass; ``--cache`` (a ``train audio`` run's) serves the offset-removed pass.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import export.audio.extract as extract  # noqa: E402
from export.audio.datasets import load_corpus  # noqa: E402
from runtime.arms.audio.arm import finite_samples  # noqa: E402
from runtime.arms.audio.features import zscore_by_group  # noqa: E402
from runtime.arms.audio.model import load_audio_model  # noqa: E402
from runtime.config import load_settings  # noqa: E402
from runtime.media import read_audio  # noqa: E402


def clip_probabilities(model, table, speakers: np.ndarray, variant: str) -> dict[int, np.ndarray]:
    """Clip index -> its probabilities: the mean over its speech windows (per-speaker z-scored for "session")."""
    x = zscore_by_group(table.features, speakers) if variant == "session" else table.features
    p = model.predict(x.astype(np.float32), variant)
    return {int(c): p[table.clip_index == c].mean(axis=0) for c in np.unique(table.clip_index)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="a RAVDESS folder (or any corpus train audio reads)")
    parser.add_argument("--cache", type=Path, help="a train audio run's feature cache (offset removed)")
    args = parser.parse_args()
    clips = load_corpus(args.data).clips
    removed = extract.extract_windows(clips, cache_dir=args.cache)
    judged_samples = extract.judged_samples
    extract.judged_samples = lambda path, rate: finite_samples(read_audio(path, rate), path)  # as before
    try:
        kept = extract.extract_windows(clips)
    finally:
        extract.judged_samples = judged_samples
    if not np.array_equal(kept.clip_index, removed.clip_index):
        print("the two passes found speech in different windows; the clips with speech in both are compared")
    model = load_audio_model(load_settings()["audio"]["model"])
    for variant in ("session", "none"):
        by_clip = [clip_probabilities(model, t, np.array([clips[i].speaker for i in t.clip_index]), variant)
                   for t in (kept, removed)]
        both = sorted(set(by_clip[0]) & set(by_clip[1]))
        a, b = (np.array([probs[c] for c in both]) for probs in by_clip)
        print(f"{variant}: {len(both)} clips; the same emotion in {np.mean(a.argmax(1) == b.argmax(1)):.4f}; "
              f"probabilities moved by {np.abs(a - b).mean():.5f} on average, {np.abs(a - b).max():.4f} at most")


if __name__ == "__main__":
    main()
