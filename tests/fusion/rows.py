"""Rows of probabilities over the canonical labels as the fusion rules take them: a label's column (L), which labels
a modality supports (ALL, NO_CALM), a row leaning to one label, and the fusion input of such rows."""

from __future__ import annotations

import numpy as np

from runtime.fusion.align import FusionInput
from runtime.track import CANONICAL_LABELS

L = {label: i for i, label in enumerate(CANONICAL_LABELS)}
ALL = np.ones(8, dtype=bool)
NO_CALM = np.array([label != "calm" for label in CANONICAL_LABELS])


def one_hotish(label: str, p: float, supported: np.ndarray = ALL) -> np.ndarray:
    row = np.where(supported, (1 - p) / (supported.sum() - 1), 0.0)
    row[L[label]] = p
    return row


def inputs(
    rows: list[list[np.ndarray]],
    quality: list[list[float]] | None = None,
    supported: list[np.ndarray] | None = None,
) -> FusionInput:
    probs = np.array(rows, dtype=float)
    m = probs.shape[1]
    q = np.ones(probs.shape[:2]) if quality is None else np.array(quality, dtype=float)
    return FusionInput(["audio", "face"][:m], probs, q, np.stack(supported or [ALL] * m))
