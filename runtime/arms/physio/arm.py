"""The physiological arm: a recording in, a Track out - stress probability per window plus measurements.

The recording's own clock starts at its earliest channel. To sit beside a video it is shifted onto the
session (video) clock by an offset: given explicitly (``--physio-offset``: where the recording starts on
the video's clock, in seconds), or from both wall-clock starts, or - when neither exists - assumed 0 and
said so in the track's settings. A recording that does not overlap the video is an error naming both.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from runtime.arms.physio.features import MEASUREMENTS, recording_features
from runtime.arms.physio.live import LiveStress
from runtime.arms.physio.model import card_setting, input_blocks
from runtime.arms.physio.readers import read_recording
from runtime.arms.physio.readers.text import parse_iso_time
from runtime.arms.physio.recording import PLAUSIBLE_UNIX_S, Recording, seconds_text
from runtime.arms.physio.stress import (
    DEFAULT_MODEL,
    MIN_BASELINE_S,
    MIN_BASELINE_WINDOWS,
    STRESS_LABEL,
    PhysioSettings,
    PhysioWindow,
    classify_session,
    input_settings,
    load_physio_model,
    settings_as_trained,
    warn_if_not_as_trained,
)
from runtime.clock import seconds_below
from runtime.errors import InputError
from runtime.files import check_output_file, write_atomically
from runtime.models import Model
from runtime.track import CANONICAL_LABELS, Track, Window, csv_number, window_grid

if TYPE_CHECKING:  # the pipeline imports the arms
    from runtime.pipeline import AnalysisRequest

log = logging.getLogger("emotrace.physio")


def _seconds_total(total_s: float) -> str:
    """A total of seconds to a tenth, or to two digits where that would read 0.0 (a 31 ms gap is not nothing)."""
    return f"{total_s:.1f}" if total_s >= 0.1 else f"{total_s:.2g}"


def classify_windows(
    recording: Recording, model: Model, settings: PhysioSettings, until_s: float | None = None
) -> list[PhysioWindow]:
    """Every window of the recording (its own clock) with its stress probability, quality and measurements;
    ``until_s``: windows up to then instead of the recording's end (a live session outlasting its sensors)."""
    gaps = recording.gaps()
    if gaps:
        summary = ", ".join(f"{name}: {len(v)} gap(s), {_seconds_total(sum(b - a for a, b in v))} s"
                            for name, v in gaps.items())
        log.warning("%s: missing data (%s); windows there lose quality", recording.source, summary)
    warn_if_not_as_trained(model, settings)
    windows = recording_features(recording, settings.window_s, settings.hop_s, end_s=until_s)
    # The model judges each window against the session's own baseline: a few minutes, in several windows.
    reason = ""
    # samples read as a live session stopped may lie a moment past its end: they are not in its windows
    measured_s = recording.duration_s if until_s is None else min(recording.duration_s, until_s)
    if measured_s < MIN_BASELINE_S:
        reason = too_short_reason(measured_s, until_s)
    elif len(windows) < MIN_BASELINE_WINDOWS:
        reason = f"too few windows for a session baseline ({len(windows)} < {MIN_BASELINE_WINDOWS})"
    if reason:  # said once here too: in the windows alone, a run with no stress figure at all looked like success
        log.warning("%s: no stress figure in any window: %s; its windows carry measurements only", recording.source,
                    reason)
        return [PhysioWindow(w.start_s, w.end_s, None, 0.0, reason, w.measurements) for w in windows]
    if card_setting(model.card.extra, "scope") == "running":  # a live model: each window as a live session judges it
        log.warning("physio: %s judges each window against the windows before it, as a live session does: no "
                    "stress figure before %g s; a recording is judged against the whole session by physio-stress",
                    model.card.id, settings.live_baseline_s)

        live = LiveStress(model, settings)
        return [live.add(w) for w in windows]
    return classify_session(windows, model)


def too_short_reason(recorded_s: float, until_s: float | None) -> str:
    """Why no window has a session baseline where the samples end at ``recorded_s``; ``until_s``: the live session's
    length, which the samples of sensors that stopped early fall short of (what is measured is where they end)."""
    if until_s is None:
        return f"recording too short for a session baseline ({seconds_below(recorded_s)} s < {MIN_BASELINE_S:g} s)"
    return (f"recording too short for a session baseline (sensor samples to {seconds_below(recorded_s)} s of the "
            f"session's {seconds_below(until_s)} s, under {MIN_BASELINE_S:g} s)")


def classify_to_csv(
    path: Path,
    csv_out: Path,
    model_location: str = DEFAULT_MODEL,
    window_s: float | None = None,
    hop_s: float | None = None,
    start_unix_s: float | None = None,
    rate_hz: float | None = None,
    utc_offset_s: float | None = None,
) -> int:
    """``physio classify``: one CSV row per window (the model's own windows unless given, as ``load_settings``
    checked them), ``start_s`` from the earliest channel start."""
    check_output_file(csv_out, [path])
    model = load_physio_model(model_location)
    settings = settings_as_trained(model, window_s, hop_s)
    recording = read_recording(path, start_unix_s=start_unix_s, rate_hz=rate_hz, utc_offset_s=utc_offset_s,
                               to_process=True)
    windows = classify_windows(recording, model, settings)
    write_atomically(Path(csv_out), windows_csv(windows).encode())
    return len(windows)


def windows_csv(windows: list[PhysioWindow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["start_s", "end_s", "stress", "quality", "reason", *MEASUREMENTS])
    for w in windows:
        writer.writerow(
            [
                csv_number(w.start_s),
                csv_number(w.end_s),
                "" if w.stress is None else csv_number(w.stress),
                csv_number(w.quality),
                w.reason,
                *(csv_number(w.measurements[m]) for m in MEASUREMENTS),
            ]
        )
    return buffer.getvalue()




# --- the arm in `analyze` -------------------------------------------------------------------------------


WALL_CLOCKS_PREFIX = "wall clocks: "  # how a sync placed by both wall clocks begins


def resolve_offset(
    recording: Recording, video_duration_s: float, offset_s: float | None, video_start_unix_s: float | None
) -> tuple[float, str]:
    """Where the recording starts on the video clock, and how that was decided."""
    if offset_s is not None and not math.isfinite(offset_s):
        raise InputError("--physio-offset", f"must be a finite number of seconds, got {offset_s}")
    if offset_s is not None:
        how = f"given: recording starts at {seconds_text(offset_s, '+.3f')} s on the video clock"
    elif recording.start_unix_s is not None and video_start_unix_s is not None:
        offset_s = recording.start_unix_s - video_start_unix_s
        how = f"{WALL_CLOCKS_PREFIX}recording starts at {seconds_text(offset_s, '+.3f')} s on the video clock"
    else:
        offset_s = 0.0
        # which of the two lacks its clock: the one to mend (a start line for the recording, or an offset)
        lacking = ("the recording gives no wall-clock start" if recording.start_unix_s is None
                   else "the video has no creation_time")
        how = f"assumed: recording and video start together (no offset given; {lacking})"
    rec_start, rec_end = offset_s, offset_s + recording.end_s
    if rec_end <= 0.0 or rec_start >= video_duration_s:  # an end not known before the video is read is inf
        raise InputError(
            recording.source,
            f"no overlap with the video: the recording covers {seconds_text(rec_start)}..{seconds_text(rec_end)} s "
            f"on the video clock, the video {video_span_text(video_duration_s)} ({how})"
            f"{utc_spans_text(recording.start_unix_s, offset_s, (rec_start, rec_end), video_duration_s, how)}",
        )
    return offset_s, how


def utc_spans_text(start_unix_s: float | None, offset_s: float, covered_s: tuple[float, float], video_end_s: float,
                   how: str, covered: str = "the recording") -> str:
    """Where both wall clocks placed the recording (``how``; it starts at ``start_unix_s``, ``offset_s`` on the
    video clock), what it ``covered`` (``covered_s``, on the video clock) and the video in UTC, for a refusal: the
    dates show a file of another day (or a clock set wrong) at a glance; "" otherwise."""
    if not how.startswith(WALL_CLOCKS_PREFIX) or start_unix_s is None:
        return ""
    video_unix_s = start_unix_s - offset_s
    return (f"; in UTC {covered} {utc_span_text(video_unix_s + covered_s[0], covered_s[1] - covered_s[0])}, "
            f"the video {utc_span_text(video_unix_s, video_end_s)}")


def utc_text(unix_s: float) -> str:
    """A UNIX time as an ISO 8601 UTC time to the second, for a message."""
    return datetime.fromtimestamp(unix_s, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_span_text(start_unix_s: float, duration_s: float) -> str:
    """A span in UTC, for a message: 'START..END', or 'from START' for a length not known yet (inf)."""
    if math.isfinite(duration_s):
        return f"{utc_text(start_unix_s)}..{utc_text(start_unix_s + duration_s)}"
    return f"from {utc_text(start_unix_s)}"


def video_span_text(video_end_s: float) -> str:
    """The video's span on its clock, for a message: its end, where known before it is read."""
    if math.isfinite(video_end_s):
        return f"0.0..{video_end_s:.1f} s"
    return "from 0.0 s (its header gives no length)"


# Half the span of a window whose centre lies on the video's edge: a millisecond, kept after the timeline's rounding
# of times to the microsecond.
MIN_SHOWN_HALF_S = 0.001


# What a track's windows stand for, in its settings.
WINDOWS_IN_VIDEO = ("each window's centre lies in the video; its span is cut to the video evenly about its centre, its "
                    "measurements cover the full window_s")
WINDOWS_IN_SESSION = "the session's own windows on its clock, as measured (the last may be shorter, ending with it)"


def shown_span(start_s: float, end_s: float, offset_s: float, video_end_s: float) -> tuple[float, float] | None:
    """Where a window of the recording's clock over [start_s, end_s) is shown on the video clock: cut to the video
    evenly about its centre; None for a window whose centre lies outside the video (it belongs to the video when its
    centre does). Fusion and the reading place a window by its centre: cut at one end only, it stood for time up to a
    hop from its own. A centre on the video's edge (0, an offset of whole hops) keeps the shortest span a timeline
    holds."""
    centre_s = (start_s + end_s) / 2 + offset_s
    if not 0.0 <= centre_s < video_end_s:
        return None
    half_s = max(min((end_s - start_s) / 2, centre_s, video_end_s - centre_s), MIN_SHOWN_HALF_S)
    return max(centre_s - half_s, 0.0), min(centre_s + half_s, video_end_s)


def physio_track(
    recording: Recording,
    model: Model,
    settings: PhysioSettings,
    offset_s: float = 0.0,
    video_duration_s: float | None = None,
    sync: str = "",
    live: bool = False,
) -> Track:
    """The physio track on the session (video) clock: windows overlapping the video, shifted by ``offset_s``.

    A session model's baseline is the whole recording, also outside the video (a live model's, each window's
    past). ``live``: the recording is the
    session's own (offset 0), and its windows run to the session's end, at quality 0 where no sensor delivered.
    """
    until_s = video_duration_s if live else None
    end_s = math.inf if video_duration_s is None else video_duration_s
    # the windows classify_windows gives, each where it is shown (None: not in the video), known before the
    # features' minutes of work
    grid = window_grid(recording.end_s if until_s is None else until_s, settings.window_s, settings.hop_s)
    spans = [shown_span(a, b, offset_s, end_s) for a, b in grid]
    if spans and not any(spans):
        raise too_little_overlap(recording.source, f"the recording covers {seconds_text(offset_s)}.."
                                 f"{seconds_text(offset_s + recording.end_s)} s", f"the video {video_span_text(end_s)}",
                                 settings.window_s, sync, utc_spans_text(recording.start_unix_s, offset_s,
                                                                         (offset_s, offset_s + recording.end_s),
                                                                         end_s, sync))
    windows = classify_windows(recording, model, settings, until_s=until_s)
    labels = list(model.labels)
    track_windows = [track_window(w, labels, *span) for w, span in zip(windows, spans, strict=True) if span]
    return Track(
        name="physio",
        labels=labels,
        windows=track_windows,
        unsupported_labels=list(CANONICAL_LABELS),
        model=model.identity(),
        settings={
            "window_s": settings.window_s,
            "hop_s": settings.hop_s,
            "baseline": baseline_text(model),
            "windows": WINDOWS_IN_SESSION if live else WINDOWS_IN_VIDEO,
            "physio_input": recording.source,
            "physio_offset_s": offset_s,
            "physio_start_unix_s": recording.start_unix_s,  # None: the recording gives no wall-clock start
            "sync": sync,
            "channels": sorted(recording.channels),
            # on the track's clock, as its windows are (the recording's own, shifted by the offset)
            "gaps": {k: [[round(a + offset_s, 3), round(b + offset_s, 3)] for a, b in v]
                     for k, v in recording.gaps().items()},
            "supported_labels": labels,
        },
    )


# How each scaling of the card puts a window against its session, in the track's words.
SCALING_WORDS = {"rank": "session ranks", "median_iqr": "session median and IQR", "zscore": "session z-scores"}


def baseline_text(model: Model, running: bool | None = None) -> str:
    """What a track's windows are judged against, as the model's card says its inputs are made: the whole
    recording for a session model, the windows before for a live (running) one or whenever ``running`` (a live
    session judges any model so)."""
    inputs = input_settings(model)
    if running is None:
        running = card_setting(model.card.extra, "scope") == "running"
    side = "trailing" if running else "centred"
    parts = [SCALING_WORDS[str(inputs["scaling"])]]
    if input_blocks(int(inputs["local_baseline_windows"])) == 3:
        parts.append(f"{side} local baseline")
    if int(inputs["context_windows"]) > 1:
        parts.append(f"{side} context" if running else "context")
    listed = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
    return f"the session so far ({listed})" if running else f"the whole recording ({listed})"


def track_window(w: PhysioWindow, labels: list[str], start_s: float, end_s: float) -> Window:
    """A physio window as a track's window over [start_s, end_s) of the session clock."""
    probs = None if w.stress is None else two_class(labels, w.stress)
    reason = w.reason if w.stress is not None else (w.reason or "no usable signal")
    return Window(round(start_s, 6), round(end_s, 6), probs, w.quality, reason, dict(w.measurements))


def two_class(labels: list[str], p_stress: float) -> list[float]:
    return [p_stress if label == STRESS_LABEL else 1.0 - p_stress for label in labels]


def analyze_physio_request(request: AnalysisRequest) -> Track | None:
    """The pipeline's arm: ``extras['physio_path']`` (None: no recording, no track), ``physio_offset_s``,
    ``physio_utc_offset_s``."""
    path = request.extras.get("physio_path")
    if path is None:
        return None
    section = request.settings.get("physio", {})
    settings = PhysioSettings.from_config(section)
    recording = read_recording(Path(path), utc_offset_s=request.extras.get("physio_utc_offset_s"), to_process=True)
    given_s = request.extras.get("physio_offset_s")
    wall_clock = given_s is None and recording.start_unix_s is not None  # only then is the video's start read
    # the video's end as its header gives it, where it does; the track is cut again where the video was read to
    # (fit_to_input), which a file without a length (MP3, a WebM recorded live) or cut short says only once read
    from runtime.media import known_end_s  # PyAV: imported where a video is read, not by physio classify

    header_end_s = known_end_s(request.media) or math.inf  # joined transport streams: the last part's end alone
    offset_s, how = resolve_offset(recording, header_end_s, given_s,
                                   video_start_unix_s(request.input_path) if wall_clock else None)
    backend = request.settings.get("runtime", {}).get("backend", "onnxruntime")
    model = load_physio_model(settings.model, backend)
    return physio_track(recording, model, settings, offset_s, header_end_s, how)


def placement_note(track: Track) -> str:
    """The warning that the track's recording and the input were assumed to start together (neither an offset
    given nor both wall clocks), "" where they were placed otherwise: said, not only written into the track's
    settings, once the analysis stands (a refusal names the assumption itself)."""
    how = str(track.settings.get("sync", ""))
    if not how.startswith("assumed"):
        return ""
    return f"{track.settings.get('physio_input')}: {how}; give --physio-offset SECONDS if they did not"


def fit_to_input(track: Track, input_end_s: float) -> Track:
    """The physio track cut to where the input (video or audio) was read to, once its arms have read it: each
    window's span cut evenly about its centre again (``shown_span``), those centred past the end left out. A
    recording that then has no window in the input is refused, naming both spans, as before any work where the
    input's header gave its length."""
    kept = []
    for window in track.windows:
        if window.end_s <= input_end_s:  # inside the input as read: as placed (cut again, one centred on 0 s widens)
            kept.append(window)
            continue
        span = shown_span(window.start_s, window.end_s, 0.0, input_end_s)
        if span is not None:
            kept.append(window if span == (window.start_s, window.end_s)
                        else dataclasses.replace(window, start_s=round(span[0], 6), end_s=round(span[1], 6)))
    if track.windows and not kept:
        covered_s = (track.windows[0].start_s, track.windows[-1].end_s)
        settings = track.settings
        raise too_little_overlap(settings["physio_input"], f"its windows cover "
                                 f"{seconds_text(covered_s[0])}..{seconds_text(covered_s[1])} s",
                                 f"the video as read 0.0..{input_end_s:.1f} s", settings["window_s"], settings["sync"],
                                 utc_spans_text(settings.get("physio_start_unix_s"),
                                                settings.get("physio_offset_s", 0.0), covered_s, input_end_s,
                                                settings["sync"], "its windows"))
    return dataclasses.replace(track, windows=kept)


def too_little_overlap(source: str, covered: str, video: str, window_s: float, sync: str,
                       in_utc: str = "") -> InputError:
    """The one refusal of a recording with no window centred in the video: what it covers on the video clock
    (``covered``), the video's span (``video``), how the offset was found (``sync``) and, where both wall clocks
    found it, both spans in UTC (``in_utc``)."""
    return InputError(source, f"overlaps the video too little for one physio window: {covered} on the video clock, "
                              f"{video}, and no {window_s:g} s window has its centre in the video"
                              + (f" ({sync})" if sync else "") + in_utc)


def video_start_unix_s(path: Path) -> float | None:
    """The container's ``creation_time`` as UNIX seconds, None when it has none (or the container cannot be
    opened here: the video's own reader says why). One that cannot be read as a date, or that no recording of
    this century has (a camera clock never set), is an error naming it: taken as none, the recording would be
    placed at the video's start, a clock silently shifted."""
    import av

    from runtime.media import file_url

    try:
        with av.open(file_url(path), metadata_errors="ignore") as container:
            text = container.metadata.get("creation_time")
    except (av.error.FFmpegError, OSError, UnicodeDecodeError):
        return None
    if not text:
        return None
    try:
        instant = parse_iso_time(text)
        if instant.tzinfo is None:  # containers write UTC
            instant = instant.replace(tzinfo=timezone.utc)
        unix_s = instant.timestamp()
    except (ValueError, OverflowError):
        raise InputError(path, f"its creation_time {text[:40]!r} is not a date and time that can be read; give "
                               "--physio-offset SECONDS") from None
    if not PLAUSIBLE_UNIX_S[0] <= unix_s <= PLAUSIBLE_UNIX_S[1]:
        raise InputError(path, f"its creation_time {text[:40]!r} is no time a session was recorded (a camera clock "
                               "never set?); give --physio-offset SECONDS")
    return unix_s
