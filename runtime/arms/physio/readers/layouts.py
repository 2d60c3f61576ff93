"""A CSV's samples as parts the generic reader (``csv_file``) reads - the header's names as the file writes them,
what each column is read as, the start and rate, the line the samples begin on - and wearable apps' export layouts
read into them: a Polar Flow export's summary (its start) above its samples table, whose elapsed clock is read as
seconds; a Shimmer (Consensys) export's format and units rows, which say what its signals are read as; a Polar Sensor
Logger file's phone timestamps, read as what each of its files makes of them. The file's
own names and line numbers stay with the parts, so that every message names what the user's file holds."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from runtime.arms.physio.readers.text import csv_cells, first_rows, lines_with_ends, reads_as_number
from runtime.arms.physio.recording import PLAUSIBLE_UNIX_S, PLAUSIBLE_YEARS
from runtime.errors import InputError

log = logging.getLogger("emotrace.physio")

POLAR_FLOW_SUMMARY = ("name", "sport", "date", "start time")  # the first names of its summary header
POLAR_FLOW_SAMPLES = ("sample rate", "time")  # ... and of its samples table's
# A Consensys signal (its name after the device's prefix, before _CAL) -> the generic column it is read as (its
# channel and unit), and the units its units row may give for it (the first is the one named when another is found).
CONSENSYS_SIGNALS = {
    "timestamp_unix": ("timestamp", ("ms",)),
    "timestampsync_unix": ("timestamp", ("ms",)),  # the UNIX time synchronised across the session's devices
    # the PC's local date and time ('2023/11/14 22:13:20.250'), no UTC offset: read at the one stated for its clock
    "timestamp_formattedunix": ("timestamp", ("no_units", "")),
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
# Of the wall clocks an export may hold, the one read: a UNIX time before the local one, which needs an offset stated
# (without one, the device's own Timestamp is read where there is one).
CONSENSYS_CLOCKS = ("timestamp_unix", "timestampsync_unix", "timestamp_formattedunix")
_ELAPSED = re.compile(r"(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)")  # H:MM:SS, hours past 24 in a long session
POLAR_FLOW_START = "%d-%m-%Y %H:%M:%S"  # its summary's Date and Start time
# Polar Sensor Logger (an Android app logging a Polar H10 strap or a Verity Sense) writes one semicolon file per
# stream, each row led by the phone's local time, without a UTC offset, when the notification carrying it arrived.
SENSOR_LOGGER_PHONE_TIME = "phone timestamp"
SENSOR_LOGGER_HR = "hr [bpm]"
SENSOR_LOGGER_RR = "rr-interval [ms]"
# The sensor's own clock, ns since 2000-01-01 (Polar's epoch): set by the phone or not, it is no UNIX time, so it is
# read for the spacing of the samples alone (as time_ns).
SENSOR_LOGGER_SENSOR_TIME = "sensor timestamp [ns]"
SENSOR_LOGGER_ACC = {f"{axis} [mg]": f"acc_{axis}_mg" for axis in "xyz"}  # the accelerometer in milli-g
# A Verity Sense's (or OH1's) PPI file: beat-to-beat intervals from the optical sensor, each with the sensor's flags
# ('Phone timestamp;PP-interval [ms];error estimate [ms];blocker;contact;contact;hr [bpm]'). Its two 'contact'
# columns are, in the order Polar's SDK gives a sample's fields (blockerBit, skinContactStatus, skinContactSupported),
# the skin contact and whether the sensor reports contact at all: the first read as the one, the second as the other.
SENSOR_LOGGER_PPI = "pp-interval [ms]"
# The generic columns its flags become: which of a file's beat intervals the sensor says are no valid ones.
BEAT_BLOCKER = "beat_blocker"  # 1: the interval is invalid (movement, or another reason the sensor had)
BEAT_CONTACT = "beat_skin_contact"  # 0: poor or no skin contact ...
BEAT_CONTACT_SUPPORTED = "beat_contact_supported"  # ... where this is 1 (the sensor reports contact at all)
BEAT_ERROR_MS = "beat_error_ms"  # the expected absolute error of the interval, ms
BEAT_FLAG_COLUMNS = (BEAT_BLOCKER, BEAT_CONTACT, BEAT_CONTACT_SUPPORTED, BEAT_ERROR_MS)
BEAT_BOOLEAN_COLUMNS = (BEAT_BLOCKER, BEAT_CONTACT, BEAT_CONTACT_SUPPORTED)  # 'true' / 'false' read as 1 / 0 too
SENSOR_LOGGER_PPI_FLAGS = {"error estimate [ms]": BEAT_ERROR_MS, "blocker": BEAT_BLOCKER, "contact": BEAT_CONTACT,
                           "skin contact": BEAT_CONTACT, "contact supported": BEAT_CONTACT_SUPPORTED,
                           "skin contact supported": BEAT_CONTACT_SUPPORTED}
# Its 'hr [bpm]', the sensor's own heart rate from the same beats, is left out (as the HR file's HRV is): read as
# this, no known channel. So is any sensor timestamp beside it: Polar's SDK gives PP intervals no time of their own.
SENSOR_LOGGER_PPI_HR = "sensor hr [bpm]"
SENSOR_LOGGER_READS = "give its HR, RR, PPI or ACC file"
# The time each row reached a logger (a phone app's stamp on the notification that carried it): its samples came at or
# before it. Beside a clock of their own with no wall-clock start (beat intervals, a sensor's count), it gives that.
RECEIVED_COLUMN = "received_time"
# A clock a layout knows and leaves out (a Shimmer export's wall clocks but the one read, its device's own Timestamp
# beside a UNIX time): no channel, said as another clock.
OTHER_CLOCK = "other_clock"


# A column named with its unit, as loggers and spreadsheets write them ('EDA [uS]', 'Temp (°C)', 'PPG [a.u.]'): its
# name without the unit -> each unit it may be written in -> the generic column it is read as (which says the unit
# where the name alone does not: 'RR [ms]' is rr_ms). A name in another unit ('Temp [°F]') stays no known column.
_SAME = {"eda": ("us", "µs", "microsiemens"), "gsr": ("us", "µs", "microsiemens"),
         "temp": ("°c", "c", "degc", "celsius"), "skin_temp": ("°c", "c", "degc", "celsius"),
         "bvp": ("a.u.", "a.u", "au", "arb. units", "mv", "nw"), "ppg": ("a.u.", "a.u", "au", "arb. units", "mv", "nw"),
         "hr": ("bpm", "1/min", "beats/min"), "heart_rate": ("bpm", "1/min", "beats/min"),
         "resp": ("a.u.", "a.u", "au", "arb. units"), "respiration": ("a.u.", "a.u", "au", "arb. units"),
         **{axis: ("g",) for axis in ("acc_x", "acc_y", "acc_z")}}
NAMED_UNITS: dict[str, dict[str, str]] = {
    **{name: dict.fromkeys(units, name) for name, units in _SAME.items()},
    "ibi": {"s": "ibi_s", "ms": "ibi_ms"}, "rr": {"s": "rr_s", "ms": "rr_ms"},
    "time": {"s": "time_s", "ms": "time_ms"},
}
for _axis in ("acc_x", "acc_y", "acc_z"):
    NAMED_UNITS[_axis].update({"mg": f"{_axis}_mg", "m/s^2": f"{_axis}_ms2", "m/s2": f"{_axis}_ms2",
                               "m/s²": f"{_axis}_ms2"})
_NAME_AND_UNIT = re.compile(r"(?P<name>[^\[(]+?)\s*[\[(]\s*(?P<unit>[^\])]*?)\s*[\])]")


def named_units_read(table: CsvTable) -> CsvTable:
    """``table`` with each column named with its unit in ``NAMED_UNITS`` read as the generic column it is."""
    return dataclasses.replace(table, reads_as=[_unit_column(name) for name in table.reads_as])


def _unit_column(name: str) -> str:
    match = _NAME_AND_UNIT.fullmatch(name)
    if match is None:
        return name
    unit = match["unit"].replace("\u03bc", "µ")  # the Greek mu, as some keyboards write micro
    return NAMED_UNITS.get(match["name"].strip().replace(" ", "_"), {}).get(unit, name)


@dataclass(frozen=True)
class CsvTable:
    """A CSV's samples: ``names``, the header's names as the file writes them (what messages name);
    ``reads_as``, the generic column each is read as (a channel or time column of ``csv_file``'s, lower case: it
    says the unit too, as ``acc_x_ms2`` is in m/s^2); ``body``, the text of the data lines below the rows the
    layout read, the first on file line ``first_line``, its cells separated by ``delimiter`` (read column by
    column, once the reader knows which it reads: ``csv_columns``); ``meta``, the start (``start_unix_s``) and
    rate (``rate_hz``) the file states above them; ``elapsed_column``, the index of a column of elapsed times
    (H:MM:SS), where there is one; and ``decimal_comma``, whether its numbers may be written with a decimal comma
    (a semicolon- or tab-separated file, as spreadsheets write them in many locales)."""

    names: list[str]
    reads_as: list[str]
    body: str
    first_line: int
    delimiter: str = ","
    meta: dict[str, float] = field(default_factory=dict)
    elapsed_column: int | None = None
    decimal_comma: bool = False


def header_table(path: str | Path, header: list[str], number: int, body: str, delimiter: str,
                 meta: dict[str, float], decimal_comma: bool = False) -> CsvTable:
    """The table under the ``header`` cells (file line ``number``), its data lines ``body``: each column read as
    its name says (in lower case), two of one name refused, as is a header with no data line below it."""
    if not body or body.isspace():
        raise InputError(path, "empty: a header row and at least one data row are needed")
    names = [cell.strip() for cell in header]
    reads_as = [name.lower() for name in names]
    if is_sensor_logger(reads_as):  # before the names' check: its PPI file has one twice
        _refuse_unread_sensor_logger(path, names, reads_as)
        reads_as = _ppi_columns(reads_as) if SENSOR_LOGGER_PPI in reads_as else reads_as
    if len(set(reads_as)) != len(reads_as):
        raise InputError(path, "duplicate column names in the header")
    return CsvTable(names, reads_as, body, number + 1, delimiter, meta, decimal_comma=decimal_comma)


def is_polar_flow(cells: list[str]) -> bool:
    """Whether a file's first line (its ``cells``) is a Polar Flow export's summary header."""
    return _starts_with(cells, POLAR_FLOW_SUMMARY)


def polar_flow_table(path: str | Path, rows: list[list[str]], body: str, delimiter: str,
                     utc_offset_s: float | None = None) -> CsvTable:
    """The samples table of a Polar Flow export (a summary header of session fields and one line of values above
    it: ``rows``, the cells of the file's first three lines; ``body``, the lines after them), its ``Time``
    (elapsed H:MM:SS) read as ``time_s`` seconds.

    The summary's Date and Start time are the watch's local time without a UTC offset: with ``utc_offset_s`` they
    give the recording's start; without it the instant they mean depends on a time zone the file does not say, so
    the recording is read without a wall-clock start, and that is said. A start that is no date and time is a
    damaged export, refused either way; an empty one (fields left off) is refused only where an offset asks for
    the start."""
    if len(rows) < 3 or not _starts_with(rows[2], POLAR_FLOW_SAMPLES):
        raise InputError(path, "line 3: a Polar Flow summary is not followed by its samples table "
                               "('Sample rate,Time,HR (bpm),...')")
    # strict=False: the values line may end early (empty fields left off); the start is said as it is found
    summary = dict(zip(rows[0], rows[1], strict=False))
    start_text = f"{summary.get('Date', '')} {summary.get('Start time', '')}".strip()
    meta = {}
    if utc_offset_s is None:
        if start_text:  # an empty start is none to check: the samples are read as they are
            _polar_flow_start(path, start_text)
        log.warning("%s: its start %r has no UTC offset; read without a wall-clock start (--physio-offset places it, "
                    "or give the watch's UTC offset)", path, start_text)
    else:
        start = _polar_flow_start(path, start_text)
        meta["start_unix_s"] = _polar_flow_start_unix_s(path, start_text, start, utc_offset_s)
    table = header_table(path, rows[2], 3, body, delimiter, meta)
    time_column = table.reads_as.index("time")
    reads_as = [*table.reads_as[:time_column], "time_s", *table.reads_as[time_column + 1 :]]
    return dataclasses.replace(table, reads_as=reads_as, elapsed_column=time_column)


def _polar_flow_start(path: str | Path, start_text: str) -> datetime:
    try:
        return datetime.strptime(start_text, POLAR_FLOW_START)
    except ValueError:
        raise InputError(path, f"line 2: its start {start_text[:40]!r} is no 'dd-mm-yyyy HH:MM:SS' date and "
                               "time") from None


def _polar_flow_start_unix_s(path: str | Path, start_text: str, local: datetime, utc_offset_s: float) -> float:
    """UNIX seconds of a Polar Flow summary's start, ``local``, on a clock ``utc_offset_s`` from UTC; one outside
    the plausible range is refused naming the summary's line."""
    start_unix_s = local.replace(tzinfo=timezone(timedelta(seconds=utc_offset_s))).timestamp()
    if not PLAUSIBLE_UNIX_S[0] <= start_unix_s <= PLAUSIBLE_UNIX_S[1]:
        raise InputError(path, f"line 2: its start {start_text[:40]!r} is not {PLAUSIBLE_YEARS}")
    return start_unix_s


def elapsed_s(text: str) -> float:
    """Seconds of an elapsed time written H:MM:SS (a fraction allowed); ValueError where it is none."""
    match = _ELAPSED.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text.strip()[:20]!r} is no elapsed time (H:MM:SS)")
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600.0 + int(minutes) * 60.0 + float(seconds)


def _starts_with(cells: list[str], names: tuple[str, ...]) -> bool:
    return tuple(cell.strip().lower() for cell in cells[: len(names)]) == names


def is_sensor_logger(reads_as: list[str]) -> bool:
    """Whether a table whose columns are read as ``reads_as`` (its names in lower case, as ``header_table`` makes
    them) is a Polar Sensor Logger file's: its first column the phone's timestamp."""
    return bool(reads_as) and reads_as[0] == SENSOR_LOGGER_PHONE_TIME


def _refuse_unread_sensor_logger(path: str | Path, names: list[str], reads_as: list[str]) -> None:
    """A Polar Sensor Logger stream the reader has no reading of, refused naming what it holds and the files that
    are read: one on the sensor's clock (ECG, PPG, gyroscope, magnetometer) with no heart rate, beat interval or
    accelerometer in it."""
    if SENSOR_LOGGER_SENSOR_TIME not in reads_as or {SENSOR_LOGGER_HR, SENSOR_LOGGER_RR, SENSOR_LOGGER_PPI} & set(
            reads_as) or set(SENSOR_LOGGER_ACC) <= set(reads_as):
        return
    held = [name for name, column in zip(names, reads_as, strict=True)
            if column not in (SENSOR_LOGGER_PHONE_TIME, SENSOR_LOGGER_SENSOR_TIME) and name]
    what = f"of {', '.join(held)}" if held else "of its timestamps alone"
    raise InputError(path, f"a Polar Sensor Logger file {what}, which is not read: {SENSOR_LOGGER_READS}")


def _ppi_columns(reads_as: list[str]) -> list[str]:
    """A PPI file's columns (``reads_as``, its names in lower case) with its flags read as the generic beat-flag
    columns, a second 'contact' (or 'skin contact') as whether contact is supported, and its heart rate left out."""
    columns: list[str] = []
    for name in reads_as:
        column = SENSOR_LOGGER_PPI_FLAGS.get(name, SENSOR_LOGGER_PPI_HR if name == SENSOR_LOGGER_HR else name)
        columns.append(BEAT_CONTACT_SUPPORTED if column == BEAT_CONTACT and BEAT_CONTACT in columns else column)
    return columns


def sensor_logger_table(table: CsvTable) -> CsvTable:
    """A Polar Sensor Logger file's table, its phone timestamps read as that file needs them.

    Its RR file (``Phone timestamp;RR-interval [ms]``) has each beat on a row stamped with the time its
    notification arrived, which carries the beats of the second or so before it: the beats follow their intervals,
    and the stamps give their wall-clock start alone (``received_time``: the reader reads them at the offset stated
    for the phone's clock, or, without one, reads the beats without a wall-clock start, as a Polar Flow export is
    without its start's offset).

    Its PPI file (a Verity Sense's optical beat intervals: ``Phone timestamp;PP-interval [ms];error estimate
    [ms];blocker;contact;contact;hr [bpm]``) is read as its RR file is, its flags (``_ppi_columns``) saying which
    intervals the beats' channel is read without (the reader's ``_flagged_beats_left_out``); a sensor timestamp in
    it is left out, the intervals placing its beats.

    Its ACC file (``Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]``) is read on the sensor's own
    clock (``time_ns``, no wall clock), its axes in mg, and its phone timestamps, as the RR file's, give its start;
    so is any of its files with a sensor timestamp beside a heart rate or beat intervals. Its other streams (ECG,
    PPG, gyroscope, magnetometer) are refused naming what they hold, and the files that are read, before the
    table is made (``header_table``).

    Its HR file (``Phone timestamp;HR [bpm];HRV [ms];Breathing interval [rpm];``) has one heart rate a notification,
    about one a second, and no other clock: its phone timestamps are its ``timestamp``, local times read at the
    offset stated for the phone's clock, as any such times are. Its rows end where their values do (the app writes
    ``...;64`` where it has no HRV, ``...;64;42;;`` where it has), so a row with fewer cells than the header has its
    empty ones added; its HRV, the app's own figure from the beats, is left out with the other columns not read."""
    if SENSOR_LOGGER_PPI in table.reads_as:  # its beats follow their intervals, as an RR file's do
        return _stamped_on_receipt(table)
    if SENSOR_LOGGER_SENSOR_TIME in table.reads_as:  # the rows' clock: the phone's stamps give its start alone
        reads_as = [SENSOR_LOGGER_ACC.get(column, "time_ns" if column == SENSOR_LOGGER_SENSOR_TIME else column)
                    for column in table.reads_as]
        return _stamped_on_receipt(dataclasses.replace(table, reads_as=reads_as))
    if SENSOR_LOGGER_RR in table.reads_as:
        return _stamped_on_receipt(table)
    if SENSOR_LOGGER_HR not in table.reads_as:
        return table
    reads_as = ["timestamp", *table.reads_as[1:]]
    return dataclasses.replace(table, reads_as=reads_as, body=_padded_rows(table.body, table.delimiter,
                                                                           len(table.names)))


def _stamped_on_receipt(table: CsvTable) -> CsvTable:
    """The table with its phone timestamps read as the times its rows were received: the reader, once it has read
    them, knows whether they say their offset and whether one is stated, or a start given (what is said where
    none is)."""
    return dataclasses.replace(table, reads_as=[RECEIVED_COLUMN, *table.reads_as[1:]])


def _padded_rows(body: str, delimiter: str, width: int) -> str:
    """``body`` with each line that has fewer than ``width`` cells given the empty ones it lacks (a line with more,
    or a quote left open, is left for the reader to refuse by its line); blank lines stay blank. Lines and cells
    as the reader splits them (``lines_with_ends``, ``csv_cells``)."""
    parts, start = [], 0
    for line, after in lines_with_ends(body):
        cells = width
        if line.strip():
            with contextlib.suppress(InputError):
                cells = len(csv_cells("", line, 0, delimiter))
        parts += [line, delimiter * max(0, width - cells), body[start + len(line):after]]
        start = after
    return "".join(parts)


def consensys_table(path: str | Path, table: CsvTable, utc_offset_s: float | None = None) -> CsvTable:
    """A Shimmer (Consensys) export's table with its known signals read as the generic columns in their units, and
    its data lines after the format row (CAL/RAW) and the units row; other files' as they are.

    A known signal in a unit the reader has no conversion for is refused naming it; a skin resistance beside the
    conductance it was computed from is left out with the other columns not read. Its formatted time, the PC's
    local time, is read only with ``utc_offset_s`` stated for that clock: without it, the device's own Timestamp
    is read where the export has one, with no wall-clock start, and that is said (as a Polar Flow export's start
    is)."""
    first_line = table.first_line
    if not any(name.endswith(("_cal", "_raw")) for name in table.reads_as):
        return table
    rows = first_rows(path, table.body, first_line, 2, table.delimiter)  # its format and units rows
    skipped = 1 if {cell.strip().lower() for cell in rows[0][0]} <= CONSENSYS_FORMATS else 0
    if skipped >= len(rows):
        return table
    units = [cell.strip() for cell in rows[skipped][0]]
    if any(reads_as_number(unit) for unit in units):  # no units row: the names alone do not say what the values are
        return table
    reads_as = list(table.reads_as)
    signals = {index: match.group(1) for index, name in enumerate(table.reads_as)
               if (match := _CONSENSYS_NAME.fullmatch(name)) and index < len(units)
               and not (match.group(1) == "timestamp" and _CONSENSYS_SYSTEM_TIME.fullmatch(name))}
    clock = next((clock for clock in CONSENSYS_CLOCKS if clock in signals.values()), None)
    if clock == "timestamp_formattedunix" and utc_offset_s is None and "timestamp" in signals.values():
        # the column itself is named once, among those left out
        log.warning("%s: its formatted time is the PC's local time with no UTC offset; read on the device's own "
                    "Timestamp without a wall-clock start (--physio-offset places it, or give the PC's UTC offset: "
                    "--utc-offset / --physio-utc-offset +01:00)", path)
        clock = None
    for index, signal in signals.items():
        if signal in CONSENSYS_CLOCKS and signal != clock:
            reads_as[index] = OTHER_CLOCK  # one wall clock places the recording; the others are left out
            continue
        column, known_units = CONSENSYS_SIGNALS[signal]
        if units[index] not in known_units:
            raise InputError(path, f"line {first_line + skipped}: column {table.names[index]} is in "
                                   f"{units[index]!r}, read in {known_units[0]}")
        reads_as[index] = column
    if "eda" in reads_as:  # the resistance is the conductance's reciprocal: one column holds the channel
        reads_as = [table.reads_as[i] if column == "skin_resistance_kohm" else column
                    for i, column in enumerate(reads_as)]
    if "timestamp" in reads_as:  # the UNIX time places the recording; the device's own clock is left out
        reads_as = [OTHER_CLOCK if column == "time_ms" else column for column in reads_as]
    return dataclasses.replace(table, reads_as=reads_as, body=table.body[rows[skipped][1] :],
                               first_line=first_line + skipped + 1)
