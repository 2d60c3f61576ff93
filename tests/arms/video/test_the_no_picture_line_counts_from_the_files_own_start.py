"""The picture's late start is said from 1 s on exactly (as docs/face-body.md and the sound's late start have it: '1 s
or more'), and the seconds without a picture count from the file's own start where its stamps all start late (a
camera's clip starting at 5.0 s on its clock, its picture at 7.0 s: 2.0 s without a picture, not 7.0)."""

import logging
from pathlib import Path

from runtime.arms.video.scan import PictureEdges, VideoScan, _say_picture_edges, picture_edges
from runtime.media import MediaInfo
from runtime.sources.video import FrameStats


def _media(end_s: float, start_s: float = 0.0) -> MediaInfo:
    return MediaInfo("x.mp4", "mp4", end_s, has_audio=True, has_video=True, start_s=start_s)


def test_a_picture_starting_or_ending_one_second_from_the_files_edges_is_said():
    frames_s = [1.0 + i / 5 for i in range(5)]  # 1.0 to 1.8 s at 5 fps: the picture from 1.0 s to 2.0 s
    scan = VideoScan(frame_times_s=frames_s, stats=FrameStats())
    assert picture_edges(scan, _media(3.0), 5.0) == PictureEdges(1.0, 2.0)


def test_the_seconds_without_a_picture_count_from_the_files_own_late_start(caplog):
    with caplog.at_level(logging.WARNING):
        _say_picture_edges(Path("x.mp4"), PictureEdges(7.0, None), _media(15.0, start_s=5.0))
    assert [r.getMessage() for r in caplog.records] == [
        "x.mp4: no picture for 2.0 s (before the picture starts at 7.0 s); the face and body windows there make no "
        "claim"]
