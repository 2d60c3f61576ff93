"""Body-language measurements from pose landmarks (pure functions over arrays).

Distances are in shoulder widths (the distance between the shoulders in that frame), so they hold at any
distance from the camera; speeds are shoulder widths per second. Definitions are in docs/face-body.md.
"""

from __future__ import annotations

import numpy as np

# BlazePose indices (the person's left/right).
NOSE = 0
HEAD = tuple(range(0, 11))  # nose, eyes, ears, mouth
LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_ELBOW, RIGHT_ELBOW, LEFT_WRIST, RIGHT_WRIST = 11, 12, 13, 14, 15, 16
LEFT_HAND = (15, 17, 19, 21)
RIGHT_HAND = (16, 18, 20, 22)
HANDS = LEFT_HAND + RIGHT_HAND
LEFT_HIP, RIGHT_HIP = 23, 24
TORSO = (11, 12, 23, 24)
UPPER_BODY = tuple(range(0, 25))
GROUPS = {"overall": UPPER_BODY, "head": HEAD, "hands": HANDS, "torso": TORSO}

MIN_VISIBILITY = 0.5
STILL_SPEED = 0.1  # shoulder widths per second: slower than this, the body counts as still
# The least session reference a movement or fidgeting ratio divides by (SW/s): half the still speed, above what a
# still photograph reads (benchmarks/body_still.py: at most 0.011 SW/s in any group and 0.005 fidgeting after its
# first window; 0.039 overall, 0.018 fidgeting in it), so a still session's noise is not read as movement.
MOVEMENT_REFERENCE_FLOOR_SW_PER_S = STILL_SPEED / 2
TOUCH_DISTANCE = 0.25  # shoulder widths: a hand this close to the face or the other arm touches it


def shoulder_width(points: np.ndarray) -> np.ndarray:
    """(n, 33, 3) → (n,) shoulder distance in pixels (x, y only)."""
    return np.linalg.norm(points[:, LEFT_SHOULDER, :2] - points[:, RIGHT_SHOULDER, :2], axis=-1)


def group_speeds(points: np.ndarray, visibility: np.ndarray, times_s: np.ndarray) -> dict[str, np.ndarray]:
    """Mean speed of each point group between consecutive frames, (n - 1,) each; NaN where not visible."""
    scale = np.maximum(shoulder_width(points), 1e-6)
    dt = np.diff(times_s)
    speeds = {}
    for name, index in GROUPS.items():
        idx = list(index)
        step = np.linalg.norm(np.diff(points[:, idx, :2], axis=0), axis=-1)  # (n-1, k) pixels
        seen = (visibility[1:, idx] >= MIN_VISIBILITY) & (visibility[:-1, idx] >= MIN_VISIBILITY)
        mean_scale = 0.5 * (scale[1:] + scale[:-1])
        per_point = np.where(seen, step, np.nan) / mean_scale[:, None] / dt[:, None]
        # a row with nothing seen is NaN, left out of nanmean, which would say so (silencing that takes
        # warnings.catch_warnings: not thread-safe, and the body runs beside the physio threads)
        seen_any = ~np.isnan(per_point).all(axis=1)
        speeds[name] = np.full(per_point.shape[0], np.nan)
        speeds[name][seen_any] = np.nanmean(per_point[seen_any], axis=1)
    return speeds


def fidgeting(points: np.ndarray, visibility: np.ndarray, duration_s: float) -> float:
    """Back-and-forth hand movement: hand path length minus net hand displacement, per second.

    A hand that travels and stays put scores its travel once (path = net); one that jiggles in place scores
    all of its path. In shoulder widths per second; NaN with fewer than three frames.
    """
    if len(points) < 3:
        return float("nan")
    scale = float(np.median(np.maximum(shoulder_width(points), 1e-6)))
    totals = []
    for hand in (LEFT_HAND, RIGHT_HAND):
        idx = list(hand)
        if (visibility[:, idx] < MIN_VISIBILITY).mean() > 0.5:
            continue
        centre = points[:, idx, :2].mean(axis=1)
        path = np.linalg.norm(np.diff(centre, axis=0), axis=-1).sum()
        net = np.linalg.norm(centre[-1] - centre[0])
        totals.append((path - net) / scale)
    return float(np.sum(totals) / max(duration_s, 1e-6)) if totals else float("nan")


def self_touch(points: np.ndarray, visibility: np.ndarray) -> np.ndarray:
    """(n,) True where a hand is within ``TOUCH_DISTANCE`` of the face or of the other forearm/hand."""
    scale = np.maximum(shoulder_width(points), 1e-6)
    touching = np.zeros(len(points), dtype=bool)
    for hand, other in ((LEFT_HAND, (RIGHT_ELBOW,) + RIGHT_HAND), (RIGHT_HAND, (LEFT_ELBOW,) + LEFT_HAND)):
        hand_xy = points[:, list(hand), :2]
        targets = points[:, list(HEAD) + list(other), :2]
        distance = np.linalg.norm(hand_xy[:, :, None, :] - targets[:, None, :, :], axis=-1).min(axis=(1, 2))
        seen = visibility[:, list(hand)].mean(axis=1) >= MIN_VISIBILITY
        touching |= seen & (distance / scale < TOUCH_DISTANCE)
    return touching


def openness(points: np.ndarray) -> np.ndarray:
    """(n,) mean of elbow-to-elbow and wrist-to-wrist distance, in shoulder widths (crossed arms: small)."""
    scale = np.maximum(shoulder_width(points), 1e-6)
    elbows = np.linalg.norm(points[:, LEFT_ELBOW, :2] - points[:, RIGHT_ELBOW, :2], axis=-1)
    wrists = np.linalg.norm(points[:, LEFT_WRIST, :2] - points[:, RIGHT_WRIST, :2], axis=-1)
    return 0.5 * (elbows + wrists) / scale


def head_height(points: np.ndarray) -> np.ndarray:
    """(n,) how far the nose sits above the shoulder line, in shoulder widths (a lowered head: smaller)."""
    shoulders_y = 0.5 * (points[:, LEFT_SHOULDER, 1] + points[:, RIGHT_SHOULDER, 1])
    return (shoulders_y - points[:, NOSE, 1]) / np.maximum(shoulder_width(points), 1e-6)


def sideways_lean_deg(points: np.ndarray) -> np.ndarray:
    """(n,) tilt of the shoulder line from horizontal, degrees (positive: the person's left shoulder lower)."""
    axis = points[:, LEFT_SHOULDER, :2] - points[:, RIGHT_SHOULDER, :2]
    return np.degrees(np.arctan2(axis[:, 1], np.abs(axis[:, 0])))


def movement_reference(session_median_sw_per_s: float) -> float:
    """What a movement or fidgeting ratio divides by: the session median, never below
    ``MOVEMENT_REFERENCE_FLOOR_SW_PER_S`` (a still session's median is noise, 0 included); NaN stays NaN (unknown)."""
    if not np.isfinite(session_median_sw_per_s):
        return float("nan")
    return max(session_median_sw_per_s, MOVEMENT_REFERENCE_FLOOR_SW_PER_S)


def activation(movement_rel: float, fidgeting_rel: float) -> float:
    """Body activation in (0, 1); 0.5 is the session's own typical level.

    ``sigmoid(log2(movement_rel) + 0.5 * log2(fidgeting_rel))``: twice the session's usual overall movement
    reads 0.73, half of it 0.27; fidgeting counts half as much. Ratios are floored at 1/16. NaN when neither
    ratio is known: no movement measured is no evidence of the usual level.
    """
    if not (np.isfinite(movement_rel) or np.isfinite(fidgeting_rel)):
        return float("nan")
    terms = np.log2(max(movement_rel, 1 / 16)) if np.isfinite(movement_rel) else 0.0
    if np.isfinite(fidgeting_rel):
        terms += 0.5 * np.log2(max(fidgeting_rel, 1 / 16))
    return float(1.0 / (1.0 + np.exp(-terms)))
