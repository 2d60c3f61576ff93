"""Landmark models that read a rotated square crop: the 468-point face mesh and the 33-point body pose."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from runtime.arms.video.detect import Detection, Roi, roi_from_points, to_input
from runtime.errors import InputError
from runtime.models import Model, load_model, reading_settings


@dataclass(frozen=True)
class Landmarks:
    """``points`` (n, 3) in image pixels (z: depth relative to the face/body centre, same scale as x);
    ``visibility`` (n,) in [0, 1] where the model gives it; ``presence`` in [0, 1]; ``roi`` the crop read."""

    points: np.ndarray
    presence: float
    roi: Roi
    visibility: np.ndarray | None = None


PRESENCE_OUTPUTS = ("logit", "probability")


def crop_settings(extra: dict) -> tuple[int, list[float], float]:
    """What a crop-reading model's card says of its input (inside ``reading_settings``): the crop's side in pixels,
    the range its pixel values are scaled to, and the crop's size relative to the region it is placed on."""
    return int(extra["input_px"]), list(extra["value_range"]), float(extra["roi_scale"])


class CropLandmarker:
    """A landmark model described by its card: ``input_px``, ``value_range``, ``roi_scale``, ``n_landmarks``.

    ``presence_output`` says what the model's one-value output is: ``"logit"`` (face mesh) or ``"probability"``
    (BlazePose's pose flag already passed its sigmoid; a second one would squeeze it into [0.5, 0.73] and let an
    empty crop pass a 0.5 threshold).
    """

    def __init__(self, model: str, backend: str = "tflite"):
        self.model: Model = load_model(model, backend=backend)
        extra = self.model.card.extra
        with reading_settings(self.model.card):
            self.input_px, self.value_range, self.roi_scale = crop_settings(extra)
            self.n_landmarks = int(extra["n_landmarks"])
            self.values_per_landmark = int(extra.get("values_per_landmark", 3))
        presence_output = extra.get("presence_output", "logit")
        if presence_output not in PRESENCE_OUTPUTS:
            raise InputError(model, f"card's presence_output {presence_output!r} is not one of {PRESENCE_OUTPUTS}")
        self.presence_is_logit = presence_output == "logit"

    def identity(self) -> dict:
        return self.model.identity()

    def run(self, image: np.ndarray, roi: Roi) -> Landmarks:
        crop = roi.crop(image, self.input_px)
        outputs = self.model.run({"input": to_input(crop, self.value_range)})
        flat = [np.asarray(o).reshape(-1) for o in outputs]
        coords = next(o for o in flat if o.size >= self.n_landmarks * self.values_per_landmark)
        presence = float(next(o for o in flat if o.size == 1)[0])
        values = coords[: self.n_landmarks * self.values_per_landmark].reshape(self.n_landmarks, -1)
        visibility = expit(values[:, 3]) if values.shape[1] >= 4 else None
        points = roi.to_image(values[:, :3].astype(np.float64), self.input_px)
        return Landmarks(points, float(expit(presence)) if self.presence_is_logit else presence, roi, visibility)


def face_roi(detection: Detection, scale: float) -> Roi:
    """The face-mesh crop: the detection box scaled, its x-axis along the eye line (keypoints 0 → 1)."""
    right_eye, left_eye = detection.keypoints[0], detection.keypoints[1]
    return roi_from_points(detection.center, right_eye, left_eye, detection.size_px * scale)


def pose_roi(detection: Detection, scale: float) -> Roi:
    """The pose crop of a detection: from its first two keypoints (``body_roi``)."""
    return body_roi(detection.keypoints[0], detection.keypoints[1], scale)


def body_roi(hips: np.ndarray, scale_point: np.ndarray, scale: float) -> Roi:
    """The pose crop: centred on the hip centre, sized by the body circle (hips → scale point), upright along
    hips → shoulders; from a detection, or from the points the last frame's landmarks gave for this one."""
    radius = float(np.linalg.norm(scale_point - hips))
    # The body axis points from the hips up to the scale point; the crop's x-axis is that turned 90° clockwise.
    return roi_from_points(hips, hips, scale_point, 2 * radius * scale, rotate_deg=90.0)
