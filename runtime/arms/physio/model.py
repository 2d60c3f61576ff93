"""From a session's window features to model inputs and stress probabilities.

The per-subject baseline is the session itself: every measurement is scaled by the session's median and
interquartile range (windows with quality > 0), so the model sees "higher than this person's usual" rather
than absolute values. Each window also gets its neighbourhood's mean (a centred context of a few minutes),
because stress is a state that lasts minutes, not seconds. Training and the device share this code; the
model card holds the feature names and the context length.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.ndimage import uniform_filter1d

Z_CLIP = 5.0  # a scaled value beyond this many IQRs is an artefact, not more stress


def session_scaled(features: np.ndarray, quality: np.ndarray) -> np.ndarray:
    """(n, d) features scaled by the session's own median and IQR; missing values sit at the median (0)."""
    features = np.asarray(features, dtype=float)
    usable = features[np.asarray(quality) > 0]
    if usable.shape[0] == 0:
        return np.zeros_like(features)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing measurement is expected: median 0
        median = np.nanmedian(usable, axis=0)
        spread = np.nanpercentile(usable, 75, axis=0) - np.nanpercentile(usable, 25, axis=0)
    median = np.where(np.isfinite(median), median, 0.0)
    spread = np.where(np.isfinite(spread) & (spread > 1e-9), spread, 1.0)
    scaled = np.clip((features - median) / spread, -Z_CLIP, Z_CLIP)
    return np.nan_to_num(scaled, nan=0.0)


def model_inputs(features: np.ndarray, quality: np.ndarray, context_windows: int) -> np.ndarray:
    """(n, 2d) float32: the scaled features and their centred moving mean over ``context_windows`` windows."""
    scaled = session_scaled(features, quality)
    if scaled.shape[0] == 0:
        return np.zeros((0, 2 * scaled.shape[1]), dtype=np.float32)
    context = uniform_filter1d(scaled, size=max(1, int(context_windows)), axis=0, mode="nearest")
    return np.hstack([scaled, context]).astype(np.float32)
