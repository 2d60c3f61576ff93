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


def session_scaled(features: np.ndarray, quality: np.ndarray, scaling: str = "median_iqr") -> np.ndarray:
    """(n, d) features scaled against the session's own windows with quality > 0; missing values at the centre (0).

    ``median_iqr``: (x - median) / IQR; ``zscore``: (x - mean) / sd. Clipped at ±Z_CLIP either way.
    """
    features = np.asarray(features, dtype=float)
    usable = features[np.asarray(quality) > 0]
    if usable.shape[0] == 0:
        return np.zeros_like(features)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing measurement is expected: centre 0
        if scaling == "zscore":
            centre, spread = np.nanmean(usable, axis=0), np.nanstd(usable, axis=0)
        else:
            centre = np.nanmedian(usable, axis=0)
            spread = np.nanpercentile(usable, 75, axis=0) - np.nanpercentile(usable, 25, axis=0)
    centre = np.where(np.isfinite(centre), centre, 0.0)
    spread = np.where(np.isfinite(spread) & (spread > 1e-9), spread, 1.0)
    return np.nan_to_num(np.clip((features - centre) / spread, -Z_CLIP, Z_CLIP), nan=0.0)


def model_inputs(
    features: np.ndarray,
    quality: np.ndarray,
    context_windows: int,
    scaling: str = "median_iqr",
    local_baseline_windows: int = 0,
) -> np.ndarray:
    """float32 model inputs from a session's window features.

    Without a local baseline: (n, 2d), the scaled features and their centred mean over ``context_windows``.
    With one: (n, 3d), the scaled features minus their centred mean over ``local_baseline_windows`` (the
    slow drift of EDA and skin temperature over a session removed), the scaled features, and that difference
    averaged over ``context_windows``.
    """
    scaled = session_scaled(features, quality, scaling)
    blocks = 3 if local_baseline_windows > 1 else 2
    if scaled.shape[0] == 0:
        return np.zeros((0, blocks * scaled.shape[1]), dtype=np.float32)
    size = max(1, int(context_windows))
    if blocks == 2:
        context = uniform_filter1d(scaled, size=size, axis=0, mode="nearest")
        return np.hstack([scaled, context]).astype(np.float32)
    local = scaled - uniform_filter1d(scaled, size=int(local_baseline_windows), axis=0, mode="nearest")
    context = uniform_filter1d(local, size=size, axis=0, mode="nearest")
    return np.hstack([local, scaled, context]).astype(np.float32)
