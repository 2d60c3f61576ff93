"""Video sources: sampled RGB frames stamped on the session clock, from a recorded file or a live camera.

File mode decodes every frame (codecs need that) but converts only the sampled ones: a frame is kept when
its own timestamp reaches the next sampling instant, so variable-frame-rate files sample evenly in time.
The display matrix (a phone's rotation, a front camera's mirror) is applied, packets and frames that fail to
decode are skipped and counted, and so are the frames decoded after damage or a lost run of packets until the
next keyframe (``StreamDecoder``).

Live mode (a camera, or a file replayed at real-time pace) reads in a thread and hands the consumer only the
newest frame: a consumer slower than the sampling rate drops frames, counted, and never builds a backlog.
A file, analysed or replayed, decodes through ``runtime.media.StreamDecoder`` either way, so a damaged one
replays as it analyses: a corrupt packet is a gap, a file cut short is said.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import av
import numpy as np

from runtime.clock import SessionClock
from runtime.errors import InputError
from runtime.files import nonempty_file
from runtime.media import NO_VIDEO_FRAMES, NoVideoFrames, file_url
from runtime.stopping import raise_if_stop_asked

if TYPE_CHECKING:
    from runtime.media import StreamDecoder

log = logging.getLogger(__name__)

DEFAULT_SAMPLE_FPS = 5.0
DEFAULT_MAX_SIDE_PX = 1280


@dataclass(frozen=True)
class VideoFrame:
    """One sampled frame: ``image`` is (height, width, 3) uint8 RGB, upright; ``t_s`` on the session clock."""

    t_s: float
    image: np.ndarray


@dataclass
class FrameStats:
    """What a source did: frames decoded, sampled, skipped as corrupt or as built on damaged or lost data (until
    the next keyframe), dropped to keep up (live)."""

    decoded: int = 0
    sampled: int = 0
    corrupt: int = 0
    damaged: int = 0
    dropped: int = 0
    rotation_deg: int = 0
    mirrored: bool = False  # the display matrix flips the picture (``DisplayTurn``)
    stopped_reason: str = ""  # why a source ended early: a camera stopped, a file cut short ("" when it ran out)
    assumed_fps: float | None = None  # the frame rate a file's frames were placed at, where only FFmpeg's guess

    def take_counts(self, decoder: StreamDecoder) -> None:
        """A decoder's counts as this source's: every frame it decoded, and those it skipped; and the frame rate
        it assumed, if it had to."""
        self.decoded, self.corrupt, self.damaged = decoder.decoded, decoder.corrupt, decoder.damaged
        self.assumed_fps = decoder.assumed_fps

    def to_dict(self) -> dict:
        return {"decoded": self.decoded, "sampled": self.sampled, "corrupt": self.corrupt, "damaged": self.damaged,
                "dropped": self.dropped, "rotation_deg": self.rotation_deg, "mirrored": self.mirrored,
                "stopped_reason": self.stopped_reason,
                "assumed_fps": self.assumed_fps}


def has_video(path: str | Path) -> bool:
    from runtime.media import probe

    return probe(path).has_video


@dataclass(frozen=True)
class DisplayTurn:
    """How a frame is shown: mirrored left to right first where ``mirrored``, then turned ``rotation_deg``
    counter-clockwise (a multiple of 90)."""

    rotation_deg: int = 0
    mirrored: bool = False


def display_turn(frame: av.VideoFrame) -> DisplayTurn:
    """The turn a frame's display matrix asks for, as FFmpeg's autorotate applies it: a matrix that flips
    (negative determinant: a front camera's or a 'mirror' recorder's) is a mirror image and then a turn, not the
    turn alone that its rotation angle (``frame.rotation``, -180 for a plain left-right mirror) would give."""
    side = frame.side_data.get("DISPLAYMATRIX")
    if side is None:
        return DisplayTurn()
    matrix = np.frombuffer(bytes(side), dtype=np.int32).astype(float)  # FFmpeg's 3x3, row-major, native order
    a, b, c, d = matrix[0], matrix[1], matrix[3], matrix[4]
    x_scale, y_scale = np.hypot(a, c), np.hypot(b, d)
    if a * d - b * c == 0 or x_scale == 0 or y_scale == 0:  # singular: FFmpeg leaves such a frame as stored
        return DisplayTurn()
    mirrored = a * d - b * c < 0
    ccw_deg = -np.degrees(np.arctan2(b / y_scale, a / x_scale))  # av_display_rotation_get
    # FFmpeg's autorotate mirrors a flipping matrix and turns it half a turn from its angle (hflip at -180,
    # vflip at 0, transpose at -90): a mirror then a turn
    turns = (int(round(ccw_deg / 90.0)) + (2 if mirrored else 0)) % 4
    return DisplayTurn(rotation_deg=(turns * 90 + 90) % 360 - 90, mirrored=bool(mirrored))


def upright(image: np.ndarray, turn: DisplayTurn) -> np.ndarray:
    """A frame as shown: its display matrix's mirror and turn applied (``display_turn``)."""
    turns = (turn.rotation_deg // 90) % 4
    shown = image[:, ::-1] if turn.mirrored else image
    return np.ascontiguousarray(np.rot90(shown, k=turns)) if turns or turn.mirrored else image


def _even_px(length_px: float) -> int:
    """A scaled side rounded to an even number of pixels (at least 2): even sizes keep swscale's fast paths."""
    return max(2, int(round(length_px / 2)) * 2)


def scaled_size(width: int, height: int, max_side_px: int) -> tuple[int, int]:
    """(width, height) of a picture scaled so that its longer side is at most ``max_side_px``, each side even."""
    scale = min(1.0, max_side_px / max(width, height))
    return _even_px(width * scale), _even_px(height * scale)


def displayed_size(frame: av.VideoFrame, stream: av.video.stream.VideoStream, max_side_px: int) -> tuple[int, int]:
    """``scaled_size`` of the picture as a player shows it: pixels that are not square (a DV, DVD or HDV camcorder's
    anamorphic 720x576 or 1440x1080, its sample aspect ratio in the stream) widened by their shape, so that faces
    and poses keep their proportions (a 4:3 pixel shape read square narrowed a face's eyes and shoulders)."""
    aspect = stream.codec_context.sample_aspect_ratio or stream.sample_aspect_ratio
    shown_width = frame.width * float(aspect) if aspect and 0.1 <= aspect <= 10 else frame.width  # 0 or absurd: none
    return scaled_size(round(shown_width), frame.height, max_side_px)


def _fitted_rgb(frame: av.VideoFrame, canvas_px: tuple[int, int], first_px: tuple[int, int]) -> np.ndarray:
    """The frame as RGB (height, width, 3) of the canvas's size (the first frame's, ``first_px``, scaled): a frame
    of the first one's size is scaled to it; one of another size (a video call's recording changes its picture
    mid-stream) is scaled to fit without distortion and centred, with black bars where its shape differs, so that
    faces, poses and their movement keep one pixel geometry from frame to frame."""
    width_px, height_px = canvas_px
    if (frame.width, frame.height) == first_px:
        return frame.to_ndarray(format="rgb24", width=width_px, height=height_px)
    scale = min(width_px / frame.width, height_px / frame.height)
    fitted_w, fitted_h = min(width_px, _even_px(frame.width * scale)), min(height_px, _even_px(frame.height * scale))
    if abs(fitted_w - width_px) <= 2 and abs(fitted_h - height_px) <= 2:  # the same shape, but for rounding
        return frame.to_ndarray(format="rgb24", width=width_px, height=height_px)
    picture = frame.to_ndarray(format="rgb24", width=fitted_w, height=fitted_h)
    canvas = np.zeros((height_px, width_px, 3), dtype=np.uint8)
    top, left = (height_px - fitted_h) // 2, (width_px - fitted_w) // 2
    canvas[top:top + fitted_h, left:left + fitted_w] = picture
    return canvas


class FileVideoSource:
    """Frames of a recorded file sampled at ``sample_fps`` on the file's own clock.

    Corrupt packets and frames are skipped (``stats.corrupt``), and so are the frames decoded from damaged or lost
    data until the next keyframe (``stats.damaged``); a file with no video stream, one that cannot be
    opened, or one of which no frame decodes raises ``InputError``. Frames are scaled so that their longer side is
    at most ``max_side_px``; a picture that changes size mid-stream is fitted into the first one's size.
    """

    def __init__(self, path: str | Path, sample_fps: float = DEFAULT_SAMPLE_FPS,
                 max_side_px: int = DEFAULT_MAX_SIDE_PX):
        if sample_fps <= 0:
            raise InputError(str(sample_fps), "sampling rate must be positive")
        self.path = Path(path)
        self.sample_fps = sample_fps
        self.max_side_px = max_side_px
        self.stats = FrameStats()

    def frames(self) -> Iterator[VideoFrame]:
        from runtime.media import StreamDecoder, _decodable, _open, picture_stream

        path = nonempty_file(self.path)
        with _open(path) as container:
            stream = picture_stream(container)
            if stream is None:
                raise InputError(path, "has no video stream")
            stream = _decodable(path, stream)
            stream.thread_type = "AUTO"  # frame threads: decoding is the file mode's largest cost
            decoder = StreamDecoder(path, container, stream)
            try:
                yield from self._sampled(decoder, stream)
            finally:
                self._take_counts(decoder)

    def _take_counts(self, decoder: StreamDecoder) -> None:
        self.stats.take_counts(decoder)
        self.stats.stopped_reason = decoder.stopped_reason

    def _sampled(self, decoder: StreamDecoder, stream: av.video.stream.VideoStream) -> Iterator[VideoFrame]:
        period_s = 1.0 / self.sample_fps
        next_s = None
        size = None
        for frame in decoder.frames():
            raise_if_stop_asked()  # PyAV can swallow the signal's own KeyboardInterrupt
            t_s = decoder.time_s(frame)
            if t_s is None:  # no stamp and no rate: placed by its index at the sampling rate
                t_s = (decoder.decoded - 1) / self.sample_fps
            if next_s is None:
                next_s = t_s
            if t_s + 1e-6 < next_s:
                continue
            # Next instant on the sampling grid after this frame (a gap skips whole periods).
            next_s += period_s * max(1, int((t_s - next_s) / period_s + 1e-9) + 1)
            turn = display_turn(frame)
            self.stats.rotation_deg, self.stats.mirrored = turn.rotation_deg, turn.mirrored
            if size is None:
                size, first_px = displayed_size(frame, stream, self.max_side_px), (frame.width, frame.height)
            try:
                image = _fitted_rgb(frame, size, first_px)
            except (av.error.FFmpegError, ValueError) as error:
                decoder.skip(t_s, str(error), "frame")
                continue
            self.stats.sampled += 1
            yield VideoFrame(round(t_s, 6), upright(image, turn))


NO_FRAMES = "no video frames (gap or unreadable frames)"  # a face or body window's reason where no frame came


def frame_reach_s(sample_fps: float) -> float:
    """How long after it a sampled frame stands for the video: two sampling periods (a frame may come late in
    its slot, or one be dropped), at least half a second. After the last frame, the camera was not seeing
    (``track.Coverage``)."""
    return max(2.0 / sample_fps, 0.5)


REPLAY_WAIT_SLICE_S = 0.25  # a replay waiting for its next frame looks this often whether the session has ended
CAMERA_STALL_S = 5.0  # no frame this long from a camera that has not failed: it is gone (cameras give 5-30 fps)


def _camera_ended(device: str, stats: FrameStats) -> str:
    """A camera whose stream ended without an error (a USB camera's driver letting go): said, as a failure is."""
    reason = f"camera stream ended after {stats.decoded} frames"
    log.warning("%s: %s", device, reason)
    return reason


def _sampling_slot(t_s: float, period_s: float) -> int:
    """Which slot of the fixed sampling grid (0, period, 2·period, ...) a time falls in.

    A fixed grid keeps the sampled rate at ``sample_fps``: spacing frames by "at least a period since the last
    one" would add up to one frame interval of drift per sample (4.3 instead of 5 fps from a 30 fps camera).
    """
    return int(np.floor(t_s / period_s + 1e-6))


class LiveVideoSource:
    """A live feed: a camera (``av.open(device, format=input_format)``) or a file replayed at real-time pace.

    A reader thread keeps only the newest frame; ``frames()`` hands it out at most ``sample_fps`` times a second.
    Frames the consumer never took are counted in ``stats.dropped``. A camera that disappears ends the stream
    with ``stats.stopped_reason`` set; what was captured stays.
    """

    def __init__(self, device: str | Path, input_format: str | None = None, sample_fps: float = DEFAULT_SAMPLE_FPS,
                 clock: SessionClock | None = None, max_side_px: int = DEFAULT_MAX_SIDE_PX,
                 replay: bool = False, stall_s: float = CAMERA_STALL_S):
        self.device = str(device)
        self.stall_s = stall_s
        self._heard_s = 0.0  # session time of the camera's latest frame (or of its start)
        self.input_format = input_format
        self.sample_fps = sample_fps
        self.clock = clock or SessionClock()
        self.max_side_px = max_side_px
        self.replay = replay
        self.stats = FrameStats()
        self._latest: VideoFrame | None = None
        self._taken = True
        self._done = threading.Event()
        self._fresh = threading.Condition()
        self._stop = threading.Event()
        self._container = None
        self.reached_until = False  # frames() ended at its ``until_s``, not at the source's own end
        self.holds_no_frames = False  # a replayed file whose video stream holds no frames (``NoVideoFrames``)

    def open(self) -> None:
        """Open the camera now, so a missing one is an error before the session starts (else ``frames`` does)."""
        if self._container is None:
            from runtime.media import picture_stream

            container = self._open()
            if picture_stream(container) is None:  # a microphone or a sound file (with its cover) given as the camera
                container.close()
                raise InputError(self.device, "has no video stream")
            self._container = container

    def frames(self, until_s: float | None = None) -> Iterator[VideoFrame]:
        """The sampled frames, up to ``until_s`` of session time (a session's duration): the first frame at or past
        it ends them, uncounted (``reached_until``)."""
        self.open()
        container, self._container = self._container, None
        reader = threading.Thread(target=self._read, args=(container,), daemon=True)
        self._heard_s = self.clock.now_s()
        reader.start()
        period_s = 1.0 / self.sample_fps
        last_slot = -1
        try:
            while True:
                stalled = False
                with self._fresh:
                    while self._taken and not self._done.is_set() and not self._stop.is_set() and not stalled:
                        self._fresh.wait(timeout=0.5)
                        stalled = self._stalled()
                    if stalled or self._stop.is_set() or (self._taken and self._done.is_set()):
                        break
                    frame, self._taken = self._latest, True
                if frame is None:
                    continue
                slot = _sampling_slot(frame.t_s, period_s)
                if slot <= last_slot:
                    continue
                last_slot = slot
                if until_s is not None and frame.t_s >= until_s:  # counted only where the session keeps it
                    self.reached_until = True
                    break
                self.stats.sampled += 1
                yield frame
        finally:
            self._stop.set()
            reader.join(timeout=2.0)

    def _stalled(self) -> bool:
        """A camera whose read has given nothing for ``stall_s`` is gone (a USB camera hung, its read blocked for
        good): said, its frames end, and its reader is left to end with the process. A replay's reader waits
        on the clock, never on a device."""
        if self.replay or self.clock.now_s() - self._heard_s < self.stall_s:
            return False
        self.stats.stopped_reason = f"camera stalled: no frame for {self.stall_s:g} s"
        log.warning("%s: camera stalled after %d frames (no frame for %g s)", self.device, self.stats.decoded,
                    self.stall_s)
        return True

    def _replay_waited(self, t_s: float) -> bool:
        """Wait until a replayed frame's time; False when the session ended meanwhile. The wait is sliced: after a
        stretch of damaged frames (skipped unseen) the next one may be many seconds away."""
        while not self._stop.is_set() and self.clock.now_s() < t_s:
            self.clock.wait_until(min(t_s, self.clock.now_s() + REPLAY_WAIT_SLICE_S))
        return not self._stop.is_set()

    def stop(self) -> None:
        """End ``frames()`` from another thread (the session is over); frames not yet taken are let go."""
        with self._fresh:
            self._stop.set()
            self._fresh.notify_all()

    def _open(self):
        try:
            if self.replay:
                return av.open(file_url(nonempty_file(self.device)))
            return av.open(self.device, format=self.input_format)
        except (av.error.FFmpegError, ValueError, OSError) as error:
            raise InputError(self.device, f"cannot open camera ({error})") from None

    def _read(self, container: av.container.InputContainer) -> None:
        from runtime.media import StreamDecoder, picture_stream

        period_s = 1.0 / self.sample_fps
        last_slot = -1
        decoder = None
        try:
            with container:
                stream = picture_stream(container)
                if stream is None:
                    raise InputError(self.device, "has no video stream")
                # A replayed file decodes as in file mode (a corrupt packet is a gap); a camera's read errors stop it.
                decoder = StreamDecoder(Path(self.device), container, stream) if self.replay else None
                size = None
                for frame in decoder.frames() if decoder else container.decode(stream):
                    if self._stop.is_set():
                        break
                    self.stats.decoded += 1
                    self._heard_s = self.clock.now_s()
                    stamp_s = decoder.time_s(frame) if self.replay else None
                    if self.replay and not self._replay_waited(stamp_s or 0.0):
                        break
                    # A replayed frame is placed at its own time in the recording, as its audio is by its samples:
                    # the clock read after the wait runs a few ms late, which would carry the tracks past the end.
                    t_s = stamp_s if stamp_s is not None else self.clock.now_s()
                    # Only the first frame in each sampling slot becomes a candidate; the rest were never wanted.
                    slot = _sampling_slot(t_s, period_s)
                    if slot <= last_slot:
                        continue
                    last_slot = slot
                    if size is None:
                        size = displayed_size(frame, stream, self.max_side_px)
                        first_px = (frame.width, frame.height)
                    image = upright(_fitted_rgb(frame, size, first_px), display_turn(frame))
                    with self._fresh:
                        if not self._taken:
                            self.stats.dropped += 1  # the consumer did not keep up: replace, never queue
                        self._latest, self._taken = VideoFrame(round(t_s, 6), image), False
                        self._fresh.notify()
                else:  # read to its end, not stopped: a replayed file cut short says so; a camera should not end
                    self.stats.stopped_reason = (decoder.stopped_reason if decoder
                                                 else _camera_ended(self.device, self.stats))
        except Exception as error:  # the camera (or the file played as one) failed: the frames so far are kept
            if self.replay and isinstance(error, NoVideoFrames):
                # the recording's own: no camera failed, and the session leaves the face and body out (as analyze)
                self.holds_no_frames = True
                self.stats.stopped_reason = NO_VIDEO_FRAMES
                return
            detail = str(error)
            if isinstance(error, InputError):  # the readers' own words (a file cut short): the device is named below
                detail = error.problem
            elif not isinstance(error, av.error.FFmpegError | OSError):
                detail = f"{type(error).__name__}: {detail}"
            self.stats.stopped_reason = f"camera stopped ({detail})"
            log.warning("%s: camera stopped after %d frames (%s)", self.device, self.stats.decoded, detail)
        finally:
            if decoder:  # a replay counts as file mode does, the frames skipped as damaged included
                self.stats.take_counts(decoder)
            with self._fresh:
                self._done.set()
                self._fresh.notify()
