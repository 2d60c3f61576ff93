"""Learned fusion methods on the device: a stacking meta-learner and a temporal cross-modal attention model.

Both run as ONNX models behind the one model interface (``runtime.models.load_model``); their cards name the
modalities they were trained on, in input order. Training happens on the host (``emotrace train fusion``, in
``export/fusion``); ``fit`` here hands the windows to that trainer and loads what it exports, so evaluation
scores exactly the graph the device runs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from runtime.errors import InputError
from runtime.fusion.align import FusionInput
from runtime.fusion.base import Fuser, normalise_rows
from runtime.track import CANONICAL_LABELS, Track

TOKEN_FEATURES = 10  # 8 log-probabilities, quality, present
PROB_FLOOR = 1e-4
DEFAULT_CONTEXT = 8  # windows of causal context, when an attention card does not say


def modality_tokens(data: FusionInput) -> np.ndarray:
    """(n, m, 10) per window and modality: log-probabilities above the floor, quality, present.

    An absent modality's token is all zeros. A label the modality cannot produce, or gives no probability in the
    window, gets the log-probability of a uniform guess over the labels it names there (no evidence either way,
    as in the product of experts). The one feature function for training and device, so the two cannot drift
    apart.
    """
    present = data.present[:, :, None]
    speaks = data.speaks
    log_probs = np.log(np.clip(data.probs, PROB_FLOOR, 1.0)) - np.log(PROB_FLOOR)
    uniform = np.log(1.0 / np.maximum(speaks.sum(2, keepdims=True), 1)) - np.log(PROB_FLOOR)  # (n, m, 1)
    log_probs = np.where(speaks, log_probs, uniform) * present
    features = [log_probs, data.quality[:, :, None], present.astype(float)]
    return np.concatenate(features, axis=2).astype(np.float32)


def stacking_features(data: FusionInput) -> np.ndarray:
    """(n, m * 18): every modality's tokens side by side, then each modality's log-probabilities again where
    it is the only one present, so a linear learner can weigh a lone modality differently from a joint one."""
    tokens = modality_tokens(data)
    alone = data.present & (data.present.sum(1, keepdims=True) == 1)
    lone = tokens[:, :, :8] * alone[:, :, None]
    return np.concatenate([tokens.reshape(len(tokens), -1), lone.reshape(len(tokens), -1)], axis=1)


def sequence_slices(sequence: np.ndarray) -> list[slice]:
    """Runs of equal sequence id (a session's windows are consecutive)."""
    if len(sequence) == 0:
        return []
    edges = np.flatnonzero(np.diff(sequence) != 0) + 1
    bounds = [0, *edges.tolist(), len(sequence)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


FUSION_TASK = "emotion-fusion"  # the task of every learnt fuser's card


class OnnxFuser(Fuser):
    learned = True
    default_model = ""

    def __init__(
        self,
        model: str | Path | None = None,
        variant: str = "default",
        backend: str = "onnxruntime",
        train_options: dict[str, Any] | None = None,
    ):
        self.model = model or self.default_model
        self.variant = variant
        self.backend = backend
        self.train_options = dict(train_options or {})
        self._loaded = None
        self._tmp = None
        self._fallback: Fuser | None = None
        self.fallback_reason = ""

    def _runner(self):
        if self._loaded is None:
            from runtime.models import load_card, load_model

            card = load_card(self.model)
            card.require_task((FUSION_TASK,), "an emotion-fusion model")  # another kind's lacks what a fuser reads
            self._loaded = load_model(self.model, variant=self.variant, backend=self.backend, labels_output=0)
            if "modalities" not in self._loaded.card.extra:
                raise InputError(self._loaded.card.folder, "fusion model card lacks 'modalities'")
            if list(self._loaded.labels) != list(CANONICAL_LABELS):  # its columns are read as the spectrum's
                raise InputError(self._loaded.card.folder,
                                 f"a fusion model gives the labels {', '.join(CANONICAL_LABELS)}, in that order; "
                                 f"its card gives {', '.join(self._loaded.labels)}")
        return self._loaded

    @property
    def modalities(self) -> list[str]:
        return list(self._runner().card.extra["modalities"])

    def uses(self, data: FusionInput) -> np.ndarray:
        """Its own inputs (its card's modalities), in fallback too. A ``face-2`` track (with ``face.person = "all"``)
        is not an input: where only such tracks claim, the fused window makes no claim."""
        return np.array([m in self.modalities for m in data.modalities], dtype=bool)

    def ignores(self, modality: str) -> str:
        return f"not an input of fusion-{self.name}"

    def evidence(self, data: FusionInput) -> FusionInput:
        """Its own inputs, in its card's order, with each window's weak claims left out (``without_weak``): what
        its graph reads. In fallback, what quality fusion reads."""
        own = data.select(self.modalities)
        return self._fallback.evidence(own) if self._fallback is not None else own.without_weak()

    def prepare(self, tracks: Sequence[Track]) -> None:
        """Fall back to quality-aware fusion when the tracks do not come from the arm models this fuser was
        trained on (its card's ``arm_models``): a learned fuser has learned one set of models' calibration. The
        fallback replaces that calibration, not the inputs: it fuses this fuser's own modalities alone, so other
        people's faces (``face-N``) stay apart in fallback as they do otherwise."""
        from runtime.fusion.methods import QualityAwareFusion

        self._fallback, self.fallback_reason = None, self._mismatch(tracks)
        if self.fallback_reason:
            self._fallback = QualityAwareFusion()
            self._fallback.prepare(tracks)

    def _mismatch(self, tracks: Sequence[Track]) -> str:
        from runtime.fusion.align import is_emotion_track

        arm_models = self._runner().card.extra.get("arm_models", {})
        present = {t.name: t for t in tracks if is_emotion_track(t)}
        for modality, expected in arm_models.items():
            if modality not in present:
                continue
            # "id", "id:variant" (e.g. audio-emotion:session, the per-speaker-baseline variant), either with
            # "@version": a retrained arm model keeps its id but not the calibration the fuser learned.
            name, _, version = str(expected).partition("@")
            model_id, _, variant = name.partition(":")
            identity = present[modality].model
            got = identity.get("id")
            if variant and identity.get("variant", variant) != variant:
                got = f"{got}:{identity.get('variant')}"
            if version and identity.get("version") != version:
                got = f"{got}@{identity.get('version')}"
            if got != model_id:
                return f"trained on {modality} model {expected!r}, this {modality} track is from {got!r}"
        return ""

    def _fit_into(self, train, data: FusionInput, targets: np.ndarray) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix=f"fusion-{self.name}-")
        folder = Path(self._tmp.name)
        train(data, targets, folder, **self.train_options)
        self.model, self._loaded = folder, None

    def describe(self) -> dict[str, Any]:
        if self._loaded is None:
            return {**super().describe(), "model": str(self.model)}
        out = {**super().describe(), **self._loaded.identity(), "modalities": self.modalities}
        if self.fallback_reason:
            out["fallback"] = {"method": "quality", "reason": self.fallback_reason}
        return out


class StackingFusion(OnnxFuser):
    """A multinomial logistic meta-learner over every modality's log-probabilities, quality and presence."""

    name = "stacking"
    default_model = "fusion-stacking"

    def fit(self, data: FusionInput, targets: np.ndarray) -> StackingFusion:
        from export.fusion.learn import train_stacking

        self._fit_into(train_stacking, data, targets)
        return self

    def fuse_arrays(self, data: FusionInput) -> np.ndarray:
        if self._fallback is not None:
            return self._fallback.fuse_arrays(data.select(self.modalities))
        runner = self._runner()
        features = stacking_features(self.evidence(data))
        (probs, *_) = runner.run({"features": features})
        return normalise_rows(np.asarray(probs, dtype=np.float64))


class AttentionFusion(OnnxFuser):
    """Cross-modal attention within each window, then causal attention over the recent windows of the session.

    Trained with modality dropout, so a missing modality is an ordinary input, not a surprise.
    """

    name = "attention"
    default_model = "fusion-attention"
    temporal = True

    def fit(self, data: FusionInput, targets: np.ndarray) -> AttentionFusion:
        from export.fusion.learn import train_attention

        self._fit_into(train_attention, data, targets)
        return self

    def context_windows(self) -> int:
        if self._fallback is not None:
            return self._fallback.context_windows()
        architecture = self._runner().card.extra.get("architecture", {})
        return max(int(architecture.get("context_windows", DEFAULT_CONTEXT)), 1)

    def fuse_arrays(self, data: FusionInput) -> np.ndarray:
        """Each window from its own context, the last ``context_windows`` windows of its session (an absent
        window stays an absent input), one graph run per window. One run over a whole session would give the
        same result in float, but the INT8 graph quantizes its activations with a scale taken over all the
        windows it is given (DynamicQuantizeLinear), so a window would move with later ones and differ from live
        mode; one context at a time it is causal and equal to live mode."""
        if self._fallback is not None:
            return self._fallback.fuse_arrays(data.select(self.modalities))
        runner = self._runner()
        context = self.context_windows()
        tokens = modality_tokens(self.evidence(data))
        out = np.zeros((data.n_windows, len(data.labels)))
        for part in sequence_slices(data.sequence):
            for i in range(part.start, part.stop):
                (probs, *_) = runner.run({"tokens": tokens[max(part.start, i - context + 1) : i + 1][None]})
                out[i] = np.asarray(probs, dtype=np.float64)[0, -1]
        return normalise_rows(out)
