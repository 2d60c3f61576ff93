"""The expression model as the face arm sees it: aligned grey face crops in, canonical-label probabilities out.

The card says the crop size (``input_px``), layout (``nchw`` or ``nhwc``), grey-level range
(``value_range``: what 0 and 255 become) and the order of its outputs (``labels``, canonical names).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np

from runtime.arms.video.detect import Roi
from runtime.errors import InputError
from runtime.models import load_card, load_model, reading_settings
from runtime.track import CANONICAL_LABELS

DEFAULT_EXPRESSION_MODEL = "face-expression"
CROP_SCALE = 1.1  # crop side over the face mesh's extent: FER-2013 crops run from forehead to chin
# A face crop darker than this on average, with less spread than FLAT_SPREAD_GREY (of 255), shows too little of the
# face for its expression: a dim room's face at 15 % of its light, with a camera's noise, was read as sad at
# quality 0.72. Faces in FER-2013's PublicTest this dark and flat: 3 of 3,589 (benchmarks/face_dark_share.py).
DARK_MEAN_GREY = 40.0
FLAT_SPREAD_GREY = 20.0
# A crop with less spread than this, at any light, holds no features at all (a blank or covered frame, a face burnt
# out white): a flat grey crop was read as sad at 0.59. FER-2013's faces lit above DARK_MEAN_GREY spread at least 15
# (PublicTest) and 13.8 (Training, but for one blank image).
BLANK_SPREAD_GREY = 5.0


def unreadable_crop(crop: np.ndarray) -> str:
    """Why a grey face crop cannot be read for its expression (too dark and flat: a dim room, a lens half covered;
    or blank at any light); "" when it can."""
    mean, spread = float(crop.mean()), float(crop.std())
    if mean < DARK_MEAN_GREY and spread < FLAT_SPREAD_GREY:
        return f"face too dark to read its expression (mean grey {mean:.0f} of 255)"
    if spread < BLANK_SPREAD_GREY:
        return f"face crop blank, no features to read its expression (spread {spread:.1f} grey of 255)"
    return ""


def face_crop_roi(points: np.ndarray, direction: np.ndarray) -> Roi:
    """A square ROI around the face mesh, upright along the eye line ``direction``."""
    normal = np.array([-direction[1], direction[0]])
    along, across = points[:, :2] @ direction, points[:, :2] @ normal
    centre = direction * (along.max() + along.min()) / 2 + normal * (across.max() + across.min()) / 2
    size_px = CROP_SCALE * max(along.max() - along.min(), across.max() - across.min())
    return Roi(centre, float(size_px), direction)


def at_input(crop: np.ndarray, input_px: int) -> np.ndarray:
    """A grey crop at a model's input side, as ``ExpressionModel.predict`` reads it: resized by pixel area
    (INTER_AREA), or as it is where it has that side."""
    if crop.shape == (input_px, input_px):
        return crop
    return cv2.resize(crop, (input_px, input_px), interpolation=cv2.INTER_AREA)


FACE_TASK = "facial expression from an aligned grey face crop"  # an expression model card's task
ENSEMBLE_TASK = f"{FACE_TASK} (mean of member models)"


class ExpressionModel:
    """One expression model, or the mean of several (a card with ``members``: sub-folders, each a model card).

    Members are averaged in probability space over the same aligned crop, each resized to its own input size;
    averaging models with different errors is a cheap, measured gain (models/face-expression/MODEL_CARD.md).
    """

    def __init__(self, location: str | Path = DEFAULT_EXPRESSION_MODEL, backend: str | None = None,
                 threads: int = 1):
        card = load_card(location)
        card.require_task((FACE_TASK, ENSEMBLE_TASK), "a facial-expression model")
        self.card = card
        self.members = [ExpressionModel(card.folder / name, backend, threads)
                        for name in card.extra.get("members", [])]
        if self.members:
            self.model = None
            self.input_px = max(member.input_px for member in self.members)
        else:
            # Its first output holds one probability per card label, in the card's order: checked at load.
            self.model = load_model(card.folder, backend=backend or card.extra.get("backend", "onnxruntime"),
                                    threads=threads, labels_output=0)
            with reading_settings(card):
                self.input_px = int(card.extra["input_px"])
                self.layout = str(card.extra.get("layout", "nchw"))
                self.value_range = list(card.extra.get("value_range", [0.0, 255.0]))
                self.input_name = str(card.extra.get("input_name", "image"))
        unknown = [label for label in card.labels if label not in CANONICAL_LABELS]
        if unknown:
            raise InputError(card.folder / "card.json", f"labels {unknown} are not canonical")
        for member in self.members:
            if not set(member.labels) <= set(card.labels):
                raise InputError(card.folder / "card.json", f"member {member.card.id} has labels the card lacks")
        # Output order → canonical order.
        self.labels = [label for label in CANONICAL_LABELS if label in card.labels]
        self._order = [card.labels.index(label) for label in self.labels]

    @property
    def unsupported_labels(self) -> list[str]:
        return [label for label in CANONICAL_LABELS if label not in self.labels]

    def identity(self) -> dict:
        if self.members:
            return {**self.card.identity(), "members": [member.identity() for member in self.members]}
        return self.model.identity()

    def crop(self, image: np.ndarray, roi: Roi) -> np.ndarray:
        grey = cv2.cvtColor(roi.crop(image, self.input_px), cv2.COLOR_RGB2GRAY)
        return grey

    @property
    def input_sides_px(self) -> tuple[int, ...]:
        """Every crop side the model reads: its input's, or each of its members' (an ensemble)."""
        if not self.members:
            return (self.input_px,)
        return tuple(sorted({side_px for member in self.members for side_px in member.input_sides_px}))

    def fitted(self, crop: np.ndarray) -> dict[int, np.ndarray]:
        """A grey crop of any size at each side the model reads (``at_input``): all ``predict`` needs of it for the
        same probabilities, a few kB where the crop may be a photograph of megapixels."""
        return {side_px: at_input(crop, side_px) for side_px in self.input_sides_px}

    def predict(self, crops: np.ndarray | Sequence[np.ndarray | Mapping[int, np.ndarray]]) -> np.ndarray:
        """n uint8 grey crops, each (input_px, input_px), of another size (resized, ``at_input``) or ``fitted``
        already → (n, len(labels)) probabilities in canonical order."""
        if len(crops) == 0:
            return np.zeros((0, len(self.labels)))
        if self.members:
            total = np.zeros((len(crops), len(self.labels)))
            for member in self.members:
                columns = [self.labels.index(label) for label in member.labels]
                total[:, columns] += member.predict(crops)
            return total / total.sum(axis=1, keepdims=True)
        crops = np.stack([c[self.input_px] if isinstance(c, Mapping) else at_input(c, self.input_px) for c in crops])
        low, high = self.value_range
        x = crops.astype(np.float32) * ((high - low) / 255.0) + low
        x = x[:, None] if self.layout == "nchw" else x[..., None]
        if self.model.backend.name == "tflite":  # LiteRT models here take one image at a time
            outputs = np.concatenate([self.model.run({self.input_name: x[i:i + 1]})[0] for i in range(len(x))])
        else:
            outputs = self.model.run({self.input_name: x})[0]
        probs = np.clip(np.asarray(outputs, dtype=np.float64)[:, self._order], 0.0, None)
        return probs / np.maximum(probs.sum(axis=1, keepdims=True), 1e-12)
