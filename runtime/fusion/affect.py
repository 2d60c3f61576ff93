"""Valence and arousal per window, and incongruence: modalities that confidently disagree.

Valence/arousal are measurements beside the discrete spectrum, not a relabelling of it. The discrete spectrum
gives both through approximate circumplex positions of the eight labels (after Russell, 1980); arousal also
takes
activation sources that carry no discrete labels (body activation, physiological stress/arousal), each
weighted
by its window quality.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from runtime.fusion.align import AlignedTracks, FusionInput
from runtime.track import CANONICAL_LABELS, track_family

# (valence, arousal) in [-1, 1], canonical order. Approximate circumplex placements, for a readable trend
# only.
CIRCUMPLEX = np.array(
    [
        (0.0, 0.0),  # neutral
        (0.4, -0.6),  # calm
        (0.8, 0.5),  # happy
        (-0.7, -0.5),  # sad
        (-0.6, 0.8),  # angry
        (-0.6, 0.6),  # fearful
        (-0.7, 0.3),  # disgust
        (0.2, 0.8),  # surprised
    ]
)
# Label pairs that are not a contradiction when two modalities name them (a calm voice over a neutral face).
COMPATIBLE = {frozenset({"neutral", "calm"})}


def discrete_valence_arousal(probs: np.ndarray) -> np.ndarray:
    """(n, 8) probabilities → (n, 2) expected (valence, arousal); NaN rows stay NaN."""
    return np.asarray(probs, dtype=float) @ CIRCUMPLEX


def to_unit_scale(values: np.ndarray) -> np.ndarray:
    """An activation source (a score or a probability in [0, 1]; runtime.checks admits no other) onto [-1, 1] as
    2v - 1. One fixed scale: a scale chosen from the values seen would change with the session's range."""
    return np.clip(2.0 * np.asarray(values, dtype=float) - 1.0, -1.0, 1.0)


def arousal_sources(aligned: AlignedTracks, names: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``track.name`` entries (a measurement or a non-canonical label's probability) → (values in [-1, 1],
    weight).

    The weight is the window quality on the grid: a label's claim quality (physio stress), or for a measurement
    the quality of the windows that measured it (body activation), whether or not those windows make a claim; a
    body window of quality 0.08 moves arousal by 0.08 of a full-quality one.
    """
    out = {}
    for dotted in names:
        track, _, name = dotted.partition(".")
        values = None
        if name in aligned.other_probs.get(track, {}):
            values = aligned.other_probs[track][name]
            quality = aligned.other_quality.get(track)
        elif name in aligned.measurements.get(track, {}):
            values = aligned.measurements[track][name]
            quality = aligned.measurement_quality.get(track, {}).get(name)
        if values is None:
            continue
        scaled = to_unit_scale(values)
        quality = np.zeros(len(scaled)) if quality is None else quality
        weight = np.where(np.isfinite(scaled), quality, 0.0)
        out[dotted] = (np.nan_to_num(scaled), weight)
    return out


def valence_arousal(
    fused_probs: np.ndarray, fused_quality: np.ndarray, sources: dict[str, tuple[np.ndarray, np.ndarray]]
) -> dict[str, np.ndarray]:
    """Per-window measurements: valence, arousal (quality-weighted over the spectrum and the activation
    sources), arousal_quality (the weight behind arousal, at most 1: a lone body window of quality 0.23 gives an
    arousal of its own activation, with 0.23 behind it) and arousal_<source> for each source."""
    va = discrete_valence_arousal(np.nan_to_num(fused_probs))
    has = fused_quality > 0
    out = {"valence": np.where(has, va[:, 0], np.nan)}
    numerator = np.where(has, va[:, 1] * fused_quality, 0.0)
    denominator = np.where(has, fused_quality, 0.0)
    for name, (values, weight) in sources.items():
        numerator = numerator + values * weight
        denominator = denominator + weight
        out[AROUSAL_SOURCE_PREFIX + name.replace(".", "_")] = np.where(weight > 0, values, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["arousal"] = np.where(denominator > 0, numerator / denominator, np.nan)
    out["arousal_quality"] = np.where(denominator > 0, np.minimum(denominator, 1.0), np.nan)
    return out


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Row-wise Jensen-Shannon divergence in bits (0 = same, 1 = disjoint)."""
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0).sum(-1)
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum(-1)
    return 0.5 * (kl_p + kl_q)


def compared_pairs(modalities: Sequence[str], used: np.ndarray | None = None) -> list[tuple[int, int]]:
    """The (a, b) modality pairs incongruence compares: both fused by the method (``used``, default all: a weight
    above 0, a learned fuser's input) and of different arms, so one person's channels; two faces (``face-1``,
    ``face-2`` with face.person = "all") are two people, who may well feel differently."""
    used = np.ones(len(modalities), dtype=bool) if used is None else np.asarray(used, dtype=bool)
    return [
        (a, b)
        for a in range(len(modalities))
        for b in range(a + 1, len(modalities))
        if used[a] and used[b] and track_family(modalities[a]) != track_family(modalities[b])
    ]


# What a window flagged incongruent carries of each pair that disagrees, as measurements (names beginning
# ``incongruent_``): the pair's divergence, ``incongruent_<a>_vs_<b>``, and each one's confidence in its top label,
# ``incongruent_<modality>_<label>``. The reading lines look these names up; the reason's words are for people.
INCONGRUENT_PREFIX = "incongruent_"
AROUSAL_SOURCE_PREFIX = "arousal_"  # arousal_<source>: the arousal one fusion.arousal_from source gave


def pair_measurement(modality_a: str, modality_b: str) -> str:
    """The measurement of a pair that disagrees in a window: its Jensen-Shannon divergence in bits."""
    return f"{INCONGRUENT_PREFIX}{modality_a}_vs_{modality_b}"


def label_measurement(modality: str, label: str) -> str:
    """The measurement of a modality in a pair that disagrees: its confidence in ``label``, its top label."""
    return f"{INCONGRUENT_PREFIX}{modality}_{label}"


@dataclass(frozen=True)
class Disagreement:
    """Two modalities each confidently naming a different top label in one window."""

    modality_a: str
    label_a: str
    confidence_a: float
    modality_b: str
    label_b: str
    confidence_b: float
    divergence_bits: float

    def text(self) -> str:
        """In the reason's words: 'audio fearful (0.79) vs face happy (0.88)'."""
        return (f"{self.modality_a} {self.label_a} ({self.confidence_a:.2f}) vs "
                f"{self.modality_b} {self.label_b} ({self.confidence_b:.2f})")

    def measurements(self) -> dict[str, float]:
        return {
            pair_measurement(self.modality_a, self.modality_b): round(self.divergence_bits, 6),
            label_measurement(self.modality_a, self.label_a): round(self.confidence_a, 6),
            label_measurement(self.modality_b, self.label_b): round(self.confidence_b, 6),
        }


def incongruence_reason(disagreements: Sequence[Disagreement]) -> str:
    """A window's reason: 'incongruent: audio sad (0.85) vs face happy (0.90); ...', or "" where none disagree."""
    return f"incongruent: {'; '.join(d.text() for d in disagreements)}" if disagreements else ""


def disagreeing_labels(measurements: Mapping[str, float], modalities: Sequence[str],
                       labels: Sequence[str]) -> list[tuple[str, str, str, str]]:
    """(modality a, its label, modality b, its label) of each pair a window's ``measurements`` say disagree
    (``Disagreement.measurements``), in the order of ``modalities`` (the fused track's ``settings``) as the reason
    gives them; a pair whose labels are not both given is left out."""
    def label(modality: str) -> str | None:
        return next((name for name in labels if label_measurement(modality, name) in measurements), None)

    found = []
    for a, b in ((modalities[i], modalities[j]) for i, j in compared_pairs(modalities)):
        if pair_measurement(a, b) in measurements and (label_a := label(a)) and (label_b := label(b)):
            found.append((a, label_a, b, label_b))
    return found


def incongruence(
    data: FusionInput,
    used: np.ndarray | None = None,
    min_confidence: float = 0.5,
    min_quality: float = 0.3,
    min_divergence: float = 0.4,
) -> tuple[np.ndarray, list[list[Disagreement]]]:
    """Windows where two modalities the method fuses (``compared_pairs``) confidently disagree.

    A pair disagrees when both claim with quality >= ``min_quality``, each puts >= ``min_confidence`` on its
    top label, the top labels differ, each is one the other modality names in the window, they are not a
    compatible pair (neutral/calm), and the Jensen-Shannon divergence over the labels both name there is >=
    ``min_divergence`` bits. Returns (the largest divergence of any pair compared (n,), each window's pairs that
    disagree).
    """
    n = data.n_windows
    divergence = np.full(n, np.nan)
    found: list[list[Disagreement]] = [[] for _ in range(n)]
    rows = np.arange(n)
    for a, b in compared_pairs(data.modalities, used):
        both = data.speaks[:, a] & data.speaks[:, b]  # (n, labels): both name the label in the window
        if not both.any():
            continue
        pa, pb = data.probs[:, a] * both, data.probs[:, b] * both
        sa, sb = pa.sum(1, keepdims=True), pb.sum(1, keepdims=True)
        ok = (
            (data.quality[:, a] >= min_quality)
            & (data.quality[:, b] >= min_quality)
            & (sa[:, 0] > 0)
            & (sb[:, 0] > 0)
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            pa, pb = pa / sa, pb / sb
        jsd = np.where(ok, jensen_shannon(np.nan_to_num(pa), np.nan_to_num(pb)), np.nan)
        divergence = np.fmax(divergence, jsd)
        top_a, top_b = data.probs[:, a].argmax(1), data.probs[:, b].argmax(1)
        conf_a, conf_b = data.probs[:, a].max(1), data.probs[:, b].max(1)
        # Only top labels both can name disagree (as in the product of experts' check): a face without calm says
        # nothing against a calm voice, whatever the voice's leftover on the face's labels makes the divergence.
        nameable = data.speaks[rows, b, top_a] & data.speaks[rows, a, top_b]
        for i in np.flatnonzero(
            ok
            & nameable
            & (top_a != top_b)
            & (conf_a >= min_confidence)
            & (conf_b >= min_confidence)
            & (jsd >= min_divergence)
        ):
            la, lb = CANONICAL_LABELS[top_a[i]], CANONICAL_LABELS[top_b[i]]
            if frozenset({la, lb}) in COMPATIBLE:
                continue
            found[i].append(Disagreement(data.modalities[a], la, float(conf_a[i]), data.modalities[b], lb,
                                         float(conf_b[i]), float(jsd[i])))
    return divergence, found
