"""Wearable apps' export layouts, rewritten into the generic CSV form ``csv_file`` reads: a summary block above the
samples (Polar Flow) blanked, so that every line keeps its number, and an elapsed clock read as ``time_s``; a Shimmer
(Consensys) export's format and units rows read, its signals named as the columns in those units are."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from runtime.arms.physio.readers.text import csv_cells, csv_line, reads_as_number
from runtime.errors import InputError

log = logging.getLogger("emotrace.physio")

POLAR_FLOW_SUMMARY = ("name", "sport", "date", "start time")  # the first names of its summary header
POLAR_FLOW_SAMPLES = ("sample rate", "time")  # ... and of its samples table's
# A Consensys signal (its name after the device's prefix, before _CAL) -> the generic column it is, and the units
# its units row may give for it (the first is the one named when another is found).
CONSENSYS_SIGNALS = {
    "timestamp_unix": ("timestamp", ("ms",)),
    "timestamp": ("time_ms", ("ms",)),  # from the device's start: no wall clock (--physio-offset places it)
    "gsr_skin_conductance": ("eda", ("uS", "µS", "uSiemens", "µSiemens")),
    "gsr_skin_resistance": ("skin_resistance_kohm", ("kOhms", "kOhm")),
    "ppg_a12": ("ppg", ("mV",)),
    "ppg_a13": ("ppg", ("mV",)),
    "ppgtohr": ("hr", ("BPM", "bpm", "Beats/min")),
    **{f"accel_ln_{axis}": (f"acc_{axis}_ms2", ("m/(s^2)", "m/(s2)")) for axis in "xyz"},
}
CONSENSYS_FORMATS = {"cal", "raw", ""}  # the format row: each signal calibrated or raw
_CONSENSYS_NAME = re.compile(rf"(?:.*_)?({'|'.join(CONSENSYS_SIGNALS)})_cal")
# The device's own clock is its Timestamp; the PC's System_Timestamp beside it is not.
_CONSENSYS_SYSTEM_TIME = re.compile(r"(?:.*_)?system_timestamp_cal")
_ELAPSED = re.compile(r"(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)")  # H:MM:SS, hours past 24 in a long session


def is_polar_flow(path: str | Path, lines: list[str]) -> bool:
    """Whether the lines begin with a Polar Flow export's summary header."""
    return bool(lines) and _starts_with(path, lines[0], 1, POLAR_FLOW_SUMMARY)


def polar_flow_samples(path: str | Path, lines: list[str], utc_offset_s: float | None = None) -> list[str]:
    """The lines of a Polar Flow export with its summary (a header of session fields and one line of values) blanked
    and its samples' ``Time`` (elapsed H:MM:SS) as ``time_s`` seconds; other files' lines as they are.

    The summary's Date and Start time are the watch's local time without a UTC offset: with ``utc_offset_s`` they
    give the recording's start (a ``# start_unix_s`` line in place of the summary's header); without it the
    instant they mean depends on a time zone the file does not say, so the recording is read without a wall-clock
    start, and that is said."""
    if not is_polar_flow(path, lines):
        return lines
    if len(lines) < 3 or not _starts_with(path, lines[2], 3, POLAR_FLOW_SAMPLES):
        raise InputError(path, "line 3: a Polar Flow summary is not followed by its samples table "
                               "('Sample rate,Time,HR (bpm),...')")
    # strict=False: the values line may end early (empty fields left off); the start is said as it is found
    summary = dict(zip(csv_cells(path, lines[0], 1), csv_cells(path, lines[1], 2), strict=False))
    start_text = f"{summary.get('Date', '')} {summary.get('Start time', '')}".strip()
    start_line = ""
    if utc_offset_s is None:
        log.warning("%s: its start %r has no UTC offset; read without a wall-clock start (--physio-offset places it, "
                    "or give the watch's UTC offset)", path, start_text)
    else:
        start_line = f"# start_unix_s: {_polar_flow_start_unix_s(path, start_text, utc_offset_s)!r}"
    time_column = [cell.strip().lower() for cell in csv_cells(path, lines[2], 3)].index("time")
    samples = [_with_elapsed_seconds(path, line, number, time_column)
               for number, line in enumerate(lines[3:], start=4)]
    header = csv_cells(path, lines[2], 3)
    header[time_column] = "time_s"
    return [start_line, "", ",".join(header), *samples]


def _polar_flow_start_unix_s(path: str | Path, start_text: str, utc_offset_s: float) -> float:
    """UNIX seconds of a Polar Flow summary's 'Date Start time' (dd-mm-yyyy HH:MM:SS) on a clock ``utc_offset_s``
    from UTC."""
    try:
        local = datetime.strptime(start_text, "%d-%m-%Y %H:%M:%S")
    except ValueError:
        raise InputError(path, f"line 2: its start {start_text[:40]!r} is no 'dd-mm-yyyy HH:MM:SS' date and "
                               "time") from None
    return local.replace(tzinfo=timezone(timedelta(seconds=utc_offset_s))).timestamp()


def elapsed_s(path: str | Path, text: str, number: int) -> float:
    """Seconds of an elapsed time written H:MM:SS (a fraction allowed), the line named where it is none."""
    match = _ELAPSED.fullmatch(text.strip())
    if match is None:
        raise InputError(path, f"line {number}: {text.strip()[:20]!r} is no elapsed time (H:MM:SS)")
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600.0 + int(minutes) * 60.0 + float(seconds)


def _with_elapsed_seconds(path: str | Path, line: str, number: int, column: int) -> str:
    if not line.strip():
        return line  # a blank line is no sample, as the generic reader says
    cells = csv_cells(path, line, number)
    if column < len(cells) and cells[column].strip():  # a missing time is said by the reader as any other's
        cells[column] = repr(elapsed_s(path, cells[column], number))
    return csv_line(cells)


def _starts_with(path: str | Path, line: str, number: int, names: tuple[str, ...]) -> bool:
    cells = [cell.strip().lower() for cell in csv_cells(path, line, number)]
    return tuple(cells[: len(names)]) == names


def consensys_columns(path: str | Path, header: list[str], body: list[str], first_line: int
                      ) -> tuple[list[str], list[str], int]:
    """A Shimmer (Consensys) export's header with its known signals named as the generic columns in their units, and
    its data lines after the format row (CAL/RAW) and the units row; other files' as they are.

    A known signal in a unit the reader has no conversion for is refused naming it; a skin resistance beside the
    conductance it was computed from is left out with the other columns not read."""
    if not any(name.endswith(("_cal", "_raw")) for name in header) or not body:
        return header, body, first_line
    skipped = 1 if {cell.strip().lower() for cell in csv_cells(path, body[0], first_line)} <= CONSENSYS_FORMATS else 0
    if skipped >= len(body):
        return header, body, first_line
    units = [cell.strip() for cell in csv_cells(path, body[skipped], first_line + skipped)]
    if any(reads_as_number(unit) for unit in units):  # no units row: the names alone do not say what the values are
        return header, body, first_line
    renamed = list(header)
    for index, name in enumerate(header):
        match = _CONSENSYS_NAME.fullmatch(name)
        if match is None or index >= len(units):
            continue
        if match.group(1) == "timestamp" and _CONSENSYS_SYSTEM_TIME.fullmatch(name):
            continue
        column, known_units = CONSENSYS_SIGNALS[match.group(1)]
        if units[index] not in known_units:
            raise InputError(path, f"line {first_line + skipped}: column {name} is in {units[index]!r}, read in "
                                   f"{known_units[0]}")
        renamed[index] = column
    if "eda" in renamed:  # the resistance is the conductance's reciprocal: one column holds the channel
        renamed = [header[i] if column == "skin_resistance_kohm" else column for i, column in enumerate(renamed)]
    if "timestamp" in renamed:  # the UNIX time places the recording; the device's own clock is left out
        renamed = [header[i] if column == "time_ms" else column for i, column in enumerate(renamed)]
    return renamed, body[skipped + 1 :], first_line + skipped + 1
