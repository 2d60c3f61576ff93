"""``emotrace face classify``: one expression per image, with probabilities, to CSV.

Photographs go through detection and the face mesh (the largest face is classified); ``cropped=True`` takes
each image as an already aligned face crop (e.g. FER-2013's 48×48 images) and skips detection.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import cv2
import numpy as np

from runtime.arms.face.expression import DEFAULT_EXPRESSION_MODEL, ExpressionModel, face_crop_roi
from runtime.errors import InputError
from runtime.files import check_output_file, find_files
from runtime.timeline import write_atomically

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}


def image_paths(paths: list[Path]) -> list[Path]:
    return find_files(paths, IMAGE_SUFFIXES, "images")


def read_rgb(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(path, "not a readable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def classify_paths(paths: list[Path], csv_path: Path, model: str | None = None, cropped: bool = False) -> int:
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
    for path in files:
        crop = _crop(read_rgb(path), expression, detector, landmarker)
        if crop is None:
            writer.writerow([str(path), "", *[""] * len(expression.labels)])
            continue
        probs = expression.predict(crop[None])[0]
        writer.writerow([str(path), expression.labels[int(np.argmax(probs))], *[f"{p:.6f}" for p in probs]])
    write_atomically(Path(csv_path), buffer.getvalue().encode())
    return len(files)


def _crop(image: np.ndarray, expression: ExpressionModel, detector, landmarker) -> np.ndarray | None:
    if detector is None:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    from runtime.arms.face.landmarks import face_roi

    detections = detector.detect(image)
    if not detections:
        return None
    largest = max(detections, key=lambda d: d.size_px)
    landmarks = landmarker.run(image, face_roi(largest, landmarker.roi_scale))
    if landmarks.presence < 0.5:
        return None
    return expression.crop(image, face_crop_roi(landmarks.points, landmarks.roi.direction))
