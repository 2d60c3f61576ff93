"""Recorded physiological inputs: an Empatica E4 export (folder or zip) or a generic CSV, on one clock.

A ``Recording`` holds named channels on the recording's own clock: seconds from the earliest channel
start, so that ``t_s = 0`` is the first sample of any channel. Its wall-clock start (UNIX seconds, UTC) is
kept where the file says it. Samples stay where they were recorded: a gap (missing rows, a NaN run, a
jump in the timestamps) is listed as a gap and never interpolated. Anything implausible - a sample-rate
line that does not fit the data, timestamps that run backwards, text where numbers belong - is an
``InputError`` naming the file and the problem.
"""

from __future__ import annotations

import contextlib
import io
import math
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from runtime.errors import InputError

# E4 file -> (channel name, unit, scale to that unit). ACC arrives in 1/64 g.
E4_SIGNALS: dict[str, tuple[str, str, float]] = {
    "ACC.csv": ("acc", "g", 1.0 / 64.0),
    "BVP.csv": ("bvp", "a.u.", 1.0),
    "EDA.csv": ("eda", "uS", 1.0),
    "TEMP.csv": ("temp", "degC", 1.0),
    "HR.csv": ("hr", "bpm", 1.0),
}
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
    "resp": "resp",
    "respiration": "resp",
    "acc_x": "acc_x",
    "acc_y": "acc_y",
    "acc_z": "acc_z",
}
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
}
TIME_COLUMNS_UNIX = ("timestamp", "unix_s", "unix_time")
TIME_COLUMNS_RELATIVE = ("time_s", "t_s", "seconds")
# A gap is a hole longer than this many sample periods (jitter of a timestamped link stays below it).
GAP_PERIODS = 2.0
# Channels of one recording may end a few seconds apart; a wrong rate line stretches one by a factor.
DURATION_TOLERANCE = 0.10
DURATION_TOLERANCE_S = 30.0
PLAUSIBLE_UNIX_S = (946_684_800.0, 4_102_444_800.0)  # 2000-01-01 .. 2100-01-01


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
        return float(self.times_s[0])

    @property
    def end_s(self) -> float:
        """The end of the last sample's period (its time for an event series)."""
        period_s = 1.0 / self.rate_hz if self.rate_hz else 0.0
        return float(self.times_s[-1]) + period_s


@dataclass
class Recording:
    source: str
    channels: dict[str, Channel]
    start_unix_s: float | None = None  # wall-clock instant of t_s = 0, when the file says it
    events_s: list[float] = field(default_factory=list)  # button presses (E4 tags), recording clock

    @property
    def start_s(self) -> float:
        return 0.0

    @property
    def end_s(self) -> float:
        return max(c.end_s for c in self.channels.values())

    @property
    def duration_s(self) -> float:
        return self.end_s

    def gaps(self) -> dict[str, list[tuple[float, float]]]:
        return {name: list(c.gaps) for name, c in self.channels.items() if c.gaps}


def read_recording(path: str | Path, start_unix_s: float | None = None, rate_hz: float | None = None) -> Recording:
    """An E4 export (folder or .zip) or a generic CSV, by what ``path`` is."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file or folder")
    if path.is_dir() or zipfile.is_zipfile(path):
        return read_e4(path)
    if path.suffix.lower() == ".zip":
        raise InputError(path, "not a readable zip archive (truncated or corrupt)")
    if path.suffix.lower() in (".csv", ".txt"):
        return read_csv(path, start_unix_s=start_unix_s, rate_hz=rate_hz)
    raise InputError(path, "not a physiological recording: expected an E4 folder or zip, or a CSV file")


# --- Empatica E4 ----------------------------------------------------------------------------------------


def read_e4(path: str | Path) -> Recording:
    """An E4 export: each signal file starts with its UNIX start time and its sample rate (Hz)."""
    path = Path(path)
    files = _e4_files(path)
    raw: dict[str, tuple[float, float, np.ndarray, str, str]] = {}
    for filename, (name, unit, scale) in E4_SIGNALS.items():
        if filename not in files:
            continue
        label = f"{path}/{filename}"
        start_unix_s, rate_hz, data = _parse_e4_signal(label, files[filename]())
        raw[name] = (start_unix_s, rate_hz, data * scale, unit, label)
    if not raw:
        raise InputError(path, f"no E4 signal files ({', '.join(E4_SIGNALS)}) in it")
    origin_unix_s = min(start for start, *_ in raw.values())
    channels: dict[str, Channel] = {}
    for name, (start_unix_s, rate_hz, data, unit, _label) in raw.items():
        values = data[:, 0] if data.shape[1] == 1 else data
        channels[name] = _uniform_channel(name, unit, start_unix_s - origin_unix_s, rate_hz, values)
    _check_durations(path, {name: (c, raw[name][4]) for name, c in channels.items()})
    if "IBI.csv" in files:
        channels["ibi"] = _parse_e4_ibi(f"{path}/IBI.csv", files["IBI.csv"](), origin_unix_s)
    tags_text = files["tags.csv"]() if "tags.csv" in files else ""
    events_s = []
    if tags_text.strip():
        events_s = [float(t) - origin_unix_s for t in _parse_numbers(f"{path}/tags.csv", tags_text)[:, 0]]
    return Recording(str(path), channels, start_unix_s=origin_unix_s, events_s=events_s)


def _e4_files(path: Path) -> dict[str, Callable[[], str]]:
    """File name -> a reader of its text, for a folder or a zip (flat or with one folder inside)."""
    if path.is_dir():
        return {p.name: (lambda p=p: _decode(p, p.read_bytes())) for p in path.iterdir() if p.is_file()}
    try:
        archive = zipfile.ZipFile(path)
        names = {Path(n).name: n for n in archive.namelist() if not n.endswith("/")}
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(path, f"not a readable zip archive ({error})") from None

    def reader(member: str) -> Callable[[], str]:
        def read() -> str:
            try:
                return _decode(f"{path}/{member}", archive.read(member))
            except (zipfile.BadZipFile, OSError, EOFError) as error:
                raise InputError(f"{path}/{member}", f"corrupt zip member ({error})") from None

        return read

    return {name: reader(member) for name, member in names.items()}


def _decode(label: str | Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(label, "not a text file") from None


def _parse_e4_signal(label: str, text: str) -> tuple[float, float, np.ndarray]:
    lines = text.splitlines()
    if len(lines) < 3:
        raise InputError(label, "empty: an E4 file needs a start-time line, a sample-rate line and data")
    header = _parse_numbers(label, "\n".join(lines[:2]))
    start_unix_s, rate_hz = float(header[0, 0]), float(header[1, 0])
    if not PLAUSIBLE_UNIX_S[0] <= start_unix_s <= PLAUSIBLE_UNIX_S[1]:
        raise InputError(label, f"first line {lines[0].strip()!r} is not a UNIX start time")
    if not (math.isfinite(rate_hz) and 0 < rate_hz <= 10_000):
        raise InputError(label, f"second line {lines[1].strip()!r} is not a sample rate in Hz")
    data = _parse_numbers(label, "\n".join(lines[2:]), first_line=3)
    return start_unix_s, rate_hz, data


def _parse_e4_ibi(label: str, text: str, origin_unix_s: float) -> Channel:
    lines = text.splitlines()
    try:
        start_unix_s = float(lines[0].split(",")[0])
    except (IndexError, ValueError):
        raise InputError(label, "first line is not a UNIX start time") from None
    body = "\n".join(lines[1:]).strip()
    data = _parse_numbers(label, body, first_line=2) if body else np.zeros((0, 2))
    if data.shape[0] and data.shape[1] != 2:
        raise InputError(label, "expected two columns: seconds since start, inter-beat interval (s)")
    times_s = data[:, 0] + (start_unix_s - origin_unix_s) if data.shape[0] else np.zeros(0)
    _check_monotonic(label, times_s)
    return Channel("ibi", "s", times_s, data[:, 1] if data.shape[0] else np.zeros(0), rate_hz=None)


# --- generic CSV ----------------------------------------------------------------------------------------


def read_csv(path: str | Path, start_unix_s: float | None = None, rate_hz: float | None = None) -> Recording:
    """A CSV with a header of named channels and either a time column or a start time and a rate.

    Time column: ``timestamp`` (UNIX seconds, UTC) or ``time_s`` (seconds, any origin). Without one, the
    start and rate come from the arguments or from ``# start_unix_s: ...`` / ``# rate_hz: ...`` lines at
    the top. An empty cell or ``nan`` is a missing sample; each channel keeps the rows where it has a value.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    text = _decode(path, path.read_bytes())
    lines = text.splitlines()
    meta: dict[str, float] = {}
    while lines and lines[0].lstrip().startswith("#"):
        key, _, value = lines.pop(0).lstrip("# \t").partition(":")
        with contextlib.suppress(ValueError):
            meta[key.strip().lower()] = float(value)
    lines = [line for line in lines if line.strip()]
    if len(lines) < 2:
        raise InputError(path, "empty: a header row and at least one data row are needed")
    header = [h.strip().lower() for h in lines[0].split(",")]
    if len(set(header)) != len(header):
        raise InputError(path, "duplicate column names in the header")
    data = _parse_numbers(path, "\n".join(lines[1:]), first_line=2, columns=len(header))
    time_column = next((h for h in header if h in TIME_COLUMNS_UNIX + TIME_COLUMNS_RELATIVE), None)
    start_unix_s = start_unix_s if start_unix_s is not None else meta.get("start_unix_s")
    rate_hz = rate_hz if rate_hz is not None else meta.get("rate_hz")
    if time_column is not None:
        times = data[:, header.index(time_column)]
        if np.isnan(times).any():
            raise InputError(path, f"column '{time_column}' has empty or NaN timestamps")
        _check_monotonic(path, times)
        if time_column in TIME_COLUMNS_UNIX:
            if not PLAUSIBLE_UNIX_S[0] <= times[0] <= PLAUSIBLE_UNIX_S[1]:
                raise InputError(path, f"column '{time_column}' does not hold UNIX seconds ({float(times[0])!r})")
            start_unix_s = float(times[0])
        times_s = times - times[0]
        if rate_hz is not None:
            _check_rate_against_timestamps(path, times_s, rate_hz)
    else:
        if rate_hz is None:
            raise InputError(path, "no time column (timestamp or time_s) and no sample rate given")
        if not rate_hz > 0:
            raise InputError(path, f"sample rate must be positive, not {rate_hz}")
        times_s = np.arange(data.shape[0]) / rate_hz
    channels: dict[str, Channel] = {}
    for index, column in enumerate(header):
        if column == time_column:
            continue
        name = CSV_ALIASES.get(column, column)
        channel = _timestamped_channel(name, times_s, data[:, index], rate_hz)
        if channel is not None:
            channels[name] = channel
    if not channels:
        raise InputError(path, "no signal column with at least two samples")
    channels = _merge_acc(channels)
    return Recording(str(path), channels, start_unix_s=start_unix_s)


def _timestamped_channel(name: str, times_s: np.ndarray, values: np.ndarray, rate_hz: float | None) -> Channel | None:
    present = ~np.isnan(values)
    times, kept = times_s[present], values[present]
    unit = CSV_UNITS.get(name, "")
    if name == "ibi":
        return Channel(name, unit, times, kept)
    if kept.size < 2:
        return None  # fewer than two samples: no signal to speak of
    period_s = 1.0 / rate_hz if rate_hz else float(np.median(np.diff(times)))
    jumps = np.flatnonzero(np.diff(times) > GAP_PERIODS * period_s)
    gaps = [(float(times[i] + period_s), float(times[i + 1])) for i in jumps]
    return Channel(name, unit, times, kept, rate_hz=1.0 / period_s, gaps=gaps)


def _merge_acc(channels: dict[str, Channel]) -> dict[str, Channel]:
    axes = [channels.get(f"acc_{axis}") for axis in "xyz"]
    if any(a is None for a in axes) or len({a.times_s.size for a in axes}) != 1:
        return channels
    merged = {k: v for k, v in channels.items() if not k.startswith("acc_")}
    merged["acc"] = Channel(
        "acc",
        "g",
        axes[0].times_s,
        np.stack([a.values for a in axes], axis=1),
        rate_hz=axes[0].rate_hz,
        gaps=axes[0].gaps,
    )
    return merged


# --- shared checks --------------------------------------------------------------------------------------


def _uniform_channel(name: str, unit: str, offset_s: float, rate_hz: float, values: np.ndarray) -> Channel:
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


def _check_durations(source: Path, channels: dict[str, tuple[Channel, str]]) -> None:
    """A sample-rate line that does not match the data stretches that channel against the others."""
    if len(channels) < 2:
        return
    durations = {name: c.end_s - c.start_s for name, (c, _) in channels.items()}
    reference_s = float(np.median(list(durations.values())))
    for name, duration_s in durations.items():
        if abs(duration_s - reference_s) > max(DURATION_TOLERANCE * reference_s, DURATION_TOLERANCE_S):
            channel, label = channels[name]
            raise InputError(
                label,
                f"sample-rate line says {channel.rate_hz:g} Hz, which makes it last "
                f"{duration_s:.0f} s against {reference_s:.0f} s for the other channels",
            )


def _check_rate_against_timestamps(source: Path, times_s: np.ndarray, rate_hz: float) -> None:
    if times_s.size < 3:
        return
    measured_hz = 1.0 / float(np.median(np.diff(times_s)))
    if abs(measured_hz - rate_hz) > 0.05 * rate_hz:
        raise InputError(source, f"sample rate {rate_hz:g} Hz does not match the timestamps ({measured_hz:.3g} Hz)")


def _check_monotonic(source: str | Path, times: np.ndarray) -> None:
    steps = np.diff(times)
    if (steps <= 0).any():
        row = int(np.flatnonzero(steps <= 0)[0])
        raise InputError(
            source,
            f"timestamps do not increase at data row {row + 2} ({float(times[row])!r} then {float(times[row + 1])!r})",
        )


def _parse_numbers(source: str | Path, text: str, first_line: int = 1, columns: int | None = None) -> np.ndarray:
    """Comma-separated numbers as a 2-D float array; empty cells and 'nan' are NaN, anything else an error."""
    try:
        data = np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2, dtype=float)
    except ValueError:
        data = _parse_slowly(source, text, first_line)
    if data.size == 0:
        raise InputError(source, "no data rows")
    if columns is not None and data.shape[1] != columns:
        raise InputError(source, f"rows have {data.shape[1]} values, the header names {columns}")
    return data


def _parse_slowly(source: str | Path, text: str, first_line: int) -> np.ndarray:
    rows: list[list[float]] = []
    for number, line in enumerate(text.splitlines(), start=first_line):
        if not line.strip():
            continue
        row = []
        for cell in line.split(","):
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
