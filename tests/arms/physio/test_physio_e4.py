"""The E4 reader: an export's folder or zip, its start and rate lines, beats, tags and the checks that its files
are one recording."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from runtime.arms.physio.readers import read_recording
from runtime.arms.physio.readers.e4 import read_e4
from runtime.cli import main
from runtime.errors import InputError
from tests.physio_factory import START_UNIX_S, write_e4, zip_e4


def _blank_lines(path: Path, data_lines: list[int]) -> None:
    """Blank the given data lines (0 = the first after the two header lines) of an E4 file."""
    lines = path.read_text().splitlines()
    for index in data_lines:
        lines[2 + index] = ""
    path.write_text("\n".join(lines) + "\n")


def test_e4_zip_channels_share_the_earliest_start_and_hr_starts_ten_seconds_later(stress_predict_dir):
    recording = read_e4(stress_predict_dir / "raw" / "S02.zip")
    assert recording.start_unix_s == pytest.approx(1644227574.0, abs=1e-3)
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


def test_an_e4_folder_zipped_by_windows_powershell_with_backslashes_reads_as_the_folder(tmp_path):
    folder = write_e4(tmp_path / "S99")
    archive = tmp_path / "S99.zip"
    with zipfile.ZipFile(archive, "w") as handle:  # Compress-Archive of PowerShell 5.1 names 'S99\\EDA.csv'
        for path in sorted(folder.iterdir()):
            handle.write(path, f"S99\\{path.name}")
    zipped, unzipped = read_recording(archive), read_recording(folder)  # was: 'no E4 signal files ... in it'
    assert sorted(zipped.channels) == sorted(unzipped.channels)
    for name, channel in unzipped.channels.items():
        np.testing.assert_array_equal(zipped.channels[name].values, channel.values)


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


def test_an_e4_file_holding_a_nul_past_its_first_bytes_is_refused_as_binary(tmp_path):
    folder = write_e4(tmp_path / "S99")
    data = (folder / "TEMP.csv").read_bytes()
    (folder / "TEMP.csv").write_bytes(data[:200] + b"\x00" + data[200:])
    with pytest.raises(InputError) as refused:  # was: the line holding it, 'not a number'
        read_e4(folder)
    assert str(refused.value) == f"{folder / 'TEMP.csv'}: not text (a binary file: byte 0x00 at offset 200)"


def test_e4_missing_header_is_an_error(tmp_path):
    folder = write_e4(tmp_path / "S99")
    (folder / "EDA.csv").write_text("0.5\n0.6\n0.7\n")
    with pytest.raises(InputError, match="not a UNIX start time"):
        read_e4(folder)


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


@pytest.mark.parametrize("offset_s", [3600.0, 3e7])
def test_e4_files_that_do_not_overlap_in_time_are_an_error_naming_both_ranges(tmp_path, offset_s):
    folder = write_e4(tmp_path / "S99")
    lines = (folder / "TEMP.csv").read_text().splitlines()
    lines[0] = f"{START_UNIX_S + offset_s:.6f}"
    (folder / "TEMP.csv").write_text("\n".join(lines) + "\n")
    span = rf"{offset_s:.0f}\.\.{offset_s + 120:.0f} s"
    other = r"\w+\.csv [01]\.\.1[12]\d s"  # the file ending first: IBI.csv's last beat 1 s before the others' end
    with pytest.raises(InputError, match=rf"TEMP\.csv covers {span} and {other} .*not one recording"):
        read_e4(folder)


def test_e4_files_that_start_apart_but_overlap_are_read(tmp_path):
    folder = write_e4(tmp_path / "S99")
    lines = (folder / "EDA.csv").read_text().splitlines()
    lines[0] = f"{START_UNIX_S + 60:.6f}"
    (folder / "EDA.csv").write_text("\n".join(lines) + "\n")
    assert read_e4(folder).channels["eda"].start_s == pytest.approx(60.0)


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


def test_of_two_e4_files_that_disagree_both_are_named(tmp_path):
    folder = write_e4(tmp_path / "S99", duration_s=600.0, rates={"EDA.csv": 2.0})
    for name in ("ACC.csv", "BVP.csv", "TEMP.csv", "tags.csv"):
        (folder / name).unlink()
    # was: 'lasts 1200 s to 1200 s', read as a span where it meant a duration and an end
    with pytest.raises(InputError, match=r"EDA\.csv \(2 Hz\) lasts 1200 s, ending at 1200 s, and .*HR\.csv \(1 Hz\) "
                       "590 s, ending at 600 s, by their sample-rate lines: one of them is wrong"):
        read_e4(folder)


def test_e4_rate_line_a_few_percent_off_is_caught_on_a_long_recording(tmp_path):
    folder = write_e4(tmp_path / "S99", duration_s=3600.0, rates={"EDA.csv": 4.2})  # 5 %: 171 s short
    with pytest.raises(InputError, match=r"EDA\.csv.*sample-rate line says 4\.2 Hz"):
        read_e4(folder)


def test_e4_rate_line_twice_the_data_is_caught_on_a_minute_long_export(tmp_path):
    folder = write_e4(tmp_path / "S99", duration_s=60.0, rates={"EDA.csv": 8.0}, hr_delay_s=10.0)
    with pytest.raises(InputError, match=r"EDA\.csv.*sample-rate line says 8 Hz, which makes it last 30 s, ending at "
                       "30 s, against 60 s ending at 60 s"):
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


def test_two_swapped_beats_in_an_e4_beat_file_cost_those_beats_with_one_warning_not_the_export(tmp_path, caplog):
    folder = write_e4(tmp_path / "S99", duration_s=300.0)
    rows = [f"{1 + i * 0.8:.1f},0.8\n" for i in range(300)]
    rows[100], rows[101] = rows[101], rows[100]  # lines 102 and 103
    (folder / "IBI.csv").write_text(f"{START_UNIX_S:.6f}, IBI\n" + "".join(rows))
    with caplog.at_level("WARNING"):
        ibi = read_e4(folder).channels["ibi"]  # was: refused, 'timestamps do not increase at line 103'
    assert ibi.values.size == 298 and (np.diff(ibi.times_s) > 0).all()
    (said,) = [r.getMessage() for r in caplog.records if "IBI.csv" in r.getMessage()]
    assert said.startswith(f"{folder}/IBI.csv: the beat time does not increase at line 103") and "left out" in said


@pytest.mark.parametrize(("beats", "problem"), [
    ("1.0,0.8\n1.8,0.8\n1.5,0.8\n", r"IBI\.csv: timestamps do not increase at line 4 \(1\.8 then 1\.5\)"),
    ("1.0,0.8\n1.0,0.8\n", r"IBI\.csv: timestamps do not increase at line 3"),
    ("1.0,0.8\nnan,0.8\n", r"IBI\.csv: line 3: the beat time holds 'nan', not a finite time"),  # was: 'is empty'
    ("1.0,0.8\n,0.8\n", r"IBI\.csv: line 3: the beat time is empty, not a finite time"),
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


def test_classify_says_nothing_of_neurokit2s_lines_on_an_e4s_slow_eda(tmp_path):
    folder = write_e4(tmp_path / "S99", duration_s=400.0)  # EDA at 4 Hz, too slow for neurokit2's cleaning filter
    done = subprocess.run([sys.executable, "-m", "runtime.cli", "physio", "classify", str(folder), "--csv",
                           str(tmp_path / "out.csv")], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[3])
    assert done.returncode == 0, done.stderr
    assert not re.search(r"\w*Warning: ", done.stderr), done.stderr  # a command line shows Python's warnings


def test_e4_tags_hours_from_the_recording_are_left_out_with_one_warning_naming_the_file(tmp_path, caplog):
    folder = write_e4(tmp_path / "S99", duration_s=120.0)
    # a press 11.5 hours before the session (a clock set wrong), two in it, one just after its end (kept)
    tags_unix_s = [START_UNIX_S - 41205, START_UNIX_S + 30, START_UNIX_S + 90, START_UNIX_S + 125]
    (folder / "tags.csv").write_text("".join(f"{t:.0f}\n" for t in tags_unix_s))
    archive = zip_e4(folder, tmp_path / "S99.zip")
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        recording = read_e4(archive)
    assert recording.events_s == [30.0, 90.0, 125.0]
    said = [r.getMessage() for r in caplog.records if "tag" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith(f"{archive}/tags.csv: 1 tag(s) at -41205 s, outside the recording")


@pytest.mark.parametrize(("filename", "said"), [
    ("IBI.csv", "is an E4 IBI file's start time, not column names"),  # was: exit 0, its beats chained from 0
    ("EDA.csv", "begins with a UNIX time, not column names"),  # was: 'add a header line (rr_ms for beat intervals'
    ("ACC.csv", "begins with a UNIX time, not column names"),  # was: 'duplicate column names in the header'
])
def test_an_e4_file_given_alone_is_refused_in_one_line_asking_for_its_export(tmp_path, capsys, filename, said):
    folder = write_e4(tmp_path / "S99")
    out = tmp_path / "s.csv"
    assert main(["physio", "classify", str(folder / filename), "--csv", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and f"{folder / filename}: first line '{START_UNIX_S:.6f}" in err
    assert said in err and "give the export's folder or zip" in err
    assert not out.exists()


def test_beat_intervals_under_a_unix_time_where_names_belong_are_refused_not_read_as_a_column(tmp_path):
    path = tmp_path / "beats.csv"
    path.write_text(f"{START_UNIX_S:.6f}, rr_ms\n" + "".join(f"{i * 0.8:.1f},800\n" for i in range(50)))
    # was: read, the time said to be 'no known channel' and the beats' clock lost
    with pytest.raises(InputError, match=r"beats\.csv: first line '1644227574\.000000, rr_ms' begins with a UNIX "
                                         r"time, not column names: a CSV needs a header line naming its columns"):
        read_recording(path)


def test_a_csv_without_a_header_whose_first_row_is_a_unix_time_in_ms_is_refused_as_no_header(tmp_path):
    path = tmp_path / "phone.csv"
    path.write_text("".join(f"{int(START_UNIX_S * 1000) + i * 1000},{70 + i % 3}\n" for i in range(60)))
    # was: 'no known channel column' (the first row's cells taken for names); in seconds it was said as no header
    with pytest.raises(InputError, match=r"phone\.csv: first line '1644227574000,70' begins with a UNIX time, not "
                                         r"column names"):
        read_recording(path)


@pytest.mark.parametrize("zipped", [False, True], ids=["folder", "zip"])
def test_an_e4_export_missing_channel_files_names_them_in_one_warning(tmp_path, caplog, zipped):
    folder = write_e4(tmp_path / "S99")
    (folder / "EDA.csv").unlink()
    (folder / "IBI.csv").unlink()
    source = zip_e4(folder, tmp_path / "S99.zip") if zipped else folder
    with caplog.at_level("WARNING"):
        recording = read_recording(source)  # was: read without a word; each window's reason said 'EDA missing'
    assert sorted(recording.channels) == ["acc", "bvp", "hr", "temp"]
    assert [r.getMessage() for r in caplog.records] == [
        f"{source}: no EDA.csv, IBI.csv in it, of an E4 export's channel files (ACC, BVP, EDA, HR, IBI, TEMP); read "
        "without them"]


@pytest.mark.parametrize(("filename", "said"), [("IBI.csv", "starts"), ("HR.csv", "ends")])
def test_an_e4_beat_or_heart_rate_file_whose_start_line_is_off_is_read_as_it_says_with_a_warning(
        tmp_path, caplog, filename, said):
    folder = write_e4(tmp_path / "S99", duration_s=600.0)
    lines = (folder / filename).read_text().splitlines()
    start, comma, rest = lines[0].partition(",")
    lines[0] = f"{float(start) + 200:.6f}{comma}{rest}"  # 200 s late by its start line alone
    (folder / filename).write_text("\n".join(lines) + "\n")
    with caplog.at_level("WARNING"):
        recording = read_e4(folder)  # was, for IBI.csv: every beat 200 s late without a word
    record, *after_the_end = caplog.records
    assert record.getMessage().startswith(f"{folder}/{filename}: {said} 200 s after the other files")
    assert recording.channels["ibi" if filename == "IBI.csv" else "hr"].start_s > 200.0
    # the beats it places past the other files' end are left out, said once
    assert [r.getMessage().split(": ")[1].split(" (")[0] for r in after_the_end] == (
        ["199 beat(s) after the other files end at 600 s"] if filename == "IBI.csv" else [])


def test_a_heart_rate_file_ten_and_a_half_seconds_short_as_the_e4_writes_it_is_warned_of_a_start_line_off(
        tmp_path, caplog):
    folder = write_e4(tmp_path / "S99", duration_s=600.5)  # HR.csv 590 s after its 10 s delay: 10.5 s short, as S02's
    lines = (folder / "HR.csv").read_text().splitlines()
    lines[0] = f"{float(lines[0]) + 200:.6f}"
    (folder / "HR.csv").write_text("\n".join(lines) + "\n")
    with caplog.at_level("WARNING"):
        read_e4(folder)  # was: refused, its sample-rate line blamed (its delay counted as a stretch)
    assert [record.getMessage().split(":")[1].strip() for record in caplog.records] == [
        "ends 200 s after the other files (at 800 s against 600 s, by its start and rate lines)"]


def test_another_files_start_line_off_is_not_blamed_on_the_beat_file_that_agrees_with_the_rest(tmp_path, caplog):
    folder = write_e4(tmp_path / "S99", duration_s=600.0)
    lines = (folder / "ACC.csv").read_text().splitlines()
    lines[0] = ", ".join(f"{float(cell) - 10:.6f}" for cell in lines[0].split(","))  # ACC's start 10 s early
    (folder / "ACC.csv").write_text("\n".join(lines) + "\n")
    with caplog.at_level("WARNING"):
        read_e4(folder)
    blamed = [record.getMessage().split(":")[0] for record in caplog.records]
    assert blamed == [f"{folder}/ACC.csv"]  # was: IBI.csv too, 'starts 10 s after the other files' (the earliest)


def test_an_e4_beat_timed_at_its_files_start_line_itself_is_read(tmp_path):
    folder = write_e4(tmp_path / "S99")
    (folder / "IBI.csv").write_text(f"{START_UNIX_S:.6f}, IBI\n0.0,0.8\n" + "".join(
        f"{0.8 + i * 0.8:.1f},0.8\n" for i in range(100)))
    ibi = read_e4(folder).channels["ibi"]
    assert ibi.times_s[0] == 0.0 and ibi.values.size == 101  # at its start line, not before it


def test_e4_tags_within_thirty_seconds_of_the_recording_are_kept_and_one_further_before_it_left_out(tmp_path, caplog):
    folder = write_e4(tmp_path / "S99", duration_s=120.0)
    (folder / "tags.csv").write_text("".join(f"{START_UNIX_S + t:.0f}\n" for t in (-40, -10, 30)))
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        assert read_e4(folder).events_s == [-10.0, 30.0]  # a press just before the session still marks it
    said = [r.getMessage() for r in caplog.records if "tag" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith(f"{folder}/tags.csv: 1 tag(s) at -40 s, outside the recording")


@pytest.mark.parametrize(("tags", "problem"), [
    (f"{START_UNIX_S + 30:.0f}\ninf\n", r"line 2: the tag time holds inf, not a finite time"),
    (f"{START_UNIX_S + 30:.0f}\nabc\n", r"'abc' is not a number"),
])
def test_a_damaged_e4_tags_file_costs_its_tags_alone_said_naming_its_line(tmp_path, caplog, tags, problem):
    folder = write_e4(tmp_path / "S99")
    whole = read_e4(folder)
    (folder / "tags.csv").write_text(tags)
    recording = read_e4(folder)  # was refused, the whole export lost to a button press's file
    assert recording.events_s == [] and recording.channels.keys() == whole.channels.keys()
    assert re.search(rf"tags\.csv: .*{problem}.*; read without its tags", caplog.text)


def test_e4_beats_after_the_other_files_end_are_left_out_with_one_warning(tmp_path, caplog):
    folder = write_e4(tmp_path / "S99", duration_s=120.0)
    whole = read_e4(folder).channels["ibi"]
    with (folder / "IBI.csv").open("a") as ibi:
        ibi.write("5000.0,0.8\n")  # one beat stamped an hour on (a clock set wrong)
    recording = read_e4(folder)  # was: 5000 s of windows, all but two minutes without a signal, unsaid
    np.testing.assert_array_equal(recording.channels["ibi"].times_s, whole.times_s)
    assert recording.duration_s < 200
    assert "IBI.csv: 1 beat(s) after the other files end at 120 s (e.g. at 5000 s); read without them" in caplog.text


def test_a_lone_e4_file_whose_rate_line_is_not_the_e4s_is_read_at_it_with_a_warning(tmp_path, caplog):
    folder = write_e4(tmp_path / "S99", duration_s=120.0, rates={"BVP.csv": 32.0})
    for path in folder.iterdir():
        if path.name != "BVP.csv":
            path.unlink()
    recording = read_e4(folder)  # no other file to compare its length with: was read without a word
    assert recording.channels["bvp"].rate_hz == 32.0
    assert "BVP.csv: sample-rate line says 32 Hz where the E4 records BVP at 64 Hz" in caplog.text


def test_an_infinite_pulse_wave_sample_in_an_e4_file_is_a_missing_sample_in_its_place(tmp_path):
    folder = write_e4(tmp_path / "S99")
    lines = (folder / "BVP.csv").read_text().splitlines()
    lines[2 + 64] = "-inf"  # the pulse wave has no range to leave it out by
    (folder / "BVP.csv").write_text("\n".join(lines) + "\n")
    bvp = read_e4(folder).channels["bvp"]
    assert np.isnan(bvp.values[64]) and np.isfinite(np.delete(bvp.values, 64)).all()
    assert bvp.gaps == [(pytest.approx(1.0), pytest.approx(1.0 + 1 / 64))]


def test_e4_files_starting_a_minute_after_the_others_ended_are_refused_as_not_one_recording(tmp_path):
    folder = write_e4(tmp_path / "S99", duration_s=120.0, starts_s={"TEMP.csv": 200.0})
    with pytest.raises(InputError, match=r"TEMP\.csv covers 200\.\.320 s and \w+\.csv \d+\.\.1\d\d s \(from the "
                       r"earliest start line\): files that do not overlap in time are not one recording"):
        read_e4(folder)


def test_an_e4_rate_line_fifteen_seconds_off_over_hours_is_read_with_a_warning_not_refused(tmp_path, caplog):
    """Over 10,000 s the tolerance is 0.2 % (20 s), not 10 s: a sensor's rate a little off its line is read."""
    folder = tmp_path / "S99"
    folder.mkdir()
    files = (("EDA.csv", 4.0, 4.006, "1.0", 0.0), ("TEMP.csv", 4.0, 4.0, "33.0", 0.0),
             ("HR.csv", 1.0, 1.0, "70.0", 10.0))
    for name, rate_hz, line_hz, value, delay_s in files:
        rows = int((10_000.0 - delay_s) * rate_hz)
        (folder / name).write_text(f"{START_UNIX_S + delay_s:.6f}\n{line_hz:.6f}\n" + f"{value}\n" * rows)
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        recording = read_e4(folder)
    assert recording.channels["eda"].end_s == pytest.approx(40_000 / 4.006)
    said = [r.getMessage() for r in caplog.records if "EDA.csv" in r.getMessage()]
    assert len(said) == 1 and "EDA.csv: ends 15 s before the other files (at 9985 s against 10000 s" in said[0]


def test_an_e4_export_of_heart_rate_and_beats_alone_does_not_say_its_beats_start_apart(tmp_path, caplog):
    """The beat file's start line is compared with the files' but HR's, which starts 10 s after them by design."""
    folder = write_e4(tmp_path / "S99")
    for name in ("EDA.csv", "TEMP.csv", "BVP.csv", "ACC.csv"):
        (folder / name).unlink()
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        recording = read_e4(folder)
    assert set(recording.channels) == {"hr", "ibi"}
    assert not [r.getMessage() for r in caplog.records if "starts" in r.getMessage()]


def test_an_e4_export_of_heart_rate_and_beats_alone_counts_its_clock_from_the_first_beat_not_heart_rates_start(
        tmp_path):
    folder = write_e4(tmp_path / "S99")
    for name in ("EDA.csv", "TEMP.csv", "BVP.csv", "ACC.csv"):
        (folder / name).unlink()
    recording = read_e4(folder)
    beats, hr = recording.channels["ibi"], recording.channels["hr"]
    # was: from HR's first value, which the E4 gives 10 s after its start: beats at negative times before it
    assert beats.times_s[0] == pytest.approx(0.0, abs=1e-6) and hr.start_s > 0.0  # within a UNIX time's rounding
    ibi_lines = (folder / "IBI.csv").read_text().splitlines()
    first_beat_unix_s = float(ibi_lines[0].split(",")[0]) + float(ibi_lines[1].split(",")[0])
    assert recording.start_unix_s == pytest.approx(first_beat_unix_s, abs=1e-3)


@pytest.mark.parametrize(("filename", "channel", "cut", "values"), [
    ("ACC.csv", "acc", "12,-3", "2 values where earlier lines have 3"),
    ("IBI.csv", "ibi", "118.2", "1 value where earlier lines have 2"),
])
def test_an_e4_file_whose_last_line_is_cut_where_the_file_ends_is_read_without_it(tmp_path, caplog, filename,
                                                                                  channel, cut, values):
    folder = write_e4(tmp_path / "S99", duration_s=120.0)
    whole = read_recording(folder).channels[channel].values
    path = folder / filename
    path.write_text(path.read_text() + cut)  # a copy made while the wristband's app wrote its next line
    recording = read_recording(folder)  # was refused: 'line ...: 2 values where earlier lines have 3'
    np.testing.assert_array_equal(recording.channels[channel].values, whole)
    assert f"{values}, and no line break ends the file after it" in caplog.text


def test_an_e4_files_short_last_line_ended_by_a_form_feed_is_a_line_of_the_file_not_a_cut(tmp_path):
    folder = write_e4(tmp_path / "S99", duration_s=120.0)
    acc = folder / "ACC.csv"
    acc.write_text(acc.read_text() + "12,-3\f")  # a page break ends lines for the readers, as for CSVs
    with pytest.raises(InputError, match=r"ACC\.csv: line \d+: 2 values where earlier lines have 3$"):
        read_recording(folder)  # was: read without it, 'no line break ends the file after it'
