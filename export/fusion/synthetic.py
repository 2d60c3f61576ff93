"""Synthetic modality tables and tracks with a known skill, for testing and demonstrating the fusers.

A row of true label y gets logits ``skill * onehot(y) + noise`` over the labels the modality supports, so a
larger ``skill`` is a more accurate (and more confident) model. Nothing here is evidence about real models.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from export.fusion.tables import ProbTable
from runtime.fusion.base import softmax
from runtime.track import CANONICAL_LABELS, Track, Window


def synthetic_probs(targets: np.ndarray, supported: np.ndarray, skill: float,
                    rng: np.random.Generator) -> np.ndarray:
    """(n, 8) probabilities over the supported labels for true labels ``targets``."""
    logits = rng.normal(0.0, 1.0, (len(targets), len(CANONICAL_LABELS)))
    rows = np.flatnonzero(supported[targets])
    logits[rows, targets[rows]] += skill
    logits[:, ~supported] = -np.inf
    return softmax(logits)


def synthetic_table(modality: str, people: Sequence[str], rows_per_label: int, skill: float,
                    unsupported: Sequence[str] = (), seed: int = 0) -> ProbTable:
    rng = np.random.default_rng(seed)
    supported = np.array([label not in unsupported for label in CANONICAL_LABELS])
    labels = np.flatnonzero(supported)
    targets = np.repeat(np.tile(labels, len(people)), rows_per_label)
    persons = np.repeat(np.repeat(list(people), len(labels)), rows_per_label)
    probs = synthetic_probs(targets, supported, skill, rng)
    paths = [f"{modality}/{p}/{i:05d}.x" for i, p in enumerate(persons)]
    return ProbTable(modality, paths, probs, supported, targets, persons)


def synthetic_track(name: str, targets: Sequence[int], skill: float, window_s: float = 2.0,
                    hop_s: float = 0.5,
                    unsupported: Sequence[str] = (), missing: Sequence[int] = (), seed: int = 0) -> Track:
    """A track on a regular grid whose windows speak about ``targets``; ``missing`` windows make no claim."""
    rng = np.random.default_rng(seed)
    supported = np.array([label not in unsupported for label in CANONICAL_LABELS])
    probs = synthetic_probs(np.asarray(targets), supported, skill, rng)
    labels = [label for label in CANONICAL_LABELS if label not in unsupported]
    keep = [CANONICAL_LABELS.index(label) for label in labels]
    windows = []
    for i, row in enumerate(probs):
        start_s = round(i * hop_s, 6)
        if i in set(missing):
            windows.append(Window(start_s, start_s + window_s, None, 0.0, "missing"))
        else:
            windows.append(Window(start_s, start_s + window_s, [float(p) for p in row[keep]], 1.0, ""))
    return Track(name=name, labels=labels, windows=windows, unsupported_labels=list(unsupported),
                 model={"id": f"synthetic-{name}"})
