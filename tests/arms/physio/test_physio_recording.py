"""Recorded physiological inputs: E4 exports and generic CSV, on one clock, with gaps kept as gaps."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from runtime.arms.physio.recording import read_csv, read_e4, read_recording
from runtime.errors import InputError
from tests.physio_factory import write_e4


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
    archive = tmp_path / "S99.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in folder.iterdir():
            handle.write(path, path.name)
    a, b = read_recording(folder), read_recording(archive)
    assert sorted(a.channels) == sorted(b.channels)
    np.testing.assert_array_equal(a.channels["bvp"].values, b.channels["bvp"].values)
    assert a.events_s == [30.0, 90.0]


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
    with pytest.raises(InputError, match=r"timestamps do not increase at data row 4 \(2.0 then 1.5\)"):
        read_csv(path)


def test_csv_rate_that_contradicts_the_timestamps_is_an_error(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("time_s,eda\n" + "\n".join(f"{i * 0.25},{1.0}" for i in range(40)) + "\n")
    with pytest.raises(InputError, match="does not match the timestamps"):
        read_csv(path, rate_hz=32.0)


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
