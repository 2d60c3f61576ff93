"""The session-baseline decision and its note (runtime/arms/audio/arm.py baseline_variant) never contradict themselves:
speech a float hair under the setting is not shown as the setting, speech summed over a speaker's files to exactly
the setting is enough (classify.py sums float seconds per file), and no judged window is not said as one."""

from runtime.arms.audio.arm import baseline_variant
from runtime.arms.audio.vad import VAD_FRAME_S

FRAMES_PER_FILE = [22, 193, 16, 212, 80, 98, 4]  # 625 VAD frames in all: exactly 20.0 s


def test_speech_a_float_hair_under_the_setting_is_not_shown_as_the_setting():
    _, note = baseline_variant("session", 19.999999999999996, 5, 20.0)
    assert "(20.0 s < 20 s)" not in note


def test_a_speakers_files_whose_speech_sums_to_the_setting_get_a_session_baseline():
    speech_s = sum(n * VAD_FRAME_S for n in FRAMES_PER_FILE)  # as classify.py:192 sums its files' speech_s
    assert baseline_variant("session", speech_s, len(FRAMES_PER_FILE), 20.0)[0] == "session"


def test_no_window_judged_is_not_said_as_one_window():
    variant, note = baseline_variant("session", 25.0, 0, 20.0)
    assert variant == "none" and not note.startswith("one window")
