"""A video without a sound stream, analysed with the voice turned off (audio.enabled = false), is not said to lack
one: the voice was not asked for, so its absence is no news (the line is for a session video whose sound is
expected)."""

import logging

from runtime.config import load_settings
from runtime.pipeline import analyze_file
from tests.media_factory import write_media


def test_a_video_without_sound_with_the_voice_off_says_nothing_of_the_voice(tmp_path, caplog):
    video = write_media(tmp_path / "silent_camera.mp4", None, video_codec="libx264", video_s=1.0)
    settings = load_settings()
    settings["audio"]["enabled"] = False
    with caplog.at_level(logging.WARNING):
        analyze_file(video, tmp_path / "out", settings)
    assert not any("without the voice" in r.getMessage() for r in caplog.records)
