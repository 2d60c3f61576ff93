"""Faces in the frames of a video pass: detection → identity → face mesh → geometry and gaze → expression crop.

The shared pass over a video's frames (``runtime.arms.video.scan``) feeds each frame here; the face arm turns the
observations into windows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from runtime.arms.face.expression import ExpressionModel, face_crop_roi, unreadable_crop
from runtime.arms.face.finding import FaceFinder
from runtime.arms.face.geometry import frame_measurements, gaze_measurements
from runtime.arms.face.iris import IrisLandmarker
from runtime.arms.face.tracking import IdentityTracker
from runtime.arms.video.detect import SsdDetector
from runtime.arms.video.landmarks import CropLandmarker, face_roi
from runtime.sources.video import VideoFrame

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
    unreadable: str = ""  # why its expression was not read from its crop (``unreadable_crop``)

    @property
    def confidence(self) -> float:
        return self.score * self.presence if self.presence >= MIN_LANDMARK_PRESENCE else 0.0


class FaceObserver:
    """Faces in one frame after another, with identities kept across frames."""

    def __init__(self, detector: str = "face-detector", landmarks: str = "face-landmarks",
                 expression: str | None = "face-expression", min_face_px: int = 24, backend: str | None = None,
                 expression_threads: int = 1, iris: str | None = "iris-landmarks", search_every_s: float = 1.0):
        self.detector = SsdDetector(detector)
        self.finder = FaceFinder(self.detector, search_every_s)
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
        """Observations of this frame's people's faces, each with its person number (from 1). A detection that is
        nobody's (person 0 to the tracker: not read by the face mesh and joining no one) is not reported, so no
        reader of the observations has to leave it out. With ``defer_expression`` their ``probs`` stay None and the
        crops wait in ``pending_crops`` for ``fill_expressions`` (the scan runs it beside the next frames' work)."""
        found = self.finder.find(frame.image, frame.t_s, self.tracker.people)
        detections = [d for d in found if d.size_px >= self.min_face_px]
        meshes = [self.landmarker.run(frame.image, face_roi(d, self.landmarker.roi_scale)) for d in detections]
        ids = self.tracker.assign([d.box for d in detections], frame.t_s,
                                  [m.presence >= MIN_LANDMARK_PRESENCE for m in meshes])
        observations, crops = [], []
        for detection, landmarks, person_id in zip(detections, meshes, ids, strict=True):
            if not person_id:
                continue
            observation = FaceObservation(frame.t_s, person_id, detection.score, landmarks.presence,
                                          detection.size_px, box=detection.box)
            if landmarks.presence >= MIN_LANDMARK_PRESENCE:
                observation.measurements = frame_measurements(landmarks.points)
                if self.iris is not None:
                    centres = self.iris.centres(frame.image, landmarks.points)
                    gaze = gaze_measurements(landmarks.points, centres, observation.measurements)
                    observation.measurements.update(gaze)
                if self.expression is not None:
                    crop = self.expression.crop(frame.image, face_crop_roi(landmarks.points, landmarks.roi.direction))
                    observation.unreadable = unreadable_crop(crop)
                    if not observation.unreadable:
                        crops.append((observation, crop))
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
