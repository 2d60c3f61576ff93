"""The timeline: every track of one analysed input, with what produced it, written atomically (both files new,
or both as they were).

``timeline.json`` is the exact record; ``timeline.csv`` is its long-form view (one row per window per track).
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.errors import InputError
from runtime.files import make_folder, path_text, removed_if_failed, replace_together, stage_file, staging_path
from runtime.track import (
    CANONICAL_LABELS,
    WEAK_QUALITY,
    Track,
    TrackFormatError,
    Window,
    csv_number,
    is_number,
    json_kind,
    leading_label_index,
    time_stood_for_s,
)

TIMELINE_FORMAT = "emotrace-timeline/1"
CAVEAT = (
    "emotrace assists a clinician's own judgement; it estimates expressed emotion and does not diagnose."
)
CSV_FIXED_COLUMNS = ("track", "start_s", "end_s", "quality", "reason")  # then one per label, one per measurement
SCHEMA_FILE = "timeline.schema.json"  # beside this module, shipped as package data (docs/timeline.md)


def utf8_texts(value: Any) -> Any:
    """``value`` (a timeline's dict) with every text as ``path_text`` writes it: a name's bytes that are not UTF-8
    (the input's, a physio recording's), which Python holds as lone surrogates, would be written into the JSON as
    ``\\udcNN``, valid JSON syntax but no Unicode text (a strict reader refuses the file); timeline.csv and the
    printed lines give ``\\xNN``, and so does the JSON now."""
    if isinstance(value, str):
        return path_text(value)
    if isinstance(value, dict):
        return {utf8_texts(key): utf8_texts(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [utf8_texts(item) for item in value]
    return value


@dataclass
class Timeline:
    input_path: str
    duration_s: float
    tracks: list[Track] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    software: dict[str, Any] = field(default_factory=dict)

    def track(self, name: str) -> Track:
        for track in self.tracks:
            if track.name == name:
                return track
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": TIMELINE_FORMAT,
            "caveat": CAVEAT,
            "input": {"path": self.input_path, "duration_s": self.duration_s},
            "labels": list(CANONICAL_LABELS),
            "settings": self.settings,
            "software": self.software,
            "tracks": [t.to_dict() for t in self.tracks],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Timeline:
        """A timeline as ``to_dict`` writes it, checked; anything else is a ``TrackFormatError`` (a ``ValueError``)
        saying what and where."""
        if not isinstance(data, dict) or data.get("format") != TIMELINE_FORMAT:
            raise TrackFormatError(f"not an {TIMELINE_FORMAT} document")
        source = data.get("input")
        if not isinstance(source, dict) or "path" not in source:
            raise TrackFormatError("input is not an object with a path")
        for key, kind in (("tracks", list), ("settings", dict), ("software", dict)):
            if not isinstance(data.get(key, kind()), kind):
                raise TrackFormatError(f"{key} is {json_kind(data.get(key))}, not a {kind.__name__}")
        if "tracks" not in data:
            raise TrackFormatError("lacks tracks")
        timeline = cls(input_path=source["path"], duration_s=source.get("duration_s"),
                       tracks=[Track.from_dict(t) for t in data["tracks"]],
                       settings=dict(data.get("settings", {})), software=dict(data.get("software", {})))
        timeline._check_own()  # its tracks were checked as they were read
        timeline.duration_s = float(timeline.duration_s)  # a JSON integer, once it is known to be a number
        return timeline

    def check(self) -> None:
        """What the writer checks before writing: what the reader checks (``_check_own``, and each track's
        ``Track.check``: its fields, finite times, end after start, quality in [0, 1], one probability from 0 to 1
        per label, measurements that are numbers), so what is written can be read, and what the shipped schema
        asks beyond that of the settings and the software record (``_check_record``), which the reader does not
        ask of an older file. Each failure is a ``TrackFormatError`` saying what and where."""
        self._check_own()
        for track in self.tracks:
            track.check()
        self._check_record()

    def _check_own(self) -> None:
        """The timeline's rules apart from its tracks' own, as the reader and the writer check them: an input path
        in text, a duration of seconds (finite, not negative), settings and software that are objects, one track
        per name, one CSV column per name (no label named as a measurement or a fixed column)."""
        if not isinstance(self.input_path, str):
            raise TrackFormatError(f"input path is {json_kind(self.input_path)}, not text")
        duration_s = self.duration_s
        if not (is_number(duration_s) and math.isfinite(duration_s) and duration_s >= 0):
            raise TrackFormatError(f"input duration_s is {json_kind(duration_s)}, not a number of seconds")
        for key in ("settings", "software"):
            if not isinstance(getattr(self, key), dict):
                raise TrackFormatError(f"{key} is {json_kind(getattr(self, key))}, not an object")
        names = [track.name for track in self.tracks]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise TrackFormatError(f"two tracks named {twice[0]!r}")
        labels = {label for track in self.tracks for label in track.labels}
        measured = {name for track in self.tracks for name in track.measurement_names}
        clash = sorted((labels & measured) | ((labels | measured) & set(CSV_FIXED_COLUMNS)))
        if clash:
            raise TrackFormatError(f"{clash[0]!r} would name two columns of timeline.csv (a label, a measurement or "
                                   f"one of {', '.join(CSV_FIXED_COLUMNS)})")

    def _check_record(self) -> None:
        """What the schema (``timeline.schema.json``) asks of the settings and the software record, which the
        reader leaves unchecked in an older file: each settings section an object, a step's (an arm's, fusion's)
        ``enabled`` true or false, one that did not run holding only that and why; the software record's fields,
        its version, libraries and elapsed seconds among them, and when it ran (an analysis or a live session)."""
        from runtime.pipeline import STEPS

        for section, values in self.settings.items():
            problem = _settings_problem(values, step=section in STEPS)
            if problem:
                raise TrackFormatError(f"settings {section!r}: {problem}")
        problem = _software_problem(self.software)
        if problem:
            raise TrackFormatError(f"software: {problem}")

    def to_json(self) -> str:
        self.check()
        try:
            text = json.dumps(self.to_dict(), indent=1, allow_nan=False)
            # a lone surrogate is written as its escape: only then are the texts made UTF-8 (a walk costs 40 %)
            return json.dumps(utf8_texts(self.to_dict()), indent=1, allow_nan=False) if "\\ud" in text else text
        except ValueError as error:  # NaN or inf outside the tracks' windows (settings, model, software)
            raise TrackFormatError(f"{error} (in the settings or a track's model or settings)") from None

    @classmethod
    def from_json(cls, text: str) -> Timeline:
        return cls.from_dict(json.loads(text))

    @classmethod
    def read(cls, path: Path | str) -> Timeline:
        """The timeline in the file at ``path``; a file that is not one (unreadable, not JSON, edited into
        something else) is an ``InputError`` naming the file and the first problem found."""
        try:
            return cls.from_json(Path(path).read_bytes().decode("utf-8"))
        except IsADirectoryError:
            raise InputError(path, "is a folder, not a timeline.json") from None
        except OSError as error:
            raise InputError(path, f"cannot read it: {error.strerror or error}") from None
        except json.JSONDecodeError as error:
            raise InputError(path, f"not a timeline.json: not valid JSON ({error})") from None
        except UnicodeDecodeError:
            raise InputError(path, "not a timeline.json: not UTF-8 text") from None
        except RecursionError:  # lists or objects nested thousands deep, past what json parses
            raise InputError(path, "not a timeline.json: nested too deeply to read") from None
        except TrackFormatError as error:
            raise InputError(path, f"not a usable timeline.json: {error}") from None
        except ValueError as error:  # an integer of over 4300 digits, which json refuses outside JSONDecodeError
            raise InputError(path, f"not a timeline.json: not valid JSON ({str(error).split(';')[0]})") from None

    def to_csv(self) -> str:
        """Long form: ``track,start_s,end_s,quality,reason,<label>...,<measurement>...``; its text as
        ``path_text`` writes it (valid UTF-8, as the JSON's: a name's bytes that are not UTF-8 as ``\\xNN``)."""
        labels = _all_labels(self.tracks)
        measurements = measurement_columns(self.tracks)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([*CSV_FIXED_COLUMNS, *labels, *measurements])
        for track in self.tracks:
            index = {label: i for i, label in enumerate(track.labels)}
            for w in track.windows:
                probs = [
                    "" if w.probs is None or label not in index or w.probs[index[label]] is None
                    else csv_number(w.probs[index[label]])
                    for label in labels
                ]
                values = [csv_number(w.measurements[m]) if m in w.measurements else "" for m in measurements]
                writer.writerow([track.name, csv_number(w.start_s), csv_number(w.end_s), csv_number(w.quality),
                                 w.reason, *probs, *values])
        return path_text(buffer.getvalue())


def timeline_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``timeline.json``, as the installed package ships it. The rules between
    fields (end after start, one probability per label, windows in order) are beyond it: ``Timeline.read`` checks
    them."""
    from importlib.resources import files

    return json.loads(files("runtime").joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


# The libraries whose versions decide what a timeline holds (decoding, models, signal processing).
RECORDED_LIBRARIES = ("numpy", "av", "onnxruntime", "ai-edge-litert", "neurokit2")


def software_record(elapsed_s: float, **when: str) -> dict[str, Any]:
    """What made a timeline: emotrace's version and its libraries' (those installed), the run's length, and
    ``when`` it ran (a live session's ``started_at_utc``, an analysis's ``analysed_at_utc``)."""
    from runtime import __version__

    libraries = {name: found for name, found in installed_versions(RECORDED_LIBRARIES).items() if found is not None}
    return {"emotrace": __version__, "libraries": libraries, "elapsed_s": round(elapsed_s, 3), **when}


def installed_versions(names: Sequence[str]) -> dict[str, str | None]:
    """Each distribution's installed version, None where it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


# The software record's fields (timeline.schema.json; a test holds them to it): text, seconds or versions by library;
# the first three are required, and one of the next two: an analysis of a file or a live session.
SOFTWARE_FIELDS = {"emotrace": str, "libraries": dict, "elapsed_s": float, "analysed_at_utc": str,
                   "started_at_utc": str, "session_id": str, "checkpoint_at_s": float}
SOFTWARE_REQUIRED = ("emotrace", "libraries", "elapsed_s")
SOFTWARE_WHEN = ("analysed_at_utc", "started_at_utc")


def _software_problem(software: dict[str, Any]) -> str | None:
    """What keeps ``software`` from being the record the schema asks for (``software_record``'s fields), or None."""
    for key, value in software.items():
        kind = SOFTWARE_FIELDS.get(key)
        if kind is None:
            return f"{key!r} is none of its fields ({', '.join(SOFTWARE_FIELDS)})"
        if kind is float and not (is_number(value) and math.isfinite(value) and value >= 0):
            return f"{key} is {json_kind(value)}, not a number of seconds"
        if kind is str and not isinstance(value, str):
            return f"{key} is {json_kind(value)}, not text"
        if kind is dict and not (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
            return f"{key} is {json_kind(value)}, not an object of versions"
    missing = [key for key in SOFTWARE_REQUIRED if key not in software]
    if missing:
        return f"lacks {', '.join(missing)}"
    if sum(key in software for key in SOFTWARE_WHEN) != 1:
        return f"gives {' or '.join(SOFTWARE_WHEN)}, not both or neither"
    return None


def _settings_problem(values: Any, step: bool) -> str | None:
    """What keeps a settings section from being what the schema asks (an object; a ``step``'s, an arm's or fusion's,
    says ``enabled`` true or false, and one that did not run only that and why), or None."""
    if not isinstance(values, dict):
        return f"is {json_kind(values)}, not an object"
    if not step:
        return None
    enabled = values.get("enabled")
    if not isinstance(enabled, bool):
        return f"enabled is {json_kind(enabled)}, not true or false"
    if enabled:
        return "gives why, though it ran" if "why" in values else None
    if not (isinstance(values.get("why"), str) and values["why"]):
        return f"why is {json_kind(values.get('why'))}, not text saying why it did not run"
    others = sorted(set(values) - {"enabled", "why"})
    return f"did not run, yet gives {', '.join(others)} (only enabled and why)" if others else None


def summary_lines(timeline: Timeline) -> list[str]:
    """What a timeline holds, a line per track: windows, how many make a claim, and why it ended early."""
    lines = []
    for track in timeline.tracks:
        claimed = sum(1 for w in track.windows if w.quality > 0)
        line = f"{track.name}: {len(track.windows)} windows, {claimed} with evidence"
        frames = track.settings.get("frames")
        if frames:
            line += f"; {frames['sampled']} frames sampled, {frames['dropped']} dropped to keep up"
        status = track.stopped_reason() or track.settings.get("status")  # the voice's "complete" is said too
        lines.append(line + (f" ({status})" if status else ""))
    return lines


def spectrum_stretches(track: Track) -> list[str]:
    """A track read as stretches of time, each its windows' leading emotion while it stays the same: '0.0-9.5 s:
    happy (72%)', with 'little evidence' where the windows' quality is under ``WEAK_QUALITY`` and 'no evidence'
    where they make no claim. Overlapping windows each stand for the time nearer their centre than their
    neighbours', so the stretches follow on from one another; time no window covers (a hop longer than the window,
    a gap in the track) is 'no evidence', never claimed by the windows either side of it. Where the track flags
    windows incongruent (the fused track: two modalities confidently disagree), each stretch of them that says the
    same is a line too, after the stretch it begins in: '27.8-30.2 s: audio fearful vs face happy (incongruent)',
    as the windows' measurements name the pairs (``runtime.fusion.affect.Disagreement``)."""
    from runtime.fusion.affect import disagreeing_labels

    def what(window: Window) -> str:
        if not window.has_claim:
            return "no evidence"
        if window.quality < WEAK_QUALITY:
            return "little evidence"
        return track.labels[leading_label_index(window.probs)]

    modalities = track.settings.get("modalities", [])  # the fused track's, in the order its reasons name pairs

    def disagreement(window: Window) -> str:
        if not window.measurements.get("incongruent"):
            return ""
        # who named what, from the window's measurements (its reason's words are for people): no confidences
        pairs = "; ".join(f"{a} {label_a} vs {b} {label_b}" for a, label_a, b, label_b
                          in disagreeing_labels(window.measurements, modalities, track.labels))
        return f"{pairs} (incongruent)" if pairs else "incongruent"

    pieces, bounds_s = _pieces_of_time(track.windows)
    stretches: list[tuple[float, int, str]] = []  # (start s, 0 for an emotion's and 1 for a disagreement's, line)
    for first, end, said in _runs(pieces, lambda w: "no evidence" if w is None else what(w)):
        if said in track.labels:  # a run of windows alone: a gap says 'no evidence'
            index = track.labels.index(said)
            said += f" ({sum(w.probs[index] for w in pieces[first:end]) / (end - first):.0%})"
        stretches.append((bounds_s[first], 0, f"{bounds_s[first]:.1f}-{bounds_s[end]:.1f} s: {said}"))
    stretches += [(bounds_s[first], 1, f"{bounds_s[first]:.1f}-{bounds_s[end]:.1f} s: {said}")
                  for first, end, said in _runs(pieces, lambda w: "" if w is None else disagreement(w)) if said]
    return [line for *_, line in sorted(stretches)]


def _pieces_of_time(windows: list[Window]) -> tuple[list[Window | None], list[float]]:
    """The windows in order with a None between two of them wherever no window covers the time (a hop longer
    than the window, a gap in a track), and the bounds of the time each piece stands for: piece i from bounds[i]
    to bounds[i + 1] (``time_stood_for_s``: windows that overlap or touch meet half-way between their centres; a gap
    runs from the furthest end reached so far to the next window's start)."""
    pieces: list[Window | None] = []
    bounds_s: list[float] = []
    for i, (window, (from_s, to_s)) in enumerate(zip(windows, time_stood_for_s([(w.start_s, w.end_s)
                                                                                 for w in windows]), strict=True)):
        if i == 0:
            bounds_s.append(from_s)
        elif bounds_s[-1] < from_s:  # time no window covers
            pieces.append(None)
            bounds_s.append(from_s)
        pieces.append(window)
        bounds_s.append(to_s)
    return pieces, bounds_s


def _runs(windows: list[Window | None], what: Callable[[Window | None], str]) -> Iterator[tuple[int, int, str]]:
    """(first, end, what they say) of each run of windows[first:end] for which ``what`` says the same."""
    first = 0
    for i in range(1, len(windows) + 1):
        if i < len(windows) and what(windows[i]) == what(windows[first]):
            continue
        yield first, i, what(windows[first])
        first = i


MAX_STRETCH_LINES = 40  # a screenful; timeline.csv holds the windows the rest are read from


def reading_lines(timeline: Timeline) -> list[str]:
    """What a clinician reads once an analysis is written: each track's summary, the emotion over time as
    stretches (``spectrum_stretches``) of the fused track, or of the first emotion track where nothing was fused
    (none made, or one that claims nothing: a learned fuser given none of its inputs, other people's faces alone),
    then each track of a model's own labels (which fusion leaves out) as its leading label over time, and the
    caveat."""
    from runtime.fusion.align import is_emotion_track, own_labels

    def claims(track: Track) -> bool:
        return any(w.has_claim for w in track.windows)

    lines = summary_lines(timeline)
    own = [t for t in timeline.tracks if own_labels(t) and claims(t)]
    fused = [t for t in timeline.tracks if t.name == "fused"]
    others = [t for t in timeline.tracks if is_emotion_track(t) and t not in own]
    # where nothing claims, the fused track's 'no evidence' stretches are still the reading
    emotion = [t for t in fused if claims(t)] or [t for t in others if claims(t)] or fused or others
    for track in emotion[:1] + own:
        stretches = spectrum_stretches(track)
        lines.append(f"{track.name}, the leading {'label' if track in own else 'emotion'} over time:")
        lines += [f"  {line}" for line in stretches[:MAX_STRETCH_LINES]]
        if len(stretches) > MAX_STRETCH_LINES:
            lines.append(f"  ... {len(stretches) - MAX_STRETCH_LINES} more stretches (timeline.csv holds every window)")
    return [*lines, CAVEAT]


def timeline_software(path: Path) -> dict[str, Any] | None:
    """The ``software`` record of the timeline at ``path``; None where there is none, or the file cannot be read
    as a timeline."""
    try:
        data = json.loads(Path(path).read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    software = data.get("software") if isinstance(data, dict) else None
    return software if isinstance(software, dict) else None


def is_session_claim(path: Path) -> bool:
    """Whether ``path`` is the empty ``timeline.json`` a live session makes as it starts, claiming its folder."""
    return Path(path).is_file() and Path(path).stat().st_size == 0


def recorded_live(path: Path) -> bool:
    """Whether ``path`` holds a live session's timeline (it records when the session started; an analysis of a
    file, which can be run again, does not), or a session's claim of its folder (the empty ``timeline.json`` a
    session makes as it starts). Another unreadable file is no session."""
    try:
        if is_session_claim(path):
            return True
    except OSError:
        return False
    software = timeline_software(path)
    return software is not None and "started_at_utc" in software


def write_timeline(timeline: Timeline, out_dir: Path, make_missing_folder: bool = True) -> tuple[Path, Path]:
    """Write ``timeline.json`` and ``timeline.csv`` into ``out_dir``: both new, or (on a failure) both as they were.

    Both are staged whole beside their places first (a full disk fails here, before either is replaced), then
    renamed into place; should the second rename fail, the first file is put back. ``make_missing_folder`` False:
    a folder that is gone is an error, not made again (a live session's, once claimed).
    """
    json_text, csv_text = timeline.to_json(), timeline.to_csv()  # before the folder: a failure leaves nothing
    json_path, csv_path = out_dir / "timeline.json", out_dir / "timeline.csv"
    # a full disk leaves no empty folder this call made; one it may not make is never taken away (a stick's, back)
    with removed_if_failed(out_dir) if make_missing_folder else contextlib.nullcontext():
        if not make_missing_folder:
            if not out_dir.is_dir():
                raise InputError(out_dir, "the folder is gone (a stick pulled or unmounted?)")
        else:
            try:
                make_folder(out_dir)
            except OSError as error:
                raise InputError(out_dir, f"cannot make the folder: {error.strerror or error}") from None
        for path in (json_path, csv_path):
            if path.is_dir() or (path.exists() and not path.is_file()):
                raise InputError(path, "is in the way: a folder or other non-file where the timeline goes")
        # named first: whatever is staged under them is removed by this try, a stop landing anywhere in it
        staged = [staging_path(csv_path), staging_path(json_path)]
        try:
            stage_file(csv_path, csv_text.encode(), staged[0])
            stage_file(json_path, json_text.encode(), staged[1])
            replace_together([(staged[0], csv_path), (staged[1], json_path)])
        finally:
            for tmp in staged:
                with contextlib.suppress(OSError):
                    tmp.unlink(missing_ok=True)
    return json_path, csv_path


@functools.cache
def declared_measurements() -> tuple[str, ...]:
    """Every measurement an arm's or the fused track declares, in timeline.csv's order: each arm's
    (``Arm.measurement_names``, a set: sorted) in the registry's order of arms, then the fused track's
    (``FUSED_MEASUREMENTS``, in its own order); a name two arms declare, where it first comes."""
    from runtime.arms.registry import ARM_REGISTRY
    from runtime.fusion.base import FUSED_MEASUREMENTS

    names = [name for arm in ARM_REGISTRY for name in sorted(arm.measurement_names())]
    return tuple(dict.fromkeys([*names, *FUSED_MEASUREMENTS]))


def measurement_columns(tracks: list[Track]) -> list[str]:
    """timeline.csv's measurement columns: those some window of ``tracks`` carries, the declared ones
    (``declared_measurements``) in their order, then the others, which depend on the session (``quality_<modality>``,
    ``incongruent_<...>``, a model's own), sorted. Whichever window comes first, two sessions' columns of the same
    names come in the same order."""
    present = {name for track in tracks for name in track.measurement_names}
    declared = [name for name in declared_measurements() if name in present]
    return declared + sorted(present.difference(declared))


def _all_labels(tracks: list[Track]) -> list[str]:
    labels = list(CANONICAL_LABELS)
    for track in tracks:
        labels += [label for label in track.labels if label not in labels]
    return labels


