"""A picture of a low frame rate (a frame every 2 s: a time-lapse, a screen recording of slides) whose video stream
lasts as long as its sound is not said to end early: its last frame stands until the file ends (was: 'no picture for
1.8 s (after the picture ends at 8.2 s, the file's other streams at 10.0 s)')."""

import logging
from fractions import Fraction

from runtime.config import load_settings
from runtime.pipeline import analyze_file
from tests.media_factory import tone, write_media


def test_a_picture_of_a_frame_every_two_seconds_is_not_said_to_end_early(tmp_path, caplog):
    video = write_media(tmp_path / "slides.mp4", tone(10.0), video_codec="libx264", video_s=10.0, fps=Fraction(1, 2))
    settings = load_settings()
    settings["audio"]["enabled"] = False
    with caplog.at_level(logging.WARNING):
        timeline = analyze_file(video, tmp_path / "out", settings)
    assert not any("no picture" in r.getMessage() for r in caplog.records)
    assert not any("after the picture ends" in w.reason for w in timeline.track("face").windows)
