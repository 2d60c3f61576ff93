"""``emotrace face classify``: one expression per image, with probabilities, to CSV.

Photographs go through detection and the face mesh (the largest face is classified); ``cropped=True`` takes
each image as an already aligned face crop (e.g. FER-2013's 48×48 images) and skips detection. As in the face
arm, a face (or a crop) under ``min_face_px`` on its shorter side is too small to read: its row is left empty.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import cv2
import numpy as np

from runtime.arms.face.arm import FaceSettings
from runtime.arms.face.expression import DEFAULT_EXPRESSION_MODEL, ExpressionModel, face_crop_roi
from runtime.errors import InputError
from runtime.files import check_output_file, find_files
from runtime.timeline import write_atomically

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}

log = logging.getLogger(__name__)


def image_paths(paths: list[Path]) -> list[Path]:
    return find_files(paths, IMAGE_SUFFIXES, "images")


def read_rgb(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(path, "not a readable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def classify_paths(paths: list[Path], csv_path: Path, model: str | None = None, cropped: bool = False,
                   min_face_px: int = FaceSettings.min_face_px) -> int:
    """Write ``path,emotion,<probability per label>`` rows; an image without a face gets an empty emotion."""
    expression = ExpressionModel(model or DEFAULT_EXPRESSION_MODEL)
    files = image_paths(paths)
    check_output_file(csv_path, files)
    detector = landmarker = None
    if not cropped:
        from runtime.arms.face.detect import SsdDetector
        from runtime.arms.face.landmarks import CropLandmarker

        detector, landmarker = SsdDetector("face-detector"), CropLandmarker("face-landmarks")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["path", "emotion", *expression.labels])
    too_small = 0
    for path in files:
        image = read_rgb(path)
        if cropped and min(image.shape[:2]) < min_face_px:
            too_small += 1
            crop = None
        else:
            crop = _crop(image, expression, detector, landmarker, min_face_px)
        if crop is None:
            writer.writerow([str(path), "", *[""] * len(expression.labels)])
            continue
        probs = expression.predict(crop[None])[0]
        writer.writerow([str(path), expression.labels[int(np.argmax(probs))], *[f"{p:.6f}" for p in probs]])
    if too_small:
        log.warning("%d face crop(s) under %d px on a side left unclassified (empty emotion)", too_small,
                    min_face_px)
    write_atomically(Path(csv_path), buffer.getvalue().encode())
    return len(files)


def _crop(image: np.ndarray, expression: ExpressionModel, detector, landmarker,
          min_face_px: int) -> np.ndarray | None:
    if detector is None:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    from runtime.arms.face.landmarks import face_roi

    detections = [d for d in detector.detect(image) if d.size_px >= min_face_px]
    if not detections:
        return None
    largest = max(detections, key=lambda d: d.size_px)
    landmarks = landmarker.run(image, face_roi(largest, landmarker.roi_scale))
    if landmarks.presence < 0.5:
        return None
    return expression.crop(image, face_crop_roi(landmarks.points, landmarks.roi.direction))
