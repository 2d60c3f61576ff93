import logging
import re
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

import runtime.sources.video as video_module
from runtime.clock import SessionClock
from runtime.errors import InputError
from runtime.sources.video import FileVideoSource, LiveVideoSource
from tests.arms.face.video_factory import write_video
from tests.media_factory import (
    cut_short,
    damage,
    drop_transport_packets,
    drop_transport_packets_inside,
    tone,
    undecodable_s,
    write_media,
)


def test_file_source_samples_at_the_requested_rate_on_the_file_clock(tmp_path):
    path = write_video(tmp_path / "v.mp4", 3.0, fps=15)
    source = FileVideoSource(path, sample_fps=5.0)
    times = [f.t_s for f in source.frames()]
    assert np.allclose(np.diff(times), 0.2, atol=0.01)
    assert source.stats.decoded == 45 and source.stats.sampled == len(times) == 15


def test_variable_frame_rate_keeps_the_first_frame_at_or_after_each_sampling_instant(tmp_path):
    frame_times = [0.0, 0.05, 0.1, 0.5, 0.55, 1.5, 1.6, 1.65, 1.7, 2.0, 2.1]
    path = write_video(tmp_path / "vfr.mp4", 0, frame_times_s=frame_times)
    times = [f.t_s for f in FileVideoSource(path, sample_fps=5.0).frames()]
    assert times == pytest.approx([0.0, 0.5, 1.5, 1.6, 2.0], abs=1e-3)


@pytest.mark.parametrize("rotation_deg", [90, -90, 180])
def test_rotation_metadata_turns_a_phone_video_upright(tmp_path, rotation_deg):
    from tests.arms.face.video_factory import astronaut, moving_frame

    path = write_video(tmp_path / "rot.mp4", 1.0, rotation_deg=rotation_deg)
    source = FileVideoSource(path)
    frame = next(iter(source.frames()))
    assert frame.image.shape == (480, 640, 3)  # stored 480 wide × 640 high (or upside down), shown landscape
    assert source.stats.rotation_deg % 360 == rotation_deg % 360
    upright = moving_frame(astronaut(), frame.t_s, 640, 480)  # the picture as filmed, before the phone turned it
    # turned the wrong way, the picture differs by about 60 grey levels a pixel; right, by compression's few
    assert np.abs(frame.image.astype(float) - upright).mean() < 10


ONE = 1 << 16  # 1.0 in a display matrix's 16.16 fixed point
W_ONE = 1 << 30  # its last column's 2.30


# Display matrices as av_display_rotation_set and av_display_matrix_flip write them, each with the picture stored as
# FFmpeg's autorotate filters undo it: hflip at -180, vflip at 0, transpose=cclock_flip at -90 with c > 0, and
# transpose=clock_flip (a clockwise turn, then vflip) at 90 with c < 0.
MIRRORING_MATRICES = {
    "mirrored": ([-ONE, 0, 0, 0, ONE, 0, 0, 0, W_ONE], lambda shown: shown[:, ::-1]),
    "upside_down_mirror": ([ONE, 0, 0, 0, -ONE, 0, 0, 0, W_ONE], lambda shown: shown[::-1]),
    "turned_and_mirrored": ([0, ONE, 0, ONE, 0, 0, 0, 0, W_ONE], lambda shown: shown.transpose(1, 0, 2)),
    "turned_back_and_mirrored": ([0, -ONE, 0, -ONE, 0, 0, 0, 0, W_ONE],
                                 lambda shown: shown[::-1, ::-1].transpose(1, 0, 2)),
}


@pytest.mark.parametrize("name", list(MIRRORING_MATRICES))
def test_a_mirroring_display_matrix_shows_the_picture_mirrored_not_upside_down(tmp_path, name):
    from tests.arms.face.video_factory import astronaut, moving_frame

    matrix, stored_from_shown = MIRRORING_MATRICES[name]
    path = write_video(tmp_path / "mirror.mp4", 1.0, display_matrix=matrix, stored_from_shown=stored_from_shown)
    source = FileVideoSource(path)
    frame = next(iter(source.frames()))
    replayed = next(iter(LiveVideoSource(path, replay=True).frames()))  # the live path reads the same matrix
    for image in (frame.image, replayed.image):
        assert image.shape == (480, 640, 3)
        shown = moving_frame(astronaut(), frame.t_s, 640, 480)
        # turned by the angle alone (PyAV's frame.rotation): 60-70 grey levels a pixel off; mirrored too: a few
        assert np.abs(image.astype(float) - shown).mean() < 10
    assert source.stats.mirrored


def test_corrupt_bytes_skip_frames_without_stopping_the_stream(tmp_path, caplog):
    path = write_video(tmp_path / "bad.mp4", 4.0, fps=15, codec="mpeg4")
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    middle = len(data) // 2
    data[middle:middle + 3000] = rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    source = FileVideoSource(path)
    with caplog.at_level("WARNING"):
        frames = list(source.frames())
    assert frames and frames[-1].t_s > 2.0  # frames after the damage still come
    assert source.stats.corrupt > 0  # the damaged packets are counted, and said
    assert f"skipped {source.stats.corrupt} corrupt video packets in all" in caplog.text


def test_a_file_without_video_is_an_input_error(tmp_path):
    path = write_media(tmp_path / "a.wav", tone(1.0), audio_codec="pcm_s16le")
    with pytest.raises(InputError, match="no video stream"):
        list(FileVideoSource(path).frames())


def test_live_source_drops_frames_for_a_slow_consumer_instead_of_queueing(tmp_path):
    path = write_video(tmp_path / "live.mp4", 2.0, fps=15)
    source = LiveVideoSource(path, replay=True, sample_fps=10.0)
    lags = []
    for frame in source.frames():
        lags.append(source.clock.now_s() - frame.t_s)
        time.sleep(0.35)  # slower than the 10 fps asked for
    assert source.stats.dropped > 0
    assert max(lags) < 0.3  # each frame handed out is the newest, not one from a backlog


def test_live_source_keeps_the_requested_rate_for_a_consumer_that_keeps_up(tmp_path):
    path = write_video(tmp_path / "live30.mp4", 3.0, fps=30)
    source = LiveVideoSource(path, replay=True, sample_fps=5.0)
    times = [frame.t_s for frame in source.frames()]
    assert source.stats.dropped == 0
    assert len(times) >= 15  # 5 fps over 3 s; spacing by "a period since the last" gave 14
    assert max(np.diff(times)) < 0.215  # the grid, not a period plus up to one frame interval (0.233 s)


def test_a_camera_that_cannot_be_opened_is_an_input_error():
    with pytest.raises(InputError, match="cannot open camera"):
        list(LiveVideoSource("/dev/no-such-camera", input_format="v4l2").frames())



def test_frames_without_timestamps_are_placed_at_the_stream_rate(tmp_path):
    import av

    path = tmp_path / "raw.h264"  # a raw H.264 stream: its frames carry no timestamps, its SPS the rate
    with av.open(str(path), "w", format="h264") as container:
        stream = container.add_stream("libx264", rate=15)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for i in range(30):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 8, np.uint8), format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    source = FileVideoSource(path, sample_fps=5.0)
    times = [f.t_s for f in source.frames()]
    assert source.stats.decoded == 30
    assert times[0] == 0.0 and times[-1] == pytest.approx(1.8, abs=0.01)
    assert np.allclose(np.diff(times), 0.2, atol=0.01)
    assert source.stats.assumed_fps is None  # the rate is the stream's own


def copy_to_raw_h264(container: Path, raw: Path) -> None:
    """The container's video stream copied, packets as they are, into an elementary H.264 stream (no stamps)."""
    with av.open(str(container)) as source, av.open(str(raw), "w", format="h264") as target:
        stream = target.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(video=0):
            if packet.dts is not None:
                packet.stream = stream
                target.mux(packet)


def test_a_raw_stream_whose_rate_is_only_ffmpegs_guess_says_so_and_the_rate_it_assumed(tmp_path, caplog):
    mp4 = write_video(tmp_path / "v.mp4", 2.0, fps=15)
    raw = tmp_path / "copied.h264"  # the stream copied out of its container: no stamps, no rate FFmpeg takes
    copy_to_raw_h264(mp4, raw)
    source = FileVideoSource(raw, sample_fps=5.0)
    times = [f.t_s for f in source.frames()]
    # placed, not refused: 30 frames at 25 fps end at 1.16 s (the 2 s filmed squeezed), sampled at 5 fps to 1.0 s
    assert source.stats.decoded == 30 and times[-1] == pytest.approx(1.0, abs=0.01)
    assert source.stats.assumed_fps == 25.0 and source.stats.to_dict()["assumed_fps"] == 25.0  # the track's
    # was: placed at 25 fps without a word
    assert caplog.messages == [f"{raw}: the video has no timestamps and states no frame rate FFmpeg takes (a raw "
                               "stream): its frames are placed at FFmpeg's assumed 25 fps, right only if the camera "
                               "ran at that rate"]


def _instant_clock() -> SessionClock:
    """A session clock whose waits take no time: a replay runs as fast as it decodes, each frame at its own time."""
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    return SessionClock(monotonic=lambda: now[0], sleep=sleep)


def _replay_and_file(path):
    return LiveVideoSource(path, replay=True, clock=_instant_clock()), FileVideoSource(path, sample_fps=5.0)


def test_a_replay_knows_an_empty_video_stream_by_its_error_type_not_its_words(tmp_path, monkeypatch):
    from runtime.media import NO_VIDEO_FRAMES, StreamDecoder

    path = write_video(tmp_path / "v.mp4", 1.0, fps=10)

    def replayed(error: InputError) -> LiveVideoSource:
        def failing(self):
            raise error
            yield  # a generator, as the decoder's frames are

        monkeypatch.setattr(StreamDecoder, "frames", failing)
        source = LiveVideoSource(path, replay=True, clock=_instant_clock())
        assert list(source.frames()) == []
        return source

    # was: another error in the empty stream's words taken for it, no reader failing
    assert replayed(InputError(path, NO_VIDEO_FRAMES)).stats.stopped_reason == f"camera stopped ({NO_VIDEO_FRAMES})"
    from runtime.media import NoVideoFrames  # here: the words' case stands without it

    source = replayed(NoVideoFrames(path))
    assert source.stats.stopped_reason == NO_VIDEO_FRAMES and source.holds_no_frames


def test_a_replayed_frame_keeps_its_own_time_in_the_recording_however_late_the_clock_wakes(tmp_path):
    path = write_video(tmp_path / "v.mp4", 2.0, fps=15)
    late = SessionClock(sleep=lambda seconds: time.sleep(seconds + 0.002))  # a loaded machine's waits overrun
    replayed = [frame.t_s for frame in LiveVideoSource(path, replay=True, clock=late).frames()]
    # was: each frame stamped by the clock after its wait, 2 ms late, and the last one's period past the file's end
    assert replayed == [frame.t_s for frame in FileVideoSource(path, sample_fps=5.0).frames()]


def test_a_replay_plays_on_past_a_corrupt_video_packet_as_file_analysis_does(tmp_path, caplog):
    path = write_media(tmp_path / "hit.mkv", None, video_codec="libx264", video_s=4.0)
    hit_s = damage(path, "video", at_s=2.0)[0]
    assert undecodable_s(path, "video") == [hit_s]  # the file really holds one packet that does not decode
    for source in _replay_and_file(path):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            times = [frame.t_s for frame in source.frames()]
        assert times[-1] >= 3.6  # was (replay): "camera stopped" at the damage, and nothing after it
        assert source.stats.corrupt == 1 and source.stats.stopped_reason == ""
        lines = [record.getMessage() for record in caplog.records]
        assert len(lines) == 2 and lines[0].startswith(f"{path}: skipped a corrupt video packet near ")
        # the frames after it until the next keyframe were decoded from what it left: said in one more line
        assert lines[1].startswith(f"{path}: skipped {source.stats.damaged} video frames decoded from damaged")
    replay, analysed = _replay_and_file(path)
    list(replay.frames())
    list(analysed.frames())
    # was: a replay counted the frames it passed on, file mode every frame decoded (the damaged ones too)
    assert replay.stats.decoded == analysed.stats.decoded and replay.stats.damaged == analysed.stats.damaged > 0


def test_a_video_cut_short_is_said_by_file_analysis_and_replay_alike(tmp_path, caplog):
    path = write_media(tmp_path / "cut.mkv", tone(1.0), 48000, "aac", "libx264", video_s=8.0)
    with caplog.at_level(logging.WARNING):
        for source in _replay_and_file(path):
            list(source.frames())
            assert source.stats.stopped_reason == ""
    assert not caplog.records  # whole, with a sound shorter than the picture: not cut short
    cut_short(path, 0.7)
    for source in _replay_and_file(path):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            times = [frame.t_s for frame in source.frames()]
        assert 1.0 < times[-1] < 7.0  # what the file holds is kept; was: it ended there without a word
        reason = source.stats.stopped_reason
        assert re.fullmatch(r"cut short: the video ends at \d\.\d s of the 8\.0 s the file declares", reason)
        assert [r.getMessage() for r in caplog.records] == [f"{path}: {reason}"]


def test_a_camera_whose_stream_ends_says_so(caplog):
    source = LiveVideoSource("testsrc=size=64x48:rate=10:duration=0.5", input_format="lavfi", sample_fps=5.0)
    with caplog.at_level(logging.WARNING):
        frames = list(source.frames())
    assert frames and source.stats.stopped_reason == "camera stream ended after 5 frames"  # was: ""
    assert "testsrc=size=64x48:rate=10:duration=0.5: camera stream ended after 5 frames" in caplog.text


def test_a_replay_with_no_frame_to_decode_says_why_in_the_readers_words(tmp_path, caplog):
    import av

    path = write_media(tmp_path / "header.mkv", None, video_codec="mpeg4", video_s=4.0)
    with av.open(str(path)) as container:
        first_packet_byte = min(p.pos for p in container.demux() if p.pos is not None and p.pos >= 0)
    cut_short(path, first_packet_byte / path.stat().st_size)  # its header alone
    source = LiveVideoSource(path, replay=True, clock=_instant_clock())
    with caplog.at_level(logging.WARNING):
        assert list(source.frames()) == []
    reason = source.stats.stopped_reason
    assert reason.startswith("camera stopped (no video could be decoded; cut short: the video ends at 0.0 s")
    assert "InputError" not in reason and str(path) not in reason  # was: "(InputError: PATH: no video ...)"


def test_a_camera_that_stalls_without_failing_is_said_to_have_stalled(monkeypatch, caplog):
    release = threading.Event()
    turned = []

    def hung_after_three_frames(image, rotation_deg):  # the camera's read blocks for good: a USB camera hung
        turned.append(1)
        if len(turned) > 3:
            release.wait(timeout=30)
        return image

    monkeypatch.setattr(video_module, "upright", hung_after_three_frames)
    source = LiveVideoSource("testsrc=size=64x48:rate=10,realtime", input_format="lavfi", sample_fps=10.0,
                             stall_s=1.0)
    try:
        with caplog.at_level(logging.WARNING):
            frames = list(source.frames())  # was: waited for a frame for ever
    finally:
        release.set()
    assert len(frames) == 3 and source.stats.stopped_reason == "camera stalled: no frame for 1 s"
    assert re.search(r"rate=10,realtime: camera stalled after \d+ frames \(no frame for 1 s\)", caplog.text)


def test_a_device_without_pictures_given_as_the_camera_is_said_so():
    with pytest.raises(InputError, match=r"^sine=f=220: has no video stream$"):  # was an IndexError's words
        LiveVideoSource("sine=f=220", input_format="lavfi").open()


def test_a_song_with_its_cover_given_as_the_camera_is_said_to_have_no_video_before_the_session(tmp_path):
    from tests.media_factory import tone, with_cover_art

    song = with_cover_art(tmp_path / "song.mp3", tone(1.0, 16000))
    with pytest.raises(InputError, match=r"song\.mp3: has no video stream$"):  # was: "camera stopped" once running
        LiveVideoSource(str(song), input_format="mp3").open()


def _write_ts_segment(path, images, first_pts: int, fps: int = 10) -> bytes:
    """An MPEG-TS segment of ``images`` (MPEG-TS segments play one after another when their bytes are joined)."""
    import av

    height, width = images[0].shape[:2]
    with av.open(str(path), "w", format="mpegts") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i, image in enumerate(images):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = first_pts + i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path.read_bytes()


def test_a_picture_that_changes_shape_mid_stream_is_fitted_into_the_first_ones_size_undistorted(tmp_path):
    # A video call's recording switches from a 4:3 picture to a 16:9 one holding a white square.
    first = [np.full((240, 320, 3), 128, np.uint8)] * 10
    wide = np.zeros((360, 640, 3), np.uint8)
    wide[130:230, 270:370] = 255
    path = tmp_path / "call.ts"
    path.write_bytes(_write_ts_segment(tmp_path / "a.ts", first, 0)
                     + _write_ts_segment(tmp_path / "b.ts", [wide] * 10, 10))
    frames = list(FileVideoSource(path, sample_fps=10.0).frames())
    assert frames[-1].t_s > 1.5 and {f.image.shape for f in frames} == {(240, 320, 3)}
    rows, cols = np.nonzero(frames[-1].image.mean(axis=2) > 200)
    # Halved to 320 x 180 and centred: the square stays square (stretched to 240 high it was 50 x 67) ...
    assert rows.max() - rows.min() == pytest.approx(cols.max() - cols.min(), abs=3)
    # ... with black bars of 30 pixels above and below
    assert frames[-1].image[:28].max() < 20 and frames[-1].image[-28:].max() < 20


def test_a_picture_of_one_size_throughout_fills_its_frames_whatever_the_rounding(tmp_path):
    import av

    # 241 x 483, scaled to even sides (240 x 484): the fit for a changed picture must not put bars on it
    path = tmp_path / "odd.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=10)
        stream.width, stream.height, stream.pix_fmt = 241, 483, "yuv444p"
        for _ in range(3):
            frame = av.VideoFrame.from_ndarray(np.full((483, 241, 3), 200, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    image = next(iter(FileVideoSource(path).frames())).image
    assert image.shape == (484, 240, 3) and image.min() > 150  # was: black rows and columns at its edges


def test_a_picture_resized_by_a_pixel_or_two_mid_stream_fills_its_frames_without_bars(tmp_path):
    # A call's picture switching from 320 x 240 to 322 x 240: the same shape, but for rounding
    path = tmp_path / "call.ts"
    path.write_bytes(_write_ts_segment(tmp_path / "a.ts", [np.full((240, 320, 3), 128, np.uint8)] * 10, 0)
                     + _write_ts_segment(tmp_path / "b.ts", [np.full((240, 322, 3), 255, np.uint8)] * 10, 10))
    last = list(FileVideoSource(path, sample_fps=10.0).frames())[-1].image
    assert last.shape == (240, 320, 3) and last.min() > 200  # no black row above or below (a fit to 320 x 238)


def _damage_line(path, records) -> str:
    lines = [r.getMessage() for r in records if "decoded from damaged or lost data" in r.getMessage()]
    assert len(lines) == 1  # once, at the end, not a line a frame
    return lines[0]


def test_frames_decoded_after_a_corrupt_packet_are_skipped_until_the_next_keyframe_and_said_once(tmp_path, caplog):
    path = write_media(tmp_path / "hit.mkv", None, video_codec="libx264", video_s=4.0, gop=20)  # keys at 0 and 2 s
    assert damage(path, "video", at_s=0.5) == undecodable_s(path, "video") == [0.5]
    source = FileVideoSource(path, sample_fps=10.0)
    with caplog.at_level(logging.WARNING):
        times = [frame.t_s for frame in source.frames()]
    # was: 0.6 to 1.9 s kept, decoded from a reference that was never there, at full quality
    assert times == pytest.approx([i / 10 for i in range(5)] + [2.0 + i / 10 for i in range(20)])
    assert source.stats.corrupt == 1 and source.stats.damaged == 14 and source.stats.to_dict()["damaged"] == 14
    line = _damage_line(path, caplog.records)
    assert line == (f"{path}: skipped 14 video frames decoded from damaged or lost data until the next keyframe, "
                    "at 0.6-1.9 s")


def test_a_lost_run_of_transport_stream_packets_costs_the_frames_until_the_next_keyframe_and_is_said(tmp_path,
                                                                                                       caplog):
    path = write_media(tmp_path / "glitch.ts", None, video_codec="libx264", video_s=4.0, gop=20)
    drop_transport_packets(path, 0.8, 1.0)  # a network glitch: two frames in the middle of a GOP never arrived
    for source in _replay_and_file(path):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            times = [frame.t_s for frame in source.frames()]
        # was: no word, and 1.0 to 1.9 s kept, built on the frames lost
        assert not [t_s for t_s in times if 0.75 < t_s < 2.0] and times[-1] >= 3.6
        assert source.stats.corrupt == 0 and source.stats.damaged >= 10
        assert re.fullmatch(rf"{re.escape(str(path))}: skipped {source.stats.damaged} video frames decoded from "
                            r"damaged or lost data until the next keyframe, at 0\.7-1\.9 s",
                            _damage_line(path, caplog.records))


def test_transport_streams_joined_end_to_end_lose_no_frame_at_the_joint(tmp_path, caplog):
    part = write_media(tmp_path / "part.ts", None, video_codec="libx264", video_s=3.0, gop=10).read_bytes()
    joined = tmp_path / "joined.ts"
    joined.write_bytes(part + part)  # the continuity counters restart at the joint: no packet was lost there
    source = FileVideoSource(joined, sample_fps=10.0)
    with caplog.at_level(logging.WARNING):
        times = [frame.t_s for frame in source.frames()]
    assert len(times) == 60 and source.stats.damaged == 0 and "damaged" not in caplog.text


def test_damage_in_a_stream_without_another_keyframe_ends_after_ten_seconds_not_at_the_recordings_end(tmp_path,
                                                                                                        caplog):
    # One keyframe at the start, as a video-call encoder refreshing its picture a strip at a time writes.
    path = write_media(tmp_path / "refresh.mkv", None, video_codec="libx264", video_s=14.0, gop=1000)
    assert damage(path, "video", at_s=0.5) == [0.5]
    source = FileVideoSource(path, sample_fps=10.0)
    with caplog.at_level(logging.WARNING):
        times = [frame.t_s for frame in source.frames()]
    # was: everything after 0.5 s skipped, 13.5 s of picture lost for one packet
    assert times == pytest.approx([i / 10 for i in range(5)] + [10.6 + i / 10 for i in range(34)])
    assert source.stats.damaged == 100
    assert _damage_line(path, caplog.records).endswith("until the next keyframe, at 0.6-10.5 s")


def test_a_loss_just_after_a_keyframe_costs_the_frames_from_the_loss_to_the_next_keyframe(tmp_path, caplog):
    path = write_media(tmp_path / "glitch.ts", None, video_codec="libx264", video_s=6.0, gop=20)  # keys 0, 2, 4 s
    drop_transport_packets(path, 2.2, 2.4)  # the demuxer flags a packet before the loss: here, the keyframe's
    source = FileVideoSource(path, sample_fps=10.0)
    with caplog.at_level(logging.WARNING):
        times = [frame.t_s for frame in source.frames()]
    # was: no frame skipped and no word, the keyframe at 2.0 s taken for the end of the damage
    assert not [t_s for t_s in times if 2.05 < t_s < 3.95] and {2.0, 4.0} <= {round(t, 1) for t in times}
    # 2.2 and 2.3 s never arrived (a gap); 2.4 to 3.9 s were decoded from what they left, and the frame before
    # the loss, which the demuxer's flag cannot tell from one the loss cut into, is skipped with them
    assert source.stats.damaged == 17 and _damage_line(path, caplog.records).endswith("at 2.1-3.9 s")


def test_damage_in_an_intra_refresh_stream_ends_once_a_refresh_begun_after_it_is_whole(tmp_path):
    # A video-call encoder's stream: no keyframe after the first, a recovery point every 1.2 s.
    path = tmp_path / "refresh.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv420p"
        stream.options = {"x264-params": "intra-refresh=1:keyint=12:bframes=0:scenecut=0"}
        for i in range(100):
            image = np.zeros((96, 128, 3), np.uint8)
            image[i % 86:i % 86 + 10, (3 * i) % 118:(3 * i) % 118 + 10] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    assert damage(path, "video", at_s=3.0) == [3.0]
    source = FileVideoSource(path, sample_fps=10.0)
    times = [frame.t_s for frame in source.frames()]
    # recovery points at 3.6 and 4.8 s: the refresh begun at 3.6 s is whole at 4.8 s (was: 10 s lost, to 13 s)
    assert min(t_s for t_s in times if t_s > 3.0) == pytest.approx(4.8) and times[-1] == pytest.approx(9.9)


def test_a_loss_inside_a_keyframe_skips_that_keyframe_and_the_frames_built_on_it(tmp_path, caplog):
    path = write_media(tmp_path / "glitch.ts", None, video_codec="libx264", video_s=6.0, gop=20,  # keys 0, 2, 4 s
                       detailed_px=(320, 240))
    drop_transport_packets_inside(path, at_s=2.0, share=0.97, count=1)  # the keyframe's picture cut near its end
    source = FileVideoSource(path, sample_fps=10.0)
    with caplog.at_level(logging.WARNING):
        times = [frame.t_s for frame in source.frames()]
    # was (the damage taken to start two packets after the flag): the cut keyframe kept at full quality
    assert not [t_s for t_s in times if 1.95 < t_s < 3.95] and {1.8, 4.0} <= {round(t, 1) for t in times}


def test_a_loss_in_the_last_frame_costs_that_frame_not_the_ones_before_it(tmp_path):
    path = write_media(tmp_path / "glitch.ts", None, video_codec="libx264", video_s=3.0, gop=20,
                       detailed_px=(320, 240))
    drop_transport_packets_inside(path, at_s=2.9, share=0.5, count=2)
    source = FileVideoSource(path, sample_fps=10.0)
    times = [round(frame.t_s, 1) for frame in source.frames()]
    # was: the demuxer's last, empty packet taken for where the damage starts, so that every frame still in the
    # decoder (2.x s) was skipped
    assert times == [round(i / 10, 1) for i in range(29)] and source.stats.damaged <= 1



def test_with_b_frames_a_keyframe_cut_into_and_the_frames_built_on_it_are_not_kept(tmp_path):
    path = write_media(tmp_path / "camcorder.ts", None, video_codec="libx264", video_s=6.0, gop=20,
                       detailed_px=(320, 240), b_frames=2)
    drop_transport_packets_inside(path, at_s=2.0, share=0.97, count=1)
    source = FileVideoSource(path, sample_fps=10.0)
    times = {round(frame.t_s, 1) for frame in source.frames()}
    # was: 2.0 to 3.9 s kept, the keyframe cut into taken for the end of a damage the B-frames before it began
    assert not {round(2.0 + i / 10, 1) for i in range(20)} & times and 4.0 in times


def test_a_raw_h264_stream_without_stamps_loses_only_the_frames_to_its_next_keyframe(tmp_path):
    keyed = write_media(tmp_path / "keyed.mkv", None, video_codec="libx264", video_s=14.0, gop=20)
    raw = tmp_path / "camera.h264"  # an elementary stream, as some cameras write: no timestamps at all
    copy_to_raw_h264(keyed, raw)
    with av.open(str(raw)) as container:
        tenth = [p for p in container.demux(video=0) if p.size][10]
    data = bytearray(raw.read_bytes())
    data[tenth.pos + 8:tenth.pos + tenth.size] = np.random.default_rng(0).integers(0, 256, tenth.size - 8,
                                                                                    dtype=np.uint8).tobytes()
    raw.write_bytes(bytes(data))
    source = FileVideoSource(raw, sample_fps=10.0)
    times = [frame.t_s for frame in source.frames()]
    # was: every frame after the damage skipped (its keyframes, without stamps, never ended it): 10 frames kept
    assert len(times) >= 125 and source.stats.damaged <= 10


def test_a_wider_picture_mid_stream_is_centred_between_its_bars_so_a_face_keeps_its_place(tmp_path):
    # 4:3, then 16:9 with a white square at its centre: halved to 320 x 180 with 30 rows of black above and below
    wide = np.zeros((360, 640, 3), np.uint8)
    wide[155:205, 295:345] = 255
    path = tmp_path / "call.ts"
    path.write_bytes(_write_ts_segment(tmp_path / "a.ts", [np.full((240, 320, 3), 128, np.uint8)] * 10, 0)
                     + _write_ts_segment(tmp_path / "b.ts", [wide] * 10, 10))
    rows, cols = np.nonzero(list(FileVideoSource(path, sample_fps=10.0).frames())[-1].image.mean(axis=2) > 200)
    # was it put at the top: the square 30 pixels above the middle, where it stood in the frames before
    assert (rows.min() + rows.max()) / 2 == pytest.approx(119.5, abs=1.5)
    assert (cols.min() + cols.max()) / 2 == pytest.approx(159.5, abs=1.5)


def test_a_sampling_rate_of_zero_is_refused_as_the_source_is_made(tmp_path):
    path = write_video(tmp_path / "v.mp4", 1.0, fps=10)
    with pytest.raises(InputError, match="sampling rate must be positive"):  # not a ZeroDivisionError once read
        FileVideoSource(path, sample_fps=0.0)


def test_a_sampled_frame_stands_for_two_periods_after_it_and_at_least_half_a_second():
    from runtime.sources.video import frame_reach_s

    assert frame_reach_s(1.0) == 2.0
    assert frame_reach_s(5.0) == 0.5  # the default rate's two periods are 0.4 s: half a second still
    assert frame_reach_s(30.0) == 0.5


def test_a_picture_a_few_percent_wider_mid_stream_is_fitted_with_thin_bars_not_stretched(tmp_path):
    # 320 x 240, then 330 x 240: fitted, 320 x 232 with bars of 4 rows (stretched to 240, a face would be 3 % taller)
    path = tmp_path / "call.ts"
    path.write_bytes(_write_ts_segment(tmp_path / "a.ts", [np.full((240, 320, 3), 128, np.uint8)] * 10, 0)
                     + _write_ts_segment(tmp_path / "b.ts", [np.full((240, 330, 3), 255, np.uint8)] * 10, 10))
    last = list(FileVideoSource(path, sample_fps=10.0).frames())[-1].image
    assert last.shape == (240, 320, 3)
    assert last[:3].max() < 20 and last[-3:].max() < 20 and last[6:-6].min() > 200
