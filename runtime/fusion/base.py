"""The one fusion interface: ``fit`` on training windows where a method learns, ``fuse(tracks) -> Track``.

Every method implements ``fuse_arrays(FusionInput) -> (n_windows, n_labels)`` probabilities; everything around
it — the common grid, the fused quality, valence/arousal and incongruence — is shared here, so methods differ
only in how they combine evidence. A label a modality cannot produce (FER has no "calm") is unsupported: the
modality abstains on it rather than voting 0 for it, as it does in a window where its track gives the label no
probability (null); a label that no modality a window's claim rests on can
produce gets no probability there (``only_nameable``), whichever method fused it: 0 where it is scored, None in the
fused track's window (an empty cell, ``null`` in timeline.json), since 0 would read as "certainly not".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from runtime.fusion.affect import Disagreement, arousal_sources, incongruence, incongruence_reason, valence_arousal
from runtime.fusion.align import FusionInput, align_tracks, own_labels
from runtime.track import CANONICAL_LABELS, Track, Window

# The fused track's measurements beside its probabilities, and one quality_<modality> for each track fused.
FUSED_MEASUREMENTS = ("valence", "arousal", "arousal_quality", "incongruent", "incongruence_jsd")
MODALITY_QUALITY_PREFIX = "quality_"
NO_EVIDENCE = "no modality made a claim"
NO_USED_EVIDENCE = "no modality this method fuses made a claim"


class Fuser:
    """Base class: constructor stores parameters only; ``fit`` returns self; ``fuse_arrays`` rows sum to 1."""

    name = "base"
    learned = False
    # A window's result depends on the windows before it (attention's causal context): ``fuse`` hands such a
    # method every grid window, claim or none, so the context is the last windows of time, as in live mode.
    temporal = False

    def fit(self, data: FusionInput, targets: np.ndarray) -> Fuser:
        """Learn from training windows (``targets``: canonical label index per window). Rules need nothing."""
        return self

    def fuse_arrays(self, data: FusionInput) -> np.ndarray:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """What the fused track's ``model`` field records about this method."""
        return {"id": f"fusion-{self.name}", "method": self.name}

    def prepare(self, tracks: Sequence[Track]) -> None:
        """Read what a method needs from the tracks themselves (e.g. their model cards) before fusing."""

    def uses(self, data: FusionInput) -> np.ndarray:
        """(n_modalities,) bool: the modalities whose evidence this method takes (a weight above 0, an input it
        was trained on). A window where none of them claims gets no claim, whatever the others say."""
        return np.ones(len(data.modalities), dtype=bool)

    def evidence(self, data: FusionInput) -> FusionInput:
        """The windows' evidence as this method reads it: the modalities it uses (``uses``), others absent. A
        method that leaves some claims out (a learned fuser's weak ones) narrows it further."""
        return data.select([m for m, used in zip(data.modalities, self.uses(data), strict=True) if used])

    def probabilities(self, data: FusionInput) -> np.ndarray:
        """The fused spectrum of each window: ``fuse_arrays``, with 0 on a label that none of the modalities it
        read in the window can produce (``only_nameable``). What the evaluation scores; the fused track gives such
        a label no probability (None) instead."""
        return only_nameable(self.fuse_arrays(data), self.evidence(data))

    def context_windows(self) -> int:
        """How many grid windows, the judged one and those before it, a window's result depends on."""
        return 1

    def ignores(self, modality: str) -> str:
        """Why this method takes nothing from ``modality`` (for the window's reason)."""
        return f"not used by {self.name} fusion"

    def fuse(
        self,
        tracks: Sequence[Track],
        window_s: float = 2.0,
        hop_s: float = 0.5,
        grid: list[tuple[float, float]] | None = None,
        arousal_from: Sequence[str] = (),
        incongruence_settings: dict[str, float] | None = None,
    ) -> Track:
        """The tracks' evidence on a common grid, fused into the "fused" track."""
        self.prepare(tracks)
        aligned = align_tracks(tracks, window_s, hop_s, grid)
        data = aligned.emotion
        used = self.uses(data) if data.modalities else np.zeros(0, dtype=bool)
        has = data.present[:, used].any(1)
        probs = np.full((data.n_windows, len(CANONICAL_LABELS)), np.nan)
        named = np.ones(probs.shape, dtype=bool)  # False: a label nothing the window read can name
        if has.any():
            if self.temporal:
                # Every grid window, so a window's context is the windows of time before it (a no-claim window
                # is an absent input there), exactly what live mode gives it.
                probs[has] = self.probabilities(data)[has]
            else:
                probs[has] = self.probabilities(data.subset(has))
            # a label nothing the window read can name has no probability, not 0 (which reads "certainly not");
            # a window with no evidence left (as ``only_nameable`` leaves it) keeps its spectrum
            nameable = nameable_labels(self.evidence(data.subset(has)))
            named[has] = nameable | ~nameable.any(1, keepdims=True)
            probs[has] = np.where(named[has], probs[has], np.nan)
        quality = np.where(has, evidence_quality(data, used), 0.0)
        va = valence_arousal(probs, quality, arousal_sources(aligned, arousal_from))
        divergence, disagreements = incongruence(data, used, **(incongruence_settings or {}))
        # of the modalities the method reads: one it ignores (weight 0) gives the fused track none of its labels
        supported = data.supported[used].any(0) if data.modalities else np.zeros(len(CANONICAL_LABELS), dtype=bool)
        windows = []
        for i, (start_s, end_s) in enumerate(aligned.grid):
            measurements = _window_measurements(data, i, va, disagreements[i], divergence)
            if has[i]:
                # only an unnamed label is None: a NaN the method gave is left for the writer to refuse
                given = [float(p) if ok else None for p, ok in zip(probs[i], named[i], strict=True)]
                windows.append(Window(start_s, end_s, given, round(float(quality[i]), 6),
                                      incongruence_reason(disagreements[i]), measurements))
            else:
                windows.append(Window(start_s, end_s, None, 0.0, self._no_claim_reason(data, used, i), measurements))
        return Track(
            name="fused",
            labels=list(CANONICAL_LABELS),
            windows=windows,
            unsupported_labels=[
                label for label, ok in zip(CANONICAL_LABELS, supported, strict=True) if not ok
            ],
            model=self.describe(),
            settings={
                "method": self.name,
                "window_s": window_s,
                "hop_s": hop_s,
                "modalities": data.modalities,
                "arousal_from": list(arousal_from),
                # a track's labels outside the canonical ones (a clinic's own voice labels): none of the fused track's
                "left_out_labels": {t.name: own for t in tracks if (own := own_labels(t))},
                "inputs": {t.name: t.model for t in tracks},
            },
        )

    def _no_claim_reason(self, data: FusionInput, used: np.ndarray, i: int) -> str:
        """Why window ``i`` has no fused claim: no modality claimed, or only ones this method ignores (named)."""
        ignored = [
            f"{modality} ({self.ignores(modality)})"
            for j, modality in enumerate(data.modalities)
            if data.present[i, j] and not used[j]
        ]
        return f"{NO_USED_EVIDENCE}; ignored: {', '.join(ignored)}" if ignored else NO_EVIDENCE


def _window_measurements(data: FusionInput, i: int, va: dict[str, np.ndarray], disagreements: list[Disagreement],
                         divergence: np.ndarray) -> dict[str, float]:
    """The fused window ``i``'s measurements, claim or none: valence and arousal where finite, the incongruence
    flag, its divergence where finite, each pair that disagrees with their labels, and each fused modality's
    quality."""
    measurements = {name: float(values[i]) for name, values in va.items() if np.isfinite(values[i])}
    measurements["incongruent"] = float(bool(disagreements))
    if np.isfinite(divergence[i]):
        measurements["incongruence_jsd"] = round(float(divergence[i]), 6)
    for disagreement in disagreements:
        measurements.update(disagreement.measurements())
    for j, modality in enumerate(data.modalities):
        measurements[f"{MODALITY_QUALITY_PREFIX}{modality}"] = round(float(data.quality[i, j]), 6)
    return measurements


def evidence_quality(data: FusionInput, used: np.ndarray | None = None) -> np.ndarray:
    """How much evidence stood behind each window: the best quality among the emotion modalities the method
    fuses (``used``, default all) that claim there, 0 where none does. A modality with no claim in the window
    counts neither way, so the same evidence scores the same whatever the session's other windows hold (a face
    seen elsewhere in the session does not halve a voice's quality), and a claim a learned fuser or ``quality``
    fusion accepts (quality >= 0.2) never reads as little evidence. A modality the method ignores (weight 0,
    not a learned fuser's input) adds nothing to it."""
    used = np.ones(len(data.modalities), dtype=bool) if used is None else np.asarray(used, dtype=bool)
    if not used.any() or data.n_windows == 0:
        return np.zeros(data.n_windows)
    return data.quality[:, used].max(1)


def per_label_weights(data: FusionInput, weights: np.ndarray, use_quality: bool) -> np.ndarray:
    """(n, m, labels) weights: base weights × (quality or presence), 0 where a modality is absent or
    abstains (a label it cannot name, or gives no probability in the window).
    """
    presence = data.quality if use_quality else data.present.astype(float)
    return np.asarray(weights, dtype=float)[None] * presence[:, :, None] * data.speaks


def linear_pool(data: FusionInput, weights: np.ndarray, use_quality: bool = False) -> np.ndarray:
    """Weighted mean of probabilities, per label over the modalities that speak about it, renormalised.

    ``weights``: (m, labels) per modality and label (a global weight is the same value across labels).
    """
    w = per_label_weights(data, weights, use_quality)
    total = w.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = np.where(total > 0, (w * data.probs).sum(1) / total, 0.0)
    return normalise_rows(pooled)


def log_pool(
    data: FusionInput, weights: np.ndarray, use_quality: bool = False, floor: float = 1e-4
) -> np.ndarray:
    """Weighted product of experts: each modality contributes its likelihood ratio against a uniform guess
    over the labels it names in the window (K·p); a label it abstains on gets ratio 1 (no evidence either way)."""
    w = per_label_weights(data, weights, use_quality)
    speaks = data.speaks
    n_named = np.maximum(speaks.sum(2, keepdims=True), 1)
    log_ratio = np.log(np.clip(data.probs, floor, 1.0) * n_named)
    logits = (w * np.where(speaks, log_ratio, 0.0)).sum(1)
    return softmax(logits)


def only_nameable(probs: np.ndarray, evidence: FusionInput) -> np.ndarray:
    """``probs`` (n, labels) with each window's labels that no modality present in ``evidence`` there names
    (``nameable_labels``) set to 0 and the rest renormalised (evenly, where the fuser put nothing on them); a
    window with no modality present is left as it is."""
    # After the fuser rather than in each method: whatever the method, a probability on a label that no input of
    # the window can name is a claim without evidence (the product of experts gives such a label a likelihood
    # ratio of 1, so its prior share; stacking learnt "calm" from the neutral faces that training paired with calm
    # voices), so one mask over every method's output keeps each, and any added later, to what its inputs said.
    nameable = nameable_labels(evidence)
    kept = np.where(nameable, np.clip(probs, 0.0, None), 0.0)
    total = kept.sum(1, keepdims=True)
    count = nameable.sum(1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        masked = np.where(total > 0, kept / total, nameable / count)
    return np.where(count > 0, masked, probs)


def nameable_labels(evidence: FusionInput) -> np.ndarray:
    """(n, labels) bool: the labels some modality present in ``evidence`` in each window gives a probability
    (``FusionInput.speaks``)."""
    return evidence.speaks.any(1)


def normalise_rows(values: np.ndarray) -> np.ndarray:
    """Each row as probabilities that sum to 1: negatives clipped to 0, a row with nothing above 0 uniform."""
    values = np.clip(values, 0.0, None)
    total = values.sum(1, keepdims=True)
    uniform = np.full_like(values, 1.0 / values.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, values / total, uniform)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(1, keepdims=True)


def modality_metrics(data: FusionInput, targets: np.ndarray) -> dict[str, dict[str, Any]]:
    """Each modality's unweighted accuracy and per-class recall over the windows where it made a claim that names
    the true label (a window where it withholds it, null in its track, says nothing of it either way).

    Classes a modality cannot produce, or that never occur among its windows, get no recall entry.
    """
    out = {}
    speaks_truth = data.speaks[np.arange(data.n_windows), :, targets]
    for j, name in enumerate(data.modalities):
        rows = speaks_truth[:, j]
        predicted = data.probs[rows, j].argmax(1)
        truth = targets[rows]
        recalls = {}
        for c, label in enumerate(data.labels):
            if data.supported[j, c] and np.any(truth == c):
                recalls[label] = float(np.mean(predicted[truth == c] == c))
        ua = float(np.mean(list(recalls.values()))) if recalls else 0.0
        out[name] = {"ua": ua, "per_class_recall": recalls}
    return out
