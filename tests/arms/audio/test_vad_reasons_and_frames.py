"""The voice activity detector's edges and the words of its reasons (from a mutation review of vad.py)."""

import numpy as np

from runtime.arms.audio.vad import (
    FRAME_SAMPLES,
    RELIABLE_SPEECH_S,
    SHORTEST_SPEECH_S,
    amplitude_dbfs,
    no_speech_reason,
    peak_dbfs,
    quiet_note,
    speech_frames,
    speech_probabilities,
    too_little_speech_reason,
)


def test_a_gap_longer_than_a_tenth_of_a_second_inside_speech_is_kept():
    # 5 frames (0.16 s) of silence between two stretches of speech is a pause, not a gap closed over
    probs = np.array([0.9] * 20 + [0.1] * 5 + [0.9] * 20)
    speech = speech_frames(probs)
    assert speech[:20].all() and speech[25:].all()
    assert not speech[20:25].any()


def test_a_recording_exactly_as_long_as_the_shortest_speech_is_not_said_to_be_too_short_to_hold_it():
    reason = no_speech_reason(None, SHORTEST_SPEECH_S)
    assert reason.startswith("no speech found: maybe too short: 0.26 s of audio")
    assert no_speech_reason(None, SHORTEST_SPEECH_S - 1 / 16000).startswith("too short to hold speech")


def test_maybe_too_short_is_said_before_the_gain():
    note = quiet_note(-60.0)
    reason = no_speech_reason(note, (SHORTEST_SPEECH_S + RELIABLE_SPEECH_S) / 2)
    assert reason == (f"no speech found: maybe too short: 0.43 s of audio, and the voice activity detector misses "
                      f"some speech under {RELIABLE_SPEECH_S:g} s; {note}")


def test_too_little_speech_names_the_seconds_found_and_the_share_a_window_needs_in_percent():
    assert too_little_speech_reason(0.74, 2.0, 0.3) == (
        "too little speech for a window: 0.7 s found; a window needs 30 % of its 2 s")
    assert too_little_speech_reason(0.74, 2.0, 0.3, "quiet").endswith("of its 2 s; quiet")


def test_levels_are_amplitude_decibels_20_log10():
    assert amplitude_dbfs(0.01) == -40.0
    assert peak_dbfs(np.array([0.0, -0.1, 0.05], dtype=np.float32)) == amplitude_dbfs(np.float32(0.1))
    assert round(peak_dbfs(np.array([0.1], dtype=np.float32)), 3) == -20.0
    # so a peak of 0.005 (-46 dBFS) is very quiet, and one of 0.02 (-34 dBFS) is not
    assert quiet_note(peak_dbfs(np.array([0.005], dtype=np.float32))) is not None
    assert quiet_note(peak_dbfs(np.array([0.02], dtype=np.float32))) is None


def test_the_last_partial_frame_of_a_recording_is_scored():
    samples = np.zeros(2 * FRAME_SAMPLES + 100, dtype=np.float32)
    assert speech_probabilities(samples).size == 3
    assert speech_probabilities(np.zeros(2 * FRAME_SAMPLES, dtype=np.float32)).size == 2
