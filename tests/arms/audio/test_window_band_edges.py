"""A window's telephone band is measured over every 32 ms VAD frame the window overlaps, in part too: a window ending
a little way into a frame counts that frame's speech, as its share of speech does."""

import math

import numpy as np
import pytest

from runtime.arms.audio.band import window_high_band_db
from runtime.arms.audio.vad import VAD_FRAME_S


def test_the_speech_frame_a_window_ends_part_way_into_counts_towards_its_second_of_speech():
    n = 40
    powers = np.column_stack([np.ones(n), np.full(n, 1e-5)])  # 50 dB under the telephone band
    speech = np.zeros(n, dtype=bool)
    speech[:32] = True  # 32 frames: 1.024 s of speech, frames 0-31
    end_s = 31 * VAD_FRAME_S + 0.01  # ends 10 ms into frame 31: 31 whole frames (0.992 s) and part of the 32nd
    assert window_high_band_db(powers, speech, 0.0, end_s) == pytest.approx(-50.0)
    assert math.isnan(window_high_band_db(powers, speech, 0.0, 31 * VAD_FRAME_S))  # 31 frames: under a second


def test_the_speech_frame_a_window_starts_part_way_into_counts_too():
    n = 40
    powers = np.column_stack([np.ones(n), np.full(n, 1e-5)])
    speech = np.zeros(n, dtype=bool)
    speech[3:35] = True  # frames 3-34
    assert window_high_band_db(powers, speech, 3 * VAD_FRAME_S + 0.02, 35 * VAD_FRAME_S) == pytest.approx(-50.0)
