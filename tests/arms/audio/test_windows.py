"""Which stretches of a clip the audio arm judges: speech windows, and the best one of a short clip."""

import numpy as np
import pytest

from runtime.arms.audio.vad import VAD_FRAME_S, detect_speech, speech_fraction, speech_frames
from runtime.arms.audio.windows import audio_windows, judged_windows, speech_windows
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


def test_a_window_holding_exactly_the_share_asked_for_is_judged():
    # "at least min_speech_fraction": a window at the share itself is judged, not dropped (>=, not >)
    speech = np.zeros(200, dtype=bool)
    speech[:150] = True
    windows = audio_windows(speech, speech.size * VAD_FRAME_S, 2.0, 0.5)
    edge = next(w for w in windows if 0 < w.speech_fraction < 1)
    assert any(w.speech_fraction == 1 for w in windows)  # so that the best-window fallback does not keep it
    kept = judged_windows(speech, speech.size * VAD_FRAME_S, 2.0, 0.5, edge.speech_fraction)
    assert edge in kept


def test_a_recording_without_speech_yields_no_window_to_judge():
    # the best-window fallback of a short clip keeps a window only where it holds some speech: silence is no claim
    assert judged_windows(np.zeros(100, dtype=bool), 100 * VAD_FRAME_S, 2.0, 0.5, 0.3) == []
    assert judged_windows(np.zeros(100, dtype=bool), 100 * VAD_FRAME_S, 4.0, 0.5, 0.3) == []


@pytest.mark.parametrize("frame", [15, 78])  # 0.480-0.512 s and 2.496-2.528 s
def test_a_speech_frame_a_window_overlaps_in_part_at_its_start_or_end_counts_in_its_share(frame):
    # the window 0.5-2.5 s spans VAD frames 15 to 78, both in part: the share is over all 64, as the stream counts it
    speech = np.zeros(200, dtype=bool)
    speech[frame] = True
    assert speech_fraction(speech, 0.5, 2.5) == pytest.approx(1 / 64)


def test_silence_before_speech_at_the_start_of_a_recording_stays_silence():
    # short gaps are closed only between two stretches of speech: 64 ms of silence opening (or closing) a recording
    # must not be turned into speech, which would move the speech's onset and every window's share near it
    probs = np.r_[np.zeros(2), np.full(20, 0.9), np.zeros(2)].astype(np.float32)
    speech = speech_frames(probs)
    assert not speech[:2].any() and speech[2:22].all() and not speech[22:].any()
