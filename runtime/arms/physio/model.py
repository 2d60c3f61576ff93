"""From a session's window features to model inputs and stress probabilities.

The per-subject baseline is the session itself: every measurement is scaled against the session's own
windows with quality > 0 (median/IQR, z-score or rank), so the model sees "higher than this person's usual"
rather than absolute values. Each window also gets its neighbourhood's mean (a centred context of a few
minutes), because stress is a state that lasts minutes, not seconds. Training and the device share this
code; the model card holds the feature names, the scaling and the context lengths.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.special import ndtri

Z_CLIP = 5.0  # a scaled value beyond this many IQRs is an artefact, not more stress
RANK_CLIP = 0.01  # rank scaling: session ranks kept inside [0.01, 0.99] (normal scores within ±2.33)
SCALINGS = ("median_iqr", "zscore", "rank")


def session_scaled(features: np.ndarray, quality: np.ndarray, scaling: str = "median_iqr") -> np.ndarray:
    """(n, d) features scaled against the session's own windows with quality > 0; missing values at the centre (0).

    ``median_iqr``: (x - median) / IQR; ``zscore``: (x - mean) / sd; both clipped at ±Z_CLIP. ``rank``: the
    normal score of x's mid-rank among the session's values (the share of them below x, ties counted half),
    kept inside [RANK_CLIP, 1 - RANK_CLIP]: insensitive to outliers and to the shape of each person's range.
    """
    if scaling not in SCALINGS:
        raise ValueError(f"unknown scaling {scaling!r} (known: {', '.join(SCALINGS)})")
    features = np.asarray(features, dtype=float)
    usable = features[np.asarray(quality) > 0]
    if usable.shape[0] == 0:
        return np.zeros_like(features)
    if scaling == "rank":
        return _rank_scaled(features, usable)
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


def _rank_scaled(features: np.ndarray, usable: np.ndarray) -> np.ndarray:
    out = np.zeros_like(features)
    for j in range(features.shape[1]):
        reference = np.sort(usable[:, j][np.isfinite(usable[:, j])])
        if reference.size == 0:
            continue
        column = features[:, j]
        below = np.searchsorted(reference, column, side="left")
        at_or_below = np.searchsorted(reference, column, side="right")
        share = (below + at_or_below) / (2.0 * reference.size)
        score = ndtri(np.clip(share, RANK_CLIP, 1.0 - RANK_CLIP))
        out[:, j] = np.where(np.isfinite(column), score, 0.0)
    return out


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
