"""Voice-emotion models as the audio arm sees them, chosen by the card's ``task``.

- ``voice-emotion`` (the shipped default): window features in, probabilities out, in two variants —
  "session" expects features z-scored against the speaker's own session baseline, "none" takes raw features
  (its graph standardises them against the training population).
- ``audio-emotion-waveform`` (a pretrained speech encoder or its distilled student, exported by
  ``emotrace export audio-backbone``): a window's raw 16 kHz samples in, probabilities out; no baseline.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from runtime.arms.audio.features import FEATURE_SET
from runtime.audio_rate import AUDIO_RATE_HZ
from runtime.errors import InputError
from runtime.media import finite_samples
from runtime.models import Model, ModelCard, load_card, load_model
from runtime.models.runner import backend_for_file, run_each_row

DEFAULT_AUDIO_MODEL = "audio-emotion"
FEATURE_TASK = "voice-emotion"
WAVEFORM_TASK = "audio-emotion-waveform"
VARIANTS = ("session", "none")


class _CardModel:
    def __init__(self, card: ModelCard, backend: str):
        self.card = card
        self._backend = backend
        self._models: dict[str, Model] = {}

    @property
    def labels(self) -> list[str]:
        return list(self.card.labels)

    @property
    def feature_set(self) -> str | None:
        return self.card.feature_set

    @property
    def trained_window_s(self) -> float | None:
        """The window length the model learnt from, as its card says; None where it does not say."""
        window_s = self.card.extra.get("window_s")
        return float(window_s) if isinstance(window_s, int | float) and not isinstance(window_s, bool) else None

    def _load(self, variant: str) -> Model:
        """The variant's model, loaded once: its output must hold one probability per card label."""
        if variant not in self._models:
            model = load_model(self.card.folder, variant=variant, backend=self._backend, labels_output=0)
            self._check_input(model)
            self._models[variant] = model
        return self._models[variant]

    def _check_input(self, model: Model) -> None:
        """Refuse a graph whose input width is not the one the card promises (where both say one)."""

    def _run(self, variant: str, name: str, batch: np.ndarray) -> np.ndarray:
        probs = run_each_row(self._load(variant).run, name, np.ascontiguousarray(batch, dtype=np.float32))
        probs = np.clip(np.asarray(probs, dtype=np.float64), 0.0, None)
        return probs / probs.sum(axis=1, keepdims=True)

    def identity(self, variant: str) -> dict[str, str]:
        """The card's identity of ``variant`` with the backend that ran it (or would: a .onnx model does not
        run on a ``tflite`` runtime backend, whatever the configuration asks)."""
        if variant in self._models:
            return self._models[variant].identity()
        backend = self._backend
        if variant in self.card.files:
            backend = backend_for_file(self.card.path(variant), backend, self.card.extra.get("backend"))
        return {**self.card.identity(variant), "backend": backend}


class AudioEmotionModel(_CardModel):
    """The feature-based model with its "session" and "none" variants."""

    def __init__(self, location: str | Path = DEFAULT_AUDIO_MODEL, backend: str = "onnxruntime"):
        card = load_card(location)
        card.require_task((FEATURE_TASK,), f"a {FEATURE_TASK} model")
        if card.feature_set != FEATURE_SET:  # its inputs would be other numbers in the same places
            raise InputError(card.folder, f"model expects features {card.feature_set!r}, this runtime computes "
                                          f"{FEATURE_SET!r}")
        super().__init__(card, backend)
        for variant in VARIANTS:  # loaded now, so that a card that does not fit its graph is refused up front
            if variant in card.files:
                self._load(variant)

    def _check_input(self, model: Model) -> None:
        expected = self.card.extra.get("n_features")
        shape = model.input_shape("features")
        if isinstance(expected, int) and shape and shape[-1] is not None and shape[-1] != expected:
            raise InputError(model.path, f"the model takes {shape[-1]} features per window; its card says "
                                         f"n_features {expected}")

    def predict(self, features: np.ndarray, variant: str) -> np.ndarray:
        """(n_windows, n_features) → (n_windows, n_labels) probabilities, rows summing to 1."""
        if variant not in VARIANTS:
            raise InputError(variant, f"unknown audio model variant; choose one of {', '.join(VARIANTS)}")
        if features.shape[0] == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return self._run(variant, "features", features)


class WaveformEmotionModel(_CardModel):
    """A model that reads a window's samples directly; windows shorter than its length are zero-padded."""

    def __init__(self, card: ModelCard, backend: str = "onnxruntime"):
        super().__init__(card, backend)
        spec = card.extra.get("input", {})
        card_path = card.folder / "card.json"
        if not isinstance(spec, dict):
            raise InputError(card_path, "its input block must be an object (name, sample_rate_hz, window_s)")
        self.input_name = spec.get("name", "waveform")
        try:
            self.sample_rate_hz = int(spec.get("sample_rate_hz", AUDIO_RATE_HZ))
            window_s = float(spec.get("window_s", 2.0))
        except (TypeError, ValueError):
            raise InputError(card_path, "input sample_rate_hz and window_s must be numbers") from None
        # The arm reads every recording at the device rate and cuts windows in it: a model trained at another
        # rate would get samples of the wrong pitch and duration, with nothing to say so.
        if self.sample_rate_hz != AUDIO_RATE_HZ:
            raise InputError(card_path, f"the model takes {self.sample_rate_hz} Hz audio; the device feeds "
                                        f"{AUDIO_RATE_HZ} Hz")
        if not 0 < window_s < float("inf"):
            raise InputError(card_path, f"input window_s must be a positive number of seconds, not {window_s}")
        self.window_samples = int(round(window_s * self.sample_rate_hz))
        self._load("default")  # now, so that a card that does not fit its graph is refused up front

    def _check_input(self, model: Model) -> None:
        shape = model.input_shape(self.input_name)
        if shape and shape[-1] is not None and shape[-1] != self.window_samples:
            raise InputError(model.path, f"the model takes windows of {shape[-1]} samples; its card says "
                                         f"{self.window_samples} (sample_rate_hz * window_s)")

    @property
    def trained_window_s(self) -> float:
        return self.window_samples / self.sample_rate_hz

    def predict_segments(self, segments: list[np.ndarray]) -> np.ndarray:
        """(n_windows, n_labels) probabilities of windows of samples, each zero-padded to the model's length; the
        arm refuses longer windows (``arm.check_windows``), of which the model would read the start alone (what a
        window's ends rounded to samples add past it, a sample, is left out)."""
        if not segments:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        batch = np.zeros((len(segments), self.window_samples), dtype=np.float32)
        for row, segment in enumerate(segments):
            # a NaN sample spoils the graph's per-window normalisation, yet it still answers with plausible
            # probabilities (seen with ONNX Runtime): refuse rather than judge a corrupt window
            part = finite_samples(segment[: self.window_samples], f"audio window {row}")
            batch[row, : part.size] = part
        return self._run("default", self.input_name, batch)


def load_audio_model(location: str | Path = DEFAULT_AUDIO_MODEL,
                     backend: str = "onnxruntime") -> AudioEmotionModel | WaveformEmotionModel:
    """The model a card describes: feature-based or waveform, by its task."""
    card = load_card(location)
    if card.task == WAVEFORM_TASK:
        return WaveformEmotionModel(card, backend)
    return AudioEmotionModel(location, backend)
