"""The voice-emotion model as the audio arm sees it: a card with two variants and one predict call.

Variant "session" expects features z-scored against the speaker's own session baseline; variant "none" takes
raw features (its graph standardises them against the training population).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from runtime.errors import InputError
from runtime.models import Model, load_card, load_model

DEFAULT_AUDIO_MODEL = "audio-emotion"
VARIANTS = ("session", "none")


class AudioEmotionModel:
    def __init__(self, location: str | Path = DEFAULT_AUDIO_MODEL, backend: str = "onnxruntime"):
        self.card = load_card(location)
        self._location = location
        self._backend = backend
        self._models: dict[str, Model] = {}

    @property
    def labels(self) -> list[str]:
        return list(self.card.labels)

    @property
    def feature_set(self) -> str | None:
        return self.card.feature_set

    def _variant(self, variant: str) -> Model:
        if variant not in VARIANTS:
            raise InputError(variant, f"unknown audio model variant; choose one of {', '.join(VARIANTS)}")
        if variant not in self._models:
            self._models[variant] = load_model(self.card.folder, variant=variant, backend=self._backend)
        return self._models[variant]

    def predict(self, features: np.ndarray, variant: str) -> np.ndarray:
        """(n_windows, n_features) → (n_windows, n_labels) probabilities, rows summing to 1."""
        if features.shape[0] == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        (probs, *_) = self._variant(variant).run({"features": np.ascontiguousarray(features, dtype=np.float32)})
        probs = np.clip(np.asarray(probs, dtype=np.float64), 0.0, None)
        return probs / probs.sum(axis=1, keepdims=True)

    def identity(self, variant: str) -> dict[str, str]:
        return {**self.card.identity(variant), "backend": self._backend}
