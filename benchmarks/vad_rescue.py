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
from runtime.arms.audio.classify import find_audio_files  # noqa: E402
from runtime.arms.audio.vad import VAD_FRAME_S, detect_speech, speech_frames, speech_probabilities  # noqa: E402
from runtime.errors import InputError  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="a folder of speech clips (e.g. RAVDESS actors 01-20)")
    args = parser.parse_args()
    try:
        report(find_audio_files([args.corpus]))
    except InputError as error:
        raise SystemExit(str(error)) from None


def report(paths: list[Path]) -> None:
    silero_none, arm_none, earlier_s, detached = [], [], [], 0
    for path in paths:
        samples = judged_samples(path)
        alone = speech_frames(speech_probabilities(samples))
        arm = detect_speech(samples)
        if not alone.any():
            silero_none.append(path.name)
        else:
            onset = int(np.argmax(alone))
            added = np.flatnonzero(arm[:onset])  # frames the arm calls speech before Silero's first
            if added.size:
                earlier_s.append((onset - added[0]) * VAD_FRAME_S)  # how much earlier this clip's speech starts
                detached += bool(not arm[added[0]:onset].all())  # not one stretch joining Silero's onset
        if not arm.any():
            arm_none.append(path.name)
    print(f"{len(paths)} clips; no speech found by Silero alone: {len(silero_none)}, with the rescue: {len(arm_none)}")
    earlier = np.array(earlier_s)
    if earlier.size:
        print(f"speech starts before Silero's first speech frame in {earlier.size} clips: {np.median(earlier):.2f} s "
              f"earlier in the median, {np.percentile(earlier, 90):.2f} s at the 90th percentile, {earlier.max():.2f} "
              f"s at most; in {detached} of them the earlier speech does not run into Silero's")
    for name in silero_none:
        print(f"  Silero alone finds none in {name}")


if __name__ == "__main__":
    main()
