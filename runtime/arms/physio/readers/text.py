"""What the readers share: a text file read within a size limit and decoded, rows of comma-separated numbers
parsed with the line of any problem named, and time columns and sample rates checked."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import logging
import math
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import NoReturn, TypeVar

import numpy as np

from runtime.arms.physio.recording import (
    GAP_PERIODS,
    MAX_JUMP_S,
    MAX_RATE_HZ,
    MIN_RATE_HZ,
    sample_rate_hz,
    seconds_text,
)
from runtime.errors import InputError
from runtime.files import unreadable

log = logging.getLogger("emotrace.physio")

# One file's text: 48 h of a 64 Hz signal is about 80 MB. A CSV's read peaks at about 7 times its text (1e6 rows of
# four columns, 29 MB: 197 MiB with commas, semicolons and decimal commas, tabs and decimal points; 208 MiB for 40 MB
# with a date column not read, 211 MiB for 31.5 MB where a decimal-comma file's thousands points are told: 15 times
# when its columns were read as strings); 7 too where a quoted cell sends it line by line, a chunk of lines at a time
# (211 MiB for 28.7 MB, 1.33 GiB for 236 MB: at this limit, about 1.5 GiB; 18 times when every cell was held as a
# string), and where such a file's points are told too, each column read as its own text (a date column, thousands
# points: 213 MiB for 40 MB, 202-210 MiB for 31.5 MB, 1.34 GiB for 259 MB; 12-15 times when every cell was a string):
# python benchmarks/physio_csv_read.py. A larger file (or a zip member that inflates to one) is refused before it
# is read, not left to exhaust memory.
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
    """A file's text, UTF-8 (a byte-order mark and a closing ``DOS_END_OF_FILE`` left out) or UTF-16 with its
    byte-order mark, a tail of NULs left out of either (``_before_nul_tail``); a file holding a control character no
    text does (``first_control``: a binary file, whatever its name) is refused naming the first, before it could
    read as an empty file or a header of unknown columns."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # a spreadsheet's "Unicode text"
        little_endian = data.startswith(codecs.BOM_UTF16_LE)
        unit = f"{'<' if little_endian else '>'}u2"
        cut, cut_off = _before_nul_tail(data, "utf-16-le" if little_endian else "utf-16-be", start=2)
        try:  # from a view: a file ending in NULs is decoded without a copy of its bytes before them
            text = str(memoryview(data)[:cut], "utf-16")
        except UnicodeDecodeError:
            raise InputError(label, "not a text file: UTF-16 by its first bytes, but not readable as such") from None
        units = np.frombuffer(data, unit, count=(cut - 2) // 2, offset=2)
        control = first_control(units)
        if control is not None:
            _refuse_binary(label, int(units[control]), 2 + 2 * control)
        return _said_cut_off(label, text, cut_off)
    if _utf16_without_mark(data[:64]):  # before a tail of NULs is looked for: such text ends in one
        raise InputError(label, "not UTF-8 text (NUL bytes among the first: UTF-16 without a byte-order mark?): "
                                "save it as UTF-8")
    cut, cut_off = _before_nul_tail(data, "utf-8")
    view = memoryview(data)[:_dos_end_start(data, cut)]  # the text's bytes, not a copy of them
    control = first_control(np.frombuffer(view, np.uint8))
    if control is not None:
        _refuse_binary(label, view[control], control)
    try:
        text = str(view, "utf-8-sig")  # a byte-order mark (Excel writes one) is not part of the first cell
    except UnicodeDecodeError as error:
        raise InputError(label, f"not UTF-8 text (byte {error.start} cannot be read as UTF-8): save it as UTF-8 "
                                "if it is a CSV") from None
    return _said_cut_off(label, text, cut_off)


def _said_cut_off(label: str | Path, text: str, cut_off: tuple[str, str] | None) -> str:
    """``text``, read before a tail of NULs (``cut_off``: ``_before_nul_tail``'s words), said in one warning once it
    reads as text (a binary file's NULs are no logger's); refused where no whole line of it comes before them."""
    if cut_off is None:
        return text
    said, read = cut_off
    if not text or text.isspace():  # (text.strip() would copy the text)
        raise InputError(label, f"{said} No whole line of text comes before them")
    log.warning("%s: %s %s", label, said, read)
    return text


# The control characters a text file holds: tab, line feed, carriage return, and form feed (a page break: text tools
# count it as text, and the readers, as str.splitlines does, read it as a line break). Any other (a NUL above all)
# marks a binary file: no spreadsheet, logger or phone app writes one into a CSV.
TEXT_CONTROLS = (0x09, 0x0A, 0x0C, 0x0D)
DOS_END_OF_FILE = b"\x1a"  # SUB, which DOS-era tools write after a text's last line: read as its end alone
CONTROL_CHUNK = 2**20  # code units compared at once: the file's size in booleans is never held
RUN_SCAN_BYTES = 2**16  # a run at a file's end is looked for this much at a time: no copy of what comes before it


def _run_start(data: bytes, byte: bytes, end: int) -> int:
    """Where the run of ``byte`` that ends ``data[:end]`` begins (``end`` where it does not end in one), found a
    block at a time from the end: the bytes before it are never copied (``rstrip`` would, a whole file's)."""
    while end:
        begin = max(0, end - RUN_SCAN_BYTES)
        kept = len(data[begin:end].rstrip(byte))
        if kept:
            return begin + kept
        end = begin
    return 0


def _dos_end_start(data: bytes, end: int) -> int:
    """Where the DOS end-of-file bytes after the text of ``data[:end]`` begin (a run of them, a line break after
    them too, as DOS-era tools and loggers close a file: the end of the text, not binary); ``end`` where it has
    none."""
    before_break = end - (2 if data.endswith(b"\r\n", 0, end) else 1 if data.endswith((b"\n", b"\r"), 0, end) else 0)
    run_start = _run_start(data, DOS_END_OF_FILE, before_break)
    return run_start if run_start < before_break else end


def _before_nul_tail(data: bytes, encoding: str, start: int = 0) -> tuple[int, tuple[str, str] | None]:
    """Where the text of ``data`` (in ``encoding`` from byte ``start``: UTF-8, or UTF-16 after its byte-order
    mark) ends before the NULs it ends in (a logger that had its file's space written ahead,
    cut off by a power cut: a clinician's recording up to then), its last line left out where no line break ends
    it (cut short, its last number may be another); and the words that say so (``_said_cut_off``), None where it
    ends in none (the end of ``data``), nor where a DOS end-of-file closes the bytes' text before them: the file
    was closed whole, its text ends there, and the NULs are the space written ahead that it did not fill."""
    width = len("\n".encode(encoding))  # bytes a code unit
    stripped = _run_start(data, b"\x00", len(data))
    text_end = stripped + (start - stripped) % width  # a last unit's NUL byte is its own (an ASCII one's in UTF-16)
    if text_end >= len(data):
        return len(data), None
    closed_at = _dos_end_start(data, text_end) if width == 1 else text_end
    if closed_at < text_end:
        return closed_at, None
    cut = _after_last_line_break(data, encoding, start, text_end)
    said = f"ends in {len(data) - text_end} NUL bytes from offset {text_end}: a logger cut off?"
    return cut, (said, "Read the text before them" + (f", but its last line, cut short at offset {cut}"
                                                       if cut < text_end else ""))


def _after_last_line_break(data: bytes, encoding: str, start: int, end: int) -> int:
    """The byte offset after the last line break (any the readers count lines by: ``_LINE_BREAK``'s) among the
    characters in ``encoding`` of ``data[start:end]`` (UTF-8's, or UTF-16's from ``start``), ``start`` where there
    is none; searched in C from the end."""
    width = len("\n".encode(encoding))
    after = start
    for line_break in "\n\r" + _BREAKS_BESIDE_NEWLINE:  # LF first: the others are looked for after it alone
        mark = line_break.encode(encoding)
        at = data.rfind(mark, after, end)
        while at >= 0 and (at - start) % width:  # bytes of two UTF-16 units: no line break (UTF-8's never straddle)
            at = data.rfind(mark, after, at + len(mark) - 1)
        after = after if at < 0 else at + len(mark)
    return after


def first_control(units: np.ndarray) -> int | None:
    """The index of the first control character (below 0x20, or DEL) other than TEXT_CONTROLS among a text's code
    units (bytes, or UTF-16's 16-bit units), None where it holds none; compared in numpy a chunk at a time."""
    for start in range(0, units.size, CONTROL_CHUNK):
        chunk = units[start:start + CONTROL_CHUNK]
        at = np.flatnonzero((chunk < 0x20) | (chunk == 0x7F))  # a text's line breaks and tabs, most files' only
        at = at[~np.isin(chunk[at], TEXT_CONTROLS)]
        if at.size:
            return start + int(at[0])
    return None


def _utf16_without_mark(head: bytes) -> bool:
    """Whether a file's first bytes ``head``, holding NULs, read as UTF-16 text whose writer left out the
    byte-order mark: its NULs all on one side of its 16-bit units, the high bytes of ASCII characters (every CSV's
    digits, separators and line breaks: a quarter of its units at least), and those units no control character. A
    binary file's NULs (runs of them) fall on both sides, a stray NUL in UTF-8 text is one."""
    head = head[:len(head) // 2 * 2]
    nuls = {index % 2 for index, value in enumerate(head) if value == 0}
    if len(nuls) != 1:
        return False
    order = "<" if nuls == {1} else ">"  # a little-endian unit's high byte comes second
    ascii_units = head[1 if order == "<" else 0::2].count(0)
    return 4 * ascii_units >= len(head) // 2 and first_control(np.frombuffer(head, f"{order}u2")) is None


def _refuse_binary(label: str | Path, control: int, offset: int) -> NoReturn:
    raise InputError(label, f"not text (a binary file: byte 0x{control:02x} at offset {offset})")


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


def parse_numbers(source: str | Path, lines: list[str], first_line: int = 1, unfinished: bool = False) -> np.ndarray:
    """Comma-separated numbers as a 2-D float array, one row per line from ``first_line`` on, as many columns as
    the first line that is not blank has cells.

    Empty cells and 'nan' are NaN, anything else that is no number an error naming the line. A blank line is a row
    of NaN: skipping it would move every later sample of an evenly sampled file one period early. Blank lines after
    the last row are no rows. The lines are read as a CSV's samples are (``csv_columns``), the first problem in
    the file's order named (``first_problem_named``; ``unfinished``: no line break ends the file's last line).
    """
    number, line = next(((number, line) for number, line in enumerate(lines, start=first_line) if line.strip()),
                        (first_line, ""))
    width = len(csv_cells(source, line, number))

    def numbers(text: str) -> np.ndarray:
        columns = csv_columns(source, text, first_line, ",", width, list(range(width)), set(), header=False)
        columns.update(numbers_of_columns(source, {index: column for index, column in columns.items()
                                                   if not isinstance(column, np.ndarray)}, first_line))
        return np.stack([columns[index] for index in range(width)], axis=1)

    return first_problem_named(numbers, "\n".join(lines), unfinished)


_Read = TypeVar("_Read")


class LineError(InputError):
    """A data line that cannot be split into the file's cells (a quote left open, or another number of cells than
    the lines above): ``offset``, where it begins in the data lines' text."""

    def __init__(self, source: str | Path, problem: str, offset: int, fewer: bool = False):
        super().__init__(source, problem)
        self.offset = offset
        self.fewer = fewer  # fewer cells than the lines above: cut short, where it is the file's unfinished end


class CellError(InputError):
    """A data cell that holds no value its column can (no number, no time), told by the cell alone: named before a
    LineError below it (``first_problem_named``)."""


def ends_unfinished(text: str) -> bool:
    """Whether no line break (any the readers count lines by) ends ``text``: its last line may be cut short."""
    return not _LINE_BREAK.fullmatch(text[-1:])


def first_problem_named(read: Callable[[str], _Read], text: str, unfinished: bool | None = None) -> _Read:
    """``read(text)`` of data lines, whose lines are split by ``csv_columns``; where one cannot be (``LineError``),
    the lines above it are read first, so that a cell there that is no number or time (``CellError``) is named
    before it: the first problem in the file's order. Any other refusal of those lines is the file's to make as a
    whole (what its points mark, told by all its numbers), not theirs alone: the line is named.

    A last line of fewer cells than those above, with no line break after it where the file ends (``unfinished``;
    by default, where ``text`` ends in none), was cut short as a file ending in NULs is (a copy made while the
    file was written): read without it, said in one warning."""
    try:
        return read(text)
    except LineError as error:
        unfinished = ends_unfinished(text) if unfinished is None else unfinished
        if error.fewer and unfinished and _LINE_BREAK.search(text, error.offset) is None and text[:error.offset]:
            log.warning("%s: %s, and no line break ends the file after it: its last line, cut short (a copy made "
                        "while it was written?); read without it", error.source, error.problem)
            return read(text[:error.offset])
        if text[:error.offset].strip():
            try:
                read(text[:error.offset])
            except CellError as above:
                raise above from None
            except InputError:
                pass  # a decision made on part of the file: it could refuse what the whole file reads
        raise error from None


# Thousands as a decimal-comma locale groups them: by points, or by spaces (plain, no-break, narrow no-break, thin),
# the comma its decimal mark ('1.234,5', '1 234,5'). One point and three digits ('1.234') may be either mark: the
# file's other numbers tell which.
THOUSANDS_SPACES = " \u00a0\u202f\u2009"
_GROUPED = re.compile(rf"[+-]?[1-9]\d{{0,2}}([.{THOUSANDS_SPACES}])\d{{3}}(?:\1\d{{3}})*(?:,\d*)?")
# The numbers that tell a file's marks: a decimal comma or thousands grouped ('2,5', '1.234,5', '1.234.567',
# '1 234'); a point that groups no thousands ('2.5', '0.000', '33.1250'); and '1.234', 1.234 or 1234, told by them.
_UNCLEAR = r"[+-]?[1-9]\d{0,2}\.\d{3}"
_COMMA_NUMBER = (rf"[+-]?[1-9]\d{{0,2}}(?:(?:\.\d{{3}}){{2,}}(?:,\d*)?|\.\d{{3}},\d*"
                 rf"|(?P<space>[{THOUSANDS_SPACES}])\d{{3}}(?:(?P=space)\d{{3}})*(?:,\d*)?)"
                 r"|[+-]?\d*,\d+(?:[eE][+-]?\d+)?|[+-]?\d+,")
_POINT_NUMBER = r"[+-]?(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?"
# A cell of a number's characters holding a mark: in a column of text, the cells that may be numbers to tell (an ISO
# time, a word, holds others)
_NUMBER_CHARACTERS = rf"[\d+\-eE.,{THOUSANDS_SPACES}]"
_MARKED_CELL = re.compile(rf"(?m)^[^\S\n]*{_NUMBER_CHARACTERS}*[.,{THOUSANDS_SPACES}]{_NUMBER_CHARACTERS}*[^\S\n]*$")
_COMMA_CELL_WITHOUT_POINT = re.compile(r"(?m)^[^.\n]*,[^.\n]*$")
# A cell holding a point that groups no thousands as _GROUPED's points do ('12.34', '1.5e3', '01.02.2024')
_ODD_POINT_CELL = re.compile(r"(?m)^(?![^\S\n]*[+-]?[1-9]\d{0,2}(?:\.\d{3})+(?:,\d*)?[^\S\n]*$)[^\n]*\.")
_EMPTY_CELL = re.compile(r"(?m)^[^\S\n]*$")
MARK_KINDS = ("comma", "point", "unclear")
Found = tuple[int, int, str]  # a cell: its row (from the first data line), its column, its text


def decimal_mark_columns(source: str | Path, text: str, first_line: int, delimiter: str, width: int,
                         wanted: list[int], names: list[str], as_text: set[int] | None = None,
                         plausible: dict[int, Callable[[np.ndarray], np.ndarray]] | None = None
                         ) -> dict[int, np.ndarray | list[str]]:
    """The columns ``wanted`` of a semicolon- or tab-separated file's data lines ``text`` (as ``csv_columns``;
    ``names``, the header's) whose points or spaces may mark decimals or thousands: what they mark is told by the
    columns read (``wanted``), as one spreadsheet or logger writes one file; a column not read tells nothing. A
    decimal comma or thousands grouped ('2,5', '1.234,5', '1 234') makes each point that could group thousands a
    thousands mark ('1.234' 1234), a point that groups none ('2.5', '0.000', '33.1250') each such point a decimal
    point ('33.125'); a file with both reads each number as it is written, and refuses a '1.234' there. Where
    neither tells, a '1.234' is read as the one reading its column's channel could give (``plausible``, by column:
    which of its values fit, 33.125 degC, not 33125; 1023 ms, not 1.023), the first cell of each column that one
    reading alone fits deciding for the file (a logger writes fixed decimals; ``_told_by_plausible``); a file no
    range tells, or whose columns' ranges disagree, is refused naming the cells.

    Numbers written with points only are read by numpy straight into floats, and each such column's text
    searched in C for a number that tells (most files' first line holds one); so are the numbers of a column with
    no point nor space, its commas read as decimal points, which only a comma cell of theirs tells. A column
    holding a cell numpy does not read so (a point beside a decimal comma, a space, text) is searched as its own
    text, only its cells with marks, where points or spaces are among them, rewritten one by one, and the
    column read into floats where every cell is then a number (``_number_column``). A file numpy does not read
    (quotes) has each column read searched as its own text, split a chunk of lines at a time (``_column_texts``)."""
    numpy_read = numpy_reads(text)
    plain = _decimal_comma_numbers(text, delimiter, [index for index in wanted if index not in (as_text or ())]
                                   ) if numpy_read and delimiter != "," else {}  # (a comma splits a line there)
    columns = csv_columns(source, text, first_line, delimiter, width, [index for index in wanted if index not in plain],
                          set(as_text or ())) if numpy_read else {}
    # a file numpy does not read: every cell's text to tell, a column's text at a time, not a string a cell
    joined = {} if numpy_read else _column_texts(source, text, first_line, delimiter, width, wanted)
    for index, column in columns.items():
        if isinstance(column, list):
            joined[index], columns[index] = "\n".join(column), []  # each cell's string let go of: a column's text
    first: dict[str, Found] = {}
    unclear_in: dict[int, Found] = {}  # each column's first '1.234', which a decimal comma may make 1234
    for index, cells in joined.items():  # one cell of each kind tells: a column without its mark is not searched
        if not (holds_marks(cells) or "," in cells):
            continue
        for kind in MARK_KINDS:
            if kind == "unclear" and "." in cells:
                unclear_in.update((found[1], found) for found in _first_cells(cells, kind, [index]))
            elif kind not in first and (kind == "comma" or "." in cells):
                _keep_first(first, kind, *_first_cells(cells, kind, [index]))
    _keep_first(first, "unclear", *unclear_in.values())
    numbers = [index for index in columns if index not in joined]  # read by numpy: their text is searched
    padded = f"\n{text}\n" if numbers or plain else ""
    _keep_first(first, "comma", *_first_cells(padded, "comma", list(plain), delimiter))  # (a comma, or no mark)
    if "comma" not in first and "point" not in first:
        _keep_first(first, "point", *_first_cells(padded, "point", numbers, delimiter, one=True))
    read_unclear: dict[int, Found] = {}  # columns numpy read with a '1.234' in them
    if "comma" in first or "point" not in first:
        read_unclear = {found[1]: found for found in _first_cells(padded, "unclear", numbers, delimiter)}
        _keep_first(first, "unclear", *read_unclear.values())
        unclear_in.update(read_unclear)
    if "unclear" in first and "comma" in first and "point" not in first:
        _keep_first(first, "point", *_first_cells(padded, "point", numbers, delimiter, one=True))
    if "unclear" in first and "comma" not in first and "point" not in first:  # nothing written tells
        def unclear_cells(index: int) -> Iterator[Found]:
            return _cells(joined[index], "unclear", index) if index in joined else _cells(
                padded, "unclear", index, delimiter)

        told = _told_by_plausible(sorted(unclear_in), plausible or {}, unclear_cells)
        if len(told) != 1:
            _refuse_unclear(source, first_line, [names[index] for index in wanted], names, first, width, delimiter,
                            told)
        _keep_first(first, *next(iter(told.items())))
    elif "unclear" in first and "comma" in first and "point" in first:
        # the refusal names each mark's earliest cell: above, a mark's first column holding one alone was searched
        for index, cells in joined.items():
            for kind in ("comma", "point"):
                _keep_first(first, kind, *_first_cells(cells, kind, [index]))
        _keep_first(first, "point", *_first_cells(padded, "point", numbers, delimiter))
        _refuse_unclear(source, first_line, [names[index] for index in wanted], names, first, width, delimiter)
    thousands = "comma" in first
    for index in read_unclear if thousands else ():  # its text is read again, to tell each cell
        joined[index] = "\n".join(csv_columns(source, text, first_line, delimiter, width, [index], {index})[index])
    padded = ""  # the text's copy let go of before the columns are rewritten
    for index in list(joined):  # each column rewritten, then read into floats where every cell is a number
        cells = _with_decimal_points(joined.pop(index), thousands=thousands)
        columns[index] = cells.split("\n") if index in (as_text or ()) else _number_column(cells, delimiter)
    columns.update(plain)
    return {index: columns[index] for index in wanted}


def _number_column(cells: str, delimiter: str) -> np.ndarray | list[str]:
    """A column's cells (one a line, written with decimal points) as floats where every one is a number (an empty
    one or 'nan' NaN), else as strings, the caller's to read (an ISO time) or to refuse. numpy reads it where no
    cell holds ``delimiter`` (a quoted one may) nor is empty (a blank line, which numpy skips), holding no cell's
    string; else the column's strings are held while it is read (``column_numbers``)."""
    read = numpy_numbers(cells.encode(), delimiter, [0], cells.count("\n") + 1) if (
        delimiter not in cells and not _EMPTY_CELL.search(cells)) else {}
    if read:
        return read[0]
    strings = cells.split("\n")
    values, bad = column_numbers(strings)
    return strings if bad is not None else values


def _told_by_plausible(columns: list[int], plausible: dict[int, Callable[[np.ndarray], np.ndarray]],
                       unclear_cells: Callable[[int], Iterator[Found]]) -> dict[str, Found]:
    """What the points of a file with nothing else to tell mark, by the readings its columns' channels could give:
    in each of ``columns`` with a range (``plausible``), its first '1.234' (of ``unclear_cells``) that one reading
    alone fits tells 'point' or 'comma' (thousands). A cell both fit (a skin resistance of 1.234 or 1234 kOhm) or
    neither (a strap's artefact, '3.200' ms) tells nothing, nor does a column without one. Each kind told, with
    the first cell (by row, then column) that told it."""
    told: dict[str, Found] = {}
    for index in columns:
        fits, cells, batch_size = plausible.get(index), unclear_cells(index), 16  # most columns: the first tells
        while fits is not None and (batch := list(itertools.islice(cells, batch_size))):
            as_point = fits(np.array([float(cell) for _, _, cell in batch]))
            tells = as_point != fits(np.array([float(cell.replace(".", "")) for _, _, cell in batch]))
            if tells.any():
                row = int(np.flatnonzero(tells)[0])
                _keep_first(told, "point" if as_point[row] else "comma", batch[row])
                break
            batch_size = min(2 * batch_size, 2**16)
    return told


def _decimal_comma_numbers(text: str, delimiter: str, columns: list[int]) -> dict[int, np.ndarray]:
    """Those of ``columns`` of data lines ``text`` that hold no point nor space, every cell a number (with a decimal
    comma or none), read by numpy straight into floats, each comma read as a decimal point: nothing in them is left
    to tell. Their points made no number's, a column holding one (or a space within a number, a cell no number, an
    empty one) is left out, to be told or said as before."""
    data = _without_trailing_blank_lines(text).encode()
    return numpy_numbers(data.translate(_COMMAS_AS_POINTS), delimiter, columns, data.count(b"\n") + 1)


_COMMAS_AS_POINTS = bytes.maketrans(b".,", b"!.")  # a point made no number's: its column is told


def holds_marks(text: str) -> bool:
    """Whether ``text`` holds a point or a space that may mark thousands (or decimals): where a decimal-comma
    file's numbers hold none, every comma is a decimal one."""
    return any(mark in text for mark in "." + THOUSANDS_SPACES)


def columns_hold_marks(text: str, delimiter: str, columns: list[int]) -> bool:
    """Whether a cell of ``columns`` in data lines ``text`` holds a point or a thousands space (``holds_marks``),
    searched in C column by column, so that a column not read (a date's '01.02.2024') sends no file down the path
    that tells each. Where numpy would not read the lines (``numpy_reads``: quotes, which may hold a delimiter, or
    line breaks other than newlines, which the search's lines end at), the whole text is looked at."""
    if not numpy_reads(text) or not holds_marks(text):
        return holds_marks(text)
    mark = re.escape(delimiter)
    line = "(?!)"  # a line's cells from the last column searched back to its first, one pass along each line
    for index in range(max(columns), -1, -1):
        line = (rf"[^{mark}\n.{THOUSANDS_SPACES}]*(?:[.{THOUSANDS_SPACES}]|{mark}{line})" if index in columns
                else rf"[^{mark}\n]*{mark}{line}")
    return re.search(rf"\n{line}", f"\n{text}") is not None


def numpy_reads(text: str) -> bool:
    """Whether numpy's parser reads a CSV's data lines as the csv module would: no quotes (which the csv module
    reads more strictly) and no line breaks other than newlines."""
    return '"' not in text and ("\r" not in text or text.count("\r") == text.count("\r\n")) and not any(
        mark in text for mark in _BREAKS_BESIDE_NEWLINE)


def _first_cells(text: str, kind: str, columns: list[int], delimiter: str | None = None, one: bool = False
                 ) -> list[Found]:
    """The first cell of ``kind`` (one of ``MARK_KINDS``) in each of ``columns`` (in the first column holding one,
    where ``one``), as ``_cells`` finds them."""
    found = []
    for index in columns:
        cell = next(_cells(text, kind, index, delimiter), None)
        if cell is not None:
            found.append(cell)
            if one:
                break
    return found


def _cells(text: str, kind: str, index: int, delimiter: str | None = None) -> Iterator[Found]:
    """The cells of ``kind`` (one of ``MARK_KINDS``) in column ``index``, in order, searched in C: in lines ``text``
    of one column's cells (``delimiter`` None), or in data lines ``text`` with a newline before and after, their
    cells separated by ``delimiter``."""
    mark = re.escape(delimiter or "\n")
    end = rf"(?:{mark}|\r?\n)" if delimiter else "$"
    pad = rf"[^\S\n{mark}]*"  # spaces and tabs around a number, as numpy's parser and float() read past them
    number = {"comma": _COMMA_NUMBER, "unclear": _UNCLEAR, "point": rf"(?!{_UNCLEAR}{pad}{end}){_POINT_NUMBER}"}[kind]
    start = rf"\n(?:[^{mark}\n]*{mark}){{{index}}}" if delimiter else "(?m)^"
    row, counted = -bool(delimiter), 0  # lines counted up to offset ``counted``
    for match in re.finditer(rf"{start}{pad}({number}){pad}(?={end})", text):
        row, counted = row + text.count("\n", counted, match.start(1)), match.start(1)
        yield row, index, match.group(1)


def _keep_first(first: dict[str, Found], kind: str, *found: Found) -> None:
    """``first[kind]``, the earliest cell (by row, then column) of those found so far."""
    for cell in found:
        if kind not in first or cell[:2] < first[kind][:2]:
            first[kind] = cell


def _refuse_unclear(source: str | Path, first_line: int, read: list[str], names: list[str], first: dict[str, Found],
                    width: int, delimiter: str, told: dict[str, Found] | None = None) -> NoReturn:
    """The one refusal of the first '1.234' that the columns ``read`` do not tell: nothing tells (``width``
    columns separated by ``delimiter``, whose advice it takes), both marks are written, or the channels' ranges
    ``told`` both."""
    if told and len(told) == 2:
        (point_row, point_index, point), (comma_row, comma_index, comma) = told["point"], told["comma"]
        raise InputError(source, f"line {first_line + point_row}: column '{names[point_index]}' holds {point!r}, "
                         f"which its channel's range reads with a decimal point ({float(point):g}, not "
                         f"{float(point.replace('.', '')):g}), line {first_line + comma_row}: column "
                         f"'{names[comma_index]}' {comma!r}, which its range reads with a thousands mark "
                         f"({float(comma.replace('.', '')):g}, not {float(comma):g}): the columns read "
                         f"({', '.join(read)}) say two ways what the file's points mark; write decimals with a comma "
                         f"({point.replace('.', ',')}) and thousands without a mark ({comma.replace('.', '')})")
    row, index, cell = first["unclear"]
    said = (f"line {first_line + row}: column '{names[index]}' holds {cell!r}, {float(cell):g} with a decimal point "
            f"or {float(cell.replace('.', '')):g} with a thousands mark")
    if "comma" not in first:
        # a one-column file's comma would split its line: a decimal comma needs Excel's separator line
        advice = (f"{cell.replace('.', '')}, or as {cell.replace('.', ',')} below a first line 'sep=;'"
                  if width == 1 and delimiter == "," else f"{cell.replace('.', '')} or {cell.replace('.', ',')}"
                  + ("" if width == 1 else ", or separate the file's columns by commas"))
        raise InputError(source, f"{said}, and no value in the columns read ({', '.join(read)}) tells which, nor "
                         f"its channel's range: write it as {advice}")
    (point_row, point_index, point), (comma_row, comma_index, comma) = first["point"], first["comma"]
    raise InputError(source, f"{said}, and the columns read ({', '.join(read)}) are written two ways: line "
                     f"{first_line + point_row} holds {point!r} in column '{names[point_index]}', a decimal point, "
                     f"line {first_line + comma_row} {comma!r} in column '{names[comma_index]}', a decimal comma or "
                     "thousands marks; write it one way")


def _with_decimal_points(cells: str, thousands: bool) -> str:
    """A column's cells (``cells``, one a line) with decimal points and no thousands marks ('1.234,5' and '1 234,5'
    as '1234.5'; '1.234' as '1234' where points mark ``thousands``); a comma in a cell that is no number (an ISO
    time's fraction) a point too, as it is in a file with no point nor space to tell."""
    if not holds_marks(cells):  # most such columns
        return cells.replace(",", ".")
    if thousands and not any(space in cells for space in THOUSANDS_SPACES) and not _ODD_POINT_CELL.search(cells):
        # every point groups thousands ('-4.912,37'): each cell's rewriting below, done in C for the column at once
        return cells.replace(".", "").replace(",", ".")
    cells = _MARKED_CELL.sub(lambda cell: _decimal_point_text(cell.group(), thousands), cells)
    if "," in cells:
        cells = _COMMA_CELL_WITHOUT_POINT.sub(lambda cell: cell.group().replace(",", "."), cells)
    return cells


def _decimal_point_text(cell: str, thousands: bool) -> str:
    grouped = _GROUPED.fullmatch(cell.strip())
    if grouped is not None and (grouped.group(1) != "." or thousands):
        return grouped.group(0).replace(grouped.group(1), "").replace(",", ".")
    return cell.replace(",", ".") if "." not in cell else cell


def csv_cells(source: str | Path, line: str, number: int, delimiter: str = ",") -> list[str]:
    """One line's cells, quotes (as Excel and pandas write them) removed. A line is read alone: a quote left open
    is an error naming it, never a cell running on into the lines after it."""
    if '"' not in line:  # most lines: no quotes to read
        return line.split(delimiter) if line else []
    try:
        return next(csv.reader([line], delimiter=delimiter, strict=True), [])
    except csv.Error:
        raise InputError(source, f"line {number}: a quote is left open ({line.strip()[:40]!r})") from None


def csv_rows(source: str | Path, lines: list[str], first_line: int, delimiter: str = ",") -> list[list[str]]:
    """Each line's cells (``csv_cells``), a blank line none, from ``first_line``."""
    return [csv_cells(source, line, number, delimiter) if line.strip() else []
            for number, line in enumerate(lines, start=first_line)]


# Where str.splitlines ends a line: a file's line numbers are counted as it counts them. The other control characters
# it ends one at (\x0b, \x1c-\x1e) are in no text decode_text returns: it refuses them (first_control).
_LINE_BREAK = re.compile(r"\r\n|[\n\r\x0c\x85\u2028\u2029]")
_BREAKS_BESIDE_NEWLINE = "\x0c\x85\u2028\u2029"  # which numpy's parser reads as no line break


def lines_with_ends(text: str, start: int = 0) -> Iterator[tuple[str, int]]:
    """The lines of ``text`` from offset ``start`` (as str.splitlines splits them), each with the offset where the
    next begins: the lines above a CSV's samples are read one by one, and its samples from where they begin."""
    while start < len(text):
        match = _LINE_BREAK.search(text, start)
        end, after = (match.start(), match.end()) if match else (len(text), len(text))
        yield text[start:end], after
        start = after


def first_rows(source: str | Path, text: str, first_line: int, count: int, delimiter: str, start: int = 0
               ) -> list[tuple[list[str], int]]:
    """The cells of the first ``count`` lines of ``text`` from offset ``start`` (as ``csv_rows``), each with the
    offset where the line after it begins."""
    lines = []
    for line, after in lines_with_ends(text, start):
        if len(lines) == count:
            break
        lines.append((line, after))
    return [(cells, after) for cells, (_, after) in
            zip(csv_rows(source, [line for line, _ in lines], first_line, delimiter), lines, strict=True)]


def csv_columns(source: str | Path, text: str, first_line: int, delimiter: str, width: int, wanted: list[int],
                as_text: set[int], header: bool = True) -> dict[int, np.ndarray | list[str]]:
    """The columns ``wanted`` of a CSV's data lines ``text`` (the first on file line ``first_line``, ``width`` cells
    a line): each as a float array where every cell is a number, its cells' text (quotes removed) where one is not
    or the column is in ``as_text``. A blank line is a row of empty cells, blank lines after the last none; a line
    of another width, or a quote left open, is an error naming its line (``LineError``: a caller names a problem
    above it first, ``first_problem_named``), and what told the width: the ``header``'s names, or the first line.

    numpy's parser reads the lines in C, the numbers straight into floats and a text column on its own, so that
    no line is held as a Python string nor any row as a list of them (a million rows of four columns, 29 MB: about
    0.5 s and 197 MiB peak on a 2-core host, 7 times the text; benchmarks/physio_csv_read.py). A file numpy would
    read otherwise - quotes, which the csv module reads more strictly, blank lines, which numpy skips, line breaks
    other than newlines - is read line by line, a chunk of lines at a time (``_columns_of_lines``)."""
    text = _data_lines(source, text)
    lines = text.count("\n") + 1
    if not numpy_reads(text):
        return _columns_of_lines(source, text, first_line, delimiter, width, wanted, as_text, header)
    data = text.encode()
    del text

    def parsed(dtype: type | str, **options: object) -> np.ndarray:
        return numpy_parsed(data, delimiter, dtype, **options)

    if not as_text:  # most files: every cell a number
        try:
            numbers = parsed(float)
            if numbers.shape == (lines, width):
                return {index: numbers[:, index] for index in wanted}
        except ValueError:  # a cell no number (an empty one, text), or a line of another width
            pass
    try:
        if parsed("U1").shape != (lines, width):  # each cell's first character: the lines' widths told cheaply
            raise ValueError("a blank line, or a line of another width")
    except ValueError:  # a cell no number, or lines numpy reads otherwise: read line by line, which names them
        return _columns_of_lines(source, data.decode(), first_line, delimiter, width, wanted, as_text, header)
    numbers_wanted = [index for index in wanted if index not in as_text]
    numbers = None  # a column not read (a date, a device's name) or read as text: the others read in one pass
    if numbers_wanted and (as_text or len(wanted) < width):  # (else they were, above, and one holds no number)
        with contextlib.suppress(ValueError):
            numbers = parsed(float, usecols=numbers_wanted)
    columns: dict[int, np.ndarray | list[str]] = {}
    for index in wanted:
        try:
            if numbers is not None and index in numbers_wanted:
                columns[index] = numbers[:, numbers_wanted.index(index)]
                continue
            if index in as_text:
                raise ValueError("read as text")
            columns[index] = parsed(float, usecols=index)[:, 0]
        except ValueError:
            columns[index] = parsed(object, usecols=index)[:, 0].tolist()
    return columns


def numpy_parsed(data: bytes, delimiter: str, dtype: type | str, **options: object) -> np.ndarray:
    """Data lines ``data`` (UTF-8) as numpy's parser reads them into a 2-D array of ``dtype``, no comment marks."""
    return np.loadtxt(io.BytesIO(data), dtype=dtype, delimiter=delimiter, comments=None, ndmin=2, encoding="utf-8",
                      **options)


def numpy_numbers(data: bytes, delimiter: str, columns: list[int], rows: int) -> dict[int, np.ndarray]:
    """Those of ``columns`` of data lines ``data`` that numpy's parser reads as ``rows`` numbers, as floats; a
    column with a cell that is no number (an empty one too) or a blank line (which numpy skips) is left out."""
    read: dict[int, np.ndarray] = {}
    for index in columns:
        with contextlib.suppress(ValueError):
            values = numpy_parsed(data, delimiter, float, usecols=index)
            if values.shape == (rows, 1):
                read[index] = values[:, 0]
    return read


def _data_lines(source: str | Path, text: str) -> str:
    """A CSV's data lines ``text`` without the blank lines after the last, refused where none is left."""
    text = _without_trailing_blank_lines(text)
    if not text:
        raise InputError(source, "no data rows")
    return text


def _without_trailing_blank_lines(text: str) -> str:
    end = len(text)
    while end and text[end - 1].isspace():
        end -= 1
    if not end:  # blank lines alone (spaces with no line break after them too): no rows
        return ""
    match = _LINE_BREAK.search(text, end)
    return text[: match.start()] if match else text


# The line-by-line read's share of the text held as cells at once: a chunk's cells are a few times its text.
LINES_CHUNK_CHARS = 2**20


def _columns_of_lines(source: str | Path, text: str, first_line: int, delimiter: str, width: int,
                      wanted: list[int], as_text: set[int], header: bool) -> dict[int, np.ndarray | list[str]]:
    """``csv_columns``' columns of lines read one by one, a chunk of lines at a time: each column's cells of a
    chunk are parsed into floats before the next chunk is split, so that only a text column (``as_text``, or one
    holding a cell that is no number: read again as text from the first line) is held as strings, not every
    cell of the file (18 times the text, 4.6 GiB at MAX_FILE_BYTES)."""
    numbers: dict[int, list[np.ndarray]] = {index: [] for index in wanted if index not in as_text}
    texts: dict[int, list[str]] = {index: [] for index in wanted if index in as_text}
    for start, rows in _row_chunks(source, text, first_line, delimiter, width, header):
        for index in wanted:
            cells = [row[index] for row in rows]
            if index in texts:
                texts[index] += cells
                continue
            values, bad = column_numbers(cells)
            if bad is None:
                numbers[index].append(values)
            else:  # its cells are the caller's to tell (an ISO time) or to refuse, with the text above them
                del numbers[index]
                texts[index] = [row[index] for _, above in _row_chunks(source, text[:start], first_line, delimiter,
                                                                        width, header) for row in above] + cells
    columns: dict[int, np.ndarray | list[str]] = {index: texts[index] for index in texts}
    columns.update((index, np.concatenate(chunks)) for index, chunks in numbers.items())
    return {index: columns[index] for index in wanted}


def _column_texts(source: str | Path, text: str, first_line: int, delimiter: str, width: int, wanted: list[int]
                  ) -> dict[int, str]:
    """Each of the columns ``wanted`` of a CSV's data lines ``text`` (as ``csv_columns`` splits them, read line by
    line) as its own text, a cell a line, joined a chunk of lines at a time: no cell held as a string beyond its
    chunk (every cell of a file at once is 12-15 times its text)."""
    pieces: dict[int, list[str]] = {index: [] for index in wanted}
    for _, rows in _row_chunks(source, _data_lines(source, text), first_line, delimiter, width, header=True):
        for index in wanted:
            pieces[index].append("\n".join(row[index] for row in rows))
    return {index: "\n".join(pieces.pop(index)) for index in wanted}


def _row_chunks(source: str | Path, text: str, first_line: int, delimiter: str, width: int, header: bool
                ) -> Iterator[tuple[int, list[list[str]]]]:
    """The cells of ``text``'s lines (``csv_cells``; a blank line's empty), about LINES_CHUNK_CHARS of text at a
    time, each chunk with the offset where it begins; a line of another width than ``width`` (the ``header``'s, or
    the first line's), or with a quote left open, a LineError."""
    start, row = 0, 0
    while start < len(text):
        cut = _LINE_BREAK.search(text, min(start + LINES_CHUNK_CHARS, len(text)))  # a CRLF is never cut in two
        end = cut.end() if cut else len(text)
        chunk = text[start:end]
        rows = []
        for index, line in enumerate(chunk.splitlines()):
            number = first_line + row + index
            try:
                cells = csv_cells(source, line, number, delimiter) if line.strip() else [""] * width
            except InputError as error:  # a quote left open
                raise LineError(source, error.problem, start + _line_offset(chunk, index)) from None
            if len(cells) != width:  # a CSV's header is the usual culprit, an E4 file has none
                told = f", the header names {width}" if header else f" where earlier lines have {width}"
                raise LineError(source, f"line {number}: {len(cells)} value{'s' * (len(cells) != 1)}{told}",
                                start + _line_offset(chunk, index), fewer=len(cells) < width)
            rows.append(cells)
        yield start, rows
        start, row = end, row + len(rows)


def _line_offset(text: str, row: int) -> int:
    """Where line ``row`` (from 0, as str.splitlines counts them) of ``text`` begins."""
    return next(itertools.islice(lines_with_ends(text), row - 1, None))[1] if row else 0


def column_numbers(cells: list[str]) -> tuple[np.ndarray, int | None]:
    """A column's cells as numbers (an empty cell or 'nan' NaN), and the index of the first that is no number
    (None where every one is)."""
    try:  # most columns: numbers, some cells empty
        return np.array([cell or "nan" for cell in cells], dtype=float), None
    except ValueError:
        pass
    values = np.full(len(cells), np.nan)
    for index, cell in enumerate(cells):
        cell = cell.strip()
        if cell and cell.lower() != "nan":
            try:
                values[index] = float(cell)
            except ValueError:
                return values, index
    return values, None


def numbers_of_columns(source: str | Path, columns: dict[int, list[str]], first_line: int,
                       names: list[str] | None = None) -> dict[int, np.ndarray]:
    """Each column's cells (the first on file line ``first_line``) as numbers (``column_numbers``); the first cell
    that is none, by line and then column, an error naming its line (and its column, where ``names`` names them)."""
    numbers: dict[int, np.ndarray] = {}
    refused = None  # (row, column) of the first cell that is no number
    for index, cells in columns.items():
        numbers[index], bad = column_numbers(cells)
        if bad is not None and (refused is None or (bad, index) < refused):
            refused = (bad, index)
    if refused is not None:
        row, index = refused
        named = f" in column '{names[index]}'" if names else ""
        raise CellError(source, f"line {first_line + row}: {columns[index][row].strip()[:20]!r} is not a "
                         f"number{named}")
    return numbers


def drop_blank_rows(data: np.ndarray, first_line: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows with any value, and their file line numbers; for timestamped rows, where a blank row holds
    no place."""
    row_lines = first_line + np.arange(data.shape[0])
    kept = ~np.isnan(data).all(axis=1)
    return data[kept], row_lines[kept]


def check_times(source: str | Path, times: np.ndarray, row_lines: np.ndarray, what: str, unit_s: float = 1.0,
                written: Callable[[int], str] | None = None) -> None:
    """Times, in units of ``unit_s`` seconds (quoted as written), that are finite, increase, and never jump by more
    than MAX_JUMP_S (the line named; ``written``, as ``check_finite`` reads it)."""
    check_finite(source, times, row_lines, what, written)
    steps = np.diff(times) * unit_s
    if (steps <= 0).any():
        row = int(np.flatnonzero(steps <= 0)[0])
        raise InputError(
            source,
            f"timestamps do not increase at line {row_lines[row + 1]} "
            f"({float(times[row])!r} then {float(times[row + 1])!r})",
        )
    _check_jumps(source, times, row_lines, unit_s)


# A clock's local fault costs its own rows: a row stamped twice, rows written out of order, a small step back (a
# phone's clock set by its network moves by tens to hundreds of ms). Further back, and not in a few stray rows, it is
# another clock (two recordings joined, a clock set back by hand or for summer time): read on, every row after it
# would sit that far off against the video.
MAX_STEP_BACK_S = 1.0
# A run of up to this many rows stamped more than MAX_STEP_BACK_S off, after which the stamps come back to the clock
# before them, is corrupt stamps (a logger's buffer written with a wrong time), not another clock.
MAX_STRAY_ROWS = 4
# Where a tenth of the rows or more cannot be placed, the fault is the file's clock, not a local one (rows stamped
# in batches, two streams interleaved): what is left would be read on stamps that are wrong elsewhere too.
MAX_UNPLACED_SHARE = 0.1
# The tenth is judged beyond this many rows unplaced: one local fault (a stray stamp, a swapped pair, a repeated
# stamp) costs up to two rows, which in a short log (a minute at one row in 8 s is 8 rows) is a tenth already.
UNPLACED_ROWS_ALWAYS_READ = 2
# A swapped row sits next to the row on its other side, a period away (jitter aside); a stray run leaves its own
# rows' periods between them, two or more: how near they must be where no row beyond confirms a swap (the file's end).
MAX_SWAP_STEP_PERIODS = 1.5
ORDER_PLACES_NAMED = 4  # the places out of order a warning names by their lines; the others are counted


def placed_rows(source: str | Path, times: np.ndarray, row_lines: np.ndarray, what: str, unit_s: float = 1.0,
                rows: np.ndarray | None = None, signals: np.ndarray | None = None,
                written: Callable[[int], str] | None = None) -> np.ndarray:
    """Which rows their times (finite, in units of ``unit_s`` seconds, quoted as written) place on one clock that
    never jumps by more than MAX_JUMP_S: every one where they increase. Where they do not, a row that repeats the
    one before it whole (its stamp and every value in ``rows``, the rows' values) is one row written twice, its
    copy left out; a row is placed where every earlier stamp is before it and every later one after it (a run of
    up to MAX_STRAY_ROWS stamps off by more than MAX_STEP_BACK_S, the rows around it in order, is left out first:
    it would take the rows around it with it; so is such a run that is rows swapped with the row beside it, and that
    row); the others are left out, said in one warning, missing rows (``_order_faults``; a gap where a channel of
    ``signals``, the rows' channel values, has one). No row is moved. ``written``: as ``check_finite`` reads it."""
    check_finite(source, times, row_lines, what, written)
    placed = np.ones(times.size, dtype=bool)
    if (np.diff(times) <= 0).any():  # the one pass most files take
        placed = _order_faults(source, times, row_lines, what, unit_s, rows, signals)
    _check_jumps(source, times[placed], row_lines[placed], unit_s)
    return placed


def _copies_of_the_row_before(times: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Rows (of ``rows``, the rows' values, one a row) equal to the row before them in every value, empty cells
    alike; only rows stamped as the row before are compared, so a file with a few costs what its stamps do."""
    at = np.flatnonzero(times[1:] == times[:-1]) + 1
    same = (rows[at] == rows[at - 1]) | (np.isnan(rows[at]) & np.isnan(rows[at - 1]))
    copy = np.zeros(times.size, dtype=bool)
    copy[at[same.all(axis=1)]] = True
    return copy


def _stray_rows(times: np.ndarray, far: float, period: float, max_gap: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows to leave out before the order is judged, as (stray, swapped). Stray: rows in a run of up to
    MAX_STRAY_ROWS whose stamps are all more than ``far`` off the rows around the run, while those run on (the row
    before it stamped before the row after it); at the file's ends, off the row beside the run, judged once the runs
    inside are left out (a stray run beside the end's would take it for one) and where the rows left outnumber the
    run (in a short file the runs at either end would judge each other). Swapped: such a run that, in order itself,
    would run on just past the row beside it, and that row: rows written out of order across a gap, not stray
    stamps; which was wrong no stamp tells, so both are left out, as a small swap's two rows are. A swap's gap is
    one the clock may jump (up to ``max_gap``); where no row lies past the row beside the run (the file's end), that
    row must sit within MAX_SWAP_STEP_PERIODS of ``period`` (the file's) of the row on its other side."""
    stray = np.zeros(times.size, dtype=bool)
    swapped = np.zeros(times.size, dtype=bool)
    down = np.flatnonzero(np.diff(times) <= 0)  # a stray run's stamps fail to increase into it or out of it
    for run_rows in range(1, min(MAX_STRAY_ROWS, times.size - 2) + 1):
        starts = np.unique(np.concatenate([down, down - run_rows]))  # run at start + 1 ... start + run_rows
        starts = starts[(starts >= 0) & (starts + run_rows + 1 < times.size)]
        at = starts[:, None] + np.arange(1, run_rows + 1)
        run = times[at]
        before, after = times[starts][:, None], times[starts + run_rows + 1][:, None]
        ahead, behind = (run > after + far).all(axis=1), (run < before - far).all(axis=1)
        off = ((run < before - far) | (run > after + far)).all(axis=1) & (before[:, 0] < after[:, 0])
        in_order = (np.diff(run, axis=1) > 0).all(axis=1)
        past = starts + run_rows + 2  # the row after the one the run would swap with, ahead
        # no row past the file's end confirms a swap: the row it would swap with must then close up with the row on
        # its other side, as a swapped row does (a stray's own rows lie between those two)
        closes = after[:, 0] - before[:, 0] <= MAX_SWAP_STEP_PERIODS * period
        fits_ahead = ahead & in_order & np.where(past >= times.size, closes,
                                                 run[:, -1] < times[np.minimum(past, times.size - 1)])
        fits_behind = behind & in_order & np.where(starts == 0, closes, run[:, 0] > times[np.maximum(starts - 1, 0)])
        gap = np.where(ahead, run[:, 0] - after[:, 0], before[:, 0] - run[:, -1])  # the gap the swap would leave
        swap = off & (fits_ahead | fits_behind) & (gap <= max_gap)
        stray[at[off & ~swap].ravel()] = True
        swapped[at[swap].ravel()] = True
        swapped[np.where(fits_ahead, starts + run_rows + 1, starts)[swap]] = True
    stray &= ~swapped
    rest = np.flatnonzero(~(stray | swapped))
    for run_rows in range(1, min(MAX_STRAY_ROWS, (rest.size - 1) // 2) + 1):
        first, last = times[rest[:run_rows]], times[rest[-run_rows:]]
        if (first > times[rest[run_rows]] + far).all():
            fits = int((np.diff(first) > 0).all() and first[-1] < times[rest[run_rows + 1]]
                       and first[0] - times[rest[run_rows]] <= max_gap)
            (swapped if fits else stray)[rest[:run_rows + fits]] = True
        if (last < times[rest[-run_rows - 1]] - far).all():
            fits = int((np.diff(last) > 0).all() and last[0] > times[rest[-run_rows - 2]]
                       and times[rest[-run_rows - 1]] - last[-1] <= max_gap)
            (swapped if fits else stray)[rest[rest.size - run_rows - fits:]] = True
    return stray & ~swapped, swapped


def _rows_added(times: np.ndarray, placed: np.ndarray, period: float) -> np.ndarray:
    """For each row, how much more time the rows of the stretch of unplaced rows it lies in take at ``period`` than
    the span between the placed rows around it (in the times' unit; 0 where placed): about 0 for rows written out of
    order, moved but none added; as much as a clock was set back by where the rows after it follow it, as they repeat
    a stretch the rows before it hold. At the file's start or end the stretch's own earliest or latest stamp, a period
    on, stands in for the placed row; a stretch with no placed row on either side has nothing to be measured by:
    infinite."""
    added = np.zeros(times.size)
    unplaced = np.flatnonzero(~placed)
    if not unplaced.size:
        return added
    starts = np.r_[0, np.flatnonzero(np.diff(unplaced) > 1) + 1]  # where each stretch starts among the unplaced
    first, last = unplaced[starts], unplaced[np.r_[starts[1:] - 1, unplaced.size - 1]]
    lo = np.where(first > 0, times[np.maximum(first - 1, 0)], np.minimum.reduceat(times[unplaced], starts) - period)
    hi = np.where(last + 1 < times.size, times[np.minimum(last + 1, times.size - 1)],
                  np.maximum.reduceat(times[unplaced], starts) + period)
    per_run = np.where((first > 0) | (last + 1 < times.size), (last - first + 2) * period - (hi - lo), np.inf)
    added[unplaced] = np.repeat(per_run, last - first + 1)
    return added


def _order_faults(source: str | Path, times: np.ndarray, row_lines: np.ndarray, what: str, unit_s: float,
                  rows: np.ndarray | None = None, signals: np.ndarray | None = None) -> np.ndarray:
    """``placed_rows``' rows placed where the times do not increase everywhere; a step back of more than
    MAX_STEP_BACK_S that the rows after it follow, MAX_UNPLACED_SHARE of the rows or more unplaced (and more than
    UNPLACED_ROWS_ALWAYS_READ), or fewer than two rows left placed, refused."""
    far = MAX_STEP_BACK_S / unit_s
    copy = _copies_of_the_row_before(times, rows) if rows is not None else np.zeros(times.size, dtype=bool)
    kept = np.flatnonzero(~copy)  # a row written twice is one row: its copy stands nowhere
    kept_times = times[kept]
    # a stray run is off by more than the rows a run could span, too: in a slow log (a stamp every 4 s) a clock set
    # back 10 s is a few periods, which the rows after it follow, not a run of bad stamps
    steps = np.diff(kept_times)
    period = float(np.median(steps[steps > 0])) if (steps > 0).any() else 0.0
    stray_far = max(far, (MAX_STRAY_ROWS + 1) * period)
    stray, swapped = _stray_rows(kept_times, stray_far, period, MAX_JUMP_S / unit_s)
    rest = np.flatnonzero(~(stray | swapped))
    stamps = kept_times[rest]
    latest = np.maximum.accumulate(stamps)
    back = latest[:-1] - stamps[1:]  # how far each stamp is behind the latest before it
    in_order = np.ones(stamps.size, dtype=bool)
    in_order[1:] = back < 0
    in_order[:-1] &= stamps[:-1] < np.minimum.accumulate(stamps[::-1])[::-1][1:]
    # within the stray rule's reach (a swap's rows step back a period more than they are off) a step back is rows
    # out of order where its stretch holds no more rows than its span: a clock set back adds the rows it repeats
    reordered = (back <= stray_far + period) & (_rows_added(stamps, in_order, period)[1:] <= far)
    if ((back > far) & ~reordered).any():
        row = int(np.flatnonzero((back > far) & ~reordered)[0])
        raise InputError(source, f"line {row_lines[kept[rest[row + 1]]]}: {what} steps back by "
                         f"{seconds_text(back[row] * unit_s, '.3g')} s ({float(latest[row])!r} then "
                         f"{float(stamps[row + 1])!r}), more than {MAX_STEP_BACK_S:g} s, and the rows after it follow "
                         "it: two recordings joined, or a clock set back? Cut it where it steps back")
    placed_kept = np.zeros(kept.size, dtype=bool)
    placed_kept[rest[in_order]] = True
    placed = np.zeros(times.size, dtype=bool)
    placed[kept[placed_kept]] = True
    unplaced = np.flatnonzero(~placed_kept)  # among the kept rows
    first = int(np.flatnonzero(np.diff(times) <= 0)[0])
    at = f"at line {row_lines[first + 1]} ({float(times[first])!r} then {float(times[first + 1])!r}"
    # a short log's one local fault is read, but not where it leaves fewer than two rows: no clock to read them on
    too_few = placed_kept.sum() < 2
    if kept.size == 1:  # every row a copy of the first: no stamps out of order, one row, so no clock to read
        raise InputError(source, f"timestamps do not increase {at}): the file holds one row, written "
                         f"{times.size} times: fewer than two rows to read a clock on")
    if too_few or (unplaced.size > UNPLACED_ROWS_ALWAYS_READ and unplaced.size >= MAX_UNPLACED_SHARE * kept.size):
        share = unplaced.size / kept.size  # of the rows not copies of the one before: a copy is neither
        # the fewer-than-two is the cause wherever it holds: a short log's share is large whatever its fault
        beyond = "fewer than two left" if too_few else f"{100 * MAX_UNPLACED_SHARE:g} % or more"
        of_rows = (f"of its {times.size} rows, {times.size - kept.size} copy the row before them and "
                   f"{unplaced.size} of the other {kept.size}" if kept.size < times.size
                   else f"{unplaced.size} of its {times.size} rows")
        raise InputError(source, f"timestamps do not increase {at}): {of_rows} ({100 * share:.3g} %) cannot be "
                         f"placed, {beyond}: not one clock's stamps in order (rows stamped in batches, two streams in "
                         "one file?)")
    faults = [f"a step back of up to {seconds_text(float(back.max()) * unit_s, '.3g')} s"] if (back > 0).any() else []
    faults += ["rows out of order, no more than their stretch holds: no clock set back"] if (back > far).any() else []
    faults += ["a stamp repeated"] if (back == 0).any() else []
    faults += [f"{int(stray.sum())} stamp(s) over {MAX_STEP_BACK_S:g} s off the rows around"] if stray.any() else []
    faults += [f"{int(swapped.sum())} rows swapped over {MAX_STEP_BACK_S:g} s apart"] if swapped.any() else []
    faults += ["a row written twice"] if copy.any() else []
    said = []
    if copy.any():
        copies = np.flatnonzero(copy)
        said.append(f"the {copies.size} row(s) at {_lines_named(row_lines, _runs(copies))} repeat the row before "
                    "them, stamp and values: one copy kept")
    if unplaced.size:
        runs, kept_signals = _runs(unplaced), None if signals is None else signals[kept]
        said.append(f"the {unplaced.size} row(s) at {_lines_named(row_lines[kept], runs)} cannot be placed on its "
                    f"clock and are left out{_gap_said(kept_times, placed_kept, runs, unit_s, kept_signals)}")
    log.warning("%s: %s does not increase %s; %s): %s; no row moved", source, what, at, ", ".join(faults),
                "; ".join(said))
    return placed


def _runs(rows: np.ndarray) -> list[np.ndarray]:
    """Row indices (increasing) split where they are not adjacent."""
    return np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)


def _lines_named(row_lines: np.ndarray, runs: list[np.ndarray]) -> str:
    named = [f"{row_lines[run[0]]}-{row_lines[run[-1]]}" if run.size > 1 else f"{row_lines[run[0]]}"
             for run in runs[:ORDER_PLACES_NAMED]]
    more = f" and {len(runs) - ORDER_PLACES_NAMED} more place(s)" if len(runs) > ORDER_PLACES_NAMED else ""
    return f"line{'s' if sum(run.size for run in runs) > 1 else ''} {', '.join(named)}{more}"


def _gap_said(times: np.ndarray, placed: np.ndarray, runs: list[np.ndarray], unit_s: float,
              signals: np.ndarray | None = None) -> str:
    """What the runs of rows left out leave between the placed rows around them: a gap where a channel has one
    there by the channels' rule (a column of ``signals``, the rows' channel values, that held a value in the run,
    its values around it over GAP_PERIODS of its own period apart; without ``signals``, the rows' own), else nothing
    missing; at the file's ends, nothing (the recording starts later or ends sooner)."""
    inside = [run for run in runs if run[0] and run[-1] + 1 < times.size]
    if not inside or placed.sum() < 2:
        return ""
    first, last = np.array([run[0] for run in inside]), np.array([run[-1] for run in inside])
    columns = signals if signals is not None else np.zeros((times.size, 1))
    gap = np.zeros(len(inside), dtype=bool)
    for column in columns.T:  # a 4 Hz EDA beside a 64 Hz pulse wave, or two sensors' rows interleaved: each its own
        at = np.flatnonzero(placed & np.isfinite(column))
        if at.size < 2:
            continue
        period_s = 1.0 / sample_rate_hz(np.diff(times[at]) * unit_s)
        held = np.concatenate([[0], np.cumsum(np.isfinite(column))])
        before, after = np.searchsorted(at, first) - 1, np.searchsorted(at, last, side="right")
        around = (before >= 0) & (after < at.size) & (held[last + 1] > held[first])
        step_s = unit_s * (times[at[np.minimum(after, at.size - 1)]] - times[at[np.maximum(before, 0)]])
        gap |= around & (step_s > GAP_PERIODS * period_s)
    if not gap.any():
        return f", each channel's samples around them {GAP_PERIODS:g} of its periods apart or less: no gap"
    steps_s = unit_s * (times[last[gap] + 1] - times[first[gap] - 1])
    whose = "their stretch" if gap.sum() == len(runs) else f"the stretch of {gap.sum()} of these {len(runs)} places"
    return f", {whose} ({seconds_text(float(steps_s.sum()), '.3g')} s in all) a gap"


def _check_jumps(source: str | Path, times: np.ndarray, row_lines: np.ndarray, unit_s: float) -> None:
    steps = np.diff(times) * unit_s
    if (steps > MAX_JUMP_S).any():
        row = int(np.flatnonzero(steps > MAX_JUMP_S)[0])
        raise InputError(
            source,
            f"line {row_lines[row + 1]}: the time jumps by {seconds_text(steps[row], '.0f')} s "
            f"({float(times[row])!r} then "
            f"{float(times[row + 1])!r}), more than {MAX_JUMP_S / 3600:g} h: not one recording",
        )


def check_finite(source: str | Path, values: np.ndarray, row_lines: np.ndarray, what: str,
                 written: Callable[[int], str] | None = None) -> None:
    """Times that are all finite, else an error naming the first other's line and what it holds: ``written``, the
    text of the cell on a file line (an empty cell and 'nan' both read as NaN), where the caller has it."""
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        if np.isnan(values[row]):
            text = written(int(row_lines[row])) if written is not None else ""
            held = f"holds {text[:20]!r}" if text else "is empty"
        else:
            held = f"holds {float(values[row])!r}"
        raise InputError(source, f"line {row_lines[row]}: {what} {held}, not a finite time")


def written_cells(source: str | Path, text: str, first_line: int, column: int, delimiter: str = ","
                  ) -> Callable[[int], str]:
    """The text of cell ``column`` on a file line of data lines ``text`` (the first on file line ``first_line``),
    stripped ('' where the line has no such cell): for an error line about one cell, read only then."""
    def cell(line: int) -> str:
        row_text = next(itertools.islice(lines_with_ends(text), line - first_line, None), ("", 0))[0]
        cells = csv_cells(source, row_text, line, delimiter)
        return cells[column].strip() if column < len(cells) else ""

    return cell


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
# A date written with slashes ('2023/11/14', as a Shimmer export's formatted time is) is read as with hyphens.
_ISO_TIME = re.compile(r"(\d{4}([-/])\d{2}\2\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|z|[+-]\d{2}(?::?\d{2})?)?")


def parse_iso_time(text: str) -> datetime:
    """An ISO 8601 date and time, with its UTC offset where it has one (naive where not); ValueError if none."""
    return datetime.fromisoformat(_iso_for_python(text.strip()))


def _iso_for_python(text: str) -> str:
    match = _ISO_TIME.fullmatch(text)
    if match is None:
        return text
    when, mark, fraction, offset = match.groups()
    when = when.replace(mark, "-")
    fraction = f".{(fraction + '000000')[:6]}" if fraction else ""  # nanoseconds (pandas) to microseconds
    if offset in ("Z", "z"):
        offset = "+00:00"
    elif offset:
        digits = offset[1:].replace(":", "")
        offset = f"{offset[0]}{digits[:2]}:{(digits[2:] or '00')}"
    return f"{when}{fraction}{offset or ''}"
