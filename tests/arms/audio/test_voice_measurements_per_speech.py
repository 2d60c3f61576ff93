"""Voice measurements read per second of speech and from five voiced pitch frames: the speech rate counts syllables
per second of the window's speech (a pause in the window does not halve it), and five voiced 10 ms frames (50 ms) are
enough for a pitch."""

import math

import numpy as np
import pytest

from runtime.arms.audio.vad import VAD_FRAME_S
from runtime.arms.audio.voice_quality import VoiceAnalysis
from tests.arms.audio.voices import RATE_HZ, all_speech, vowel


def test_the_speech_rate_is_per_second_of_speech_not_of_the_window():
    syllables_per_s = 4.0
    samples = vowel(duration_s=4.0)
    phase = (np.arange(samples.size) / RATE_HZ * syllables_per_s) % 1.0
    syllables = samples * np.where(phase < 0.6, np.sin(np.pi * phase / 0.6) ** 2, 0.0)
    recording = np.concatenate([syllables, np.zeros(2 * RATE_HZ)])  # then 2 s the mask says is a pause
    speech = (np.arange(int(np.ceil(6.0 / VAD_FRAME_S))) + 0.5) * VAD_FRAME_S < 4.0
    m = VoiceAnalysis(recording, RATE_HZ, speech).window(2.0, 6.0)  # 2 s of speech, 2 s of pause
    assert m["speech_rate_hz"] == pytest.approx(syllables_per_s, abs=0.5)
    assert m["pause_s"] == pytest.approx(2.0, abs=VAD_FRAME_S)


def test_five_voiced_pitch_frames_are_enough_for_a_pitch():
    analysis = VoiceAnalysis(vowel(), RATE_HZ, all_speech(3.0))
    start_s = 1.0013  # off the 10 ms grid: [start, start + 50 ms) holds exactly five pitch frames
    assert analysis.window(start_s, start_s + 0.05)["f0_median_hz"] == pytest.approx(120.0, abs=2.0)
    assert math.isnan(analysis.window(start_s, start_s + 0.04)["f0_median_hz"])  # four
