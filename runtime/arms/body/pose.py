"""Body pose per frame: the person detector finds the body, the pose landmark model reads a rotated crop.

While the pose is found, the next frame's crop comes from this frame's own alignment points (the model's
landmarks 33 and 34: hip centre and body-scale point), so the detector runs only to (re)acquire a person. Those
points are smoothed (a one-euro filter, as MediaPipe's pose graph smooths the points its crop comes from), and the
crop is kept while the smoothed points stay within a twentieth of a body radius of it: a crop recomputed from the
raw points shifts with their noise, the shifted crop moves the points, and a still person's pose wanders frame
after frame (0.23-0.33 shoulder widths a second on a still picture, above the 0.1 that counts as still).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from runtime.arms.video.detect import SsdDetector, box_centre, box_size_px
from runtime.arms.video.landmarks import CropLandmarker, body_roi, pose_roi
from runtime.sources.video import VideoFrame

MIN_POSE_PRESENCE = 0.5
N_BODY_POINTS = 33  # BlazePose topology; points 33–34 only align the next crop
# The crop's one-euro filter: its cutoff is CROP_MIN_CUTOFF_HZ at rest, rising by CROP_BETA Hz per body radius a
# second of (smoothed) movement. On a still picture, without the crop held, MediaPipe's beta of 10 left the pose
# drifting at 0.12 shoulder widths a second, 1 at 0.02-0.07; a moving one read alike either way.
CROP_MIN_CUTOFF_HZ = 0.01
CROP_BETA = 1.0
CROP_SPEED_CUTOFF_HZ = 1.0
CROP_HOLD = 0.05  # body radii the smoothed points may stray from the crop before it is cut anew


@dataclass(frozen=True)
class SmoothedPoints:
    """A one-euro filter's state: the smoothed points (k, 2) and their smoothed speed in ``scale``s per second."""

    points: np.ndarray
    speed: np.ndarray
    t_s: float


def smoothing_factor(cutoff_hz: np.ndarray | float, dt_s: float) -> np.ndarray | float:
    """The weight of a new value in an exponential smoother with this cutoff, ``dt_s`` after the last."""
    return 1.0 / (1.0 + 1.0 / (2 * math.pi * np.asarray(cutoff_hz) * dt_s))


def one_euro(previous: SmoothedPoints | None, points: np.ndarray, t_s: float, scale: float,
             min_cutoff_hz: float = CROP_MIN_CUTOFF_HZ, beta: float = CROP_BETA,
             speed_cutoff_hz: float = CROP_SPEED_CUTOFF_HZ) -> SmoothedPoints:
    """``points`` smoothed by a one-euro filter (Casiez et al. 2012): heavily at rest, where their change is
    noise, lightly when they move fast, where lag would lose the object; speed in ``scale`` units (pixels per
    unit) a second, so the filter holds at any distance from the camera. None, or a time not after the last,
    starts afresh."""
    points = np.asarray(points, dtype=float)
    if previous is None or t_s <= previous.t_s:
        return SmoothedPoints(points, np.zeros_like(points), t_s)
    dt_s = t_s - previous.t_s
    speed = (points - previous.points) / max(scale, 1e-6) / dt_s
    speed = previous.speed + smoothing_factor(speed_cutoff_hz, dt_s) * (speed - previous.speed)
    weight = smoothing_factor(min_cutoff_hz + beta * np.abs(speed), dt_s)
    return SmoothedPoints(previous.points + weight * (points - previous.points), speed, t_s)


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


def held_crop_points(crop_points: np.ndarray | None, smoothed: np.ndarray, radius_px: float,
                     hold: float = CROP_HOLD) -> np.ndarray:
    """The points the next crop is cut from: the crop's own while the smoothed points stay within ``hold`` body
    radii of them (the same crop of the same picture gives the same pose: a still person reads as still), else
    the smoothed points."""
    if crop_points is not None and np.linalg.norm(smoothed - crop_points, axis=-1).max() < hold * radius_px:
        return crop_points
    return np.array(smoothed, dtype=float)


class BodyObserver:
    """One person's pose, frame after frame; with the face arm's faces, the person is the patient.

    A pose that is being followed keeps its crop from frame to frame; when the patient's face is in view and
    the pose followed belongs to somebody else's face, or to no face and was never the patient's (taken before
    their face was read), the observer lets go and acquires the body nearest the patient's face. Without faces
    (face arm off), it takes the largest person, as a therapy room's patient usually sits nearest the camera.
    """

    def __init__(self, detector: str = "body-pose-detector", landmarks: str = "body-pose-landmarks"):
        self.detector = SsdDetector(detector)
        self.landmarker = CropLandmarker(landmarks)
        self._smoothed: SmoothedPoints | None = None  # the alignment points (2, 2), smoothed
        self._crop_points: np.ndarray | None = None  # the alignment points the next crop is cut from
        self._person: int | None = None  # whose pose is being followed, once a face has said so

    def models(self) -> dict[str, dict]:
        return {"pose_detector": self.detector.identity(), "pose_landmarks": self.landmarker.identity()}

    def process(self, frame: VideoFrame, faces: Sequence[Any] = (),
                patient_id: int | None = None) -> BodyObservation | None:
        patient_face = next((f for f in faces if f.person_id == patient_id and f.box is not None), None)
        landmarks = self._follow(frame) if self._smoothed is not None else None
        if landmarks is not None and patient_face is not None:
            owner = face_holding(landmarks.points[0, :2], faces)
            # following someone else while the patient is in view: one whose face says so, or one never shown to
            # be the patient (taken before their face was read: someone with their back to the camera)
            if owner != patient_id and (owner is not None or self._person != patient_id):
                landmarks = None
        if landmarks is None:
            self._smoothed, self._crop_points, self._person = None, None, None
            landmarks = self._acquire(frame, patient_face)
        if landmarks is None:
            return None
        alignment = landmarks.points[N_BODY_POINTS:N_BODY_POINTS + 2, :2]
        radius_px = float(np.linalg.norm(alignment[1] - alignment[0]))
        self._smoothed = one_euro(self._smoothed, alignment, frame.t_s, radius_px)
        self._crop_points = held_crop_points(self._crop_points, self._smoothed.points, radius_px)
        owner = face_holding(landmarks.points[0, :2], faces)
        if owner is not None:
            self._person = owner
        visibility = landmarks.visibility if landmarks.visibility is not None else np.ones(len(landmarks.points))
        return BodyObservation(frame.t_s, landmarks.points[:N_BODY_POINTS].copy(),
                               visibility[:N_BODY_POINTS].copy(), landmarks.presence, self._person)

    def _follow(self, frame: VideoFrame):
        hips, scale_point = self._crop_points
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
