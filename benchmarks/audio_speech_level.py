"""The speech level of the voice model's training clips: what a recording judged without a speaker baseline is
compared with (``runtime.arms.audio.level``).

    python benchmarks/audio_speech_level.py ../shared/data/speech/ravdess

Each clip of RAVDESS actors 01-20 (the shipped model's training data) is read as the arm reads it (16 kHz, DC
removed) and its speech level measured as the arm measures a recording's (``speech_level_dbfs``: the median RMS
level of its speech frames). Prints the median and the 1, 5, 95 and 99 % points over the clips, per emotion too,
the record an export stores in the card (``export.audio.export.training_speech_level``, the same measure) and the
share of the clips the arm's check would flag against it (outside the range by more than its margin).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.ravdess_clips import ravdess_clips  # noqa: E402
from export.audio.extract import clip_speech_level_dbfs  # noqa: E402
from runtime.arms.audio.level import (  # noqa: E402
    LEVEL_MARGIN_DB,
    SPEECH_LEVEL,
    trained_range_dbfs,
    training_speech_range,
)
from runtime.errors import InputError  # noqa: E402
from runtime.track import CANONICAL_LABELS  # noqa: E402

TRAINING_ACTORS = range(1, 21)  # actors 21-24 are held out
EMOTIONS = CANONICAL_LABELS  # RAVDESS's codes 01-08, in order


def training_clips(corpus: Path) -> list[tuple[Path, str]]:
    """(path, emotion) of each RAVDESS speech clip of actors 01-20 (``ravdess_clips``)."""
    return [(clip.path, clip.emotion) for clip in ravdess_clips(corpus, TRAINING_ACTORS)]


def speech_levels(corpus: Path, clips: list[tuple[Path, str]]) -> tuple[np.ndarray, dict[str, list[float]]]:
    """The speech level of each clip with speech, over all and by emotion; a corpus that leaves a figure without
    clips ends the run in one line naming it."""
    levels, by_emotion = [], defaultdict(list)
    for path, emotion in clips:
        try:
            level = clip_speech_level_dbfs(path)
        except InputError as error:  # an unreadable clip: one line, as the commands give it
            raise SystemExit(str(error)) from None
        if level is None:
            continue
        levels.append(level)
        by_emotion[emotion].append(level)
    if not levels:
        raise SystemExit(f"{corpus}: none of its {len(clips)} clips of actors 01-20 has speech")
    missing = [emotion for emotion in EMOTIONS if not by_emotion[emotion]]
    if missing:
        raise SystemExit(f"{corpus}: no clip of actors 01-20 with speech is {', '.join(missing)}; the table gives "
                         "each RAVDESS emotion")
    return np.array(levels), by_emotion


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="RAVDESS's folder (Actor_01 ... Actor_24)")
    args = parser.parse_args()
    clips = training_clips(args.corpus)
    levels, by_emotion = speech_levels(args.corpus, clips)
    p1, p5, p50, p95, p99 = np.percentile(levels, [1, 5, 50, 95, 99])
    print(f"{len(levels)} of {len(clips)} clips of actors 01-20 with speech: speech level median {p50:.1f} dBFS, "
          f"5-95 % {p5:.1f} to {p95:.1f}, 1-99 % {p1:.1f} to {p99:.1f}, all {levels.min():.1f} to {levels.max():.1f}")
    print("| emotion | clips | median (dBFS) | 5-95 % (dBFS) |")
    print("|---|---|---|---|")
    for emotion in EMOTIONS:
        values = np.array(by_emotion[emotion])
        low, mid, high = np.percentile(values, [5, 50, 95])
        print(f"| {emotion} | {values.size} | {mid:.1f} | {low:.1f} to {high:.1f} |")
    record = training_speech_range(levels.tolist())
    print(f"the card's {SPEECH_LEVEL}: {record}")
    low_dbfs, high_dbfs = trained_range_dbfs({SPEECH_LEVEL: record})
    below, above = levels < low_dbfs - LEVEL_MARGIN_DB, levels > high_dbfs + LEVEL_MARGIN_DB
    print(f"against {low_dbfs:g} to {high_dbfs:g} dBFS, margin {LEVEL_MARGIN_DB:g} dB: flags "
          f"{np.mean(below | above):.3f} of these clips ({below.sum()} below, {above.sum()} above)")


if __name__ == "__main__":
    main()
