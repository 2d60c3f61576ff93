"""Telephone-band speech recognised from its sound, whatever the rate of the file carrying it."""

import numpy as np
import pytest
from scipy.signal import butter, resample_poly, sosfilt

from runtime.arms.audio.arm import judged_samples, narrowband_note
from runtime.arms.audio.band import (
    frame_band_powers,
    narrowband_count,
    some_windows_narrowband,
    sounds_narrowband,
    speech_high_band_db,
    window_high_band_db,
)
from runtime.arms.audio.vad import FRAME_SAMPLES, VAD_FRAME_S, detect_speech

RATE_HZ = 16000
# a soft and a strong voice of a man and of a woman (calm normal, angry strong)
CLIPS = ("Actor_03/03-01-02-01-01-01-03.flac", "Actor_03/03-01-05-02-01-01-03.flac",
         "Actor_08/03-01-02-01-01-01-08.flac", "Actor_08/03-01-05-02-01-01-08.flac")


def through_8_khz(samples: np.ndarray) -> np.ndarray:
    """As a telephone line or an 8 kHz recorder keeps it, read back at 16 kHz."""
    return resample_poly(resample_poly(samples, 1, 2), 2, 1)[:samples.size].astype(np.float32)


def low_passed(samples: np.ndarray, cutoff_hz: float = 3400.0) -> np.ndarray:
    return sosfilt(butter(8, cutoff_hz, fs=RATE_HZ, output="sos"), samples).astype(np.float32)


def as_16_bit(samples: np.ndarray) -> np.ndarray:
    return (np.round(samples * 32767) / 32767).astype(np.float32)


@pytest.fixture(scope="module", params=CLIPS)
def clip(request, ravdess_dir):
    samples = judged_samples(ravdess_dir / request.param)
    return samples, detect_speech(samples)


def test_speech_through_a_telephone_line_or_a_3_4_khz_low_pass_is_narrowband_and_as_recorded_is_not(clip):
    samples, speech = clip
    assert not sounds_narrowband(speech_high_band_db(samples, RATE_HZ, speech))
    assert sounds_narrowband(speech_high_band_db(as_16_bit(through_8_khz(samples)), RATE_HZ, speech))
    assert sounds_narrowband(speech_high_band_db(low_passed(samples), RATE_HZ, speech))


def test_quiet_or_noisy_wideband_speech_is_not_narrowband(clip):
    samples, speech = clip
    rng = np.random.default_rng(0)
    quiet = as_16_bit(samples * 10 ** (-45 / 20) / np.max(np.abs(samples)))  # loudest sample at -45 dBFS
    noisy = samples + rng.normal(0, np.sqrt(np.mean(samples ** 2)) * 10 ** (-10 / 20), samples.size)  # 10 dB SNR
    for heard in (quiet, noisy.astype(np.float32)):
        assert not sounds_narrowband(speech_high_band_db(heard, RATE_HZ, speech))


def test_wideband_noise_in_the_pauses_does_not_hide_telephone_band_speech(clip):
    samples, speech = clip
    pauses = np.repeat(~speech, FRAME_SAMPLES)[:samples.size]
    noise = np.random.default_rng(0).normal(0, 0.05, samples.size) * np.pad(pauses, (0, samples.size - pauses.size))
    assert sounds_narrowband(speech_high_band_db((through_8_khz(samples) + noise).astype(np.float32), RATE_HZ,
                                                 speech))


def test_too_little_speech_says_nothing_of_the_band(clip):
    samples, speech = clip
    few = np.zeros_like(speech)
    few[np.flatnonzero(speech)[:10]] = True  # 0.32 s
    assert speech_high_band_db(low_passed(samples), RATE_HZ, few) is None
    assert speech_high_band_db(samples, RATE_HZ, np.zeros_like(speech)) is None


def test_a_band_measured_narrow_is_said_as_a_narrowband_rate_is_and_the_rate_is_named_first():
    measured = narrowband_note(48000, -52.4)
    assert measured.startswith("speech has no energy above about 4 kHz (measured in the sound: 52 dB under its "
                               "0.3-3.4 kHz band), as a telephone line carries it")
    assert measured.endswith(narrowband_note(8000).split(": ", 1)[1])  # one warning, two ways of knowing it
    assert narrowband_note(8000, -52.4).startswith("recorded at 8000 Hz, so nothing above 4 kHz")
    assert narrowband_note(48000, -20.0) == narrowband_note(48000, None) == narrowband_note(None) == ""


def test_a_windows_band_needs_a_second_of_its_speech(clip):
    samples, speech = clip
    powers = frame_band_powers(low_passed(samples), RATE_HZ)
    speech_s = speech.sum() * VAD_FRAME_S
    assert speech_s > 1.0
    assert sounds_narrowband(window_high_band_db(powers, speech, 0.0, samples.size / RATE_HZ))
    short = np.zeros_like(speech)
    short[np.flatnonzero(speech)[:28]] = True  # 0.9 s
    assert np.isnan(window_high_band_db(powers, short, 0.0, samples.size / RATE_HZ))


@pytest.mark.parametrize(("counted", "said"), [((0, 100), False), ((9, 100), False), ((10, 100), True),
                                               ((1, 5), True), ((0, 0), False)])
def test_some_windows_make_a_recording_said_to_hold_telephone_band_speech_from_a_tenth_of_them(counted, said):
    assert some_windows_narrowband(counted) is said
    assert narrowband_count([-50.0] * counted[0] + [-10.0] * (counted[1] - counted[0]) + [float("nan")]) == counted
