"""live --replay --no-mic of a recording without a sound stream says nothing of the voice: the user turned it off,
so the recording's lack of one is no news (the line is for a replay whose voice was asked for)."""

import logging

from runtime.config import load_settings
from runtime.live import LiveInputs, run_live
from tests.arms.face.video_factory import write_video


def test_a_replay_without_sound_with_no_microphone_says_nothing_of_the_voice(tmp_path, caplog):
    video = write_video(tmp_path / "silent.mp4", 2.0)  # picture only
    with caplog.at_level(logging.WARNING):
        run_live(tmp_path / "out", load_settings(), LiveInputs(replay=video, microphone=None),
                 on_line=lambda _line: None)
    assert not any("without the voice" in r.getMessage() for r in caplog.records)
