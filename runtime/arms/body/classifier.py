"""A body-language classifier trained on the user's own labelled segments (``emotrace train body``).

The card lists the window measurements it reads (``features``), in order, and the value that stands in for
a measurement a window lacks (``fill``); the ONNX graph standardises and applies a softmax regression.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from runtime.models import load_card, load_model, reading_settings


class BodyClassifier:
    def __init__(self, location: str | Path, backend: str = "onnxruntime"):
        self.card = load_card(location)
        self.model = load_model(self.card.folder, backend=backend, labels_output=0)
        with reading_settings(self.card):
            self.features = list(self.card.extra["features"])
            self.fill = np.asarray(self.card.extra["fill"], dtype=np.float32)
            if self.fill.shape != (len(self.features),):
                raise ValueError(f"'fill' holds {self.fill.size} values for {len(self.features)} features")

    @property
    def labels(self) -> list[str]:
        return list(self.card.labels)

    def identity(self) -> dict:
        return self.model.identity()

    def matrix(self, windows: list[dict[str, float]]) -> np.ndarray:
        x = np.array([[w.get(name, np.nan) for name in self.features] for w in windows], dtype=np.float32)
        x = x.reshape(len(windows), len(self.features))
        return np.where(np.isfinite(x), x, self.fill[None, :])

    def predict(self, windows: list[dict[str, float]]) -> np.ndarray:
        """Probabilities (n, len(labels)) for window measurement dicts."""
        if not windows:
            return np.zeros((0, len(self.labels)))
        (probs, *_) = self.model.run({"features": self.matrix(windows)})
        probs = np.clip(np.asarray(probs, dtype=np.float64), 0.0, None)
        return probs / np.maximum(probs.sum(axis=1, keepdims=True), 1e-12)
