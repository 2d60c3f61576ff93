"""Putting a checkpoint's own labels onto the canonical eight, and saying which ones do not fit.

Fine-tuned emotion checkpoints name their classes in many ways ("neu", "Happiness", "生气/angry", "LABEL_3").
Each name is matched by its words against the canonical labels' synonyms (``runtime.track.LABEL_SYNONYMS``, the one
list the manifests use too, a folder's name its whole words alone); a class that matches none ("contempt", "other",
"<unk>", "LABEL_3") is reported as unmapped and its probability mass is dropped, and a canonical label no class maps
to is listed as unsupported rather than faked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from runtime.track import CANONICAL_LABELS, canonical_label


@dataclass(frozen=True)
class LabelMapping:
    """Model class index → canonical label, for the classes that have one."""

    model_labels: tuple[str, ...]
    canonical_of: tuple[str | None, ...]  # per model class: its canonical label, or None

    @property
    def unmapped(self) -> list[str]:
        return [m for m, c in zip(self.model_labels, self.canonical_of, strict=True) if c is None]

    @property
    def supported(self) -> list[str]:
        """Canonical labels some class maps to, in canonical order."""
        present = set(c for c in self.canonical_of if c is not None)
        return [label for label in CANONICAL_LABELS if label in present]

    @property
    def unsupported(self) -> list[str]:
        return [label for label in CANONICAL_LABELS if label not in self.supported]

    def matrix(self, labels: list[str] | None = None) -> np.ndarray:
        """(n_model_classes, len(labels)) 0/1: class k adds to label j (``labels``: default ``supported``)."""
        labels = self.supported if labels is None else labels
        columns = {label: j for j, label in enumerate(labels)}
        out = np.zeros((len(self.model_labels), len(labels)))
        for k, label in enumerate(self.canonical_of):
            if label in columns:
                out[k, columns[label]] = 1.0
        return out

    def to_canonical(self, probs: np.ndarray) -> np.ndarray:
        """(n, n_model_classes) probabilities → (n, len(supported)) over ``supported``, rows summing to 1.

        Classes mapped to the same label add up; mass on unmapped classes is dropped and the rest
        renormalised (a row with all its mass unmapped becomes uniform: no claim among the supported).
        """
        return self.to_canonical_over(probs, self.supported)

    def to_canonical_over(self, probs: np.ndarray, labels: list[str]) -> np.ndarray:
        """As ``to_canonical``, onto given canonical ``labels`` (e.g. one set shared by many outputs)."""
        probs = np.atleast_2d(np.asarray(probs, dtype=np.float64))
        if probs.shape[1] != len(self.model_labels):
            raise ValueError(f"expected {len(self.model_labels)} classes, got {probs.shape[1]}")
        out = probs @ self.matrix(labels)
        totals = out.sum(axis=1, keepdims=True)
        uniform = np.full_like(out, 1.0 / max(len(labels), 1))
        return np.where(totals > 0, out / np.where(totals > 0, totals, 1.0), uniform)

    def report(self) -> dict[str, object]:
        return {
            "model_labels": list(self.model_labels),
            "mapping": {m: c for m, c in zip(self.model_labels, self.canonical_of, strict=True)},
            "unmapped": self.unmapped,
            "unsupported": self.unsupported,
        }


def checkpoint_label(name: str) -> str | None:
    """The canonical label a class name means, or None: the whole name as a label word (``runtime.track``'s
    synonyms, the one list), else the one label its words name. Matches whole words, so 'unhappy' is not 'happy';
    a lone letter, whole ('n': SAVEE's initials are a manifest's shorthand, not a checkpoint's class) or inside a
    name ('n/a'), is no label."""
    if len(name.strip()) <= 1:
        return None
    whole = canonical_label(name)
    if whole is not None:
        return whole
    words = [w for w in re.split(r"[^a-z+]+", name.strip().lower()) if len(w) > 1]
    found = {label for label in map(canonical_label, words) if label is not None}
    return found.pop() if len(found) == 1 else None


def map_labels(model_labels: list[str] | tuple[str, ...] | dict[int, str]) -> LabelMapping:
    """The mapping for a checkpoint's labels (a list in class order, or its ``id2label``)."""
    if isinstance(model_labels, dict):
        model_labels = [model_labels[i] for i in sorted(model_labels, key=int)]
    names = tuple(str(label) for label in model_labels)
    return LabelMapping(names, tuple(checkpoint_label(n) for n in names))
