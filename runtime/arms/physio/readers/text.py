"""What the readers share: a text file read within a size limit and decoded, rows of comma-separated numbers
parsed with the line of any problem named, and time columns and sample rates checked."""

from __future__ import annotations

import codecs
import csv
import math
import re
from datetime import datetime
from pathlib import Path

import numpy as np

from runtime.arms.physio.recording import MAX_JUMP_S, MAX_RATE_HZ, MIN_RATE_HZ, seconds_text
from runtime.errors import InputError
from runtime.files import unreadable

# One file's text: 48 h of a 64 Hz signal is about 80 MB. Parsing takes about 14 times the text in memory, so a
# larger file (or a zip member that inflates to one) is refused before it is read, not left to exhaust memory.
MAX_FILE_BYTES = 256 * 2**20


def read_limited(path: Path) -> bytes:
    try:
        check_file_size(path, path.stat().st_size)
        return path.read_bytes()
    except OSError as error:  # unreadable (permissions), or gone since it was found
        raise unreadable(path, error) from None


def check_file_size(label: str | Path, size_bytes: int) -> None:
    if size_bytes > MAX_FILE_BYTES:
        raise InputError(label, f"{size_bytes / 2**20:.3g} MB of text, more than {MAX_FILE_BYTES / 2**20:.3g} MB "
                         "(48 h at 64 Hz is about 80 MB): not one recording; cut it into sessions")


def decode_text(label: str | Path, data: bytes) -> str:
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


def separator_hint(line: str) -> str:
    """A hint for a line whose values are separated by semicolons or tabs (a spreadsheet's export in many
    locales), which read as one value."""
    return "; columns must be separated by commas" if ";" in line or "\t" in line else ""


def reads_as_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def parse_numbers(source: str | Path, lines: list[str], first_line: int = 1, columns: int | None = None,
                  names: list[str] | None = None) -> np.ndarray:
    """Comma-separated numbers as a 2-D float array, one row per line from ``first_line`` on.

    Empty cells and 'nan' are NaN, anything else that is no number an error naming the line (and the column, where
    ``names`` names the columns). A blank line
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
        data = _parse_slowly(source, lines, first_line, names or [])
    if columns is not None and data.shape[1] != columns:
        raise InputError(source, f"rows have {data.shape[1]} values, the header names {columns}")
    return data


def csv_cells(source: str | Path, line: str, number: int) -> list[str]:
    """One line's cells, quotes (as Excel and pandas write them) removed. A line is read alone: a quote left open
    is an error naming it, never a cell running on into the lines after it."""
    if '"' not in line:  # most lines: no quotes to read
        return line.split(",") if line else []
    try:
        return next(csv.reader([line], strict=True), [])
    except csv.Error:
        raise InputError(source, f"line {number}: a quote is left open ({line.strip()[:40]!r})") from None


def csv_line(cells: list[str]) -> str:
    """Cells joined into one line again, ``csv_cells``'s inverse: a cell holding a comma ("0,5") is quoted, to stay
    one cell."""
    return ",".join(f'"{cell}"' if "," in cell else cell for cell in cells)


def _parse_slowly(source: str | Path, lines: list[str], first_line: int, names: list[str]) -> np.ndarray:
    rows: list[list[float]] = []
    for number, line in enumerate(lines, start=first_line):
        row = []
        for index, cell in enumerate(csv_cells(source, line, number)):  # numbers may be quoted too
            cell = cell.strip()
            if cell == "" or cell.lower() == "nan":
                row.append(math.nan)
                continue
            try:
                row.append(float(cell))
            except ValueError:
                column = f" in column '{names[index]}'" if index < len(names) else ""
                raise InputError(source, f"line {number}: {cell[:20]!r} is not a number{column}") from None
        if rows and len(row) != len(rows[0]):
            raise InputError(source, f"line {number}: {len(row)} values where earlier lines have {len(rows[0])}")
        rows.append(row)
    return np.asarray(rows, dtype=float).reshape(len(rows), -1)


def drop_blank_rows(data: np.ndarray, first_line: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows with any value, and their file line numbers; for timestamped rows, where a blank row holds
    no place."""
    row_lines = first_line + np.arange(data.shape[0])
    kept = ~np.isnan(data).all(axis=1)
    return data[kept], row_lines[kept]


def check_times(source: str | Path, times: np.ndarray, row_lines: np.ndarray, what: str) -> None:
    """Times that are finite, increase, and never jump by more than MAX_JUMP_S (the line named)."""
    check_finite(source, times, row_lines, what)
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


def check_finite(source: str | Path, values: np.ndarray, row_lines: np.ndarray, what: str) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        held = "is empty" if np.isnan(values[row]) else f"holds {float(values[row])!r}"
        raise InputError(source, f"line {row_lines[row]}: {what} {held}, not a finite time")


def check_rate(source: str | Path, rate_hz: float, what: str) -> None:
    if not (math.isfinite(rate_hz) and MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ):
        raise InputError(source, f"{what} is not a sample rate in Hz (one sample a day up to {MAX_RATE_HZ:g} Hz)")


_UTC_OFFSET = re.compile(r"(?:UTC)?([+-])(\d{1,2})(?::?(\d{2}))?")
UTC_OFFSETS_S = (-12 * 3600.0, 14 * 3600.0)  # the world's clocks run from UTC-12:00 to UTC+14:00


def parse_utc_offset_s(text: str, label: str) -> float:
    """Seconds east of UTC of an offset written as ISO 8601 writes it ('+01:00', '-0530', '+2', 'Z'; 'UTC+01:00'
    too), the way a clinic would state the clock a phone app kept; anything else is an input error for ``label``."""
    text = text.strip()
    if text.upper() in ("Z", "UTC", "0", "+0", "-0"):
        return 0.0
    match = _UTC_OFFSET.fullmatch(text.upper())
    if match is None:
        raise InputError(label, f"{text!r} is no UTC offset: write it as +01:00, -05:00 or Z")
    sign, hours, minutes = match.groups()
    offset_s = (1 if sign == "+" else -1) * (int(hours) * 3600.0 + int(minutes or 0) * 60.0)
    if int(minutes or 0) >= 60:
        raise InputError(label, f"{text!r} is no UTC offset: its minutes run from 00 to 59")
    if not UTC_OFFSETS_S[0] <= offset_s <= UTC_OFFSETS_S[1]:
        raise InputError(label, f"{text!r} is no UTC offset: clocks run from -12:00 to +14:00")
    return offset_s


# Date, time, fraction and offset of the ISO 8601 times spreadsheets, pandas and containers write: rewritten in the
# one form Python 3.10's fromisoformat reads (6 fraction digits, +HH:MM); 3.11 reads the others too.
_ISO_TIME = re.compile(r"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|z|[+-]\d{2}(?::?\d{2})?)?")


def parse_iso_time(text: str) -> datetime:
    """An ISO 8601 date and time, with its UTC offset where it has one (naive where not); ValueError if none."""
    return datetime.fromisoformat(_iso_for_python(text.strip()))


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
