"""A file whose picture starts late or ends early (a camera started after the sound recorder, or stopped before it)
says so in one line, as a sound stream's late start or early end is said, and its face and body windows there say
where the picture starts or ends, not 'gap or unreadable frames', which reads as damage."""

import logging

from runtime.arms.video.scan import PictureEdges, VideoScan, mark_picture_edges, picture_edges
from runtime.config import load_settings
from runtime.media import MediaInfo
from runtime.pipeline import analyze_file
from runtime.sources.video import NO_FRAMES, FrameStats
from runtime.track import Track, Window
from tests.media_factory import tone, write_media


def _media(end_s: float, start_s: float = 0.0, video_end_s: float | None = None) -> MediaInfo:
    return MediaInfo("x.mp4", "mp4", end_s, has_audio=True, has_video=True, start_s=start_s, video_end_s=video_end_s)


def _scan(times_s: list[float], stopped_reason: str = "") -> VideoScan:
    return VideoScan(frame_times_s=times_s, stats=FrameStats(stopped_reason=stopped_reason))


def test_the_picture_edges_are_where_it_starts_and_ends_a_second_or_more_from_the_files():
    frames_s = [3.0 + i / 5 for i in range(11)]  # 3.0 to 5.0 s, sampled at 5 fps
    assert picture_edges(_scan(frames_s), _media(10.0), 5.0) == PictureEdges(3.0, 5.2)
    assert picture_edges(_scan(frames_s), _media(5.9, start_s=2.5), 5.0) == PictureEdges(None, None)  # under 1 s
    assert picture_edges(_scan(frames_s), _media(10.0, start_s=2.5), 5.0) == PictureEdges(None, 5.2)
    # a file cut short ends where it was read to, said as such: no early end besides
    assert picture_edges(_scan(frames_s, "file ends early"), _media(10.0), 5.0) == PictureEdges(3.0, None)
    assert picture_edges(_scan([]), _media(10.0), 5.0) == PictureEdges()


def test_a_picture_is_late_or_early_against_the_files_own_start_and_its_streams_own_end():
    # a file whose stamps start at 0.8 s, its picture at 1.2 s: 0.4 s late, not 1.2 (was said)
    assert picture_edges(_scan([1.2 + i / 5 for i in range(40)]), _media(9.2, start_s=0.8), 5.0) == PictureEdges()
    # one frame the picture stream holds for 10 s (a still with its sound): no early end (was 'ends at 0.2 s')
    assert picture_edges(_scan([0.0]), _media(10.0, video_end_s=10.0), 5.0) == PictureEdges()
    # a frame every 2 s (a time-lapse) lasts as long as those before it: the picture ends at 10 s, not 8.2
    assert picture_edges(_scan([0.0, 2.0, 4.0, 6.0, 8.0]), _media(10.0), 5.0) == PictureEdges()


def test_windows_without_frames_beyond_the_picture_say_where_it_starts_or_ends():
    windows = [Window(a, a + 2.0, quality=0.0, reason=NO_FRAMES) for a in (0.0, 4.0, 8.0)]
    windows[1] = Window(4.0, 6.0, quality=0.0, reason=NO_FRAMES)  # inside the picture: a gap, said as one
    track = mark_picture_edges(Track("face", windows=windows), PictureEdges(2.0, 8.0))
    assert [w.reason for w in track.windows] == ["no video frames (before the picture starts at 2.0 s)", NO_FRAMES,
                                                 "no video frames (after the picture ends at 8.0 s)"]


def test_an_analysis_of_a_picture_ending_early_says_so_and_its_windows_there_too(tmp_path, caplog):
    video = write_media(tmp_path / "camera_stopped.mp4", tone(10.0), video_codec="libx264", video_s=5.0)
    settings = load_settings()
    settings["audio"]["enabled"] = False
    with caplog.at_level(logging.WARNING):
        timeline = analyze_file(video, tmp_path / "out", settings)
    said = [r.getMessage() for r in caplog.records]
    # was: nothing said, and the windows after 5 s read 'no video frames (gap or unreadable frames)'
    assert any(line.startswith(f"{video}: no picture for 5.0 s (after the picture ends at 5.0 s, the file's other "
                               "streams at 10.0 s)") for line in said), said
    for name in ("face", "body"):
        late = [w for w in timeline.track(name).windows if w.start_s >= 5.0]
        assert late and all(w.reason == "no video frames (after the picture ends at 5.0 s)" for w in late)
