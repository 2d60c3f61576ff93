"""How well the expression model reads a face the camera saw small: FER-2013 PublicTest faces shrunk and read back.

    python benchmarks/face_size_ua.py ../shared/data/images/fer2013 [--model face-expression]     # about a minute

FER-2013's faces are 48x48 crops. Each is shrunk to a face of N pixels (area-averaged, as a camera's sensor and
the face arm's frame scaling do) and scaled back up to the model's input, as the arm does with the crop of a face
that small (its crop is 1.1 times the face). Per size: UA, macro-F1, accuracy and calibration (ECE) over
PublicTest without its copies of Training images (``held_out_split``). The face arm finds faces down to about
32 px of a 1280-px frame (benchmarks/face_small.py); this says what their expressions are worth.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from export.face.data import FACE_LABELS, held_out_split  # noqa: E402
from export.face.fer_baseline import dataset_probabilities  # noqa: E402
from export.face.metrics import classification_report  # noqa: E402
from runtime.arms.face.expression import CROP_SCALE, ExpressionModel  # noqa: E402
from runtime.errors import InputError  # noqa: E402

FACE_SIZES_PX = (48, 40, 32, 24, 16)


def seen_at(images: np.ndarray, face_px: int) -> np.ndarray:
    """The 48-px crops as a face of ``face_px`` pixels gives them: shrunk to its crop's size, scaled back."""
    crop_px = max(2, int(round(CROP_SCALE * face_px)))
    if crop_px >= images.shape[1]:
        return images
    small = [cv2.resize(image, (crop_px, crop_px), interpolation=cv2.INTER_AREA) for image in images]
    return np.stack([cv2.resize(image, images.shape[1:][::-1], interpolation=cv2.INTER_LINEAR) for image in small])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the FER-2013 folder (Training/, PublicTest/)")
    parser.add_argument("--model", default="face-expression", help="model id or folder")
    parser.add_argument("--cache", type=Path, help="folder for the splits' .npz caches")
    args = parser.parse_args()
    try:
        test, left_out = held_out_split(args.data, "PublicTest", args.cache)
        model = ExpressionModel(args.model)
    except (InputError, OSError) as error:  # a missing split, an unknown model: one line
        raise SystemExit(str(error)) from None
    print(f"{len(test.labels)} PublicTest faces ({left_out} copies of Training images left out), model {args.model}")
    print("| face px | UA | macro-F1 | accuracy | ECE |")
    print("|---|---|---|---|---|")
    for face_px in FACE_SIZES_PX:
        probs = dataset_probabilities(model, seen_at(test.images, face_px))
        report = classification_report(test.labels, probs, FACE_LABELS)
        print(f"| {face_px} | {report['balanced_accuracy']:.3f} | {report['macro_f1']:.3f} | "
              f"{report['accuracy']:.3f} | {report['ece']:.3f} |")


if __name__ == "__main__":
    main()
