"""Readers of recorded physiological inputs: an Empatica E4 export, folder or zip (``e4.py``), or a generic CSV
(``csv_file.py``), chosen by what the path is, into one ``Recording``.

Anything implausible - a sample-rate line that does not fit the data, timestamps that run backwards or jump by more
than a day, files of one export that do not overlap in time, text where numbers belong - is an ``InputError``
naming the file and the problem.
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runtime.arms.physio.readers.csv_file import read_csv, refuse_options
from runtime.arms.physio.readers.e4 import read_e4
from runtime.arms.physio.recording import MAX_SPAN_S, Recording, refuse_too_slow_channels
from runtime.errors import InputError
from runtime.files import check_readable, missing_input

log = logging.getLogger("emotrace.physio")


def read_recording(path: str | Path, start_unix_s: float | None = None, rate_hz: float | None = None,
                   utc_offset_s: float | None = None, to_process: bool = False) -> Recording:
    """An E4 export (folder or .zip) or a generic CSV, by what ``path`` is.

    ``start_unix_s`` and ``rate_hz`` place a CSV that has no time column, ``utc_offset_s`` one whose clock wrote
    local times without their offset; given for anything that carries its own clock, they are an error rather
    than silently ignored. ``to_process``: its windows' features are to be made, so a channel sampled too slowly
    for that is refused with the read, before the warnings held back are said (``refuse_too_slow_channels``).
    """
    with _warnings_told_once_read():
        recording = _read_any(Path(path), start_unix_s, rate_hz, utc_offset_s)
        _check_span(path, recording)
        if to_process:
            refuse_too_slow_channels(recording)
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


def _read_any(path: Path, start_unix_s: float | None, rate_hz: float | None,
              utc_offset_s: float | None) -> Recording:
    if not path.exists():
        raise missing_input(path, "file or folder")
    if not (path.is_dir() or path.is_file()):  # a pipe or a device: reading it to find out could wait for ever
        raise InputError(path, "not a regular file or folder")
    if path.is_file():
        check_readable(path)  # else a zip that may not be read passes for a corrupt one
    if path.is_file() and zipfile.is_zipfile(path) and _is_office_document(path):
        raise InputError(path, "an office document (an .xlsx or .ods workbook, a .docx ...), not a CSV or an E4 "
                               "export: save the sheet as CSV (UTF-8) and give that")
    if path.is_dir() or zipfile.is_zipfile(path):
        refuse_options(path, "an E4 export carries its own start time and sample rate", start_unix_s, rate_hz,
                       utc_offset_s)
        return read_e4(path)
    if path.suffix.lower() == ".zip":
        raise InputError(path, "not a readable zip archive (truncated or corrupt)")
    if path.suffix.lower() in (".csv", ".txt"):
        return read_csv(path, start_unix_s=start_unix_s, rate_hz=rate_hz, utc_offset_s=utc_offset_s)
    raise InputError(path, "not a physiological recording: expected an E4 folder or zip, or a CSV file")


def _is_office_document(path: Path) -> bool:
    """An Office Open XML (.xlsx, .docx) or OpenDocument (.ods, .odt) file: a zip too, told by the parts it
    holds."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False  # read_e4 says what is wrong with it
    return "[Content_Types].xml" in names or ("mimetype" in names and "content.xml" in names)
