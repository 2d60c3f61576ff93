"""Analyse a recorded input: run every enabled arm over it, then write the timeline.

The graph of steps lives here, apart from the steps: check the request (``runtime.checks``), run each enabled arm
of ``runtime.arms.registry`` (a function ``(request: AnalysisRequest) -> Track | list[Track] | None``: a list
from the face arm with face.person = "all", a track per person; None = the arm has nothing to read in this input,
e.g. no video stream for the face arm), fuse their tracks, write the timeline.
Arms do not import each other: the face and body arms both read one pass over the video
(``runtime.arms.video.scan.shared_scan``, made once per input and kept in the request's extras); fusion gets
their tracks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from runtime.arms.registry import ARM_REGISTRY, ArmFunction, arm_named
from runtime.checks import NO_END_TO_FIT, check_request, refuse_live_session
from runtime.errors import InputError
from runtime.media import MediaInfo, known_end_s
from runtime.stopping import raise_if_stop_asked
from runtime.timeline import Timeline, software_record, write_timeline
from runtime.track import Track

log = logging.getLogger(__name__)


@dataclass
class AnalysisRequest:
    """What an arm gets: the input, what it holds, and the validated settings."""

    input_path: Path
    media: MediaInfo
    settings: dict[str, dict[str, Any]]
    extras: dict[str, Any] = field(default_factory=dict)  # e.g. a physiological recording beside the video
    # What an arm found it could not read and went without ("audio stream holds no samples; analysed without the
    # voice"): said once the arms are done, where another arm made a track; with none, the one error says why.
    lost: list[tuple[str, str]] = field(default_factory=list)  # (problem, "the voice")


# The steps, in the timeline's order: (settings section, run) of each registered arm, which runs when its section
# says enabled = true. Pairs, not the registry's entries, so that a test can put a fake arm in.
ARMS: list[tuple[str, ArmFunction]] = [(arm.section, arm.run) for arm in ARM_REGISTRY]
# Run before the others (a separate file read in seconds): a bad recording fails before minutes of video work.
RUN_FIRST = tuple(arm.section for arm in ARM_REGISTRY if arm.run_first)
# The tracks of a recording beside the input, cut to where the input was read to once the arms reading it ran.
FIT_TO_INPUT = {arm.section: arm.fit_to_input for arm in ARM_REGISTRY if arm.fit_to_input is not None}


# A step (an arm, or fusion) as a timeline records one that did not run: its other settings played no part.
SWITCHED_OFF = "switched off in the settings"
NOT_FUSED_ON_REQUEST = "not asked for in this run"
STEPS = (*(arm.section for arm in ARM_REGISTRY), "fusion")


def settings_as_run(settings: Mapping[str, Mapping[str, Any]], not_run: Mapping[str, str]) -> dict[str, Any]:
    """The settings as a timeline records them, saying what ran: a step (``STEPS``) switched off, or named in
    ``not_run`` (its section, and why it did not run), is ``{"enabled": false, "why": ...}``; one that ran keeps its
    settings, ``enabled`` true. Other sections (``runtime``) are kept as they are."""
    recorded: dict[str, Any] = {}
    for section, values in settings.items():
        if section in STEPS and not values.get("enabled", False):
            recorded[section] = {"enabled": False, "why": SWITCHED_OFF}
        elif section in STEPS and section in not_run:
            recorded[section] = {"enabled": False, "why": not_run[section]}
        else:
            recorded[section] = dict(values)
    return recorded


def why_no_track(section: str, media: MediaInfo, extras: Mapping[str, Any]) -> str:
    """Why an enabled arm made no track of this input (it returned None)."""
    arm = arm_named(section)
    if arm.reads_input(media, extras):
        return "found nothing it could read in the input"
    if arm.stream is None:
        return "no recording was given for it beside the input"
    return f"the input has no {arm.stream} stream"


def fusion_skipped(tracks: list[Track], settings: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Why fusion does not run over ``tracks`` (the arms' tracks), as the [fusion] section says; None when it runs."""
    from runtime.fusion import fuses_nothing_of, should_fuse
    from runtime.fusion.align import own_labels_line

    if not settings.get("fusion", {}).get("enabled", False):
        return SWITCHED_OFF
    when = settings["fusion"]["when"]
    arousal_from = settings["fusion"].get("arousal_from", [])
    if not should_fuse(tracks, when, arousal_from):
        # a track of a model's own labels alone says nothing to fusion: why it did not count
        unread = [own_labels_line(track, fused_track=False) for track in tracks
                  if fuses_nothing_of(track, arousal_from)]
        return f"too few tracks with something to say for fusion.when = {when!r}" + "".join(
            f"; {line}" for line in unread)
    return None


def why_not_fused(tracks: list[Track], settings: Mapping[str, Mapping[str, Any]]) -> str:
    """Why fusion made no fused track of ``tracks`` (the arms' tracks): it did not run, or the fuser failed."""
    return fusion_skipped(tracks, settings) or "the fuser failed (the session's log says why)"


def fused_tracks(tracks: list[Track], settings: dict[str, dict[str, Any]]) -> list[Track]:
    """The "fused" track after the arms, as the [fusion] section says (none when it does not run:
    ``fusion_skipped``)."""
    if fusion_skipped(tracks, settings) is not None:
        return []
    from runtime.fusion import fuse_with_settings

    return [fuse_with_settings(tracks, settings["fusion"], backend=settings["runtime"]["backend"])]


def fit_to_input(by_section: dict[str, list[Track]], media: MediaInfo) -> None:
    """Each track of a recording given beside the input (``FIT_TO_INPUT``) cut, in place, to where the input's own
    tracks end (``recording_end_s``): a header may give no length (MP3, a WebM recorded live) or more than the file
    holds. Without a track of the input's own, they stay as the header's end placed them; with no such end, they
    are refused (the timeline would give the input the recording's length)."""
    input_tracks = [t for section, ts in by_section.items() if section not in FIT_TO_INPUT for t in ts]
    if not input_tracks:
        if by_section.keys() & FIT_TO_INPUT.keys() and not known_end_s(media):
            raise InputError(media.path, NO_END_TO_FIT)
        return
    input_end_s = recording_end_s(media, input_tracks)
    for section, fit in FIT_TO_INPUT.items():
        if section in by_section:
            by_section[section] = [fit(track, input_end_s) for track in by_section[section]]


def placement_notes(by_section: dict[str, list[Track]]) -> list[str]:
    """How each recording given beside the input was placed against it, where its arm says that is worth a
    warning (``Arm.placement_note``)."""
    notes = (arm.placement_note(track) for arm in ARM_REGISTRY if arm.placement_note is not None
             for track in by_section.get(arm.section, []))
    return [note for note in notes if note]


def recording_end_s(media: MediaInfo, tracks: list[Track]) -> float:
    """Where the analysed recording ends: where its tracks end, or the end its header gives (``MediaInfo.end_s``)
    past them where every stream was read to its end. A stream that stopped early ends the recording where the
    tracks were read to, never at the header's length past it, as a replay of it ends (``live``)."""
    header_end_s = [] if any(track.stopped_reason() for track in tracks) else [media.end_s]
    return max(header_end_s + [t.windows[-1].end_s for t in tracks if t.windows], default=0.0)


def analyze_file(input_path: Path, out_dir: Path, settings: dict[str, dict[str, Any]],
                 extras: dict[str, Any] | None = None, fuse: bool = True) -> Timeline:
    """Run the enabled arms over ``input_path`` and write ``timeline.json`` and ``timeline.csv`` to ``out_dir``.

    Everything that can be checked without the arms' work is checked first (``check_request``); nothing is
    written unless every arm finished: a failure leaves no partial output.
    """
    started = time.perf_counter()
    extras = dict(extras or {})
    media = check_request(Path(input_path), Path(out_dir), settings, extras, fuse)
    request = AnalysisRequest(Path(input_path), media, settings, extras)
    by_section: dict[str, list[Track]] = {}
    not_run: dict[str, str] = {}  # by section: why it did not run
    for section, arm in sorted(ARMS, key=lambda item: item[0] not in RUN_FIRST):
        if not settings.get(section, {}).get("enabled", False):
            continue
        raise_if_stop_asked()  # a stop an arm's libraries swallowed ends the analysis here, before anything is written
        track = arm(request)
        if track is None:
            not_run[section] = why_no_track(section, media, extras)
        else:
            by_section[section] = track if isinstance(track, list) else [track]
    fit_to_input(by_section, media)
    for note in placement_notes(by_section):
        log.warning("%s", note)
    tracks = [track for section, _ in ARMS for track in by_section.get(section, [])]  # in the arms' order
    if not tracks:
        found = "; ".join(problem for problem, _ in request.lost) or "no stream that an enabled arm reads"
        raise InputError(input_path, f"nothing to analyse: {found}")
    for problem, without in request.lost:
        log.warning("%s: %s; analysed without %s", input_path, problem, without)
    fused = fused_tracks(tracks, settings) if fuse else []
    if not fused:
        not_run["fusion"] = why_not_fused(tracks, settings) if fuse else NOT_FUSED_ON_REQUEST
    tracks += fused
    duration_s = recording_end_s(media, tracks)
    timeline = Timeline(
        input_path=str(input_path),
        duration_s=round(duration_s, 6),
        tracks=tracks,
        settings=settings_as_run(settings, not_run),
        software=software_record(time.perf_counter() - started,
                                 analysed_at_utc=datetime.now(timezone.utc).isoformat(timespec="seconds")),
    )
    raise_if_stop_asked()
    refuse_live_session(Path(out_dir))  # a session may have begun in the folder since the check
    write_timeline(timeline, Path(out_dir))
    return timeline
