"""From a session's window features to model inputs and stress probabilities.

The per-subject baseline is the session itself: every measurement is scaled against the session's own
windows with quality > 0 (median/IQR, z-score or rank), so the model sees "higher than this person's usual"
rather than absolute values. Each window also gets its neighbourhood's mean (a centred context of a few
minutes), because stress is a state that lasts minutes, not seconds. Training and the device share this
code; the model card holds the feature names, the scaling and the context lengths.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.special import ndtri

from runtime.track import is_number, json_kind

Z_CLIP = 5.0  # a scaled value beyond this many IQRs is an artefact, not more stress
RANK_CLIP = 0.01  # rank scaling: session ranks kept inside [0.01, 0.99] (normal scores within ±2.33)
SCALINGS = ("median_iqr", "zscore", "rank")


def session_scaled(features: np.ndarray, quality: np.ndarray, scaling: str = "median_iqr") -> np.ndarray:
    """(n, d) features scaled against the session's own windows with quality > 0; missing values at the centre (0).

    ``median_iqr``: (x - median) / IQR; ``zscore``: (x - mean) / sd; both clipped at ±Z_CLIP. ``rank``: the
    normal score of x's mid-rank among the session's values (the share of them below x, ties counted half),
    kept inside [RANK_CLIP, 1 - RANK_CLIP]: insensitive to outliers and to the shape of each person's range.
    """
    features = np.asarray(features, dtype=float)
    return scaled_against(features, features[np.asarray(quality) > 0], scaling)


def scaled_against(features: np.ndarray, usable: np.ndarray, scaling: str) -> np.ndarray:
    """``features`` scaled against the rows of ``usable`` (see ``session_scaled``); all 0 without any."""
    if scaling not in SCALINGS:
        raise ValueError(f"unknown scaling {scaling!r} (known: {', '.join(SCALINGS)})")
    features = np.asarray(features, dtype=float)
    if usable.shape[0] == 0:
        return np.zeros_like(features)
    if scaling == "rank":
        return _rank_scaled(features, usable)
    # An all-missing measurement is expected (centre 0, spread 1 below): a column of 0s here, so that numpy says
    # nothing of its empty slice; silencing that line would take warnings.catch_warnings, not thread-safe.
    missing = np.isnan(usable).all(axis=0)
    usable = np.where(missing, 0.0, usable)
    with np.errstate(all="ignore"):  # infinities; numpy's floating-point state is per thread
        if scaling == "zscore":
            centre, spread = np.nanmean(usable, axis=0), np.nanstd(usable, axis=0)
        else:
            centre = np.nanmedian(usable, axis=0)
            spread = np.nanpercentile(usable, 75, axis=0) - np.nanpercentile(usable, 25, axis=0)
    centre = np.where(np.isfinite(centre), centre, 0.0)  # a missing column, all 0 above: centre 0, spread 1
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


def input_blocks(local_baseline_windows: int) -> int:
    """How many blocks of d inputs a window's row holds: the scaled features and their context, and with a local
    baseline (more than one window) the features less that baseline before them."""
    return 3 if local_baseline_windows > 1 else 2


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

    Windows with quality 0 (no signal read: before a sensor joined, a dropout) take no part in the means, which
    run over the usable windows in order; their own rows are 0 (the model's output for them is not used). Counted
    in, as until 2026-12-07, they were a stretch of "usual" values at the session's edge, which the means repeat
    there: 30 s of the accelerometer alone before the other sensors moved the stress of windows a quarter of an
    hour later.
    """
    scaled = session_scaled(features, quality, scaling)
    inputs = np.zeros((scaled.shape[0], input_blocks(local_baseline_windows) * scaled.shape[1]), dtype=np.float32)
    usable = np.asarray(quality) > 0
    if usable.any():
        inputs[usable] = _inputs_in_order(scaled[usable], max(1, int(context_windows)), int(local_baseline_windows))
    return inputs


def _inputs_in_order(scaled: np.ndarray, context_windows: int, local_baseline_windows: int) -> np.ndarray:
    """The blocks of ``model_inputs`` for consecutive usable windows' scaled features."""
    if input_blocks(local_baseline_windows) == 2:
        context = uniform_filter1d(scaled, size=context_windows, axis=0, mode="nearest")
        return np.hstack([scaled, context])
    local = scaled - uniform_filter1d(scaled, size=local_baseline_windows, axis=0, mode="nearest")
    context = uniform_filter1d(local, size=context_windows, axis=0, mode="nearest")
    return np.hstack([local, scaled, context])


class RunningInputs:
    """The model inputs of a session judged as it goes: a window's row uses that window and those before it.

    ``model_inputs`` looks at the whole session (its scaling, centred context and local baseline); a live
    session has only the past. Here each window is scaled against the usable windows so far (itself included),
    and the context and the local baseline are trailing means over up to ``context_windows`` and
    ``local_baseline_windows`` usable rows (a window of quality 0 takes no part and gets a row of 0s, as in
    ``model_inputs``). Rows are kept, not recomputed: a row never changes once given.
    """

    def __init__(self, context_windows: int, scaling: str = "median_iqr", local_baseline_windows: int = 0) -> None:
        if scaling not in SCALINGS:
            raise ValueError(f"unknown scaling {scaling!r} (known: {', '.join(SCALINGS)})")
        self.context_windows = max(1, int(context_windows))
        self.local_baseline_windows = int(local_baseline_windows)
        self.scaling = scaling
        self._usable: list[np.ndarray] = []
        self._scaled: list[np.ndarray] = []
        self._local: list[np.ndarray] = []

    @property
    def usable_windows(self) -> int:
        """How many windows with quality > 0 the scaling has seen."""
        return len(self._usable)

    def add(self, features: np.ndarray, quality: float) -> np.ndarray:
        """The float32 input row of the next window from its (d,) features and quality."""
        row = np.asarray(features, dtype=float).reshape(1, -1)
        if quality <= 0:  # as in model_inputs: no part in the means, a row of 0s
            return np.zeros(input_blocks(self.local_baseline_windows) * row.shape[1], dtype=np.float32)
        self._usable.append(row[0])
        usable = np.array(self._usable).reshape(len(self._usable), row.shape[1])
        scaled = scaled_against(row, usable, self.scaling)[0]
        self._scaled.append(scaled)
        if input_blocks(self.local_baseline_windows) == 2:
            return np.concatenate([scaled, _trailing_mean(self._scaled, self.context_windows)]).astype(np.float32)
        local = scaled - _trailing_mean(self._scaled, self.local_baseline_windows)
        self._local.append(local)
        return np.concatenate([local, scaled, _trailing_mean(self._local, self.context_windows)]).astype(np.float32)


def running_inputs(
    features: np.ndarray,
    quality: np.ndarray,
    context_windows: int,
    scaling: str = "median_iqr",
    local_baseline_windows: int = 0,
) -> np.ndarray:
    """``model_inputs`` as a live session computes them, window by window (``RunningInputs``)."""
    running = RunningInputs(context_windows, scaling, local_baseline_windows)
    features = np.asarray(features, dtype=float)
    rows = [running.add(row, q) for row, q in zip(features, np.asarray(quality), strict=True)]
    width = input_blocks(local_baseline_windows) * features.shape[1]
    return np.array(rows, dtype=np.float32).reshape(len(rows), width)


def _trailing_mean(rows: list[np.ndarray], size: int) -> np.ndarray:
    return np.mean(rows[-size:], axis=0)


# How a model card's "scope" makes its inputs from a session's window features: over the whole session (a recording
# judged when it ends; the default) or window by window from the past alone (a model trained for live sessions).
INPUT_SCOPES = {"session": model_inputs, "running": running_inputs}


# What a card or training report that does not say a setting gets: the inputs of the first models (1.x).
CARD_DEFAULTS: dict[str, Any] = {"context_windows": 1, "local_baseline_windows": 0, "scaling": "median_iqr",
                                 "scope": "session", "live_baseline_s": 0.0}


def card_setting(settings: Mapping[str, Any], key: str) -> Any:
    """A card's (or training report's) input setting ``key``, or ``CARD_DEFAULTS``'s when it does not say."""
    return settings.get(key, CARD_DEFAULTS[key])


def input_settings_problem(settings: Mapping[str, Any]) -> str:
    """'' when the device can make a model's inputs as a card or training report says (its ``window_s`` and
    ``hop_s`` where given, ``context_windows``, ``local_baseline_windows``, ``scaling``, ``scope``, a live model's
    ``live_baseline_s``, each with its default when absent); else what it cannot."""
    for key in ("window_s", "hop_s"):  # a card's true would be read as 1 s windows, its text end in a traceback
        value = settings.get(key)
        if key in settings and not (is_number(value) and math.isfinite(value) and value > 0):
            return f"{key} {json_kind(value)} is not a positive number of seconds"
    for key, least in (("context_windows", 1), ("local_baseline_windows", 0)):
        value = card_setting(settings, key)
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= least):
            return f"{key} {value!r} is not a whole number of windows (at least {least})"
    for key, known in (("scaling", SCALINGS), ("scope", INPUT_SCOPES)):
        value = card_setting(settings, key)
        if not (isinstance(value, str) and value in known):
            return f"{key} {value!r} is none of {', '.join(known)}"
    value = card_setting(settings, "live_baseline_s")
    if not (is_number(value) and math.isfinite(value) and value >= 0):
        return f"live_baseline_s {json_kind(value)} is not a number of seconds (0 or more)"
    return ""
