"""Fusion: the modality tracks on one window grid, combined into the "fused" track.

Every method is a ``Fuser`` (``fit`` where it learns, ``fuse(tracks) -> Track``), registered by name here for
``--fusion NAME`` and the ``[fusion]`` config section.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from runtime.errors import InputError
from runtime.fusion.align import (
    FusionInput,
    align_tracks,
    is_emotion_track,
    own_labels,
    own_labels_line,
    read_for_arousal,
)
from runtime.fusion.base import Fuser
from runtime.fusion.learned import AttentionFusion, OnnxFuser, StackingFusion
from runtime.fusion.methods import (
    AccuracyWeightedFusion,
    MeanFusion,
    ProductFusion,
    QualityAwareFusion,
    WeightedFusion,
    check_weights,
    weighs_any,
)
from runtime.track import Track, track_family

FUSERS: dict[str, Callable[..., Fuser]] = {
    "mean": MeanFusion,
    "weighted": WeightedFusion,
    "accuracy": AccuracyWeightedFusion,
    "accuracy-class": lambda **kw: AccuracyWeightedFusion(per_class=True, **kw),
    "quality": QualityAwareFusion,
    "product": ProductFusion,
    "stacking": StackingFusion,
    "attention": AttentionFusion,
}


log = logging.getLogger(__name__)


def make_fuser(
    name: str,
    weights: Mapping[str, float] | None = None,
    backend: str = "onnxruntime",
    model: str | None = None,
) -> Fuser:
    """A fuser by registry name; ``weights`` only for "weighted", ``model``/``backend`` only for learned
    ones.
    """
    if name not in FUSERS:
        raise InputError(name, f"unknown fusion method; choose one of {', '.join(FUSERS)}")
    if name == "weighted":
        return WeightedFusion(weights)
    if name in ("stacking", "attention"):
        return FUSERS[name](model=model, backend=backend)
    return FUSERS[name]()


def parse_weights(text: str) -> dict[str, float]:
    """``audio=0.3,face=0.7`` → {"audio": 0.3, "face": 0.7}; weights must be finite non-negative numbers, small
    enough to add up (``check_weights``), each modality named once."""
    weights = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = -1.0
        if not sep or not name.strip() or not (math.isfinite(weight) and weight >= 0):
            raise InputError("--weights", f"{part!r} is not MODALITY=NON_NEGATIVE_NUMBER")
        if name.strip() in weights:  # the last would silently stand in for the first
            raise InputError("--weights", f"{name.strip()} is weighed twice")
        weights[name.strip()] = weight
    if not weights:
        raise InputError("--weights", "no weights given (e.g. audio=0.3,face=0.7)")
    return check_weights(weights, "--weights")


def fuser_from_settings(section: Mapping[str, Any], backend: str = "onnxruntime") -> Fuser:
    """The fuser the ``[fusion]`` settings name (as ``runtime.config.load_settings`` checked them: weights only
    with the weighted method). Loads no model yet, so it can check the settings before any arm runs."""
    method = section["method"]
    text = str(section.get("weights") or "").strip()
    weights = parse_weights(text) if text else None
    return make_fuser(method, weights=weights, backend=backend, model=section.get("model") or None)


def fuse_arguments(section: Mapping[str, Any]) -> dict[str, Any]:
    """``Fuser.fuse``'s keyword arguments (grid, arousal sources, incongruence thresholds) from the ``[fusion]``
    settings, for file mode and live mode alike."""
    return {
        "window_s": section["window_s"],
        "hop_s": section["hop_s"],
        "arousal_from": section.get("arousal_from", []),
        "incongruence_settings": {
            "min_confidence": section["incongruence_confidence"],
            "min_divergence": section["incongruence_divergence"],
        },
    }


def emotion_arm_tracks() -> list[str]:
    """The names of the tracks the arms that judge emotion write (audio, face, body; ``face-N`` is a ``face``)."""
    from runtime.arms.registry import ARM_REGISTRY

    return [arm.section for arm in ARM_REGISTRY if arm.emotion]


def foreign_modalities(modalities: Sequence[str]) -> list[str]:
    """Those of a learned fuser's ``modalities`` that no arm's track is named for ('voice' beside the audio arm's
    ``audio``): no session ever has them, so a fuser reading them is never given them."""
    arms = emotion_arm_tracks()
    return [m for m in modalities if track_family(m) not in arms]


def should_fuse(tracks: Sequence[Track], when: str, arousal_from: Sequence[str] = ()) -> bool:
    """ "always": whenever a track exists; "multiple": when at least two tracks have something to say, to fusion: a
    track whose labels are all its model's own (``align.own_labels``) says nothing fusion reads, unless
    ``arousal_from`` names it."""
    speaking = [t for t in tracks if any(w.has_claim or w.measurements for w in t.windows)
                and not fuses_nothing_of(t, arousal_from)]
    return bool(speaking) if when == "always" else len(speaking) >= 2


def fuses_nothing_of(track: Track, arousal_from: Sequence[str] = ()) -> bool:
    """Whether fusion reads nothing of ``track``: an emotion arm's track whose labels are all its model's own (none
    of the canonical ones fusion works over; ``align.own_labels``), none of whose labels or measurements an
    ``arousal_from`` entry names (a typo, 'audio.hgih', reads nothing of it)."""
    own = own_labels(track)
    return bool(own) and len(own) == len(track.labels) and not read_for_arousal(track, arousal_from)


def say_own_labels(tracks: Sequence[Track], arousal_from: Sequence[str] = ()) -> None:
    """One warning for each track whose own labels fusion leaves out of the fused track, but those ``arousal_from``
    reads into its arousal (``align.own_labels_line``)."""
    for track in tracks:
        line = own_labels_line(track, arousal_from=arousal_from)
        if line:
            log.warning("fusion: %s", line)


def _say_weights_unused(weights: Mapping[str, float], tracks: Sequence[Track]) -> None:
    """A warning for weights naming no track of the session (a clinic's weights name every modality; a session
    without one is fused from the others), and one when every emotion track weighs 0 (nothing is fused)."""
    names = {track.name for track in tracks} | {track_family(track.name) for track in tracks}
    absent = sorted(set(weights) - names)
    if absent:
        log.warning("fusion.weights weigh %s, of which this session has no track: fused from %s", ", ".join(absent),
                    ", ".join(sorted(names & set(weights))) or "the others at weight 1")
    emotion = [track.name for track in tracks if is_emotion_track(track)]
    if emotion and not weighs_any(weights, emotion):
        log.warning("fusion.weights weigh every emotion track of this session (%s) 0: the fused track makes no "
                    "claim", ", ".join(emotion))


def _say_inputs_absent(fuser: Fuser, tracks: Sequence[Track]) -> None:
    """A warning when a learned fuser leaves out emotion tracks of the session, its card naming other modalities:
    where it has none of its inputs (only ``face-N`` tracks, other people's faces as it reads them, or a body
    classifier's) the fused track makes no claim; where it has some, the fused track says nothing of the others (a
    voice fused without the ``face-N`` tracks, or without a body classifier's), which the windows' reasons alone
    said."""
    emotion = [track.name for track in tracks if is_emotion_track(track)]
    if not (emotion and isinstance(fuser, OnnxFuser)):
        return
    left_out = [name for name in emotion if name not in fuser.modalities]
    if not left_out:
        return
    faces = any(track_family(name) == "face" for name in left_out)  # face-N: other people's, as it reads them
    advice = ("(%sa rule method, e.g. --fusion quality, fuses every track)"
              % ("face.person = \"patient\" fuses the patient's face; " if faces else ""))
    if len(left_out) == len(emotion):
        log.warning("fusion-%s fuses %s; this session's emotion tracks (%s) are none of them: the fused track makes "
                    "no claim %s", fuser.name, ", ".join(fuser.modalities), ", ".join(emotion), advice)
    else:
        lacking = [m for m in fuser.modalities if m not in emotion]
        log.warning("fusion-%s fuses %s%s: it leaves this session's %s out of the fused track %s", fuser.name,
                    ", ".join(fuser.modalities), f", and this session has no {', '.join(lacking)} track" if lacking
                    else "", ", ".join(left_out), advice)


def fuse_with_settings(
    tracks: Sequence[Track], section: dict[str, Any], backend: str = "onnxruntime"
) -> Track:
    """The fused track as the ``[fusion]`` settings section says."""
    fuser = fuser_from_settings(section, backend=backend)
    if isinstance(fuser, WeightedFusion):  # weights parsed once, by fuser_from_settings
        _say_weights_unused(fuser.weights, tracks)
    _say_inputs_absent(fuser, tracks)
    say_own_labels(tracks, section.get("arousal_from", []))
    return fuser.fuse(tracks, **fuse_arguments(section))


__all__ = [
    "FUSERS",
    "Fuser",
    "FusionInput",
    "align_tracks",
    "emotion_arm_tracks",
    "foreign_modalities",
    "fuse_arguments",
    "fuse_with_settings",
    "fuser_from_settings",
    "make_fuser",
    "parse_weights",
    "should_fuse",
    "fuses_nothing_of",
]
