"""The body arm: pose landmarks on the frames of the video pass it shares with the face arm → per-window
body-language measurements.

Movement measurements are also given relative to the session's own median (1.0 = this person's usual; a median
below the noise floor ``measures.MOVEMENT_REFERENCE_FLOOR_SW_PER_S`` counts as that floor), and
``activation`` (arousal, 0–1) follows the formula in ``measures.activation``. No discrete emotions are made
up from rules: the body track carries probabilities only when a classifier trained on the user's own
labelled segments (``emotrace train body``) is configured.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from runtime.arms.body import measures
from runtime.arms.body.classifier import BodyClassifier
from runtime.arms.body.pose import BodyObservation
from runtime.arms.body.settings import BodySettings
from runtime.arms.video.scan import (
    VideoScan,
    mark_picture_edges,
    request_picture_edges,
    shared_scan,
    video_duration_s,
    video_sample_fps,
)
from runtime.sources.video import NO_FRAMES, frame_reach_s
from runtime.track import CANONICAL_LABELS, Coverage, InstantsByWindow, Track, Window, window_grid

if TYPE_CHECKING:  # the pipeline imports the arms
    from runtime.pipeline import AnalysisRequest

log = logging.getLogger(__name__)

NO_BODY = "no body pose"
RELATIVE = ("overall", "head", "hands", "torso")


def window_measurements(times_s: np.ndarray, points: np.ndarray, visibility: np.ndarray,
                        start_s: float, end_s: float) -> dict[str, float]:
    """Absolute measurements of one window's frames (arrays already cut to the window)."""
    values: dict[str, float] = {}
    if len(times_s) >= 2:
        speeds = measures.group_speeds(points, visibility, times_s)
        for name, speed in speeds.items():
            values[f"movement_{name}"] = float(np.nanmean(speed)) if np.isfinite(speed).any() else float("nan")
        overall = speeds["overall"]
        values["stillness"] = (float(np.mean(overall[np.isfinite(overall)] < measures.STILL_SPEED))
                               if np.isfinite(overall).any() else float("nan"))
    else:
        for name in measures.GROUPS:
            values[f"movement_{name}"] = float("nan")
        values["stillness"] = float("nan")
    values["fidgeting"] = measures.fidgeting(points, visibility, end_s - start_s)
    values["self_touch"] = float(measures.self_touch(points, visibility).mean())
    values["openness"] = float(np.median(measures.openness(points)))
    values["head_height"] = float(np.median(measures.head_height(points)))
    values["lean_sideways_deg"] = float(np.median(measures.sideways_lean_deg(points)))
    values["shoulder_width_px"] = float(np.median(measures.shoulder_width(points)))
    return values


def measurement_names() -> set[str]:
    """Every measurement a body window carries, as this arm's own functions make them (on a window of one
    made frame): what ``fusion.arousal_from`` may name on a body track."""
    # One frame, not none: numpy's lines on medians of nothing could be silenced only by warnings.catch_warnings,
    # which is not thread-safe (a live session's video thread asks this beside the physio threads).
    points = np.zeros((1, 33, 3))
    points[0, measures.RIGHT_SHOULDER, 0] = 1.0  # shoulders apart: a width to measure in
    values = window_measurements(np.zeros(1), points, np.ones((1, 33)), 0.0, 1.0)
    add_relative([values])
    return set(values)


def add_relative(windows: list[dict[str, float]]) -> None:
    """Session-relative values in place: movement and fidgeting over the session median, or over the noise floor
    where the median is below it (``measures.movement_reference``); posture as differences from the median
    (lean_forward: shoulder width over its median − 1, closer to the camera > 0; head_down: the median head height
    minus this window's, a lowered head > 0); and ``activation``."""
    def median(name: str) -> float:
        column = np.array([w.get(name, np.nan) for w in windows], dtype=float)
        return float(np.nanmedian(column)) if np.isfinite(column).any() else float("nan")

    references = {name: median(name) for name in
                  [f"movement_{g}" for g in RELATIVE] + ["fidgeting", "openness", "head_height",
                                                          "shoulder_width_px"]}
    for values in windows:
        for name in [f"movement_{g}" for g in RELATIVE] + ["fidgeting"]:
            values[f"{name}_rel"] = values[name] / measures.movement_reference(references[name])
        values["openness_rel"] = values["openness"] - references["openness"]
        values["head_down"] = references["head_height"] - values["head_height"]
        values["lean_forward"] = values["shoulder_width_px"] / references["shoulder_width_px"] - 1.0
        values["activation"] = measures.activation(values["movement_overall_rel"], values["fidgeting_rel"])


def patient_poses(scan: VideoScan) -> list[BodyObservation]:
    """The poses that belong to the face arm's patient.

    With several people in view, a pose counts when its nose was in the patient's face box (or it was followed
    on from such a pose); with one person or none seen by the face arm, every pose counts.
    """
    if scan.n_people <= 1 or scan.patient_id is None:
        return list(scan.bodies)
    return [o for o in scan.bodies if o.person_id == scan.patient_id]


def body_track(scan: VideoScan, duration_s: float, settings: BodySettings,
               classifier: BodyClassifier | None = None) -> Track:
    """The body windows of the patient's poses in ``scan``; probabilities only with a trained ``classifier``."""
    observations = patient_poses(scan)
    frames = InstantsByWindow(scan.frame_times_s)
    seeing = Coverage(scan.frame_times_s, frame_reach_s(settings.sample_fps))
    times = np.array([o.t_s for o in observations], dtype=float)
    poses = InstantsByWindow(times)
    points = np.stack([o.points for o in observations]) if observations else np.zeros((0, 33, 3))
    visibility = np.stack([o.visibility for o in observations]) if observations else np.zeros((0, 33))
    presence = np.array([o.presence for o in observations], dtype=float)
    grid = window_grid(duration_s, settings.window_s, settings.hop_s)
    claims: list[dict[str, float]] = []
    claim_index: list[int] = []
    windows = []
    for i, (start_s, end_s) in enumerate(grid):
        n_frames = frames.count(start_s, end_s)
        inside = poses.indices(start_s, end_s)
        if n_frames == 0:
            windows.append(Window(start_s, end_s, quality=0.0, reason=NO_FRAMES))
            continue
        if not inside.size:
            windows.append(Window(start_s, end_s, quality=0.0, reason=NO_BODY))
            continue
        upper = visibility[inside][:, list(measures.UPPER_BODY)].mean()
        quality = float(round(min(1.0, inside.size / n_frames) * presence[inside].mean() * upper
                              * seeing.fraction(start_s, end_s), 6))
        values = window_measurements(times[inside], points[inside], visibility[inside], start_s, end_s)
        windows.append(Window(start_s, end_s, quality=quality))
        claims.append(values)
        claim_index.append(i)
    add_relative(claims)
    for i, values in zip(claim_index, claims, strict=True):
        windows[i].measurements = values
    labels: list[str] = []
    model: dict = {k: v for k, v in scan.models.items() if k.startswith("pose")}
    if classifier is not None and claims:
        labels = list(classifier.labels)
        probs = classifier.predict(claims)
        for i, row in zip(claim_index, probs, strict=True):
            windows[i].probs = [float(p) for p in row]
        model = {**model, "classifier": classifier.identity()}
    return Track(
        name="body",
        labels=labels,
        unsupported_labels=[label for label in CANONICAL_LABELS if label not in labels],
        windows=windows,
        model=model,
        settings={"sample_fps": settings.sample_fps, "window_s": settings.window_s, "hop_s": settings.hop_s,
                  "baseline": "session median", "frames": scan.stats.to_dict(),
                  "person_id": scan.patient_id if scan.n_people > 1 else None,
                  "poses_of_others_left_out": len(scan.bodies) - len(observations)},
    )


def load_classifier(settings: BodySettings) -> BodyClassifier | None:
    """The body classifier ``settings.model`` names (``emotrace train body``), or None for measurements only."""
    if not settings.model:
        return None
    return BodyClassifier(settings.model)


def body_settings(settings: dict[str, dict[str, Any]]) -> BodySettings:
    """The ``[body]`` section's settings at the rate its frames are sampled: the two arms read one scan of the
    video (file mode's ``shared_scan`` and a live session's camera alike), at ``video_sample_fps``."""
    return replace(BodySettings.from_config(settings.get("body", {})), sample_fps=video_sample_fps(settings))


def analyze_body_request(request: AnalysisRequest) -> Track | None:
    """The pipeline's body arm: None when the input has no video stream, or one holding no frames beside what
    another arm reads (``shared_scan``)."""
    if not request.media.has_video:
        return None
    settings = body_settings(request.settings)
    scan = shared_scan(request)
    if scan is None:
        return None
    duration_s = video_duration_s(scan, request.media.end_s, settings.sample_fps)
    classifier = load_classifier(settings)
    if not scan.bodies:
        log.warning("%s: no body pose found in %d sampled frames", request.input_path, len(scan.frame_times_s))
    return mark_picture_edges(body_track(scan, duration_s, settings, classifier), request_picture_edges(request))
