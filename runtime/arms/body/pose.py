"""Body pose per frame: the person detector finds the body, the pose landmark model reads a rotated crop.

While the pose is found, the next frame's crop comes from this frame's own alignment points (the model's
landmarks 33 and 34: hip centre and body-scale point), so the detector runs only to (re)acquire a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from runtime.arms.video.detect import SsdDetector, box_centre, box_size_px
from runtime.arms.video.landmarks import CropLandmarker, body_roi, pose_roi
from runtime.sources.video import VideoFrame

MIN_POSE_PRESENCE = 0.5
N_BODY_POINTS = 33  # BlazePose topology; points 33–34 only align the next crop


@dataclass
class BodyObservation:
    t_s: float
    points: np.ndarray  # (33, 3) image pixels; z relative depth, same scale as x
    visibility: np.ndarray  # (33,) in [0, 1]
    presence: float
    person_id: int | None = None  # the face arm's person whose face holds this pose's nose; None if not known


def face_holding(point: np.ndarray, faces: Sequence[Any], margin: float = 0.25) -> int | None:
    """The person id of the face box (grown by ``margin`` of its size on each side) holding ``point``.

    ``faces`` are the face arm's observations of the same frame (``FaceObservation``: ``box``, ``person_id``).
    When several boxes hold the point, the one whose centre is nearest wins. (A detection that is nobody's is
    never among them: the face observer does not report it.)
    """
    best, best_distance = None, np.inf
    for face in faces:
        if face.box is None:
            continue
        x0, y0, x1, y1 = face.box
        grow = margin * box_size_px(face.box)
        if x0 - grow <= point[0] <= x1 + grow and y0 - grow <= point[1] <= y1 + grow:
            distance = float(np.linalg.norm(np.asarray(point[:2]) - box_centre(face.box)))
            if distance < best_distance:
                best, best_distance = face.person_id, distance
    return best


class BodyObserver:
    """One person's pose, frame after frame; with the face arm's faces, the person is the patient.

    A pose that is being followed keeps its crop from frame to frame; when the patient's face is in view and
    the pose followed belongs to somebody else's face, the observer lets go and acquires the body nearest the
    patient's face. Without faces (face arm off), it takes the largest person, as a therapy room's patient
    usually sits nearest the camera.
    """

    def __init__(self, detector: str = "body-pose-detector", landmarks: str = "body-pose-landmarks"):
        self.detector = SsdDetector(detector)
        self.landmarker = CropLandmarker(landmarks)
        self._previous: np.ndarray | None = None  # last frame's alignment points (2, 2)
        self._person: int | None = None  # whose pose is being followed, once a face has said so

    def models(self) -> dict[str, dict]:
        return {"pose_detector": self.detector.identity(), "pose_landmarks": self.landmarker.identity()}

    def process(self, frame: VideoFrame, faces: Sequence[Any] = (),
                patient_id: int | None = None) -> BodyObservation | None:
        patient_face = next((f for f in faces if f.person_id == patient_id and f.box is not None), None)
        landmarks = self._follow(frame) if self._previous is not None else None
        if landmarks is not None and patient_face is not None:
            owner = face_holding(landmarks.points[0, :2], faces)
            if owner is not None and owner != patient_id:
                landmarks = None  # following someone else while the patient is in view
        if landmarks is None:
            self._previous, self._person = None, None
            landmarks = self._acquire(frame, patient_face)
        if landmarks is None:
            return None
        self._previous = landmarks.points[N_BODY_POINTS:N_BODY_POINTS + 2, :2].copy()
        owner = face_holding(landmarks.points[0, :2], faces)
        if owner is not None:
            self._person = owner
        visibility = landmarks.visibility if landmarks.visibility is not None else np.ones(len(landmarks.points))
        return BodyObservation(frame.t_s, landmarks.points[:N_BODY_POINTS].copy(),
                               visibility[:N_BODY_POINTS].copy(), landmarks.presence, self._person)

    def _follow(self, frame: VideoFrame):
        hips, scale_point = self._previous
        return self._landmarks_if_present(frame, body_roi(hips, scale_point, self.landmarker.roi_scale))

    def _acquire(self, frame: VideoFrame, patient_face: Any | None):
        detections = self.detector.detect(frame.image)
        if not detections:
            return None
        if patient_face is not None:
            face_centre = (patient_face.box[:2] + patient_face.box[2:]) / 2
            best = min(detections, key=lambda d: float(np.linalg.norm(d.center - face_centre)))
        else:
            best = max(detections, key=lambda d: d.size_px)
        return self._landmarks_if_present(frame, pose_roi(best, self.landmarker.roi_scale))

    def _landmarks_if_present(self, frame: VideoFrame, roi):
        landmarks = self.landmarker.run(frame.image, roi)
        upper_visibility = (float(np.mean(landmarks.visibility[:25])) if landmarks.visibility is not None
                            else 1.0)
        # A crop carried over from the last frame can hold no one any more: ask for visible upper-body points.
        if landmarks.presence < MIN_POSE_PRESENCE or upper_visibility < MIN_POSE_PRESENCE:
            return None
        return landmarks
