"""Gaze on a real photograph: the irises moved inside the astronaut's eyes, at several image scales.

    python benchmarks/gaze_check.py

For each scale (the eyes' corner-to-corner width in pixels printed beside it), ``iris_offset_x`` and
``gaze_yaw_deg`` with the irises as photographed and moved 3 px left and right (a patch around each iris pasted
aside, the face unchanged). The figures in docs/face-body.md (section 4) and the 5 px floor of
``runtime.arms.face.geometry.MIN_EYE_WIDTH_PX`` come from this table; it turns that floor off to show why.
"""

from __future__ import annotations

import sys
from pathlib import Path
from unittest import mock

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime.arms.face import geometry  # noqa: E402
from runtime.arms.face.iris import IrisLandmarker  # noqa: E402
from runtime.arms.video.detect import SsdDetector  # noqa: E402
from runtime.arms.video.landmarks import CropLandmarker, face_roi  # noqa: E402
from tests.arms.face.video_factory import astronaut, with_irises_moved  # noqa: E402

SCALES = (1.0, 0.6, 0.4, 0.3, 0.2)
SHIFTS_PX = (-3, 0, 3)


def main() -> None:
    detector, mesh, iris = SsdDetector("face-detector"), CropLandmarker("face-landmarks"), IrisLandmarker()
    photo = astronaut()

    def read(image: np.ndarray) -> tuple[dict, float]:
        points = mesh.run(image, face_roi(detector.detect(image)[0], mesh.roi_scale)).points
        width_px = float(np.linalg.norm(points[geometry.RIGHT_EYE_INNER, :2] - points[geometry.RIGHT_EYE_OUTER, :2]))
        return geometry.gaze_measurements(points, iris.centres(image, points)), width_px

    points = mesh.run(photo, face_roi(detector.detect(photo)[0], mesh.roi_scale)).points
    centres = iris.centres(photo, points)
    print("| scale | eye width px | iris_offset_x (left / as taken / right) | gaze_yaw_deg (left / as taken / right) |")
    print("|---|---|---|---|")
    with mock.patch.object(geometry, "MIN_EYE_WIDTH_PX", 0.0):
        for scale in SCALES:
            rows = [read(cv2.resize(with_irises_moved(photo, centres, shift), None, fx=scale, fy=scale,
                                    interpolation=cv2.INTER_AREA)) for shift in SHIFTS_PX]
            offsets = " / ".join(f"{g['iris_offset_x']:+.3f}" for g, _ in rows)
            yaws = " / ".join(f"{g['gaze_yaw_deg']:+.1f}" for g, _ in rows)
            print(f"| {scale:g} | {rows[1][1]:.1f} | {offsets} | {yaws} |")


if __name__ == "__main__":
    main()
