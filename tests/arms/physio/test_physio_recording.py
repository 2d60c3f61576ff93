"""Recorded physiological inputs: E4 exports and generic CSV, on one clock, with gaps kept as gaps."""

from __future__ import annotations

import codecs
import csv
import math
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from runtime.arms.physio.recording import Channel, Recording, read_csv, read_e4, read_recording
from runtime.cli import main
from runtime.errors import InputError
from tests.physio_factory import START_UNIX_S, write_e4, zip_e4


def test_e4_zip_channels_share_the_earliest_start_and_hr_starts_ten_seconds_later(shared_data):
    recording = read_e4(shared_data / "physio" / "stress_predict" / "raw" / "S02.zip")
    assert recording.start_unix_s == pytest.approx(1644227574.0)
    assert recording.channels["eda"].start_s == 0.0
    assert recording.channels["hr"].start_s == pytest.approx(10.0)
    assert recording.channels["acc"].values.shape[1] == 3
    # ACC arrives in 1/64 g: at rest the magnitude is about 1 g
    magnitude = np.linalg.norm(recording.channels["acc"].values[:3200], axis=1)
    assert 0.8 < np.median(magnitude) < 1.2
    assert recording.events_s and all(0 < t < recording.duration_s for t in recording.events_s)


def test_e4_folder_and_zip_read_alike(tmp_path):
    folder = write_e4(tmp_path / "S99")
    archive = zip_e4(folder, tmp_path / "S99.zip")
    a, b = read_recording(folder), read_recording(archive)
    assert sorted(a.channels) == sorted(b.channels)
    np.testing.assert_array_equal(a.channels["bvp"].values, b.channels["bvp"].values)
    assert a.events_s == [30.0, 90.0]


def test_an_e4_folder_zipped_by_a_mac_s_finder_reads_as_the_folder(tmp_path):
    folder = write_e4(tmp_path / "S99")
    archive = tmp_path / "S99.zip"
    with zipfile.ZipFile(archive, "w") as handle:  # the export inside its folder, and the Finder's resource forks
        for path in sorted(folder.iterdir()):
            handle.write(path, f"S99/{path.name}")
            handle.writestr(f"__MACOSX/S99/._{path.name}", b"\x00\x05\x16\x07 Mac OS X resource fork")
        handle.writestr("__MACOSX/S99/EDA.csv", "not the export's EDA\n")  # under __MACOSX/, never data
    zipped, unzipped = read_recording(archive), read_recording(folder)
    assert sorted(zipped.channels) == sorted(unzipped.channels)
    for name, channel in unzipped.channels.items():
        np.testing.assert_array_equal(zipped.channels[name].values, channel.values)


def test_e4_sample_rate_line_that_does_not_fit_the_data_is_an_error(tmp_path):
    folder = write_e4(tmp_path / "S99", duration_s=300.0, rates={"EDA.csv": 2.0})
    with pytest.raises(InputError, match=r"EDA\.csv.*sample-rate line says 2 Hz"):
        read_e4(folder)


def test_e4_file_with_text_in_the_data_names_the_line(tmp_path):
    folder = write_e4(tmp_path / "S99")
    lines = (folder / "TEMP.csv").read_text().splitlines()
    lines[10] = "warm"
    (folder / "TEMP.csv").write_text("\n".join(lines))
    with pytest.raises(InputError, match=r"TEMP\.csv: line 11: 'warm' is not a number"):
        read_e4(folder)


def test_e4_missing_header_is_an_error(tmp_path):
    folder = write_e4(tmp_path / "S99")
    (folder / "EDA.csv").write_text("0.5\n0.6\n0.7\n")
    with pytest.raises(InputError, match="not a UNIX start time"):
        read_e4(folder)


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
    assert recording.start_unix_s == pytest.approx(times[0])
    assert channel.gaps == [(pytest.approx(10.0), pytest.approx(20.0))]
    assert channel.values.size == times.size - 40  # nothing invented inside the gap
    assert not np.isnan(channel.values).any()


def test_csv_timestamps_running_backwards_are_an_error(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("time_s,hr\n0,70\n1,71\n2,72\n1.5,73\n4,74\n")
    with pytest.raises(InputError, match=r"timestamps do not increase at line 5 \(2.0 then 1.5\)"):
        read_csv(path)


def test_csv_rate_line_that_contradicts_the_timestamps_is_an_error(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("# rate_hz: 32\ntime_s,eda\n" + "\n".join(f"{i * 0.25},{1.0}" for i in range(40)) + "\n")
    with pytest.raises(InputError, match="does not match the timestamps"):
        read_csv(path)


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


@pytest.mark.parametrize("offset", ["+01:00", "Z"])
def test_a_csv_timed_in_iso_8601_with_its_offset_reads_as_its_unix_seconds_twin(tmp_path, offset):
    from datetime import datetime, timedelta, timezone

    zone = timezone(timedelta(hours=1)) if offset == "+01:00" else timezone.utc
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
    ("2023-11-14T22:13:20.500", r"line 3: '2023-11-14T22:13:20.500' has no UTC offset"),  # whose 22:13?
    ("yesterday", r"line 3: 'yesterday' is neither UNIX seconds nor an ISO 8601 time"),
])
def test_an_iso_time_without_its_offset_or_no_time_at_all_is_refused_naming_its_line(tmp_path, time, problem):
    with pytest.raises(InputError, match=problem):
        read_csv(_csv_of(tmp_path / "rec.csv", ["2023-11-14T22:13:20+00:00", time, "2023-11-14T22:13:21+00:00"]))


def test_a_numeric_time_column_whose_first_row_has_no_time_is_still_said_to_be_empty_there(tmp_path):
    with pytest.raises(InputError, match="line 2: column 'timestamp' is empty, not a finite time"):
        read_csv(_csv_of(tmp_path / "rec.csv", ["", f"{START_UNIX_S + 0.25}", f"{START_UNIX_S + 0.5}"]))


@pytest.mark.parametrize(("written", "readable"), [
    ("2023-11-14T22:13:20.123456789+0100", "2023-11-14T22:13:20.123456+01:00"),  # pandas' nanoseconds
    ("2023-11-14 22:13:20.25Z", "2023-11-14 22:13:20.250000+00:00"),
    ("2023-11-14T22:13:20-05", "2023-11-14T22:13:20-05:00"),
    ("2023-11-14T22:13:20", "2023-11-14T22:13:20"),  # no offset: left for the reader to refuse
])
def test_iso_times_are_rewritten_in_the_form_python_3_10_reads(written, readable):
    from runtime.arms.physio.recording import _iso_for_python

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


def _csv_of(path: Path, times: list[str]) -> Path:
    path.write_text("timestamp,eda\n" + "".join(f"{t},{1 + i / 100}\n" for i, t in enumerate(times)))
    return path


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


def test_empty_csv_and_unknown_input_are_errors(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        read_recording(empty)
    other = tmp_path / "rec.bin"
    other.write_bytes(b"\x00\x01")
    with pytest.raises(InputError, match="not a physiological recording"):
        read_recording(other)


def test_truncated_zip_and_a_csv_without_two_samples_are_errors(tmp_path, shared_data):
    truncated = tmp_path / "S02.zip"
    truncated.write_bytes((shared_data / "physio" / "stress_predict" / "raw" / "S02.zip").read_bytes()[:1000])
    with pytest.raises(InputError, match="truncated or corrupt"):
        read_recording(truncated)
    single = tmp_path / "one.csv"
    single.write_text("timestamp,eda\n1700000000,1.0\n1700000000.25,\n")
    with pytest.raises(InputError, match="at least two samples"):
        read_recording(single)


def refusing(monkeypatch, refused: Path) -> None:
    """Let the OS refuse to read ``refused`` (as a file without read permission does; tests may run as root)."""
    real_open, real_read_bytes = open, Path.read_bytes

    def checked_open(path, *args, **kwargs):
        if Path(path) == refused:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    def checked_read_bytes(path):
        return checked_open(path) if path == refused else real_read_bytes(path)

    monkeypatch.setattr("runtime.files.open", checked_open, raising=False)
    monkeypatch.setattr(Path, "read_bytes", checked_read_bytes)


@pytest.mark.parametrize("kind", ["csv", "zip", "member of a folder"])
def test_a_recording_that_may_not_be_read_is_said_so_in_one_line(tmp_path, monkeypatch, capsys, kind):
    folder = write_e4(tmp_path / "S99")
    given = {"csv": tmp_path / "rec.csv", "zip": tmp_path / "S99.zip", "member of a folder": folder}[kind]
    refused = {"member of a folder": folder / "EDA.csv"}.get(kind, given)
    if kind == "csv":
        given.write_text("timestamp,eda\n1700000000,1.0\n1700000000.25,1.1\n1700000000.5,1.2\n")
    if kind == "zip":
        with zipfile.ZipFile(given, "w") as archive:
            for member in folder.iterdir():
                archive.write(member, member.name)
    refusing(monkeypatch, refused)
    out = tmp_path / "out.csv"
    assert main(["physio", "classify", str(given), "--csv", str(out)]) == 2
    # was: "internal error: PermissionError" (csv, member), "not a readable zip archive (truncated or corrupt)"
    assert capsys.readouterr().err == f"emotrace: error: {refused}: cannot be read (Permission denied)\n"
    assert not out.exists()


# --- files with nothing in a channel ---------------------------------------------------------------------


def test_e4_ibi_file_with_only_its_header_is_left_out_with_a_warning_and_the_rest_classifies(tmp_path, caplog):
    folder = write_e4(tmp_path / "S99", duration_s=400.0)
    (folder / "IBI.csv").write_text(f"{START_UNIX_S:.6f}, IBI\n")  # the E4 writes this when it found no beats
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        recording = read_e4(folder)
    assert "ibi" not in recording.channels and recording.end_s == pytest.approx(400.0)
    assert [r.getMessage() for r in caplog.records if "IBI.csv" in r.getMessage()] == [
        f"{folder}/IBI.csv holds no samples (no beats found); read without it"
    ]
    out = tmp_path / "s.csv"
    assert main(["physio", "classify", str(folder), "--csv", str(out)]) == 0
    assert list(csv.DictReader(out.open()))


def test_a_recording_never_holds_an_empty_channel_and_its_end_ignores_one(caplog):
    eda = Channel("eda", "uS", np.arange(8) / 4.0, np.ones(8), rate_hz=4.0)
    empty = Channel("ibi", "s", np.zeros(0), np.zeros(0))
    assert math.isnan(empty.start_s) and math.isnan(empty.end_s)
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        recording = Recording("sim", {"eda": eda, "ibi": empty})
    assert list(recording.channels) == ["eda"] and recording.end_s == 2.0
    assert "channel ibi holds no samples" in caplog.text
    assert Recording("sim", {}).end_s == 0.0


def test_csv_column_without_any_value_is_left_out_with_a_warning(tmp_path, caplog):
    path = tmp_path / "rec.csv"
    path.write_text("time_s,eda,ibi\n" + "\n".join(f"{i * 0.25},1.0," for i in range(40)) + "\n")
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        recording = read_csv(path)
    assert list(recording.channels) == ["eda"]
    assert "column(s) ibi hold fewer than two samples" in caplog.text


# --- blank lines keep their place ------------------------------------------------------------------------


def _blank_lines(path: Path, data_lines: list[int]) -> None:
    """Blank the given data lines (0 = the first after the two header lines) of an E4 file."""
    lines = path.read_text().splitlines()
    for index in data_lines:
        lines[2 + index] = ""
    path.write_text("\n".join(lines) + "\n")


def test_e4_blank_line_in_a_signal_file_is_a_missing_sample_in_its_place(tmp_path):
    folder = write_e4(tmp_path / "S99")
    expected = np.loadtxt(folder / "BVP.csv", skiprows=2)
    _blank_lines(folder / "BVP.csv", [100])
    bvp = read_e4(folder).channels["bvp"]
    assert bvp.values.shape == expected.shape and np.isnan(bvp.values[100])
    np.testing.assert_array_equal(bvp.values[101:], expected[101:])  # nothing after it moved
    assert bvp.gaps == [(pytest.approx(100 / 64), pytest.approx(101 / 64))]


def test_e4_blank_lines_keep_the_duration_so_a_wrong_rate_line_is_still_caught(tmp_path):
    folder = write_e4(tmp_path / "S99", duration_s=600.0)
    _blank_lines(folder / "EDA.csv", list(range(0, 2400, 10)))  # 240 blank lines: 60 s if they were dropped
    assert read_e4(folder).channels["eda"].end_s == pytest.approx(600.0)
    wrong = write_e4(tmp_path / "S98", duration_s=600.0, rates={"EDA.csv": 8.0})
    _blank_lines(wrong / "EDA.csv", list(range(0, 2400, 10)))
    with pytest.raises(InputError, match=r"EDA\.csv.*sample-rate line says 8 Hz"):
        read_e4(wrong)


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
        assert recording.start_unix_s == pytest.approx(START_UNIX_S + 30.0)  # the same instants on the wall clock
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


# --- times that are not one recording --------------------------------------------------------------------


def _timestamped_csv(path: Path, last_time: str | None = None, column: str = "timestamp") -> Path:
    """40 rows of eda at 4 Hz, and a last row at ``last_time`` when given."""
    first = START_UNIX_S if column == "timestamp" else 0.0
    rows = [f"{first + i * 0.25:.2f},1.0" for i in range(40)] + ([] if last_time is None else [f"{last_time},1.0"])
    path.write_text(f"{column},eda\n" + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize(
    ("column", "last_time", "problem"),
    [
        ("timestamp", "inf", "line 42: column 'timestamp' holds inf, not a finite time"),
        ("time_s", "1e400", "line 42: column 'time_s' holds inf, not a finite time"),
        ("time_s", "", "line 42: column 'time_s' is empty, not a finite time"),
        ("timestamp", f"{START_UNIX_S + 3e7:.2f}", "line 42: the time jumps by 29999990 s .*not one recording"),
        ("timestamp", "1e12", "line 42: the time jumps by .* more than 24 h: not one recording"),
        ("timestamp", "1e308", r"line 42: the time jumps by 1e\+308 s \([\d.]+ then 1e\+308\)"),  # not 309 digits
    ],
)
def test_csv_time_that_is_not_finite_or_jumps_by_more_than_a_day_is_an_error_naming_the_line(
    tmp_path, column, last_time, problem
):
    with pytest.raises(InputError, match=problem):
        read_csv(_timestamped_csv(tmp_path / "rec.csv", last_time, column))


def test_csv_timestamp_jump_shorter_than_a_day_stays_a_gap(tmp_path):
    recording = read_csv(_timestamped_csv(tmp_path / "rec.csv", f"{START_UNIX_S + 3600:.2f}"))
    assert recording.channels["eda"].gaps == [(pytest.approx(10.0), pytest.approx(3600.0))]


@pytest.mark.parametrize("offset_s", [3600.0, 3e7])
def test_e4_files_that_do_not_overlap_in_time_are_an_error_naming_both_ranges(tmp_path, offset_s):
    folder = write_e4(tmp_path / "S99")
    lines = (folder / "TEMP.csv").read_text().splitlines()
    lines[0] = f"{START_UNIX_S + offset_s:.6f}"
    (folder / "TEMP.csv").write_text("\n".join(lines) + "\n")
    span = rf"{offset_s:.0f}\.\.{offset_s + 120:.0f} s"
    with pytest.raises(InputError, match=rf"TEMP\.csv covers {span} and \w+\.csv 0\.\.120 s .*not one recording"):
        read_e4(folder)


def test_e4_files_that_start_apart_but_overlap_are_read(tmp_path):
    folder = write_e4(tmp_path / "S99")
    lines = (folder / "EDA.csv").read_text().splitlines()
    lines[0] = f"{START_UNIX_S + 60:.6f}"
    (folder / "EDA.csv").write_text("\n".join(lines) + "\n")
    assert read_e4(folder).channels["eda"].start_s == pytest.approx(60.0)


# --- zips and folders ------------------------------------------------------------------------------------


def test_zip_holding_two_e4_exports_is_an_error_naming_the_folders(tmp_path):
    archive = tmp_path / "two.zip"
    zip_e4(write_e4(tmp_path / "A"), archive, "A/")
    zip_e4(write_e4(tmp_path / "B", duration_s=60.0), archive, "B/")
    with pytest.raises(InputError, match=r"two\.zip: holds more than one E4 export \(E4 files in A/, B/\)"):
        read_recording(archive)
    (tmp_path / "both").mkdir()
    for name in ("A", "B"):
        (tmp_path / name).rename(tmp_path / "both" / name)
    with pytest.raises(InputError, match="its folders A, B hold E4 files"):
        read_recording(tmp_path / "both")


def test_zip_member_that_fails_to_decompress_names_the_zip_and_the_member(tmp_path):
    archive = zip_e4(write_e4(tmp_path / "S99"), tmp_path / "S99.zip")
    with zipfile.ZipFile(archive) as handle:
        info = handle.getinfo("EDA.csv")
    data = bytearray(archive.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)  # after the local file header
    data[start + 10 : start + 60] = bytes(range(50))
    archive.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"S99\.zip: 'EDA\.csv' in the zip cannot be decompressed"):
        read_recording(archive)


def test_password_protected_zip_is_an_input_error(tmp_path):
    archive = zip_e4(write_e4(tmp_path / "S99"), tmp_path / "S99.zip")
    data = bytearray(archive.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local and central headers
        at = data.find(signature)
        while at >= 0:
            data[at + flag_at] |= 0x1  # general-purpose bit 0: encrypted
            at = data.find(signature, at + 4)
    archive.write_bytes(bytes(data))
    with pytest.raises(InputError, match="is password-protected"):
        read_recording(archive)


def test_e4_file_whose_first_line_is_blank_is_an_input_error(tmp_path):
    folder = write_e4(tmp_path / "S99")
    lines = (folder / "TEMP.csv").read_text().splitlines()
    (folder / "TEMP.csv").write_text("\n".join(["", *lines[1:]]) + "\n")
    with pytest.raises(InputError, match=r"TEMP\.csv: first line is blank where a UNIX start time belongs"):
        read_e4(folder)


# --- CSV columns -----------------------------------------------------------------------------------------


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


def test_a_refused_recording_gets_its_error_alone_without_warnings_about_parts_of_it(tmp_path, caplog):
    path = tmp_path / "rec.csv"
    path.write_text("time_s,eda,note\n0,1.0,3\n0.25,x,3\n")
    with caplog.at_level("WARNING", logger="emotrace.physio"), pytest.raises(InputError, match="'x' is not a number"):
        read_recording(path)
    assert caplog.records == []  # not "note ... read without it" before the file is refused whole
    path.write_text("time_s,eda,note\n" + "\n".join(f"{i * 0.25},1.0,3" for i in range(40)) + "\n")
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        read_recording(path)
    (record,) = caplog.records
    assert record.getMessage() == f"{path}: column(s) note are no known channel; read without them"


def test_a_recording_spanning_more_than_two_days_in_jumps_under_a_day_is_refused(tmp_path):
    path = tmp_path / "rec.csv"
    rows = [f"{day * 80_000.0 + i * 0.25},1.0" for day in range(3) for i in range(8)]  # 44 h between first and last
    path.write_text("time_s,eda\n" + "\n".join(rows) + "\n")
    assert read_recording(path).duration_s == pytest.approx(160_002.0)  # the last sample lasts its period
    path.write_text("time_s,eda\n" + "\n".join(rows + ["240000,1.0", "240000.25,1.0"]) + "\n")  # 66.7 h
    with pytest.raises(InputError, match=r"spans 66.7 h \(0..240000 s\), more than 48 h: not one recording"):
        read_recording(path)


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
    assert recording.start_unix_s == pytest.approx(START_UNIX_S)
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


def test_csv_in_another_encoding_is_said_to_be_not_utf8_naming_the_byte(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_bytes("timestamp,eda µS\n".encode("latin-1"))
    with pytest.raises(InputError) as refused:  # was: "not a text file", for a text file
        read_csv(path)
    assert str(refused.value) == (f"{path}: not UTF-8 text (byte 14 cannot be read as UTF-8): save it as UTF-8 if "
                                  "it is a CSV")


# --- options -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options", "problem"),
    [
        ("e4", {"rate_hz": 4.0}, "an E4 export carries its own start time and sample rate, so --rate-hz"),
        ("e4", {"start_unix_s": START_UNIX_S}, "so --start-unix would not be used"),
        ("timestamp", {"start_unix_s": START_UNIX_S}, "has its own time column 'timestamp', so --start-unix"),
        ("time_s", {"rate_hz": 4.0, "start_unix_s": START_UNIX_S}, "so --start-unix and --rate-hz would not be used"),
    ],
)
def test_start_or_rate_given_for_a_file_with_its_own_clock_is_refused(tmp_path, kind, options, problem):
    path = write_e4(tmp_path / "S99") if kind == "e4" else _timestamped_csv(tmp_path / "rec.csv", column=kind)
    with pytest.raises(InputError, match=problem):
        read_recording(path, **options)


@pytest.mark.parametrize("rate", ["inf", "nan", "0", "-4", "1e-9", "1e9"])
def test_rate_that_is_not_a_sample_rate_is_an_error(tmp_path, rate):
    path = tmp_path / "rec.csv"
    path.write_text("eda\n" + "\n".join("1.0" for _ in range(40)) + "\n")
    with pytest.raises(InputError, match=r"--rate-hz .* is not a sample rate in Hz"):
        read_recording(path, rate_hz=float(rate))
    path.write_text(f"# rate_hz: {rate}\n" + path.read_text())
    with pytest.raises(InputError, match=r"'# rate_hz' line .* is not a sample rate in Hz"):
        read_recording(path)


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


# --- values and shapes a recording cannot hold ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "edit", "problem"),
    [
        ("EDA.csv", lambda row: row + ",", r"EDA\.csv: rows have 2 values; an E4 EDA\.csv has 1; a comma at the end"),
        ("EDA.csv", lambda row: row.replace(".", ","), "a comma as the decimal mark"),
        ("ACC.csv", lambda row: row.rsplit(",", 1)[0], r"ACC\.csv: rows have 2 values; an E4 ACC\.csv has 3"),
        ("ACC.csv", lambda row: row + ",1.0", r"rows have 4 values; an E4 ACC\.csv has 3"),
    ],
)
def test_e4_rows_with_another_number_of_values_than_the_file_has_are_an_error(tmp_path, filename, edit, problem):
    folder = write_e4(tmp_path / "S99")
    lines = (folder / filename).read_text().splitlines()
    (folder / filename).write_text("\n".join(lines[:2] + [edit(row) for row in lines[2:]]) + "\n")
    with pytest.raises(InputError, match=problem):
        read_e4(folder)


def test_a_file_larger_than_any_recording_is_refused_before_it_is_read(tmp_path, monkeypatch):
    import runtime.arms.physio.recording as recording

    folder = write_e4(tmp_path / "S99")
    archive = zip_e4(folder, tmp_path / "S99.zip")
    largest = max(folder.iterdir(), key=lambda p: p.stat().st_size)
    monkeypatch.setattr(recording, "MAX_FILE_BYTES", largest.stat().st_size - 1)
    for path in (folder, archive):
        with pytest.raises(InputError, match=rf"{largest.name}: .* MB of text, more than"):
            read_recording(path)
    monkeypatch.setattr(recording.zipfile.ZipFile, "read", lambda *_: pytest.fail("read before the size check"))
    with pytest.raises(InputError):
        read_recording(archive)


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


def test_inter_beat_intervals_no_heart_beats_at_are_left_out_with_a_warning(tmp_path, caplog):
    folder = write_e4(tmp_path / "S99")
    beats = [(10.0 + 0.8 * i, 0.8) for i in range(60)]
    beats[5], beats[9], beats[20] = (beats[5][0], -0.8), (beats[9][0], 0.0), (beats[20][0], 500.0)
    (folder / "IBI.csv").write_text(f"{START_UNIX_S:.6f}, IBI\n" + "\n".join(f"{t},{v}" for t, v in beats) + "\n")
    csv_path = tmp_path / "rec.csv"
    csv_path.write_text("time_s,ibi\n" + "\n".join(f"{t},{v}" for t, v in beats).replace("500.0", "inf") + "\n")
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        for recording in (read_e4(folder), read_csv(csv_path)):
            assert recording.channels["ibi"].values.size == 57
            assert recording.channels["ibi"].values.min() == pytest.approx(0.8)
    assert sum("3 inter-beat interval(s) outside 0.2..3 s" in r.getMessage() for r in caplog.records) == 2


def test_an_infinite_reading_is_a_missing_sample_not_a_value(tmp_path):
    folder = write_e4(tmp_path / "S99")
    lines = (folder / "ACC.csv").read_text().splitlines()
    lines[102] = "inf,1.0,1.0"
    (folder / "ACC.csv").write_text("\n".join(lines) + "\n")
    acc = read_e4(folder).channels["acc"]
    assert np.isfinite(acc.values[~np.isnan(acc.values)]).all()
    assert acc.gaps == [(pytest.approx(100 / 32), pytest.approx(101 / 32))]


def test_of_two_e4_files_that_disagree_both_are_named(tmp_path):
    folder = write_e4(tmp_path / "S99", duration_s=600.0, rates={"EDA.csv": 2.0})
    for name in ("ACC.csv", "BVP.csv", "TEMP.csv", "tags.csv"):
        (folder / name).unlink()
    with pytest.raises(InputError, match=r"EDA\.csv \(2 Hz\) lasts 1200 s to 1200 s and .*HR\.csv \(1 Hz\) 590 s "
                       "to 600 s by their sample-rate lines: one of them is wrong"):
        read_e4(folder)


def test_e4_rate_line_a_few_percent_off_is_caught_on_a_long_recording(tmp_path):
    folder = write_e4(tmp_path / "S99", duration_s=3600.0, rates={"EDA.csv": 4.2})  # 5 %: 171 s short
    with pytest.raises(InputError, match=r"EDA\.csv.*sample-rate line says 4\.2 Hz"):
        read_e4(folder)


def test_e4_rate_line_twice_the_data_is_caught_on_a_minute_long_export(tmp_path):
    folder = write_e4(tmp_path / "S99", duration_s=60.0, rates={"EDA.csv": 8.0}, hr_delay_s=10.0)
    with pytest.raises(InputError, match=r"EDA\.csv.*sample-rate line says 8 Hz, which makes it last 30 s to 30 s "
                       "against 60 s to 60 s"):
        read_e4(folder)


def test_e4_rate_line_a_few_percent_off_is_caught_on_ten_minutes(tmp_path):
    folder = write_e4(tmp_path / "S99", duration_s=600.0, rates={"EDA.csv": 4.2})  # 29 s short by the end
    with pytest.raises(InputError, match=r"EDA\.csv.*sample-rate line says 4\.2 Hz"):
        read_e4(folder)


def test_e4_files_ending_seconds_apart_are_one_recording(tmp_path, caplog):
    # a guard, not a repair: the tolerance before the ends check (30 s) read this too; it must stay read, unsaid
    folder = write_e4(tmp_path / "S99", duration_s=600.0)
    lines = (folder / "EDA.csv").read_text().splitlines()
    (folder / "EDA.csv").write_text("\n".join(lines[:-16]) + "\n")  # 4 s short, as real exports end
    with caplog.at_level("WARNING"):
        assert read_e4(folder).channels["eda"].end_s == pytest.approx(596.0)
    assert not caplog.records


@pytest.mark.parametrize("shift", ["rows missing", "start line late"])
def test_an_e4_file_shifted_within_the_tolerance_is_read_but_said(tmp_path, caplog, shift):
    folder = write_e4(tmp_path / "S99", duration_s=600.0)
    lines = (folder / "EDA.csv").read_text().splitlines()
    if shift == "rows missing":
        lines[2 + 1000:2 + 1032] = []  # 8 s of rows gone mid-file: every later sample 8 s early
        said = r"EDA\.csv: ends 8 s before the other files \(at 592 s against 600 s"
    else:
        lines[0] = f"{float(lines[0]) + 20:.1f}"  # started 20 s late by its line alone
        said = r"EDA\.csv: ends 20 s after the other files \(at 620 s against 600 s"
    (folder / "EDA.csv").write_text("\n".join(lines) + "\n")
    with caplog.at_level("WARNING"):
        read_e4(folder)  # was: read without a word
    assert len(caplog.records) == 1 and re.search(said, caplog.records[0].getMessage())


def test_a_heart_rate_no_heart_could_have_is_a_missing_sample_with_one_warning(tmp_path, caplog):
    folder = write_e4(tmp_path / "S99", duration_s=300.0)
    lines = (folder / "HR.csv").read_text().splitlines()
    lines[2 + 100:2 + 150] = ["0.00"] * 50  # 50 s of "no reading" from the wearable
    lines[2 + 200] = "400.00"
    (folder / "HR.csv").write_text("\n".join(lines) + "\n")
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        hr = read_e4(folder).channels["hr"]
    assert np.isnan(hr.values[100:150]).all() and np.isnan(hr.values[200])
    assert np.nanmin(hr.values) >= 20 and hr.gaps[0] == (pytest.approx(110.0), pytest.approx(160.0))
    assert [r.getMessage() for r in caplog.records if "heart rate" in r.getMessage()] == [
        f"{folder}/HR.csv: 51 heart rate reading(s) outside 20..300 bpm (e.g. 0.0) are no body's; "
        "read without them"
    ]
    path = tmp_path / "strap.csv"
    path.write_text("time_s,hr\n" + "".join(f"{t},{0 if 100 <= t < 130 else 70}\n" for t in range(300)))
    channel = read_csv(path).channels["hr"]
    assert channel.values.min() == 70 and channel.gaps == [(pytest.approx(100.0), pytest.approx(130.0))]


def test_a_skin_conductance_no_skin_could_give_is_a_missing_sample_with_one_warning(tmp_path, caplog):
    folder = write_e4(tmp_path / "S99", duration_s=120.0)
    lines = (folder / "EDA.csv").read_text().splitlines()
    lines[2 + 40] = "250.0000"  # a shorted electrode: no spike rule reads EDA, its range is the guard
    (folder / "EDA.csv").write_text("\n".join(lines) + "\n")
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        eda = read_e4(folder).channels["eda"]
    assert np.isnan(eda.values[40]) and np.nanmax(eda.values) < 100
    assert f"{folder}/EDA.csv: 1 skin conductance reading(s) outside 0..100" in caplog.text


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


def test_e4_beats_timed_before_their_start_line_are_left_out_with_one_warning(tmp_path, caplog):
    folder = write_e4(tmp_path / "S99")
    (folder / "IBI.csv").write_text(f"{START_UNIX_S:.6f}, IBI\n-5.0,0.8\n" + "".join(
        f"{1 + i * 0.8:.1f},0.8\n" for i in range(100)))
    with caplog.at_level("WARNING"):
        ibi = read_e4(folder).channels["ibi"]
    assert ibi.times_s[0] == pytest.approx(1.0) and ibi.values.size == 100  # was: a beat at -5 s
    assert [r.getMessage() for r in caplog.records] == [
        f"{folder}/IBI.csv: 1 beat(s) timed before the file's start line (e.g. -5 s); read without them"]


def test_e4_beat_times_count_from_the_beat_files_own_start_line(tmp_path):
    folder = write_e4(tmp_path / "S99", duration_s=300.0)
    (folder / "IBI.csv").write_text(f"{START_UNIX_S + 100:.6f}, IBI\n" + "".join(
        f"{1 + i * 0.8:.1f},0.8\n" for i in range(100)))  # its start line 100 s after the other files'
    ibi = read_e4(folder).channels["ibi"]
    assert ibi.times_s[0] == pytest.approx(101.0)


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
        warnings.simplefilter("error", RuntimeWarning)  # was: numpy's overflow and empty-slice lines on stderr
        windows = recording_features(read_e4(folder), 30.0, 30.0)
    assert all(math.isfinite(w.measurements["acc_magnitude_mean_g"]) == (rows == "one impossible") for w in windows)
    if rows == "one impossible":
        assert [r.getMessage() for r in caplog.records] == [  # 1e308 in the E4's 1/64 g
            f"{folder}/ACC.csv: 2 acceleration reading(s) outside -16..16 g (e.g. 1.5625e+306) are no body's; read "
            "without them"]


@pytest.mark.parametrize(("beats", "problem"), [
    ("1.0,0.8\n1.8,0.8\n1.5,0.8\n", r"IBI\.csv: timestamps do not increase at line 4 \(1\.8 then 1\.5\)"),
    ("1.0,0.8\n1.0,0.8\n", r"IBI\.csv: timestamps do not increase at line 3"),
    ("1.0,0.8\nnan,0.8\n", r"IBI\.csv: line 3: the beat time .*not a finite time"),
])
def test_e4_beat_times_that_do_not_increase_are_refused_naming_the_line(tmp_path, beats, problem):
    folder = write_e4(tmp_path / "S99")
    (folder / "IBI.csv").write_text(f"{START_UNIX_S:.6f}, IBI\n" + beats)
    with pytest.raises(InputError, match=problem):
        read_e4(folder)


@pytest.mark.parametrize("separator", [";", "\t"])
def test_an_e4_file_separated_by_semicolons_or_tabs_is_said_to_need_commas(tmp_path, separator):
    folder = write_e4(tmp_path / "S99")
    text = (folder / "ACC.csv").read_text().replace(", ", separator).replace(",", separator)
    (folder / "ACC.csv").write_text(text)
    with pytest.raises(InputError, match=r"ACC\.csv: first line .* is not a UNIX start time; columns must be "
                       "separated by commas"):
        read_e4(folder)


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


def test_intervals_in_milliseconds_are_named_in_the_one_error_line_when_nothing_else_is_left(tmp_path):
    path = tmp_path / "beats.csv"
    path.write_text("time_s,ibi\n" + "".join(f"{0.8 * i:.1f},{800 + i % 50}\n" for i in range(300)))
    with pytest.raises(InputError, match=r"ibi: 300 inter-beat interval\(s\) outside 0\.2\.\.3 s .*in milliseconds"):
        read_csv(path)


def test_a_pipe_is_refused_without_reading_it(tmp_path):
    import os
    import threading

    fifo = tmp_path / "rec.csv"
    os.mkfifo(fifo)
    said = []

    def read() -> None:
        try:
            read_recording(fifo)
        except InputError as error:
            said.append(str(error))

    reader = threading.Thread(target=read, daemon=True)  # a reader that waits on the pipe must fail, not hang
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive() and said and "not a regular file or folder" in said[0]


def test_csv_accelerometer_axes_make_one_channel_also_with_a_cell_missing(tmp_path):
    path = tmp_path / "rec.csv"
    rows = [f"{i / 32},{0.0},{'' if i == 50 else 0.0},{1.0},{2.0}" for i in range(320)]
    path.write_text("time_s,acc_x,acc_y,acc_z,eda\n" + "\n".join(rows) + "\n")
    recording = read_csv(path)
    assert sorted(recording.channels) == ["acc", "eda"]
    acc = recording.channels["acc"]
    assert acc.values.shape == (319, 3) and acc.unit == "g"
