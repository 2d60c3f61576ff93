"""Single-shot detectors of the BlazeFace family (face, pose) and the rotated crops their landmark models read.

Pre- and post-processing are the project's own: letterboxing, the fixed-size anchor grid the card describes,
box and keypoint decoding, non-maximum suppression, and an affine crop aligned with two keypoints.
The model card says the input size, the value range, the anchor layout and the score threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.special import expit

from runtime.models import Model, load_model, reading_settings


@dataclass(frozen=True)
class Detection:
    """A box (x0, y0, x1, y1) and keypoints (k, 2) in image pixels, with a score in [0, 1]."""

    box: np.ndarray
    keypoints: np.ndarray
    score: float

    @property
    def size_px(self) -> float:
        return box_size_px(self.box)

    @property
    def center(self) -> np.ndarray:
        return box_centre(self.box)

    def shifted(self, offset_px: np.ndarray) -> Detection:
        """The same detection in the coordinates of an image whose crop began at ``offset_px`` (x, y)."""
        offset = np.asarray(offset_px, dtype=float)
        return Detection(self.box + np.tile(offset, 2), self.keypoints + offset, self.score)


def box_size_px(box: np.ndarray) -> float:
    """The longer side of a box (x0, y0, x1, y1)."""
    return float(max(box[2] - box[0], box[3] - box[1]))


def box_centre(box: np.ndarray) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def anchor_centres(input_px: int, strides: list[int], anchors_per_layer: int) -> np.ndarray:
    """(n, 2) anchor centres in [0, 1], MediaPipe's SSD layout with fixed-size anchors.

    Consecutive layers with the same stride share one grid, each adding ``anchors_per_layer`` anchors per cell.
    """
    centres = []
    layer = 0
    while layer < len(strides):
        stride = strides[layer]
        repeats = 0
        while layer < len(strides) and strides[layer] == stride:
            repeats += anchors_per_layer
            layer += 1
        cells = int(np.ceil(input_px / stride))
        ys, xs = np.meshgrid((np.arange(cells) + 0.5) / cells, (np.arange(cells) + 0.5) / cells, indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(grid, repeats, axis=0))
    return np.concatenate(centres).astype(np.float32)


def letterbox(image: np.ndarray, size_px: int) -> tuple[np.ndarray, float, np.ndarray]:
    """Resize keeping the aspect ratio and pad to a square; returns the square, the scale and the padding."""
    height, width = image.shape[:2]
    scale = size_px / max(height, width)
    new_w, new_h = max(1, int(round(width * scale))), max(1, int(round(height * scale)))
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA)
    pad = np.array([(size_px - new_w) // 2, (size_px - new_h) // 2])
    square = np.zeros((size_px, size_px, 3), dtype=np.uint8)
    square[pad[1]:pad[1] + new_h, pad[0]:pad[0] + new_w] = resized
    return square, scale, pad


def to_input(image: np.ndarray, value_range: list[float]) -> np.ndarray:
    """uint8 RGB → float32 NHWC in the model's value range (e.g. [-1, 1] or [0, 1])."""
    low, high = value_range
    return (image.astype(np.float32) * ((high - low) / 255.0) + low)[None]


def non_max_suppression(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float,
                        centres_inside: bool = False) -> list[int]:
    """Indices kept, best first. With ``centres_inside``, a box is also the same object as a better one when each
    box's centre lies inside the other (``centres_inside_each_other``), whatever their IoU."""
    order = np.argsort(-scores)
    kept: list[int] = []
    while order.size:
        best = int(order[0])
        kept.append(best)
        rest = order[1:]
        same = box_iou(boxes[best], boxes[rest]) >= iou_threshold
        if centres_inside:
            same |= centres_inside_each_other(boxes[best], boxes[rest])
        order = rest[~same]
    return kept


def centres_inside_each_other(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(n,) whether ``box``'s centre lies inside each of ``boxes`` and each one's centre inside ``box``: two
    finds of one object by different looks, offset by less than half its size. Two objects side by side, or a
    large box around a small one (whose centre lies off the small one), are not."""
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    centre = box_centre(box)
    centres = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], axis=1)

    def inside(points: np.ndarray, x0, y0, x1, y1) -> np.ndarray:
        return (x0 <= points[..., 0]) & (points[..., 0] <= x1) & (y0 <= points[..., 1]) & (points[..., 1] <= y1)

    return inside(centre[None], boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]) & inside(centres, *box)


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], boxes[..., 0])
    y0 = np.maximum(box[1], boxes[..., 1])
    x1 = np.minimum(box[2], boxes[..., 2])
    y1 = np.minimum(box[3], boxes[..., 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


class SsdDetector:
    """A BlazeFace-style detector described by its card: ``input_px``, ``value_range``, ``anchors``, ``keypoints``."""

    def __init__(self, model: str, backend: str = "tflite", min_score: float | None = None):
        self.model: Model = load_model(model, backend=backend)
        extra = self.model.card.extra
        with reading_settings(self.model.card):
            self.input_px = int(extra["input_px"])
            self.value_range = list(extra["value_range"])
            self.n_keypoints = int(extra["keypoints"])
            self.min_score = float(min_score if min_score is not None else extra["min_score"])
            self.iou_threshold = float(extra.get("iou_threshold", 0.3))
            anchors = extra["anchors"]
            self.anchors = anchor_centres(self.input_px, list(anchors["strides"]), int(anchors["per_layer"]))

    def identity(self) -> dict:
        return self.model.identity()

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Detections in ``image`` (RGB uint8) coordinates, best first."""
        square, scale, pad = letterbox(image, self.input_px)
        outputs = self.model.run({"input": to_input(square, self.value_range)})
        regressors, logits = sorted(outputs, key=lambda a: a.shape[-1], reverse=True)[:2]
        regressors = regressors.reshape(len(self.anchors), -1)
        scores = expit(np.clip(logits.reshape(-1), -100, 100))
        candidates = np.nonzero(scores >= self.min_score)[0]
        if candidates.size == 0:
            return []
        raw = regressors[candidates] / self.input_px
        anchors = self.anchors[candidates]
        centre = raw[:, :2] + anchors
        half = raw[:, 2:4] / 2
        boxes = np.concatenate([centre - half, centre + half], axis=1)
        keypoints = raw[:, 4:4 + 2 * self.n_keypoints].reshape(-1, self.n_keypoints, 2) + anchors[:, None, :]
        kept = non_max_suppression(boxes, scores[candidates], self.iou_threshold)
        # Back from the padded square (unit coordinates) to image pixels.
        to_px = self.input_px / scale
        offset = pad / scale
        return [
            Detection(box=boxes[i] * to_px - np.tile(offset, 2), keypoints=keypoints[i] * to_px - offset,
                      score=float(scores[candidates][i]))
            for i in kept
        ]


@dataclass(frozen=True)
class Square:
    """An upright square region of an image: top-left corner and side, in image pixels."""

    x0_px: int
    y0_px: int
    side_px: int


def square_around(centre_px: np.ndarray, side_px: float, width_px: int, height_px: int) -> Square:
    """The square of ``side_px`` centred on ``centre_px``, moved (and shrunk if need be) to lie in the image."""
    side = int(round(min(side_px, width_px, height_px)))
    x0 = int(round(np.clip(centre_px[0] - side / 2, 0, width_px - side)))
    y0 = int(round(np.clip(centre_px[1] - side / 2, 0, height_px - side)))
    return Square(x0, y0, side)


def covering_squares(width_px: int, height_px: int, side_px: int, overlap_px: int) -> list[Square]:
    """Squares of ``side_px`` covering the image, neighbours overlapping by at least ``overlap_px`` (an object
    up to that size lies whole in one of them); none when one square would be the whole image, or no wider than
    the overlap, or wider than the image's shorter side."""
    if side_px >= max(width_px, height_px) or side_px > min(width_px, height_px) or overlap_px >= side_px:
        return []
    x_starts = _spread_starts(width_px, side_px, overlap_px)
    y_starts = _spread_starts(height_px, side_px, overlap_px)
    return [Square(x0, y0, side_px) for y0 in y_starts for x0 in x_starts]


def _spread_starts(length_px: int, side_px: int, overlap_px: int) -> list[int]:
    count = int(np.ceil((length_px - overlap_px) / (side_px - overlap_px)))
    return [int(round(i * (length_px - side_px) / max(count - 1, 1))) for i in range(count)]


def detect_in_square(detector: SsdDetector, image: np.ndarray, square: Square,
                     edge_px: float = 2.0) -> list[Detection]:
    """Detections in one square of ``image``, in image pixels. A box within ``edge_px`` of a side where the
    square cuts the image is left out: it may be part of an object the cut split (the caller's overlap finds
    it whole elsewhere)."""
    height, width = image.shape[:2]
    x0, y0, side = square.x0_px, square.y0_px, square.side_px
    crop = image[y0:y0 + side, x0:x0 + side]
    found = [d.shifted(np.array([x0, y0])) for d in detector.detect(crop)]
    low = np.array([x0 + edge_px if x0 > 0 else -np.inf, y0 + edge_px if y0 > 0 else -np.inf])
    high = np.array([x0 + side - edge_px if x0 + side < width else np.inf,
                     y0 + side - edge_px if y0 + side < height else np.inf])
    return [d for d in found if np.all(d.box[:2] >= low) and np.all(d.box[2:] <= high)]


def merge_detections(detections: list[Detection], iou_threshold: float) -> list[Detection]:
    """One detection per object from several overlapping searches (non-maximum suppression), best first. Two looks
    at one moving object may box it with an IoU under the threshold (0.295 in a frame of a face walking out of
    view): boxes whose centres lie inside each other are one object too."""
    if not detections:
        return []
    kept = non_max_suppression(np.stack([d.box for d in detections]), np.array([d.score for d in detections]),
                               iou_threshold, centres_inside=True)
    return [detections[i] for i in kept]


@dataclass(frozen=True)
class Roi:
    """A square region rotated so that its x-axis follows ``direction`` (a unit vector in image pixels)."""

    centre: np.ndarray
    size_px: float
    direction: np.ndarray

    def corners(self) -> np.ndarray:
        u = self.direction
        v = np.array([-u[1], u[0]])  # 90° clockwise on screen (y grows downward)
        half = self.size_px / 2
        return np.float32([self.centre - half * u - half * v, self.centre + half * u - half * v,
                           self.centre - half * u + half * v])

    def crop_matrix(self, out_px: int) -> np.ndarray:
        """2×3 affine taking image pixels to crop pixels."""
        return cv2.getAffineTransform(self.corners(), np.float32([[0, 0], [out_px, 0], [0, out_px]]))

    def crop(self, image: np.ndarray, out_px: int) -> np.ndarray:
        return cv2.warpAffine(image, self.crop_matrix(out_px), (out_px, out_px), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT)

    def to_image(self, points: np.ndarray, out_px: int) -> np.ndarray:
        """Crop-pixel (x, y[, z]) points back to image pixels; z scales like x."""
        inverse = cv2.invertAffineTransform(self.crop_matrix(out_px))
        xy = points[:, :2] @ inverse[:, :2].T + inverse[:, 2]
        if points.shape[1] == 2:
            return xy
        return np.concatenate([xy, points[:, 2:3] * (self.size_px / out_px)], axis=1)


def roi_from_points(centre: np.ndarray, first: np.ndarray, second: np.ndarray, size_px: float,
                    rotate_deg: float = 0.0) -> Roi:
    """A square ROI whose x-axis runs from ``first`` to ``second`` (then turned by ``rotate_deg``)."""
    direction = np.asarray(second, dtype=float) - np.asarray(first, dtype=float)
    norm = np.linalg.norm(direction)
    direction = direction / norm if norm > 1e-6 else np.array([1.0, 0.0])
    if rotate_deg:
        angle = np.deg2rad(rotate_deg)
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        direction = rotation @ direction
    return Roi(np.asarray(centre, dtype=float), float(size_px), direction)
