"""What the loud-voice rescue adds to Silero VAD: clips where Silero alone finds no speech, and the speech the
rescue adds before the first speech Silero finds (a loud voice's onset, or sound in the clip's leading silence).

    python benchmarks/vad_rescue.py ../shared/data/speech/ravdess     # ≈ 2 min for RAVDESS 01-20 on 2 cores

Each clip is read as the audio arm reads it (``judged_samples``); Silero alone is ``speech_frames`` over its
probabilities, the arm's decision is ``detect_speech`` (frames ``LOUD_MARGIN_DB`` above the noise floor count as
speech evidence too). Clips without speech are listed with their emotion code (RAVDESS: the third field).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime.arms.audio.arm import judged_samples  # noqa: E402
from runtime.arms.audio.vad import FRAME_S, detect_speech, speech_frames, speech_probabilities  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="a folder of speech clips (e.g. RAVDESS actors 01-20)")
    args = parser.parse_args()
    paths = sorted(p for p in args.corpus.rglob("*") if p.suffix.lower() in (".wav", ".flac"))
    silero_none, arm_none, earlier_s, earlier_clips = [], [], [], 0
    for path in paths:
        samples = judged_samples(path)
        alone = speech_frames(speech_probabilities(samples))
        arm = detect_speech(samples)
        if not alone.any():
            silero_none.append(path.name)
        else:
            onset = int(np.argmax(alone))
            added = np.flatnonzero(arm[:onset])  # frames the arm calls speech before Silero's first
            earlier_clips += bool(added.size)
            earlier_s += list((onset - added) * FRAME_S)
        if not arm.any():
            arm_none.append(path.name)
    print(f"{len(paths)} clips; no speech found by Silero alone: {len(silero_none)}, with the rescue: {len(arm_none)}")
    earlier = np.array(earlier_s)
    if earlier.size:
        print(f"speech before Silero's first speech frame: {earlier.size} frames in {earlier_clips} clips, "
              f"{np.median(earlier):.2f} s before it in the median, {np.percentile(earlier, 90):.2f} s at the 90th "
              f"percentile, {earlier.max():.2f} s at most; {int(np.sum(earlier > 0.5))} frames over 0.5 s before")
    for name in silero_none:
        print(f"  Silero alone finds none in {name}")


if __name__ == "__main__":
    main()
