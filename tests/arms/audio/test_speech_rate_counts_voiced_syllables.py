"""The speech rate counts syllable nuclei as de Jong & Wempe (2009) do: voiced intensity peaks (a hiss or a breath
between syllables is no syllable), down to 25 dB under the loudest (a syllable 10 dB softer than the stressed one
counts), over at least 0.25 s of speech (less gives no rate)."""

import math

import numpy as np
import pytest

from runtime.arms.audio.vad import VAD_FRAME_S
from runtime.arms.audio.voice_quality import VoiceAnalysis
from tests.arms.audio.voices import RATE_HZ, all_speech, vowel

SYLLABLES_PER_S = 4.0


def _syllables(duration_s: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """A vowel cut into 4 syllables a second (each 125 ms of vowel rising and falling), and each sample's phase."""
    samples = vowel(duration_s=duration_s)
    phase = (np.arange(samples.size) / RATE_HZ * SYLLABLES_PER_S) % 1.0
    return samples * np.where(phase < 0.5, np.sin(np.pi * phase / 0.5) ** 2, 0.0), phase


def test_unvoiced_hiss_between_syllables_is_not_counted_as_syllables():
    syllables, phase = _syllables()
    hiss = np.where((phase > 0.6) & (phase < 0.9), np.sin(np.pi * (phase - 0.6) / 0.3) ** 2, 0.0)
    samples = syllables + 0.05 * np.random.default_rng(0).standard_normal(syllables.size) * hiss
    rate_hz = VoiceAnalysis(samples, RATE_HZ, all_speech(4.0)).window(0.5, 3.5)["speech_rate_hz"]
    assert rate_hz == pytest.approx(SYLLABLES_PER_S, abs=0.5)


def test_syllables_10_db_softer_than_the_stressed_ones_are_counted():
    syllables, _ = _syllables()
    every_other_softer = np.where(np.floor(np.arange(syllables.size) / RATE_HZ * SYLLABLES_PER_S) % 2 == 0,
                                  1.0, 10 ** (-10 / 20))
    rate_hz = VoiceAnalysis(syllables * every_other_softer, RATE_HZ, all_speech(4.0)).window(0.5, 3.5)["speech_rate_hz"]
    assert rate_hz == pytest.approx(SYLLABLES_PER_S, abs=0.5)


def test_under_a_quarter_second_of_speech_gives_no_rate():
    samples = np.zeros(2 * RATE_HZ)
    samples[int(0.4 * RATE_HZ):int(0.6 * RATE_HZ)] = vowel(duration_s=0.2)
    times_s = (np.arange(int(np.ceil(2.0 / VAD_FRAME_S))) + 0.5) * VAD_FRAME_S
    speech = (times_s > 0.4) & (times_s < 0.6)  # about 0.2 s of speech in the window
    m = VoiceAnalysis(samples, RATE_HZ, speech).window(0.0, 1.0)
    assert math.isnan(m["speech_rate_hz"])
    assert math.isfinite(m["loudness_db"])  # the speech itself was heard
