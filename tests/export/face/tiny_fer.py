"""What the face training-host tests share: a tiny FER-2013-shaped folder they make, and the header of FER+'s
label file."""

from pathlib import Path

import cv2
import numpy as np

from export.face.data import FER_CLASS_TO_LABEL


def write_fer(root: Path, images_per_class: dict[str, int]) -> Path:
    """A FER-2013-shaped folder (split/class/<row>.png) whose classes differ in brightness, so that a CNN learns
    them in a few steps; rows are numbered across splits, zero-padded (00000.png)."""
    rng = np.random.default_rng(0)
    index = 0
    for split, count in images_per_class.items():
        for level, name in enumerate(sorted(FER_CLASS_TO_LABEL)):
            (root / split / name).mkdir(parents=True)
            for _ in range(count):
                image = np.clip(rng.normal(30 + 30 * level, 8, (48, 48)), 0, 255).astype(np.uint8)
                cv2.imwrite(str(root / split / name / f"{index:05d}.png"), image)
                index += 1
    return root


def write_labels_csv(root: Path, rows: int) -> None:
    """FER-2013's labels.csv for ``rows`` Training rows (the row order FER+ votes are matched by)."""
    (root / "labels.csv").write_text("index,usage,emotion,label,pixel_source\n" + "".join(
        f"{i},Training,0,angry,original\n" for i in range(rows)))


FERPLUS_HEADER = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n"
