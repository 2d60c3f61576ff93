import csv
import io
import math
import os

import pytest

from runtime.errors import InputError
from runtime.timeline import Timeline, write_atomically, write_timeline
from runtime.track import CANONICAL_LABELS, Track, Window


def _timeline() -> Timeline:
    audio = Track("audio", windows=[Window(0, 2, [0.125] * 8, 1.0, "", {"f0_median_hz": 110.0}),
                                    Window(0.5, 2.5, None, 0.0, "no speech", {"pause_s": 2.0})])
    physio = Track("physio", labels=["stress"], unsupported_labels=list(CANONICAL_LABELS),
                   windows=[Window(0, 30, [0.7], 0.9, "", {"hr_bpm": math.nan})])
    return Timeline("in.mp4", 30.0, [audio, physio], settings={"a": 1})


def test_timeline_json_round_trips():
    timeline = _timeline()
    assert Timeline.from_json(timeline.to_json()).to_dict() == timeline.to_dict()


def test_csv_is_long_form_with_a_column_per_label_and_measurement():
    rows = list(csv.DictReader(io.StringIO(_timeline().to_csv())))
    assert [r["track"] for r in rows] == ["audio", "audio", "physio"]
    header = rows[0].keys()
    for column in ["track", "start_s", "end_s", "quality", *CANONICAL_LABELS, "stress", "f0_median_hz", "pause_s"]:
        assert column in header
    assert float(rows[0]["happy"]) == 0.125
    assert rows[1]["happy"] == "" and rows[1]["reason"] == "no speech"
    assert rows[2]["stress"] == "0.7" and rows[2]["happy"] == ""
    assert rows[2]["hr_bpm"] == "nan"


def test_write_timeline_writes_both_files(tmp_path):
    json_path, csv_path = write_timeline(_timeline(), tmp_path / "out")
    assert Timeline.from_json(json_path.read_text()).tracks[1].name == "physio"
    assert csv_path.read_text().startswith("track,start_s,end_s")


def test_a_failed_atomic_write_names_the_output_and_leaves_no_file(tmp_path, monkeypatch):
    def fail(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("runtime.timeline.os.replace", fail)
    with pytest.raises(InputError, match="cannot write it: No space left on device") as refused:
        write_atomically(tmp_path / "x.json", b"abc")
    assert refused.value.source == str(tmp_path / "x.json")
    assert list(tmp_path.iterdir()) == []


def test_an_atomic_write_into_a_vanished_folder_names_the_output(tmp_path):
    with pytest.raises(InputError, match="cannot write it: No such file or directory") as refused:
        write_atomically(tmp_path / "gone" / "x.csv", b"abc")
    assert refused.value.source == str(tmp_path / "gone" / "x.csv")
    assert ".part" not in str(refused.value)


def test_an_atomic_write_that_is_not_permitted_names_the_output(tmp_path, monkeypatch):
    def deny(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / ".x.csv.0.part"))

    monkeypatch.setattr("runtime.timeline.os.open", deny)
    with pytest.raises(InputError, match="cannot write it: Permission denied") as refused:
        write_atomically(tmp_path / "x.csv", b"abc")
    assert str(refused.value) == f"{tmp_path / 'x.csv'}: cannot write it: Permission denied"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600)])
def test_written_files_take_the_permissions_the_umask_gives(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        write_atomically(tmp_path / "x.csv", b"abc")
    finally:
        os.umask(previous)
    assert (tmp_path / "x.csv").stat().st_mode & 0o777 == mode
    assert (tmp_path / "x.csv").read_bytes() == b"abc"
