"""A microphone's DC offset (a cheap sound card's constant bias) is removed as the samples arrive, as file mode
removes the recording's mean: the voice track of a biased recording says the same peak level as the unbiased one,
not the bias's."""

import numpy as np
import pytest

from runtime.arms.audio.arm import AudioSettings
from runtime.arms.audio.model import load_audio_model
from runtime.arms.audio.stream import VoiceSoFar, stream_track
from runtime.clock import SessionClock
from tests.arms.audio.voices import chunks_of

RATE = 16000


def _track(samples: np.ndarray, model):
    return stream_track(chunks_of(samples, RATE), VoiceSoFar(model, AudioSettings(), "live"), SessionClock())


def test_a_dc_offset_does_not_raise_the_peak_level_the_voice_track_says():
    model = load_audio_model()
    noise = np.random.default_rng(0).normal(0, 0.05, RATE * 3).astype(np.float32)
    plain, biased = _track(noise, model), _track(noise + np.float32(0.5), model)
    assert biased.settings["peak_dbfs"] == pytest.approx(plain.settings["peak_dbfs"], abs=0.5)
    assert plain.settings["peak_dbfs"] < -10.0  # the noise's own peak (about 0.25 of full scale), not 0.75's
