"""One pass over a video's sampled frames that both the face and the body arm read.

The video is decoded once, at one sampling rate (``video_sample_fps``), whichever of the two arms are on. Per
frame: the faces (``runtime.arms.face.observer``) and, when asked, the body pose (``runtime.arms.body.pose``).
The result holds per-frame observations only; each arm turns them into its own windows, so neither arm reads
the other.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from runtime.arms.body.pose import BodyObservation, BodyObserver
from runtime.arms.body.settings import BodySettings
from runtime.arms.face.observer import FaceObservation, FaceObserver
from runtime.arms.face.settings import FaceSettings
from runtime.arms.face.tracking import IdentityTracker
from runtime.arms.registry import reads_beside
from runtime.media import LATE_AUDIO_SAID_S, MediaInfo, NoVideoFrames
from runtime.sources.video import NO_FRAMES, FileVideoSource, FrameStats, VideoFrame
from runtime.track import Track

if TYPE_CHECKING:  # the pipeline imports the arms
    from runtime.pipeline import AnalysisRequest

log = logging.getLogger(__name__)


@dataclass
class VideoScan:
    """Per sampled frame of one video, the faces and the body pose seen; what the face and body arms read."""

    frame_times_s: list[float] = field(default_factory=list)
    faces: list[FaceObservation] = field(default_factory=list)
    bodies: list[BodyObservation] = field(default_factory=list)
    stats: FrameStats = field(default_factory=FrameStats)
    patient_id: int | None = None
    n_people: int = 0
    models: dict[str, dict] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # processing time per stage


def scan_frames(frames: Iterable[VideoFrame], faces: FaceObserver | None, bodies: BodyObserver | None = None,
                stats: FrameStats | None = None,
                on_frame: Callable[[VideoFrame, VideoScan], None] | None = None) -> VideoScan:
    """Run the observers over ``frames`` (None for an arm that is off).

    ``on_frame(frame, scan_so_far)`` runs after each frame (a live session reports from it). Without it (file
    mode) the expression model, the costliest step, runs in a worker thread beside the decoding, detection and
    pose of the following frames; every probability is in place when the scan returns.
    """
    scan = VideoScan()
    seconds = {"decode": 0.0, "face": 0.0, "body": 0.0}
    defer = on_frame is None and faces is not None and faces.expression is not None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="expression") as worker:
        pending: list[Future] = []
        for frame in _timed(frames, seconds):
            scan.frame_times_s.append(frame.t_s)
            frame_faces: list[FaceObservation] = []
            if faces is not None:
                started = time.perf_counter()
                frame_faces = faces.process(frame, defer_expression=defer)
                if defer and faces.pending_crops:
                    pending.append(worker.submit(_timed_fill, faces, faces.take_pending()))
                scan.faces.extend(frame_faces)
                seconds["face"] += time.perf_counter() - started
            if bodies is not None:
                started = time.perf_counter()
                # The body follows whoever is the patient so far, recognised by the face its head is in.
                patient_id = faces.tracker.patient() if faces is not None else None
                people = faces_where_read(frame_faces, faces.tracker) if faces is not None else []
                observation = bodies.process(frame, people, patient_id)
                if observation is not None:
                    scan.bodies.append(observation)
                seconds["body"] += time.perf_counter() - started
            if on_frame is not None:
                if faces is not None:
                    scan.patient_id = faces.tracker.patient()
                on_frame(frame, scan)
        if defer:
            # Worker time overlaps the rest: it is reported apart and not part of "face".
            seconds["expression"] = sum(future.result() for future in pending)
    finished = scan_so_far(scan, faces, bodies, stats)
    finished.seconds = {k: round(v, 3) for k, v in seconds.items()}
    return finished


def scan_so_far(scan: VideoScan, faces: FaceObserver | None, bodies: BodyObserver | None,
                stats: FrameStats | None = None) -> VideoScan:
    """``scan`` as the arms read it, in a copy of its own (a live camera's thread goes on adding to the original):
    with the patient so far, the number of people seen and the models' identities; ``stats``: the camera's
    counts, in place of the scan's own."""
    copied = VideoScan(frame_times_s=list(scan.frame_times_s), faces=list(scan.faces), bodies=list(scan.bodies),
                       stats=stats if stats is not None else scan.stats)
    if faces is not None:
        copied.patient_id = faces.tracker.patient()
        copied.n_people = len(faces.tracker.people)
        copied.models.update(faces.models())
    if bodies is not None:
        copied.models.update(bodies.models())
    return copied


def faces_where_read(frame_faces: list[FaceObservation], tracker: IdentityTracker) -> list[FaceObservation]:
    """This frame's people, each at the box where the face mesh last read their face: what the body arm looks by.

    A detection the mesh did not read that joined a person says they are still in view, not where (as in the
    tracker): a patient turned away is near that box, but a large false box around a distant face has its centre
    far from the face and sides that reach other people's heads.
    """
    return [replace(o, box=tracker.last_read_box(o.person_id)) for o in frame_faces]


def _timed(frames: Iterable[VideoFrame], seconds: dict[str, float]) -> Iterator[VideoFrame]:
    """The frames, with the time spent producing them (decoding) added to ``seconds["decode"]``."""
    iterator = iter(frames)
    while True:
        started = time.perf_counter()
        frame = next(iterator, None)
        seconds["decode"] += time.perf_counter() - started
        if frame is None:
            return
        yield frame


def _timed_fill(faces: FaceObserver, crops: list[tuple[FaceObservation, np.ndarray]]) -> float:
    started = time.perf_counter()
    faces.fill_expressions(crops)
    return time.perf_counter() - started


def video_sample_fps(settings: Mapping[str, Mapping[str, Any]]) -> float:
    """Frames per second the pass samples: ``face.sample_fps`` when the face arm is on (the body arm reads the
    same frames), else ``body.sample_fps``."""
    face = settings.get("face", {})
    if face.get("enabled", False):
        return FaceSettings.from_config(face).sample_fps
    return BodySettings.from_config(settings.get("body", {})).sample_fps


def make_observers(face: FaceSettings | None, body: BodySettings | None = None,
                   backend: str | None = None) -> tuple[FaceObserver | None, BodyObserver | None]:
    """The face and body observers the settings ask for (None for an arm that is off), models loaded."""
    faces = None
    if face is not None:
        faces = FaceObserver(face.detector, face.landmarks, face.model or None, face.min_face_px, backend,
                             face.expression_threads, face.iris or None, face.search_every_s)
    bodies = BodyObserver(body.detector, body.landmarks) if body is not None else None
    return faces, bodies


def scan_video(path: str | Path, face: FaceSettings | None, body: BodySettings | None = None, *,
               sample_fps: float, backend: str | None = None) -> VideoScan:
    """Decode ``path`` once at ``sample_fps`` and run the face and body observers the settings ask for."""
    max_side_px = (face or FaceSettings()).max_side_px
    source = FileVideoSource(path, sample_fps=sample_fps, max_side_px=max_side_px)
    faces, bodies = make_observers(face, body, backend)
    return scan_frames(source.frames(), faces, bodies, source.stats)


def shared_scan(request: AnalysisRequest) -> VideoScan | None:
    """The one scan of this request's video that the face and body arms both read, made by whichever runs first
    and kept in ``request.extras["video_scan"]`` for the other. None where the video stream holds no frames and
    another arm reads the input (its sound): the face and body are lost, not the voice, as a file without a video
    stream loses them, said in one line; with nothing else to read, the ``NoVideoFrames`` error stands."""
    if "video_scan" in request.extras:
        return request.extras["video_scan"]
    face_section = request.settings.get("face", {})
    body_section = request.settings.get("body", {})
    face = FaceSettings.from_config(face_section) if face_section.get("enabled", False) else None
    body = BodySettings.from_config(body_section) if body_section.get("enabled", False) else None
    backend = request.settings.get("runtime", {}).get("backend")
    # Detectors and landmarks run on the backend their cards name; the runtime backend applies to the
    # expression model only when it is not the default.
    try:
        scan = scan_video(request.input_path, face, body, sample_fps=video_sample_fps(request.settings),
                          backend=backend if backend != "onnxruntime" else None)
    except NoVideoFrames as error:
        if not reads_beside("video", request.settings, request.media, request.extras):
            raise
        arms = " and ".join(name for name, wanted in (("face", face), ("body", body)) if wanted)
        request.lost.append((error.problem, f"the {arms}"))
        scan = None
    request.extras["video_scan"] = scan
    if scan is not None:  # said once, and kept for the face and body arms' windows (``request_picture_edges``)
        edges = picture_edges(scan, request.media, video_sample_fps(request.settings))
        request.extras["picture_edges"] = edges
        _say_picture_edges(request.input_path, edges, request.media)
    return scan


def request_picture_edges(request: AnalysisRequest) -> PictureEdges:
    """The picture edges ``shared_scan`` found in this request's video (none before it ran)."""
    return request.extras.get("picture_edges", PictureEdges())


@dataclass(frozen=True)
class PictureEdges:
    """Where a file's picture starts late (``start_s``, its first frame) or ends early (``end_s``, where its last
    frame stops standing: ``picture_edges``), each None where it does not: ``LATE_AUDIO_SAID_S`` or more from the
    file's own start or end, as a sound stream's edges are said."""

    start_s: float | None = None
    end_s: float | None = None


def picture_edges(scan: VideoScan, media: MediaInfo, sample_fps: float) -> PictureEdges:
    """The picture's late start and early end in ``scan`` of the file ``media`` describes, each against the file's
    own start and end; no end for a picture not read to its end (a file cut short: said where it was read to, as
    its own problem). Its last frame lasts as long as the frames before it did (a time-lapse's or slides' frame
    every few seconds), a sampling period at least, or to where the picture stream says it ends, if later."""
    if not scan.frame_times_s:
        return PictureEdges()
    times_s = np.asarray(scan.frame_times_s[-5:], dtype=float)
    held_s = max(1.0 / sample_fps, float(np.median(np.diff(times_s))) if times_s.size > 1 else 0.0)
    first_s, end_s = scan.frame_times_s[0], max(times_s[-1] + held_s, media.video_end_s or 0.0)
    late = first_s - media.start_s >= LATE_AUDIO_SAID_S
    early = not scan.stats.stopped_reason and media.end_s - end_s >= LATE_AUDIO_SAID_S
    return PictureEdges(round(first_s, 3) if late else None, round(end_s, 3) if early else None)


def _say_picture_edges(path: Path, edges: PictureEdges, media: MediaInfo) -> None:
    parts = [f"before the picture starts at {edges.start_s:.1f} s"] if edges.start_s is not None else []
    if edges.end_s is not None:
        parts.append(f"after the picture ends at {edges.end_s:.1f} s, the file's other streams at {media.end_s:.1f} s")
    if parts:
        missing_s = (edges.start_s - media.start_s if edges.start_s is not None else 0.0) + (
            media.end_s - edges.end_s if edges.end_s is not None else 0.0)
        log.warning("%s: no picture for %.1f s (%s); the face and body windows there make no claim", path,
                    missing_s, "; ".join(parts))


def mark_picture_edges(track: Track, edges: PictureEdges) -> Track:
    """``track``'s windows without frames before the picture starts or after it ends say so, not that frames were
    missing (``NO_FRAMES``: a gap, or frames that could not be read)."""
    for window in track.windows:
        if window.reason != NO_FRAMES:
            continue
        if edges.start_s is not None and window.end_s <= edges.start_s:
            window.reason = f"no video frames (before the picture starts at {edges.start_s:.1f} s)"
        elif edges.end_s is not None and window.start_s >= edges.end_s:
            window.reason = f"no video frames (after the picture ends at {edges.end_s:.1f} s)"
    return track


def video_duration_s(scan: VideoScan, media_end_s: float, sample_fps: float, read_to_end: bool = True) -> float:
    """Where the picture ends on the file's clock: where the container says the video ends (``MediaInfo.end_s``:
    after the duration for stamps starting late), or the last sampled frame's time when frames run past it. Only
    without a duration (a raw stream) does the last frame also stand for the sampling period after it: added to a
    known duration, a slow sampling rate would stretch the timeline far past the video (0.01 fps: 40 s to 100 s).
    A picture not read to its end (its source stopped early, ``scan.stats.stopped_reason``: a file cut short or
    unreadable past a point, a camera gone; or ``read_to_end`` false: stopped by its reader) ends where it was read
    to, a sampling period after its last frame, never at a header's length past it: analysed or replayed alike."""
    if not scan.frame_times_s:
        return float(media_end_s)
    read_end_s = scan.frame_times_s[-1] + 1.0 / sample_fps
    end_s = max(media_end_s, scan.frame_times_s[-1]) if media_end_s > 0 else read_end_s
    if not read_to_end or scan.stats.stopped_reason:
        return float(min(end_s, read_end_s))
    return float(end_s)
