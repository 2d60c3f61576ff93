"""Local jitter (the mean absolute difference of consecutive periods over the mean period) leaves out period pairs
more than 1.3 times apart, as Praat's standard arguments do: a voice leaping an octave (120 to 240 Hz) and back
every quarter second is as steady, cycle to cycle, as the steady vowels it is made of, not rough."""

import numpy as np

from runtime.arms.audio.voice_quality import VoiceAnalysis
from tests.arms.audio.voices import RATE_HZ, all_speech, vowel


def test_octave_leaps_do_not_read_as_jitter():
    leaps = np.concatenate([vowel(duration_s=0.25, f0_hz=120.0 if i % 2 == 0 else 240.0, seed=i) for i in range(12)])
    jitter = VoiceAnalysis(leaps, RATE_HZ, all_speech(3.0)).window(0.5, 2.5)["jitter_local"]
    rough = VoiceAnalysis(vowel(period_jitter=0.01), RATE_HZ, all_speech(3.0)).window(0.5, 2.5)["jitter_local"]
    assert jitter < 0.005 < rough  # a ratio, not a percentage or seconds: 1 % random period change is about 0.01
