"""The speech's level against the voice model's training speech (``runtime.arms.audio.level``)."""

import math

import numpy as np
import pytest

from runtime.arms.audio.level import (
    GAIN_NOTE,
    LEVEL_MARGIN_DB,
    SPEECH_LEVEL,
    TRAINED_SPEECH_LEVEL_DBFS,
    gain_note,
    gain_settings,
    speech_level_dbfs,
)
from runtime.arms.audio.vad import FRAME_SAMPLES

LOW_DBFS, HIGH_DBFS = TRAINED_SPEECH_LEVEL_DBFS


def test_the_speech_level_is_the_median_level_of_the_speech_frames_alone():
    rate_hz = 16000
    t = np.arange(FRAME_SAMPLES * 10) / rate_hz
    tone = np.sin(2 * np.pi * 200 * t).astype(np.float32)  # RMS 1/sqrt(2): -3.01 dBFS
    samples = np.concatenate([tone * np.float32(10 ** (-30 / 20)), np.zeros(FRAME_SAMPLES * 30, dtype=np.float32)])
    speech = np.r_[np.ones(10, dtype=bool), np.zeros(30, dtype=bool)]
    assert speech_level_dbfs(samples, speech) == pytest.approx(-33.01, abs=0.05)  # the silence not counted
    assert speech_level_dbfs(samples, np.zeros(40, dtype=bool)) is None


@pytest.mark.parametrize(("level_dbfs", "flagged"), [
    (LOW_DBFS - LEVEL_MARGIN_DB - 0.2, True), (LOW_DBFS - LEVEL_MARGIN_DB + 0.2, False),
    ((LOW_DBFS + HIGH_DBFS) / 2, False),
    (HIGH_DBFS + LEVEL_MARGIN_DB - 0.2, False), (HIGH_DBFS + LEVEL_MARGIN_DB + 0.2, True),
    (None, False), (-math.inf, False)])
def test_speech_is_flagged_only_beyond_the_trained_range_and_its_margin(level_dbfs, flagged):
    note = gain_note(level_dbfs)
    assert bool(note) == flagged
    if flagged:
        assert f"speech at {level_dbfs:.1f} dBFS" in note and f"{LOW_DBFS:g} to {HIGH_DBFS:g} dBFS" in note
        assert "microphone's gain" in note and "speaker's own baseline" in note
        assert ("reads sad" in note) == (level_dbfs < LOW_DBFS)  # measured for quiet speech alone


def test_only_the_population_variant_gets_the_note_the_level_is_kept_either_way():
    quiet_dbfs = LOW_DBFS - LEVEL_MARGIN_DB - 10
    assert gain_settings(quiet_dbfs, "none")[GAIN_NOTE] == gain_note(quiet_dbfs)
    for variant in ("session", "default"):  # z-scored away; a waveform model's reading not measured
        assert gain_settings(quiet_dbfs, variant) == {SPEECH_LEVEL: round(quiet_dbfs, 1)}
    assert gain_settings(None, "none") == {SPEECH_LEVEL: None}
