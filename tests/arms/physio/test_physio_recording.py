"""Reading any physiological recording: the reader chosen by the path, what every reader refuses alike, and the
Recording they make (channels on one clock, readings no body gives left out)."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np
import pytest

from runtime.arms.physio.readers import read_recording
from runtime.arms.physio.readers.csv_file import read_csv
from runtime.arms.physio.readers.e4 import read_e4
from runtime.arms.physio.recording import Channel, Recording, plausible_readings
from runtime.cli import main
from runtime.errors import InputError
from tests.physio_factory import START_UNIX_S, write_e4, write_timestamped_csv, zip_e4
from tests.pipes import refusal_of_a_pipe


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


def test_empty_csv_and_unknown_input_are_errors(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        read_recording(empty)
    other = tmp_path / "rec.bin"
    other.write_bytes(b"\x00\x01")
    with pytest.raises(InputError, match="not a physiological recording"):
        read_recording(other)


@pytest.mark.parametrize(("name", "parts"), [
    ("session.xlsx", ["[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"]),
    ("session.csv", ["[Content_Types].xml", "xl/workbook.xml"]),  # a workbook renamed
    ("session.ods", ["mimetype", "content.xml"]),
    ("notes.docx", ["[Content_Types].xml", "word/document.xml"]),  # was: called a spreadsheet workbook
])
def test_an_office_document_is_refused_as_one_asking_for_its_sheet_as_csv(tmp_path, name, parts):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        for part in parts:
            archive.writestr(part, "<xml/>")
    with pytest.raises(InputError) as refused:
        read_recording(path)
    # was: 'no E4 signal files (ACC.csv, BVP.csv, ...) in it', as for any zip
    assert str(refused.value) == (f"{path}: an office document (an .xlsx or .ods workbook, a .docx ...), not a CSV or "
                                  "an E4 export: save the sheet as CSV (UTF-8) and give that")


def test_truncated_zip_and_a_csv_without_two_samples_are_errors(tmp_path, stress_predict_dir):
    truncated = tmp_path / "S02.zip"
    truncated.write_bytes((stress_predict_dir / "raw" / "S02.zip").read_bytes()[:1000])
    with pytest.raises(InputError, match="truncated or corrupt"):
        read_recording(truncated)
    single = tmp_path / "one.csv"
    single.write_text("timestamp,eda\n1700000000,1.0\n1700000000.25,\n")
    with pytest.raises(InputError, match="at least two samples"):
        read_recording(single)


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


def test_a_recording_never_holds_an_empty_channel_and_its_end_ignores_one(caplog):
    eda = Channel("eda", "uS", np.arange(8) / 4.0, np.ones(8), rate_hz=4.0)
    empty = Channel("ibi", "s", np.zeros(0), np.zeros(0))
    assert math.isnan(empty.start_s) and math.isnan(empty.end_s)
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        recording = Recording("sim", {"eda": eda, "ibi": empty})
    assert list(recording.channels) == ["eda"] and recording.end_s == 2.0
    assert "channel ibi holds no samples" in caplog.text
    assert Recording("sim", {}).end_s == 0.0


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


@pytest.mark.parametrize(
    ("kind", "options", "problem"),
    [
        ("e4", {"rate_hz": 4.0}, "an E4 export carries its own start time and sample rate, so --rate-hz"),
        ("e4", {"start_unix_s": START_UNIX_S}, "so --start-unix would not be used"),
        ("timestamp", {"start_unix_s": START_UNIX_S}, "has its own time column 'timestamp', so --start-unix"),
        ("time_s", {"rate_hz": 4.0, "start_unix_s": START_UNIX_S}, "so --start-unix and --rate-hz would not be used"),
        ("e4", {"utc_offset_s": 3600.0}, "carries its own start time and sample rate, so the UTC offset would not"),
    ],
)
def test_start_or_rate_given_for_a_file_with_its_own_clock_is_refused(tmp_path, kind, options, problem):
    path = write_e4(tmp_path / "S99") if kind == "e4" else write_timestamped_csv(tmp_path / "rec.csv", column=kind)
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


def test_a_file_larger_than_any_recording_is_refused_before_it_is_read(tmp_path, monkeypatch):
    import runtime.arms.physio.readers.text as text_reader

    folder = write_e4(tmp_path / "S99")
    archive = zip_e4(folder, tmp_path / "S99.zip")
    largest = max(folder.iterdir(), key=lambda p: p.stat().st_size)
    monkeypatch.setattr(text_reader, "MAX_FILE_BYTES", largest.stat().st_size - 1)
    for path in (folder, archive):
        with pytest.raises(InputError, match=rf"{largest.name}: .* MB of text, more than"):
            read_recording(path)
    monkeypatch.setattr(zipfile.ZipFile, "read", lambda *_: pytest.fail("read before the size check"))
    with pytest.raises(InputError):
        read_recording(archive)


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


def test_a_pipe_is_refused_without_reading_it(tmp_path):
    # a reader that waits on the pipe must fail, not hang
    assert "not a regular file or folder" in refusal_of_a_pipe(read_recording, tmp_path / "rec.csv")


def test_an_accelerometer_axis_reading_no_body_gives_is_said_by_acc_range_as_it_is_left_out(caplog):
    from runtime.arms.physio.recording import said_plausible

    with caplog.at_level("WARNING"):
        kept = said_plausible("board", "acc_x", np.array([0.1, 3.0e38, -0.2]))
    assert kept.tolist() == [True, False, True]
    # was: left out without a word (the note looked the axis up in the range table, which names acc alone)
    assert caplog.messages == ["board: 1 acceleration reading(s) outside -16..16 g (e.g. 3e+38) are no body's; read "
                               "without them"]


@pytest.mark.parametrize(("name", "low", "high"), [("eda", 0.0, 100.0), ("temp", 0.0, 60.0), ("hr", 20.0, 300.0),
                                                   ("acc_x", -16.0, 16.0)])
def test_the_plausible_ranges_hold_their_limits_and_nothing_beyond(name, low, high):
    values = np.array([low, high, np.nextafter(low, -np.inf), np.nextafter(high, np.inf), np.nan, np.inf])
    assert plausible_readings(name, values).tolist() == [True, True, False, False, False, False]


def test_a_press_at_a_stretch_s_end_belongs_to_the_stretch_after_it_alone():
    channel = Channel("eda", "uS", np.arange(0.0, 60.0, 0.25), np.ones(240), rate_hz=4.0)
    recording = Recording("test", {"eda": channel}, events_s=[30.0])
    assert recording.between(0.0, 30.0).events_s == [] and recording.between(30.0, 60.0).events_s == [30.0]


def test_a_beat_interval_no_body_s_among_ones_in_seconds_is_not_said_to_be_in_milliseconds(tmp_path, caplog):
    path = tmp_path / "beats.csv"
    path.write_text("time_s,ibi\n" + "".join(f"{0.8 * i:.1f},{800.0 if i == 5 else 0.8}\n" for i in range(40)))
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        assert read_csv(path).channels["ibi"].values.size == 39
    # the other intervals are a heart's in seconds: the one at 800 is an artefact, not a column in ms
    assert caplog.messages == [f"{path}: column ibi: 1 inter-beat interval(s) outside 0.2..3 s (e.g. 800.0) are no "
                               "body's; read without them"]
