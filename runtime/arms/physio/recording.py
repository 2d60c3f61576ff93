"""Recorded physiological inputs: an Empatica E4 export (folder or zip) or a generic CSV, on one clock.

A ``Recording`` holds named channels on the recording's own clock: seconds from the earliest channel
start, so that ``t_s = 0`` is the first sample of any channel. Its wall-clock start (UNIX seconds, UTC) is
kept where the file says it. Samples stay where they were recorded: a gap (missing rows, a blank line, a
NaN run, a jump in the timestamps) is listed as a gap and never interpolated. Anything implausible - a
sample-rate line that does not fit the data, timestamps that run backwards or jump by more than a day,
files of one export that do not overlap in time, text where numbers belong - is an ``InputError`` naming
the file and the problem.
"""

from __future__ import annotations

import codecs
import csv
import logging
import lzma
import math
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from runtime.errors import InputError
from runtime.files import check_readable, unreadable

log = logging.getLogger("emotrace.physio")

# E4 file -> (channel name, unit, scale to that unit). ACC arrives in 1/64 g.
E4_SIGNALS: dict[str, tuple[str, str, float]] = {
    "ACC.csv": ("acc", "g", 1.0 / 64.0),
    "BVP.csv": ("bvp", "a.u.", 1.0),
    "EDA.csv": ("eda", "uS", 1.0),
    "TEMP.csv": ("temp", "degC", 1.0),
    "HR.csv": ("hr", "bpm", 1.0),
}
E4_FILES = (*E4_SIGNALS, "IBI.csv", "tags.csv")
E4_COLUMNS = {"ACC.csv": 3}  # values per row; every other signal file has one
ACC_AXES = ("acc_x", "acc_y", "acc_z")  # a CSV's or a board's accelerometer columns: one three-axis "acc" channel
# Generic CSV column names -> canonical channel names.
CSV_ALIASES: dict[str, str] = {
    "bvp": "bvp",
    "ppg": "bvp",
    "eda": "eda",
    "gsr": "eda",
    "temp": "temp",
    "skin_temp": "temp",
    "hr": "hr",
    "heart_rate": "hr",
    "rr": "ibi",
    "ibi": "ibi",
    "ibi_s": "ibi",
    "rr_s": "ibi",
    "ibi_ms": "ibi",
    "rr_ms": "ibi",
    "resp": "resp",
    "respiration": "resp",
    "acc_x": "acc_x",
    "acc_y": "acc_y",
    "acc_z": "acc_z",
}
CSV_SCALES = {"ibi_ms": 0.001, "rr_ms": 0.001}  # a column in another unit than its channel's -> the factor
CSV_UNITS = {
    "bvp": "a.u.",
    "eda": "uS",
    "temp": "degC",
    "hr": "bpm",
    "ibi": "s",
    "resp": "a.u.",
    "acc_x": "g",
    "acc_y": "g",
    "acc_z": "g",
    "acc": "g",
}
TIME_COLUMNS_UNIX = ("timestamp", "unix_s", "unix_time")
TIME_COLUMNS_RELATIVE = ("time_s", "t_s", "seconds")
# A gap is a hole longer than this many sample periods (jitter of a timestamped link stays below it).
GAP_PERIODS = 2.0
STRIDE_SHARE = 0.9  # a CSV column stepping by multiples of k rows in this share of its steps is sampled k times slower
MIN_STRIDE_STEPS = 10  # ... when it has at least this many steps
# The files of one E4 export end together (within 4 s of their median in each of the 28 Stress-Predict
# exports) and last as long, but for HR, which starts 10 s after the others. A wrong rate line changes a file's
# duration and its end by its error times its length (a line of 8 Hz over a minute of 4 Hz EDA: 30 s), as a
# file cut short does; a start line apart from the others (HR's) moves its end but not its duration. Over a day,
# 0.2 % leaves room for the sensors' own rates differing from the lines a little (a rate line 0.2 % off is
# harmless).
END_TOLERANCE_S = 10.0
END_TOLERANCE_FRACTION = 0.002
# A file ending further than this from the others is said, though read (the sensors' rates may drift from their
# lines over many hours: a quarter of the error's fraction).
END_WARNING_S = 6.0
END_WARNING_FRACTION = 0.0005
# Files further apart in time than this (one starting this long after another ended) are not one recording; a
# recording shorter than HR's 10 s delay still keeps its HR file.
DURATION_TOLERANCE_S = 30.0
PLAUSIBLE_UNIX_S = (946_684_800.0, 4_102_444_800.0)  # 2000-01-01 .. 2100-01-01
UNIX_TIME_SCALES = (1.0, 1e3, 1e6, 1e9)  # a UNIX time in seconds, milliseconds, microseconds or nanoseconds
# A '# start_unix_s' line beside a timestamp column may mark the session's start a little before the first stamp
# (a sensor warming up); a minute or more apart, one of them is wrong.
START_LINE_TOLERANCE_S = 60.0
# A wearable session pauses (device off, link lost) but does not skip days: a longer hole in the time column
# is two sessions in one file or a corrupt timestamp, and the windows over it would run into the millions.
MAX_JUMP_S = 24 * 3600.0
# A session, or a wearable's day: the E4 records for up to about 48 h on one charge. A longer span (many jumps
# each under MAX_JUMP_S) is not one recording either, and its windows would again run into the millions.
MAX_SPAN_S = 48 * 3600.0
# Above any wearable's rate (the E4's fastest is 64 Hz); slower than one sample per MAX_JUMP_S is no rate.
MAX_RATE_HZ = 10_000.0
MIN_RATE_HZ = 1.0 / MAX_JUMP_S
# One file's text: 48 h of a 64 Hz signal is about 80 MB. Parsing takes about 14 times the text in memory, so a
# larger file (or a zip member that inflates to one) is refused before it is read, not left to exhaust memory.
MAX_FILE_BYTES = 256 * 2**20
# Outside these a reading is no body's: a heart rate (0 bpm is a sensor's own "no reading"), an inter-beat
# interval at the same rates, skin conductance (an E4 reads up to 100 uS), a skin or body temperature. A corrupt
# row or frame: read as a missing sample. The Stress-Predict exports lie well inside each. A wearable's
# accelerometer reads up to 16 g at most (the E4's, 2 g).
HEART_RATE_RANGE_BPM = (20.0, 300.0)
ACC_RANGE_G = (-16.0, 16.0)
IBI_PLAUSIBLE_S = (60.0 / HEART_RATE_RANGE_BPM[1], 60.0 / HEART_RATE_RANGE_BPM[0])
EDA_RANGE_US = (0.0, 100.0)
TEMPERATURE_RANGE_C = (0.0, 60.0)
_PLAUSIBLE = {  # channel -> (range in its CSV_UNITS unit, what a value is)
    "ibi": (IBI_PLAUSIBLE_S, "inter-beat interval(s)"),
    "hr": (HEART_RATE_RANGE_BPM, "heart rate reading(s)"),
    "eda": (EDA_RANGE_US, "skin conductance reading(s)"),
    "temp": (TEMPERATURE_RANGE_C, "temperature reading(s)"),
    "acc": (ACC_RANGE_G, "acceleration reading(s)"),  # per axis
}
# Errors a zip member can raise while being decompressed (RuntimeError: encrypted; NotImplementedError:
# a compression method zipfile lacks).
ZIP_MEMBER_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    RuntimeError,
    NotImplementedError,
    OSError,
    EOFError,
)


@dataclass
class Channel:
    """One signal on the recording clock. ``values`` is (n,) or (n, k); NaN marks a missing sample."""

    name: str
    unit: str
    times_s: np.ndarray
    values: np.ndarray
    rate_hz: float | None = None  # nominal rate; None for event series such as inter-beat intervals
    gaps: list[tuple[float, float]] = field(default_factory=list)

    @property
    def start_s(self) -> float:
        return float(self.times_s[0]) if self.times_s.size else math.nan

    @property
    def end_s(self) -> float:
        """The end of the last sample's period (its time for an event series); NaN without samples."""
        if not self.times_s.size:
            return math.nan
        period_s = 1.0 / self.rate_hz if self.rate_hz else 0.0
        return float(self.times_s[-1]) + period_s


@dataclass
class Recording:
    source: str
    channels: dict[str, Channel]
    start_unix_s: float | None = None  # wall-clock instant of t_s = 0, when the file says it
    events_s: list[float] = field(default_factory=list)  # button presses (E4 tags), recording clock

    def __post_init__(self) -> None:
        # A channel without samples has no start or end. The readers leave such a file or column out with a
        # log line of their own; this keeps any other maker of a Recording from passing one on.
        for name in [name for name, c in self.channels.items() if not c.times_s.size]:
            log.warning("%s: channel %s holds no samples; read without it", self.source, name)
        self.channels = {name: c for name, c in self.channels.items() if c.times_s.size}

    @property
    def start_s(self) -> float:
        return 0.0

    @property
    def end_s(self) -> float:
        return max((c.end_s for c in self.channels.values()), default=0.0)

    @property
    def duration_s(self) -> float:
        return self.end_s

    def gaps(self) -> dict[str, list[tuple[float, float]]]:
        return {name: list(c.gaps) for name, c in self.channels.items() if c.gaps}

    def between(self, start_s: float, end_s: float) -> Recording:
        """The samples, gaps and events in [start_s, end_s) of the recording clock (a live window's stretch);
        a channel without samples there is left out."""
        channels = {}
        for name, c in self.channels.items():
            first, last = np.searchsorted(c.times_s, [start_s, end_s])
            if last > first:
                gaps = [(max(a, start_s), min(b, end_s)) for a, b in c.gaps if a < end_s and b > start_s]
                channels[name] = Channel(name, c.unit, c.times_s[first:last], c.values[first:last], c.rate_hz, gaps)
        events_s = [t for t in self.events_s if start_s <= t < end_s]
        return Recording(self.source, channels, self.start_unix_s, events_s)


def read_recording(path: str | Path, start_unix_s: float | None = None, rate_hz: float | None = None) -> Recording:
    """An E4 export (folder or .zip) or a generic CSV, by what ``path`` is.

    ``start_unix_s`` and ``rate_hz`` place a CSV that has no time column; given for anything that carries its
    own clock, they are an error rather than silently ignored.
    """
    with _warnings_told_once_read():
        recording = _read_any(Path(path), start_unix_s, rate_hz)
        _check_span(path, recording)
        return recording


def _check_span(source: str | Path, recording: Recording) -> None:
    if recording.duration_s > MAX_SPAN_S:
        raise InputError(
            source,
            f"spans {recording.duration_s / 3600:.1f} h ({recording.start_s:g}..{recording.end_s:g} s), more than "
            f"{MAX_SPAN_S / 3600:g} h: not one recording; cut it into sessions",
        )


@contextmanager
def _warnings_told_once_read() -> Iterator[None]:
    """Hold the readers' warnings (a column or file left out) until the recording is read: when the read
    fails, its one error line is all that is said, not a warning about part of a file that is refused whole."""
    held: list[logging.LogRecord] = []

    def hold(record: logging.LogRecord) -> bool:
        held.append(record)
        return False

    log.addFilter(hold)
    try:
        yield
    finally:
        log.removeFilter(hold)
    for record in held:
        log.handle(record)


def _read_any(path: Path, start_unix_s: float | None, rate_hz: float | None) -> Recording:
    if not path.exists():
        raise InputError(path, "no such file or folder")
    if not (path.is_dir() or path.is_file()):  # a pipe or a device: reading it to find out could wait for ever
        raise InputError(path, "not a regular file or folder")
    if path.is_file():
        check_readable(path)  # else a zip that may not be read passes for a corrupt one
    if path.is_dir() or zipfile.is_zipfile(path):
        _refuse_options(path, "an E4 export carries its own start time and sample rate", start_unix_s, rate_hz)
        return read_e4(path)
    if path.suffix.lower() == ".zip":
        raise InputError(path, "not a readable zip archive (truncated or corrupt)")
    if path.suffix.lower() in (".csv", ".txt"):
        return read_csv(path, start_unix_s=start_unix_s, rate_hz=rate_hz)
    raise InputError(path, "not a physiological recording: expected an E4 folder or zip, or a CSV file")


def _refuse_options(source: str | Path, why: str, start_unix_s: float | None, rate_hz: float | None) -> None:
    given = [flag for flag, value in (("--start-unix", start_unix_s), ("--rate-hz", rate_hz)) if value is not None]
    if given:
        pronoun = "them" if len(given) > 1 else "it"
        raise InputError(source, f"{why}, so {' and '.join(given)} would not be used: leave {pronoun} out")


# --- Empatica E4 ----------------------------------------------------------------------------------------


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
    origin_unix_s = min(s.start_unix_s for s in signals.values())
    channels: dict[str, Channel] = {}
    filenames: dict[str, str] = {}
    for name, signal in signals.items():
        unit = E4_SIGNALS[signal.filename][1]
        offset_s = signal.start_unix_s - origin_unix_s
        channels[name] = _uniform_channel(name, unit, offset_s, signal.rate_hz, signal.values)
        filenames[name] = signal.filename
    _check_ends(path, {name: (c, f"{path}/{filenames[name]}") for name, c in channels.items()})
    if "IBI.csv" in files:
        ibi = _parse_e4_ibi(f"{path}/IBI.csv", files["IBI.csv"](), origin_unix_s)
        if ibi is not None:
            channels["ibi"], filenames["ibi"] = ibi, "IBI.csv"
    _check_overlap(path, {filenames[name]: (c.start_s, c.end_s) for name, c in channels.items()})
    events_s = _parse_e4_tags(f"{path}/tags.csv", files["tags.csv"](), origin_unix_s) if "tags.csv" in files else []
    return Recording(str(path), channels, start_unix_s=origin_unix_s, events_s=events_s)


def _read_e4_signals(path: Path, files: dict[str, Callable[[], str]]) -> dict[str, _E4Signal]:
    signals: dict[str, _E4Signal] = {}
    for filename, (name, _unit, scale) in E4_SIGNALS.items():
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
        if name in _PLAUSIBLE:  # a sample no body could give is a missing one, in its place
            values = np.where(_plausible_readings(label, name, values), values, np.nan)
        signals[name] = _E4Signal(filename, start_unix_s, rate_hz, values)
    if not signals:
        raise InputError(path, f"no E4 signal files ({', '.join(E4_SIGNALS)}) in it")
    return signals


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
    return {name: (lambda p=p: _decode(p, _read_limited(p))) for name, p in files.items()}


def _read_limited(path: Path) -> bytes:
    try:
        _check_file_size(path, path.stat().st_size)
        return path.read_bytes()
    except OSError as error:  # unreadable (permissions), or gone since it was found
        raise unreadable(path, error) from None


def _check_file_size(label: str | Path, size_bytes: int) -> None:
    if size_bytes > MAX_FILE_BYTES:
        raise InputError(label, f"{size_bytes / 2**20:.3g} MB of text, more than {MAX_FILE_BYTES / 2**20:.3g} MB "
                         "(48 h at 64 Hz is about 80 MB): not one recording; cut it into sessions")


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
    folders = sorted({posixpath.dirname(info.filename) for info in members})
    if len(folders) > 1:
        shown = ", ".join(f"{folder}/" if folder else "(top level)" for folder in folders)
        raise InputError(path, f"holds more than one E4 export (E4 files in {shown}): give one export per zip")
    for info in members:
        if info.flag_bits & 0x1:
            raise InputError(path, f"'{info.filename}' is password-protected: export the zip without a password")

    def reader(info: zipfile.ZipInfo) -> Callable[[], str]:
        def read() -> str:
            _check_file_size(f"{path}/{info.filename}", info.file_size)  # the size it inflates to, before it does
            try:
                data = archive.read(info)
            except ZIP_MEMBER_ERRORS as error:
                raise InputError(path, f"'{info.filename}' in the zip cannot be decompressed ({error})") from None
            return _decode(f"{path}/{info.filename}", data)

        return read

    return {posixpath.basename(info.filename): reader(info) for info in members}


def _is_e4_member(info: zipfile.ZipInfo) -> bool:
    # __MACOSX/ holds the Finder's resource forks ("._EDA.csv"), never data.
    return (
        not info.is_dir()
        and posixpath.basename(info.filename) in E4_FILES
        and not info.filename.startswith("__MACOSX/")
    )


def _decode(label: str | Path, data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # a spreadsheet's "Unicode text"
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(label, "not a text file: UTF-16 by its first bytes, but not readable as such") from None
    try:
        return data.decode("utf-8-sig")  # a byte-order mark (Excel writes one) is not part of the first cell
    except UnicodeDecodeError as error:
        raise InputError(label, f"not UTF-8 text (byte {error.start} cannot be read as UTF-8): save it as UTF-8 "
                                "if it is a CSV") from None


def _parse_e4_signal(label: str, text: str) -> tuple[float, float, np.ndarray]:
    lines = text.splitlines()
    start_unix_s = _e4_start_line(label, lines)
    rate_hz = _e4_header_number(label, lines, 1, "a sample rate in Hz")
    _check_rate(label, rate_hz, f"second line {lines[1].strip()!r}")
    if not any(line.strip() for line in lines[2:]):
        raise InputError(label, "empty: an E4 file needs a start-time line, a sample-rate line and data")
    data = _parse_numbers(label, lines[2:], first_line=3)
    return start_unix_s, rate_hz, data


def _e4_start_line(label: str, lines: list[str]) -> float:
    start_unix_s = _e4_header_number(label, lines, 0, "a UNIX start time")
    if not PLAUSIBLE_UNIX_S[0] <= start_unix_s <= PLAUSIBLE_UNIX_S[1]:  # also false for NaN
        raise InputError(label, f"first line {lines[0].strip()!r} is not a UNIX start time"
                                f"{_separator_hint(lines[0])}")
    return start_unix_s


def _separator_hint(line: str) -> str:
    """A hint for a line whose values are separated by semicolons or tabs (a spreadsheet's export in many
    locales), which read as one value."""
    return "; columns must be separated by commas" if ";" in line or "\t" in line else ""


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
        raise InputError(label, f"{ordinal} line {line[:40]!r} is not {what}{_separator_hint(line)}") from None


def _parse_e4_ibi(label: str, text: str, origin_unix_s: float) -> Channel | None:
    """Beat times on the recording clock (the file gives them in seconds since its start line) and intervals;
    None, with a log line, when it has none.

    The E4 writes only the start line when it found no beats; the recording is then read without beats.
    """
    lines = text.splitlines()
    if len(lines) < 2 or not any(line.strip() for line in lines[1:]):
        log.warning("%s holds no samples (no beats found); read without it", label)
        return None
    start_unix_s = _e4_start_line(label, lines)
    data, row_lines = _drop_blank_rows(_parse_numbers(label, lines[1:], first_line=2), first_line=2)
    if data.shape[1] != 2:
        raise InputError(label, "expected two columns: seconds since start, inter-beat interval (s)")
    _check_times(label, data[:, 0], row_lines, "the beat time")
    present = _plausible_readings(label, "ibi", data[:, 1])
    early = data[:, 0] < 0
    if early.any():  # a beat is timed from the file's start line: one before it is no beat of this recording
        log.warning("%s: %d beat(s) timed before the file's start line (e.g. %.10g s); read without them", label,
                    int(early.sum()), float(data[early, 0][0]))
        present &= ~early
    if not present.any():
        log.warning("%s holds no samples (no intervals); read without it", label)
        return None
    times_s = data[present, 0] + (start_unix_s - origin_unix_s)
    return Channel("ibi", "s", times_s, data[present, 1], rate_hz=None)


def plausible_readings(name: str, values: np.ndarray) -> np.ndarray:
    """Which of ``values`` a body could give on channel ``name`` (every finite one on a channel without a range:
    a pulse wave, an accelerometer axis)."""
    values = np.asarray(values, dtype=float)
    if name not in _PLAUSIBLE:
        return np.isfinite(values)
    low, high = _PLAUSIBLE[name][0]
    with np.errstate(invalid="ignore"):
        return (values >= low) & (values <= high)


def _plausible_readings(label: str | Path, name: str, values: np.ndarray) -> np.ndarray:
    """Which rows hold a value a body could give (``name``: a channel of ``_PLAUSIBLE``); the others (zero,
    negative, infinite, an interval of a minute) are said in one log line and left out, so that they never reach
    the statistics the model reads."""
    plausible = plausible_readings(name, values)
    note = implausible_note(name, values)
    if note:
        log.warning("%s: %s; read without them", label, note)
    return plausible


def implausible_note(name: str, values: np.ndarray) -> str:
    """'' when every present value of channel ``name`` is one a body could give; else how many are not, and
    why that may be."""
    if name not in _PLAUSIBLE:
        return ""
    (low, high), what = _PLAUSIBLE[name]
    present = ~np.isnan(values)
    plausible = plausible_readings(name, values)
    if not (present & ~plausible).any():
        return ""
    bad = values[present & ~plausible]
    # intervals a thousand times too long are a heart's in milliseconds, as many straps and apps write them
    in_ms = name == "ibi" and not plausible.any() and 1000 * low <= float(np.median(bad)) <= 1000 * high
    return (f"{bad.size} {what} outside {low:g}..{high:g} {CSV_UNITS[name]} (e.g. {float(bad[0])!r}) are no "
            f"body's" + (" (in milliseconds? name the column rr_ms)" if in_ms else ""))


def _parse_e4_tags(label: str, text: str, origin_unix_s: float) -> list[float]:
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        return []  # no button presses: the E4 writes an empty file
    data, row_lines = _drop_blank_rows(_parse_numbers(label, lines), first_line=1)
    _check_finite(label, data[:, 0], row_lines, "the tag time")
    return [float(t) - origin_unix_s for t in data[:, 0]]


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


# --- generic CSV ----------------------------------------------------------------------------------------


def read_csv(path: str | Path, start_unix_s: float | None = None, rate_hz: float | None = None) -> Recording:
    """A CSV with a header of named channels and either a time column or a start time and a rate.

    Time column: ``timestamp`` (UNIX seconds, milliseconds, microseconds or nanoseconds, or ISO 8601 times with
    their UTC offset) or ``time_s`` (seconds, any origin; a ``# start_unix_s`` line gives the first row's
    instant). Without one, the start and rate come from the arguments or from ``# start_unix_s: ...`` /
    ``# rate_hz: ...`` lines at the top, and a blank row keeps its place as a missing sample. An empty cell or
    ``nan`` is a missing sample; each channel keeps the rows where it has a value.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    lines = _comma_separated(_decode(path, _read_limited(path)).splitlines())
    meta, header, first_line, body = _split_csv(path, lines)
    time_column = next((h for h in header if h in TIME_COLUMNS_UNIX + TIME_COLUMNS_RELATIVE), None)
    columns = _channel_columns(path, header, time_column)
    if time_column in TIME_COLUMNS_UNIX:
        body = _iso_times_as_unix(path, body, header.index(time_column), first_line)
    data = _parse_numbers(path, body, first_line=first_line, columns=len(header))
    if time_column is None:
        rate_hz = _given_rate(path, rate_hz, meta)
        times_s = np.arange(data.shape[0]) / rate_hz
        start_unix_s = _given_start(path, start_unix_s, meta)
    else:
        _refuse_options(path, f"it has its own time column '{time_column}'", start_unix_s, rate_hz)
        data, times_s, start_unix_s, rate_hz = _csv_time_column(path, header, time_column, data, first_line, meta)
    channels: dict[str, Channel] = {}
    thin: dict[str, str] = {}  # columns with under two samples -> why, where their values are no body's
    for name, (column_names, values) in _csv_signals(header, columns, data).items():
        channel = _timestamped_channel(name, times_s, values, rate_hz, f"{path}: column {', '.join(column_names)}")
        if channel is None:
            note = implausible_note(name, values)  # an accelerometer's three columns too
            thin[", ".join(column_names)] = note
        else:
            channels[name] = channel
    if not channels:  # one line saying it all, not a warning per column before it
        said = ", ".join(f"{columns}: {note}" if note else columns for columns, note in thin.items())
        raise InputError(path, f"no signal column with at least two samples ({said})")
    if thin:  # the values no body gives were said as they were read: the columns alone here
        log.warning("%s: column(s) %s hold fewer than two samples; read without them", path, ", ".join(thin))
    channels, start_unix_s = _from_first_sample(path, channels, start_unix_s)
    return Recording(str(path), channels, start_unix_s=start_unix_s)


def _from_first_sample(path: Path, channels: dict[str, Channel], start_unix_s: float | None
                       ) -> tuple[dict[str, Channel], float | None]:
    """The channels on a clock whose 0 is their first sample, and that instant's UNIX time: rows before any
    channel has a value (times alone) are no part of the recording, and that is said, since an offset given for
    the recording (``--physio-offset``) places its first sample, not its first row."""
    first_s = min(c.start_s for c in channels.values())
    if first_s <= 0:
        return channels, start_unix_s
    log.warning("%s: its first %s s of rows hold no value; the recording starts at its first sample (where "
                "--physio-offset places it)", path, seconds_text(first_s, ".3g"))
    moved = {name: Channel(c.name, c.unit, c.times_s - first_s, c.values, c.rate_hz,
                           [(a - first_s, b - first_s) for a, b in c.gaps]) for name, c in channels.items()}
    return moved, None if start_unix_s is None else start_unix_s + first_s


def _csv_signals(
    header: list[str], columns: dict[int, str], data: np.ndarray
) -> dict[str, tuple[list[str], np.ndarray]]:
    """Channel name -> (its columns, its values): one column each, but the accelerometer's three axes make one
    ``acc`` channel of (n, 3) values, as an E4's ACC file does."""
    signals = {name: ([header[index]], data[:, index] * CSV_SCALES.get(header[index], 1.0))
               for index, name in columns.items()}
    if all(axis in signals for axis in ACC_AXES):
        signals["acc"] = ([signals[a][0][0] for a in ACC_AXES],
                          np.stack([signals.pop(a)[1] for a in ACC_AXES], axis=1))
    return signals


META_KEYS = ("start_unix_s", "rate_hz")


def _refuse_misspelt_meta(path: Path, line: int, text: str, key: str) -> None:
    """A comment that means a start or rate line but is not written as one ('# start_unix_s = ...', '# rate_hz 4',
    '# start_unix_ms: ...') is an error: read as a comment, it would silently move or respace the recording."""
    if key in META_KEYS or not text.lstrip().startswith("#"):
        return
    word = re.split(r"[\s=:]+", text.lstrip("# \t").lower(), maxsplit=1)[0]
    if word.startswith(("start_unix", "rate_h")):
        raise InputError(path, f"line {line}: {text.strip()[:40]!r} is no start or rate line; write "
                               "'# start_unix_s: SECONDS' or '# rate_hz: HZ'")


def _comma_separated(lines: list[str]) -> list[str]:
    """The lines of a CSV whose header has semicolons or tabs between its names and no comma (a spreadsheet's
    export in the many locales that write a decimal comma), rewritten with commas between values and points in
    numbers; other files as they are."""
    if lines and lines[0].strip(" ").lower() in ("sep=;", "sep=\t"):  # Excel's line naming the separator
        lines = lines[1:]
    header = next((line for line in lines if line.strip() and not line.lstrip().startswith("#")), "")
    separator = next((mark for mark in (";", "\t") if mark in header), None)
    if separator is None or "," in header:
        return lines
    return [line.replace(",", ".").replace(separator, ",") for line in lines]


def _split_csv(path: Path, lines: list[str]) -> tuple[dict[str, float], list[str], int, list[str]]:
    """``# key: value`` lines above the header, the header's column names, and the data lines after it
    (with the file line number of the first)."""
    meta: dict[str, float] = {}
    index = 0
    while index < len(lines) and (not lines[index].strip() or lines[index].lstrip().startswith("#")):
        key, _, value = lines[index].lstrip("# \t").partition(":")
        key = key.strip().lower()
        _refuse_misspelt_meta(path, index + 1, lines[index], key)
        if key in META_KEYS:
            try:
                number = float(value)
            except ValueError:
                raise InputError(path, f"line {index + 1}: {key} {value.strip()[:20]!r} is not a number") from None
            if key in meta and number != meta[key] and not (math.isnan(number) and math.isnan(meta[key])):
                raise InputError(path, f"line {index + 1}: a second '# {key}' line says {number:.10g} against "
                                 f"{meta[key]:.10g} before it; keep one")
            meta[key] = number
        index += 1
    body = lines[index + 1 :]
    if index >= len(lines) or not any(line.strip() for line in body):
        raise InputError(path, "empty: a header row and at least one data row are needed")
    header = [h.strip().lower() for h in _csv_cells(path, lines[index], index + 1)]  # names may be quoted
    if len(set(header)) != len(header):
        raise InputError(path, "duplicate column names in the header")
    return meta, header, index + 2, body


def _channel_columns(path: Path, header: list[str], time_column: str | None) -> dict[int, str]:
    """Column index -> channel name for the columns the reader knows; the others are left out with a log line."""
    columns: dict[int, str] = {}
    unknown = []
    for index, column in enumerate(header):
        name = CSV_ALIASES.get(column)
        if column == time_column:
            continue
        if name is None:
            unknown.append(column)
        elif name in columns.values():
            raise InputError(path, f"two columns hold the {name} channel: {', '.join(_names_of(header, name))}")
        else:
            columns[index] = name
    if not columns:
        # A semicolon- or tab-separated file (a spreadsheet's export in many locales) reads as one column.
        hint = _separator_hint(",".join(header))
        raise InputError(
            path,
            f"no known channel column: found {', '.join(header)}; known: {', '.join(CSV_ALIASES)} "
            f"(time: {', '.join(TIME_COLUMNS_UNIX + TIME_COLUMNS_RELATIVE)}){hint}",
        )
    if unknown:
        shown = ", ".join(c if c.isprintable() else repr(c) for c in unknown)  # a NUL byte would print as nothing
        log.warning("%s: column(s) %s are no known channel; read without them", path, shown)
    return columns


def _names_of(header: list[str], name: str) -> list[str]:
    return [column for column in header if CSV_ALIASES.get(column) == name]


def _given_rate(path: Path, rate_hz: float | None, meta: dict[str, float]) -> float:
    _refuse_disagreeing(path, "--rate-hz", rate_hz, "rate_hz", meta)
    if rate_hz is not None:
        _check_rate(path, rate_hz, f"--rate-hz {rate_hz!r}")
        return rate_hz
    if "rate_hz" not in meta:
        raise InputError(path, "no time column (timestamp or time_s) and no sample rate given")
    _check_rate(path, meta["rate_hz"], f"'# rate_hz' line {meta['rate_hz']!r}")
    return meta["rate_hz"]


def _given_start(path: Path, start_unix_s: float | None, meta: dict[str, float]) -> float | None:
    _refuse_disagreeing(path, "--start-unix", start_unix_s, "start_unix_s", meta)
    where = "--start-unix" if start_unix_s is not None else "'# start_unix_s' line"
    start_unix_s = start_unix_s if start_unix_s is not None else meta.get("start_unix_s")
    if start_unix_s is not None and not PLAUSIBLE_UNIX_S[0] <= start_unix_s <= PLAUSIBLE_UNIX_S[1]:
        raise InputError(path, f"{where} {start_unix_s!r} is not a UNIX start time (seconds since 1970)")
    return start_unix_s


def _refuse_disagreeing(path: Path, flag: str, given: float | None, key: str, meta: dict[str, float]) -> None:
    """An option that contradicts the file's own line would silently move its clock: say which to trust."""
    if given is not None and key in meta and given != meta[key]:
        raise InputError(path, f"its '# {key}' line says {meta[key]:.10g}, {flag} says {given:.10g}: correct the line "
                         f"or leave {flag} out")


def _csv_time_column(
    path: Path, header: list[str], time_column: str, data: np.ndarray, first_line: int, meta: dict[str, float]
) -> tuple[np.ndarray, np.ndarray, float | None, float | None]:
    """Rows with a time (blank rows dropped: the time column places the others), seconds from the first,
    the UNIX time of the first row (the column's first value; for relative times, the ``# start_unix_s``
    line's) and the ``# rate_hz`` line's rate, checked against the timestamps."""
    data, row_lines = _drop_blank_rows(data, first_line)
    if not data.shape[0]:
        raise InputError(path, "no data rows")
    times = data[:, header.index(time_column)]
    if time_column in TIME_COLUMNS_UNIX:
        times = _unix_seconds(times)
    _check_times(path, times, row_lines, f"column '{time_column}'")
    if time_column in TIME_COLUMNS_UNIX:
        if not PLAUSIBLE_UNIX_S[0] <= times[0] <= PLAUSIBLE_UNIX_S[1]:
            raise InputError(path, f"column '{time_column}' does not hold UNIX seconds ({float(times[0])!r})")
        start_unix_s = float(times[0])
        line_start_s = _given_start(path, None, meta)  # a line that is no UNIX time is refused as such
        if line_start_s is not None and abs(line_start_s - start_unix_s) > START_LINE_TOLERANCE_S:
            raise InputError(path, f"its '# start_unix_s' line says {meta['start_unix_s']:.10g}, its first "
                             f"'{time_column}' {start_unix_s:.10g}: correct the line or leave it out")
    else:
        start_unix_s = _given_start(path, None, meta)  # the first row's instant: a time_s column has any origin
    times_s = times - times[0]
    rate_hz = meta.get("rate_hz")
    if rate_hz is not None:
        _check_rate(path, rate_hz, f"'# rate_hz' line {rate_hz!r}")
        _check_rate_against_timestamps(path, times_s, rate_hz)
    return data, times_s, start_unix_s, rate_hz


def _unix_seconds(times: np.ndarray) -> np.ndarray:
    """A UNIX time column in seconds: one in milliseconds, microseconds or nanoseconds, as phones, straps and
    sensor loggers write it, is told by its size (no such count is a UNIX time in seconds between 2000 and 2100)."""
    finite = times[np.isfinite(times)]
    for scale in UNIX_TIME_SCALES:
        if finite.size and PLAUSIBLE_UNIX_S[0] <= finite[0] / scale <= PLAUSIBLE_UNIX_S[1]:
            return times / scale
    return times


def sample_rate_hz(steps_s: np.ndarray) -> float:
    """The rate of samples ``steps_s`` apart (all > 0): their whole time over the number of sample periods in
    it, each step counted as the whole number of periods it spans.

    Not one over the median step: stamps taken in whole milliseconds put a 64 Hz signal 15 or 16 ms apart, and
    the median, 16 ms, would call it 62.5 Hz and stretch every beat interval found in it by 2.4 %. Counting
    periods keeps holes (a gap, a lost frame, rows without a value: they count the periods missing in them)
    and bursts after a stall (samples stamped on arrival, crowded together: a crowded step counts none) from
    biasing it. The periods are counted in median steps, then once more in the period that gives.
    """
    total_s = float(steps_s.sum())
    period_s = float(np.median(steps_s))
    for _ in range(2):
        period_s = total_s / max(1.0, float(np.rint(steps_s / period_s).sum()))
    return 1.0 / period_s


def _timestamped_channel(
    name: str, times_s: np.ndarray, values: np.ndarray, rate_hz: float | None, label: str
) -> Channel | None:
    """The rows where the column has a finite value (all three for the accelerometer); None where there is
    nothing to speak of (no beat; under two samples of a sampled signal)."""
    present = _plausible_readings(label, name, values) if name in _PLAUSIBLE else np.isfinite(values)
    if values.ndim == 2:  # the accelerometer: a row is a sample when all three axes are
        present = present.all(axis=1)
    times, kept = times_s[present], values[present]
    unit = CSV_UNITS.get(name, "")
    if name == "ibi":
        return Channel(name, unit, times, kept) if kept.size else None
    if kept.size < 2:
        return None
    period_s = 1.0 / (_column_rate_hz(times, rate_hz) if rate_hz else sample_rate_hz(np.diff(times)))
    jumps = np.flatnonzero(np.diff(times) > GAP_PERIODS * period_s)
    gaps = [(float(times[i] + period_s), float(times[i + 1])) for i in jumps]
    return Channel(name, unit, times, kept, rate_hz=1.0 / period_s, gaps=gaps)


def _column_rate_hz(times_s: np.ndarray, rows_rate_hz: float) -> float:
    """The rate of a column of rows that come at ``rows_rate_hz``: theirs, or theirs over k where the column holds
    a value every k-th row (a 4 Hz EDA beside a 64 Hz pulse wave in one file), so that the rows between are not
    read as missing samples."""
    steps = np.rint(np.diff(times_s) * rows_rate_hz)
    if steps.size < MIN_STRIDE_STEPS:  # a few stray values are no slower channel (their period would be minutes)
        return rows_rate_hz
    stride = float(np.median(steps))
    # a value missing in the column makes a step of 2k, 3k...: a gap in a channel at rate/k, not another rate
    if stride >= 2 and np.mean(steps % stride == 0) >= STRIDE_SHARE:
        return rows_rate_hz / stride
    return rows_rate_hz


# --- shared checks --------------------------------------------------------------------------------------


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


def _check_ends(source: Path, channels: dict[str, tuple[Channel, str]]) -> None:
    """A sample-rate line that does not match the data stretches that file against the others: it lasts longer
    or shorter than they do and ends elsewhere."""
    if len(channels) < 2:
        return
    ends_s = {name: c.end_s for name, (c, _) in channels.items()}
    durations_s = {name: c.end_s - c.start_s for name, (c, _) in channels.items()}
    end_s, duration_s = float(np.median(list(ends_s.values()))), float(np.median(list(durations_s.values())))
    tolerance_s = max(END_TOLERANCE_S, END_TOLERANCE_FRACTION * end_s)

    def stretched(a: str, end_s: float, duration_s: float) -> bool:
        return abs(ends_s[a] - end_s) > tolerance_s and abs(durations_s[a] - duration_s) > tolerance_s

    if len(channels) == 2:  # neither is the majority: a median of two cannot tell which line is wrong
        (a, (a_channel, a_label)), (b, (b_channel, b_label)) = channels.items()
        if stretched(a, ends_s[b], durations_s[b]):
            raise InputError(
                source,
                f"{a_label} ({a_channel.rate_hz:g} Hz) lasts {durations_s[a]:.0f} s to {ends_s[a]:.0f} s and "
                f"{b_label} ({b_channel.rate_hz:g} Hz) {durations_s[b]:.0f} s to {ends_s[b]:.0f} s by their "
                "sample-rate lines: one of them is wrong or a file is cut short",
            )
        return
    for name in channels:
        if stretched(name, end_s, duration_s):
            channel, label = channels[name]
            raise InputError(
                label,
                f"sample-rate line says {channel.rate_hz:g} Hz, which makes it last {durations_s[name]:.0f} s to "
                f"{ends_s[name]:.0f} s against {duration_s:.0f} s to {end_s:.0f} s for the other files (from the "
                "earliest start line): the line is wrong or the file is cut short",
            )
    for name, (_, label) in channels.items():
        if abs(ends_s[name] - end_s) > max(END_WARNING_S, END_WARNING_FRACTION * end_s):  # a start line apart too
            side = "after" if ends_s[name] > end_s else "before"
            log.warning("%s: ends %.0f s %s the other files (at %.0f s against %.0f s, by its start and rate lines): "
                        "a start line off, rows missing or a file cut short would shift its samples against the "
                        "others; read as its lines say", label, abs(ends_s[name] - end_s), side, ends_s[name], end_s)


def seconds_text(t_s: float, spec: str = ".1f") -> str:
    """``t_s`` as ``spec`` writes it, or in four digits and an exponent where that would run to hundreds of digits
    (a time of 1e308, an offset of 1e300), for an error line."""
    return f"{t_s:{spec}}" if abs(t_s) < 1e9 else f"{t_s:{spec[0] if spec[0] == '+' else ''}.4g}"


def _check_rate(source: str | Path, rate_hz: float, what: str) -> None:
    if not (math.isfinite(rate_hz) and MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ):
        raise InputError(source, f"{what} is not a sample rate in Hz (one sample a day up to {MAX_RATE_HZ:g} Hz)")


def _check_rate_against_timestamps(source: Path, times_s: np.ndarray, rate_hz: float) -> None:
    if times_s.size < 3:
        return
    measured_hz = sample_rate_hz(np.diff(times_s))
    if abs(measured_hz - rate_hz) > 0.05 * rate_hz:
        raise InputError(source, f"sample rate {rate_hz:g} Hz does not match the timestamps ({measured_hz:.3g} Hz)")


def _check_times(source: str | Path, times: np.ndarray, row_lines: np.ndarray, what: str) -> None:
    """Times that are finite, increase, and never jump by more than MAX_JUMP_S (the line named)."""
    _check_finite(source, times, row_lines, what)
    steps = np.diff(times)
    if (steps <= 0).any():
        row = int(np.flatnonzero(steps <= 0)[0])
        raise InputError(
            source,
            f"timestamps do not increase at line {row_lines[row + 1]} "
            f"({float(times[row])!r} then {float(times[row + 1])!r})",
        )
    if (steps > MAX_JUMP_S).any():
        row = int(np.flatnonzero(steps > MAX_JUMP_S)[0])
        raise InputError(
            source,
            f"line {row_lines[row + 1]}: the time jumps by {seconds_text(steps[row], '.0f')} s "
            f"({float(times[row])!r} then "
            f"{float(times[row + 1])!r}), more than {MAX_JUMP_S / 3600:g} h: not one recording",
        )


def _check_finite(source: str | Path, values: np.ndarray, row_lines: np.ndarray, what: str) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        held = "is empty" if np.isnan(values[row]) else f"holds {float(values[row])!r}"
        raise InputError(source, f"line {row_lines[row]}: {what} {held}, not a finite time")


def _drop_blank_rows(data: np.ndarray, first_line: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows with any value, and their file line numbers; for timestamped rows, where a blank row holds
    no place."""
    row_lines = first_line + np.arange(data.shape[0])
    kept = ~np.isnan(data).all(axis=1)
    return data[kept], row_lines[kept]


def _iso_times_as_unix(path: Path, lines: list[str], column: int, first_line: int) -> list[str]:
    """The data lines with their time cell, where it is an ISO 8601 date and time with its UTC offset
    ('2026-12-05T10:00:00.250+01:00', 'Z' for UTC: what spreadsheets, pandas and many wearables' exports write),
    in UNIX seconds; lines whose times are numbers already are returned as they are."""
    first = next((cells[column] for number, line in enumerate(lines, start=first_line) if line.strip()
                  for cells in [_csv_cells(path, line, number)] if column < len(cells) and cells[column].strip()),
                 "")
    if not first or _reads_as_number(first):  # numbers, or no time at all: the reader says what is wrong with them
        return lines
    converted = []
    for number, line in enumerate(lines, start=first_line):
        cells = _csv_cells(path, line, number) if '"' in line else line.split(",")
        if column < len(cells) and cells[column].strip():  # a blank line or a missing time stays as it was
            cells[column] = repr(_iso_unix_s(path, cells[column].strip(), number))
        converted.append(",".join(cells))
    return converted


def _reads_as_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _iso_unix_s(path: Path, text: str, number: int) -> float:
    """UNIX seconds of an ISO 8601 time with its UTC offset. One without an offset is refused: the instant it
    means depends on a time zone the file does not say, and a guess would shift it against the video by hours."""
    try:
        instant = datetime.fromisoformat(_iso_for_python(text))
    except ValueError:
        raise InputError(path, f"line {number}: {text[:40]!r} is neither UNIX seconds nor an ISO 8601 time") from None
    if instant.tzinfo is None:
        raise InputError(path, f"line {number}: {text[:40]!r} has no UTC offset; write the times with theirs "
                         "('+01:00', 'Z' for UTC) or as UNIX seconds") from None
    return instant.timestamp()


# Date, time, fraction and offset of the ISO 8601 times spreadsheets and pandas write: rewritten in the one form
# Python 3.10's fromisoformat reads (6 fraction digits, +HH:MM); 3.11 reads the others too.
_ISO_TIME = re.compile(r"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|z|[+-]\d{2}(?::?\d{2})?)?")


def _iso_for_python(text: str) -> str:
    match = _ISO_TIME.fullmatch(text)
    if match is None:
        return text
    when, fraction, offset = match.groups()
    fraction = f".{(fraction + '000000')[:6]}" if fraction else ""  # nanoseconds (pandas) to microseconds
    if offset in ("Z", "z"):
        offset = "+00:00"
    elif offset:
        digits = offset[1:].replace(":", "")
        offset = f"{offset[0]}{digits[:2]}:{(digits[2:] or '00')}"
    return f"{when}{fraction}{offset or ''}"


def _parse_numbers(source: str | Path, lines: list[str], first_line: int = 1, columns: int | None = None) -> np.ndarray:
    """Comma-separated numbers as a 2-D float array, one row per line from ``first_line`` on.

    Empty cells and 'nan' are NaN, anything else that is no number an error naming the line. A blank line
    is a row of NaN: skipping it would move every later sample of an evenly sampled file one period early.
    Blank lines after the last row are no rows.
    """
    lines = list(lines)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise InputError(source, "no data rows")
    width = columns or len(next(line for line in lines if line.strip()).split(","))
    missing_row = ",".join(["nan"] * width)
    lines = [line if line.strip() else missing_row for line in lines]
    try:
        # comments=None: a '#' line among the data is no number (numpy would drop it and shift the rows after)
        data = np.loadtxt(lines, delimiter=",", ndmin=2, dtype=float, comments=None)
    except ValueError:
        data = _parse_slowly(source, lines, first_line)
    if columns is not None and data.shape[1] != columns:
        raise InputError(source, f"rows have {data.shape[1]} values, the header names {columns}")
    return data


def _csv_cells(source: str | Path, line: str, number: int) -> list[str]:
    """One line's cells, quotes (as Excel and pandas write them) removed. A line is read alone: a quote left open
    is an error naming it, never a cell running on into the lines after it."""
    try:
        return next(csv.reader([line], strict=True), [])
    except csv.Error:
        raise InputError(source, f"line {number}: a quote is left open ({line.strip()[:40]!r})") from None


def _parse_slowly(source: str | Path, lines: list[str], first_line: int) -> np.ndarray:
    rows: list[list[float]] = []
    for number, line in enumerate(lines, start=first_line):
        row = []
        for cell in _csv_cells(source, line, number):  # numbers may be quoted too
            cell = cell.strip()
            if cell == "" or cell.lower() == "nan":
                row.append(math.nan)
                continue
            try:
                row.append(float(cell))
            except ValueError:
                raise InputError(source, f"line {number}: {cell[:20]!r} is not a number") from None
        if rows and len(row) != len(rows[0]):
            raise InputError(source, f"line {number}: {len(row)} values where earlier lines have {len(rows[0])}")
        rows.append(row)
    return np.asarray(rows, dtype=float).reshape(len(rows), -1)
