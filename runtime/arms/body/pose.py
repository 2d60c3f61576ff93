"""Body pose per frame: the person detector finds the body, the pose landmark model reads a rotated crop.

While the pose is found, the next frame's crop comes from this frame's own alignment points (the model's
landmarks 33 and 34: hip centre and body-scale point), so the detector runs only to (re)acquire a person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from runtime.arms.face.detect import SsdDetector, roi_from_points
from runtime.arms.face.landmarks import CropLandmarker, pose_roi
from runtime.sources.video import VideoFrame

MIN_POSE_PRESENCE = 0.5
N_BODY_POINTS = 33  # BlazePose topology; points 33–34 only align the next crop


@dataclass
class BodyObservation:
    t_s: float
    points: np.ndarray  # (33, 3) image pixels; z relative depth, same scale as x
    visibility: np.ndarray  # (33,) in [0, 1]
    presence: float


class BodyObserver:
    def __init__(self, detector: str = "body-pose-detector", landmarks: str = "body-pose-landmarks"):
        self.detector = SsdDetector(detector)
        self.landmarker = CropLandmarker(landmarks)
        self._previous: np.ndarray | None = None  # last frame's alignment points (2, 2)

    def models(self) -> dict[str, dict]:
        return {"pose_detector": self.detector.identity(), "pose_landmarks": self.landmarker.identity()}

    def process(self, frame: VideoFrame) -> BodyObservation | None:
        roi = None
        if self._previous is not None:
            hips, scale_point = self._previous
            radius = float(np.linalg.norm(scale_point - hips))
            roi = roi_from_points(hips, hips, scale_point, 2 * radius * self.landmarker.roi_scale, rotate_deg=90.0)
        else:
            detections = self.detector.detect(frame.image)
            if not detections:
                return None
            # The largest person: in a therapy room, the patient sits nearest the camera.
            best = max(detections, key=lambda d: d.size_px)
            roi = pose_roi(best, self.landmarker.roi_scale)
        landmarks = self.landmarker.run(frame.image, roi)
        upper_visibility = (float(np.mean(landmarks.visibility[:25])) if landmarks.visibility is not None
                            else 1.0)
        # A crop carried over from the last frame can hold no one any more: ask for visible upper-body points.
        if landmarks.presence < MIN_POSE_PRESENCE or upper_visibility < MIN_POSE_PRESENCE:
            self._previous = None
            return None
        self._previous = landmarks.points[N_BODY_POINTS:N_BODY_POINTS + 2, :2].copy()
        visibility = landmarks.visibility if landmarks.visibility is not None else np.ones(len(landmarks.points))
        return BodyObservation(frame.t_s, landmarks.points[:N_BODY_POINTS].copy(),
                               visibility[:N_BODY_POINTS].copy(), landmarks.presence)
