"""The face arm: a video in, a face Track out — expression probabilities, quality and face geometry per window.

The per-frame work is in ``observer.py``, fed by the video pass that the body arm reads too
(``runtime.arms.video.scan``: frames decoded once); this module turns a person's observations into windows on
the session clock.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from runtime.arms.face.geometry import FRAME_MEASUREMENTS, GAZE_MEASUREMENTS, blinks
from runtime.arms.face.observer import FaceObservation
from runtime.arms.face.settings import FaceSettings
from runtime.arms.video.scan import (
    VideoScan,
    mark_picture_edges,
    request_picture_edges,
    shared_scan,
    video_duration_s,
)
from runtime.sources.video import NO_FRAMES, frame_reach_s
from runtime.track import CANONICAL_LABELS, Coverage, InstantsByWindow, Track, Window, window_grid

if TYPE_CHECKING:  # the pipeline imports the arms
    from runtime.pipeline import AnalysisRequest

log = logging.getLogger(__name__)

NO_FACE = "no face"
FACE_LOST = "face lost"
HEAD_AWAY_DEG = 20.0  # head turned this far from the person's own median pose counts as looking away


def chosen_people(scan: VideoScan, person: str) -> list[int]:
    """Which people get a track: the patient (default), everybody, or one person by number."""
    ids = sorted({o.person_id for o in scan.faces})
    if person == "all":
        return ids or [0]
    if person == "patient":
        return [scan.patient_id or 0]
    if person.isdigit():
        return [int(person)]
    raise ValueError(f"face.person must be 'patient', 'all' or a person number, not {person!r}")


def face_track(scan: VideoScan, person_id: int, duration_s: float, settings: FaceSettings,
               labels: list[str], name: str = "face") -> Track:
    """Windows for one person's face; quality 0 with a reason where that face gives no evidence."""
    evidence = FaceEvidence(scan.frame_times_s, scan.faces, person_id, settings.sample_fps)
    measure = _session_measurements([o for o in scan.faces if o.person_id == person_id])
    windows = [evidence.window(start_s, end_s, measure)
               for start_s, end_s in window_grid(duration_s, settings.window_s, settings.hop_s)]
    return Track(
        name=name,
        labels=list(labels),
        unsupported_labels=[label for label in CANONICAL_LABELS if label not in labels],
        windows=windows,
        model=dict(scan.models.get("expression", {})),
        settings={
            "sample_fps": settings.sample_fps, "window_s": settings.window_s, "hop_s": settings.hop_s,
            "person": settings.person, "person_id": person_id, "people_seen": scan.n_people,
            "frames": scan.stats.to_dict(), "models": scan.models,
        },
    )


class FaceEvidence:
    """What ``face_window`` judges a window of one person's face by: the frames sampled in it, the person's faces
    seen in them (in scan order), whether their face was seen before it began, and the share of it the camera saw.
    The face track and a live session's face lines both judge their windows through it, so that a line says what
    the track records.

    ``frame_times_s`` and ``faces`` may be a stretch of a scan (a live line's), given the person's ``first_seen_s``
    in the whole scan: a stretch from the last frame before a window on to a frame at or after its end gives the
    window as the whole scan does."""

    def __init__(self, frame_times_s: Sequence[float], faces: Sequence[FaceObservation], person_id: int | None,
                 sample_fps: float, first_seen_s: float | None = None):
        self.seen = [o for o in faces if o.person_id == person_id and o.confidence > 0]
        seen_s = np.array([o.t_s for o in self.seen], dtype=float)
        if first_seen_s is None:
            first_seen_s = float(seen_s.min()) if seen_s.size else math.inf
        self.first_seen_s = first_seen_s
        self._frames = InstantsByWindow(frame_times_s)
        self._faces = InstantsByWindow(seen_s)  # a window's faces in scan order
        self._seeing = Coverage(frame_times_s, frame_reach_s(sample_fps))

    def window(self, start_s: float, end_s: float, measure: Callable[..., dict[str, float]] | None = None) -> Window:
        return face_window(start_s, end_s, self._frames.count(start_s, end_s),
                           [self.seen[i] for i in self._faces.indices(start_s, end_s)],
                           start_s >= self.first_seen_s, self._seeing.fraction(start_s, end_s), measure)


def face_window(start_s: float, end_s: float, n_frames: int, found: list[FaceObservation], seen_before: bool,
                covered: float, measure: Callable[..., dict[str, float]] | None = None) -> Window:
    """One face window: ``n_frames`` sampled in it, ``found`` the person's faces in them (in scan order),
    ``seen_before`` whether the face was seen before the window began, ``covered`` the share of the window the
    camera saw (``Coverage``), ``measure`` the window's measurements (none for a live line). Quality 0 with a
    reason where the face gives no evidence; otherwise the share of frames read × their confidence × coverage."""
    if n_frames == 0:
        return Window(start_s, end_s, quality=0.0, reason=NO_FRAMES)
    if not found:
        return Window(start_s, end_s, quality=0.0, reason=FACE_LOST if seen_before else NO_FACE,
                      measurements={"face_coverage": 0.0} if measure else {})
    coverage = min(1.0, len(set(o.t_s for o in found)) / n_frames)
    measurements = measure(found, start_s, end_s, coverage) if measure else {}
    read, why_not = read_expressions(found)  # the frames whose expression could be read count
    if not read:  # seen, but no frame's crop could be read for its expression
        return Window(start_s, end_s, quality=0.0, reason=why_not, measurements=measurements)
    read_share = min(1.0, len(set(o.t_s for o in read)) / n_frames)
    confidence = np.array([o.confidence for o in read])
    quality = float(round(read_share * confidence.mean() * covered, 6))
    return Window(start_s, end_s, probs=mean_expression(read), quality=quality, measurements=measurements)


def read_expressions(found: list[FaceObservation]) -> tuple[list[FaceObservation], str]:
    """A window's faces whose expression could be read from their crops, and, where none could, why not (a face
    too dark; ``NO_FACE`` for a window without faces)."""
    read = [o for o in found if not o.unreadable]
    return read, "" if read else found[0].unreadable if found else NO_FACE


def mean_expression(found: list[FaceObservation]) -> list[float] | None:
    """A window's expression: the frames' probabilities averaged, weighted by face confidence."""
    with_probs = [(o.probs, o.confidence) for o in found if o.probs is not None and o.confidence > 0]
    if not with_probs:
        return None
    weights = np.array([w for _, w in with_probs])
    mean = np.average(np.stack([p for p, _ in with_probs]), axis=0, weights=weights)
    return [float(p) for p in mean / mean.sum()]


# (yaw, pitch) measurement names of the two "away" fractions: the head alone, and the gaze (head and eyes).
AWAY_ANGLES = {"head_away_fraction": ("head_yaw_deg", "head_pitch_deg"),
               "gaze_away_fraction": ("gaze_yaw_deg", "gaze_pitch_deg")}


# Measured over a window's observations as a whole (the others are medians of per-frame ones).
WINDOW_MEASUREMENTS = ("blink_rate_per_min", "face_coverage", "face_size_px")


def measurement_names() -> set[str]:
    """Every measurement a face window carries (what ``fusion.arousal_from`` may name on a face track)."""
    return {*FRAME_MEASUREMENTS, *GAZE_MEASUREMENTS, *AWAY_ANGLES, *WINDOW_MEASUREMENTS}


def _angles(observations: list[FaceObservation], names: tuple[str, str]) -> np.ndarray:
    """(n, 2) yaw and pitch of the observations that have measurements; NaN where one is missing."""
    return np.array([[o.measurements.get(n, np.nan) for n in names] for o in observations if o.measurements],
                    dtype=float).reshape(-1, 2)


def _away_fraction(angles: np.ndarray, median_deg: np.ndarray) -> float:
    """Share of the rows with both angles whose yaw or pitch is more than HEAD_AWAY_DEG from the person's own
    median; NaN when no row has both."""
    usable = angles[np.isfinite(angles).all(axis=1)]
    if usable.shape[0] == 0 or not np.isfinite(median_deg).all():
        return float("nan")
    return float(np.mean((np.abs(usable - median_deg) > HEAD_AWAY_DEG).any(axis=1)))


def _session_measurements(observations: list[FaceObservation]):
    """A per-window measurement function with the session-level references it needs (median pose, blinks)."""
    valid = [o for o in observations if o.confidence > 0 and o.measurements]
    times = np.array([o.t_s for o in valid])
    eye = np.array([o.measurements.get("eye_opening", np.nan) for o in valid])
    blink_times = blinks(eye, times) if len(valid) else np.zeros(0)
    # Fewer than 3 valid eye openings give no blink reference: the rate is not measured (NaN), not zero.
    blinks_measurable = int(np.isfinite(eye).sum()) >= 3
    medians = {}
    for fraction, names in AWAY_ANGLES.items():
        angles = _angles(valid, names)
        usable = angles[np.isfinite(angles).all(axis=1)]
        medians[fraction] = np.median(usable, axis=0) if usable.shape[0] else np.full(2, np.nan)

    def measure(found: list[FaceObservation], start_s: float, end_s: float, coverage: float) -> dict[str, float]:
        values: dict[str, float] = {}
        for name in FRAME_MEASUREMENTS + GAZE_MEASUREMENTS:
            column = np.array([o.measurements.get(name, np.nan) for o in found], dtype=float)
            values[name] = float(np.nanmedian(column)) if np.isfinite(column).any() else float("nan")
        for fraction, names in AWAY_ANGLES.items():
            values[fraction] = _away_fraction(_angles(found, names), medians[fraction])
        n_blinks = int(((blink_times >= start_s) & (blink_times < end_s)).sum())
        values["blink_rate_per_min"] = (n_blinks * 60.0 / max(end_s - start_s, 1e-6) if blinks_measurable
                                        else float("nan"))
        values["face_coverage"] = float(coverage)
        values["face_size_px"] = float(np.median([o.size_px for o in found]))
        return values

    return measure


def analyze_face_request(request: AnalysisRequest) -> Track | list[Track] | None:
    """The pipeline's face arm: None when the input has no video stream, or one holding no frames beside what
    another arm reads (``shared_scan``)."""
    if not request.media.has_video:
        return None
    settings = FaceSettings.from_config(request.settings.get("face", {}))
    scan = shared_scan(request)
    if scan is None:
        return None
    duration_s = video_duration_s(scan, request.media.end_s, settings.sample_fps)
    edges = request_picture_edges(request)
    tracks = [mark_picture_edges(track, edges) for track in face_tracks(scan, duration_s, settings)]
    if scan.n_people == 0:
        log.warning("%s: no face found in %d sampled frames", request.input_path, len(scan.frame_times_s))
    elif followed := followed_person_note(scan, settings.person):
        log.warning("%s: %s", request.input_path, followed)
    elif scan.n_people > 1:
        log.info("%s: %d people seen; face track for %s", request.input_path, scan.n_people, settings.person)
    if settings.person.isdigit() and scan.n_people and int(settings.person) > scan.n_people:
        log.warning("%s: face.person = %s, but only %d %s seen: every face window says no face",
                    request.input_path, settings.person, scan.n_people,
                    "person was" if scan.n_people == 1 else "people were")
    return tracks[0] if len(tracks) == 1 else tracks


def followed_person_note(scan: VideoScan, person: str) -> str:
    """The line that says whom the one face track follows where several people were seen and face.person =
    "patient" chose one (it may be the therapist's); "" otherwise (one person, or the user chose by number or all)."""
    if scan.n_people < 2 or person != "patient":
        return ""
    return (f"{scan.n_people} people seen; the face track follows person {scan.patient_id}, seen longest and largest "
            "(face.person = \"all\" gives each a track)")


def face_tracks(scan: VideoScan, duration_s: float, settings: FaceSettings) -> list[Track]:
    """The face tracks ``settings.person`` asks for: "face" for one person, "face-<id>" each for several."""
    labels = expression_labels(settings)
    people = chosen_people(scan, settings.person)
    return [face_track(scan, person_id, duration_s, settings, labels,
                       name="face" if len(people) == 1 else f"face-{person_id}") for person_id in people]


def expression_labels(settings: FaceSettings) -> list[str]:
    """The canonical labels the configured expression model speaks about (none without a model)."""
    if not settings.model:
        return []
    from runtime.models import load_card

    card = load_card(settings.model)
    return [label for label in CANONICAL_LABELS if label in card.labels]
