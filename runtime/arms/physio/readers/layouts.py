"""Wearable apps' export layouts, rewritten into the generic CSV form ``csv_file`` reads: a summary block above the
samples (Polar Flow) blanked, so that every line keeps its number, and an elapsed clock read as ``time_s``."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from runtime.arms.physio.readers.text import csv_cells
from runtime.errors import InputError

log = logging.getLogger("emotrace.physio")

POLAR_FLOW_SUMMARY = ("name", "sport", "date", "start time")  # the first names of its summary header
POLAR_FLOW_SAMPLES = ("sample rate", "time")  # ... and of its samples table's
_ELAPSED = re.compile(r"(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)")  # H:MM:SS, hours past 24 in a long session


def polar_flow_samples(path: str | Path, lines: list[str]) -> list[str]:
    """The lines of a Polar Flow export with its summary (a header of session fields and one line of values) blanked
    and its samples' ``Time`` (elapsed H:MM:SS) as ``time_s`` seconds; other files' lines as they are.

    The summary's Date and Start time are the watch's local time without a UTC offset: the instant they mean depends
    on a time zone the file does not say, so the recording is read without a wall-clock start, and that is said."""
    if len(lines) < 3 or not _starts_with(path, lines[0], 1, POLAR_FLOW_SUMMARY):
        return lines
    if not _starts_with(path, lines[2], 3, POLAR_FLOW_SAMPLES):
        raise InputError(path, "line 3: a Polar Flow summary is not followed by its samples table "
                               "('Sample rate,Time,HR (bpm),...')")
    # strict=False: the values line may end early (empty fields left off); the start is said as it is found
    summary = dict(zip(csv_cells(path, lines[0], 1), csv_cells(path, lines[1], 2), strict=False))
    log.warning("%s: its start %r has no UTC offset; read without a wall-clock start (--physio-offset places it)",
                path, f"{summary.get('Date', '')} {summary.get('Start time', '')}".strip())
    time_column = [cell.strip().lower() for cell in csv_cells(path, lines[2], 3)].index("time")
    samples = [_with_elapsed_seconds(path, line, number, time_column)
               for number, line in enumerate(lines[3:], start=4)]
    header = csv_cells(path, lines[2], 3)
    header[time_column] = "time_s"
    return ["", "", ",".join(header), *samples]


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
    return ",".join(f'"{cell}"' if "," in cell else cell for cell in cells)


def _starts_with(path: str | Path, line: str, number: int, names: tuple[str, ...]) -> bool:
    cells = [cell.strip().lower() for cell in csv_cells(path, line, number)]
    return tuple(cells[: len(names)]) == names
