"""Without a speech mask, only digital silence (under -90 dBFS, below one 16-bit step) is left out of the voice
measurements: quiet speech at about -70 dBFS (a distant talker, a low microphone gain) is still measured, and its
loudness reads in dBFS."""

import math

import numpy as np
import pytest

from runtime.arms.audio.voice_quality import VoiceAnalysis, power_mean_db
from tests.arms.audio.voices import RATE_HZ, vowel


def test_a_vowel_at_about_minus_70_dbfs_is_measured_without_a_mask():
    loud = VoiceAnalysis(vowel(), RATE_HZ).window(0.5, 2.5)
    quiet = VoiceAnalysis(vowel() * 10 ** (-50 / 20), RATE_HZ).window(0.5, 2.5)
    assert -80.0 < quiet["loudness_db"] < -60.0
    assert quiet["loudness_db"] == pytest.approx(loud["loudness_db"] - 50.0, abs=0.5)
    assert quiet["f0_median_hz"] == pytest.approx(120.0, rel=0.02)


def test_only_a_level_under_minus_90_dbfs_is_digital_silence():
    assert power_mean_db(np.array([-70.0, -70.0])) == pytest.approx(-70.0)
    assert power_mean_db(np.array([-89.0])) == pytest.approx(-89.0)
    assert math.isnan(power_mean_db(np.array([-95.0])))
