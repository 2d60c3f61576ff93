"""Rule-based fusion methods: mean, fixed weights, accuracy weights, quality-aware, product of experts."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from runtime.fusion.align import FusionInput
from runtime.fusion.base import Fuser, linear_pool, log_pool, modality_metrics
from runtime.track import CANONICAL_LABELS, WEAK_QUALITY, Track, track_family

UA_KEYS = ("ua", "uar", "balanced_accuracy", "unweighted_accuracy")
RECALL_KEYS = ("per_class_recall", "recall_per_class", "recall")
MIN_WEIGHT = 0.05  # a modality at chance keeps a little say rather than none


class MeanFusion(Fuser):
    """Equal-weight mean of the modalities that made a claim (quality only decides present or absent)."""

    name = "mean"

    def fuse_arrays(self, data: FusionInput) -> np.ndarray:
        return linear_pool(data, np.ones(data.supported.shape))


def check_weights(weights: Mapping[str, float], source: str = "--weights") -> dict[str, float]:
    """Fixed fusion weights as numbers, refused in one line (``InputError``) when one is negative or not a finite
    number, or when they are too large to add up. Every weight may be 0: an unnamed modality weighs 1, and a
    window where only modalities of weight 0 claim makes no claim."""
    from runtime.errors import InputError

    out = {}
    for name, value in weights.items():
        try:
            weight = float(value)
        except (TypeError, ValueError):
            weight = math.nan
        if not (math.isfinite(weight) and weight >= 0):
            raise InputError(source, f"weight {name}={value!r} is not a finite non-negative number")
        out[str(name)] = weight
    if not math.isfinite(sum(out.values())):
        raise InputError(source, "weights too large to add up; give relative weights such as audio=0.3,face=0.7")
    return out


def modality_weight(weights: Mapping[str, float], modality: str) -> float:
    """A modality's fixed weight: its own (``face-2``), else its family's (``face`` weighs every person's face
    track), else 1."""
    if modality in weights:
        return weights[modality]
    return weights.get(track_family(modality), 1.0)


def weighs_any(weights: Mapping[str, float], modalities: Iterable[str]) -> bool:
    """Whether fixed ``weights`` leave any of ``modalities`` above 0 (``modality_weight``): with none, nothing is
    fused. The one rule for the settings, the fuse-time warning and ``evaluate fusion``."""
    return any(modality_weight(weights, modality) > 0 for modality in modalities)


class WeightedFusion(Fuser):
    """Fixed weights per modality (``--weights audio=0.3,face=0.7``; ``modality_weight``: an unnamed modality
    weighs 1, a ``face`` weight weighs every ``face-N`` track without its own).

    A modality of weight 0 is ignored: a window where only such modalities claim gets no claim.
    """

    name = "weighted"

    def __init__(self, weights: Mapping[str, float] | None = None):
        self.weights = check_weights(weights or {}, "weights")

    def _weight(self, modality: str) -> float:
        return modality_weight(self.weights, modality)

    def uses(self, data: FusionInput) -> np.ndarray:
        return np.array([self._weight(m) > 0 for m in data.modalities], dtype=bool)

    def ignores(self, modality: str) -> str:
        return "weight 0"

    def fuse_arrays(self, data: FusionInput) -> np.ndarray:
        w = np.array([[self._weight(m)] * len(data.labels) for m in data.modalities], dtype=float)
        if w.size and w.max() > 0:
            w = w / w.max()  # only ratios matter; this keeps huge or tiny weights from overflowing or underflowing
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


def variant_metrics(metrics: Any, variant: str, variants: Sequence[str]) -> tuple[str, Any]:
    """The part of a card's metrics that measures ``variant`` at window level where the card has it.

    A card that measures its variants apart (the audio card's ``session/window``, ``session/clip``,
    ``none/window``, ...; a fusion card's ``float``/``int8``) gives the entry of the track's variant, window level
    first (fusion works on windows), then clip level, then any other; a card that splits by variant but not for
    this one gives None (another variant's figure does not describe it). A card that does not split by variant
    gives its metrics as they are. Returned with the key of the entry taken ("" for the whole metrics)."""
    found: dict[str, Any] = {}

    def walk(node: Any) -> None:
        if not isinstance(node, Mapping):
            return
        for key, value in node.items():
            head = str(key).split("/", 1)[0]
            if head in variants and isinstance(value, Mapping):
                found.setdefault(str(key), value)
            else:
                walk(value)

    walk(metrics)
    if not found:
        return "", metrics
    for key in (f"{variant}/window", f"{variant}/clip", variant):
        if key in found:
            return key, found[key]
    mine = [(key, value) for key, value in found.items() if key.split("/", 1)[0] == variant]
    return mine[0] if mine else ("", None)


def track_card(track: Track) -> tuple[Any, str]:
    """The model card behind a track, and "" — or None and why not.

    The card is the one the track's model identity names: a ``card``/``folder`` location when the identity
    records one, else the model id (a folder or ``models/<id>``). It must be that model: a card of another version
    or checksum (a model loaded from a folder, retrained under the same id) is not used.
    """
    from runtime.errors import InputError
    from runtime.models import load_card

    identity = track.model if isinstance(track.model, Mapping) else {}
    model_id = identity.get("id")
    location = identity.get("card") or identity.get("folder") or model_id
    if not location:
        return None, "the track names no model"
    try:
        card = load_card(location)
    except InputError:
        return None, f"no model card for {location!r}"
    version = identity.get("version")
    if version and str(version) != str(card.version):
        return None, f"the card found for {model_id!r} is version {card.version}, the track's model {version}"
    variant = str(identity.get("variant") or "default")
    expected, recorded = identity.get("sha256"), card.sha256.get(variant)
    if expected and recorded and expected != recorded:
        return None, f"the card found for {model_id!r} has another checksum for variant {variant!r}"
    return card, ""


def card_metrics_or_reason(track: Track) -> tuple[dict[str, Any] | None, str]:
    """UA and per-class recall from the model card behind a track (``track_card``), for the track's variant at
    window level where the card measures it (``variant_metrics``); or None and why there is no such figure."""
    card, reason = track_card(track)
    if card is None:
        return None, reason
    identity = track.model if isinstance(track.model, Mapping) else {}
    variant = str(identity.get("variant") or "default")
    entry, metrics = variant_metrics(card.metrics, variant, [*card.files, "default"])
    if metrics is None:
        return None, f"{card.id} {card.version} card has no figures for variant {variant!r}"
    ua = find_metric(metrics, UA_KEYS)
    recall = find_metric(metrics, RECALL_KEYS)
    if not _finite_figure(ua):  # NaN or Infinity (JSON as Python writes it) is no figure: it flattened the pool
        return None, f"{card.id} {card.version} card has no UA" + (f" ({ua} is none)" if isinstance(ua, float) else "")
    recall = (
        # a label the card has no recall for (null: no validation clips of it) weighs by the UA, as one it omits
        {k: float(v) for k, v in recall.items() if k in CANONICAL_LABELS and _finite_figure(v)}
        if isinstance(recall, Mapping)
        else {}
    )
    source = f"{card.id} {card.version} card" + (f", {entry}" if entry else "")  # e.g. "..., session/window"
    found = {"ua": float(ua), "per_class_recall": recall, "source": source}
    for key in ("temperature", "contradiction_threshold"):  # the product of experts' calibration, if recorded
        value = find_metric(metrics, (key,))
        if _finite_figure(value) and value > 0:
            found[key] = float(value)
    return found, ""


def _finite_figure(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class AccuracyWeightedFusion(Fuser):
    """Weights that follow each model's measured accuracy: its validation UA (global) or its recall per class.

    ``fit`` measures them on training windows; without ``fit`` they come from each track's model card.
    The weight is the margin over chance (UA - 1/K), so a modality at chance has (almost) no say.
    """

    name = "accuracy"

    def __init__(self, per_class: bool = False, metrics: Mapping[str, Mapping[str, Any]] | None = None):
        self.per_class = per_class
        self.metrics = dict(metrics or {})
        self.unmeasured: dict[str, str] = {}  # modality → why no card figure weighs it (it weighs 1)
        if per_class:
            self.name = "accuracy-class"

    def fit(self, data: FusionInput, targets: np.ndarray) -> AccuracyWeightedFusion:
        self.metrics = modality_metrics(data, targets)
        return self

    def prepare(self, tracks: Sequence[Track]) -> None:
        from runtime.fusion.align import is_emotion_track

        for track in tracks:
            if track.name not in self.metrics:
                found, why = card_metrics_or_reason(track)
                if found is not None:
                    self.metrics[track.name] = found
                elif is_emotion_track(track):
                    self.unmeasured[track.name] = why

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
        out = {**super().describe(), "metrics": self.metrics}
        if self.unmeasured:
            out["unmeasured"] = dict(self.unmeasured)
        return out


class QualityAwareFusion(AccuracyWeightedFusion):
    """Accuracy weights × each window's quality; a modality below ``min_quality`` drops out, the rest
    renormalise.
    """

    name = "quality"

    def __init__(self, min_quality: float = WEAK_QUALITY, metrics: Mapping[str, Mapping[str, Any]] | None = None):
        super().__init__(per_class=False, metrics=metrics)
        self.name = "quality"
        self.min_quality = min_quality

    def evidence(self, data: FusionInput) -> FusionInput:
        """What it pools: the claims at ``min_quality`` or above (``without_weak``), so a label that only a weak
        claim names gets no probability, not the 0 the pool gives it."""
        return super().evidence(data).without_weak(self.min_quality)

    def fuse_arrays(self, data: FusionInput) -> np.ndarray:
        return linear_pool(data.without_weak(self.min_quality), self.weights(data), use_quality=True)


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
        # (n, m): the true label named; a window withholding it (null in its track) says nothing of it
        speaks_truth = data.speaks[np.arange(data.n_windows), :, targets]
        for j, modality in enumerate(data.modalities):
            rows = speaks_truth[:, j]
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
                can = data.speaks[rows, j, tops[:, k]] & data.speaks[rows, k, tops[:, j]]
                checked[:, j] += can
                against[:, j] += can & (data.probs[rows, j, tops[:, k]] < thresholds[j])
        return (checked > 0) & (against > checked / 2)

    def fuse_arrays(self, data: FusionInput) -> np.ndarray:
        flags = self.contradiction(data)
        quality = np.where(flags, data.quality * self.discount, data.quality)
        return log_pool(data.with_quality(quality), self.weights(data), use_quality=True)


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
