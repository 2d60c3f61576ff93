"""Voice measurements need a sample rate of twice the 600 Hz pitch ceiling: a recording at 1000 Hz (under it, though
over the ceiling itself) is refused saying so; 1200 Hz is measured."""

import numpy as np
import pytest

from runtime.arms.audio.voice_quality import VoiceAnalysis
from runtime.errors import InputError


@pytest.mark.parametrize("rate_hz", [1000, 800, 1199])
def test_a_rate_under_twice_the_pitch_ceiling_is_refused(rate_hz):
    with pytest.raises(InputError, match=f"sample rate {rate_hz} Hz is too low to measure voice"):
        VoiceAnalysis(np.zeros(2 * rate_hz), rate_hz)


def test_a_recording_at_1200_hz_twice_the_pitch_ceiling_is_measured_not_refused():
    VoiceAnalysis(np.zeros(2 * 1200), 1200).window(0.0, 2.0)
