"""The Track: the one data type every arm produces and fusion, the store and the dashboard consume.

A track is a sequence of windows on the session clock. Each window carries probabilities over the
track's labels (or none, when it makes no claim), a quality in [0, 1] with a reason when it is 0,
and named measurements. Tracks round-trip exactly through JSON.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# The canonical label set, in canonical order (RAVDESS's eight emotions).
CANONICAL_LABELS: tuple[str, ...] = (
    "neutral",
    "calm",
    "happy",
    "sad",
    "angry",
    "fearful",
    "disgust",
    "surprised",
)


@dataclass
class Window:
    """One analysis window of a track. ``probs`` follow the track's ``labels`` order."""

    start_s: float
    end_s: float
    probs: list[float] | None = None
    quality: float = 0.0
    reason: str = ""
    measurements: dict[str, float] = field(default_factory=dict)

    @property
    def has_claim(self) -> bool:
        return self.probs is not None and self.quality > 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_s": self.start_s,
            "end_s": self.end_s,
            "probs": None if self.probs is None else list(self.probs),
            "quality": self.quality,
            "reason": self.reason,
            "measurements": {k: _json_number(v) for k, v in self.measurements.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Window:
        probs = data.get("probs")
        return cls(
            start_s=float(data["start_s"]),
            end_s=float(data["end_s"]),
            probs=None if probs is None else [float(p) for p in probs],
            quality=float(data.get("quality", 0.0)),
            reason=str(data.get("reason", "")),
            measurements={k: _number_from_json(v) for k, v in data.get("measurements", {}).items()},
        )


@dataclass
class Track:
    """Windows from one source of evidence (an arm, or fusion) with what produced them."""

    name: str
    labels: list[str] = field(default_factory=lambda: list(CANONICAL_LABELS))
    windows: list[Window] = field(default_factory=list)
    unsupported_labels: list[str] = field(default_factory=list)
    model: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Non-canonical labels (e.g. a physiological "stress") are allowed; canonical ones keep their order.
        canonical = [label for label in self.labels if label in CANONICAL_LABELS]
        if canonical != [label for label in CANONICAL_LABELS if label in canonical]:
            raise ValueError(f"track {self.name!r}: canonical labels must keep the canonical order")

    @property
    def measurement_names(self) -> list[str]:
        names: dict[str, None] = {}
        for window in self.windows:
            names.update(dict.fromkeys(window.measurements))
        return list(names)

    def probs_matrix(self, labels: Sequence[str] = CANONICAL_LABELS) -> np.ndarray:
        """Probabilities as a (n_windows, len(labels)) array; NaN rows where a window has no claim.

        Labels the track does not speak about are 0.
        """
        matrix = np.full((len(self.windows), len(labels)), np.nan)
        index = {label: i for i, label in enumerate(self.labels)}
        for row, window in enumerate(self.windows):
            if window.probs is None:
                continue
            matrix[row] = [window.probs[index[label]] if label in index else 0.0 for label in labels]
        return matrix

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "labels": list(self.labels),
            "unsupported_labels": list(self.unsupported_labels),
            "model": self.model,
            "settings": self.settings,
            "windows": [w.to_dict() for w in self.windows],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Track:
        return cls(
            name=data["name"],
            labels=list(data["labels"]),
            unsupported_labels=list(data.get("unsupported_labels", [])),
            model=dict(data.get("model", {})),
            settings=dict(data.get("settings", {})),
            windows=[Window.from_dict(w) for w in data.get("windows", [])],
        )


def window_grid(duration_s: float, window_s: float, hop_s: float) -> list[tuple[float, float]]:
    """Regular (start_s, end_s) windows covering ``duration_s``; the last one may be shorter.

    A recording shorter than one window still gets one window spanning it.
    """
    if window_s <= 0 or hop_s <= 0:
        raise ValueError("window_s and hop_s must be positive")
    if duration_s <= 0:
        return []
    starts = np.arange(0.0, max(duration_s - window_s, 0.0) + 1e-9, hop_s)
    grid = [(round(float(s), 6), round(float(min(s + window_s, duration_s)), 6)) for s in starts]
    last_end = grid[-1][1]
    if last_end < duration_s - 1e-6:
        start = round(float(starts[-1] + hop_s), 6)
        grid.append((start, round(float(duration_s), 6)))
    return grid


def normalise_probs(values: Iterable[float]) -> list[float]:
    """Probabilities that sum to 1 (uniform when every value is 0)."""
    array = np.clip(np.asarray(list(values), dtype=float), 0.0, None)
    total = array.sum()
    if total <= 0 or not np.isfinite(total):
        return [1.0 / len(array)] * len(array)
    return (array / total).tolist()


def _json_number(value: float) -> float | str | None:
    # JSON has no NaN/Infinity: keep them explicit so the round trip is exact.
    value = float(value)
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _number_from_json(value: float | str | None) -> float:
    if value is None:
        return math.nan
    if value == "inf":
        return math.inf
    if value == "-inf":
        return -math.inf
    return float(value)
