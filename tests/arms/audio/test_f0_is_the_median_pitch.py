"""A window's pitch (f0_median_hz) is the median of its voiced frames' F0: a short stretch an octave up (a laugh, a
squeak) does not move it, as a mean would (to about 150 Hz here)."""

import numpy as np
import pytest

from runtime.arms.audio.voice_quality import VoiceAnalysis
from tests.arms.audio.voices import RATE_HZ, all_speech, vowel


def test_a_quarter_of_the_window_an_octave_up_leaves_the_median_pitch_where_most_of_it_is():
    samples = np.concatenate([vowel(duration_s=1.0, f0_hz=240.0), vowel(duration_s=2.0, f0_hz=120.0, seed=1)])
    m = VoiceAnalysis(samples, RATE_HZ, all_speech(3.0)).window(0.5, 2.5)  # 0.5 s at 240 Hz, 1.5 s at 120 Hz
    assert m["f0_median_hz"] == pytest.approx(120.0, rel=0.03)
