"""The speech's level against the voice model's training speech (``runtime.arms.audio.level``)."""

import math

import numpy as np
import pytest

from runtime.arms.audio.level import (
    CLIPPED_AMPLITUDE,
    CLIPPED_SPEECH_PERCENT,
    GAIN_NOTE,
    LEVEL_MARGIN_DB,
    SPEECH_LEVEL,
    clipped_speech_percent,
    clipping_note,
    frame_clipped_counts,
    gain_note,
    gain_settings,
    speech_level_dbfs,
    trained_range_dbfs,
    training_speech_range,
)
from runtime.arms.audio.vad import FRAME_SAMPLES

TRAINED_DBFS = (-54.9, -24.7)  # a card's range (the shipped card's)
LOW_DBFS, HIGH_DBFS = TRAINED_DBFS
MIN_BASELINE_S = 35.0  # not the default: the note names the minimum it is given


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
    note = gain_note(level_dbfs, TRAINED_DBFS, MIN_BASELINE_S, "HINT")
    assert bool(note) == flagged
    if flagged:
        assert f"speech at {level_dbfs:.1f} dBFS" in note and f"{LOW_DBFS:g} to {HIGH_DBFS:g} dBFS" in note
        assert "microphone's gain" in note and "speaker's own baseline (HINT; 35 s of their speech or more)" in note
        assert ("reads quiet speech as sad" in note) == (level_dbfs < LOW_DBFS)  # measured for quiet speech alone


def test_only_the_population_variant_gets_the_note_the_level_is_kept_either_way():
    quiet_dbfs = LOW_DBFS - LEVEL_MARGIN_DB - 10
    note = gain_settings(quiet_dbfs, "none", TRAINED_DBFS, MIN_BASELINE_S)[GAIN_NOTE]
    assert 'audio.speaker_baseline = "session"; 35 s of their speech' in note  # how analyze and live get a baseline
    for variant in ("session", "default"):  # z-scored away; a waveform model's reading not measured
        assert gain_settings(quiet_dbfs, variant, TRAINED_DBFS, MIN_BASELINE_S) == {SPEECH_LEVEL: round(quiet_dbfs, 1)}
    assert gain_settings(None, "none", TRAINED_DBFS, MIN_BASELINE_S) == {SPEECH_LEVEL: None}


def test_a_card_without_its_training_speech_level_claims_no_range_and_flags_nothing():
    quiet_dbfs = LOW_DBFS - LEVEL_MARGIN_DB - 10
    for extra in ({}, {SPEECH_LEVEL: "loud"}, {SPEECH_LEVEL: {"p5": -20.0, "p95": -50.0}},
                  {SPEECH_LEVEL: {"p5": None, "p95": -20.0}}):
        assert trained_range_dbfs(extra) is None
        assert gain_note(quiet_dbfs, trained_range_dbfs(extra), MIN_BASELINE_S, "HINT") is None
        assert gain_settings(quiet_dbfs, "none", trained_range_dbfs(extra), MIN_BASELINE_S) == {
            SPEECH_LEVEL: round(quiet_dbfs, 1)}


def test_a_cards_training_speech_range_is_the_5_to_95_percent_points_of_the_clips_levels():
    levels = list(np.linspace(-70.0, -10.0, 61))
    record = training_speech_range(levels)
    assert record == {"p5": -67.0, "median": -40.0, "p95": -13.0, "clips": 61}
    assert trained_range_dbfs({SPEECH_LEVEL: record}) == (-67.0, -13.0)


def test_where_a_baseline_was_asked_for_and_the_speech_fell_short_the_note_does_not_say_to_ask_for_it():
    # was: 'audio.speaker_baseline = "session"' advised to a session that had asked for it, with too little speech
    quiet_dbfs = LOW_DBFS - LEVEL_MARGIN_DB - 10
    asked = gain_settings(quiet_dbfs, "none", TRAINED_DBFS, MIN_BASELINE_S, baseline_asked=True)[GAIN_NOTE]
    assert "speaker_baseline" not in asked and "(asked for, it needs 35 s of their speech or more)" in asked
    assert "(HINT; 35 s" not in gain_note(quiet_dbfs, TRAINED_DBFS, MIN_BASELINE_S, None)


def test_the_clipped_share_counts_the_speech_frames_samples_at_full_scale_alone():
    rng = np.random.default_rng(0)
    speech_frames, quiet_frames, clipped_per_frame = 10, 30, 37
    samples = (rng.uniform(-0.5, 0.5, FRAME_SAMPLES * (speech_frames + quiet_frames))).astype(np.float32)
    for frame in range(speech_frames):  # some at full scale, some a hair under it, either sign
        at = frame * FRAME_SAMPLES + rng.choice(FRAME_SAMPLES, clipped_per_frame, replace=False)
        samples[at] = rng.choice([-1.0, 1.0, CLIPPED_AMPLITUDE, -CLIPPED_AMPLITUDE], clipped_per_frame)
    samples[speech_frames * FRAME_SAMPLES:] *= 3  # clicks beyond full scale outside the speech: not counted
    speech = np.r_[np.ones(speech_frames, dtype=bool), np.zeros(quiet_frames, dtype=bool)]
    counts = frame_clipped_counts(samples)
    assert counts.size == speech.size and (counts[:speech_frames] == clipped_per_frame).all()
    assert clipped_speech_percent(counts, speech) == pytest.approx(100 * clipped_per_frame / FRAME_SAMPLES)
    assert clipped_speech_percent(counts, np.zeros(speech.size, dtype=bool)) is None
    # a last partial frame is counted, as the VAD pads it
    assert frame_clipped_counts(np.ones(FRAME_SAMPLES + 3, dtype=np.float32)).tolist() == [FRAME_SAMPLES, 3]


@pytest.mark.parametrize(("percent", "flagged"), [
    (CLIPPED_SPEECH_PERCENT - 0.2, False), (CLIPPED_SPEECH_PERCENT + 0.2, True), (None, False)])
def test_speech_is_flagged_as_clipped_from_the_threshold(percent, flagged):
    note = clipping_note(percent)
    assert bool(note) == flagged
    if flagged:
        assert f"clipped audio ({percent:.1f} % of the speech's samples at full scale" in note
        assert "lower the microphone's gain" in note


def test_the_gain_note_of_clipped_speech_does_not_advise_a_baseline():
    # was: 'or judge against the speaker's own baseline' for clipped speech, which no baseline mends
    loud_dbfs = HIGH_DBFS + LEVEL_MARGIN_DB + 10
    for hint in ("HINT", None):
        clipped = gain_note(loud_dbfs, TRAINED_DBFS, MIN_BASELINE_S, hint, clipped=True)
        assert "set the gain so that speech lies in that range" in clipped and "clipped" in clipped
        assert "judge against the speaker's own baseline" not in clipped and "HINT" not in clipped
        assert "judge against the speaker's own baseline" in gain_note(loud_dbfs, TRAINED_DBFS, MIN_BASELINE_S, hint)
    assert "baseline (" not in gain_settings(loud_dbfs, "none", TRAINED_DBFS, MIN_BASELINE_S, clipped=True)[GAIN_NOTE]


def test_the_speech_level_is_the_median_not_the_mean_of_the_speech_frames_levels():
    # three loud frames among eight quiet ones: the median is the quiet frames' level, as the card's range is made
    # (a mean of dB would land between them, -37.6 dBFS)
    rate_hz = 16000
    t = np.arange(FRAME_SAMPLES) / rate_hz
    tone = np.sin(2 * np.pi * 200 * t).astype(np.float32)  # RMS 1/sqrt(2): -3.01 dBFS
    frames = [tone * np.float32(10 ** (-20 / 20))] * 3 + [tone * np.float32(10 ** (-40 / 20))] * 8
    assert speech_level_dbfs(np.concatenate(frames), np.ones(11, dtype=bool)) == pytest.approx(-43.01, abs=0.05)


@pytest.mark.parametrize("level_dbfs", [LOW_DBFS - LEVEL_MARGIN_DB - 0.04, HIGH_DBFS + LEVEL_MARGIN_DB + 0.04])
def test_a_level_that_shows_as_the_margins_edge_is_not_flagged(level_dbfs):
    # judged as shown (to 0.1 dB): a note must never say "speech at -60.9 dBFS" is outside a range ending at -60.9
    assert gain_note(level_dbfs, TRAINED_DBFS, MIN_BASELINE_S, "HINT") is None
