"""How much speech the voice activity detector finds in quiet recordings: RAVDESS clips scaled to a peak level.

    python benchmarks/vad_levels.py ../shared/data/speech/ravdess --clips 40

Every n-th clip of the corpus (sorted by path, ``--clips`` in all) has its DC offset removed, is scaled so that
its loudest sample sits at each level and is rounded to 16-bit, as a recording made with the microphone's gain
set that low would be. For each level it prints the share of the speech frames found at the clip's own level
that are lost, and how many clips have no speech found at all. The arm's warning level
(``runtime.arms.audio.vad.QUIET_PEAK_DBFS``) is chosen from this table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.ravdess_clips import spread_clip_paths  # noqa: E402
from runtime.arms.audio.arm import without_dc  # noqa: E402
from runtime.arms.audio.vad import QUIET_PEAK_DBFS, detect_speech, peak_dbfs  # noqa: E402
from runtime.media import read_audio  # noqa: E402

LEVELS_DBFS = (-20, -30, -40, -45, -50, -55, -60)


def at_peak_dbfs(samples: np.ndarray, peak_dbfs: float) -> np.ndarray:
    """``samples`` scaled so that the loudest is at ``peak_dbfs``, rounded to 16-bit."""
    scaled = samples / np.abs(samples).max() * 10 ** (peak_dbfs / 20)
    return (np.round(scaled * 32767) / 32767).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="a folder of speech clips (e.g. RAVDESS actors 01-20)")
    parser.add_argument("--clips", type=int, default=40)
    args = parser.parse_args()
    paths = spread_clip_paths(args.corpus, args.clips)
    clips = [without_dc(read_audio(p)) for p in paths]
    found = [detect_speech(c) for c in clips]
    own_peaks = [peak_dbfs(c) for c in clips]
    print(f"{len(clips)} clips of {args.corpus}; their own peaks {min(own_peaks):.1f} to {max(own_peaks):.1f} dBFS; "
          f"warning below {QUIET_PEAK_DBFS:g} dBFS")
    print("| peak (dBFS) | speech frames lost | clips with no speech found |")
    print("|---|---|---|")
    for level in LEVELS_DBFS:
        speech = [detect_speech(at_peak_dbfs(c, level)) for c in clips]
        lost = sum(int((own & ~now).sum()) for own, now in zip(found, speech, strict=True))
        total = sum(int(own.sum()) for own in found)
        silent = sum(1 for now in speech if not now.any())
        print(f"| {level} | {lost / total:.3f} | {silent} of {len(clips)} |")


if __name__ == "__main__":
    main()
