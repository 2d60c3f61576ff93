"""Poses the body tests give the body arm: a seated upper body, facing the camera."""

from __future__ import annotations

import numpy as np

from runtime.arms.body import measures


def seated_pose(n: int) -> tuple[np.ndarray, np.ndarray]:
    """A front-facing upper body, shoulders 100 px apart, arms down; (n, 33, 3) points and visibility."""
    points = np.zeros((33, 3))
    points[list(measures.HEAD), :2] = [200, 100]
    points[measures.LEFT_SHOULDER, :2], points[measures.RIGHT_SHOULDER, :2] = [250, 200], [150, 200]
    points[measures.LEFT_ELBOW, :2], points[measures.RIGHT_ELBOW, :2] = [270, 300], [130, 300]
    points[list(measures.LEFT_HAND), :2], points[list(measures.RIGHT_HAND), :2] = [280, 390], [120, 390]
    points[measures.LEFT_HIP, :2], points[measures.RIGHT_HIP, :2] = [235, 400], [165, 400]
    return np.repeat(points[None], n, axis=0), np.ones((n, 33))
