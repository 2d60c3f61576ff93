"""Which stretches of a clip the audio arm judges: speech windows, and the best one of a short clip."""

import numpy as np
import pytest

from runtime.arms.audio.vad import VAD_FRAME_S, detect_speech
from runtime.arms.audio.windows import speech_windows
from runtime.media import read_audio

RATE_HZ = 16000


@pytest.fixture(scope="module")
def speech(ravdess_dir) -> np.ndarray:
    """A stretch of a RAVDESS utterance that the VAD takes for speech throughout."""
    samples = read_audio(ravdess_dir / "Actor_03" / "03-01-05-02-01-01-03.flac")
    voiced = detect_speech(samples)
    first = int(np.argmax(voiced))
    assert voiced[first:first + int(np.ceil(0.9 / VAD_FRAME_S))].all()
    return samples[int(first * VAD_FRAME_S * RATE_HZ):]


def _after_silence(speech: np.ndarray, silence_s: float, speech_s: float) -> np.ndarray:
    return np.concatenate([np.zeros(int(silence_s * RATE_HZ), np.float32), speech[:int(speech_s * RATE_HZ)]])


def test_speech_in_the_last_partial_second_of_a_clip_is_judged(speech):
    windows = speech_windows(_after_silence(speech, 3.0, 0.9), RATE_HZ, 2.0, 0.5, 0.3)
    assert windows and windows[-1].end_s == pytest.approx(3.9)  # a clip's length is not rounded to whole seconds


def test_a_clip_whose_speech_fills_no_window_enough_is_judged_on_its_best_window(speech):
    windows = speech_windows(_after_silence(speech, 2.0, 0.4), RATE_HZ, 2.0, 0.5, 0.3)
    assert len(windows) == 1 and windows[0].end_s == pytest.approx(2.4)
    assert 0 < windows[0].speech_fraction < 0.3  # the window holding the speech, though under the share asked for
