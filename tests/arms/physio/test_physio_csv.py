"""The generic CSV reader: time columns in every form wearables and spreadsheets write, channels at their own rates,
missing samples kept in place, and one line naming the line of any problem."""

from __future__ import annotations

import codecs
import csv
import logging
import math
import sys
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from runtime.arms.physio.features import process_recording
from runtime.arms.physio.readers import csv_file as csv_reader
from runtime.arms.physio.readers import read_recording
from runtime.arms.physio.readers import text as text_reader
from runtime.arms.physio.readers.csv_file import read_csv
from runtime.arms.physio.readers.e4 import read_e4
from runtime.arms.physio.readers.layouts import CsvTable
from runtime.arms.physio.readers.text import parse_utc_offset_s
from runtime.arms.physio.recording import MAX_JUMP_S
from runtime.errors import InputError
from tests.memory import peak_traced_bytes
from tests.physio_factory import START_UNIX_S, write_e4, write_timestamped_csv


def _csv_of(path: Path, times: list[str]) -> Path:
    path.write_text("timestamp,eda\n" + "".join(f"{t},{1 + i / 100}\n" for i, t in enumerate(times)))
    return path


def test_csv_nan_run_is_recorded_as_a_gap_and_not_filled(tmp_path):
    times = 1_700_000_000.0 + np.arange(0, 60, 0.25)
    eda = np.linspace(1.0, 2.0, times.size)
    eda[40:80] = np.nan  # 10 s missing
    path = tmp_path / "rec.csv"
    rows = ["timestamp,eda"] + [
        f"{t:.2f},{'' if np.isnan(v) else f'{v:.4f}'}" for t, v in zip(times, eda, strict=False)
    ]
    path.write_text("\n".join(rows) + "\n")
    recording = read_csv(path)
    channel = recording.channels["eda"]
    assert recording.start_unix_s == pytest.approx(times[0], abs=1e-3)
    assert channel.gaps == [(pytest.approx(10.0), pytest.approx(20.0))]
    assert channel.values.size == times.size - 40  # nothing invented inside the gap
    assert not np.isnan(channel.values).any()


def test_csv_timestamps_running_backwards_are_an_error(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("time_s,hr\n0,70\n1,71\n2,72\n1.5,73\n1.7,74\n5,75\n")  # 3 of its 6 rows unplaced: no local fault
    with pytest.raises(InputError, match=r"timestamps do not increase at line 5 \(2.0 then 1.5\): 3 of its 6 rows"):
        read_csv(path)


RATE_HZ = 64.0


def _stamped_csv(path: Path, stamps: np.ndarray, column: str = "timestamp") -> Path:
    """A 64 Hz pulse wave and EDA on the time column ``column`` holding ``stamps`` as written; row i's EDA is
    2 + i / 10000, so that the rows read tell which rows they were."""
    rows = [f"{t!r},{math.sin(i / 10):.4f},{2 + i / 10000:.4f}" for i, t in enumerate(stamps.tolist())]
    path.write_text(f"{column},bvp,eda\n" + "\n".join(rows) + "\n")
    return path


def _even_stamps(rows: int = 1920, column: str = "timestamp") -> np.ndarray:
    """Row i's stamp at 64 Hz, in the column's unit: UNIX seconds, or ms from 0 for time_ms."""
    return START_UNIX_S + np.arange(rows) / RATE_HZ if column == "timestamp" else np.arange(rows) * 1000 / RATE_HZ


def _rows_read(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The rows read (by their EDA) and the seconds each is placed at."""
    eda = read_csv(path).channels["eda"]
    return np.rint((eda.values - 2) * 10000).astype(int), eda.times_s


def _order_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "does not increase" in r.getMessage()]


@pytest.mark.parametrize("fault", ["repeated", "swapped"])
def test_a_repeated_or_swapped_stamp_costs_its_two_rows_alone_said_in_one_line(tmp_path, caplog, fault):
    stamps = _even_stamps()
    if fault == "repeated":
        stamps[1000] = stamps[999]
    else:
        stamps[[999, 1000]] = stamps[[1000, 999]]
    path = _stamped_csv(tmp_path / "rec.csv", stamps)
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        recording = read_csv(path)  # was: refused, 'timestamps do not increase at line 1002'
    eda = recording.channels["eda"]
    rows = np.rint((eda.values - 2) * 10000).astype(int)
    # which of the two stamps was wrong no stamp tells: both rows left out, none moved to another's place
    assert sorted(set(range(stamps.size)) - set(rows.tolist())) == [999, 1000]
    np.testing.assert_allclose(eda.times_s, rows / RATE_HZ, atol=1e-6)  # every other row at its own stamp
    gaps = recording.channels["bvp"].gaps
    assert any(a <= 999 / RATE_HZ and b >= 1001 / RATE_HZ for a, b in gaps)  # their stretch a gap
    said = _order_warnings(caplog)
    assert len(said) == 1 and str(path) in said[0] and "lines 1001-1002" in said[0] and "left out" in said[0]


@pytest.mark.parametrize("column", ["timestamp", "time_ms"])
def test_a_small_step_back_costs_the_stretch_both_clocks_claim(tmp_path, caplog, column):
    stamps = _even_stamps(column=column)
    per_s = 1.0 if column == "timestamp" else 1000.0
    stamps[1000:] -= 0.5 * per_s  # the clock set back by half a second, running on from there
    path = _stamped_csv(tmp_path / "rec.csv", stamps, column)
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        rows, times_s = _rows_read(path)
    # the 32 rows before the step stamped after its first, and the 32 after it stamped before its last
    assert sorted(set(range(stamps.size)) - set(rows.tolist())) == list(range(968, 1032))
    np.testing.assert_allclose(times_s * per_s, stamps[rows] - stamps[0], atol=1e-6)  # each row at its own stamp
    said = _order_warnings(caplog)
    step_s = 0.5 - 1 / RATE_HZ  # from the last row before the step to the first after it
    assert len(said) == 1 and "lines 970-1033" in said[0] and f"a step back of up to {step_s:.3g} s" in said[0]


@pytest.mark.parametrize(("row", "off_s"), [(1000, 3600.0), (1000, -3600.0), (0, 3600.0), (1919, -3600.0)])
def test_a_stamp_far_off_alone_costs_its_row_alone(tmp_path, caplog, row, off_s):
    stamps = _even_stamps()
    stamps[row] += off_s  # a corrupt stamp: the rows around it run on
    path = _stamped_csv(tmp_path / "rec.csv", stamps)
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        rows, times_s = _rows_read(path)
    assert sorted(set(range(stamps.size)) - set(rows.tolist())) == [row]
    np.testing.assert_allclose(times_s, (rows - rows[0]) / RATE_HZ, atol=1e-6)
    assert f"line {row + 2}" in _order_warnings(caplog)[0]


@pytest.mark.parametrize(("place", "off_s"), [("inside", 3600.0), ("inside", -3600.0), ("first rows", 3600.0),
                                             ("before the last two", 3600.0), ("last rows", -3600.0)])
@pytest.mark.parametrize("run_rows", [2, text_reader.MAX_STRAY_ROWS])
def test_a_short_run_of_stamps_far_off_costs_its_rows_alone(tmp_path, caplog, place, off_s, run_rows):
    stamps = _even_stamps()
    first = {"inside": 1000, "first rows": 0, "before the last two": stamps.size - 2 - run_rows,
             "last rows": stamps.size - run_rows}[place]
    stamps[first:first + run_rows] += off_s  # a few corrupt stamps, the clock after them back where it was
    path = _stamped_csv(tmp_path / "rec.csv", stamps)
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        rows, times_s = _rows_read(path)  # was: 'steps back by 3.6e+03 s ... the rows after it follow it'
    assert sorted(set(range(stamps.size)) - set(rows.tolist())) == list(range(first, first + run_rows))
    np.testing.assert_allclose(times_s, (rows - rows[0]) / RATE_HZ, atol=1e-6)
    assert f"lines {first + 2}-{first + run_rows + 1} cannot be placed" in _order_warnings(caplog)[0]


@pytest.mark.parametrize("first", [0, 1000, 1918])
def test_rows_swapped_across_a_gap_are_both_left_out_not_one_taken_for_a_stray(tmp_path, caplog, first):
    stamps = _even_stamps()
    stamps[first + 1:] += 2.0  # a 2 s gap after row `first`, then the rows on each side of it swapped
    stamps[[first, first + 1]] = stamps[[first + 1, first]]
    path = _stamped_csv(tmp_path / "rec.csv", stamps)
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        rows, times_s = _rows_read(path)
    # which stamp was wrong no stamp tells, as of a small swap: was, at the file's ends, one row left out as a
    # stray and the other read at its stamp, which may be the wrong one
    assert sorted(set(range(stamps.size)) - set(rows.tolist())) == [first, first + 1]
    np.testing.assert_allclose(times_s, stamps[rows] - stamps[rows[0]], atol=1e-6)
    said = _order_warnings(caplog)
    assert len(said) == 1 and f"lines {first + 2}-{first + 3} cannot be placed" in said[0]
    assert "2 rows swapped over 1 s apart" in said[0] and "off the rows around" not in said[0]


@pytest.mark.parametrize(("row", "stamp"), [(1, 0.0), (1, START_UNIX_S - 3600.0), (-2, 4e9),
                                            (-2, START_UNIX_S + 3600.0)])
def test_a_stamp_far_off_beside_an_end_is_a_stray_not_rows_swapped(tmp_path, caplog, row, stamp):
    # was: '2 rows swapped', the good row beside it left out too; no row beyond the end confirms a swap, and the
    # row beside it sits two periods from the row on its other side (the stray's own row between), not one
    stamps = _even_stamps()
    row %= stamps.size
    stamps[row] = stamp  # a zeroed stamp, a year 2096 one, an hour off
    path = _stamped_csv(tmp_path / "rec.csv", stamps)
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        rows, times_s = _rows_read(path)
    assert sorted(set(range(stamps.size)) - set(rows.tolist())) == [row]
    np.testing.assert_allclose(times_s, (rows - rows[0]) / RATE_HZ, atol=1e-6)
    said = _order_warnings(caplog)
    assert len(said) == 1 and "1 stamp(s) over 1 s off the rows around" in said[0] and "swapped" not in said[0]


@pytest.mark.parametrize(("at", "stamp"), [(1, 0.0), (-1, 4e9)])
def test_a_row_stamped_further_off_than_a_clock_may_jump_is_no_swap(tmp_path, caplog, at, stamp):
    # a row inserted beside an end with a stamp a swap would put more than MAX_JUMP_S from its partner: was
    # '2 rows swapped' (a 'gap' of decades), the good row beside it left out too
    stamps = _even_stamps()
    at %= stamps.size
    stamps = np.insert(stamps, at, stamp)
    path = _stamped_csv(tmp_path / "rec.csv", stamps)
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        rows, _ = _rows_read(path)
    assert sorted(set(range(stamps.size)) - set(rows.tolist())) == [at]
    said = _order_warnings(caplog)
    assert len(said) == 1 and "1 stamp(s) over 1 s off the rows around" in said[0] and "swapped" not in said[0]


@pytest.mark.parametrize("end", ["first", "last"])
@pytest.mark.parametrize("gap_h", [23.5, 25.0])
def test_a_swap_judged_at_the_file_s_end_is_one_only_across_a_gap_the_clock_may_jump(tmp_path, caplog, end, gap_h):
    # the file's end pass judges a swap whose row to swap with lies beside another fault, which hides it from the
    # rows around: stamps `A, P, B, Q, C...`, in order `P, Q` (1 s apart), a gap, `B, A, C...`. Across a gap of up to
    # MAX_JUMP_S the four rows are left out; across more, A is a stray and P stays: a jump, refused
    jump_s = 3600.0 * gap_h
    stamps = np.concatenate([[jump_s, 0.0, jump_s - 0.5, 1.0], jump_s + np.arange(1, 1921) / RATE_HZ])
    if end == "last":  # the same stamps backwards in time, at the file's end
        stamps = stamps.max() - stamps[::-1]
    stamps += START_UNIX_S
    path = _stamped_csv(tmp_path / "rec.csv", stamps)
    if gap_h * 3600.0 > MAX_JUMP_S:
        with pytest.raises(InputError, match=r"the time jumps by \d+ s .* more than 24 h: not one recording"):
            read_csv(path)
        return
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        rows, _ = _rows_read(path)
    left_out = [0, 1, 2, 3] if end == "first" else [stamps.size - 4, stamps.size - 3, stamps.size - 2, stamps.size - 1]
    assert sorted(set(range(stamps.size)) - set(rows.tolist())) == left_out
    assert "4 rows swapped" in _order_warnings(caplog)[0]


def test_a_run_of_stamps_far_off_longer_than_a_few_rows_is_refused(tmp_path):
    stamps = _even_stamps()
    stamps[1000:1001 + text_reader.MAX_STRAY_ROWS] += 3600.0
    path = _stamped_csv(tmp_path / "rec.csv", stamps)
    with pytest.raises(InputError, match=rf"line {1003 + text_reader.MAX_STRAY_ROWS}: column 'timestamp' steps "
                                         r"back by 3.6e\+03 s"):
        read_csv(path)


def _short_log(path: Path, stamps_s: list[float], column: str = "time_s") -> Path:
    """A heart rate log on ``stamps_s`` (in ``column``), row i's heart rate 70 + i, so that the rows read tell which
    rows they were."""
    path.write_text(f"{column},hr\n" + "".join(f"{t},{70 + i}\n" for i, t in enumerate(stamps_s)))
    return path


@pytest.mark.parametrize(("stamps_s", "left_out"), [
    ([0, 1, 2, 100, 4, 5, 6, 7], [3]),  # a stray stamp inside
    ([100, 1, 2, 3, 4], [0]),  # a stray first row, judged against the rows left, not the other end
    ([1, 2, 3, 4, -100], [4]),  # a stray last row, alike
    ([0, 1, 3, 2, 4, 5, 6, 7], [2, 3]),  # a swapped pair
    ([0, 1, 2, 2, 4, 5, 6, 7], [2, 3]),  # a repeated stamp, the two rows' values apart
])
def test_a_short_log_loses_a_local_fault_s_rows_not_the_file(tmp_path, caplog, stamps_s, left_out):
    # was refused, one row of ten or fewer being a tenth of the rows ('1 of its 8 rows (12.5 %) cannot be placed,
    # 10 % or more'); before that, at the ends, every row unplaced (the runs at either end judged each other)
    path = _short_log(tmp_path / "short.csv", stamps_s)
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        hr = read_csv(path).channels["hr"]
    rows = np.rint(hr.values - 70).astype(int)
    assert sorted(set(range(len(stamps_s))) - set(rows.tolist())) == left_out
    said = _order_warnings(caplog)
    assert len(said) == 1 and "left out" in said[0]


@pytest.mark.parametrize(("stamps_s", "column", "refused"), [
    ([100, 101, 1, 2], "time_s", r"line 4: column 'time_s' steps back by 100 s"),  # two halves: neither is the stray
    ([0, 1, 3, 2, 5, 4, 6, 7], "time_s",
     r"line 5 \(3.0 then 2.0\): 4 of its 8 rows \(50 %\) cannot be placed, 10 % or more:"),  # two swaps
    # two rows, the second stamped under 1 s before the first: neither can be placed, no row is left to read (was
    # let through as one local fault, an internal IndexError on no rows)
    ([0.5, 0.2], "time_s",
     r"line 3 \(0.5 then 0.2\): 2 of its 2 rows \(100 %\) cannot be placed, fewer than two left:"),
    ([1_700_000_000.5, 1_700_000_000.2], "timestamp",
     r"line 3 \(1700000000.5 then 1700000000.2\): 2 of its 2 rows \(100 %\) cannot be placed"),
    # one row left in order of three: no clock to read it on
    ([0, 2, 1], "time_s",
     r"line 4 \(2.0 then 1.0\): 2 of its 3 rows \(66.7 %\) cannot be placed, fewer than two left:"),
])
def test_a_short_log_beyond_one_local_fault_is_refused(tmp_path, stamps_s, column, refused):
    with pytest.raises(InputError, match=refused):
        read_csv(_short_log(tmp_path / "short.csv", stamps_s, column))


def test_rows_that_cannot_be_placed_are_counted_among_the_rows_that_are_no_copies(tmp_path):
    path = tmp_path / "batched.csv"
    path.write_text("time_s,eda\n" + "".join(f"0,{value}\n" for value in (1, 1, 2, 3, 3, 4)))  # one stamp throughout
    # was: '4 of its 6 rows (66.7 %)', the two copies counted in the whole but not among the unplaced
    with pytest.raises(InputError, match=r": of its 6 rows, 2 copy the row before them and 4 of the other 4 \(100 %\) "
                                         "cannot be placed, fewer than two left:"):
        read_csv(path)


@pytest.mark.parametrize("copies", [2, 3])
def test_a_log_of_one_row_written_again_and_again_is_refused_as_one_row(tmp_path, copies):
    # was: '0 of its 2 rows (0 %) cannot be placed, fewer than two left: ... two streams in one file?'
    path = tmp_path / "short.csv"
    path.write_text("time_s,hr\n" + "0,70\n" * copies)
    with pytest.raises(InputError, match=rf"line 3 \(0.0 then 0.0\): the file holds one row, written {copies} "
                                         r"times: fewer than two rows to read a clock on$"):
        read_csv(path)


@pytest.mark.parametrize("column", ["timestamp", "time_ms"])
def test_a_clock_that_steps_back_far_and_runs_on_is_refused_as_two_recordings(tmp_path, column):
    stamps = _even_stamps(column=column)
    stamps[1000:] -= 10.0 * (1.0 if column == "timestamp" else 1000.0)  # a second recording joined on
    path = _stamped_csv(tmp_path / "rec.csv", stamps, column)
    with pytest.raises(InputError, match=r"line 1002: column '\w+' steps back by 9.98 s .* more than 1 s"):
        read_csv(path)


def _slow_log(path: Path, stamps: np.ndarray) -> Path:
    """A heart rate log on ``stamps``, row i's heart rate 60 + i % 200, so that the rows read tell which rows they
    were."""
    path.write_text("timestamp,hr\n" + "".join(f"{t!r},{60 + i % 200}\n" for i, t in enumerate(stamps.tolist())))
    return path


@pytest.mark.parametrize(("period_s", "set_back_s", "step_s"), [(4.0, 10.0, 6), (1.0, 3.0, 2)])
def test_a_slow_logs_clock_set_back_a_few_periods_is_refused_not_read_as_stray_stamps(tmp_path, period_s,
                                                                                      set_back_s, step_s):
    # a watch's heart rate every 4 s, its clock set back 10 s at 400 s: was read, a 'stray run' left out and every
    # row after it 6 s early; a 1 Hz log's set back 3 s repeats 3 rows' stretch, which rows out of order do not
    stamps = START_UNIX_S + period_s * np.arange(203)
    stamps[100:] -= set_back_s
    path = _slow_log(tmp_path / "watch.csv", stamps)
    with pytest.raises(InputError, match=rf"line 102: column 'timestamp' steps back by {step_s} s"):
        read_csv(path)


@pytest.mark.parametrize(("period_s", "apart", "first"), [
    (1.0, 2, 100), (1.0, 4, 100), (1.0, text_reader.MAX_STRAY_ROWS + 2, 100),
    (4.0, 1, 100), (4.0, 1, 0), (4.0, 1, 198), (1.0, 3, 0), (1.0, 3, 196),  # at the file's ends too
])
def test_rows_swapped_a_few_periods_apart_in_a_slow_log_cost_their_stretch_not_the_file(tmp_path, caplog, period_s,
                                                                                        apart, first):
    # a 1 Hz log's rows 2 to 6 s apart swapped, a 4 s watch's neighbours: was refused as 'steps back by 2 s ... and
    # the rows after it follow it' (they do not: the rows after the stretch are on the clock before it), a step of
    # more than 1 s that the stray rule does not reach (5 periods): left out as a fast file's small swap is
    stamps = START_UNIX_S + period_s * np.arange(200)
    stamps[[first, first + apart]] = stamps[[first + apart, first]]
    path = _slow_log(tmp_path / "watch.csv", stamps)
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        hr = read_csv(path).channels["hr"]
    rows = np.rint(hr.values - 60).astype(int)
    assert sorted(set(range(stamps.size)) - set(rows.tolist())) == list(range(first, first + apart + 1))
    np.testing.assert_allclose(hr.times_s, stamps[rows] - stamps[rows[0]], atol=1e-6)  # the others at their stamps
    said = _order_warnings(caplog)
    assert len(said) == 1 and f"lines {first + 2}-{first + apart + 2} cannot be placed" in said[0]
    assert f"a step back of up to {apart * period_s:g} s" in said[0] and "no clock set back" in said[0]


def test_a_row_written_twice_whole_is_read_once(tmp_path, caplog):
    path = _stamped_csv(tmp_path / "rec.csv", _even_stamps())
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join([*lines[:1001], lines[1000], *lines[1001:]]))  # row 999 (line 1001) again on line 1002
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        recording = read_csv(path)  # was: both copies left out
    eda = recording.channels["eda"]
    rows = np.rint((eda.values - 2) * 10000).astype(int)
    assert rows.tolist() == list(range(1920))  # every row once, the copy's twin among them
    assert recording.channels["bvp"].gaps == []
    said = _order_warnings(caplog)
    assert len(said) == 1 and "line 1002 repeat" in said[0] and "one copy kept" in said[0] and "gap" not in said[0]


@pytest.mark.parametrize("fault", ["inserted", "stray", "last", "first"])
def test_the_order_warning_says_a_gap_only_where_the_channels_have_one(tmp_path, caplog, fault):
    stamps = _even_stamps()
    if fault == "inserted":  # a row of other values stamped as the one before it: both left out, 2 periods apart
        stamps = np.insert(stamps, 1000, stamps[999])
    elif fault == "stray":
        stamps[1000] += 500.0
    elif fault == "last":
        stamps[-1] = stamps[-2]
    else:
        stamps[0] += 5.0
    path = _stamped_csv(tmp_path / "rec.csv", stamps)
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        recording = read_csv(path)
    said = _order_warnings(caplog)
    assert len(said) == 1 and "left out" in said[0]
    assert recording.channels["bvp"].gaps == []  # nothing missing by the readers' rule, inside or at the ends
    assert "a gap" not in said[0] and "s in all" not in said[0]  # was: '(0.0312 s in all) a gap', at ends '(0 s ...'
    if fault in ("inserted", "stray"):
        assert "no gap" in said[0]


@pytest.mark.parametrize("interleaved", [True, False])
def test_the_order_warning_judges_a_gap_at_each_channel_s_own_rate(tmp_path, caplog, interleaved):
    # rows every 0.5 s: two 1 Hz sensors' rows taking turns, or a 2 Hz heart rate with a 1 Hz EDA on every other row
    times_s = 0.5 * np.arange(120)
    order = list(range(120))
    order[60], order[61] = 61, 60  # a small swap: both rows left out, the rows around them 1.5 s apart
    rows = [f"{times_s[i]},{'' if interleaved and i % 2 else 70 + i % 3},{'' if i % 2 == 0 else 2 + i / 1000}"
            for i in order]
    path = tmp_path / "rec.csv"
    path.write_text("time_s,hr,eda\n" + "\n".join(rows) + "\n")
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        recording = read_csv(path)
    gaps = {name: channel.gaps for name, channel in recording.channels.items()}
    said = _order_warnings(caplog)
    assert len(said) == 1 and "lines 62-63 cannot be placed" in said[0]
    if interleaved:  # each sensor lost one sample, its samples around it 2 of its periods apart: no gap anywhere
        assert gaps == {"hr": [], "eda": []}
        assert "no gap" in said[0] and "a gap" not in said[0]  # was: 'their stretch (1.5 s in all) a gap'
    else:  # the 2 Hz heart rate lost two samples in a row: a gap in it, said
        assert gaps["hr"] and not gaps["eda"]
        assert "their stretch (1.5 s in all) a gap" in said[0]


def test_a_file_whose_stamps_mostly_do_not_increase_is_refused(tmp_path):
    stamps = _even_stamps()
    stamps = stamps - (stamps - stamps[0]) % (4 / RATE_HZ)  # four rows a stamp: a batch's, not each sample's
    path = _stamped_csv(tmp_path / "rec.csv", stamps)
    with pytest.raises(InputError, match=r"timestamps do not increase at line 3 .*: 1920 of its 1920 rows "
                                         r"\(100 %\) cannot be placed"):
        read_csv(path)


def test_a_gap_in_a_millisecond_time_column_is_measured_in_seconds(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("time_ms,hr\n" + "".join(f"{t_s * 1000},70\n" for t_s in [*range(30), *range(120, 150)]))
    hr = read_csv(path).channels["hr"]  # was: 'the time jumps by 91000 s ..., more than 24 h: not one recording'
    assert hr.gaps == [(pytest.approx(30.0), pytest.approx(120.0))]
    path.write_text("time_ms,hr\n0,70\n1000,70\n" + f"{1000 + 25 * 3600 * 1000},70\n")
    with pytest.raises(InputError, match=r"line 4: the time jumps by 90000 s \(1000.0 then 90001000.0\)"):
        read_csv(path)  # a day's jump is still one, its values quoted as the file writes them


@pytest.mark.parametrize("stated_hz", [32, 4.4, 3.6])  # 4 Hz stamps: 8 times, and 10 % either way
def test_csv_rate_line_that_contradicts_the_timestamps_is_an_error(tmp_path, stated_hz):
    path = tmp_path / "rec.csv"
    path.write_text(f"# rate_hz: {stated_hz}\ntime_s,eda\n" + "\n".join(f"{i * 0.25},{1.0}" for i in range(40)) + "\n")
    with pytest.raises(InputError, match=rf"sample rate {stated_hz:g} Hz does not match the timestamps \(4 Hz\)"):
        read_csv(path)


@pytest.mark.parametrize("stated_hz", [4.1, 3.9])
def test_csv_rate_line_within_a_few_percent_of_the_timestamps_is_read(tmp_path, stated_hz):
    path = tmp_path / "rec.csv"
    path.write_text(f"# rate_hz: {stated_hz}\ntime_s,eda\n" + "\n".join(f"{i * 0.25},{1.0}" for i in range(40)) + "\n")
    assert read_csv(path).channels["eda"].times_s.size == 40  # a board's clock a little off its nominal rate


def test_csv_without_time_column_takes_start_and_rate_from_its_header_lines(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text(
        "# start_unix_s: 1700000000\n# rate_hz: 4\nEDA,TEMP\n"
        + "\n".join(f"{1 + i / 100},{33.0}" for i in range(80))
        + "\n"
    )
    recording = read_csv(path)
    assert recording.start_unix_s == 1_700_000_000.0
    assert recording.channels["eda"].rate_hz == pytest.approx(4.0)
    assert recording.end_s == pytest.approx(20.0)
    assert recording.channels["temp"].unit == "degC"


@pytest.mark.parametrize("quoting", [csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC])  # as pandas and spreadsheets may write
def test_a_csv_with_quoted_names_and_numbers_reads_as_the_plain_one_does(tmp_path, quoting):
    rows = [[1_700_000_000 + i / 4, 1 + i / 100, 33.0 + (i % 3) / 10] for i in range(80)]
    paths = {}
    for name, style in (("plain", csv.QUOTE_MINIMAL), ("quoted", quoting)):
        paths[name] = tmp_path / f"{name}.csv"
        with paths[name].open("w", newline="") as handle:
            writer = csv.writer(handle, quoting=style)
            writer.writerows([["timestamp", "EDA", "TEMP"], *rows])
    plain, quoted = read_csv(paths["plain"]), read_csv(paths["quoted"])  # was: "no known channel column"
    assert quoted.start_unix_s == plain.start_unix_s == 1_700_000_000.0
    for name in ("eda", "temp"):
        assert np.array_equal(quoted.channels[name].values, plain.channels[name].values)
        assert np.array_equal(quoted.channels[name].times_s, plain.channels[name].times_s)


@pytest.mark.parametrize("offset", ["+01:00", "+05:30", "Z"])  # +05:30: a clinic in India, the minutes read too
def test_a_csv_timed_in_iso_8601_with_its_offset_reads_as_its_unix_seconds_twin(tmp_path, offset):
    from datetime import datetime, timedelta, timezone

    zone = timezone.utc if offset == "Z" else timezone(timedelta(hours=int(offset[1:3]), minutes=int(offset[4:])))
    seconds = [START_UNIX_S + i / 4 for i in range(80)]
    iso = [datetime.fromtimestamp(t, zone).isoformat(timespec="milliseconds").replace("+00:00", "Z") for t in seconds]
    assert iso[1].endswith(offset) and ".250" in iso[1]
    unix = _csv_of(tmp_path / "unix.csv", [f"{t:.3f}" for t in seconds])
    timed = _csv_of(tmp_path / "iso.csv", iso)
    expected, recording = read_csv(unix), read_csv(timed)  # was: "line 2: '2022-02-07T10:52:54.' is not a number"
    assert recording.start_unix_s == expected.start_unix_s == START_UNIX_S
    assert np.array_equal(recording.channels["eda"].times_s, expected.channels["eda"].times_s)
    assert np.array_equal(recording.channels["eda"].values, expected.channels["eda"].values)


@pytest.mark.parametrize("per_second", [1e3, 1e6, 1e9])
def test_a_csv_timed_in_unix_milli_micro_or_nanoseconds_reads_as_its_unix_seconds_twin(tmp_path, per_second):
    seconds = [START_UNIX_S + i / 4 for i in range(80)]
    expected = read_csv(_csv_of(tmp_path / "unix.csv", [f"{t:.3f}" for t in seconds]))
    recording = read_csv(_csv_of(tmp_path / "counted.csv", [str(round(t * per_second)) for t in seconds]))
    assert recording.start_unix_s == pytest.approx(START_UNIX_S, abs=1e-6)  # was: "does not hold UNIX seconds"
    assert np.allclose(recording.channels["eda"].times_s, expected.channels["eda"].times_s, atol=1e-6)
    assert recording.channels["eda"].rate_hz == pytest.approx(4.0)


@pytest.mark.parametrize(("time", "problem"), [
    # whose 22:13? Said as a mix, which no stated offset would read (was: 'has no UTC offset', and then, with
    # --utc-offset given, 'mixes')
    ("2023-11-14T22:13:20.500", r"line 3: '2023-11-14T22:13:20.500' mixes times with and without a UTC offset"),
    ("yesterday", r"line 3: 'yesterday' is neither UNIX seconds nor an ISO 8601 time"),
    ("1700000001", r"line 3: '1700000001' is a number among ISO 8601 times: one clock writes one form"),
])
def test_an_iso_time_without_its_offset_or_no_time_at_all_is_refused_naming_its_line(tmp_path, time, problem):
    with pytest.raises(InputError, match=problem):
        read_csv(_csv_of(tmp_path / "rec.csv", ["2023-11-14T22:13:20+00:00", time, "2023-11-14T22:13:21+00:00"]))


def test_local_times_without_an_offset_read_at_the_offset_stated_for_their_clock(tmp_path):
    from datetime import datetime, timedelta, timezone

    seconds = [START_UNIX_S + i / 4 for i in range(80)]
    zone = timezone(timedelta(hours=-5))
    local = [datetime.fromtimestamp(t, zone).replace(tzinfo=None).isoformat(timespec="milliseconds") for t in seconds]
    expected = read_csv(_csv_of(tmp_path / "unix.csv", [f"{t:.3f}" for t in seconds]))
    recording = read_recording(_csv_of(tmp_path / "phone.csv", local), utc_offset_s=-5 * 3600.0)
    assert recording.start_unix_s == expected.start_unix_s == START_UNIX_S  # was: refused, 'has no UTC offset'
    assert np.array_equal(recording.channels["eda"].times_s, expected.channels["eda"].times_s)


def test_local_times_without_an_offset_or_one_stated_are_refused_saying_how_to_state_it(tmp_path):
    path = _csv_of(tmp_path / "phone.csv", ["2023-11-14T22:13:20", "2023-11-14T22:13:21"])
    with pytest.raises(InputError, match=r"line 2: '2023-11-14T22:13:20' has no UTC offset; .* or give the offset "
                                         r"of the clock that wrote them \(--utc-offset / --physio-utc-offset"):
        read_recording(path)


@pytest.mark.parametrize("times", [
    [f"{START_UNIX_S + i:.0f}" for i in range(3)],  # UNIX times
    ["2023-11-14T22:13:20+01:00", "2023-11-14T22:13:21+01:00", "2023-11-14T22:13:22+01:00"],  # their own offset
])
def test_an_offset_stated_for_times_that_say_their_instant_is_refused_not_ignored(tmp_path, times):
    # one wording, as for an E4 export (was: 'so the UTC offset given would not be used')
    with pytest.raises(InputError, match=r"\(its times are UNIX times, .*\), so the UTC offset would not be used: "
                                         "leave it out"):
        read_recording(_csv_of(tmp_path / "rec.csv", times), utc_offset_s=3600.0)


def test_times_with_and_without_an_offset_in_one_file_are_refused_naming_the_line(tmp_path):
    times = ["2023-11-14T22:13:20", "2023-11-14T22:13:21", "2023-11-14T22:13:22+01:00"]
    with pytest.raises(InputError, match="line 4: '2023-11-14T22:13:22.01:00' mixes times with and without"):
        read_recording(_csv_of(tmp_path / "rec.csv", times), utc_offset_s=3600.0)


def test_a_numeric_time_column_whose_first_row_has_no_time_is_still_said_to_be_empty_there(tmp_path):
    with pytest.raises(InputError, match="line 2: column 'timestamp' is empty, not a finite time"):
        read_csv(_csv_of(tmp_path / "rec.csv", ["", f"{START_UNIX_S + 0.25}", f"{START_UNIX_S + 0.5}"]))


@pytest.mark.parametrize(("written", "readable"), [
    ("2023-11-14T22:13:20.123456789+0100", "2023-11-14T22:13:20.123456+01:00"),  # pandas' nanoseconds
    ("2023-11-14 22:13:20.25Z", "2023-11-14 22:13:20.250000+00:00"),
    ("2023-11-14T22:13:20-05", "2023-11-14T22:13:20-05:00"),
    ("2023-11-14T22:13:20+0530", "2023-11-14T22:13:20+05:30"),  # an offset's minutes kept
    ("2023-11-14T22:13:20", "2023-11-14T22:13:20"),  # no offset: left for the reader to refuse
])
def test_iso_times_are_rewritten_in_the_form_python_3_10_reads(written, readable):
    from runtime.arms.physio.readers.text import _iso_for_python

    # 3.10's fromisoformat reads 3 or 6 fraction digits and +HH:MM offsets only (the project supports 3.10)
    assert _iso_for_python(written) == readable


@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_csv_a_spreadsheet_wrote_with_semicolons_or_tabs_and_decimal_commas_reads_as_its_comma_twin(
    tmp_path, separator
):
    rows = [(START_UNIX_S + i / 4, 1 + i / 100, 33.0 + (i % 3) / 10) for i in range(80)]
    plain, local = tmp_path / "plain.csv", tmp_path / "local.csv"
    plain.write_text("timestamp,eda,temp\n" + "".join(f"{t:.2f},{e:.2f},{c:.1f}\n" for t, e, c in rows))
    local.write_text(f"sep={separator}\n" + separator.join(["timestamp", "eda", "temp"]) + "\n" + "".join(
        separator.join([f"{t:.2f}", f"{e:.2f}", f"{c:.1f}"]).replace(".", ",") + "\n" for t, e, c in rows))
    # Excel writes a first line naming the separator, and reads it back
    expected, recording = read_csv(plain), read_csv(local)  # was: "no known channel column ... separated by commas"
    assert recording.start_unix_s == expected.start_unix_s
    for name in ("eda", "temp"):
        assert np.array_equal(recording.channels[name].values, expected.channels[name].values)
        assert np.array_equal(recording.channels[name].times_s, expected.channels[name].times_s)


@pytest.mark.parametrize("cell", ['"0.3', '"0.3\n",0.4'])  # a quote left open; a quoted cell split over two lines
def test_a_quote_left_open_in_a_csv_is_refused_naming_its_line_not_run_on_into_the_lines_after(tmp_path, cell):
    path = tmp_path / "rec.csv"
    rows = [f"{1_700_000_000 + i / 4},{1 + i / 100}" for i in range(60_000)]
    rows[3] = f"{1_700_000_000 + 3 / 4},{cell}"
    path.write_text("timestamp,eda\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputError) as refused:  # was: an internal error (a field over 131072 characters)
        read_csv(path)
    assert str(refused.value).startswith(f"{path}: line 5: a quote is left open (")


@pytest.mark.parametrize("line", ["# start_unix_s = 1700000000", "# start_unix_s 1700000000",
                                  "# start_unix_ms: 1700000000000", "# Rate_Hz = 4"])
def test_a_start_or_rate_line_not_written_as_one_is_refused_not_taken_for_a_comment(tmp_path, line):
    path = tmp_path / "rec.csv"
    path.write_text(f"{line}\n# rate_hz: 4\n# a comment\neda\n" + "\n".join(["1.0"] * 40) + "\n")
    with pytest.raises(InputError) as refused:  # was: a comment, the recording silently placed elsewhere
        read_csv(path, start_unix_s=START_UNIX_S if "start" not in line else None)
    assert str(refused.value) == (f"{path}: line 1: {line!r} is no start or rate line; write '# start_unix_s: "
                                  "SECONDS' or '# rate_hz: HZ'")


def test_csv_without_time_or_rate_is_an_error(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("eda\n1\n2\n")
    with pytest.raises(InputError, match="no time column"):
        read_csv(path)


def test_csv_column_without_any_value_is_left_out_with_a_warning(tmp_path, caplog):
    path = tmp_path / "rec.csv"
    path.write_text("time_s,eda,ibi\n" + "\n".join(f"{i * 0.25},1.0," for i in range(40)) + "\n")
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        recording = read_csv(path)
    assert list(recording.channels) == ["eda"]
    assert "column(s) ibi hold fewer than two samples" in caplog.text


@pytest.mark.parametrize("time_column", [False, True])
def test_a_csv_channel_with_a_value_every_kth_row_is_read_at_its_own_rate(tmp_path, caplog, time_column):
    rows = [f"{START_UNIX_S + i / 64:.6f}," if time_column else "" for i in range(64 * 120)]
    rows = [row + f"{math.sin(i / 10):.4f}," + (f"{2 + i / 1e4:.4f}" if i % 16 == 0 else "")
            for i, row in enumerate(rows)]  # a 64 Hz pulse wave and, on every 16th row, a 4 Hz EDA
    path = tmp_path / "rec.csv"
    path.write_text(f"# start_unix_s: {START_UNIX_S}\n# rate_hz: 64\n" + ("timestamp," if time_column else "")
                    + "bvp,eda\n" + "\n".join(rows) + "\n")
    with caplog.at_level("WARNING"):
        recording = read_csv(path)
    eda = recording.channels["eda"]
    assert eda.rate_hz == 4.0 and eda.gaps == [] and eda.values.size == 480  # was: 64 Hz, 479 gaps
    assert eda.times_s[1] == pytest.approx(0.25) and recording.channels["bvp"].rate_hz == 64.0
    assert not caplog.records


@pytest.mark.parametrize("time_column", ["", "timestamp", "time_s"])
def test_a_csv_s_clock_starts_at_its_first_sample_not_at_rows_of_times_alone(tmp_path, caplog, time_column):
    first = {"": None, "timestamp": START_UNIX_S, "time_s": 0.0}[time_column]
    rows = [(f"{first + i / 4:.2f}," if time_column else "") + ("" if i < 120 else f"{2 + i / 1e3:.3f}")
            for i in range(480)]  # 30 s of rows without a value, then 90 s of EDA at 4 Hz
    path = tmp_path / "rec.csv"
    start = f"# start_unix_s: {START_UNIX_S}\n# rate_hz: 4\n" if time_column != "time_s" else ""
    path.write_text(start + (f"{time_column}," if time_column else "") + "eda\n" + "\n".join(rows) + "\n")
    with caplog.at_level("WARNING"):
        recording = read_csv(path)
    eda = recording.channels["eda"]
    assert eda.start_s == 0.0 and eda.end_s == pytest.approx(90.0)  # was: 30 s to 120 s
    if time_column != "time_s":
        # the same instants on the wall clock (abs: approx's relative 1e-6 of a UNIX time is half an hour)
        assert recording.start_unix_s == pytest.approx(START_UNIX_S + 30.0, abs=1e-3)
    assert [r.getMessage() for r in caplog.records] == [  # said: an offset places the first sample, not row
        f"{path}: its first 30 s of rows hold no value; the recording starts at its first sample (where "
        "--physio-offset places it)"]


def test_a_slow_csv_column_missing_some_of_its_values_keeps_its_own_rate_with_gaps(tmp_path):
    rows = [f"{math.sin(i / 10):.4f}," + (f"{2 + i / 1e4:.4f}" if i % 16 == 0 and i % 160 not in (80, 96) else "")
            for i in range(64 * 120)]  # a 4 Hz EDA beside a 64 Hz pulse wave, two EDA values in ten missing
    path = tmp_path / "rec.csv"
    path.write_text(f"# start_unix_s: {START_UNIX_S}\n# rate_hz: 64\nbvp,eda\n" + "\n".join(rows) + "\n")
    eda = read_csv(path).channels["eda"]
    assert eda.rate_hz == 4.0  # was: 64 Hz, a gap between every two values (the 90 % rule's cliff)
    assert eda.gaps == [(pytest.approx(t + 1.25), pytest.approx(t + 1.75)) for t in np.arange(48) * 2.5]


def test_a_few_stray_values_in_a_csv_column_are_no_slow_channel_stretching_the_recording(tmp_path):
    rows = [f"{math.sin(i / 10):.4f}," + ("33.0" if i in (0, 64 * 299) else "") for i in range(64 * 300)]
    path = tmp_path / "rec.csv"  # a 64 Hz pulse wave, and two skin temperatures five minutes apart
    path.write_text(f"# start_unix_s: {START_UNIX_S}\n# rate_hz: 64\nbvp,temp\n" + "\n".join(rows) + "\n")
    recording = read_csv(path)
    assert recording.channels["temp"].rate_hz == 64.0
    assert recording.end_s == pytest.approx(300.0, abs=0.1)  # was: about 600 s, the two read as a 0.0033 Hz channel


def test_csv_without_time_column_keeps_blank_rows_as_missing_samples_in_place(tmp_path):
    rows = [f"{1 + i / 100}" for i in range(80)]
    rows[20:30] = [""] * 10  # 2.5 s with no row at all
    path = tmp_path / "rec.csv"
    path.write_text("# start_unix_s: 1700000000\n# rate_hz: 4\neda\n" + "\n".join(rows) + "\n\n")
    eda = read_csv(path).channels["eda"]
    assert eda.times_s[-1] == pytest.approx(79 / 4)  # the rows after the blank ones keep their time
    assert eda.values.size == 70 and eda.gaps == [(pytest.approx(20 / 4), pytest.approx(30 / 4))]


@pytest.mark.parametrize(
    ("column", "last_time", "problem"),
    [
        ("timestamp", "inf", "line 42: column 'timestamp' holds inf, not a finite time"),
        ("time_s", "1e400", "line 42: column 'time_s' holds inf, not a finite time"),
        ("time_s", "", "line 42: column 'time_s' is empty, not a finite time"),
        ("timestamp", "nan", "line 42: column 'timestamp' holds 'nan', not a finite time"),  # was: 'is empty'
        ("time_s", '"NaN"', "line 42: column 'time_s' holds 'NaN', not a finite time"),
        ("timestamp", f"{START_UNIX_S + 3e7:.2f}", "line 42: the time jumps by 29999990 s .*not one recording"),
        ("timestamp", "1e12", "line 42: the time jumps by .* more than 24 h: not one recording"),
        ("timestamp", "1e308", r"line 42: the time jumps by 1e\+308 s \([\d.]+ then 1e\+308\)"),  # not 309 digits
    ],
)
def test_csv_time_that_is_not_finite_or_jumps_by_more_than_a_day_is_an_error_naming_the_line(
    tmp_path, column, last_time, problem
):
    with pytest.raises(InputError, match=problem):
        read_csv(write_timestamped_csv(tmp_path / "rec.csv", last_time, column))


def test_csv_timestamp_jump_shorter_than_a_day_stays_a_gap(tmp_path):
    recording = read_csv(write_timestamped_csv(tmp_path / "rec.csv", f"{START_UNIX_S + 3600:.2f}"))
    assert recording.channels["eda"].gaps == [(pytest.approx(10.0), pytest.approx(3600.0))]


def test_csv_without_a_known_channel_column_lists_the_columns_found_and_the_known_names(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("timestamp,foo,bar\n" + "\n".join(f"{START_UNIX_S + i},1,2" for i in range(10)) + "\n")
    with pytest.raises(InputError, match=r"no known channel column: found timestamp, foo, bar; known: bvp, ppg, eda"):
        read_csv(path)


def test_csv_unknown_column_beside_a_known_one_is_left_out_with_a_warning(tmp_path, caplog):
    path = tmp_path / "rec.csv"
    path.write_text("time_s,eda,note\n" + "\n".join(f"{i * 0.25},1.0,3" for i in range(40)) + "\n")
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        assert list(read_csv(path).channels) == ["eda"]
    assert "note" in caplog.text


def test_csv_times_in_whole_milliseconds_keep_the_true_rate(tmp_path):
    path = tmp_path / "rec.csv"
    rows = [f"{START_UNIX_S + i / 64:.3f},{math.sin(i / 10):.4f}" for i in range(64 * 60)]  # 15 or 16 ms apart
    path.write_text("timestamp,bvp\n" + "\n".join(rows) + "\n")
    assert read_csv(path).channels["bvp"].rate_hz == pytest.approx(64, rel=1e-3)  # the median step says 62.5


def test_csv_with_a_byte_order_mark_finds_its_time_column(tmp_path):
    path = tmp_path / "rec.csv"
    text = "timestamp,eda\n" + "\n".join(f"{START_UNIX_S + i * 0.25:.2f},1.0" for i in range(40)) + "\n"
    path.write_bytes(text.encode("utf-8-sig"))  # as Excel writes "CSV UTF-8"
    recording = read_csv(path)
    assert recording.start_unix_s == pytest.approx(START_UNIX_S, abs=1e-3)
    assert recording.channels["eda"].end_s == pytest.approx(10.0)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_csv_saved_as_utf16_with_its_mark_reads_as_its_utf8_twin(tmp_path, encoding):
    text = "timestamp,eda\n" + "\n".join(f"{START_UNIX_S + i * 0.25:.2f},{i / 40:.3f}" for i in range(40)) + "\n"
    (tmp_path / "utf8.csv").write_text(text)
    mark = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(encoding, b"")
    (tmp_path / "utf16.csv").write_bytes(mark + text.encode(encoding))  # a spreadsheet's "Unicode text"
    wide, narrow = read_csv(tmp_path / "utf16.csv"), read_csv(tmp_path / "utf8.csv")  # was: "not a text file"
    assert np.array_equal(wide.channels["eda"].values, narrow.channels["eda"].values)
    assert wide.start_unix_s == narrow.start_unix_s


@pytest.mark.parametrize("nuls", [0, 64])  # a tail of NULs too: no logger's cut-off said of it
def test_csv_in_another_encoding_is_said_to_be_not_utf8_naming_the_byte(tmp_path, caplog, nuls):
    path = tmp_path / "rec.csv"
    path.write_bytes("timestamp,eda µS\n".encode("latin-1") + b"\x00" * nuls)
    with pytest.raises(InputError) as refused:  # was: "not a text file", for a text file
        read_csv(path)
    assert str(refused.value) == (f"{path}: not UTF-8 text (byte 14 cannot be read as UTF-8): save it as UTF-8 if "
                                  "it is a CSV")
    assert caplog.text == ""  # was: 'ends in 64 NUL bytes ... a logger cut off? Read the text before them', then this


def test_csv_where_no_column_has_two_samples_is_one_error_naming_them(tmp_path, caplog):
    path = tmp_path / "rec.csv"
    path.write_text("time_s,eda,temp\n0.0,1.0,33.0\n")
    with caplog.at_level("WARNING", logger="emotrace.physio"), pytest.raises(InputError, match=r"\(eda, temp\)"):
        read_csv(path)
    assert not caplog.records  # the error says it all, no warning lines before it


def test_an_accelerometer_of_readings_no_body_gives_says_why_it_has_no_samples(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("time_s,acc_x,acc_y,acc_z\n" + "".join(f"{t},1e300,1e300,1e300\n" for t in range(5)))
    # was: "no signal column with at least two samples (acc_x, acc_y, acc_z)", the reason left out
    with pytest.raises(InputError, match=r"acc_x, acc_y, acc_z: 15 acceleration reading\(s\) outside -16\.\.16 g"):
        read_csv(path)


@pytest.mark.parametrize(
    ("options", "problem"),
    [({"rate_hz": 8.0}, "'# rate_hz' line says 4, --rate-hz says 8"),
     ({"start_unix_s": 1_600_000_000.0}, "'# start_unix_s' line says 1700000000, --start-unix says 1600000000")],
)
def test_an_option_that_contradicts_the_csv_s_own_line_is_refused(tmp_path, options, problem):
    path = tmp_path / "rec.csv"
    path.write_text("# start_unix_s: 1700000000\n# rate_hz: 4\neda\n" + "\n".join("1.0" for _ in range(80)) + "\n")
    with pytest.raises(InputError, match=problem):
        read_recording(path, **options)
    assert read_recording(path, rate_hz=4.0).end_s == pytest.approx(20.0)  # agreeing with it is no conflict


def test_beat_intervals_in_milliseconds_are_named_as_such(tmp_path, caplog):
    path = tmp_path / "strap.csv"
    path.write_text("time_s,ibi,eda\n" + "".join(f"{i * 0.8:.2f},800,{2 + i % 7 / 10}\n" for i in range(500)))
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        read_csv(path)
    assert "500 inter-beat interval(s) outside 0.2..3 s (e.g. 800.0)" in caplog.text
    assert caplog.text.count("(in milliseconds? name the column rr_ms)") == 1  # was: said again as the column left
    assert f"{path}: column(s) ibi hold fewer than two samples; read without them" in caplog.text


@pytest.mark.parametrize("column", ["rr_ms", "ibi_ms"])
def test_beat_intervals_in_a_milliseconds_column_read_as_the_seconds_they_are(tmp_path, column):
    rows = [(i * 0.8, 800 + 10 * (i % 3), 2 + i % 7 / 10) for i in range(500)]
    in_ms, in_s = tmp_path / "ms.csv", tmp_path / "s.csv"
    in_ms.write_text(f"time_s,{column},eda\n" + "".join(f"{t:.2f},{ms},{e}\n" for t, ms, e in rows))
    in_s.write_text("time_s,ibi,eda\n" + "".join(f"{t:.2f},{ms / 1000},{e}\n" for t, ms, e in rows))
    beats, expected = read_csv(in_ms).channels["ibi"], read_csv(in_s).channels["ibi"]
    assert beats.unit == "s" and np.allclose(beats.values, expected.values)  # was: no known channel column


@pytest.mark.parametrize("rows", ["one impossible", "all but one missing"])
def test_an_accelerometer_no_wrist_could_give_is_missing_without_numpy_s_words(tmp_path, caplog, rows):
    import warnings

    from runtime.arms.physio.features import recording_features

    folder = write_e4(tmp_path / "S99", duration_s=300.0)
    lines = (folder / "ACC.csv").read_text().splitlines()
    if rows == "one impossible":
        lines[2 + 100] = "1e308,-1e308,5"  # a corrupt row
    else:
        lines[3:] = ["nan,nan,nan"] * (len(lines) - 3)
    (folder / "ACC.csv").write_text("\n".join(lines) + "\n")
    with caplog.at_level("WARNING"), warnings.catch_warnings():
        # was: numpy's overflow and empty-slice lines on stderr (neurokit2's own lines are the features' to ignore)
        warnings.filterwarnings("error", category=RuntimeWarning, module="numpy|runtime")
        windows = recording_features(read_e4(folder), 30.0, 30.0)
    assert all(math.isfinite(w.measurements["acc_magnitude_mean_g"]) == (rows == "one impossible") for w in windows)
    if rows == "one impossible":  # write_e4's pulse wave is noise: its line of no clean beats is beside the point
        assert [r.getMessage() for r in caplog.records if ": bvp: " not in r.getMessage()] == [  # 1e308 in 1/64 g
            f"{folder}/ACC.csv: 2 acceleration reading(s) outside -16..16 g (e.g. 1.5625e+306) are no body's; read "
            "without them"]


def test_two_csv_lines_giving_different_rates_or_starts_are_refused(tmp_path):
    for key, first, second in (("rate_hz", 4, 8), ("start_unix_s", START_UNIX_S, START_UNIX_S + 60)):
        path = tmp_path / f"{key}.csv"
        path.write_text(f"# {key}: {first}\n# {key}: {second}\n# rate_hz: 4\neda\n" + "2.0\n" * 400)
        with pytest.raises(InputError, match=f"line 2: a second '# {key}' line says"):
            read_csv(path, rate_hz=None)
    same = tmp_path / "same.csv"
    same.write_text("# rate_hz: 4\n# rate_hz: 4.0\neda\n" + "2.0\n" * 400)
    assert read_csv(same).channels["eda"].rate_hz == 4.0


def test_a_start_line_that_contradicts_the_timestamps_is_refused(tmp_path):
    path = tmp_path / "rec.csv"
    rows = "".join(f"{START_UNIX_S + 574 + i / 4},2.0\n" for i in range(400))
    path.write_text(f"# start_unix_s: {START_UNIX_S}\ntimestamp,eda\n" + rows)
    with pytest.raises(InputError, match=r"'# start_unix_s' line says .*, its first 'timestamp'"):
        read_csv(path)
    path.write_text(f"# start_unix_s: {START_UNIX_S + 572}\ntimestamp,eda\n" + rows)  # a sensor warming up
    assert read_csv(path).start_unix_s == START_UNIX_S + 574


def test_relative_times_start_at_the_start_line_whatever_their_origin(tmp_path):
    # a guard of the contract kept (a change that counted from the line's instant moved such files): passes on the
    # code before it as well
    path = tmp_path / "rec.csv"
    rows = "".join(f"{5231 + i / 4},2.0\n" for i in range(400))  # a device's uptime
    path.write_text(f"# start_unix_s: {START_UNIX_S}\ntime_s,eda\n" + rows)
    recording = read_csv(path)
    assert recording.start_unix_s == START_UNIX_S and recording.channels["eda"].start_s == 0.0


def test_a_start_line_that_is_no_unix_time_is_refused_beside_a_timestamp_column(tmp_path):
    path = tmp_path / "rec.csv"
    rows = "".join(f"{START_UNIX_S + i},2.0\n" for i in range(30))
    path.write_text("# start_unix_s: nan\ntimestamp,eda\n" + rows)  # accepted silently before
    with pytest.raises(InputError, match=r"'# start_unix_s' line nan is not a UNIX start time"):
        read_csv(path)


def test_a_given_start_of_0_is_refused_naming_the_years_a_start_may_lie_between(tmp_path, capsys):
    from runtime.cli import main

    path = tmp_path / "rec.csv"
    path.write_text("eda\n" + "2.0\n" * 400)
    # was: '--start-unix 0.0 is not a UNIX start time', though 0 is one (1970): the rule's range unsaid
    assert main(["physio", "classify", str(path), "--rate-hz", "4", "--start-unix", "0", "--csv",
                 str(tmp_path / "out.csv")]) == 2
    assert capsys.readouterr().err == (f"emotrace: error: {path}: --start-unix 0.0 is not a UNIX start time between "
                                       "2000 and 2100 (seconds since 1970)\n")


def test_a_timestamp_column_before_2000_is_refused_naming_the_years_a_stamp_may_lie_between(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("timestamp,eda\n" + "".join(f"{940_000_000 + i},2.0\n" for i in range(30)))  # 1999: UNIX seconds
    # was: 'does not hold UNIX seconds (940000000.0)', though those are UNIX seconds
    with pytest.raises(InputError, match=r"column 'timestamp' does not hold UNIX seconds between 2000 and 2100 "
                                         r"\(940000000\.0\)$"):
        read_csv(path)


def test_intervals_in_milliseconds_are_named_in_the_one_error_line_when_nothing_else_is_left(tmp_path):
    path = tmp_path / "beats.csv"
    path.write_text("time_s,ibi\n" + "".join(f"{0.8 * i:.1f},{800 + i % 50}\n" for i in range(300)))
    with pytest.raises(InputError, match=r"ibi: 300 inter-beat interval\(s\) outside 0\.2\.\.3 s .*in milliseconds"):
        read_csv(path)


def test_csv_accelerometer_axes_make_one_channel_also_with_a_cell_missing(tmp_path):
    path = tmp_path / "rec.csv"
    rows = [f"{i / 32},{0.0},{'' if i == 50 else 0.0},{1.0},{2.0}" for i in range(320)]
    path.write_text("time_s,acc_x,acc_y,acc_z,eda\n" + "\n".join(rows) + "\n")
    recording = read_csv(path)
    assert sorted(recording.channels) == ["acc", "eda"]
    acc = recording.channels["acc"]
    assert acc.values.shape == (319, 3) and acc.unit == "g"


RR_MS = [812, 798, 830, 845, 790, 805, 822, 780, 815, 840, 799, 808]


def test_a_strap_logger_s_rr_export_places_each_beat_one_interval_after_the_last(tmp_path, caplog):
    path = tmp_path / "Polar_H10_RR.txt"  # Polar Sensor Logger: phone time without a time zone, semicolons
    path.write_text("Phone timestamp;RR-interval [ms]\n" + "".join(
        f"2025-03-15T09:00:{i:02d}.000;{rr}\n" for i, rr in enumerate(RR_MS)))
    ibi = read_recording(path).channels["ibi"]  # was: no known channel column
    assert ibi.values.tolist() == pytest.approx([rr / 1000 for rr in RR_MS])
    assert ibi.times_s[:4].tolist() == pytest.approx([0.0, 0.798, 1.628, 2.473])  # each beat one interval on
    # its stamps, local times with no offset stated, give no start: said once, naming the column as the file does
    assert "its column 'Phone timestamp' has no UTC offset in its times; read without a wall-clock start" in caplog.text
    assert "no known channel" not in caplog.text  # was: said again as a column not read


def _sensor_logger_rr(path: Path, latency_s: float) -> tuple[Path, float]:
    """A Polar Sensor Logger RR file of a strap notifying each second (phone time 10:00:01, 10:00:02...) the beats
    that came since the last, each row stamped with its notification's arrival, ``latency_s`` after it was sent;
    and the instant of the first beat, in UNIX seconds at the phone's offset of +01:00."""
    beats_s = np.cumsum(RR_MS * 10) / 1000  # from 10:00:00.000 phone time
    sent_s = np.ceil(beats_s)  # each beat in the next notification
    phone = [datetime(2024, 3, 1, 10, 0) + timedelta(seconds=float(s + latency_s)) for s in sent_s]
    path.write_text("Phone timestamp;RR-interval [ms]\n" + "".join(
        f"{stamp.isoformat(timespec='milliseconds')};{rr}\n" for stamp, rr in zip(phone, RR_MS * 10, strict=True)))
    return path, datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc).timestamp() + float(beats_s[0])


def test_a_sensor_logger_rr_file_s_phone_timestamps_give_its_first_beat_s_wall_clock_time(tmp_path):
    path, first_beat_unix_s = _sensor_logger_rr(tmp_path / "Polar_H10_RR.txt", latency_s=0.12)
    recording = read_recording(path, utc_offset_s=3600.0)  # was: refused, 'no time in it lacks a UTC offset'
    ibi = recording.channels["ibi"]
    assert ibi.times_s[:4].tolist() == pytest.approx([0.0, 0.798, 1.628, 2.473])  # still one interval on
    # the first beat came before its row's stamp (1.12 s after 10:00 for a beat at 0.812 s): the rows after it
    # bound it closer, never before it came
    late_s = recording.start_unix_s - first_beat_unix_s
    assert 0.0 <= late_s <= 0.12 + 0.05
    with pytest.raises(InputError, match="its column 'Phone timestamp' gives its start, so --start-unix would not"):
        read_recording(path, start_unix_s=START_UNIX_S, utc_offset_s=3600.0)


def test_a_sensor_logger_rr_file_without_the_phone_s_offset_is_read_without_a_wall_clock_start(tmp_path, caplog):
    path, _ = _sensor_logger_rr(tmp_path / "Polar_H10_RR.txt", latency_s=0.12)
    recording = read_recording(path)
    assert recording.start_unix_s is None and recording.channels["ibi"].values.size == len(RR_MS) * 10
    assert "its column 'Phone timestamp' has no UTC offset in its times; read without a wall-clock start" in caplog.text


def test_a_sensor_logger_rr_file_given_a_start_without_the_phone_s_offset_reads_it_and_warns_of_nothing(tmp_path,
                                                                                                       caplog):
    path, _ = _sensor_logger_rr(tmp_path / "Polar_H10_RR.txt", latency_s=0.12)
    recording = read_recording(path, start_unix_s=START_UNIX_S)
    assert recording.start_unix_s == START_UNIX_S
    assert caplog.text == ""  # was: 'read without a wall-clock start', and its column as no known channel


@pytest.mark.parametrize("stream", ["rr", "acc"])
def test_a_sensor_logger_file_whose_stamps_carry_their_offset_gives_its_start_with_none_stated(tmp_path, caplog,
                                                                                              stream):
    make = _sensor_logger_rr if stream == "rr" else _sensor_logger_acc
    path, _ = make(tmp_path / "Polar_H10.txt", **({"latency_s": 0.12} if stream == "rr" else {}))
    stated = read_recording(path, utc_offset_s=3600.0)
    lines = path.read_text().splitlines()  # the same stamps, each with its offset written
    path.write_text("\n".join([lines[0], *(stamp + "+01:00;" + rest for stamp, _, rest in
                                          (line.partition(";") for line in lines[1:]))]) + "\n")
    recording = read_recording(path)  # was: no start, and told to give the offset it would then refuse
    assert recording.start_unix_s == pytest.approx(stated.start_unix_s, abs=1e-3)
    assert caplog.text == ""
    with pytest.raises(InputError, match="no time in it lacks a UTC offset"):
        read_recording(path, utc_offset_s=3600.0)


def test_iso_times_are_read_holding_no_table_of_those_read(tmp_path):
    stamps = [(datetime(2024, 3, 1, 10) + timedelta(milliseconds=5 * i)).isoformat(timespec="milliseconds") + "+01:00"
              for i in range(50_000)]  # 200 Hz, each row its own time
    table = CsvTable(["timestamp"], ["timestamp"], "", first_line=2)
    unix_s, _ = csv_reader._iso_times_as_unix(tmp_path / "rec.csv", table, stamps, None)
    assert unix_s[1] - unix_s[0] == pytest.approx(0.005, abs=1e-5)
    peak = peak_traced_bytes(csv_reader._iso_times_as_unix, tmp_path / "rec.csv", table, stamps, None)
    assert peak < 2 * unix_s.nbytes  # the times read, not a table of every time (was: 11 times their size)


def _received_csv(path: Path, received: list[str], start_line: bool) -> Path:
    """A generic CSV of a heart rate every 0.5 s on a relative clock (``time_s``), each row with the time it was
    received (``received``: one a row), under a '# start_unix_s' line of START_UNIX_S where ``start_line``."""
    rows = "".join(f"{i * 0.5},{stamp},{60 + i % 5}\n" for i, stamp in enumerate(received))
    head = f"# start_unix_s: {START_UNIX_S}\n" if start_line else ""
    path.write_text(f"{head}time_s,received_time,hr\n{rows}")
    return path


def test_a_generic_csv_s_received_times_give_its_start(tmp_path):
    # each row received 0.3 or 0.5 s after it came, an hour after START_UNIX_S
    received_s = [START_UNIX_S + 3600 + 0.3 + i * 0.5 + (0.2 if i % 2 else 0.0) for i in range(40)]
    recording = read_csv(_received_csv(tmp_path / "rec.csv", [f"{s:.3f}" for s in received_s], start_line=False))
    assert recording.start_unix_s == pytest.approx(START_UNIX_S + 3600 + 0.3, abs=1e-3)  # the least late row bounds it
    assert recording.channels["hr"].times_s[:2].tolist() == pytest.approx([0.0, 0.5])  # its own clock still


def test_received_times_beside_a_unix_timestamp_are_left_out_as_what_they_are(tmp_path, caplog):
    path = tmp_path / "rec.csv"
    path.write_text("timestamp,received_time,eda\n" + "".join(
        f"{START_UNIX_S + i * 0.25},{START_UNIX_S + 7 + i * 0.25},{1 + i / 100}\n" for i in range(40)))
    recording = read_csv(path)
    assert recording.start_unix_s == START_UNIX_S  # its own wall clock's
    assert ("column 'received_time' holds the times its rows were received; read without it beside its own wall "
            "clock 'timestamp'") in caplog.text
    assert "no known channel" not in caplog.text  # was: 'column(s) received_time are no known channel'


@pytest.mark.parametrize("relative, unit_s", [("time_ns", 1e-9), ("time_s", 1.0), ("t_s", 1.0)])
@pytest.mark.parametrize("wall_clock_first", [False, True])
def test_a_wall_clock_is_read_before_a_time_from_the_start_and_the_other_said_as_a_clock(tmp_path, caplog, relative,
                                                                                         unit_s, wall_clock_first):
    path = tmp_path / "rec.csv"
    clocks = ["timestamp", relative] if wall_clock_first else [relative, "timestamp"]
    path.write_text(",".join([*clocks, "eda"]) + "\n" + "".join(
        ",".join([*(f"{START_UNIX_S + i * 0.25}" if clock == "timestamp" else f"{round(i * 0.25 / unit_s)}"
                    for clock in clocks), f"{1 + i / 100}"]) + "\n" for i in range(40)))
    recording = read_csv(path)
    assert recording.start_unix_s == START_UNIX_S  # was, with the relative clock first: None, read on it
    assert recording.channels["eda"].times_s[:2].tolist() == pytest.approx([0.0, 0.25])
    assert f"column(s) {relative} hold another clock; read on 'timestamp', its wall clock, without them" in caplog.text
    assert "no known channel" not in caplog.text  # was: 'column(s) timestamp (or time_s) are no known channel'


def test_a_start_line_beside_received_times_is_refused_as_a_second_start(tmp_path):
    received = [f"{START_UNIX_S + 3600 + i * 0.5:.1f}" for i in range(40)]
    path = _received_csv(tmp_path / "rec.csv", received, start_line=True)
    # was: read with the received times' start, the line's an hour before it silently overridden
    with pytest.raises(InputError, match="its column 'received_time' gives its start, so its '# start_unix_s' line "
                                         "would not be used: leave it out"):
        read_csv(path)


@pytest.mark.parametrize("start_line", [True, False])
@pytest.mark.parametrize("stamped_from_s", [None, 70.0], ids=["no-stamp", "stamps-after-a-minute"])
def test_received_times_that_give_no_start_keep_the_one_given_and_say_so(tmp_path, caplog, start_line,
                                                                         stamped_from_s):
    received = ["" if stamped_from_s is None or i * 0.5 < stamped_from_s else f"{START_UNIX_S + 3600 + i * 0.5:.1f}"
                for i in range(200)]
    recording = read_csv(_received_csv(tmp_path / "rec.csv", received, start_line))
    assert recording.start_unix_s == (START_UNIX_S if start_line else None)  # was: None, the line's start lost
    kept = "read with the start its '# start_unix_s' line gives" if start_line else "read without a wall-clock start"
    assert f"its column 'received_time' holds no time among its first 60 s of rows; {kept}" in caplog.text


def _sensor_logger_acc(path: Path, seconds: int = 40) -> tuple[Path, float]:
    """A Polar Sensor Logger ACC file of a strap sampling at 200 Hz from 10:00:00.000 phone time (+01:00), on its
    own clock in ns since 2000-01-01 (never set to the phone's time: counting from 2019-01-01 10:17:33.5, so that
    a start read from it would be years and hours away from the phone's), notifying 36 samples at a time, each row
    stamped 50 ms after its batch's last sample; and the first sample's instant in UNIX seconds."""
    first_unix_s = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc).timestamp()
    polar_epoch_ns = (datetime(2019, 1, 1, 10, 17, 33, 500_000, tzinfo=timezone.utc)
                      - datetime(2000, 1, 1, tzinfo=timezone.utc)).total_seconds() * 10**9
    rows = []
    for i in range(200 * seconds):
        stamp = datetime(2024, 3, 1, 10, 0) + timedelta(seconds=(i // 36 + 1) * 36 / 200 - 1 / 200 + 0.05)
        rows.append(f"{stamp.isoformat(timespec='milliseconds')};{int(polar_epoch_ns) + i * 5_000_000};"
                    f"{-953 + i % 7};{63 - i % 3};{425}\n")
    path.write_text("Phone timestamp;sensor timestamp [ns];X [mg];Y [mg];Z [mg]\n" + "".join(rows))
    return path, first_unix_s


def test_a_sensor_logger_acc_file_reads_its_axes_in_g_on_the_sensor_s_clock_and_its_start_from_the_phone(tmp_path):
    path, first_unix_s = _sensor_logger_acc(tmp_path / "Polar_H10_ACC.txt")
    recording = read_recording(path, utc_offset_s=3600.0)  # was: 'no known channel column: found Phone timestamp...'
    acc = recording.channels["acc"]
    assert acc.rate_hz == pytest.approx(200.0) and acc.unit == "g"
    np.testing.assert_allclose(acc.values[:2], [[-0.953, 0.063, 0.425], [-0.952, 0.062, 0.425]])
    # the start the phone's stamps imply (the first batch's stamp, 50 ms late, less its samples' 175 ms), not 2019's
    assert 0.0 <= recording.start_unix_s - first_unix_s <= 0.05 + 0.005


@pytest.mark.parametrize("utc_offset_s", [3600.0, None])
def test_a_sensor_logger_acc_file_s_phone_timestamps_are_read_for_its_first_minute_alone(tmp_path, monkeypatch,
                                                                                        utc_offset_s):
    path, first_unix_s = _sensor_logger_acc(tmp_path / "Polar_H10_ACC.txt", seconds=180)
    parsed, told = [], []
    parse, tell = csv_reader.parse_iso_time, text_reader.decimal_mark_columns
    monkeypatch.setattr(csv_reader, "parse_iso_time", lambda text: parsed.append(text) or parse(text))
    monkeypatch.setattr(csv_reader, "decimal_mark_columns", lambda source, text, *args: told.append(text.count("\n"))
                        or tell(source, text, *args))
    recording = read_recording(path, utc_offset_s=utc_offset_s)
    assert recording.duration_s == pytest.approx(180, abs=0.01)
    assert recording.start_unix_s == (None if utc_offset_s is None else pytest.approx(first_unix_s, abs=0.06))
    # the start is the first minute's (RECEIVED_START_WINDOW_S): the stamps after it, and their points, left unread
    # (was: all three minutes' stamps parsed, and every column searched for what its points mark), but the last
    # row's where they give the start, which checks the clocks still agree at the end
    last_stamp = path.read_text().splitlines()[-1].partition(";")[0]
    assert parsed and max(set(parsed) - {last_stamp}) < "2024-03-01T10:01:01"
    assert (last_stamp in parsed) == (utc_offset_s is not None)
    assert max(told, default=0) <= 200 * 61


def _restamped(path: Path, after_s: float, shift_s: float) -> Path:
    """``path``, a Polar Sensor Logger file, with its rows stamped over ``after_s`` s after its first row moved by
    ``shift_s`` (the phone's clock set then)."""
    header, *rows = path.read_text().splitlines()
    first = datetime.fromisoformat(rows[0].partition(";")[0])
    stamped = []
    for row in rows:
        stamp, _, rest = row.partition(";")
        when = datetime.fromisoformat(stamp)
        if (when - first).total_seconds() > after_s:
            when += timedelta(seconds=shift_s)
        stamped.append(f"{when.isoformat(timespec='milliseconds')};{rest}")
    path.write_text("\n".join([header, *stamped]) + "\n")
    return path


@pytest.mark.parametrize("shift_s", [-3600.0, 30.0])
def test_a_sensor_logger_file_whose_phone_clock_changes_after_its_first_minute_says_so_and_reads_the_same(
        tmp_path, caplog, shift_s):
    path, _ = _sensor_logger_acc(tmp_path / "Polar_H10_ACC.txt", seconds=180)
    kept = read_recording(path, utc_offset_s=3600.0)
    assert "disagree" not in caplog.text  # within a delivery of where its own clock places it
    recording = read_recording(_restamped(path, 90.0, shift_s), utc_offset_s=3600.0)
    assert recording.start_unix_s == kept.start_unix_s and recording.duration_s == kept.duration_s
    # was: nothing said (the stamps after the first minute unread)
    assert (f"its last row (line 36001) was received {abs(shift_s):.3g} s {'after' if shift_s > 0 else 'before'} its "
            "own clock places it from the start its column 'Phone timestamp' gives: the two clocks disagree after its "
            "first minute") in caplog.text


def test_a_sensor_logger_rr_file_missing_beats_after_its_first_minute_says_its_clocks_disagree(tmp_path, caplog):
    path, _ = _sensor_logger_rr(tmp_path / "Polar_H10_RR.txt", latency_s=0.12)
    header, *rows = path.read_text().splitlines()
    path.write_text("\n".join([header, *rows[:90], *rows[100:]]) + "\n")  # ten beats (8 s) lost at about 75 s
    recording = read_recording(path, utc_offset_s=3600.0)
    assert recording.channels["ibi"].values.size == 110
    assert "its last row (line 111) was received 8." in caplog.text and "s after its own clock" in caplog.text


def test_a_sensor_logger_file_whose_last_stamp_is_no_time_is_refused_naming_its_line(tmp_path):
    path, _ = _sensor_logger_rr(tmp_path / "Polar_H10_RR.txt", latency_s=0.12)
    header, *rows = path.read_text().splitlines()
    path.write_text("\n".join([header, *rows[:-1], "garbled;812"]) + "\n")
    read_recording(path)  # no start read from the stamps: none checked
    with pytest.raises(InputError, match="line 121: 'garbled' is neither UNIX seconds nor an ISO 8601 time"):
        read_recording(path, utc_offset_s=3600.0)  # was: read, the stamp unread


def test_a_sensor_logger_sensor_clock_is_never_read_as_a_wall_clock(tmp_path, caplog):
    path, _ = _sensor_logger_acc(tmp_path / "Polar_H10_ACC.txt")
    recording = read_recording(path)  # no phone offset: no wall clock at all, though the sensor's was set
    assert recording.start_unix_s is None and recording.duration_s == pytest.approx(40, abs=0.01)
    assert "its column 'Phone timestamp' has no UTC offset in its times; read without a wall-clock start" in caplog.text


@pytest.mark.parametrize(("header", "held"), [
    ("Phone timestamp;sensor timestamp [ns];timestamp [ms];ecg [uV]", "timestamp \\[ms\\], ecg \\[uV\\]"),
    ("Phone timestamp;sensor timestamp [ns];channel 0;channel 1;channel 2;ambient", "channel 0, .*, ambient"),
], ids=["ecg", "ppg"])
def test_a_sensor_logger_stream_that_is_not_read_is_refused_naming_what_it_holds(tmp_path, header, held):
    path = tmp_path / "Polar_H10_stream.txt"
    cells = len(header.split(";")) - 2
    path.write_text(header + "\n" + "".join(f"2024-03-01T10:00:00.{i:03d};{599_616_050_941_733_632 + i * 7_692_307};"
                                            + ";".join(["-166"] * cells) + "\n" for i in range(20)))
    with pytest.raises(InputError, match=f"a Polar Sensor Logger file of {held}, which is not read: give its HR, RR"):
        read_recording(path, utc_offset_s=3600.0)


def test_a_sensor_logger_file_of_its_timestamps_alone_is_refused_saying_what_it_is(tmp_path):
    path = tmp_path / "Polar_Sense_stream.txt"
    path.write_text("Phone timestamp;sensor timestamp [ns]\n" + "".join(
        f"2024-03-01T10:00:{1 + i // 2:02d}.000;{599_616_050_941_733_632 + i * 10**9}\n" for i in range(20)))
    # was: 'a Polar Sensor Logger file of , which...'
    with pytest.raises(InputError, match="a Polar Sensor Logger file of its timestamps alone, which is not read: give "
                                         "its HR, RR, PPI or ACC file"):
        read_recording(path, utc_offset_s=3600.0)


PPI_HEADER = "Phone timestamp;PP-interval [ms];error estimate [ms];blocker;contact;contact;hr [bpm]"


def _sensor_logger_ppi(path: Path, flags: dict[int, str] | None = None, header: str = PPI_HEADER) -> Path:
    """A Polar Sensor Logger PPI file of a Verity Sense with the intervals of ``_sensor_logger_rr``'s strap, stamped
    as that file's beats are (each on the notification after it, 0.12 s late), each row's flags 'error estimate;
    blocker;contact;contact supported' ``5;0;1;1`` (a clean beat with skin contact) or ``flags``' for its row."""
    rr_path, _ = _sensor_logger_rr(path.with_name("rr.txt"), latency_s=0.12)
    rows = [line.split(";") for line in rr_path.read_text().splitlines()[1:]]
    rr_path.unlink()
    sensor_time = "sensor timestamp" in header.lower()  # the other layout: a sensor time (0, as written) first
    lines = []
    for i, (stamp, interval) in enumerate(rows):
        error, blocker, contact, supported = (flags or {}).get(i, "5;0;1;1").split(";")
        cells = ([stamp, "0", str(round(60000 / int(interval))), interval, error, blocker, contact, supported]
                 if sensor_time else [stamp, interval, error, blocker, contact, supported,
                                      str(round(60000 / int(interval)))])
        lines.append(";".join(cells) + "\n")
    path.write_text(header + "\n" + "".join(lines))
    return path


def test_a_sensor_logger_ppi_file_reads_as_the_rr_file_of_the_same_beats_does(tmp_path, caplog):
    rr_path, first_beat_unix_s = _sensor_logger_rr(tmp_path / "Polar_H10_RR.txt", latency_s=0.12)
    ppi_path = _sensor_logger_ppi(tmp_path / "Polar_Sense_PPI.txt")
    rr, ppi = (read_recording(path, utc_offset_s=3600.0) for path in (rr_path, ppi_path))  # was: refused
    assert set(ppi.channels) == {"ibi"}  # the sensor's own heart rate left out, as the HR file's HRV is
    np.testing.assert_array_equal(ppi.channels["ibi"].times_s, rr.channels["ibi"].times_s)
    np.testing.assert_array_equal(ppi.channels["ibi"].values, rr.channels["ibi"].values)
    assert ppi.start_unix_s == rr.start_unix_s and 0.0 <= ppi.start_unix_s - first_beat_unix_s <= 0.12 + 0.05
    assert "flags" not in caplog.text and "hr [bpm] are no known channel" in caplog.text
    # without the phone's offset: no start, as the RR file
    assert read_recording(ppi_path).start_unix_s is None


def test_a_sensor_logger_ppi_file_s_flagged_beats_are_left_out_and_still_place_the_beats_after_them(tmp_path,
                                                                                                  caplog):
    flags = {3: "5;1;1;1", 4: "5;0;0;1", 6: "31;0;1;1", 8: "30;0;1;1", 10: "5;0;0;0"}
    path = _sensor_logger_ppi(tmp_path / "Polar_Sense_PPI.txt", flags)
    clean = read_recording(_sensor_logger_ppi(tmp_path / "clean.txt")).channels["ibi"]
    ibi = read_recording(path).channels["ibi"]
    # blocked (3), skin contact lost where reported (4), an error estimate over 30 ms (6) left out; one of 30 ms (8)
    # and no contact where the sensor reports none (10) kept; the beats after them where the clean file's are
    left_out = [3, 4, 6]
    np.testing.assert_array_equal(ibi.times_s, np.delete(clean.times_s, left_out))
    np.testing.assert_array_equal(ibi.values, np.delete(clean.values, left_out))
    assert ("its sensor flags 3 of its 120 beat intervals in column 'PP-interval [ms]' as no valid ones (1 blocked, "
            "1 without skin contact, 1 with an error estimate over 30 ms); read without them") in caplog.text
    # no HRV across a left-out beat: the successive differences the features read skip it, none is made up
    signals = process_recording(read_recording(path))
    assert not np.isin(clean.times_s[left_out], signals.ibi.times_s).any()


def test_a_sensor_logger_ppi_file_tells_its_two_contact_columns_apart(tmp_path):
    # contact 1 where the sensor says it reports none (kept), contact 0 where it does (left out): read the other way
    # round, the first would be left out and the second kept
    path = _sensor_logger_ppi(tmp_path / "Polar_Sense_PPI.txt", {5: "5;0;1;0", 7: "5;0;0;1"})
    times_s = read_recording(_sensor_logger_ppi(tmp_path / "clean.txt")).channels["ibi"].times_s
    np.testing.assert_array_equal(read_recording(path).channels["ibi"].times_s, np.delete(times_s, 7))


def test_a_sensor_logger_ppi_file_with_a_sensor_time_and_skin_contact_names_is_read_by_its_intervals(tmp_path):
    header = ("Phone timestamp;sensor timestamp [ns];HR [bpm];PP-interval [ms];error estimate [ms];blocker;"
              "skin contact;skin contact supported")
    path = _sensor_logger_ppi(tmp_path / "Polar_Sense_PPI.txt", {5: "5;0;1;0", 7: "5;0;0;1"}, header)
    times_s = read_recording(_sensor_logger_ppi(tmp_path / "clean.txt")).channels["ibi"].times_s
    recording = read_recording(path)  # its sensor time, 0 on every row, is no clock of its beats
    assert set(recording.channels) == {"ibi"}
    np.testing.assert_array_equal(recording.channels["ibi"].times_s, np.delete(times_s, 7))


def test_beat_flag_columns_are_read_beside_beat_intervals_in_any_csv(tmp_path):
    path = tmp_path / "rr.csv"
    path.write_text("rr_ms,beat_blocker\n" + "".join(f"{rr},{int(i == 2)}\n" for i, rr in enumerate(RR_MS)))
    ibi = read_csv(path).channels["ibi"]  # was: beat_blocker no known channel, every interval read
    assert ibi.values.tolist() == pytest.approx([rr / 1000 for rr in np.delete(RR_MS, 2)])
    assert ibi.times_s[2] == pytest.approx((RR_MS[1] + RR_MS[2] + RR_MS[3]) / 1000)  # placed past the left-out one


def test_a_ppi_file_whose_first_beats_are_flagged_says_so_where_its_recording_starts_later(tmp_path, caplog):
    path = _sensor_logger_ppi(tmp_path / "Polar_Sense_PPI.txt", dict.fromkeys(range(3), "5;1;1;1"))
    clean = read_recording(_sensor_logger_ppi(tmp_path / "clean.txt")).channels["ibi"]
    caplog.clear()
    ibi = read_recording(path).channels["ibi"]
    np.testing.assert_allclose(ibi.times_s, clean.times_s[3:] - clean.times_s[3])  # from its first beat read
    later_s = float(clean.times_s[3])
    # was: 'its first 2.5 s of rows hold no value', of rows that held beats the sensor flagged
    assert (f"its first {later_s:.3g} s of rows hold no value read: its sensor flags their beat intervals as no "
            "valid ones; the recording starts at its first sample") in caplog.text
    assert "hold no value;" not in caplog.text


def test_a_beat_list_whose_first_beat_is_no_body_s_says_its_value_was_left_out(tmp_path, caplog):
    path = tmp_path / "rr.csv"
    path.write_text("rr_ms\n" + "".join(f"{rr}\n" for rr in [3200, *RR_MS]))  # a strap's artefact first
    ibi = read_csv(path).channels["ibi"]
    assert ibi.values.size == len(RR_MS) and ibi.times_s[0] == 0.0
    assert "its first 0.812 s of rows hold no value read: what is written there is left out" in caplog.text


@pytest.mark.parametrize(("contact", "left_out"), [("1" * 40 + "0" * 5 + "1" * 75, list(range(40, 45))),
                                                   ("0" * 120, [])], ids=["reported", "never-reported"])
def test_a_ppi_file_with_one_contact_column_reads_its_0s_as_lost_contact_where_it_reports_contact(
        tmp_path, contact, left_out):
    header = "Phone timestamp;PP-interval [ms];error estimate [ms];blocker;contact;hr [bpm]"
    path = _sensor_logger_ppi(tmp_path / "clean.txt")
    clean = read_recording(path).channels["ibi"]
    lines = path.read_text().splitlines()[1:]
    rows = [";".join(cells[:4] + [c] + cells[6:]) for cells, c in zip((line.split(";") for line in lines), contact,
                                                                        strict=True)]
    path = tmp_path / "Polar_Sense_PPI.txt"
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    # was: every beat read, its 0s never lost contact without a 'contact supported' column
    np.testing.assert_array_equal(read_recording(path).channels["ibi"].times_s, np.delete(clean.times_s, left_out))


@pytest.mark.parametrize(("true", "false"), [("true", "false"), ("TRUE", "FALSE"), ("True", " false ")])
def test_beat_flags_written_as_words_are_read_as_1_and_0(tmp_path, true, false):
    path = tmp_path / "rr.csv"
    path.write_text("rr_ms,beat_blocker,beat_skin_contact,beat_contact_supported\n" + "".join(
        f"{rr},{true if i == 2 else false},{false if i == 4 else true},{true}\n" for i, rr in enumerate(RR_MS)))
    ibi = read_csv(path).channels["ibi"]  # was: 'line 2: 'false' is not a number in column 'beat_blocker''
    assert ibi.values.tolist() == pytest.approx([rr / 1000 for rr in np.delete(RR_MS, [2, 4])])


@pytest.mark.parametrize("column", ["beat_error_ms", "rr_ms"])
def test_a_word_in_a_measurement_column_beside_beat_flags_is_still_no_number(tmp_path, column):
    path = tmp_path / "rr.csv"
    cells = {"rr_ms": [str(rr) for rr in RR_MS], "beat_error_ms": ["5"] * len(RR_MS),
             "beat_blocker": ["0"] * len(RR_MS)}
    cells[column][1] = "true"
    path.write_text(",".join(cells) + "\n" + "".join(",".join(row) + "\n" for row in zip(*cells.values(), strict=True)))
    with pytest.raises(InputError, match=f"line 3: 'true' is not a number in column '{column}'"):
        read_csv(path)


def test_a_sensor_logger_ppi_file_whose_every_beat_is_blocked_is_refused_in_one_line(tmp_path):
    path = _sensor_logger_ppi(tmp_path / "Polar_Sense_PPI.txt", dict.fromkeys(range(120), "5;1;1;1"))
    with pytest.raises(InputError, match=r"Polar_Sense_PPI.txt: its sensor flags every one of its 120 beat intervals "
                                         r"in column 'PP-interval \[ms\]' as no valid one \(120 blocked\): no beat "
                                         "to read$"):
        read_recording(path, utc_offset_s=3600.0)


def test_a_sensor_logger_layout_of_a_heart_rate_and_beats_on_the_sensor_s_clock_is_read(tmp_path):
    path = tmp_path / "Polar_H10_HR_RR.txt"  # a heart rate and a beat interval a beat, the beat's sensor time
    beats_s = np.cumsum(RR_MS * 5) / 1000
    sensor_origin_ns = 599_616_050_941_733_632  # the sensor's clock, set to no wall clock
    rows = [f"{(datetime(2024, 3, 1, 10, 0) + timedelta(seconds=float(np.ceil(t) + 0.1))).isoformat()};"
            f"{sensor_origin_ns + int(t * 1e9)};{round(60000 / rr)};{rr}\n"
            for t, rr in zip(beats_s, RR_MS * 5, strict=True)]
    path.write_text("Phone timestamp;sensor timestamp [ns];HR [bpm];RR-interval [ms]\n" + "".join(rows))
    # was: 'a Polar Sensor Logger file of HR [bpm], RR-interval [ms], which is not read: give its HR, RR or ACC file'
    recording = read_recording(path, utc_offset_s=3600.0)
    assert recording.channels["ibi"].values.tolist() == pytest.approx([rr / 1000 for rr in RR_MS * 5])
    assert recording.channels["hr"].times_s[:3].tolist() == pytest.approx([0.0, 0.798, 1.628])  # the sensor's clock
    first_beat_unix_s = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc).timestamp() + float(beats_s[0])
    assert 0.0 <= recording.start_unix_s - first_beat_unix_s <= 0.1 + 0.05  # the phone's stamps give its start


SENSOR_LOGGER_HR = "Phone timestamp;HR [bpm];HRV [ms];Breathing interval [rpm];"  # the app's header, as it ends


def _sensor_logger_hr(path: Path, rows: list[str]) -> Path:
    """A Polar Sensor Logger HR file: a row a second from 10:00:00.250 phone time, each followed by ``rows``' tail."""
    path.write_text(SENSOR_LOGGER_HR + "\n" + "".join(
        f"2024-03-01T10:{i // 60:02d}:{i % 60:02d}.{250 + i % 7:03d};{tail}\n" for i, tail in enumerate(rows)))
    return path


@pytest.mark.parametrize("tail", ["{hr};{hrv};;", "{hr}", "{hr};{hrv},5"], ids=["all-cells", "hr-alone", "hrv-comma"])
def test_a_sensor_logger_hr_file_reads_its_heart_rate_on_the_phone_s_clock_at_the_stated_offset(tmp_path, caplog,
                                                                                                   tail):
    hr_bpm = [67 + i % 5 for i in range(90)]
    path = _sensor_logger_hr(tmp_path / "Polar_H10_HR.txt", [tail.format(hr=hr, hrv=780 + i % 9)
                                                             for i, hr in enumerate(hr_bpm)])
    recording = read_recording(path, utc_offset_s=3600.0)  # was: 'no time column ... and no sample rate given'
    hr = recording.channels["hr"]
    expected_unix_s = datetime(2024, 3, 1, 9, 0, 0, 250_000, timezone.utc).timestamp()
    assert recording.start_unix_s == pytest.approx(expected_unix_s, abs=1e-3)
    assert hr.values.tolist() == hr_bpm
    assert hr.times_s[:3].tolist() == pytest.approx([0.0, 1.001, 2.002])  # the phone's stamps, not a rate's
    assert "column(s) HRV [ms], Breathing interval [rpm] are no known channel; read without them" in caplog.text


def test_a_sensor_logger_hr_file_s_short_rows_are_padded_by_the_reader_s_own_lines_and_cells(tmp_path):
    path = _sensor_logger_hr(tmp_path / "Polar_H10_HR.txt", [f'{67 + i % 5};"7;8"' for i in range(30)])
    path.write_text(path.read_text().replace("\n2024-03-01T10:00:05", "\f2024-03-01T10:00:05"))  # a page break
    # was: 'line 2: 2 values, the header names 3' (a row's quoted delimiter counted, the form feed no line break)
    recording = read_recording(path, utc_offset_s=0.0)
    assert recording.channels["hr"].values.tolist() == [67 + i % 5 for i in range(30)]


def test_a_sensor_logger_hr_file_without_the_phone_s_offset_is_refused_naming_the_option(tmp_path):
    path = _sensor_logger_hr(tmp_path / "Polar_H10_HR.txt", ["67;787;;"] * 10)
    with pytest.raises(InputError, match=r"line 2: '2024-03-01T10:00:00.250' has no UTC offset; .*--utc-offset"):
        read_recording(path)  # was: 'no time column (timestamp or time_s) and no sample rate given'


def test_an_rr_list_given_a_sample_rate_is_refused_not_spaced_evenly(tmp_path):
    path = tmp_path / "rr.csv"
    path.write_text("rr_ms\n" + "\n".join(str(rr) for rr in RR_MS) + "\n")
    with pytest.raises(InputError, match="holds beat intervals and no time column: .* no sample rate applies"):
        read_recording(path, start_unix_s=START_UNIX_S, rate_hz=1.0)  # was: read, a beat every second
    assert read_recording(path, start_unix_s=START_UNIX_S).start_unix_s == START_UNIX_S
    path.write_text("rr_ms\n812\n\n798\n")
    with pytest.raises(InputError, match="line 3: no interval, and without a time column the beats after it"):
        read_recording(path)


def test_text_in_a_column_that_is_not_read_does_not_refuse_the_file(tmp_path, caplog):
    path = tmp_path / "fitbit_heart_rate.csv"  # a heart-rate export naming its device on every row
    path.write_text('"sep=,"\ntimestamp,beats per minute,data source\n' + "".join(
        f"{START_UNIX_S + i:.0f},{70 + i % 5},Fitbit Charge 6\n" for i in range(40)))
    hr = read_recording(path).channels["hr"]  # was: "'Fitbit Charge 6' is not a number" ("found sep=," before)
    assert hr.values[:5].tolist() == [70, 71, 72, 73, 74] and hr.rate_hz == pytest.approx(1.0)
    assert "column(s) data source are no known channel" in caplog.text
    path.write_text("timestamp,hr,data source\n" + f"{START_UNIX_S:.0f},70,x\n{START_UNIX_S + 1:.0f},71\n")
    with pytest.raises(InputError, match="line 3: 2 values, the header names 3"):
        read_recording(path)



@pytest.mark.parametrize("row", ["{t},0.5,9", "{t}"])
def test_rows_wider_or_narrower_than_the_header_are_refused_naming_a_line_when_every_column_is_read(tmp_path, row):
    path = tmp_path / "rows.csv"  # refused before too: the refusal names the line
    path.write_text("time_s,eda\n" + "".join(row.format(t=i) + "\n" for i in range(5)))
    cells = row.count(",") + 1
    with pytest.raises(InputError, match=f"line 2: {cells} value{'s' * (cells != 1)}, the header names 2"):
        read_recording(path)


def _german(number: str) -> str:
    """A number as a decimal-comma locale writes it, thousands grouped by points ('-1,234.5' as '-1.234,5')."""
    return number.replace(",", "_").replace(".", ",").replace("_", ".")


@pytest.mark.parametrize("separator", [",", ";"])
@pytest.mark.parametrize("line", ["{t}", '{t}{sep}"0.5{sep}1'])  # a short line; a quote left open
def test_a_csv_s_first_problem_in_the_file_s_order_is_named(tmp_path, separator, line):
    path = tmp_path / "rec.csv"
    rows = [separator.join((f"{i / 4:g}", "0.5", "1")) for i in range(20)]
    rows[3] = separator.join((f"{3 / 4:g}", "abc", "1"))  # line 5
    rows[7] = line.format(t=7 / 4, sep=separator)  # line 9
    path.write_text(separator.join(("time_s", "eda", "temp")) + "\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputError, match="line 5: 'abc' is not a number in column 'eda'"):  # was: line 9
        read_recording(path)
    path.write_text(path.read_text().replace("abc", "0.5"))
    with pytest.raises(InputError, match="line 9: "):  # alone, the line is named as before
        read_recording(path)


@pytest.mark.parametrize(("header", "rows"), [
    ("time_s;bvp", ["0;1.500", "1;1.500", "2;1.500", "3;1,5", "4;1,5", "5;2,5"]),  # the commas make '1.500' 1500
    # above line 4, temp's range reads its points as decimal ones and rr_ms's as thousands marks; below, a comma
    ("time_s;temp;rr_ms", ["0;33.125;1.023", "1;33.125;1.023", "2;33,5;1.023", "3;33,5;1.023", "4;33,5;1.023"]),
])
def test_a_broken_line_is_named_not_what_the_lines_above_it_alone_would_tell_the_file_s_marks(tmp_path, header,
                                                                                             rows):
    path = tmp_path / "rec.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    read_recording(path)  # the whole file tells what its points mark
    rows[2] = rows[2].split(";")[0]  # line 4: one value
    path.write_text("\n".join([header, *rows]) + "\n")
    with pytest.raises(InputError, match=f"line 4: 1 value, the header names {header.count(';') + 1}$"):
        read_recording(path)  # was: line 2's '1.500' (or its two ranges), advice the fixed file would not need


def test_a_broken_line_is_named_not_a_cell_above_it_whose_marks_the_whole_file_tells(tmp_path):
    path = tmp_path / "rr.csv"
    rows = ["1 023", "812", "998", "1.100", "805"]  # a German RR list: its points and spaces group thousands
    path.write_text("\n".join(["rr_ms", *rows]) + "\n")
    assert read_recording(path).channels["ibi"].values[0] == pytest.approx(1.023)  # the whole file tells
    rows[2] = "998,7"  # line 4: two values
    path.write_text("\n".join(["rr_ms", *rows]) + "\n")
    # was: line 2's '1 023' is not a number, the lines above alone holding no point to tell
    with pytest.raises(InputError, match="line 4: 2 values, the header names 1$"):
        read_recording(path)


def test_a_time_that_is_none_above_a_broken_line_is_named_first(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("timestamp,eda\n2026-12-05T10:00:00Z,1\n2026-13-05T10:00:01Z,1\n2026-12-05T10:00:02Z\n")
    with pytest.raises(InputError, match="line 3: '2026-13-05T10:00:01Z' is neither UNIX seconds nor an ISO"):
        read_recording(path)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("iso", [False, True])  # a time column of numbers, or of text kept as text
def test_lines_read_one_by_one_chunk_by_chunk_give_the_recording_read_at_once(tmp_path, monkeypatch, newline, iso):
    path = tmp_path / "rec.csv"

    def stamp(i: int) -> str:
        unix_s = START_UNIX_S + i / 4
        return datetime.fromtimestamp(unix_s, timezone.utc).isoformat() if iso else f"{unix_s:.2f}"

    rows = [f'"{stamp(i)}",{1 + i / 100:.2f},{"" if i % 3 else f"{33 + i / 1000:.3f}"}' for i in range(400)]
    rows[50] = ""  # a quote and a blank line: read line by line

    def read(changed: dict[int, str]) -> object:
        path.write_bytes(newline.join(["timestamp,eda,temp", *(changed.get(i, row) for i, row in enumerate(rows))]
                                      ).encode() + newline.encode())
        return read_recording(path)

    at_once = read({})
    monkeypatch.setattr(text_reader, "LINES_CHUNK_CHARS", 100)  # a few lines a chunk, some cut looked for mid-CRLF
    in_chunks = read({})
    for name in ("eda", "temp"):
        assert np.array_equal(in_chunks.channels[name].values, at_once.channels[name].values)
        assert np.array_equal(in_chunks.channels[name].times_s, at_once.channels[name].times_s)
    with pytest.raises(InputError, match="line 302: 'abc' is not a number in column 'eda'"):  # its text from line 2
        read({300: f'"{stamp(300)}",abc,33'})
    with pytest.raises(InputError, match="line 352: 2 values, the header names 3"):
        read({350: f'"{stamp(350)}",1'})
    with pytest.raises(InputError, match="line 302: 'abc' is not a number"):
        read({300: f'"{stamp(300)}",abc,33', 350: f'"{stamp(350)}",1'})


def test_an_e4_file_s_first_problem_in_the_file_s_order_is_named():
    lines = ["1.0,2.0,3.0", "x,2.0,3.0", "1.0,2.0,3.0", "1.0,2.0", "oops,1,2"]  # (an ACC file's rows, from line 3)
    with pytest.raises(InputError, match="ACC.csv: line 4: 'x' is not a number"):  # was: line 6, the short row
        text_reader.parse_numbers("ACC.csv", lines, first_line=3)
    with pytest.raises(InputError, match="line 5: 2 values where earlier lines have 3"):
        text_reader.parse_numbers("ACC.csv", [lines[0], lines[2], lines[3], lines[1]], first_line=3)


@pytest.mark.parametrize("lines", [["   "], [" ", "\t"], ["  ", ""]])
def test_an_e4_file_s_blank_lines_alone_are_no_data_rows(lines):
    with pytest.raises(InputError, match="^ACC.csv: no data rows$"):  # was: a ValueError from numpy
        text_reader.parse_numbers("ACC.csv", lines, first_line=3)


@pytest.mark.parametrize("separator", [",", ";"])  # ';': decimal commas, thousands points told for the file
def test_lines_numpy_reads_and_lines_read_one_by_one_give_one_recording(tmp_path, monkeypatch, separator):
    scale, write = (1.0, str) if separator == "," else (1500.0, _german)
    rows = [separator.join((write(f"{i / 64:.6f}"), write(f"{scale * np.sin(i / 5):,.4f}"),
                            "" if i % 16 else write(f"{2.0 + i / 1e4}"))) for i in range(64 * 30)]
    header = separator.join(("time_s", "bvp", "eda"))
    plain = tmp_path / "plain.csv"
    plain.write_text(f"{header}\n" + "\n".join(rows) + "\n\n")
    quoted = tmp_path / "quoted.csv"  # a quote and a blank line: every line read by the csv module
    quoted.write_text(f"{header}\n" + "\n".join([*rows[:100], "", *rows[101:-1],
                                                   '"' + rows[-1].replace(separator, f'"{separator}"') + '"']))
    lines_read = []
    read_lines = text_reader._row_chunks
    monkeypatch.setattr(text_reader, "_row_chunks",
                        lambda *args, **kwargs: lines_read.append(args[0]) or read_lines(*args, **kwargs))
    a, b = read_recording(plain), read_recording(quoted)
    assert lines_read == [quoted]  # the plain file's lines parsed by numpy
    kept = np.arange(64 * 30) != 100  # the quoted file's blank line: no pulse-wave sample there (nor an EDA one)
    assert np.array_equal(a.channels["bvp"].times_s[kept], b.channels["bvp"].times_s)
    assert np.array_equal(a.channels["bvp"].values[kept], b.channels["bvp"].values)
    assert np.array_equal(a.channels["eda"].times_s, b.channels["eda"].times_s)
    assert np.array_equal(a.channels["eda"].values, b.channels["eda"].values)
    assert a.channels["eda"].rate_hz == b.channels["eda"].rate_hz == pytest.approx(4.0)
    assert np.nanmax(b.channels["bvp"].values) == pytest.approx(scale * np.sin(np.arange(64 * 30) / 5).max(), 1e-4)


def test_an_rr_list_without_a_header_is_told_the_one_line_that_makes_it_read(tmp_path):
    path = tmp_path / "elite_hrv.txt"
    path.write_text("".join(f"{rr}\n" for rr in RR_MS))
    with pytest.raises(InputError, match="the first line holds beat intervals in ms, not column names: add a header "
                                         "line \\(rr_ms"):  # was: "found 812" and the list of names, no more
        read_recording(path)
    path.write_text("rr_ms\n" + path.read_text())
    assert read_recording(path).channels["ibi"].values.size == len(RR_MS)


@pytest.mark.parametrize("header", ["rr_ms", "sep=;\nrr_ms"])
def test_a_one_column_rr_list_with_thousands_points_reads_its_intervals(tmp_path, header):
    path = tmp_path / "rr.csv"
    path.write_text(f"{header}\n812\n1.023\n998\n1.100\n")
    ibi = read_recording(path).channels["ibi"]  # was: 1.023 read as 1.023 ms, left out, each later beat ~1 s early
    assert ibi.values.tolist() == pytest.approx([0.812, 1.023, 0.998, 1.100])
    assert ibi.times_s.tolist() == pytest.approx([0.0, 1.023, 2.021, 3.121])


def test_a_one_column_file_of_points_alone_is_read_as_written(tmp_path):
    path = tmp_path / "bvp.csv"  # no whole number beside them: a logger's fixed decimals, none unclear
    path.write_text("# rate_hz: 64\nbvp\n" + "".join(f"{v:.3f}\n" for v in (12.5, -3.25, 1.125, 7.0)))
    assert read_recording(path).channels["bvp"].values.tolist() == [12.5, -3.25, 1.125, 7.0]


@pytest.mark.parametrize(("rows", "problem"), [
    (["812"], "holds one beat interval: at least two are needed"),  # was: a recording of 0 s, exit 0
    (["812", "inf", "790"], "line 3: an interval of inf, and without a time column"),  # was: a span of inf h
    (["812", "-5", "790"], "line 3: an interval of -5.0, and without"),  # was: np.float64(-5.0)
    (["812", "0", "790"], "line 3: an interval of 0.0, and without"),
    (["812", "1e8", "790"], "line 3: the time jumps by 100000 s"),  # was: read, the time jumping a day and more
])
def test_an_rr_list_that_cannot_be_placed_is_one_line_naming_why(tmp_path, rows, problem):
    path = tmp_path / "rr.csv"
    path.write_text("rr_ms\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputError, match=problem):
        read_recording(path)


@pytest.mark.parametrize("artefact_ms", [3200, 150])
def test_an_rr_list_s_artefact_beat_places_the_beats_after_it_and_its_value_is_left_out(tmp_path, caplog,
                                                                                        artefact_ms):
    path = tmp_path / "rr.csv"  # a chest strap's missed (3.2 s) or doubled (150 ms) beat: the beat did happen then
    intervals_ms = [812, 790, artefact_ms, 805, 798]
    path.write_text("rr_ms\n" + "".join(f"{rr}\n" for rr in intervals_ms))
    ibi = read_recording(path).channels["ibi"]  # was: the whole file refused
    kept = [rr for rr in intervals_ms if rr != artefact_ms]
    assert ibi.values.tolist() == pytest.approx([rr / 1000 for rr in kept])
    beat_s = np.cumsum(intervals_ms) / 1000 - intervals_ms[0] / 1000
    assert ibi.times_s.tolist() == pytest.approx(beat_s[np.array(intervals_ms) != artefact_ms].tolist())
    assert "1 inter-beat interval(s) outside 0.2..3 s" in caplog.text


def test_excel_s_separator_line_is_taken_at_its_word_for_a_one_column_file(tmp_path, caplog):
    path = tmp_path / "rr.csv"
    path.write_text("sep=;\nrr_s;\n0,812;\n0,798;\n0,830;\n")  # decimal commas; a separator ends each line
    assert read_recording(path).channels["ibi"].values.tolist() == pytest.approx([0.812, 0.798, 0.830])
    assert "are no known channel" not in caplog.text  # was: 'rows have 2 values', and an empty column named


def test_a_quoted_cell_holding_a_comma_stays_one_cell_beside_a_column_that_is_not_read(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text(f'timestamp,eda,device\n{START_UNIX_S:.0f},"0,5",x\n{START_UNIX_S + 1:.0f},0.6,x\n')
    with pytest.raises(InputError, match="line 2: '0,5' is not a number"):  # was: 'rows have 3 values', no line
        read_recording(path)


# Polar Flow's CSV export (flow.polar.com, "Export session"): a summary header and its one line of values, then the
# samples table, each line ending in a comma. Date and Start time are the watch's local time, without an offset.
POLAR_FLOW_SUMMARY = ("Name,Sport,Date,Start time,Duration,Total distance (km),Average heart rate (bpm),Average speed "
                      "(km/h),Max speed (km/h),Average pace (min/km),Max pace (min/km),Calories,Fat percentage of "
                      "calories(%),Average cadence (rpm),Average stride length (cm),Running index,Training load,Ascent "
                      "(m),Descent (m),Notes,Height (cm),Weight (kg),HR max,HR sit,VO2max,")
POLAR_FLOW_SAMPLES = ("Sample rate,Time,HR (bpm),Speed (km/h),Pace (min/km),Cadence,Altitude (m),Stride length (m),"
                      "Distances (m),Temperatures (C),Power (W),")


def _polar_flow_csv(path: Path, times: list[str], start_time: str = "10:00:00") -> Path:
    summary = f"Jane Doe,OTHER_INDOOR,05-12-2026,{start_time},00:02:00,0.00,72,0.0,0.0,00:00,00:00,20" + "," * 13
    rows = [f"1,{t},{70 + i % 5},0.0,00:00,,,,,,," for i, t in enumerate(times)]
    path.write_text("\n".join([POLAR_FLOW_SUMMARY, summary, POLAR_FLOW_SAMPLES, *rows]) + "\n")
    return path


def _clock(t_s: int) -> str:
    return f"{t_s // 3600:02d}:{t_s // 60 % 60:02d}:{t_s % 60:02d}"


def test_a_polar_flow_export_reads_its_heart_rate_on_its_elapsed_time_without_a_wall_clock_start(tmp_path, caplog):
    path = _polar_flow_csv(tmp_path / "polar.csv", [_clock(t) for t in range(120)])
    recording = read_recording(path)  # was: 'no known channel column: found name, sport, date, ...'
    hr = recording.channels["hr"]
    assert hr.rate_hz == pytest.approx(1.0) and hr.times_s.tolist() == list(range(120))
    assert hr.values[:5].tolist() == [70, 71, 72, 73, 74]
    assert recording.start_unix_s is None  # 05-12-2026 10:00:00 in a time zone the file does not say
    assert "'05-12-2026 10:00:00' has no UTC offset" in caplog.text


def test_a_polar_flow_export_starts_at_its_summary_s_date_and_time_on_the_stated_offset(tmp_path):
    path = _polar_flow_csv(tmp_path / "polar.csv", [_clock(t) for t in range(120)])
    recording = read_recording(path, utc_offset_s=3600.0)  # 05-12-2026 10:00:00 in Central Europe: 09:00 UTC
    assert recording.start_unix_s == datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc).timestamp()
    assert recording.channels["hr"].times_s.tolist() == list(range(120))


def test_a_polar_flow_summary_without_its_samples_is_said_to_be_one(tmp_path):
    path = tmp_path / "polar.csv"
    path.write_text(POLAR_FLOW_SUMMARY + "\nJane Doe,OTHER_INDOOR,05-12-2026,10:00:00,00:02:00\n")
    with pytest.raises(InputError, match="line 3: a Polar Flow summary is not followed by its samples table"):
        read_recording(path)  # was: 'no known channel column: found name, sport, ...'


def test_a_polar_flow_time_that_is_no_elapsed_time_is_refused_naming_its_line(tmp_path):
    path = _polar_flow_csv(tmp_path / "polar.csv", ["00:00:00", "00:00:01", "soon", "00:00:03"])
    with pytest.raises(InputError, match="line 6: 'soon' is no elapsed time"):
        read_recording(path)


def _consensys_csv(path: Path, signals: dict[str, tuple[str, list[float]]], rows: int = 80,
                   unix_time: bool = True, device: str = "Shimmer_8A5C", number_format: str = "g") -> Path:
    """A Shimmer Consensys export: Excel's separator line, the signal names (after the device's name, which a user
    may have changed), their format (CAL) and their units, tab-separated, each line ending in a tab; ``signals``:
    name -> (unit, values, written in ``number_format``), besides the UNIX time in ms (unless ``unix_time`` is
    False)."""
    names = [*([f"{device}_Timestamp_Unix_CAL"] if unix_time else []), *(f"{device}_{n}_CAL" for n in signals)]
    units = [*(["ms"] if unix_time else []), *(unit for unit, _ in signals.values())]
    lines = ['"sep=\t"', "\t".join(names), "\t".join(["CAL"] * len(names)), "\t".join(units)]
    for i in range(rows):
        values = [*([f"{(START_UNIX_S + i / 4) * 1000:.3f}"] if unix_time else []),
                  *(f"{v[i % len(v)]:{number_format}}" for _, v in signals.values())]
        lines.append("\t".join(values))
    path.write_text(lines[0] + "\n" + "".join(f"{line}\t\n" for line in lines[1:]))
    return path


def test_a_shimmer_consensys_export_reads_its_units_row_and_its_skin_conductance(tmp_path):
    path = _consensys_csv(tmp_path / "shimmer.csv", {
        "GSR_Range": ("no_units", [2.0]), "GSR_Skin_Conductance": ("uS", [2.5, 2.6]),
        "GSR_Skin_Resistance": ("kOhms", [400.0, 384.6]), "PPGtoHR": ("BPM", [70.0, 71.0])})
    recording = read_recording(path)  # was: 'no known channel column: found shimmer_8a5c_timestamp_unix_cal, ...'
    assert recording.start_unix_s == pytest.approx(START_UNIX_S, abs=1e-3)
    assert recording.channels["eda"].rate_hz == pytest.approx(4.0)
    assert recording.channels["eda"].values[:2].tolist() == [2.5, 2.6]  # the conductance, not the resistance
    assert recording.channels["hr"].values[:2].tolist() == [70.0, 71.0]


def test_a_shimmer_skin_resistance_in_kohms_is_read_as_the_conductance_it_is(tmp_path):
    path = _consensys_csv(tmp_path / "shimmer.csv", {"GSR_Skin_Resistance": ("kOhms", [400.0, 250.0])})
    assert read_recording(path).channels["eda"].values[:2].tolist() == pytest.approx([2.5, 4.0])  # 1000 / kOhm: uS


def test_a_shimmer_accelerometer_in_metres_per_second_squared_is_read_in_g(tmp_path):
    path = _consensys_csv(tmp_path / "shimmer.csv", {f"Accel_LN_{axis}": ("m/(s^2)", [value]) for axis, value
                                                     in (("X", 0.0), ("Y", 0.0), ("Z", 9.80665))})
    assert read_recording(path).channels["acc"].values[0].tolist() == pytest.approx([0.0, 0.0, 1.0])


def test_a_shimmer_signal_in_a_unit_the_reader_does_not_know_is_refused_naming_column_and_unit(tmp_path):
    path = _consensys_csv(tmp_path / "shimmer.csv", {"GSR_Skin_Conductance": ("mV", [1.0])})
    with pytest.raises(InputError, match=r"line 4: column Shimmer_8A5C_GSR_Skin_Conductance_CAL is in 'mV', "
                                         r"read in uS"):  # as the file spells it (was: in lower case)
        read_recording(path)


def test_a_line_after_excel_s_separator_line_is_named_by_its_number_in_the_file(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text(f"sep=;\ntimestamp;eda\n{START_UNIX_S:.0f};0,5\n{START_UNIX_S + 1:.0f};x\n")
    with pytest.raises(InputError, match="line 4: 'x' is not a number"):  # was: line 3, the separator line uncounted
        read_recording(path)


@pytest.mark.parametrize("column", ["timestamp", None])
def test_a_heart_rate_a_minute_is_refused_naming_its_spacing_not_read_as_a_window_s_heart(tmp_path, column):
    path = tmp_path / "daily.csv"
    rows = [f"{70 + i % 4}" for i in range(60)]  # an hour of a daily-summary export: one value a minute
    if column:
        path.write_text("timestamp,hr\n" + "".join(f"{START_UNIX_S + 60 * i:.0f},{r}\n" for i, r in enumerate(rows)))
    else:
        path.write_text(f"# rate_hz: {1 / 60!r}\nhr\n" + "".join(f"{r}\n" for r in rows))
    with pytest.raises(InputError, match=r"daily.csv: hr sampled at 0.0167 Hz \(a value every 60 s\); it needs "
                                         r"0.1 Hz or more"):  # was: read, each 30 s window one value or none
        process_recording(read_recording(path))


def test_a_heart_rate_every_five_seconds_is_still_read(tmp_path):
    path = tmp_path / "hr.csv"
    path.write_text("timestamp,hr\n" + "".join(f"{START_UNIX_S + 5 * i:.0f},{70 + i % 4}\n" for i in range(60)))
    assert process_recording(read_recording(path)).hr.values.size == 60


@pytest.mark.parametrize(("written", "offset_s"), [
    ("+01:00", 3600.0), ("-05:00", -18000.0), ("+0530", 19800.0), ("+2", 7200.0), ("UTC+01:00", 3600.0),
    ("Z", 0.0), ("-00:00", 0.0)])
def test_a_utc_offset_reads_as_iso_8601_writes_it(written, offset_s):
    assert parse_utc_offset_s(written, "--utc-offset") == offset_s


@pytest.mark.parametrize("written", ["CET", "+1:5", "+14:30", "-13:00", "+01:60", "1"])
def test_a_utc_offset_that_is_none_is_an_input_error_naming_the_option(written):
    with pytest.raises(InputError, match=r"^--utc-offset: '.*' is no UTC offset"):
        parse_utc_offset_s(written, "--utc-offset")


def test_a_utc_offset_with_sixty_minutes_is_said_to_be_wrong_in_its_minutes():
    with pytest.raises(InputError, match=r"'\+01:60' is no UTC offset: its minutes run from 00 to 59"):
        parse_utc_offset_s("+01:60", "--utc-offset")  # was: 'clocks run from -12:00 to +14:00'


def test_a_time_column_without_any_time_is_said_so_when_an_offset_is_given(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("timestamp,eda\n" + ",1.0\n" * 20)
    with pytest.raises(InputError, match="line 2: column 'timestamp' is empty"):  # was: the offset would go unused
        read_recording(path, utc_offset_s=3600.0)


@pytest.mark.parametrize(("unix_time", "device"), [(False, "Shimmer_8A5C"), (True, "Shimmer_8A5C"),
                                                   (False, "GSR_Patient"), (False, "Shimmer_8A5C_Session1")])
def test_a_shimmer_export_reads_the_devices_own_clock_where_it_has_no_unix_time(tmp_path, unix_time, device):
    device_ms = [81234.0 + 250.0 * i for i in range(80)]  # milliseconds since the device started
    path = _consensys_csv(tmp_path / "shimmer.csv", {"System_Timestamp": ("ms", [1.0e12 + 9 * i for i in range(80)]),
                                                     "Timestamp": ("ms", device_ms),
                                                     "GSR_Skin_Conductance": ("uS", [2.5, 2.6])}, unix_time=unix_time,
                          device=device)
    recording = read_recording(path)  # was, without the UNIX time: 'no time column ... and no sample rate given'
    eda = recording.channels["eda"]  # on the device's clock, not the PC's System_Timestamp beside it
    assert eda.rate_hz == pytest.approx(4.0) and eda.times_s[:3].tolist() == [0.0, 0.25, 0.5]
    assert recording.start_unix_s == (pytest.approx(START_UNIX_S, abs=1e-3) if unix_time else None)


def test_a_quoted_cell_with_a_comma_among_iso_times_is_one_cell_as_among_unix_times(tmp_path):
    times = [f"2023-11-14T22:13:{20 + i:02d}+01:00" for i in range(30)]
    path = tmp_path / "rec.csv"
    path.write_text("timestamp,hr\n" + "".join(f'{t},"{"72,5" if i == 12 else "72"}"\n' for i, t in enumerate(times)))
    with pytest.raises(InputError, match="line 14: '72,5' is not a number"):  # was: '3 values where earlier ...'
        read_recording(path)


def _polar_flow_with_row(path: Path, line: int, row: str, start_time: str = "10:00:00") -> Path:
    """A Polar Flow export whose file line ``line`` (4 onwards: the samples) is ``row``."""
    _polar_flow_csv(path, [_clock(t) for t in range(20)], start_time)
    lines = path.read_text().splitlines()
    lines[line - 1] = row
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(("row", "said"), [
    ("1,00:00:03,seventy,0.0,00:00,,,,,,,", r"line 7: 'seventy' is not a number in column 'HR \(bpm\)'"),
    ("1,0:0:3,72,0.0,00:00,,,,,,,", r"line 7: '0:0:3' is no elapsed time \(H:MM:SS\) in column 'Time'"),
    ("1,,72,0.0,00:00,,,,,,,", r"line 7: column 'Time' is empty, not a finite time"),  # was: column 'time_s'
])
def test_a_damaged_polar_flow_sample_is_refused_naming_its_line_and_column_as_the_file_writes_them(tmp_path, row,
                                                                                                    said):
    path = _polar_flow_with_row(tmp_path / "polar.csv", 7, row)
    with pytest.raises(InputError, match=said):
        read_recording(path)


def test_a_polar_flow_export_given_a_start_is_refused_naming_its_time_column_as_the_file_does(tmp_path):
    path = _polar_flow_csv(tmp_path / "polar.csv", [_clock(t) for t in range(20)])
    with pytest.raises(InputError, match="has its own time column 'Time'"):  # was: 'time_s'
        read_recording(path, start_unix_s=START_UNIX_S)


def test_a_polar_flow_start_out_of_this_century_is_refused_naming_the_summary_s_line(tmp_path):
    path = _polar_flow_csv(tmp_path / "polar.csv", [_clock(t) for t in range(20)])
    path.write_text(path.read_text().replace("05-12-2026", "05-12-1926"))
    with pytest.raises(InputError, match=r"line 2: its start '05-12-1926 10:00:00' is not between 2000 and 2100"):
        read_recording(path, utc_offset_s=3600.0)  # was: "'# start_unix_s' line -1359..." (no such line)


@pytest.mark.parametrize("offset_s", [None, 3600.0])
def test_a_polar_flow_start_that_is_no_date_is_refused_with_or_without_an_offset(tmp_path, offset_s):
    path = _polar_flow_csv(tmp_path / "polar.csv", [_clock(t) for t in range(20)], start_time="10h00")
    with pytest.raises(InputError, match=r"line 2: its start '05-12-2026 10h00' is no 'dd-mm-yyyy HH:MM:SS' date"):
        read_recording(path, utc_offset_s=offset_s)  # was, without an offset: read, the damage unsaid


def test_a_polar_flow_summary_without_its_start_is_read_without_an_offset_and_refused_with_one(tmp_path):
    path = _polar_flow_csv(tmp_path / "polar.csv", [_clock(t) for t in range(20)])
    path.write_text(path.read_text().replace(",05-12-2026,10:00:00,", ",,,"))  # date and time left empty
    recording = read_recording(path)  # nothing to check, nothing that places it: read on its elapsed time
    assert recording.channels["hr"].times_s.tolist() == list(range(20)) and recording.start_unix_s is None
    with pytest.raises(InputError, match=r"line 2: its start '' is no 'dd-mm-yyyy HH:MM:SS' date"):
        read_recording(path, utc_offset_s=3600.0)  # an offset asks for a start the file does not give


def test_a_polar_flow_heart_rate_no_body_gives_is_said_in_the_file_s_column_name(tmp_path, caplog):
    path = _polar_flow_with_row(tmp_path / "polar.csv", 7, "1,00:00:03,900,0.0,00:00,,,,,,,")
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        read_recording(path)
    assert "column HR (bpm): 1 heart rate reading(s) outside" in caplog.text  # was: 'column hr (bpm)'


def test_a_damaged_shimmer_value_is_refused_naming_the_file_s_column_and_line(tmp_path):
    path = _consensys_csv(tmp_path / "shimmer.csv", {"GSR_Skin_Conductance": ("uS", [2.5, 2.6])})
    lines = path.read_text().splitlines()
    lines[6] = lines[6].replace("2.5", "2,5 uS")  # line 7: a value a spreadsheet mangled
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"line 7: '2\.5 uS' is not a number in column "
                                         r"'Shimmer_8A5C_GSR_Skin_Conductance_CAL'"):  # was: no column named
        read_recording(path)


def test_a_shimmer_time_missing_is_refused_naming_the_file_s_time_column(tmp_path):
    path = _consensys_csv(tmp_path / "shimmer.csv", {"GSR_Skin_Conductance": ("uS", [2.5, 2.6])})
    lines = path.read_text().splitlines()
    lines[9] = "\t" + lines[9].split("\t", 1)[1]  # line 10: no time
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match="line 10: column 'Shimmer_8A5C_Timestamp_Unix_CAL' is empty"):
        read_recording(path)  # was: column 'timestamp'


def test_a_shimmer_export_given_a_start_is_refused_naming_its_time_column_as_the_file_does(tmp_path):
    path = _consensys_csv(tmp_path / "shimmer.csv", {"Timestamp": ("ms", [250.0 * i for i in range(80)]),
                                                     "GSR_Skin_Conductance": ("uS", [2.5, 2.6])}, unix_time=False)
    with pytest.raises(InputError, match="has its own time column 'Shimmer_8A5C_Timestamp_CAL'"):  # was: 'time_ms'
        read_recording(path, start_unix_s=START_UNIX_S)


def test_two_shimmer_pulse_waves_are_refused_naming_the_file_s_columns(tmp_path):
    path = _consensys_csv(tmp_path / "shimmer.csv", {"PPG_A12": ("mV", [1.0, 1.1]), "PPG_A13": ("mV", [1.0, 1.2])})
    with pytest.raises(InputError, match="two columns hold the bvp channel: Shimmer_8A5C_PPG_A12_CAL, "
                                         "Shimmer_8A5C_PPG_A13_CAL"):  # was: 'ppg, ppg'
        read_recording(path)


def test_a_shimmer_column_with_under_two_samples_is_said_in_the_file_s_name(tmp_path, caplog):
    path = _consensys_csv(tmp_path / "shimmer.csv", {"GSR_Skin_Conductance": ("uS", [2.5, 2.6]),
                                                     "PPGtoHR": ("BPM", [70.0] + [math.nan] * 79)})
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        read_recording(path)
    assert "column(s) Shimmer_8A5C_PPGtoHR_CAL hold fewer than two samples" in caplog.text  # was: 'hr'


@pytest.mark.parametrize("mark", [".", " ", "\u00a0", "\u202f"])
def test_thousands_grouped_in_a_decimal_comma_csv_read_as_the_numbers_they_are(tmp_path, mark):
    path = tmp_path / "rr.csv"
    intervals_ms = [812.5, 1034.25, 998.0, 1210.75]
    cells = [f"{ms:.2f}".replace(".", ",") for ms in intervals_ms]
    cells = [f"{cell[0]}{mark}{cell[1:]}" if len(cell) > 6 else cell for cell in cells]  # '1.034,25'
    path.write_text("timestamp;rr_ms\n" + "".join(f"{START_UNIX_S + i:.0f};{c}\n" for i, c in enumerate(cells)))
    # was: "'1034.25' is not a number" for a point ('1.034,25' read as '1.034.25'), the same for a space
    assert read_recording(path).channels["ibi"].values.tolist() == pytest.approx([ms / 1000 for ms in intervals_ms])


def test_a_point_a_decimal_comma_csv_leaves_unclear_is_refused_naming_line_column_and_value(tmp_path):
    path = tmp_path / "rec.csv"  # a pulse wave has no range to tell 1.034 from 1034
    path.write_text("sep=;\ntimestamp;bvp;note\n" + "".join(f"{START_UNIX_S + i:.0f};{c};1,5\n"
                                                                for i, c in enumerate(["812", "1.034", "998"])))
    with pytest.raises(InputError, match=r"rec.csv: line 4: column 'bvp' holds '1.034', 1.034 with a decimal "
                                         r"point or 1034 with a thousands mark, and no value in the columns read "
                                         r"\(timestamp, bvp\) tells which, nor its channel's range: write it as 1034 "
                                         r"or 1,034, or separate"):  # was: read as 1.034; then 'in the file'
        read_recording(path)  # the unread column's decimal comma tells nothing


@pytest.mark.parametrize(("header", "cells", "expected"), [
    ("timestamp;temp;note", ["33.125;\"ok, fine\"", "33.250;x", "33.375;y"], [33.125, 33.25, 33.375]),
    ("timestamp\ttemp\tnote", ["33.125\tok", "33.250\tx", "33.375\ty"], [33.125, 33.25, 33.375]),
    ("timestamp;rr_ms", ["812", "1.023", "998"], [0.812, 1.023, 0.998]),
])
def test_a_point_nothing_written_tells_is_read_as_its_channel_s_range_allows(tmp_path, header, cells, expected):
    path = tmp_path / "rec.csv"  # integer timestamps: no value but the one channel's tells the mark
    separator = "\t" if "\t" in header else ";"
    path.write_text(f"{header}\n" + "".join(f"{START_UNIX_S + i:.0f}{separator}{c}\n" for i, c in enumerate(cells)))
    # was: refused, 'no value in the file tells which: write it with its decimal comma'
    recording = read_recording(path)
    channel = recording.channels["temp" if "temp" in header else "ibi"]
    assert channel.values.tolist() == pytest.approx(expected)


def test_columns_whose_ranges_tell_the_point_two_ways_are_refused(tmp_path):
    path = tmp_path / "rec.csv"  # 33.125 degC says a decimal point, 1.023 ms a thousands mark
    path.write_text("timestamp;temp;rr_ms\n" + "".join(f"{START_UNIX_S + i:.0f};{t};{rr}\n" for i, (t, rr) in
                                                       enumerate([("33.125", "812"), ("33.250", "1.023")])))
    with pytest.raises(InputError, match=r"line 2: column 'temp' holds '33.125', which its channel's range reads "
                                         r"with a decimal point \(33.125, not 33125\), line 3: column 'rr_ms' "
                                         r"'1.023', which its range reads with a thousands mark \(1023, not 1.023\): "
                                         r"the columns read \(timestamp, temp, rr_ms\) say two ways"):
        read_recording(path)  # was: 'nor its channel's range' (both told), and the temperature alone named


@pytest.mark.parametrize(("header", "cells", "channel", "expected"), [
    ("time_s;rr_ms", ["812", "3.200", "1.023"], "ibi", [0.812, 1.023]),  # 3.2 or 3200 ms: no heart's either way
    ("time_s;skin_resistance_kohm;temp", ["523.456;33.125", "524.000;33.250"], "temp", [33.125, 33.25]),
])  # 523.456 or 523456 kOhm: a skin's either way
def test_a_cell_both_or_neither_of_its_range_s_readings_fit_leaves_the_point_to_the_next(tmp_path, header, cells,
                                                                                           channel, expected):
    path = tmp_path / "rec.csv"
    path.write_text(f"{header}\n" + "".join(f"{i};{c}\n" for i, c in enumerate(cells)))
    # was: refused, the column's first '1.234' alone looked at
    assert read_recording(path).channels[channel].values.tolist() == pytest.approx(expected)


def test_a_one_column_file_no_value_tells_is_advised_a_form_it_would_read(tmp_path):
    path = tmp_path / "bvp.csv"  # a pulse wave has no range to tell 1.234 from 1234
    path.write_text("# rate_hz: 64\nbvp\n12\n1.234\n-3\n")
    with pytest.raises(InputError, match=r"line 4: .* write it as 1234, or as 1,234 below a first line 'sep=;'$"):
        read_recording(path)  # was: 'or separate the file's columns by commas', which it was
    path.write_text("sep=;\n" + path.read_text().replace("1.234", "1,234"))
    assert read_recording(path).channels["bvp"].values.tolist() == [12, 1.234, -3]


def test_a_column_not_read_sends_no_decimal_comma_file_to_be_told_cell_by_cell(tmp_path, monkeypatch):
    path = tmp_path / "rec.csv"  # a clinic's export: its date column's points are no number's
    path.write_text("Datum;time_s;eda\n" + "".join(f"01.02.2024;{i};2,{i:02d}\n" for i in range(8)))
    told = []
    tell = csv_reader.decimal_mark_columns
    monkeypatch.setattr(csv_reader, "decimal_mark_columns", lambda *args: told.append(args[0]) or tell(*args))
    assert read_recording(path).channels["eda"].values.tolist() == pytest.approx([2 + i / 100 for i in range(8)])
    assert told == []  # was: the whole file told cell by cell, for the date (0.72 s to 2.84 s a million rows)
    path.write_text(path.read_text().replace(";2,07", ";2.5"))  # a point in a column read is told
    assert read_recording(path).channels["eda"].values.tolist()[-1] == 2.5 and told == [path]


@pytest.mark.parametrize("line_break", ["\r", "\u2028"])  # a Mac's 'CSV (Macintosh)' ends lines by CRs alone
def test_a_thousands_point_beside_a_column_not_read_is_told_whatever_ends_the_lines(tmp_path, line_break):
    path = tmp_path / "rr.csv"
    path.write_text(line_break.join(["id;time_s;rr_ms", "A;0;812", "B;1;1.023", "C;2;980", ""]), newline="")
    # was: the mark not seen past the first line, 1.023 read as 1.023 ms and left out as no body's
    assert read_recording(path).channels["ibi"].values.tolist() == pytest.approx([0.812, 1.023, 0.98])


@pytest.mark.parametrize("pad", [" ", "\u00a0", "\u202f", "\t"])
@pytest.mark.parametrize("quoted", [False, True])  # numpy's parser, or the lines read one by one
def test_a_thousands_point_padded_by_spaces_or_a_tab_is_told_on_either_path(tmp_path, pad, quoted):
    path = tmp_path / "rr.csv"
    last = '"3";"990";"73"' if quoted else "3;990;73"
    path.write_text(f"time_s;rr_ms;hr\n0;812;70,5\n1;{pad}1.023{pad};71\n2;980;72\n{last}\n")
    # was: 1.023 ms on numpy's path (a no-break space or tab) or the lines' (a tab), left out as no body's
    assert read_recording(path).channels["ibi"].values.tolist() == pytest.approx([0.812, 1.023, 0.98, 0.99])


def test_decimal_points_and_decimal_commas_that_each_tell_their_mark_read_as_written(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("time_s;bvp\n" + "".join(f"{i};{c}\n" for i, c in enumerate(["2.5", "2,6", "2.7", "1.234,5"])))
    # was: refused ('a decimal point beside a decimal comma ... leaves each point unclear'), though none was
    assert read_recording(path).channels["bvp"].values.tolist() == [2.5, 2.6, 2.7, 1234.5]


def test_a_point_in_a_file_written_with_both_marks_is_refused_saying_so(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("time_s;eda;temp\n" + "".join(f"{i};{e};{t}\n" for i, (e, t) in enumerate(
        [("2.5", "33,1"), ("1.234", "33,2"), ("2.7", "33,3")])))
    with pytest.raises(InputError, match=r"line 3: column 'eda' holds '1.234', 1.234 with a decimal point or 1234 "
                                         r"with a thousands mark, and the columns read \(time_s, eda, temp\) are "
                                         r"written two ways: line 2 holds "
                                         r"'2.5' in column 'eda', a decimal point, line 2 '33,1' in column 'temp'"):
        read_recording(path)


@pytest.mark.parametrize(("header", "rows", "said"), [
    # each column holding both marks: the second's comma comes first (line 3), the first's later (line 7)
    ("time_s;eda;temp", [("1.5", "33.5"), ("1.6", "33,5"), *[("1.6", "33.5")] * 3, ("1,7", "33.6"), ("1.234", "33.7")],
     r"line 2 holds '1.5' in column 'eda', a decimal point, line 3 '33,5' in column 'temp'"),
    # points in two columns numpy reads: the second's comes first (line 2), the first's later (line 7)
    ("time_s;eda;temp;bvp", [("1,5", "33", "2.5"), *[("1,6", "33", "2")] * 4, ("1,6", "33.5", "2"),
                             ("1.234", "33", "2")],
     r"line 2 holds '2.5' in column 'bvp', a decimal point, line 2 '1,5' in column 'eda'"),
], ids=["commas", "points"])
def test_a_file_written_with_both_marks_is_refused_naming_the_first_cell_of_each(tmp_path, header, rows, said):
    path = tmp_path / "rec.csv"
    path.write_text(header + "\n" + "".join(";".join([str(i), *row]) + "\n" for i, row in enumerate(rows)))
    # was: the first in the first column holding one ('line 7 '1,7' in column 'eda'', 'line 7 '33.5' in column 'temp'')
    with pytest.raises(InputError, match=f"are written two ways: {said}, a decimal comma or thousands marks"):
        read_recording(path)


def test_a_decimal_comma_in_one_column_makes_the_points_of_another_thousands_marks(tmp_path):
    path = tmp_path / "rr.csv"
    rows = [("812", "0,51"), ("1.034", "0,52"), ("998", "0,53")]
    path.write_text("timestamp;rr_ms;eda\n" + "".join(f"{START_UNIX_S + i:.0f};{rr};{eda}\n"
                                                       for i, (rr, eda) in enumerate(rows)))
    recording = read_recording(path)  # was: '1.034' refused, its column alone not telling
    assert recording.channels["ibi"].values.tolist() == pytest.approx([0.812, 1.034, 0.998])


# what a decimal-comma locale's spreadsheet writes: an exponent ('5,1E-1'), a lone comma among whole numbers
# (a heart rate's '71,5'); and a negative '-1.034' beside them, a thousands mark too
@pytest.mark.parametrize(("told_by", "told_values"), [
    (["5,1E-1", "5,25E-1", "5,3E-1", "5,4E-1"], [0.51, 0.525, 0.53, 0.54]),
    (["71", "71,5", "72", "73"], [71, 71.5, 72, 73]),
])
def test_a_decimal_comma_however_written_makes_another_column_s_points_thousands_marks(tmp_path, told_by,
                                                                                        told_values):
    path = tmp_path / "rec.csv"  # a pulse wave has no range: only the other column tells its '1.034'
    pulse = ["812", "-1.034", "998", "1.210"]
    column = "eda" if "E" in told_by[0] else "hr"
    rows = zip(pulse, told_by, strict=True)
    path.write_text(f"time_s;bvp;{column}\n" + "".join(f"{i};{b};{c}\n" for i, (b, c) in enumerate(rows)))
    recording = read_recording(path)
    assert recording.channels["bvp"].values.tolist() == [812, -1034, 998, 1210]
    assert recording.channels[column].values.tolist() == pytest.approx(told_values)


@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_file_whose_every_value_has_three_decimals_reads_its_points_as_the_decimal_points_they_are(
    tmp_path, separator
):
    rows = [(START_UNIX_S + i / 4, 2.5 + i / 1000, 33.0 + i / 8) for i in range(40)]
    plain, logged = tmp_path / "plain.csv", tmp_path / "logged.csv"
    plain.write_text("timestamp,eda,temp\n" + "".join(f"{t:.3f},{e:.3f},{c:.3f}\n" for t, e, c in rows))
    logged.write_text(plain.read_text().replace(",", separator))  # '2.504', '33.125': each alone could be thousands
    recording, expected = read_recording(logged), read_recording(plain)  # was: '2.500' refused as unclear
    for name in ("eda", "temp"):
        assert np.array_equal(recording.channels[name].values, expected.channels[name].values)
        assert np.array_equal(recording.channels[name].times_s, expected.channels[name].times_s)


def test_a_shimmer_export_writing_three_decimals_reads_its_skin_conductance_and_heart_rate(tmp_path):
    path = _consensys_csv(tmp_path / "shimmer.csv", {"GSR_Skin_Conductance": ("uS", [2.5, 2.504, 2.625]),
                                                     "PPGtoHR": ("BPM", [72.0, 72.125, 73.0])}, number_format=".3f")
    assert "\t2.500\t72.000\t" in path.read_text()
    recording = read_recording(path)  # was: 'holds '2.500', 2.5 with a decimal point or 2500 with a thousands mark'
    assert recording.channels["eda"].values[:3].tolist() == [2.5, 2.504, 2.625]
    assert recording.channels["hr"].values[:3].tolist() == [72.0, 72.125, 73.0]


@pytest.mark.parametrize("odd", ["", "12.34", "1.5e3", "1 234,5", "1.2345,6"])  # a point or space grouping none
def test_a_column_s_thousands_points_rewritten_at_once_read_as_cell_by_cell(odd):
    cells = ["-4.912,37", "1.234", "12.345.678,9", "561,27", "", "nan", "+1.000,", "7", "2.500,5", odd]
    at_once = text_reader._with_decimal_points("\n".join(cells), thousands=True).split("\n")
    one_by_one = [text_reader._decimal_point_text(cell, thousands=True) for cell in cells]  # each cell's rewriting
    assert [cell.strip() for cell in at_once] == [cell.strip() for cell in one_by_one]
    assert text_reader.column_numbers(at_once)[0][:9].tolist() == pytest.approx(
        [-4912.37, 1234, 12345678.9, 561.27, math.nan, math.nan, 1000, 7, 2500.5], nan_ok=True)


def test_a_tab_separated_file_of_decimal_points_is_parsed_by_numpy_straight_into_floats(tmp_path, monkeypatch):
    path = tmp_path / "rec.csv"
    path.write_text("time_s\tbvp\teda\n" + "".join(f"{i / 64:.4f}\t{np.sin(i / 5):.2f}\t{2 + i / 1e4:.4f}\n"
                                                     for i in range(640)))
    read_columns, returned = text_reader.csv_columns, []
    spy = lambda *args: returned.append(read_columns(*args)) or returned[-1]  # noqa: E731
    for module in (text_reader, csv_reader):
        monkeypatch.setattr(module, "csv_columns", spy)
    recording = read_recording(path)  # was: every column read as text and told cell by cell (4-6 times slower)
    assert recording.channels["eda"].values[:2].tolist() == [2.0, 2.0001]
    assert returned and all(isinstance(column, np.ndarray) for columns in returned for column in columns.values())


def test_a_logger_s_decimal_points_in_a_tab_separated_csv_stay_decimal_points(tmp_path):
    path = tmp_path / "rec.csv"
    values = ["2.512", "2.5", "2.625"]  # '2.512' alone could be 2512: the column's other values tell
    path.write_text("timestamp\teda\n" + "".join(f"{START_UNIX_S + i:.0f}\t{v}\n" for i, v in enumerate(values)))
    assert read_recording(path).channels["eda"].values.tolist() == [2.512, 2.5, 2.625]


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_a_quoted_header_name_holding_the_separator_or_a_comma_is_one_column(tmp_path, caplog, separator):
    path, plain = tmp_path / "rec.csv", tmp_path / "plain.csv"
    rows = [(START_UNIX_S + i / 4, 1 + i / 100, 70 + i % 3) for i in range(40)]
    plain.write_text("timestamp,eda\n" + "".join(f"{t:.2f},{e:.2f}\n" for t, e, _ in rows))
    decimal = "," if separator != "," else "."
    lines = [["timestamp", '"Heart rate, bpm"', "eda"],
             *([f"{t:.2f}".replace(".", decimal), str(h), f"{e:.2f}".replace(".", decimal)] for t, e, h in rows)]
    path.write_text("".join(separator.join(cells) + "\n" for cells in lines))
    # was, separated by semicolons or tabs: the comma in the quoted name made it read as a comma CSV
    recording, expected = read_recording(path), read_recording(plain)
    assert np.array_equal(recording.channels["eda"].values, expected.channels["eda"].values)
    assert np.array_equal(recording.channels["eda"].times_s, expected.channels["eda"].times_s)
    assert "column(s) Heart rate, bpm are no known channel" in caplog.text


def _shimmer_with_clocks(path: Path, clocks: dict[str, tuple[str, list[str]]], rows: int = 40) -> Path:
    """A small Shimmer (Consensys) export of skin conductance beside ``clocks``: name -> (unit, cells)."""
    names = [*(f"Shimmer_8A5C_{n}_CAL" for n in clocks), "Shimmer_8A5C_GSR_Skin_Conductance_CAL"]
    lines = ['"sep=\t"', "\t".join(names), "\t".join(["CAL"] * len(names)),
             "\t".join([*(unit for unit, _ in clocks.values()), "uS"])]
    lines += ["\t".join([*(cells[i] for _, cells in clocks.values()), f"{2.5 + i / 100:g}"]) for i in range(rows)]
    path.write_text(lines[0] + "\n" + "".join(f"{line}\t\n" for line in lines[1:]))
    return path


def _formatted(unix_s: float, offset_s: float) -> str:
    local = datetime.fromtimestamp(unix_s + offset_s, timezone.utc)
    return local.strftime("%Y/%m/%d %H:%M:%S.") + f"{local.microsecond // 1000:03d}"


def test_a_shimmer_export_s_formatted_time_is_read_at_the_offset_stated_for_the_pc_s_clock(tmp_path):
    formatted = [_formatted(START_UNIX_S + i / 4, 3600.0) for i in range(40)]  # the PC's local time, UTC+01:00
    path = _shimmer_with_clocks(tmp_path / "shimmer.csv", {"Timestamp_FormattedUnix": ("no_units", formatted)})
    recording = read_recording(path, utc_offset_s=3600.0)  # was: 'no time column ... and no sample rate given'
    assert recording.start_unix_s == pytest.approx(START_UNIX_S, abs=1e-3)
    assert recording.channels["eda"].rate_hz == pytest.approx(4.0)
    with pytest.raises(InputError, match=r"line 5: '\d{4}/\d\d/\d\d .*' has no UTC offset"):
        read_recording(path)


def test_a_shimmer_export_s_formatted_time_without_an_offset_gives_way_to_the_device_s_own_clock(tmp_path, caplog):
    device_ms = [f"{81234.0 + 250.0 * i:.3f}" for i in range(40)]
    formatted = [_formatted(START_UNIX_S + i / 4, 3600.0) for i in range(40)]
    path = _shimmer_with_clocks(tmp_path / "shimmer.csv", {"Timestamp": ("ms", device_ms),
                                                           "Timestamp_FormattedUnix": ("no_units", formatted)})
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        recording = read_recording(path)  # was: 'line 5: '2023/11/14 ...' has no UTC offset'
    assert recording.start_unix_s is None and recording.channels["eda"].times_s[:2].tolist() == [0.0, 0.25]
    assert caplog.text.count("is the PC's local time with no UTC offset; read on the device's own Timestamp") == 1
    assert "--physio-utc-offset" in caplog.text  # the option said, as the refusal of ISO times without one says it
    assert caplog.text.count("Timestamp_FormattedUnix") == 1  # was twice: this warning and the columns left out
    assert read_recording(path, utc_offset_s=3600.0).start_unix_s == pytest.approx(START_UNIX_S, abs=1e-3)


def test_a_shimmer_export_s_unix_times_place_it_before_its_formatted_or_synchronised_ones(tmp_path):
    unix_ms = [f"{(START_UNIX_S + i / 4) * 1000:.3f}" for i in range(40)]
    sync_ms = [f"{(START_UNIX_S + 0.5 + i / 4) * 1000:.3f}" for i in range(40)]
    formatted = [_formatted(START_UNIX_S + 9 + i / 4, 0.0) for i in range(40)]
    sync = _shimmer_with_clocks(tmp_path / "sync.csv", {"TimestampSync_Unix": ("ms", sync_ms),
                                                        "Timestamp_FormattedUnix": ("no_units", formatted)})
    assert read_recording(sync).start_unix_s == pytest.approx(START_UNIX_S + 0.5, abs=1e-3)  # was: no time column
    both = _shimmer_with_clocks(tmp_path / "both.csv", {"Timestamp_Unix": ("ms", unix_ms),
                                                        "TimestampSync_Unix": ("ms", sync_ms)})
    assert read_recording(both).start_unix_s == pytest.approx(START_UNIX_S, abs=1e-3)


def test_the_clocks_a_shimmer_export_is_not_read_on_are_said_as_other_clocks_not_as_unknown_columns(tmp_path, caplog):
    unix_ms = [f"{(START_UNIX_S + i / 4) * 1000:.3f}" for i in range(40)]
    path = _shimmer_with_clocks(tmp_path / "shimmer.csv", {
        "Timestamp_Unix": ("ms", unix_ms), "TimestampSync_Unix": ("ms", unix_ms),
        "Timestamp": ("ms", [f"{81234.0 + 250.0 * i:.3f}" for i in range(40)])})
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        recording = read_recording(path)
    assert recording.start_unix_s == pytest.approx(START_UNIX_S, abs=1e-3)
    # was: 'column(s) Shimmer_8A5C_TimestampSync_Unix_CAL, Shimmer_8A5C_Timestamp_CAL are no known channel'
    assert "no known channel" not in caplog.text
    assert ("column(s) Shimmer_8A5C_TimestampSync_Unix_CAL, Shimmer_8A5C_Timestamp_CAL hold another clock; read on "
            "'Shimmer_8A5C_Timestamp_Unix_CAL', its wall clock, without them") in caplog.text


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf_16_without_its_byte_order_mark_is_said_as_such(tmp_path, encoding):
    path = tmp_path / "export.csv"
    path.write_bytes("time_s,eda\n0,1.5\n1,1.6\n2,1.7\n".encode(encoding))  # no BOM, as some tools write it
    with pytest.raises(InputError, match="UTF-16 without a byte-order mark"):  # was: 'no known channel column'
        read_recording(path)


def _first_control_offset(data: bytes) -> int:
    return next(offset for offset, value in enumerate(data)
                if value == 0x7F or (value < 0x20 and value not in (0x09, 0x0A, 0x0C, 0x0D)))


@pytest.mark.parametrize("data", [
    b"\x01\x02\x03time_s,eda\n" + b"\x00" * 32,  # control bytes before a tail of NULs
    bytes([0x01, 0x02, 0x03, 0x04, 0x05]) * 20,  # control bytes alone
    b"\x01\x02\x03,\x04\x7f\n0,1\n1,2\n",  # a header of control bytes
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",  # an image named .csv
    b"time_s,eda\n0,1\n\x001,2\n2,3\n",  # a stray NUL among the first bytes (was: UTF-16?)
])
def test_a_binary_file_given_as_a_csv_is_refused_naming_its_first_control_byte(tmp_path, caplog, data):
    path = tmp_path / "rec.csv"
    path.write_bytes(data)
    # was: a line of another width, 'empty', 'no known channel column' or, for the image, UTF-16 without its mark
    with pytest.raises(InputError) as refused:
        read_recording(path)
    offset = _first_control_offset(data)
    assert str(refused.value) == f"{path}: not text (a binary file: byte 0x{data[offset]:02x} at offset {offset})"
    with pytest.raises(InputError, match="not text"):  # the reader itself, whose warnings no caller holds back
        read_csv(path)
    assert caplog.text == ""  # was, for the control bytes before NULs: 'a logger cut off? Read the text before them'


def test_a_control_character_in_a_utf16_file_is_refused_at_its_byte_offset(tmp_path):
    path = tmp_path / "rec.csv"
    text = "time_s,eda\n" + "".join(f"{i},1.{i}\n" for i in range(10)) + "10,\x001.0\n" + "".join(
        f"{i},1.{i}\n" for i in range(11, 20))  # within the text: a tail of NULs is a logger's cut off
    path.write_bytes(text.encode("utf-16"))  # its byte-order mark first, then two bytes a character
    with pytest.raises(InputError) as refused:
        read_recording(path)
    assert str(refused.value) == f"{path}: not text (a binary file: byte 0x00 at offset {2 + 2 * text.index(chr(0))})"


def test_a_form_feed_between_lines_reads_as_the_line_break_it_is(tmp_path):
    # a page break is text: allowed beside tabs, CRs and LFs, counted a line break as str.splitlines counts it
    lines = ["time_s,eda"] + [f"{i},1.{i}" for i in range(20)]
    (tmp_path / "newlines.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "page.csv").write_text("\n".join(lines[:10]) + "\f" + "\n".join(lines[10:]) + "\n")
    paged, plain = read_recording(tmp_path / "page.csv"), read_recording(tmp_path / "newlines.csv")
    assert paged.channels["eda"].values.tolist() == plain.channels["eda"].values.tolist()


# as DOS-era tools close a text file: one, a run of them, or one and a last line break
@pytest.mark.parametrize("end", [b"\x1a", b"\x1a\x1a\x1a", b"\x1a\r\n", b"\x1a\n"])
@pytest.mark.parametrize("last_break", ["\n", ""])  # its last line ended by the DOS bytes alone
# a tail of NULs after them: the space of a file closed whole, padded (written ahead), no logger's cut off
@pytest.mark.parametrize("nuls", [0, 16])
def test_a_dos_end_of_file_byte_after_the_last_line_is_the_end_of_the_text(tmp_path, caplog, end, last_break, nuls):
    text = "time_s,eda\n" + "".join(f"{i},1.{i}\n" for i in range(20))
    (tmp_path / "plain.csv").write_text(text)
    # was: a run, or a line break after it, 'not text'; with NULs after one, its last line 'cut short'
    (tmp_path / "dos.csv").write_bytes(text[:-1].encode() + last_break.encode() + end + b"\x00" * nuls)
    dos, plain = read_recording(tmp_path / "dos.csv"), read_recording(tmp_path / "plain.csv")
    assert dos.channels["eda"].values.tolist() == plain.channels["eda"].values.tolist()
    assert caplog.text == ""  # was, with NULs after them: 'ends in 16 NUL bytes ...: a logger cut off?'
    (tmp_path / "inside.csv").write_bytes(text.encode() + b"\x1a" + b"20,1.2\n")  # anywhere else: no text's
    with pytest.raises(InputError, match="not text"):
        read_recording(tmp_path / "inside.csv")


# UTF-16 with its mark too, whose last unit's NUL byte (an ASCII character's) is its own
@pytest.mark.parametrize(("encoding", "mark"), [("utf-8", b""), ("utf-16-le", codecs.BOM_UTF16_LE),
                                                ("utf-16-be", codecs.BOM_UTF16_BE)])
@pytest.mark.parametrize("cut", ["", "21,1."], ids=["after-a-line", "inside-a-line"])
def test_a_file_ending_in_nuls_is_read_up_to_them_with_a_warning(tmp_path, caplog, cut, encoding, mark):
    text = "time_s,eda\n" + "".join(f"{i},1.{i}\n" for i in range(21))  # a logger cut off by a power cut
    (tmp_path / "plain.csv").write_text(text)
    cut_off = mark + (text + cut).encode(encoding)  # UTF-16 was refused as binary
    (tmp_path / "cut.csv").write_bytes(cut_off + b"\x00" * 4096)  # was: 'not text (a binary file: byte 0x00...)'
    recording = read_recording(tmp_path / "cut.csv")
    # the whole lines alone: the one cut short would read 1.0, no value the logger wrote
    plain = read_recording(tmp_path / "plain.csv")
    assert recording.channels["eda"].values.tolist() == plain.channels["eda"].values.tolist()
    said = f"ends in 4096 NUL bytes from offset {len(cut_off)}: a logger cut off? Read the text before them"
    assert said in caplog.text and ("its last line, cut short" in caplog.text) == bool(cut)


@pytest.mark.parametrize(("encoding", "mark"), [("utf-8", b""), ("utf-16-le", codecs.BOM_UTF16_LE),
                                                ("utf-16-be", codecs.BOM_UTF16_BE)])
# line breaks beside CR and LF that the readers count (a page break; a Unicode writer's next line and line separator)
@pytest.mark.parametrize("last_break", ["\f", "\x85", "\u2028"])
def test_a_last_line_ended_by_any_line_break_before_nuls_is_read_whole(tmp_path, caplog, encoding, mark, last_break):
    text = "time_s,eda\n" + "".join(f"{i},1.{i}\n" for i in range(20)) + f"20,1.2{last_break}"
    (tmp_path / "plain.csv").write_text(text.replace(last_break, "\n"))
    (tmp_path / "cut.csv").write_bytes(mark + text.encode(encoding) + b"\x00" * 64)
    recording, plain = read_recording(tmp_path / "cut.csv"), read_recording(tmp_path / "plain.csv")
    # was: its last line left out, 'its last line, cut short' (LF and CR alone were looked for)
    assert recording.channels["eda"].values.tolist() == plain.channels["eda"].values.tolist()
    assert "a logger cut off? Read the text before them" in caplog.text and "cut short" not in caplog.text


# cut off after a line, closed by a DOS end-of-file (whose NULs are space written ahead), UTF-16 with its mark
@pytest.mark.parametrize(("encoding", "mark", "end"), [("utf-8", b"", b""), ("utf-8", b"", b"\x1a"),
                                                       ("utf-16-le", codecs.BOM_UTF16_LE, b"")])
def test_a_file_ending_in_nuls_is_decoded_holding_its_text_alone_beside_its_bytes(tmp_path, encoding, mark, end):
    lines = "time_s,eda\n" + "".join(f"{i},1.{i % 1000:03d}\n" for i in range(1_000_000))  # 12.6 MB
    text_bytes = mark + lines.encode(encoding) + end
    data = text_bytes + b"\x00" * len(text_bytes)
    text = text_reader.decode_text(tmp_path / "cut.csv", data)
    assert text == lines
    # the text decoded (and the control check's chunks), no copy of its bytes nor of it (was: two or three times the
    # text's, in slices and strips)
    peak = peak_traced_bytes(text_reader.decode_text, tmp_path / "cut.csv", data)
    assert peak < 1.5 * sys.getsizeof(text)


@pytest.mark.parametrize(("encoding", "mark"), [("utf-8", b""), ("utf-16-le", codecs.BOM_UTF16_LE)])
def test_a_file_of_nuls_alone_is_refused_as_a_logger_cut_off(tmp_path, encoding, mark):
    path = tmp_path / "cut.csv"
    head = mark + "time_s,e".encode(encoding)
    path.write_bytes(head + b"\x00" * 512)  # cut off inside its header
    with pytest.raises(InputError, match=f"ends in 512 NUL bytes from offset {len(head)}: a logger cut off. No whole "
                                         "line of"):
        read_recording(path)


def _grouped_line(line: str) -> str:
    """A comma CSV's line 'time_s,bvp,eda,hr' as a decimal-comma locale writes it, the pulse wave's thousands grouped
    by points ('-4.912,37')."""
    time_s, bvp, eda, hr = line.split(",")
    return ";".join((time_s.replace(".", ","), _german(f"{float(bvp):,.2f}"), eda.replace(".", ","), hr))


@pytest.mark.parametrize("eda_gap", [False, True])  # an empty cell
# a quoted cell (read line by line, every point told cell by cell), a date column's points beside it too
@pytest.mark.parametrize("layout", ["plain", "quoted", "quoted, dated"])
def test_a_thousands_file_s_columns_are_read_straight_into_the_numbers_its_comma_twin_holds(tmp_path, monkeypatch,
                                                                                            eda_gap, layout):
    rows = [(i / 64, 5000.0 * np.sin(i / 5), 2.0 + i / 1e4, 60 + i % 7) for i in range(640)]
    plain, grouped = tmp_path / "plain.csv", tmp_path / "grouped.csv"
    plain.write_text("time_s,bvp,eda,hr\n" + "".join(f"{t:.4f},{b:.2f},{'' if eda_gap and i == 9 else f'{e:.4f}'},{h}\n"
                                                     for i, (t, b, e, h) in enumerate(rows)))
    lines = ["time_s;bvp;eda;hr", *(_grouped_line(line) for line in plain.read_text().splitlines()[1:])]
    assert "0,0312;1.947,09;2,0002;62" in lines  # beside a heart rate's integers
    if layout != "plain":
        lines[1] = '"0";' + lines[1].partition(";")[2]
        monkeypatch.setattr(text_reader, "LINES_CHUNK_CHARS", 100)  # a column's text joined from chunks of lines
    if layout == "quoted, dated":
        lines = [f"{'Datum' if i == 0 else '01.02.2024'};{line}" for i, line in enumerate(lines)]
    grouped.write_text("\n".join(lines) + "\n")
    tell, returned = text_reader.decimal_mark_columns, []
    monkeypatch.setattr(csv_reader, "decimal_mark_columns", lambda *args: returned.append(tell(*args)) or returned[-1])
    recording, expected = read_recording(grouped), read_recording(plain)
    for name in ("bvp", "eda", "hr"):
        assert np.array_equal(recording.channels[name].values, expected.channels[name].values)
        assert np.array_equal(recording.channels[name].times_s, expected.channels[name].times_s)
    # was: every column held as a string a cell, then rewritten (461 MiB for the benchmark's million rows); a
    # column with an empty cell, and every column of a quoted file, returned so (488 MiB)
    assert [index for index, column in returned[0].items() if not isinstance(column, np.ndarray)] == []


@pytest.mark.parametrize("quoted", [False, True])
def test_an_empty_column_beside_told_points_reads_without_numpy_s_warning(tmp_path, quoted):
    path = tmp_path / "rec.csv"
    rows = [f"{i};1.{i % 10}00,5;" for i in range(40)]  # thousands points told by the decimal commas; eda empty
    rows[0] = '"0"' + rows[0][1:] if quoted else rows[0]
    path.write_text("time_s;bvp;eda\n" + "\n".join(rows) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # was: numpy's 'loadtxt: input contained no data' for the eda column
        recording = read_recording(path)
    assert recording.channels["bvp"].values[:2].tolist() == [1000.5, 1100.5] and "eda" not in recording.channels


def _beats(times_s: np.ndarray, intervals_s: np.ndarray, time_column: str, time_scale: float) -> str:
    """A beat-interval CSV: its times in ``time_column`` as ``times_s`` times ``time_scale``, intervals in rr_ms."""
    return f"{time_column},rr_ms\n" + "".join(f"{t * time_scale:.6g},{v * 1000:.0f}\n"
                                               for t, v in zip(times_s, intervals_s, strict=True))


@pytest.mark.parametrize(("time_column", "time_scale", "said"), [
    ("time_s", 1000.0, r"column 'time_s' steps by a median 8\d\d s between beats, a thousand times their intervals "
                       r"in column 'rr_ms' \(a median 0\.8\d* s\): its times are in ms, not s\?$"),
    ("time_ms", 1.0, r"column 'time_ms' steps by a median 0\.8\d* ms between beats, a thousandth of their "
                       r"intervals in column 'rr_ms' \(a median 0\.8\d* s\): its times are in s, not ms, or each "
                       r"beat's interval is repeated on every row of a sampled grid \(the column is read a row a "
                       r"beat\)\?$"),
    ("time_ns", 1e12, r"column 'time_ns' steps by a median 8\.\d+e\+11 ns between beats, a thousand times their "
                      r"intervals in column 'rr_ms' \(a median 0\.8\d* s\): its times are in another unit than ns\?$"),
])
def test_beats_on_a_time_column_in_another_unit_than_its_name_are_refused_naming_both_columns(
        tmp_path, time_column, time_scale, said):
    intervals_s = 0.8 + 0.02 * (np.arange(300) % 3)
    path = tmp_path / "strap.csv"
    path.write_text(_beats(np.cumsum(intervals_s), intervals_s, time_column, time_scale))
    with pytest.raises(InputError, match=said):  # was, for ms in time_s: 23,835 windows at quality 0, exit 0
        read_recording(path)


@pytest.mark.parametrize("dropped_every", [4, 2], ids=["a-quarter", "half"])
def test_beats_in_ms_on_a_time_s_column_are_refused_also_where_the_strap_dropped_beats(tmp_path, dropped_every):
    intervals_s = 0.8 + 0.02 * (np.arange(600) % 3)
    kept = np.arange(600) % dropped_every != 0  # half: every step spans two intervals (read as s: 45 h)
    path = tmp_path / "strap.csv"
    path.write_text(_beats(np.cumsum(intervals_s)[kept], intervals_s[kept], "time_s", 1000.0))
    with pytest.raises(InputError, match=r"its times are in ms, not s\?$"):
        read_recording(path)


def test_irregular_beats_in_ms_each_row_giving_the_interval_to_the_next_beat_are_refused(tmp_path):
    intervals_ms = np.round(np.random.default_rng(1).uniform(400, 1200, 150))  # atrial fibrillation's rhythm
    times_ms = np.cumsum(intervals_ms)
    path = tmp_path / "af.csv"
    path.write_text("time_s,rr_ms\n" + "".join(f"{t:.0f},{v:.0f}\n"
                                               for t, v in zip(times_ms[:-1], intervals_ms[1:], strict=True)))
    with pytest.raises(InputError, match=r"its times are in ms, not s\?$"):  # read as s: 23,921 windows at quality 0
        read_recording(path)


def test_a_sparse_beat_file_a_beat_every_few_hundred_seconds_is_read_on_its_time_column(tmp_path):
    rng = np.random.default_rng(4)
    times_s = np.sort(rng.uniform(0.0, 3 * 3600.0, 27))  # 27 beats kept over three hours
    intervals_s = rng.uniform(0.7, 0.9, 27)
    path = tmp_path / "sparse.csv"
    path.write_text(_beats(times_s, intervals_s, "time_s", 1.0))
    beats = read_recording(path).channels["ibi"]  # was: refused, 'its times are in ms, not s?'
    assert beats.values.size == 27 and beats.times_s[-1] == pytest.approx(times_s[-1] - times_s[0], abs=0.1)  # 6 digits


def test_beat_intervals_repeated_on_a_sampled_grid_are_refused_saying_so_not_as_a_time_unit(tmp_path):
    times_s = np.arange(0.0, 30.0, 0.001)  # a 1 kHz grid, each beat's interval on every row until the next beat
    intervals_s = np.full(times_s.size, 0.8)
    path = tmp_path / "grid.csv"
    path.write_text(_beats(times_s, intervals_s, "time_s", 1.0))
    with pytest.raises(InputError) as refused:
        read_recording(path)
    said = str(refused.value)
    assert said.endswith("each beat's interval is repeated on every row of a sampled grid (the column is read a row "
                         "a beat)?")
    assert "its times are in" not in said  # was: 'its times are in another unit, not s?' (kiloseconds)


def test_beats_a_strap_dropped_now_and_then_and_over_a_minute_are_read_on_their_time_column(tmp_path):
    intervals_s = 0.8 + 0.02 * (np.arange(600) % 3)
    times_s = np.cumsum(intervals_s)
    kept = (np.arange(600) % 4 != 0) & ~((times_s > 200) & (times_s < 290))  # every 4th beat, and 90 s, dropped
    path = tmp_path / "strap.csv"
    path.write_text(_beats(times_s[kept], intervals_s[kept], "time_s", 1.0))
    beats = read_recording(path).channels["ibi"]
    assert beats.values.size == kept.sum() and beats.times_s[-1] == pytest.approx(times_s[-1] - times_s[kept][0])


def test_the_last_row_of_hours_received_within_a_delivery_and_the_clocks_drift_is_not_said_to_disagree(tmp_path,
                                                                                                        caplog):
    """Over 2 h the clocks' drift allows 0.72 s beside a delivery's 2 s: a last row 2.5 s late is within it, 3 s not."""
    rows = 14_400  # a row every 0.5 s, each received 0.3 s after it came
    for late_s, said in ((2.5, False), (3.0, True)):
        received_s = [START_UNIX_S + 0.3 + i * 0.5 + (late_s if i == rows - 1 else 0.0) for i in range(rows)]
        caplog.clear()
        with caplog.at_level("WARNING", logger="emotrace.physio"):
            recording = read_csv(_received_csv(tmp_path / "rec.csv", [f"{s:.3f}" for s in received_s], False))
        assert recording.start_unix_s == pytest.approx(START_UNIX_S + 0.3, abs=1e-3)
        assert ("the two clocks disagree" in caplog.text) == said


def test_a_beat_file_kept_every_quarter_hour_some_beats_minutes_apart_is_read_on_its_time_column(tmp_path):
    """Steps near a thousand intervals, but a quarter of them far short of one: no ms in its times, a sparse file."""
    steps_s = np.where(np.arange(30) % 4 == 0, 200.0, 900.0)  # median 900 s, 1125 times the 0.8 s interval
    path = tmp_path / "sparse.csv"
    path.write_text(_beats(np.cumsum(steps_s), np.full(30, 0.8), "time_s", 1.0))
    beats = read_recording(path).channels["ibi"]
    assert beats.values.size == 30 and beats.times_s[-1] == pytest.approx(steps_s[1:].sum())


def test_ten_beats_in_ms_on_a_time_s_column_are_refused_as_its_times_in_ms(tmp_path):
    intervals_s = 0.8 + 0.02 * (np.arange(10) % 3)  # six steps or more tell the unit
    path = tmp_path / "strap.csv"
    path.write_text(_beats(np.cumsum(intervals_s), intervals_s, "time_s", 1000.0))
    with pytest.raises(InputError, match=r"its times are in ms, not s\?$"):
        read_recording(path)


def test_rows_whose_values_are_all_left_out_before_the_first_sample_are_said_as_left_out(tmp_path, caplog):
    path = tmp_path / "rec.csv"
    path.write_text("time_s,eda,temp\n" + "".join(
        f"{i / 4},{500 if i < 10 else 2.0},{'' if i < 10 else 33.0}\n" for i in range(80)))  # a shorted electrode
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        eda = read_csv(path).channels["eda"]
    assert eda.start_s == 0.0 and eda.values.size == 70
    assert "its first 2.5 s of rows hold no value read: what is written there is left out" in caplog.text


def test_a_semicolon_csv_s_start_and_rate_lines_are_read_with_their_decimal_commas(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("# start_unix_s: 1644227574,5\n# rate_hz: 4,0\neda;temp\n" + "".join(
        f"{1 + i / 100:.2f};33,{i % 10}\n".replace(".", ",") for i in range(40)))
    recording = read_csv(path)  # as a spreadsheet in a decimal-comma locale writes every number
    assert recording.start_unix_s == 1644227574.5 and recording.channels["eda"].rate_hz == 4.0


def test_a_polar_flow_export_past_its_first_hour_reads_its_hours_as_hours(tmp_path):
    path = _polar_flow_csv(tmp_path / "polar.csv", [_clock(t) for t in range(3700)])
    hr = read_recording(path, utc_offset_s=3600.0).channels["hr"]
    assert hr.values.size == 3700 and hr.times_s[3600:3602].tolist() == [3600.0, 3601.0]  # '01:00:00' is 3600 s


def test_a_polar_flow_time_of_seventy_five_seconds_is_refused_as_no_elapsed_time(tmp_path):
    path = _polar_flow_csv(tmp_path / "polar.csv", ["00:00:00", "00:00:01", "00:00:75", "00:00:03"])
    with pytest.raises(InputError, match="line 6: '00:00:75' is no elapsed time"):
        read_recording(path)


@pytest.mark.parametrize(("written", "offset_s"), [("-03:30", -12600.0), ("-0930", -34200.0)])
def test_a_utc_offset_west_of_utc_counts_its_minutes_west_too(written, offset_s):
    assert parse_utc_offset_s(written, "--utc-offset") == offset_s  # Newfoundland, the Marquesas


@pytest.mark.parametrize(("run_rows", "read"), [(4, True), (5, False)])
def test_a_run_of_four_stamps_far_off_costs_its_rows_alone_and_one_of_five_is_refused(tmp_path, caplog, run_rows,
                                                                                      read):
    stamps = _even_stamps()
    stamps[1000:1000 + run_rows] += 3600.0  # a logger's buffer written with a wrong time, the clock after it back
    path = _stamped_csv(tmp_path / "rec.csv", stamps)
    if not read:
        with pytest.raises(InputError, match=r"line 1007: column 'timestamp' steps back by 3.6e\+03 s"):
            read_csv(path)
        return
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        rows, _ = _rows_read(path)
    assert sorted(set(range(stamps.size)) - set(rows.tolist())) == [1000, 1001, 1002, 1003]
    assert "4 stamp(s) over 1 s off the rows around" in _order_warnings(caplog)[0]


def test_a_row_written_twice_with_an_empty_cell_is_one_row_read_once(tmp_path, caplog):
    rows = [f"{START_UNIX_S + i / 64:.6f},{math.sin(i / 10):.4f}," + (f"{2 + i / 1e4:.4f}" if i % 16 == 0 else "")
            for i in range(1920)]  # a 64 Hz pulse wave beside a 4 Hz EDA: most rows' EDA cell empty
    rows.insert(1001, rows[1000])  # row 1000 (no EDA in it) written twice
    path = tmp_path / "rec.csv"
    path.write_text("timestamp,bvp,eda\n" + "\n".join(rows) + "\n")
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        bvp = read_csv(path).channels["bvp"]
    assert bvp.values.size == 1920 and not bvp.gaps  # was it two rows of one stamp: both left out, a gap
    assert "the 1 row(s) at line 1003 repeat the row before them, stamp and values: one copy kept" in caplog.text


def test_a_utf_16_file_without_its_mark_headed_in_cyrillic_is_said_to_be_utf_16(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes("Время,Электродермальная\n0,1.5\n1,1.6\n".encode("utf-16-le"))  # a third of its units ASCII
    with pytest.raises(InputError, match="UTF-16 without a byte-order mark"):  # not 'a binary file'
        read_recording(path)


def test_a_utc_offset_of_0_is_utc():
    assert parse_utc_offset_s("0", "--utc-offset") == 0.0


def test_a_5_s_logs_clock_set_back_6_5_s_beside_a_row_stamped_early_is_refused_not_read_as_rows_out_of_order(
        tmp_path):
    """The stretch left out (two rows) takes 15 s at the log's period where the rows around it leave 9.1 s: 5.9 s of
    rows added, a clock set back; read, every row after it would sit 6.5 s early."""
    stamps = START_UNIX_S + 5.0 * np.arange(203)
    stamps[99] -= 0.6  # a stamp's jitter
    stamps[101:] -= 6.5
    path = _slow_log(tmp_path / "watch.csv", stamps)
    with pytest.raises(InputError, match=r"line 103: column 'timestamp' steps back by 1.5 s"):
        read_csv(path)


def test_a_heart_rate_landing_a_row_early_or_late_is_read_alike_from_a_rate_line_and_from_a_time_column(tmp_path):
    rng = np.random.default_rng(0)
    hr_rows = {4 * s + int(rng.integers(-1, 2)) for s in range(1, 300)}  # about once a second in 4 Hz rows
    rows = [f"{2 + 0.1 * math.sin(i / 40):.4f}," + (f"{70 + i % 5}" if i in hr_rows else "") for i in range(1200)]
    by_rate = tmp_path / "rate.csv"
    by_rate.write_text("# start_unix_s: 1644227574\n# rate_hz: 4\neda,hr\n" + "\n".join(rows) + "\n")
    stamped = tmp_path / "stamped.csv"
    stamped.write_text("timestamp,eda,hr\n" + "\n".join(f"{1644227574 + i / 4:.2f},{r}" for i, r in enumerate(rows)))
    from_rate, from_stamps = read_csv(by_rate).channels["hr"], read_csv(stamped).channels["hr"]
    # was: 4 Hz from the rate line, with a gap after nearly every value (its windows' heart coverage a quarter)
    assert from_rate.rate_hz == pytest.approx(from_stamps.rate_hz) and from_rate.rate_hz < 1.1
    assert from_rate.gaps == from_stamps.gaps == []
    assert read_csv(by_rate).channels["eda"].rate_hz == 4.0  # the rows' own column at the rows' rate


@pytest.mark.parametrize("share_present", [0.45, 0.3])
def test_a_column_at_the_rows_rate_with_many_values_missing_stays_at_the_rows_rate(tmp_path, share_present):
    rng = np.random.default_rng(1)
    rows = [f"{2 + 0.1 * math.sin(i / 40):.4f}," + ("33.0" if rng.random() < share_present else "")
            for i in range(1200)]
    path = tmp_path / "sparse.csv"
    path.write_text("# start_unix_s: 1644227574\n# rate_hz: 4\neda,temp\n" + "\n".join(rows) + "\n")
    assert read_csv(path).channels["temp"].rate_hz == 4.0  # its missing values gaps, not a slower channel


@pytest.mark.parametrize("ending", ["", "\n"], ids=["file-ends-there", "line-break-after"])
def test_a_last_line_of_fewer_cells_where_the_file_ends_is_cut_short_and_read_without(tmp_path, caplog, ending):
    text = "time_s,eda,temp\n" + "".join(f"{i},1.{i},33.{i}\n" for i in range(20))
    (tmp_path / "plain.csv").write_text(text)
    (tmp_path / "cut.csv").write_text(text + "20,1.2" + ending)  # a copy made while the logger wrote
    if ending:  # a line break after it: a line of the file, not its unfinished end
        with pytest.raises(InputError, match=r"cut.csv: line 22: 2 values, the header names 3$"):
            read_recording(tmp_path / "cut.csv")
        return
    recording = read_recording(tmp_path / "cut.csv")  # was refused: 'line 22: 2 values, the header names 3'
    plain = read_recording(tmp_path / "plain.csv")
    assert recording.channels["eda"].values.tolist() == plain.channels["eda"].values.tolist()
    assert "line 22: 2 values, the header names 3, and no line break ends the file after it: its last line, cut " \
           "short" in caplog.text


@pytest.mark.parametrize("axes", [["acc_x"], ["acc_x", "acc_z"]])
def test_an_accelerometer_without_all_three_axes_is_said_to_be_read_by_no_measurement(tmp_path, caplog, axes):
    # was: channels no measurement reads, every motion figure empty, without a word
    path = tmp_path / "wrist.csv"
    path.write_text(f"time_s,eda,{','.join(axes)}\n" + "".join(
        f"{i / 4:.2f},{2 + (i % 9) / 50:.3f}" + f",{0.01 * (i % 5):.3f}" * len(axes) + "\n" for i in range(4 * 120)))
    with caplog.at_level(logging.WARNING):
        recording = read_recording(path)
    assert "acc" not in recording.channels and set(axes) <= set(recording.channels)
    missing = ", ".join(a for a in ("acc_x", "acc_y", "acc_z") if a not in axes)
    assert f"{path}: accelerometer column(s) {', '.join(axes)} without {missing}: motion is measured from all three " \
           "axes, so no measurement reads them" in caplog.messages


def test_a_csv_without_times_or_a_rate_says_how_to_give_the_rate(tmp_path):
    path = tmp_path / "eda.csv"
    path.write_text("eda\n" + "\n".join(f"{2 + (i % 7) / 10:.2f}" for i in range(400)) + "\n")
    # was: '... and no sample rate given', not saying how (analyze has no --rate-hz)
    with pytest.raises(InputError, match=r"no time column \(timestamp or time_s\) and no sample rate given: add a "
                                         r"'# rate_hz: N' line above the column names \(physio classify also takes "
                                         r"--rate-hz N\)$"):
        read_recording(path)
    path.write_text("# rate_hz: 4\n" + path.read_text())
    assert read_recording(path).channels["eda"].rate_hz == 4.0


def test_columns_named_with_their_units_read_as_their_channels_and_a_foreign_unit_is_left_out(tmp_path, caplog):
    rows = [(START_UNIX_S + i / 32, 2.0 + i / 1000, 33.0 + i / 640, math.sin(i / 5), 812 + i % 7) for i in range(320)]
    plain, named = tmp_path / "plain.csv", tmp_path / "named.csv"
    body = "".join(f"{t:.5f},{e:.4f},{c:.4f},{p:.4f},{r}\n" for t, e, c, p, r in rows)
    plain.write_text("timestamp,eda,temp,ppg,rr_ms\n" + body)
    named.write_text("timestamp,EDA [µS],Skin Temp (°C),PPG [a.u.],RR [ms]\n" + body)
    expected, recording = read_csv(plain), read_csv(named)  # was: the first three no known channel; HR-less
    assert sorted(recording.channels) == sorted(expected.channels) == ["bvp", "eda", "ibi", "temp"]
    for name in expected.channels:
        assert np.array_equal(recording.channels[name].values, expected.channels[name].values)
    fahrenheit = tmp_path / "fahrenheit.csv"
    fahrenheit.write_text("timestamp,EDA [uS],Temp [°F]\n" + "".join(f"{t:.5f},{e:.4f},{c * 1.8 + 32:.2f}\n"
                                                                     for t, e, c, *_ in rows))
    with caplog.at_level(logging.WARNING):
        assert sorted(read_csv(fahrenheit).channels) == ["eda"]  # not 91.4 'degC'
    assert "column(s) Temp [°F] are no known channel; read without them" in caplog.text
