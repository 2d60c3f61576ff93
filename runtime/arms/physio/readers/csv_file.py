"""A generic CSV: a header of named channels, and a time column or a start time and a rate; the forms wearables,
phone apps and spreadsheets write (UNIX times in any unit, ISO 8601 with an offset, semicolons and decimal
commas, quoted cells, beat intervals in ms)."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from runtime.arms.physio.readers.layouts import (
    BEAT_BLOCKER,
    BEAT_BOOLEAN_COLUMNS,
    BEAT_CONTACT,
    BEAT_CONTACT_SUPPORTED,
    BEAT_ERROR_MS,
    BEAT_FLAG_COLUMNS,
    OTHER_CLOCK,
    RECEIVED_COLUMN,
    CsvTable,
    consensys_table,
    elapsed_s,
    header_table,
    is_polar_flow,
    is_sensor_logger,
    named_units_read,
    polar_flow_table,
    sensor_logger_table,
)
from runtime.arms.physio.readers.text import (
    CellError,
    check_rate,
    check_times,
    columns_hold_marks,
    csv_cells,
    csv_columns,
    decimal_mark_columns,
    decode_text,
    drop_blank_rows,
    first_problem_named,
    first_rows,
    lines_with_ends,
    numbers_of_columns,
    parse_iso_time,
    placed_rows,
    read_limited,
    reads_as_number,
    separator_hint,
    written_cells,
)
from runtime.arms.physio.recording import (
    ACC_AXES,
    CHANNEL_UNITS,
    GAP_PERIODS,
    PLAUSIBLE_RANGES,
    PLAUSIBLE_UNIX_S,
    PLAUSIBLE_YEARS,
    Channel,
    Recording,
    implausible_note,
    plausible_readings,
    range_channel,
    said_plausible,
    sample_rate_hz,
    seconds_text,
)
from runtime.errors import InputError

log = logging.getLogger("emotrace.physio")

STANDARD_GRAVITY_MS2 = 9.80665

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
    "skin_resistance_kohm": "eda",
    **{f"{axis}_ms2": axis for axis in ACC_AXES},  # in m/s^2, as a Shimmer writes its accelerometer
    **{f"{axis}_mg": axis for axis in ACC_AXES},  # in milli-g, as Polar Sensor Logger writes a strap's
    # as heart-rate apps and straps' loggers name them (Polar Sensor Logger, Polar Flow, Fitbit's export)
    "rr-interval [ms]": "ibi",
    "pp-interval [ms]": "ibi",  # an optical sensor's pulse-to-pulse intervals (Polar Sensor Logger's PPI file)
    "rr interval [ms]": "ibi",
    "beats per minute": "hr",  # names with a unit in brackets ('HR [bpm]', 'RR [ms]') are layouts.NAMED_UNITS'
}
# a column in another unit than its channel's -> the factor
MILLISECOND_COLUMNS = ("time_ms", "ibi_ms", "rr_ms", "rr-interval [ms]", "rr interval [ms]", "pp-interval [ms]")
CSV_SCALES = {**dict.fromkeys(MILLISECOND_COLUMNS, 0.001),
              **{f"{axis}_ms2": 1.0 / STANDARD_GRAVITY_MS2 for axis in ACC_AXES},
              **{f"{axis}_mg": 0.001 for axis in ACC_AXES}, "time_ns": 1e-9}
# a skin resistance (a Shimmer's GSR in kOhm) is the conductance's reciprocal, not a multiple of it
RESISTANCE_KOHM_COLUMNS = ("skin_resistance_kohm",)
TIME_COLUMNS_UNIX = ("timestamp", "unix_s", "unix_time")
TIME_COLUMNS_RELATIVE = ("time_s", "t_s", "seconds", "time_ms", "time_ns")  # any origin; time_ms in ms, time_ns in ns
# The rows the start is read from: a sensor's clock drifts from the phone's by tens of ppm, which later rows would add.
RECEIVED_START_WINDOW_S = 60.0
# After them, the last row's received time alone is read (from the text's end: no other line), and is due within a
# notification's delivery (a few hundred ms, a batch of samples under a second: 2 s allowed) of where the rows' own
# clock places it, give or take that clock's drift against the phone's (tens of ppm: 100 allowed). Further off, the
# two clocks disagree after the first minute: the phone's was changed, or beats or samples are missing from the rows'.
RECEIVED_END_TOLERANCE_S = 2.0
RECEIVED_END_DRIFT = 1e-4
LAST_LINE_CHARS = 4096  # the text's tail the last row is looked for in: a longer line is no logger's, and not read
STRIDE_SHARE = 0.9  # a CSV column stepping by multiples of k rows in this share of its steps is sampled k times slower
MIN_STRIDE_STEPS = 10  # ... when it has at least this many steps
# A beat comes one interval after the one before, or a few where beats were dropped: beats whose median time step
# is within half a decade of a thousand times their intervals (or a thousandth) are on a time column in another unit
# than its name says (ms in time_s). Their median over at least MIN_BEAT_STEPS steps: a gap alone is no unit.
BEAT_STEP_UNIT_FACTORS = (1e3, 1e-3)
BEAT_STEP_DECADES = 0.5
MIN_BEAT_STEPS = 5
# Steps a thousand times their intervals are intervals in ms: each spans its beat's interval at least (more where
# beats were dropped), whether a row gives the interval before its beat or after it (the shorter of a row's and the
# row before's), so almost none falls short by more than a beat's variation. A sparse beat file (a beat kept every
# few hundred seconds), whose steps a median alone can put near a thousand intervals, has many such.
BEAT_STEP_SHORT_OF_OWN = 0.7
BEAT_STEP_SHORT_SHARE = 0.1
TIME_UNIT_NAMES = {0: "s", -3: "ms", -6: "µs", -9: "ns"}  # a time unit's seconds, as a power of ten -> its name
UNIX_TIME_SCALES = (1.0, 1e3, 1e6, 1e9)  # a UNIX time in seconds, milliseconds, microseconds or nanoseconds
# A '# start_unix_s' line beside a timestamp column may mark the session's start a little before the first stamp
# (a sensor warming up); a minute or more apart, one of them is wrong.
START_LINE_TOLERANCE_S = 60.0
META_KEYS = ("start_unix_s", "rate_hz")
# An optical beat interval whose error estimate is over this is left out: the project's choice, at the figure above
# which Polar's SDK says the estimate may come from a movement artefact or loose sensor-skin contact (under 10 ms,
# it says, the interval is probably very accurate); RMSSD at rest is itself a few tens of ms.
BEAT_MAX_ERROR_MS = 30.0


def read_csv(path: str | Path, start_unix_s: float | None = None, rate_hz: float | None = None,
             utc_offset_s: float | None = None) -> Recording:
    """A CSV with a header of named channels and either a time column or a start time and a rate.

    Time column: ``timestamp`` (UNIX seconds, milliseconds, microseconds or nanoseconds, or ISO 8601 times with
    their UTC offset) or ``time_s`` (seconds, any origin; a ``# start_unix_s`` line gives the first row's
    instant). Without one, the start and rate come from the arguments or from ``# start_unix_s: ...`` /
    ``# rate_hz: ...`` lines at the top, and a blank row keeps its place as a missing sample. An empty cell or
    ``nan`` is a missing sample; each channel keeps the rows where it has a value.

    ``utc_offset_s`` is the offset from UTC of the clock that wrote local times without one (a phone app's ISO
    times, a Polar Flow export's start); given for a file with no such times, it is an error.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    table = _table(path, decode_text(path, read_limited(path)), utc_offset_s)
    local_times = table.elapsed_column is not None  # a Polar Flow export's, whose start is the watch's local time
    time_column = _time_column(table.reads_as)
    # beside a wall clock of its own, the file's received times are left out with the other columns not read
    received = RECEIVED_COLUMN if RECEIVED_COLUMN in table.reads_as and time_column not in TIME_COLUMNS_UNIX else None
    if RECEIVED_COLUMN in table.reads_as and not received:  # known, and no channel: said as what it is
        log.warning("%s: column '%s' holds the times its rows were received; read without it beside its own wall "
                    "clock '%s'", path, _name_of(table, RECEIVED_COLUMN), _name_of(table, time_column))
    other_clocks = [name for name, column in zip(table.names, table.reads_as, strict=True)
                    if column in (*TIME_COLUMNS_UNIX, *TIME_COLUMNS_RELATIVE, OTHER_CLOCK) and column != time_column]
    if other_clocks:  # known, and no channel: said as what they are
        log.warning("%s: column(s) %s hold another clock; read on '%s', %s, without them", path,
                    ", ".join(other_clocks), _name_of(table, time_column),
                    "its wall clock" if time_column in TIME_COLUMNS_UNIX else "the first of its clocks")
    columns = _channel_columns(path, table, [RECEIVED_COLUMN, OTHER_CLOCK, *TIME_COLUMNS_UNIX, *TIME_COLUMNS_RELATIVE,
                                             *BEAT_FLAG_COLUMNS])
    flags = {i for i, column in enumerate(table.reads_as) if column in BEAT_FLAG_COLUMNS}
    # the received times are read once the rows' own times say which give the start (_received_unix_s)
    kept = sorted(set(columns) | flags | ({table.reads_as.index(time_column)} if time_column else set()))
    data, zone_less = _values(path, table, kept, [c for c in (time_column,) if c in TIME_COLUMNS_UNIX], utc_offset_s)
    local_times = local_times or zone_less
    whole_table, last_line = table, table.first_line + data.shape[0] - 1  # the text's last line of data
    table, columns = _known_columns(table, columns, kept)
    meta = table.meta
    given_by = "--start-unix" if start_unix_s is not None else "its '# start_unix_s' line"
    if time_column is None and set(columns.values()) == {"ibi"}:  # an RR list: beats follow their intervals
        times_s, data = _beats_of_intervals(path, table, next(iter(columns)), data, rate_hz)
        rate_hz, start_unix_s = None, _given_start(path, start_unix_s, meta)
    elif time_column is None:
        rate_hz = _given_rate(path, rate_hz, meta)
        times_s = np.arange(data.shape[0]) / rate_hz
        start_unix_s = _given_start(path, start_unix_s, meta)
    else:
        refuse_options(path, f"it has its own time column '{_name_of(table, time_column)}'", start_unix_s, rate_hz)
        # the time cells as written, by the whole table's columns: for a line that reads as no time ('nan', '')
        written = written_cells(path, whole_table.body, whole_table.first_line,
                                whole_table.reads_as.index(time_column), whole_table.delimiter)
        data, times_s, start_unix_s, rate_hz, row_lines = _csv_time_column(path, table, time_column, data,
                                                                             sorted(columns), written)
    written_s = _first_row_s(times_s, data, columns)  # before any flagged beat is left out
    if flags:
        data = _flagged_beats_left_out(path, table, columns, data)
    if received:
        if time_column is None:  # every row kept in its place
            row_lines = table.first_line + np.arange(times_s.size)
        received_unix_s, zone_less = _received_unix_s(path, whole_table, row_lines, times_s, utc_offset_s)
        local_times = local_times or zone_less
        # local received times without an offset give no start (the time column's would have been refused)
        start_unix_s = _received_or_given_start(path, whole_table, received_unix_s, times_s, start_unix_s, given_by,
                                                zone_less and utc_offset_s is None)
        # the received times gave the start (beside them, another is refused): the last row's is checked against it
        if np.isfinite(received_unix_s).any() and row_lines[-1] == last_line:
            _say_clocks_disagree(path, whole_table, last_line, float(times_s[-1]), start_unix_s, utc_offset_s)
    # after the times are read: a file without any says so, not that an offset would go unused
    if not local_times:
        refuse_options(path, "no time in it lacks a UTC offset (its times are UNIX times, carry their own offset, or "
                       "count from its start)", None, None, utc_offset_s)
    channels: dict[str, Channel] = {}
    thin: dict[str, str] = {}  # columns with under two samples -> why, where their values are no body's
    for name, (column_names, values) in _csv_signals(path, table, columns, data).items():
        channel = _timestamped_channel(name, times_s, values, rate_hz, f"{path}: column {', '.join(column_names)}")
        if channel is None:
            note = implausible_note(name, values)  # an accelerometer's three columns too
            thin[", ".join(column_names)] = note
        else:
            channels[name] = channel
    if time_column in TIME_COLUMNS_RELATIVE and "ibi" in channels:
        _refuse_beat_times_in_another_unit(path, _name_of(table, time_column), CSV_SCALES.get(time_column, 1.0),
                                           _names_of(table, "ibi")[0], channels["ibi"])
    if not channels:  # one line saying it all, not a warning per column before it
        said = ", ".join(f"{columns}: {note}" if note else columns for columns, note in thin.items())
        raise InputError(path, f"no signal column with at least two samples ({said})")
    if thin:  # the values no body gives were said as they were read: the columns alone here
        log.warning("%s: column(s) %s hold fewer than two samples; read without them", path, ", ".join(thin))
    channels, start_unix_s = _from_first_sample(path, channels, start_unix_s, written_s,
                                                _first_row_s(times_s, data, columns))
    return Recording(str(path), channels, start_unix_s=start_unix_s)


def _time_column(reads_as: list[str]) -> str | None:
    """The clock the rows are read on: the first wall clock (TIME_COLUMNS_UNIX), which places the recording, before
    any time from the start (TIME_COLUMNS_RELATIVE), which needs a start given; None where there is neither."""
    return next((column for column in reads_as if column in TIME_COLUMNS_UNIX),
                next((column for column in reads_as if column in TIME_COLUMNS_RELATIVE), None))


def _name_of(table: CsvTable, column: str) -> str:
    """The file's own name of the (first) column read as ``column``."""
    return table.names[table.reads_as.index(column)]


def _known_columns(table: CsvTable, columns: dict[int, str], kept: list[int]) -> tuple[CsvTable, dict[int, str]]:
    """The table's names, and the channel columns, of the columns read (``kept``: the time column and the known
    channels) alone: the others, said by ``_channel_columns`` to be read without, may hold text (a device's name, a
    date the time column already gives) that is no reason to refuse the file, and are not parsed."""
    position = {index: new for new, index in enumerate(kept)}
    table = dataclasses.replace(table, names=[table.names[i] for i in kept],
                                reads_as=[table.reads_as[i] for i in kept],
                                elapsed_column=position.get(table.elapsed_column))
    return table, {position[i]: name for i, name in columns.items()}


def _values(path: Path, table: CsvTable, kept: list[int], wall_clocks: list[str], utc_offset_s: float | None
            ) -> tuple[np.ndarray, bool]:
    """The values of the table's columns ``kept``, one column of a 2-D array each, and whether the times of its
    ``wall_clocks`` (the columns that may hold ISO times) were local ones without an offset (read at
    ``utc_offset_s``; without it, the received times' are NaN: ``_iso_times_as_unix``). Text is read as the column
    says: a decimal comma's numbers with points (the file telling what its points mark), a Polar Flow export's
    elapsed times and ISO times as seconds, then every other cell as a number, the first that is none (by line,
    then column) refused naming both; a line that cannot be split into the header's cells is refused after the
    lines above it are read (a cell there that is no number or time named first; what the file's points mark is
    told by all its lines, and whether they are told at all, ``_marks_told``, by the whole file too)."""
    marks_told = _marks_told(table)
    return first_problem_named(
        lambda body: _values_of(path, dataclasses.replace(table, body=body), kept, wall_clocks, utc_offset_s,
                                marks_told), table.body)


def _values_of(path: Path, table: CsvTable, kept: list[int], wall_clocks: list[str], utc_offset_s: float | None,
               marks_told: bool) -> tuple[np.ndarray, bool]:
    as_text = {table.elapsed_column} if table.elapsed_column is not None else set()
    # points or spaces in a column read: what each marks, the columns read tell
    if marks_told and columns_hold_marks(table.body, table.delimiter, kept):
        cells = decimal_mark_columns(path, table.body, table.first_line, table.delimiter, len(table.names), kept,
                                     table.names, as_text, _plausible_tests(table, kept))
    else:  # most decimal-comma files: every comma a decimal one
        body = table.body.replace(",", ".") if table.decimal_comma else table.body
        cells = csv_columns(path, body, table.first_line, table.delimiter, len(table.names), kept, as_text)
        del body
    values = {i: column for i, column in cells.items() if isinstance(column, np.ndarray)}
    if table.elapsed_column is not None:
        values[table.elapsed_column] = _elapsed_seconds(path, table, cells[table.elapsed_column])
    zone_less = False
    for unix_column in (table.reads_as.index(column) for column in wall_clocks):
        if unix_column not in values:
            unix_s, local = _iso_times_as_unix(path, table, cells[unix_column], utc_offset_s,
                                               table.reads_as[unix_column] == RECEIVED_COLUMN)
            zone_less = zone_less or local
            if unix_s is not None:
                values[unix_column] = unix_s
    values.update(numbers_of_columns(path, {i: _flag_words_as_numbers(cells[i]) if table.reads_as[i] in
                                            BEAT_BOOLEAN_COLUMNS else cells[i] for i in kept if i not in values},
                                     table.first_line, table.names))
    return np.stack([values[i] for i in kept], axis=1), zone_less


def _flag_words_as_numbers(cells: list[str]) -> list[str]:
    """A flag column's cells with 'true' and 'false' (any case), as some apps write a sensor's flags, as 1 and 0."""
    return [{"true": "1", "false": "0"}.get(cell.strip().lower(), cell) for cell in cells]


def _plausible_tests(table: CsvTable, kept: list[int]) -> dict[int, Callable[[np.ndarray], np.ndarray]]:
    """Column index -> which of the values written in it are ones its channel could give (``PLAUSIBLE_RANGES``, in
    the column's own unit: 812 in rr_ms, 0.812 in rr_s), for the columns ``kept`` whose channel has a range."""
    def fits(channel: str, column: str) -> Callable[[np.ndarray], np.ndarray]:
        return lambda values: plausible_readings(channel, in_channel_unit(column, values))

    channels = {index: CSV_ALIASES.get(table.reads_as[index]) for index in kept}
    return {index: fits(channel, table.reads_as[index])
            for index, channel in channels.items() if range_channel(channel) in PLAUSIBLE_RANGES}


# A cell that is a whole number alone: beside a '1.023', a one-column file's point may be a thousands mark
_PLAIN_INTEGER = re.compile(r"(?m)^[^\S\n]*[+-]?\d+[^\S\n]*$")


def _marks_told(table: CsvTable) -> bool:
    """Whether what the table's points mark is told by its numbers (``decimal_mark_columns``): in a semicolon or tab
    file (decimal commas), and in a one-column file holding whole numbers beside points (a German RR list: 812,
    1.023, 998), whose comma separates nothing to tell."""
    return table.decimal_comma or (len(table.names) == 1 and "." in table.body
                                   and _PLAIN_INTEGER.search(table.body) is not None)


def _beats_of_intervals(path: Path, table: CsvTable, column: int, data: np.ndarray, rate_hz: float | None
                        ) -> tuple[np.ndarray, np.ndarray]:
    """The beat times of a list of beat-to-beat intervals (``data``'s ``column``) without a time column (a strap
    logger's or an HRV app's RR export): each beat one interval after the one before, the first at 0 (where
    ``--start-unix``, or the times its rows were received, place the recording). A sample rate would space the
    beats evenly instead, which no heart does: refused. So is a missing interval (or none of positive finite
    length), after which no beat can be placed. One no body's (a strap's artefact beat of 3.2 s or 150 ms) still
    took its length: the beats after it are placed by it, and its value alone is left out, with the other
    channels' implausible values (``said_plausible``)."""
    if rate_hz is not None or "rate_hz" in table.meta:
        raise InputError(path, "holds beat intervals and no time column: its beats follow one another by their "
                         "intervals, so no sample rate applies; leave --rate-hz or the '# rate_hz' line out")
    intervals_s = in_channel_unit(table.reads_as[column], data[:, column])
    if intervals_s.size < 2:
        raise InputError(path, "holds one beat interval: at least two are needed")
    unplaceable = ~(np.isfinite(intervals_s) & (intervals_s > 0))  # NaN and infinity too
    if unplaceable.any():
        row = int(np.flatnonzero(unplaceable)[0])
        held = "no interval" if np.isnan(intervals_s[row]) else f"an interval of {float(data[row, column])!r}"
        raise InputError(path, f"line {table.first_line + row}: {held}, and without a time column the beats after it "
                         "cannot be placed")
    times_s = np.cumsum(intervals_s) - intervals_s[0]
    check_times(path, times_s, table.first_line + np.arange(times_s.size), "the beat time")  # no jump of a day or more
    return times_s, data


def _refuse_beat_times_in_another_unit(path: Path, time_name: str, time_scale_s: float, ibi_name: str,
                                      ibi: Channel) -> None:
    """Beats whose time steps (column ``time_name``, read as ``time_scale_s`` seconds a unit) are a thousand times
    their intervals (column ``ibi_name``), hardly any short of their beat's, or a thousandth, are refused
    naming both: read as the name says, every window would hold one beat or a thousand (the others' rates are
    refused as no sensor's; an interval has none)."""
    if ibi.times_s.size <= MIN_BEAT_STEPS:
        return
    steps_s = np.diff(ibi.times_s)
    decades = float(np.log10(np.median(steps_s / ibi.values[1:])))
    factor = next((f for f in BEAT_STEP_UNIT_FACTORS if abs(decades - math.log10(f)) < BEAT_STEP_DECADES), None)
    if factor is None:
        return
    short = steps_s < BEAT_STEP_SHORT_OF_OWN * factor * np.fmin(ibi.values[1:], ibi.values[:-1])
    if factor > 1 and np.mean(short) > BEAT_STEP_SHORT_SHARE:
        return
    named, likely = (TIME_UNIT_NAMES.get(round(math.log10(scale))) for scale in (time_scale_s, time_scale_s / factor))
    named = named or "units"
    if likely:
        reasons = [f"its times are in {likely}, not {named}"]
    elif factor > 1:  # time_ns stepping a thousand times: no unit is named that far beyond it
        reasons = [f"its times are in another unit than {named}"]
    else:
        reasons = []
    if factor < 1:  # as many rows a beat as a sampled grid has: each beat's interval repeated on every row
        reasons.append("each beat's interval is repeated on every row of a sampled grid (the column is read a row "
                       "a beat)")
    raise InputError(path, f"column '{time_name}' steps by a median {np.median(steps_s) / time_scale_s:.3g} {named} "
                           f"between beats, {'a thousand times' if factor > 1 else 'a thousandth of'} their intervals "
                           f"in column '{ibi_name}' (a median {np.median(ibi.values):.3g} s): "
                           f"{', or '.join(reasons)}?")


def _flagged_beats_left_out(path: Path, table: CsvTable, columns: dict[int, str], data: np.ndarray) -> np.ndarray:
    """``data`` with the beat intervals its sensor flags as no valid ones (``BEAT_FLAG_COLUMNS``: the blocker set,
    skin contact lost where the sensor reports it, an error estimate over BEAT_MAX_ERROR_MS) missing, with one
    warning, as an interval no body's is: each still placed the beats after it by its length (their times are read
    before this), and its value is left out, so that no HRV is read across it and a run of them is a hole in the
    beats. A file whose every interval is flagged is refused."""
    ibi = next((index for index, name in columns.items() if name == "ibi"), None)
    if ibi is None:
        return data
    missing = np.full(data.shape[0], np.nan)

    def flag(column: str) -> np.ndarray:
        return data[:, table.reads_as.index(column)] if column in table.reads_as else missing

    contact, supported = flag(BEAT_CONTACT), flag(BEAT_CONTACT_SUPPORTED)
    if BEAT_CONTACT_SUPPORTED not in table.reads_as:
        # A contact column alone: Polar's SDK gives 0 both for lost contact and where the sensor cannot tell contact
        # at all, its 'supported' field telling which. A sensor that writes 1 on some row can tell contact, so its 0s
        # are lost contact; a column of 0s alone could be either, and leaves out nothing (the other flags still do).
        supported = np.full(contact.shape, float((contact > 0).any()))
    reasons = {"blocked": flag(BEAT_BLOCKER) > 0,
               "without skin contact": (supported > 0) & (contact == 0),
               f"with an error estimate over {BEAT_MAX_ERROR_MS:g} ms": flag(BEAT_ERROR_MS) > BEAT_MAX_ERROR_MS}
    flagged = np.logical_or.reduce(list(reasons.values())) & np.isfinite(data[:, ibi])
    if not flagged.any():
        return data
    said = ", ".join(f"{int(np.count_nonzero(rows & flagged))} {why}" for why, rows in reasons.items()
                     if (rows & flagged).any())
    beats = int(np.count_nonzero(np.isfinite(data[:, ibi])))
    if flagged.sum() == beats:
        raise InputError(path, f"its sensor flags every one of its {beats} beat intervals in column "
                               f"'{table.names[ibi]}' as no valid one ({said}): no beat to read")
    log.warning("%s: its sensor flags %d of its %d beat intervals in column '%s' as no valid ones (%s); read without "
                "them, the beats after each still placed by its length", path, int(flagged.sum()), beats,
                table.names[ibi], said)
    data = data.copy()
    data[flagged, ibi] = np.nan
    return data


def _received_unix_s(path: Path, table: CsvTable, row_lines: np.ndarray, times_s: np.ndarray,
                     utc_offset_s: float | None) -> tuple[np.ndarray, bool]:
    """The times the rows on file lines ``row_lines`` (their own clock's ``times_s``) were received, read for the
    rows of the first RECEIVED_START_WINDOW_S alone, which give the start (``_received_start_unix_s``): the later
    ones are NaN, not read (an hour of a phone's stamps parsed and told for points, for nothing, was most of the
    read). Also whether those were local times without an offset (``_values``)."""
    received = np.full(times_s.shape, np.nan)
    early = int(np.count_nonzero(times_s <= RECEIVED_START_WINDOW_S))  # the times increase: the first rows
    lines = int(row_lines[early - 1]) - table.first_line + 1 if early else 0
    head = table.body[:next(itertools.islice(lines_with_ends(table.body), lines - 1, None))[1]] if lines else ""
    if not head.strip():
        return received, False
    column = table.reads_as.index(RECEIVED_COLUMN)
    values, zone_less = _values(path, dataclasses.replace(table, body=head), [column], [RECEIVED_COLUMN],
                                utc_offset_s)
    rows = row_lines[:early] - table.first_line
    read = rows < values.shape[0]  # blank lines after the last row read are none
    received[:early][read] = values[rows[read], 0]
    return received, zone_less


def _say_clocks_disagree(path: Path, table: CsvTable, last_line: int, last_s: float, start_unix_s: float,
                         utc_offset_s: float | None) -> None:
    """One warning where the last row (on file line ``last_line``, at ``last_s`` on the rows' own clock) was received
    further from where that clock places it, from ``start_unix_s``, than a delivery and the clocks' drift allow
    (RECEIVED_END_TOLERANCE_S, RECEIVED_END_DRIFT): the phone's clock changed, or the rows' own lost time, after
    the first minute, which no other received time read would show. Its line alone is read, from the text's end."""
    end = len(table.body)
    while end and table.body[end - 1].isspace():
        end -= 1
    lines = list(lines_with_ends(table.body[max(0, end - LAST_LINE_CHARS):end]))
    if len(lines) < 2:  # no line break in the tail: a line longer than any logger's, left unread
        return
    last = dataclasses.replace(table, body=lines[-1][0] + "\n", first_line=last_line)
    received, _ = _values(path, last, [table.reads_as.index(RECEIVED_COLUMN)], [RECEIVED_COLUMN], utc_offset_s)
    late_s = float(_unix_seconds(received[:, 0])[0]) - (start_unix_s + last_s)
    if not abs(late_s) > RECEIVED_END_TOLERANCE_S + RECEIVED_END_DRIFT * last_s:  # NaN (no stamp there) too
        return
    log.warning("%s: its last row (line %d) was received %s s %s its own clock places it from the start its column "
                "'%s' gives: the two clocks disagree after its first minute (the phone's clock changed, or beats or "
                "samples are missing); its rows are placed by its own clock", path, last_line,
                seconds_text(abs(late_s), ".3g"), "after" if late_s > 0 else "before", _name_of(table, RECEIVED_COLUMN))


def _received_start_unix_s(path: Path, table: CsvTable, received: np.ndarray, times_s: np.ndarray) -> float | None:
    """The wall-clock start of rows placed by a clock of their own (``times_s``, 0 at the first) from the times they
    were received (UNIX, any unit): each row came at or before its stamp, so the first came at or before every
    row's stamp less its time since the first - the latest such instant, of the rows of the first minute; None
    where they have no stamp."""
    received_unix_s = _unix_seconds(received)
    early = (times_s <= RECEIVED_START_WINDOW_S) & np.isfinite(received_unix_s)
    if not early.any():
        return None
    start_unix_s = float(np.min(received_unix_s[early] - times_s[early]))
    if not PLAUSIBLE_UNIX_S[0] <= start_unix_s <= PLAUSIBLE_UNIX_S[1]:
        raise InputError(path, f"column '{_name_of(table, RECEIVED_COLUMN)}' does not hold UNIX seconds "
                               f"{PLAUSIBLE_YEARS} ({float(received[np.flatnonzero(early)[0]])!r})")
    return start_unix_s


def _received_or_given_start(path: Path, table: CsvTable, received: np.ndarray, times_s: np.ndarray,
                             given_unix_s: float | None, given_by: str, unread: bool) -> float | None:
    """The start the times the rows were received give (``_received_start_unix_s``). A start given beside them
    (``given_unix_s``, by ``given_by``: --start-unix or the '# start_unix_s' line) is refused, as any two starts
    that could disagree are; where they give none (no stamp among the first minute's rows), the given start is
    kept, and that is said. Local times without an offset stated (``unread``) give none either: the given start
    is kept, and without one the missing offset is said."""
    name = _name_of(table, RECEIVED_COLUMN)
    if unread:
        if given_unix_s is None:
            log.warning("%s: its column '%s' has no UTC offset in its times; read without a wall-clock start "
                        "(--physio-offset places it, or give the UTC offset of the clock that wrote them: "
                        "--utc-offset / --physio-utc-offset +01:00)", path, name)
        return given_unix_s
    start_unix_s = _received_start_unix_s(path, table, received, times_s)
    if start_unix_s is not None and given_unix_s is not None:
        raise InputError(path, f"its column '{name}' gives its start, so {given_by} would not be used: leave it out")
    if start_unix_s is None:
        kept = (f"read with the start {given_by} gives" if given_unix_s is not None
                else "read without a wall-clock start (--physio-offset places it)")
        log.warning("%s: its column '%s' holds no time among its first %s s of rows; %s", path, name,
                    seconds_text(RECEIVED_START_WINDOW_S, "g"), kept)
        return given_unix_s
    return start_unix_s


def _first_row_s(times_s: np.ndarray, data: np.ndarray, columns: dict[int, str]) -> float:
    """The time of the first row holding a value in a channel column (infinity where none does)."""
    held = np.isfinite(data[:, sorted(columns)]).any(axis=1)
    return float(times_s[np.argmax(held)]) if held.any() else math.inf


def _from_first_sample(path: Path, channels: dict[str, Channel], start_unix_s: float | None, written_s: float,
                       unflagged_s: float) -> tuple[dict[str, Channel], float | None]:
    """The channels on a clock whose 0 is their first sample, and that instant's UNIX time: rows before any
    channel has a value (times alone) are no part of the recording, and that is said, since an offset given for
    the recording (``--physio-offset``) places its first sample, not its first row. Where values were written
    before it (the first row holding one at ``written_s``, the first holding one its sensor did not flag at
    ``unflagged_s``), what left them out is said: flagged beats, or values the channels read without."""
    first_s = min(c.start_s for c in channels.values())
    if first_s <= 0:
        return channels, start_unix_s
    held = ("hold no value" if written_s >= first_s
            else "hold no value read: its sensor flags their beat intervals as no valid ones" if unflagged_s > written_s
            else "hold no value read: what is written there is left out")
    log.warning("%s: its first %s s of rows %s; the recording starts at its first sample (where --physio-offset "
                "places it)", path, seconds_text(first_s, ".3g"), held)
    moved = {name: Channel(c.name, c.unit, c.times_s - first_s, c.values, c.rate_hz,
                           [(a - first_s, b - first_s) for a, b in c.gaps]) for name, c in channels.items()}
    return moved, None if start_unix_s is None else start_unix_s + first_s


def _csv_signals(path: Path, table: CsvTable, columns: dict[int, str], data: np.ndarray
                 ) -> dict[str, tuple[list[str], np.ndarray]]:
    """Channel name -> (its columns' names, its values): one column each, but the accelerometer's three axes make
    one ``acc`` channel of (n, 3) values, as an E4's ACC file does. One or two axes alone are kept as they are and
    said: motion is measured from all three, so no measurement reads them (they had gone unused without a word)."""
    signals = {name: ([table.names[index]], in_channel_unit(table.reads_as[index], data[:, index]))
               for index, name in columns.items()}
    axes = [axis for axis in ACC_AXES if axis in signals]
    if len(axes) == len(ACC_AXES):
        signals["acc"] = ([signals[a][0][0] for a in ACC_AXES],
                          np.stack([signals.pop(a)[1] for a in ACC_AXES], axis=1))
    elif axes:
        log.warning("%s: accelerometer column(s) %s without %s: motion is measured from all three axes, so no "
                    "measurement reads them", path, ", ".join(signals[a][0][0] for a in axes),
                    ", ".join(axis for axis in ACC_AXES if axis not in signals))
    return signals


def in_channel_unit(column: str, values: np.ndarray) -> np.ndarray:
    """The values of CSV column ``column`` in its channel's unit (``CHANNEL_UNITS``)."""
    if column in RESISTANCE_KOHM_COLUMNS:
        with np.errstate(divide="ignore"):  # a resistance of 0 is an infinite conductance: no body's, said as such
            return 1000.0 / values  # 1 / kOhm = 1 mS = 1000 uS
    return values * CSV_SCALES.get(column, 1.0)


def _refuse_misspelt_meta(path: Path, line: int, text: str, key: str) -> None:
    """A comment that means a start or rate line but is not written as one ('# start_unix_s = ...', '# rate_hz 4',
    '# start_unix_ms: ...') is an error: read as a comment, it would silently move or respace the recording."""
    if key in META_KEYS or not text.lstrip().startswith("#"):
        return
    word = re.split(r"[\s=:]+", text.lstrip("# \t").lower(), maxsplit=1)[0]
    if word.startswith(("start_unix", "rate_h")):
        raise InputError(path, f"line {line}: {text.strip()[:40]!r} is no start or rate line; write "
                               "'# start_unix_s: SECONDS' or '# rate_hz: HZ'")


def _table(path: Path, text: str, utc_offset_s: float | None) -> CsvTable:
    """The file's ``# key: value`` lines and its header (a Polar Flow export's summary lines too) split into cells,
    with the separator the file names (Excel's ``sep=`` line) or its header shows, handed to the layout it is (a
    Polar Flow or Shimmer export, or a plain header) with the text of the lines below, which is parsed once, by
    columns, when the reader knows which it reads; the layout hands over the file's own names and line numbers
    that every message names."""
    head: list[str] = []  # the lines down to the header
    start = len(text)
    separator = None
    for line, after in lines_with_ends(text):
        named = line.strip(' "').lower()
        if not head and named in ("sep=;", "sep=\t", "sep=,"):  # Excel's line naming the separator
            line, separator = "", named[4:]  # blank, so that every line keeps its number
        head.append(line)
        if line.strip() and not line.lstrip().startswith("#"):
            start = after
            break
    if not head or not head[-1].strip() or head[-1].lstrip().startswith("#"):
        raise InputError(path, "empty: a header row and at least one data row are needed")
    separator = separator or _separator(head[-1])
    decimal_comma = separator != ","  # the many locales whose spreadsheets separate by semicolons or tabs
    meta = _meta_lines(path, head[:-1], decimal_comma)
    number = len(head)
    header = csv_cells(path, head[-1], number, separator)
    _refuse_start_time_header(path, header, head[-1])
    if number == 1 and is_polar_flow(header):
        below = first_rows(path, text, 2, 2, separator, start)  # its summary's values, its samples' header
        body = text[below[-1][1] :] if len(below) == 2 else ""
        return named_units_read(polar_flow_table(path, [header, *(cells for cells, _ in below)], body, separator,
                                                 utc_offset_s))
    table = header_table(path, header, number, text[start:], separator, meta, decimal_comma)
    if is_sensor_logger(table.reads_as):
        return named_units_read(sensor_logger_table(table))
    return named_units_read(consensys_table(path, table, utc_offset_s))


def _refuse_start_time_header(path: Path, header: list[str], line: str) -> None:
    """A header whose first cell is a UNIX time is no header: an E4 file's start line (IBI.csv's '<start>, IBI'),
    read as names, would make its time a column and its beats a chain from 0, the recording's clock lost. An E4
    file is read with its export, which places it against the other files."""
    first = header[0].strip() if header else ""
    if not reads_as_number(first):
        return
    seconds = float(_unix_seconds(np.array([float(first)]))[0])  # in ms, µs or ns too, as phones write them
    if not PLAUSIBLE_UNIX_S[0] <= seconds <= PLAUSIBLE_UNIX_S[1]:
        return
    shown = line.strip()[:60]
    if [cell.strip().lower() for cell in header[1:]] == ["ibi"]:
        raise InputError(path, f"first line {shown!r} is an E4 IBI file's start time, not column names: its beats are "
                               "timed from it and read with the rest of its export; give the export's folder or zip")
    raise InputError(path, f"first line {shown!r} begins with a UNIX time, not column names: a CSV needs a header "
                           "line naming its columns (an E4 file, a start-time line then a sample-rate line, is read "
                           "with its export: give the export's folder or zip)")


def _separator(header: str) -> str:
    """A header's separator: a semicolon or tab where it has one and no comma, outside the quotes around a name
    ("Heart rate, bpm" is one name); a comma otherwise."""
    unquoted = re.sub(r'"[^"]*"', "", header)
    if "," in unquoted:
        return ","
    return next((mark for mark in (";", "\t") if mark in unquoted), ",")


def _meta_lines(path: Path, lines: list[str], decimal_comma: bool) -> dict[str, float]:
    """The start and rate the ``# key: value`` lines above the header state (blank lines among them)."""
    meta: dict[str, float] = {}
    for number, line in enumerate(lines, start=1):
        key, _, value = line.lstrip("# \t").partition(":")
        key = key.strip().lower()
        _refuse_misspelt_meta(path, number, line, key)
        if key not in META_KEYS:
            continue
        try:
            number_value = float(value.replace(",", ".") if decimal_comma else value)
        except ValueError:
            raise InputError(path, f"line {number}: {key} {value.strip()[:20]!r} is not a number") from None
        if key in meta and number_value != meta[key] and not (math.isnan(number_value) and math.isnan(meta[key])):
            raise InputError(path, f"line {number}: a second '# {key}' line says {number_value:.10g} against "
                             f"{meta[key]:.10g} before it; keep one")
        meta[key] = number_value
    return meta


def _channel_columns(path: Path, table: CsvTable, clocks: list[str]) -> dict[int, str]:
    """Column index -> channel name for the columns the reader knows, but the ``clocks`` (every clock column: read,
    or said as left out); the others are left out with a log line."""
    columns: dict[int, str] = {}
    unknown = []
    for index, (column, reads_as) in enumerate(zip(table.names, table.reads_as, strict=True)):
        name = CSV_ALIASES.get(reads_as)
        if reads_as in clocks:
            continue
        if name is None:
            unknown.append(column)
        elif name in columns.values():
            raise InputError(path, f"two columns hold the {name} channel: {', '.join(_names_of(table, name))}")
        else:
            columns[index] = name
    if not columns:
        # A semicolon- or tab-separated file (a spreadsheet's export in many locales) reads as one column.
        hint = separator_hint(",".join(table.names)) or _no_header_hint(table.names)
        raise InputError(
            path,
            f"no known channel column: found {', '.join(table.names)}; known: {', '.join(CSV_ALIASES)} "
            f"(time: {', '.join(TIME_COLUMNS_UNIX + TIME_COLUMNS_RELATIVE)}){hint}",
        )
    unknown = [c for c in unknown if c]  # a separator ending each line names an empty column
    if unknown:
        shown = ", ".join(c if c.isprintable() else repr(c) for c in unknown)  # a NUL byte would print as nothing
        log.warning("%s: column(s) %s are no known channel; read without them", path, shown)
    return columns


def _no_header_hint(header: list[str]) -> str:
    """A hint for a file whose first line is data, not names: an HRV app's list of beat intervals in ms, one a
    line, has no header, and reads with one."""
    if len(header) == 1 and reads_as_number(header[0]):
        value = float(header[0])
        what = "beat intervals in ms" if 250 <= value <= 3000 else "numbers"
        return f"; the first line holds {what}, not column names: add a header line (rr_ms for beat intervals in ms)"
    return ""


def _names_of(table: CsvTable, name: str) -> list[str]:
    return [column for column, reads_as in zip(table.names, table.reads_as, strict=True)
            if CSV_ALIASES.get(reads_as) == name]


def _given_rate(path: Path, rate_hz: float | None, meta: dict[str, float]) -> float:
    _refuse_disagreeing(path, "--rate-hz", rate_hz, "rate_hz", meta)
    if rate_hz is not None:
        check_rate(path, rate_hz, f"--rate-hz {rate_hz!r}")
        return rate_hz
    if "rate_hz" not in meta:
        raise InputError(path, "no time column (timestamp or time_s) and no sample rate given: add a '# rate_hz: N' "
                               "line above the column names (physio classify also takes --rate-hz N)")
    check_rate(path, meta["rate_hz"], f"'# rate_hz' line {meta['rate_hz']!r}")
    return meta["rate_hz"]


def _given_start(path: Path, start_unix_s: float | None, meta: dict[str, float]) -> float | None:
    _refuse_disagreeing(path, "--start-unix", start_unix_s, "start_unix_s", meta)
    where = "--start-unix" if start_unix_s is not None else "'# start_unix_s' line"
    start_unix_s = start_unix_s if start_unix_s is not None else meta.get("start_unix_s")
    if start_unix_s is not None and not PLAUSIBLE_UNIX_S[0] <= start_unix_s <= PLAUSIBLE_UNIX_S[1]:
        raise InputError(path, f"{where} {start_unix_s!r} is not a UNIX start time {PLAUSIBLE_YEARS} (seconds since "
                               "1970)")
    return start_unix_s


def _refuse_disagreeing(path: Path, flag: str, given: float | None, key: str, meta: dict[str, float]) -> None:
    """An option that contradicts the file's own line would silently move its clock: say which to trust."""
    if given is not None and key in meta and given != meta[key]:
        raise InputError(path, f"its '# {key}' line says {meta[key]:.10g}, {flag} says {given:.10g}: correct the line "
                         f"or leave {flag} out")


def _csv_time_column(
    path: Path, table: CsvTable, time_column: str, data: np.ndarray, signal_columns: list[int],
    written: Callable[[int], str] | None = None,
) -> tuple[np.ndarray, np.ndarray, float | None, float | None, np.ndarray]:
    """Rows with a time (blank rows dropped: the time column places the others; rows out of order left out, a gap
    where a channel of ``signal_columns`` has one), seconds from the first,
    the UNIX time of the first row (the column's first value; for relative times, the ``# start_unix_s``
    line's), the ``# rate_hz`` line's rate, checked against the timestamps, and the rows' file line numbers.
    ``written``: the time cells' text by file line, for a line whose time reads as NaN (``check_finite``)."""
    meta, name = table.meta, _name_of(table, time_column)
    data, row_lines = drop_blank_rows(data, table.first_line)
    if not data.shape[0]:
        raise InputError(path, "no data rows")
    times = data[:, table.reads_as.index(time_column)]
    if time_column in TIME_COLUMNS_UNIX:
        times = _unix_seconds(times)
    unit_s = 1.0 if time_column in TIME_COLUMNS_UNIX else CSV_SCALES.get(time_column, 1.0)
    placed = placed_rows(path, times, row_lines, f"column '{name}'", unit_s, rows=data,
                         signals=data[:, signal_columns], written=written)
    if not placed.all():  # rows a local fault of the clock leaves unplaced: missing rows, a gap
        data, times, row_lines = data[placed], times[placed], row_lines[placed]
    if time_column in TIME_COLUMNS_UNIX:
        if not PLAUSIBLE_UNIX_S[0] <= times[0] <= PLAUSIBLE_UNIX_S[1]:
            raise InputError(path, f"column '{name}' does not hold UNIX seconds {PLAUSIBLE_YEARS} "
                                   f"({float(times[0])!r})")
        start_unix_s = float(times[0])
        line_start_s = _given_start(path, None, meta)  # a line that is no UNIX time is refused as such
        if line_start_s is not None and abs(line_start_s - start_unix_s) > START_LINE_TOLERANCE_S:
            raise InputError(path, f"its '# start_unix_s' line says {meta['start_unix_s']:.10g}, its first "
                             f"'{name}' {start_unix_s:.10g}: correct the line or leave it out")
    else:
        start_unix_s = _given_start(path, None, meta)  # the first row's instant: a time_s column has any origin
        times = times * unit_s
    times_s = times - times[0]
    rate_hz = meta.get("rate_hz")
    if rate_hz is not None:
        check_rate(path, rate_hz, f"'# rate_hz' line {rate_hz!r}")
        _check_rate_against_timestamps(path, times_s, rate_hz)
    return data, times_s, start_unix_s, rate_hz, row_lines


def _unix_seconds(times: np.ndarray) -> np.ndarray:
    """A UNIX time column in seconds: one in milliseconds, microseconds or nanoseconds, as phones, straps and
    sensor loggers write it, is told by its size (no such count is a UNIX time in seconds between 2000 and 2100)."""
    finite = times[np.isfinite(times)]
    for scale in UNIX_TIME_SCALES:
        if finite.size and PLAUSIBLE_UNIX_S[0] <= finite[0] / scale <= PLAUSIBLE_UNIX_S[1]:
            return times / scale
    return times


def _timestamped_channel(
    name: str, times_s: np.ndarray, values: np.ndarray, rate_hz: float | None, label: str
) -> Channel | None:
    """The rows where the column has a finite value (all three for the accelerometer); None where there is
    nothing to speak of (no beat; under two samples of a sampled signal)."""
    present = said_plausible(label, name, values)  # every finite value on a channel without a range
    if values.ndim == 2:  # the accelerometer: a row is a sample when all three axes are
        present = present.all(axis=1)
    times, kept = times_s[present], values[present]
    unit = CHANNEL_UNITS.get(name, "")
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
    read as missing samples; a column whose values come rows apart but not every k-th, and seldom in adjacent rows
    (a heart rate logged about once a second, a row early or late), at the rate its steps give, as a time column's
    would be."""
    steps = np.rint(np.diff(times_s) * rows_rate_hz)
    if steps.size < MIN_STRIDE_STEPS:  # a few stray values are no slower channel (their period would be minutes)
        return rows_rate_hz
    stride = float(np.median(steps))
    if stride < 2:
        return rows_rate_hz
    # a value missing in the column makes a step of 2k, 3k...: a gap in a channel at rate/k, not another rate
    if np.mean(steps % stride == 0) >= STRIDE_SHARE:
        return rows_rate_hz / stride
    if np.mean(steps == 1) >= 1 - STRIDE_SHARE:  # values in adjacent rows: the rows' rate, many values missing
        return rows_rate_hz
    return sample_rate_hz(np.diff(times_s))


def _check_rate_against_timestamps(source: Path, times_s: np.ndarray, rate_hz: float) -> None:
    if times_s.size < 3:
        return
    measured_hz = sample_rate_hz(np.diff(times_s))
    if abs(measured_hz - rate_hz) > 0.05 * rate_hz:
        raise InputError(source, f"sample rate {rate_hz:g} Hz does not match the timestamps ({measured_hz:.3g} Hz)")


def _seconds_of_cells(cells: list[str], first_line: int, seconds: Callable[[str, int], float]) -> np.ndarray:
    """The number ``seconds`` makes of each cell that holds text (given the text and its line; the first cell on
    file line ``first_line``); an empty cell, a missing time, is NaN, said by the reader as any other's."""
    values = np.full(len(cells), np.nan)
    for index, cell in enumerate(cells):
        if cell.strip():
            values[index] = seconds(cell.strip(), first_line + index)
    return values


def _elapsed_seconds(path: Path, table: CsvTable, cells: list[str]) -> np.ndarray:
    """The elapsed times (H:MM:SS) of the table's elapsed column in seconds, one that is none refused naming its
    line and column."""
    def seconds(text: str, number: int) -> float:
        try:
            return elapsed_s(text)
        except ValueError as error:
            raise CellError(path, f"line {number}: {error} in column '{table.names[table.elapsed_column]}'"
                            ) from None

    return _seconds_of_cells(cells, table.first_line, seconds)


def _iso_times_as_unix(path: Path, table: CsvTable, cells: list[str], utc_offset_s: float | None,
                       start_alone: bool = False) -> tuple[np.ndarray | None, bool]:
    """The time cells, where they are ISO 8601 dates and times with their UTC offset
    ('2026-12-05T10:00:00.250+01:00', 'Z' for UTC: what spreadsheets, pandas and many wearables' exports write),
    in UNIX seconds; None where they are numbers. Also whether the times were local ones without an offset, read
    at ``utc_offset_s``; without it they are refused, or, where they give the start alone (``start_alone``: the
    times rows were received, beside a clock of the rows' own), NaN: the rows are read without a start."""
    first = next((cell for cell in cells if cell.strip()), "")
    if not first or reads_as_number(first):  # numbers, or no time at all: the reader says what is wrong with them
        return None, False
    zones: set[bool] = set()  # whether each time said its own offset
    # the last time read and its instant: the rows of one notification, which a logger stamps alike, come one after
    # another, so a time written again is read once, and no more than one is held (a distinct time a row would be)
    last: list[str | float] = ["", math.nan]

    def unix_s(text: str, number: int) -> float:
        if text != last[0]:
            last[:] = [text, _unix_s(text, number)]
        return float(last[1])

    def _unix_s(text: str, number: int) -> float:
        instant = _iso_instant(path, text, number)
        zones.add(instant.tzinfo is not None)
        if len(zones) > 1:  # said before a missing offset: stating one would not read such a file
            raise CellError(path, f"line {number}: {text[:40]!r} mixes times with and without a UTC offset: one "
                                  "clock writes one form")
        if instant.tzinfo is None and utc_offset_s is None and start_alone:
            return math.nan
        if instant.tzinfo is None and utc_offset_s is None:
            raise CellError(path, f"line {number}: {text[:40]!r} has no UTC offset; write the times with theirs "
                            "('+01:00', 'Z' for UTC) or as UNIX seconds, or give the offset of the clock that wrote "
                            "them (--utc-offset / --physio-utc-offset +01:00)")
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=timezone(timedelta(seconds=utc_offset_s)))
        return instant.timestamp()

    unix = _seconds_of_cells(cells, table.first_line, unix_s)
    return unix, zones == {False}


def _iso_instant(path: Path, text: str, number: int) -> datetime:
    """An ISO 8601 time, with its UTC offset if it has one (naive if not: the instant it means then depends on a
    time zone the file does not say, and a guess would shift it against the video by hours)."""
    if reads_as_number(text):  # the first time was an ISO one
        raise CellError(path, f"line {number}: {text[:40]!r} is a number among ISO 8601 times: one clock writes "
                              "one form")
    try:
        return parse_iso_time(text)
    except ValueError:
        raise CellError(path, f"line {number}: {text[:40]!r} is neither UNIX seconds nor an ISO 8601 time") from None


def refuse_options(source: str | Path, why: str, start_unix_s: float | None, rate_hz: float | None,
                   utc_offset_s: float | None = None) -> None:
    """The one refusal of options a recording would not use (``why`` says why), naming those given."""
    given = [flag for flag, value in (("--start-unix", start_unix_s), ("--rate-hz", rate_hz),
                                      ("the UTC offset", utc_offset_s)) if value is not None]
    if given:
        pronoun = "them" if len(given) > 1 else "it"
        raise InputError(source, f"{why}, so {' and '.join(given)} would not be used: leave {pronoun} out")
