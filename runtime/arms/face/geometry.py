"""Face-geometry measurements from the 468-point face mesh, one frame at a time (pure functions).

Distances are divided by the distance between the outer eye corners (interocular), so they do not depend on
how far the person sits from the camera. Angles are in degrees. Point indices are the face mesh's own.
"""

from __future__ import annotations

import numpy as np

# Face-mesh indices (subject's right = image left on an unmirrored camera).
RIGHT_EYE_OUTER, RIGHT_EYE_INNER, RIGHT_EYE_TOP, RIGHT_EYE_BOTTOM = 33, 133, 159, 145
LEFT_EYE_OUTER, LEFT_EYE_INNER, LEFT_EYE_TOP, LEFT_EYE_BOTTOM = 263, 362, 386, 374
RIGHT_BROW, LEFT_BROW = (70, 63, 105, 66, 107), (300, 293, 334, 296, 336)
MOUTH_RIGHT, MOUTH_LEFT, LIP_TOP_INNER, LIP_BOTTOM_INNER = 61, 291, 13, 14
LIP_TOP_OUTER = 0
RIGHT_CHEEK, LEFT_CHEEK, FOREHEAD, CHIN, NOSE_TIP = 234, 454, 10, 152, 1

FRAME_MEASUREMENTS = ("eye_opening", "brow_raise", "mouth_opening", "lip_corner_pull", "mouth_width",
                      "head_yaw_deg", "head_pitch_deg", "head_roll_deg")
GAZE_MEASUREMENTS = ("iris_offset_x", "iris_offset_y", "gaze_yaw_deg", "gaze_pitch_deg")
# The eyeball's radius is about 12 mm and the eye's corner-to-corner width about 30 mm: an iris moved by 0.4 eye
# widths has turned by 90 degrees. An approximation that is the same for everybody; gaze is judged against the
# person's own median, so a fixed error in it cancels.
EYEBALL_RADIUS_EYE_WIDTHS = 0.4
# Below this corner-to-corner eye width the iris model's reading of a moved iris shrinks: on the astronaut scaled
# down, irises moved 3 px each way read -0.10 / +0.09 eye widths at 6 px, only -0.05 / +0.05 at 4 px
# (benchmarks/gaze_check.py).
MIN_EYE_WIDTH_PX = 5.0


def _aligned(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Points rotated so the eye line is horizontal, centred between the eyes, and the interocular distance."""
    right, left = points[RIGHT_EYE_OUTER, :2], points[LEFT_EYE_OUTER, :2]
    axis = left - right
    interocular = float(np.linalg.norm(axis))
    if interocular < 1e-6:
        return points[:, :2] * 0.0, 0.0
    cos, sin = axis / interocular
    rotation = np.array([[cos, sin], [-sin, cos]])
    return (points[:, :2] - (right + left) / 2) @ rotation.T, interocular


def frame_measurements(points: np.ndarray) -> dict[str, float]:
    """Measurements of one face (points (468, 3) in image pixels); NaN where the geometry is degenerate.

    - eye_opening: lid gap over eye width, both eyes averaged (about 0.25–0.35 open, below 0.1 closed)
    - brow_raise: brow (mean of five points) to upper lid, over interocular
    - mouth_opening: inner-lip gap over interocular
    - mouth_width: lip-corner distance over interocular
    - lip_corner_pull: how far the lip corners sit above the upper-lip midpoint, over interocular (a smile
      pulls them up and out: larger)
    - head_yaw_deg / head_pitch_deg / head_roll_deg: from the mesh's own depth (cheek-to-cheek and
      forehead-to-chin vectors) and the eye line; 0 when facing the camera upright
    """
    aligned, interocular = _aligned(points)
    if interocular <= 0:
        return dict.fromkeys(FRAME_MEASUREMENTS, float("nan"))

    def gap(a: int, b: int) -> float:
        return float(np.linalg.norm(aligned[a] - aligned[b]))

    eye_opening = 0.5 * (gap(RIGHT_EYE_TOP, RIGHT_EYE_BOTTOM) / max(gap(RIGHT_EYE_OUTER, RIGHT_EYE_INNER), 1e-6)
                         + gap(LEFT_EYE_TOP, LEFT_EYE_BOTTOM) / max(gap(LEFT_EYE_OUTER, LEFT_EYE_INNER), 1e-6))
    # y grows downward in the aligned frame: "above" is a smaller y.
    brow_y = 0.5 * (aligned[list(RIGHT_BROW), 1].mean() + aligned[list(LEFT_BROW), 1].mean())
    lid_y = 0.5 * (aligned[RIGHT_EYE_TOP, 1] + aligned[LEFT_EYE_TOP, 1])
    corners_y = 0.5 * (aligned[MOUTH_RIGHT, 1] + aligned[MOUTH_LEFT, 1])
    cheek = points[LEFT_CHEEK] - points[RIGHT_CHEEK]
    vertical = points[CHIN] - points[FOREHEAD]
    eye_axis = points[LEFT_EYE_OUTER, :2] - points[RIGHT_EYE_OUTER, :2]
    return {
        "eye_opening": eye_opening,
        "brow_raise": float(lid_y - brow_y) / interocular,
        "mouth_opening": gap(LIP_TOP_INNER, LIP_BOTTOM_INNER) / interocular,
        "mouth_width": gap(MOUTH_RIGHT, MOUTH_LEFT) / interocular,
        "lip_corner_pull": float(aligned[LIP_TOP_OUTER, 1] - corners_y) / interocular,
        "head_yaw_deg": float(np.degrees(np.arctan2(cheek[2], np.hypot(cheek[0], cheek[1])))),
        "head_pitch_deg": float(np.degrees(np.arctan2(-vertical[2], np.hypot(vertical[0], vertical[1])))),
        "head_roll_deg": float(np.degrees(np.arctan2(eye_axis[1], eye_axis[0]))),
    }


def gaze_measurements(points: np.ndarray, iris_centres: np.ndarray,
                      head: dict[str, float] | None = None) -> dict[str, float]:
    """Where the eyes look, from the mesh (468, 3), both iris centres ((2, 2): subject's right, left) and the
    frame's ``frame_measurements`` (computed here when not given).

    - iris_offset_x / iris_offset_y: the iris centre's offset from the midpoint of its eye's corners, along the
      eye line (positive: towards the image's right) and across it (positive: down), in eye widths, both eyes
      averaged; about 0 when looking straight ahead
    - gaze_yaw_deg / gaze_pitch_deg: head yaw/pitch plus the eyes' turn in the head (the offset read on an
      eyeball of EYEBALL_RADIUS_EYE_WIDTHS), signed like the head angles (yaw positive towards the image's right,
      pitch positive up): eyes that keep looking at the camera while the head turns give an unchanged gaze
    """
    offsets = []  # NaN throughout when an eye is too small to read
    for (first, second), centre in zip(((RIGHT_EYE_OUTER, RIGHT_EYE_INNER), (LEFT_EYE_INNER, LEFT_EYE_OUTER)),
                                       iris_centres, strict=True):
        a, b = points[first, :2], points[second, :2]
        width = float(np.linalg.norm(b - a))
        if width < MIN_EYE_WIDTH_PX:
            return dict.fromkeys(GAZE_MEASUREMENTS, float("nan"))
        along = (b - a) / width
        across = np.array([-along[1], along[0]])  # the eye line turned 90 degrees clockwise on screen: down
        offset = np.asarray(centre, dtype=float) - (a + b) / 2
        offsets.append((float(offset @ along) / width, float(offset @ across) / width))
    x, y = np.mean(offsets, axis=0)
    head = head if head is not None else frame_measurements(points)

    def turn_deg(share: float) -> float:
        return float(np.degrees(np.arcsin(np.clip(share / EYEBALL_RADIUS_EYE_WIDTHS, -1.0, 1.0))))

    return {
        "iris_offset_x": float(x),
        "iris_offset_y": float(y),
        "gaze_yaw_deg": head["head_yaw_deg"] + turn_deg(x),
        "gaze_pitch_deg": head["head_pitch_deg"] - turn_deg(y),
    }


def blinks(eye_opening: np.ndarray, times_s: np.ndarray, closed_fraction: float = 0.5) -> np.ndarray:
    """Times at which the eyes close: eye opening falls below ``closed_fraction`` of its session median.

    At 5 frames a second most blinks (100–300 ms) fall between frames: the count is a lower bound.
    """
    valid = np.isfinite(eye_opening)
    if valid.sum() < 3:
        return np.zeros(0)
    closed = np.zeros_like(valid)
    closed[valid] = eye_opening[valid] < closed_fraction * np.median(eye_opening[valid])
    onsets = np.nonzero(closed & ~np.concatenate([[False], closed[:-1]]))[0]
    return times_s[onsets]
