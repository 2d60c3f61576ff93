"""One pass over a video's sampled frames that both the face and the body arm read.

Per frame: faces (detection → identity → face mesh → geometry → expression crop) and, when asked, the body
pose. The result holds per-frame observations only; the arms turn them into windows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from runtime.arms.face.detect import SsdDetector
from runtime.arms.face.expression import ExpressionModel, face_crop_roi
from runtime.arms.face.geometry import frame_measurements, gaze_measurements
from runtime.arms.face.iris import IrisLandmarker
from runtime.arms.face.landmarks import CropLandmarker, face_roi
from runtime.arms.face.tracking import IdentityTracker
from runtime.sources.video import FrameStats, VideoFrame

log = logging.getLogger(__name__)

MIN_LANDMARK_PRESENCE = 0.5


@dataclass
class FaceObservation:
    t_s: float
    person_id: int
    score: float  # detection confidence
    presence: float  # face-mesh face-presence confidence
    size_px: float
    measurements: dict[str, float] = field(default_factory=dict)
    probs: np.ndarray | None = None
    box: np.ndarray | None = None  # (x0, y0, x1, y1) image pixels

    @property
    def confidence(self) -> float:
        return self.score * self.presence if self.presence >= MIN_LANDMARK_PRESENCE else 0.0


@dataclass
class VideoScan:
    frame_times_s: list[float] = field(default_factory=list)
    faces: list[FaceObservation] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)  # runtime.arms.body.pose.BodyObservation
    stats: FrameStats = field(default_factory=FrameStats)
    patient_id: int | None = None
    n_people: int = 0
    models: dict[str, dict] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # processing time per stage


class FaceObserver:
    """Faces in one frame after another, with identities kept across frames."""

    def __init__(self, detector: str = "face-detector", landmarks: str = "face-landmarks",
                 expression: str | None = "face-expression", min_face_px: int = 24, backend: str | None = None,
                 expression_threads: int = 1, iris: str | None = "iris-landmarks"):
        self.detector = SsdDetector(detector)
        self.landmarker = CropLandmarker(landmarks)
        self.iris = IrisLandmarker(iris) if iris else None
        self.expression = ExpressionModel(expression, backend, expression_threads) if expression else None
        self.min_face_px = min_face_px
        self.tracker = IdentityTracker()
        self.pending_crops: list[tuple[FaceObservation, np.ndarray]] = []

    def models(self) -> dict[str, dict]:
        found = {"face_detector": self.detector.identity(), "face_landmarks": self.landmarker.identity()}
        if self.iris is not None:
            found["iris_landmarks"] = self.iris.identity()
        if self.expression is not None:
            found["expression"] = self.expression.identity()
        return found

    def process(self, frame: VideoFrame, defer_expression: bool = False) -> list[FaceObservation]:
        """Observations of this frame's faces. With ``defer_expression`` their ``probs`` stay None and the crops
        wait in ``pending_crops`` for ``fill_expressions`` (the scan runs it beside the next frames' work)."""
        detections = [d for d in self.detector.detect(frame.image) if d.size_px >= self.min_face_px]
        ids = self.tracker.assign([d.box for d in detections], frame.t_s)
        observations, crops = [], []
        for detection, person_id in zip(detections, ids, strict=True):
            landmarks = self.landmarker.run(frame.image, face_roi(detection, self.landmarker.roi_scale))
            observation = FaceObservation(frame.t_s, person_id, detection.score, landmarks.presence,
                                          detection.size_px, box=detection.box)
            if landmarks.presence >= MIN_LANDMARK_PRESENCE:
                observation.measurements = frame_measurements(landmarks.points)
                if self.iris is not None:
                    centres = self.iris.centres(frame.image, landmarks.points)
                    gaze = gaze_measurements(landmarks.points, centres, observation.measurements)
                    observation.measurements.update(gaze)
                if self.expression is not None:
                    roi = face_crop_roi(landmarks.points, landmarks.roi.direction)
                    crops.append((observation, self.expression.crop(frame.image, roi)))
            observations.append(observation)
        if defer_expression:
            self.pending_crops.extend(crops)
        else:
            self.fill_expressions(crops)
        return observations

    def take_pending(self) -> list[tuple[FaceObservation, np.ndarray]]:
        taken, self.pending_crops = self.pending_crops, []
        return taken

    def fill_expressions(self, crops: list[tuple[FaceObservation, np.ndarray]]) -> None:
        """Each observation's expression probabilities from its aligned crop."""
        if crops:
            probs = self.expression.predict(np.stack([c for _, c in crops]))
            for (observation, _), row in zip(crops, probs, strict=True):
                observation.probs = row


def scan_frames(frames: Iterable[VideoFrame], faces: FaceObserver | None, bodies=None,
                stats: FrameStats | None = None,
                on_frame: Callable[[VideoFrame, VideoScan], None] | None = None) -> VideoScan:
    """Run the observers over ``frames``; ``bodies`` is a ``runtime.arms.body.pose.BodyObserver`` or None.

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
                observation = bodies.process(frame, frame_faces, patient_id)
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
    if stats is not None:
        scan.stats = stats
    if faces is not None:
        scan.patient_id = faces.tracker.patient()
        scan.n_people = len(faces.tracker.people)
        scan.models.update(faces.models())
    if bodies is not None:
        scan.models.update(bodies.models())
    scan.seconds = {k: round(v, 3) for k, v in seconds.items()}
    return scan


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
