"""How short a recording of speech the voice activity detector still finds speech in: RAVDESS speech cut short.

    python benchmarks/vad_short.py ../shared/data/speech/ravdess --clips 40

Every n-th clip of the corpus (sorted by path, ``--clips`` in all) is read as the arm reads it (16 kHz, DC
removed); a piece of each length is cut from the middle of the speech found in it and the arm's speech decision
(``detect_speech``) made over the piece alone, as over a recording that short. Prints, for each length, in how
many pieces any speech is found. Under ``SHORTEST_SPEECH_S`` none can be (the shortest burst kept); the arm's
length under which a recording without speech is said to be maybe too short, not silent
(``runtime.arms.audio.vad.RELIABLE_SPEECH_S``), is chosen from this table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.ravdess_clips import spread_clip_paths  # noqa: E402
from runtime.arms.audio.arm import judged_samples, without_dc  # noqa: E402
from runtime.arms.audio.vad import (  # noqa: E402
    FRAME_SAMPLES,
    RELIABLE_SPEECH_S,
    SHORTEST_SPEECH_S,
    detect_speech,
)
from runtime.audio_rate import AUDIO_RATE_HZ  # noqa: E402

LENGTHS_S = (0.26, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


def middle_piece(samples: np.ndarray, speech: np.ndarray, length_s: float) -> np.ndarray:
    """``length_s`` of ``samples`` centred on the middle of the speech ``speech`` (per VAD frame) holds."""
    frames = np.flatnonzero(speech)
    length = int(length_s * AUDIO_RATE_HZ)
    first = max(0, int((frames[0] + frames[-1]) / 2 * FRAME_SAMPLES) - length // 2)
    return samples[first:first + length]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="a folder of speech clips (e.g. RAVDESS actors 01-20)")
    parser.add_argument("--clips", type=int, default=40)
    args = parser.parse_args()
    paths = spread_clip_paths(args.corpus, args.clips)
    clips = [(samples, detect_speech(samples)) for samples in map(judged_samples, paths)]
    clips = [(samples, speech) for samples, speech in clips if speech.any()]
    print(f"{len(clips)} clips of {args.corpus} with speech; none can be found under {SHORTEST_SPEECH_S:.3f} s; "
          f"a recording under {RELIABLE_SPEECH_S:g} s without speech is said to be maybe too short")
    print("| length (s) | pieces with speech found |")
    print("|---|---|")
    for length_s in LENGTHS_S:
        found = sum(bool(detect_speech(without_dc(middle_piece(s, sp, length_s))).any()) for s, sp in clips)
        print(f"| {length_s:g} | {found} of {len(clips)} |")


if __name__ == "__main__":
    main()
