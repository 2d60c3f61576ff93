"""An Empatica E4 export, a folder or a zip of it: each signal file starts with its UNIX start time and its sample
rate (Hz); IBI.csv gives beats in seconds since its own start line, tags.csv the button presses."""

from __future__ import annotations

import logging
import posixpath
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from runtime.arms.physio.readers.text import (
    check_file_size,
    check_finite,
    check_rate,
    decode_text,
    drop_blank_rows,
    ends_unfinished,
    parse_numbers,
    placed_rows,
    read_limited,
    separator_hint,
    written_cells,
)
from runtime.arms.physio.recording import (
    CHANNEL_UNITS,
    PLAUSIBLE_RANGES,
    PLAUSIBLE_UNIX_S,
    PLAUSIBLE_YEARS,
    Channel,
    Recording,
    said_plausible,
)
from runtime.errors import InputError
from runtime.files import ZIP_MEMBER_ERRORS

log = logging.getLogger("emotrace.physio")

# E4 file -> (channel name, scale to its unit, CHANNEL_UNITS'). ACC arrives in 1/64 g.
E4_SIGNALS: dict[str, tuple[str, float]] = {
    "ACC.csv": ("acc", 1.0 / 64.0),
    "BVP.csv": ("bvp", 1.0),
    "EDA.csv": ("eda", 1.0),
    "TEMP.csv": ("temp", 1.0),
    "HR.csv": ("hr", 1.0),
}
E4_FILES = (*E4_SIGNALS, "IBI.csv", "tags.csv")
# The channel files every E4 export holds (the E4 writes IBI.csv with its start line alone when it found no beats).
E4_CHANNEL_FILES = tuple(sorted((*E4_SIGNALS, "IBI.csv")))
E4_COLUMNS = {"ACC.csv": 3}  # values per row; every other signal file has one
# The rates the E4 records each channel at: a lone file's rate line, which no other file can check, is held to them.
E4_RATES_HZ = {"acc": 32.0, "bvp": 64.0, "eda": 4.0, "temp": 4.0, "hr": 1.0}
# The files of one E4 export end together (within 4 s of their median in each of the 28 Stress-Predict
# exports) and last as long, but for HR, which starts 10 s after the others. A wrong rate line changes a file's
# duration and its end by its error times its length (a line of 8 Hz over a minute of 4 Hz EDA: 30 s), as a
# file cut short does; a start line apart from the others (HR's) moves its end but not its duration. Over a day,
# 0.2 % leaves room for the sensors' own rates differing from the lines a little (a rate line 0.2 % off is
# harmless).
END_TOLERANCE_S = 10.0
END_TOLERANCE_FRACTION = 0.002
# HR.csv starts this long after the others (its first 10 s average), so it lasts as much less: its duration is
# compared with theirs as if it had started with them (S02's is 10.5 s shorter, past END_TOLERANCE_S alone).
HR_DELAY_S = 10.0
# A file ending further than this from the others is said, though read (the sensors' rates may drift from their
# lines over many hours: a quarter of the error's fraction).
END_WARNING_S = 6.0
END_WARNING_FRACTION = 0.0005
# Files further apart in time than this (one starting this long after another ended) are not one recording; a
# recording shorter than HR's 10 s delay still keeps its HR file.
DURATION_TOLERANCE_S = 30.0


@dataclass
class _E4Signal:
    filename: str
    start_unix_s: float
    rate_hz: float
    values: np.ndarray  # (n,) or (n, k), already in the channel's unit


def read_e4(path: str | Path) -> Recording:
    """An E4 export: each signal file starts with its UNIX start time and its sample rate (Hz)."""
    path = Path(path)
    files = _e4_files(path)
    signals = _read_e4_signals(path, files)
    _say_missing_files(path, files)
    label = f"{path}/IBI.csv"
    beats = _parse_e4_ibi(label, files["IBI.csv"]()) if "IBI.csv" in files else None
    # the earliest channel start: a beat can come before HR's first value, which the E4 starts 10 s after the others
    origin_unix_s = min([s.start_unix_s for s in signals.values()] + ([beats[2] + beats[0][0]] if beats else []))
    channels: dict[str, Channel] = {}
    filenames: dict[str, str] = {}
    for name, signal in signals.items():
        offset_s = signal.start_unix_s - origin_unix_s
        channels[name] = _uniform_channel(name, CHANNEL_UNITS[name], offset_s, signal.rate_hz, signal.values)
        filenames[name] = signal.filename
    _check_ends(path, {name: (c, f"{path}/{filenames[name]}") for name, c in channels.items()})
    if beats is not None:
        beats_s, intervals_s, ibi_start_unix_s = beats
        ibi_start_s = ibi_start_unix_s - origin_unix_s
        channels["ibi"] = Channel("ibi", "s", beats_s + ibi_start_s, intervals_s, rate_hz=None)
        filenames["ibi"] = "IBI.csv"
        # the E4 starts IBI.csv with the others' start line: beats on another are shifted as a file's samples are.
        # Against their common one (the median; HR's starts 10 s later), so that one file's start line off is
        # not blamed on IBI.csv too.
        starts_s = [c.start_s for name, c in channels.items() if name not in ("ibi", "hr")]
        if starts_s:
            _say_apart(label, "starts", ibi_start_s, float(np.median(starts_s)),
                       max(c.end_s for c in channels.values()), "its start line", "a start line off")
    _check_overlap(path, {filenames[name]: (c.start_s, c.end_s) for name, c in channels.items()})
    if "ibi" in channels:
        channels["ibi"] = _beats_within(label, channels["ibi"], [c for name, c in channels.items() if name != "ibi"])
    events_s = []
    if "tags.csv" in files:
        try:
            tags_s = _parse_e4_tags(f"{path}/tags.csv", files["tags.csv"](), origin_unix_s)
        except InputError as error:  # button presses are marks beside the signals: their damage costs them alone
            log.warning("%s; read without its tags", error)
            tags_s = []
        events_s = tags_within(f"{path}/tags.csv", tags_s, max(c.end_s for c in channels.values()))
    return Recording(str(path), channels, start_unix_s=origin_unix_s, events_s=events_s)


def _beats_within(label: str, ibi: Channel, signals: list[Channel]) -> Channel:
    """The beats up to the other files' end, by the rule tags are kept by (``outside_recording``); later ones are
    left out with one warning: a beat stamped hours on (a clock set wrong) would stretch the recording over hours
    of nothing. (A beat before the file's own start line is left out where it is read.)"""
    if not signals:
        return ibi
    end_s = max(c.end_s for c in signals)
    late = outside_recording(ibi.times_s, end_s)
    if not late.any():
        return ibi
    log.warning("%s: %d beat(s) after the other files end at %.0f s (e.g. at %.0f s); read without them", label,
                int(late.sum()), end_s, float(ibi.times_s[late][0]))
    return Channel(ibi.name, ibi.unit, ibi.times_s[~late], ibi.values[~late], rate_hz=None)


def _read_e4_signals(path: Path, files: dict[str, Callable[[], str]]) -> dict[str, _E4Signal]:
    signals: dict[str, _E4Signal] = {}
    for filename, (name, scale) in E4_SIGNALS.items():
        if filename not in files:
            continue
        label = f"{path}/{filename}"
        start_unix_s, rate_hz, data = _parse_e4_signal(label, files[filename]())
        width = E4_COLUMNS.get(filename, 1)
        if data.shape[1] != width:
            hint = ""
            if data.shape[1] == width + 1 and np.isnan(data[:, -1]).all():
                hint = "; a comma at the end of each line?"
            elif data.shape[1] == 2 and width == 1:
                hint = "; a comma as the decimal mark?"
            raise InputError(label, f"rows have {data.shape[1]} values; an E4 {filename} has {width}{hint}")
        values = data[:, 0] if width == 1 else data
        values = values * scale  # in the channel's unit, where its range is
        if name in PLAUSIBLE_RANGES:  # a sample no body could give is a missing one, in its place
            values = np.where(said_plausible(label, name, values), values, np.nan)
        signals[name] = _E4Signal(filename, start_unix_s, rate_hz, values)
    if not signals:
        raise InputError(path, f"no E4 signal files ({', '.join(E4_SIGNALS)}) in it")
    return signals


def channels_lacking(recording: Recording) -> list[str]:
    """The E4 channels a recording read from an export holds no samples of (its file missing from the export, or
    holding none), named as their files are ('EDA', 'IBI'): what a report of its figures says it was judged without."""
    channels = {**{name: channel for name, (channel, _scale) in E4_SIGNALS.items()}, "IBI.csv": "ibi"}
    return [name.removesuffix(".csv") for name in E4_CHANNEL_FILES if channels[name] not in recording.channels]


def _say_missing_files(path: Path, files: dict[str, Callable[[], str]]) -> None:
    """One warning naming the channel files an export lacks (a file left out when it was copied or zipped): the
    windows' reasons would say only that a channel is missing, not that the export is."""
    missing = [name for name in E4_CHANNEL_FILES if name not in files]
    if missing:
        log.warning("%s: no %s in it, of an E4 export's channel files (%s); read without %s", path,
                    ", ".join(missing), ", ".join(name.removesuffix(".csv") for name in E4_CHANNEL_FILES),
                    "it" if len(missing) == 1 else "them")


def _e4_files(path: Path) -> dict[str, Callable[[], str]]:
    """E4 file name -> a reader of its text, for a folder or a zip (flat or with one folder inside)."""
    return _e4_folder_files(path) if path.is_dir() else _e4_zip_files(path)


def _e4_folder_files(path: Path) -> dict[str, Callable[[], str]]:
    files = {p.name: p for p in path.iterdir() if p.is_file() and p.name in E4_FILES}
    if not any(name in E4_SIGNALS for name in files):
        # The export's folder may be one level down (a folder of sessions, an unpacked zip): say which.
        nested = sorted(p.name for p in path.iterdir() if p.is_dir() and any((p / n).is_file() for n in E4_SIGNALS))
        if nested:
            held = f"folders {', '.join(nested)} hold" if len(nested) > 1 else f"folder {nested[0]} holds"
            raise InputError(path, f"no E4 signal files in it, but its {held} E4 files: give one of them")
    return {name: (lambda p=p: decode_text(p, read_limited(p))) for name, p in files.items()}


def check_e4_zip(path: Path) -> None:
    """An E4 export zip readable as one, checked without decompressing it (``InputError`` naming it if not)."""
    _e4_zip_files(path)


def _e4_zip_files(path: Path) -> dict[str, Callable[[], str]]:
    try:
        archive = zipfile.ZipFile(path)
        members = [info for info in archive.infolist() if _is_e4_member(info)]
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(path, f"not a readable zip archive ({error})") from None
    # Files are matched by name: two exports in one zip would be merged into one recording.
    folders = sorted({posixpath.dirname(member_path(info)) for info in members})
    if len(folders) > 1:
        shown = ", ".join(f"{folder}/" if folder else "(top level)" for folder in folders)
        raise InputError(path, f"holds more than one E4 export (E4 files in {shown}): give one export per zip")
    for info in members:
        if info.flag_bits & 0x1:
            raise InputError(path, f"'{info.filename}' is password-protected: export the zip without a password")

    def reader(info: zipfile.ZipInfo) -> Callable[[], str]:
        def read() -> str:
            check_file_size(f"{path}/{info.filename}", info.file_size)  # the size it inflates to, before it does
            try:
                data = archive.read(info)
            except ZIP_MEMBER_ERRORS as error:
                raise InputError(path, f"'{info.filename}' in the zip cannot be decompressed ({error})") from None
            return decode_text(f"{path}/{info.filename}", data)

        return read

    return {posixpath.basename(member_path(info)): reader(info) for info in members}


def member_path(info: zipfile.ZipInfo) -> str:
    """A zip member's path with '/' between its folders: Windows PowerShell 5.1's Compress-Archive writes '\\',
    against the zip format (such an export was refused as holding no E4 files); no E4 file name holds one."""
    return info.filename.replace("\\", "/")


def _is_e4_member(info: zipfile.ZipInfo) -> bool:
    # __MACOSX/ holds the Finder's resource forks ("._EDA.csv"), never data.
    name = member_path(info)
    return not info.is_dir() and posixpath.basename(name) in E4_FILES and not name.startswith("__MACOSX/")


def _parse_e4_signal(label: str, text: str) -> tuple[float, float, np.ndarray]:
    lines = text.splitlines()
    start_unix_s = _e4_start_line(label, lines)
    rate_hz = _e4_header_number(label, lines, 1, "a sample rate in Hz")
    check_rate(label, rate_hz, f"second line {lines[1].strip()!r}")
    if not any(line.strip() for line in lines[2:]):
        raise InputError(label, "empty: an E4 file needs a start-time line, a sample-rate line and data")
    data = parse_numbers(label, lines[2:], first_line=3, unfinished=ends_unfinished(text))
    return start_unix_s, rate_hz, data


def _e4_start_line(label: str, lines: list[str]) -> float:
    start_unix_s = _e4_header_number(label, lines, 0, "a UNIX start time")
    if not PLAUSIBLE_UNIX_S[0] <= start_unix_s <= PLAUSIBLE_UNIX_S[1]:  # also false for NaN
        raise InputError(label, f"first line {lines[0].strip()!r} is not a UNIX start time {PLAUSIBLE_YEARS}"
                                f"{separator_hint(lines[0])}")
    return start_unix_s


def _e4_header_number(label: str, lines: list[str], index: int, what: str) -> float:
    """The first number on header line ``index`` (0: start time, 1: rate) of an E4 file."""
    ordinal = ("first", "second")[index]
    if index >= len(lines):
        raise InputError(label, "empty: an E4 file needs a start-time line, a sample-rate line and data")
    line = lines[index].strip()
    if not line:
        raise InputError(label, f"{ordinal} line is blank where {what} belongs")
    try:
        return float(line.split(",")[0])
    except ValueError:
        raise InputError(label, f"{ordinal} line {line[:40]!r} is not {what}{separator_hint(line)}") from None


def _parse_e4_ibi(label: str, text: str) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Beat times in seconds since the file's start line, their intervals, and that start line's UNIX time; None,
    with a log line, when it has none.

    The E4 writes only the start line when it found no beats; the recording is then read without beats.
    """
    lines = text.splitlines()
    if len(lines) < 2 or not any(line.strip() for line in lines[1:]):
        log.warning("%s holds no samples (no beats found); read without it", label)
        return None
    start_unix_s = _e4_start_line(label, lines)
    data, row_lines = drop_blank_rows(parse_numbers(label, lines[1:], first_line=2,
                                                    unfinished=ends_unfinished(text)), first_line=2)
    if data.shape[1] != 2:
        raise InputError(label, "expected two columns: seconds since start, inter-beat interval (s)")
    # A local fault of its clock (two beats swapped, one stamped twice) costs those beats, as in any beat CSV
    placed = placed_rows(label, data[:, 0], row_lines, "the beat time", rows=data, signals=data[:, 1:],
                         written=written_cells(label, text, 1, 0))
    data = data[placed]
    present = said_plausible(label, "ibi", data[:, 1])
    early = data[:, 0] < 0
    if early.any():  # a beat is timed from the file's start line: one before it is no beat of this recording
        log.warning("%s: %d beat(s) timed before the file's start line (e.g. %.10g s); read without them", label,
                    int(early.sum()), float(data[early, 0][0]))
        present &= ~early
    if not present.any():
        log.warning("%s holds no samples (no intervals); read without it", label)
        return None
    return data[present, 0], data[present, 1], start_unix_s


def _parse_e4_tags(label: str, text: str, origin_unix_s: float) -> list[float]:
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        return []  # no button presses: the E4 writes an empty file
    data, row_lines = drop_blank_rows(parse_numbers(label, lines), first_line=1)
    check_finite(label, data[:, 0], row_lines, "the tag time")
    return [float(t) - origin_unix_s for t in data[:, 0]]


def outside_recording(times_s: np.ndarray, end_s: float) -> np.ndarray:
    """Which of ``times_s`` (recording clock) lie outside its 0..``end_s``, give or take DURATION_TOLERANCE_S."""
    times_s = np.asarray(times_s, dtype=float)
    return (times_s < -DURATION_TOLERANCE_S) | (times_s > end_s + DURATION_TOLERANCE_S)


def tags_within(label: str, tags_s: list[float], end_s: float) -> list[float]:
    """The tags (recording clock) within the recording (``outside_recording``); the others are left out with one
    warning naming ``label``: a press hours from the session (a clock set wrong, a tag file of another day) would
    mark no moment of it, and a reader of the session's events would take it for one."""
    outside_at = outside_recording(np.array(tags_s), end_s)
    within = [t for t, out in zip(tags_s, outside_at, strict=True) if not out]
    outside = [t for t, out in zip(tags_s, outside_at, strict=True) if out]
    if outside:
        shown = ", ".join(f"{t:.0f}" for t in outside[:5]) + (", ..." if len(outside) > 5 else "")
        log.warning("%s: %d tag(s) at %s s, outside the recording (0..%.0f s from its earliest start line); left "
                    "out", label, len(outside), shown, end_s)
    return within


def _check_overlap(source: Path, spans: dict[str, tuple[float, float]]) -> None:
    """Files of one export share a stretch of time; a start line hours off, or files of two sessions, do not.

    The tolerance lets a recording shorter than ten seconds keep its HR file, which starts 10 s after the rest.
    """
    latest = max(spans, key=lambda name: spans[name][0])
    earliest = min(spans, key=lambda name: spans[name][1])
    if spans[latest][0] > spans[earliest][1] + DURATION_TOLERANCE_S:
        (a_start, a_end), (b_start, b_end) = spans[latest], spans[earliest]
        raise InputError(
            source,
            f"{latest} covers {a_start:.0f}..{a_end:.0f} s and {earliest} {b_start:.0f}..{b_end:.0f} s (from the "
            "earliest start line): files that do not overlap in time are not one recording",
        )


def _check_ends(source: Path, channels: dict[str, tuple[Channel, str]]) -> None:
    """A sample-rate line that does not match the data stretches that file against the others: it lasts longer
    or shorter than they do and ends elsewhere."""
    if len(channels) < 2:
        for name, (channel, label) in channels.items():
            if name in E4_RATES_HZ and channel.rate_hz != E4_RATES_HZ[name]:
                log.warning("%s: sample-rate line says %g Hz where the E4 records %s at %g Hz, and no other file of "
                            "the export can tell which is right: read at %g Hz (its times are off by the ratio if "
                            "the line is wrong)", label, channel.rate_hz, name.upper(), E4_RATES_HZ[name],
                            channel.rate_hz)
        return
    ends_s = {name: c.end_s for name, (c, _) in channels.items()}
    durations_s = {name: c.end_s - c.start_s for name, (c, _) in channels.items()}
    # compared as if HR had started with the others
    compared_s = {name: d + (HR_DELAY_S if name == "hr" else 0.0) for name, d in durations_s.items()}
    end_s, duration_s = float(np.median(list(ends_s.values()))), float(np.median(list(compared_s.values())))
    tolerance_s = max(END_TOLERANCE_S, END_TOLERANCE_FRACTION * end_s)

    def stretched(a: str, end_s: float, duration_s: float) -> bool:
        return abs(ends_s[a] - end_s) > tolerance_s and abs(compared_s[a] - duration_s) > tolerance_s

    if len(channels) == 2:  # neither is the majority: a median of two cannot tell which line is wrong
        (a, (a_channel, a_label)), (b, (b_channel, b_label)) = channels.items()
        if stretched(a, ends_s[b], compared_s[b]):
            raise InputError(
                source,
                f"{a_label} ({a_channel.rate_hz:g} Hz) lasts {durations_s[a]:.0f} s, ending at {ends_s[a]:.0f} s, and "
                f"{b_label} ({b_channel.rate_hz:g} Hz) {durations_s[b]:.0f} s, ending at {ends_s[b]:.0f} s, by their "
                "sample-rate lines: one of them is wrong or a file is cut short",
            )
        return
    for name in channels:
        if stretched(name, end_s, duration_s):
            channel, label = channels[name]
            raise InputError(
                label,
                f"sample-rate line says {channel.rate_hz:g} Hz, which makes it last {durations_s[name]:.0f} s, ending "
                f"at {ends_s[name]:.0f} s, against {duration_s:.0f} s ending at {end_s:.0f} s for the other files "
                "(from the earliest start line): the line is wrong or the file is cut short",
            )
    for name, (_, label) in channels.items():  # a start line apart too
        _say_apart(label, "ends", ends_s[name], end_s, end_s, "its start and rate lines",
                   "a start line off, rows missing or a file cut short")


def _say_apart(label: str, edge: str, at_s: float, others_s: float, end_s: float, placed_by: str,
               causes: str) -> None:
    """One warning where a file's ``edge`` ('starts', 'ends'), at ``at_s`` on the recording clock by the lines
    ``placed_by``, lies further from the other files' (``others_s``) than END_WARNING_S (END_WARNING_FRACTION of the
    recording's ``end_s`` over hours): ``causes`` would shift its samples against theirs. It is read as it says."""
    if abs(at_s - others_s) <= max(END_WARNING_S, END_WARNING_FRACTION * end_s):
        return
    side = "after" if at_s > others_s else "before"
    log.warning("%s: %s %.0f s %s the other files (at %.0f s against %.0f s, by %s): %s would shift its samples "
                "against the others; read as its lines say", label, edge, abs(at_s - others_s), side, at_s, others_s,
                placed_by, causes)


def _uniform_channel(name: str, unit: str, offset_s: float, rate_hz: float, values: np.ndarray) -> Channel:
    values = np.where(np.isfinite(values), values, np.nan)  # an infinite value is no reading: a missing sample
    times_s = offset_s + np.arange(values.shape[0]) / rate_hz
    return Channel(name, unit, times_s, values, rate_hz=rate_hz, gaps=_nan_gaps(times_s, values, rate_hz))


def _nan_gaps(times_s: np.ndarray, values: np.ndarray, rate_hz: float) -> list[tuple[float, float]]:
    """Runs of missing samples as (start_s, end_s) on the recording clock."""
    missing = np.isnan(values) if values.ndim == 1 else np.isnan(values).any(axis=1)
    if not missing.any():
        return []
    edges = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(float(times_s[s]), float(times_s[e - 1] + 1.0 / rate_hz)) for s, e in zip(starts, ends, strict=True)]
