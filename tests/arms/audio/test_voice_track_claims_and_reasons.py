"""The voice track's claims, baseline choice and the words of its reasons (from a mutation review of the audio
arm, arm.py)."""

from runtime.arms.audio.arm import (
    AudioSettings,
    baseline_variant,
    narrowband_note,
    narrowband_windows,
    no_claim_reason,
    voice_note_lines,
    why_stopped,
    without_lost_audio,
)
from runtime.arms.audio.band import BAND_MEASUREMENT
from runtime.arms.audio.level import GAIN_NOTE, LIVE_GAIN_NOTE
from runtime.track import Window


def test_a_session_baseline_needs_20_s_of_speech_and_20_s_is_enough():
    assert baseline_variant("session", 20.0, 2, 20.0) == (
        "session", "session baseline over 20.0 s of speech in 2 windows")
    assert baseline_variant("session", 19.2, 40, 20.0) == (
        "none", "too little speech for a session baseline (19.2 s < 20 s)")


def test_the_too_little_speech_note_never_states_a_false_comparison():
    # was '(20.0 s < 20 s)' for 19.968 s of speech, '(10.2 s < 10 s)' for a 10.5 s setting, and '(25.0 s < 20 s)'
    # where the speech sufficed but one window was judged
    too_little = "too little speech for a session baseline"
    assert baseline_variant("session", 19.968, 40, 20.0)[1] == f"{too_little} (19.9 s < 20 s)"
    assert baseline_variant("session", 10.2, 40, 10.5)[1] == f"{too_little} (10.2 s < 10.5 s)"
    assert baseline_variant("session", 25.0, 1, 20.0) == (
        "none", "one window of speech judged (25.0 s of speech): a session baseline needs two or more")


def test_no_baseline_asked_for_is_none_whatever_the_speech():
    assert baseline_variant("none", 600.0, 1000, 20.0) == ("none", "none requested")


def _window(start_s=0.0, end_s=2.0):
    return Window(start_s, end_s, [0.5, 0.5], 0.8, "", {"speech_fraction": 0.8})


def test_a_window_half_of_which_was_lost_makes_no_claim_and_says_how_much_and_why():
    lost = without_lost_audio(_window(4.0, 6.0), [(5.0, 7.0)], "audio stream")
    assert not lost.has_claim and lost.quality == 0.0
    assert lost.reason == "no audio for 1.0 s of the window (the audio stream lost it)"
    assert lost.measurements == {"speech_fraction": 0.8}
    assert without_lost_audio(_window(4.0, 6.0), [(5.1, 7.0)], "audio stream").has_claim  # under half: kept


def test_a_window_most_of_which_was_lost_makes_no_claim():
    assert not without_lost_audio(_window(4.0, 6.0), [(4.0, 5.4)], "audio stream").has_claim  # 70 % lost


def test_a_window_before_the_audio_started_says_so_with_the_seconds_to_a_tenth():
    lost = without_lost_audio(_window(0.0, 2.0), [(0.0, 1.5)], "audio stream")
    assert lost.reason == "no audio for 1.5 s of the window (before the audio stream started)"


def test_windows_as_long_as_their_hop_hear_everything_so_no_speech_is_not_blamed_on_sparse_windows():
    settings = AudioSettings(window_s=2.0, hop_s=2.0)
    assert no_claim_reason({"speech_s": 0.0}, settings, 10.0) == (
        "no speech found: the recording is silent or holds no voice")
    sparse = no_claim_reason({"speech_s": 0.0}, AudioSettings(window_s=2.0, hop_s=3.0), 10.0)
    assert sparse == "no speech found in the windows judged (2 s every 3 s; what lies between them is not heard)"


def test_a_little_speech_heard_is_said_to_be_too_little_not_silence():
    assert no_claim_reason({"speech_s": 0.288}, AudioSettings(), 10.0) == (
        "too little speech for a window: 0.3 s found; a window needs 30 % of its 2 s")


def test_why_a_track_stopped_early_is_said_without_the_path():
    assert why_stopped("stopped early: /rec/a.wav: the stream ended at 12.0 s", "/rec/a.wav") == (
        "the stream ended at 12.0 s")
    assert why_stopped("complete", "/rec/a.wav") == ""


def test_audio_recorded_at_8_khz_is_said_to_hold_nothing_above_4_khz_and_16_khz_audio_is_not_narrowband():
    assert narrowband_note(8000).startswith("recorded at 8000 Hz, so nothing above 4 kHz: ")
    assert narrowband_note(16000) == narrowband_note(None) == ""


def test_a_gain_note_a_stream_said_as_it_judged_is_not_said_again():
    settings = {GAIN_NOTE: "speech at -45 dBFS", "bandwidth": "narrow"}
    assert voice_note_lines(settings, ["stream 1 of 2"]) == ["narrow", "speech at -45 dBFS", "stream 1 of 2"]
    assert voice_note_lines({**settings, LIVE_GAIN_NOTE: True}, []) == ["narrow"]


def test_only_judged_windows_count_towards_the_narrowband_share():
    narrow = {BAND_MEASUREMENT: -50.0}
    windows = [Window(0, 2, [1.0], 1.0, "", narrow), Window(0.5, 2.5, None, 0.0, "too little speech (20%)", narrow),
               Window(1, 3, [1.0], 1.0, "", {BAND_MEASUREMENT: -10.0})]
    assert narrowband_windows(windows) == (1, 2)


def test_a_window_with_exactly_the_share_of_speech_needed_makes_a_claim(monkeypatch):
    import numpy as np

    from runtime.arms.audio.arm import analyze_audio
    from runtime.arms.audio.model import AudioEmotionModel
    from runtime.arms.audio.windows import audio_windows

    samples = np.zeros(8 * 16000, dtype=np.float32)
    speech = np.zeros(250, dtype=bool)
    speech[100:120] = True  # about 0.64 s of speech
    monkeypatch.setattr("runtime.arms.audio.arm.detect_speech", lambda _: speech)
    most = max(w.speech_fraction for w in audio_windows(speech, 8.0, 2.0, 0.5))
    track = analyze_audio(samples, AudioEmotionModel(), AudioSettings(min_speech_fraction=most))
    claims = [w for w in track.windows if w.has_claim]
    assert claims and all(w.measurements["speech_fraction"] == most for w in claims)
