"""Rule-based fusion methods: mean, fixed weights, accuracy weights, quality-aware, product of experts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from runtime.fusion.align import FusionInput
from runtime.fusion.base import Fuser, linear_pool, log_pool, modality_metrics
from runtime.track import CANONICAL_LABELS, Track

UA_KEYS = ("ua", "uar", "balanced_accuracy", "unweighted_accuracy")
RECALL_KEYS = ("per_class_recall", "recall_per_class", "recall")
MIN_WEIGHT = 0.05  # a modality at chance keeps a little say rather than none


class MeanFusion(Fuser):
    """Equal-weight mean of the modalities that made a claim (quality only decides present or absent)."""

    name = "mean"

    def fuse_arrays(self, data: FusionInput) -> np.ndarray:
        return linear_pool(data, np.ones(data.supported.shape))


class WeightedFusion(Fuser):
    """Fixed weights per modality (``--weights audio=0.3,face=0.7``); an unnamed modality weighs 1."""

    name = "weighted"

    def __init__(self, weights: Mapping[str, float] | None = None):
        self.weights = dict(weights or {})

    def fuse_arrays(self, data: FusionInput) -> np.ndarray:
        w = np.array([[self.weights.get(m, 1.0)] * len(data.labels) for m in data.modalities])
        return linear_pool(data, w)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "weights": self.weights}


def find_metric(metrics: Any, keys: Sequence[str]) -> Any:
    """The first value under one of ``keys`` anywhere in a card's nested metrics, quantized entries first."""
    if not isinstance(metrics, Mapping):
        return None
    for key in keys:
        if key in metrics:
            return metrics[key]
    ordered = sorted(
        metrics.items(), key=lambda kv: not any(t in str(kv[0]).lower() for t in ("int8", "quant"))
    )
    for _, value in ordered:
        found = find_metric(value, keys)
        if found is not None:
            return found
    return None


def card_metrics(track: Track) -> dict[str, Any] | None:
    """UA and per-class recall from the model card behind a track, or None when it has none."""
    from runtime.errors import InputError
    from runtime.models import load_card

    model_id = track.model.get("id") if isinstance(track.model, Mapping) else None
    if not model_id:
        return None
    try:
        card = load_card(model_id)
    except InputError:
        return None
    ua = find_metric(card.metrics, UA_KEYS)
    recall = find_metric(card.metrics, RECALL_KEYS)
    if not isinstance(ua, (int, float)):
        return None
    recall = (
        {k: float(v) for k, v in recall.items() if k in CANONICAL_LABELS}
        if isinstance(recall, Mapping)
        else {}
    )
    return {"ua": float(ua), "per_class_recall": recall, "source": f"{card.id} {card.version} card"}


class AccuracyWeightedFusion(Fuser):
    """Weights that follow each model's measured accuracy: its validation UA (global) or its recall per class.

    ``fit`` measures them on training windows; without ``fit`` they come from each track's model card.
    The weight is the margin over chance (UA - 1/K), so a modality at chance has (almost) no say.
    """

    name = "accuracy"

    def __init__(self, per_class: bool = False, metrics: Mapping[str, Mapping[str, Any]] | None = None):
        self.per_class = per_class
        self.metrics = dict(metrics or {})
        if per_class:
            self.name = "accuracy-class"

    def fit(self, data: FusionInput, targets: np.ndarray) -> AccuracyWeightedFusion:
        self.metrics = modality_metrics(data, targets)
        return self

    def prepare(self, tracks: Sequence[Track]) -> None:
        for track in tracks:
            if track.name not in self.metrics:
                found = card_metrics(track)
                if found is not None:
                    self.metrics[track.name] = found

    def weights(self, data: FusionInput) -> np.ndarray:
        w = np.ones(data.supported.shape)
        for j, modality in enumerate(data.modalities):
            found = self.metrics.get(modality)
            if not found:
                continue
            chance = 1.0 / max(int(data.supported[j].sum()), 1)
            w[j] = max(found["ua"] - chance, MIN_WEIGHT)
            if self.per_class:
                for c, label in enumerate(data.labels):
                    if label in found.get("per_class_recall", {}):
                        w[j, c] = max(found["per_class_recall"][label] - chance, MIN_WEIGHT)
        return w

    def fuse_arrays(self, data: FusionInput) -> np.ndarray:
        return linear_pool(data, self.weights(data))

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "metrics": self.metrics}


class QualityAwareFusion(AccuracyWeightedFusion):
    """Accuracy weights × each window's quality; a modality below ``min_quality`` drops out, the rest
    renormalise.
    """

    name = "quality"

    def __init__(self, min_quality: float = 0.2, metrics: Mapping[str, Mapping[str, Any]] | None = None):
        super().__init__(per_class=False, metrics=metrics)
        self.name = "quality"
        self.min_quality = min_quality

    def fuse_arrays(self, data: FusionInput) -> np.ndarray:
        return linear_pool(_drop_unreliable(data, self.min_quality), self.weights(data), use_quality=True)


def _drop_unreliable(data: FusionInput, min_quality: float) -> FusionInput:
    quality = np.where(data.quality >= min_quality, data.quality, 0.0)
    if not np.array_equal(quality > 0, data.present):
        # Keep a window's best modality even when all are weak: some evidence beats none.
        best = data.quality.argmax(1)
        rows = np.flatnonzero(~(quality > 0).any(1) & data.present.any(1))
        quality[rows, best[rows]] = data.quality[rows, best[rows]]
    return FusionInput(list(data.modalities), data.probs, quality, data.supported, data.sequence, data.labels)


class ProductFusion(AccuracyWeightedFusion):
    """Product of experts (log-linear pooling), calibrated and quality-scaled, with a modality check.

    Each modality's exponent is the inverse of a temperature fitted on validation windows (so an overconfident
    model is softened before it multiplies in); without ``fit``, a card's ``temperature`` or, failing that,
    the accuracy weight stands in. The check (after M3ER's idea of finding the ineffective modality):
    modality j contradicts modality k in a window when j's probability for k's top label is below what j's own
    validation calibration makes plausible (the ``check_quantile`` of the probability j gave the true label).
    A modality that contradicts more than half of the others it can check has its weight multiplied by
    ``discount`` in that window; with two modalities a mutual contradiction tempers both, so the fused
    window is less sure.
    """

    name = "product"

    def __init__(
        self,
        discount: float = 0.3,
        check_quantile: float = 0.1,
        default_threshold: float = 0.05,
        metrics: Mapping[str, Mapping[str, Any]] | None = None,
    ):
        super().__init__(per_class=False, metrics=metrics)
        self.name = "product"
        self.discount = discount
        self.check_quantile = check_quantile
        self.default_threshold = default_threshold

    def fit(self, data: FusionInput, targets: np.ndarray) -> ProductFusion:
        super().fit(data, targets)
        for j, modality in enumerate(data.modalities):
            rows = data.present[:, j] & data.supported[j, targets]
            if rows.any():
                p_true = data.probs[rows, j, targets[rows]]
                self.metrics[modality]["contradiction_threshold"] = float(
                    np.quantile(p_true, self.check_quantile)
                )
                self.metrics[modality]["temperature"] = fit_temperature(
                    data.probs[rows, j], targets[rows], data.supported[j]
                )
        return self

    def weights(self, data: FusionInput) -> np.ndarray:
        w = super().weights(data)
        for j, modality in enumerate(data.modalities):
            temperature = self.metrics.get(modality, {}).get("temperature")
            if temperature:
                w[j] = 1.0 / temperature
        return w

    def thresholds(self, data: FusionInput) -> np.ndarray:
        return np.array(
            [
                self.metrics.get(m, {}).get("contradiction_threshold", self.default_threshold)
                for m in data.modalities
            ]
        )

    def contradiction(self, data: FusionInput) -> np.ndarray:
        """(n, m) bool: the modality contradicts most of the other modalities beyond its calibration."""
        n, m = data.n_windows, len(data.modalities)
        thresholds = self.thresholds(data)
        tops = data.probs.argmax(2)  # (n, m)
        rows = np.arange(n)
        against = np.zeros((n, m))
        checked = np.zeros((n, m))
        for j in range(m):
            for k in range(m):
                if k == j:
                    continue
                # Only a pair that could each have named the other's label can contradict (a face
                # without "calm" says nothing against a calm voice).
                can = (data.present[:, j] & data.present[:, k] & data.supported[j, tops[:, k]]
                       & data.supported[k, tops[:, j]])
                checked[:, j] += can
                against[:, j] += can & (data.probs[rows, j, tops[:, k]] < thresholds[j])
        return (checked > 0) & (against > checked / 2)

    def fuse_arrays(self, data: FusionInput) -> np.ndarray:
        flags = self.contradiction(data)
        quality = np.where(flags, data.quality * self.discount, data.quality)
        checked = FusionInput(
            list(data.modalities), data.probs, quality, data.supported, data.sequence, data.labels
        )
        return log_pool(checked, self.weights(data), use_quality=True)


def fit_temperature(
    probs: np.ndarray, targets: np.ndarray, supported: np.ndarray, floor: float = 1e-4
) -> float:
    """The temperature T minimising the negative log-likelihood of softmax(log p / T) over the supported
    labels.
    """
    from scipy.optimize import minimize_scalar

    log_p = np.log(np.clip(probs[:, supported], floor, 1.0))
    index = np.cumsum(supported) - 1
    truth = index[targets]

    def nll(log_t: float) -> float:
        z = log_p / np.exp(log_t)
        z = z - z.max(1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(len(truth)), truth]))

    return float(np.exp(minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded").x))
