"""Iris centres from MediaPipe's iris model, read on an eye crop placed by the face mesh's eye corners."""

from __future__ import annotations

import numpy as np

from runtime.arms.face.geometry import LEFT_EYE_INNER, LEFT_EYE_OUTER, RIGHT_EYE_INNER, RIGHT_EYE_OUTER
from runtime.arms.video.detect import roi_from_points, to_input
from runtime.arms.video.landmarks import crop_settings
from runtime.models import Model, load_model, reading_settings

# (first corner, second corner, mirrored): the crop's x-axis runs first -> second. The model knows one eye, with
# its outer corner on the crop's left; the subject's left eye (inner corner on the image's left) is mirrored.
EYES = ((RIGHT_EYE_OUTER, RIGHT_EYE_INNER, False), (LEFT_EYE_INNER, LEFT_EYE_OUTER, True))


class IrisLandmarker:
    """Both iris centres of a face, in image pixels, from its 468 mesh points (card: input_px, roi_scale...)."""

    def __init__(self, model: str = "iris-landmarks", backend: str = "tflite"):
        self.model: Model = load_model(model, backend=backend)
        extra = self.model.card.extra
        with reading_settings(self.model.card):
            self.input_px, self.value_range, self.roi_scale = crop_settings(extra)
            self.iris_values = 3 * int(extra["n_landmarks"])

    def identity(self) -> dict:
        return self.model.identity()

    def centres(self, image: np.ndarray, mesh_points: np.ndarray) -> np.ndarray:
        """(2, 2): the subject's right, then left iris centre (x, y) in image pixels."""
        out = np.zeros((2, 2))
        for row, (first, second, mirrored) in enumerate(EYES):
            a, b = mesh_points[first, :2], mesh_points[second, :2]
            roi = roi_from_points((a + b) / 2, a, b, float(np.linalg.norm(b - a)) * self.roi_scale)
            crop = roi.crop(image, self.input_px)
            if mirrored:
                crop = np.ascontiguousarray(crop[:, ::-1])
            outputs = self.model.run({"input": to_input(crop, self.value_range)})
            iris = next(np.asarray(o).reshape(-1) for o in outputs if np.asarray(o).size == self.iris_values)
            centre = iris[:2].astype(np.float64)
            if mirrored:
                centre[0] = self.input_px - centre[0]
            out[row] = roi.to_image(centre[None], self.input_px)[0]
        return out
