import contextlib
import copy
import csv
import importlib.resources
import io
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from runtime.errors import InputError
from runtime.timeline import SCHEMA_FILE, TIMELINE_FORMAT, Timeline, software_record, timeline_schema, write_timeline
from runtime.track import CANONICAL_LABELS, Track, TrackFormatError, Window
from tests.conftest import REPO_ROOT
from tests.runtime.timelines import fixed_software, schema_errors


def _timeline() -> Timeline:
    audio = Track("audio", windows=[Window(0, 2, [0.125] * 8, 1.0, "", {"f0_median_hz": 110.0}),
                                    Window(0.5, 2.5, None, 0.0, "no speech", {"pause_s": 2.0})])
    physio = Track("physio", labels=["stress"], unsupported_labels=list(CANONICAL_LABELS),
                   windows=[Window(0, 30, [0.7], 0.9, "", {"hr_bpm": math.nan})])
    return Timeline("in.mp4", 30.0, [audio, physio], settings={"runtime": {"a": 1}}, software=fixed_software())


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
    assert rows[2]["hr_bpm"] == ""  # not measured: an empty cell, as spreadsheets read missing (was "nan")


def _fused_session(silent_first: bool) -> Timeline:
    """A session of a voice and a face, fused; ``silent_first``: neither claims in its first window."""
    from runtime.fusion import make_fuser

    happy = [0.9 if label == "happy" else 0.1 / 7 for label in CANONICAL_LABELS]
    first = Window(0.0, 2.0, None, 0.0, "nothing") if silent_first else Window(0.0, 2.0, happy, 1.0)
    audio = Track("audio", windows=[first, Window(2.0, 4.0, happy, 1.0, "", {"pause_s": 0.5, "f0_median_hz": 1.0})])
    face = Track("face", windows=[first, Window(2.0, 4.0, happy, 1.0)])
    return Timeline("x.mp4", 4.0, [audio, face, make_fuser("quality").fuse([audio, face], window_s=2.0, hop_s=2.0)])


def test_csv_columns_come_in_one_order_whichever_window_of_a_session_comes_first():
    silent, speaking = _fused_session(silent_first=True), _fused_session(silent_first=False)
    assert "valence" not in silent.track("fused").windows[0].measurements  # fusion leaves it out of that window
    headers = [timeline.to_csv().splitlines()[0].split(",") for timeline in (silent, speaking)]
    # was: the silent session's began incongruent, quality_audio, quality_face, then valence (its first window's order)
    assert headers[0] == headers[1]
    measured = headers[0][headers[0].index("surprised") + 1:]
    # the arms' declared names (sorted within each arm), the fused track's in its declared order, then the others
    assert measured == ["f0_median_hz", "pause_s", "valence", "arousal", "arousal_quality", "incongruent",
                        "incongruence_jsd", "quality_audio", "quality_face"]


def test_csv_cells_hold_each_windows_own_times_and_quality():
    track = Track("audio", windows=[Window(0.5, 2.5, [0.125] * 8, 0.75), Window(1.0, 3.0, [0.125] * 8, 0.25)])
    rows = list(csv.DictReader(io.StringIO(Timeline("in.wav", 3.0, [track]).to_csv())))
    assert [(r["start_s"], r["end_s"], r["quality"]) for r in rows] == [("0.5", "2.5", "0.75"), ("1.0", "3.0", "0.25")]


def test_the_software_record_gives_seconds_and_the_time_it_is_given():
    record = software_record(1.23456, analysed_at_utc="2026-12-05T06:00:00+00:00")
    assert record["elapsed_s"] == 1.235 and record["analysed_at_utc"] == "2026-12-05T06:00:00+00:00"
    assert record["libraries"]["numpy"] == np.__version__


def test_write_timeline_writes_both_files(tmp_path):
    json_path, csv_path = write_timeline(_timeline(), tmp_path / "out")
    assert Timeline.from_json(json_path.read_text()).tracks[1].name == "physio"
    assert csv_path.read_text().startswith("track,start_s,end_s")


@pytest.mark.parametrize(("edit", "problem"), [
    (lambda t: setattr(t.tracks[0].windows[1], "probs", [math.nan] * 8),
     r"track 'audio', window 1 \(0.5-2.5 s\): probability nan is not a number from 0 to 1"),
    (lambda t: setattr(t.tracks[1].windows[0], "quality", math.nan),
     r"track 'physio', window 0 \(0-30 s\): quality is nan, not a finite number"),
    (lambda t: setattr(t.tracks[0].windows[0], "end_s", math.inf),
     r"track 'audio', window 0 \(0-inf s\): end_s is inf, not a finite number"),
    (lambda t: setattr(t.tracks[0].windows[0], "start_s", math.nan), "track 'audio', window 0 .*start_s is nan"),
])
def test_a_nan_in_a_window_is_refused_naming_the_track_and_window_and_nothing_is_written(tmp_path, edit, problem):
    from runtime.track import TrackFormatError

    timeline = _timeline()
    timeline.tracks[0].windows[1].probs = [0.125] * 8
    timeline.tracks[0].windows[1].quality = 0.5
    edit(timeline)
    with pytest.raises(TrackFormatError, match=problem):  # was json's "Out of range float values are not JSON ..."
        write_timeline(timeline, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def _with_window(**fields) -> Timeline:
    timeline = _timeline()
    window = timeline.tracks[0].windows[0]
    for name, value in fields.items():
        setattr(window, name, value)
    return timeline


def _with_track(**fields) -> Timeline:
    timeline = _timeline()
    for name, value in fields.items():
        setattr(timeline.tracks[0], name, value)
    return timeline


def _with(**fields) -> Timeline:
    timeline = _timeline()
    for name, value in fields.items():
        setattr(timeline, name, value)
    return timeline


# each was written; the first three then refused on reading, the next four read back but failing the schema, the
# last two a bare TypeError and a ValueError blamed on the settings
@pytest.mark.parametrize(("timeline", "problem"), [
    (lambda: _with(duration_s=-1.0), r"input duration_s is -1.0, not a number of seconds"),
    (lambda: _with_track(name=""), r"a track's name is empty"),
    (lambda: _with_window(reason=5), r"track 'audio', window 0 \(0-2 s\): reason is 5, not text"),
    (lambda: _with_track(labels=["", *CANONICAL_LABELS[1:]]), r"track 'audio': labels holds text '', not a label"),
    (lambda: _with_track(unsupported_labels=["calm", "calm"]), r"a label is listed twice in unsupported_labels"),
    (lambda: _with(settings={"physio": {"enabled": False}}),
     r"settings 'physio': why is null, not text saying why it did not run"),
    (lambda: _with(software={}), r"software: lacks emotrace, libraries, elapsed_s"),
    (lambda: _with_window(measurements={"pause_s": None}), r"window 0 .*: measurement 'pause_s' is null, not a number"),
    (lambda: _with_window(measurements={"pause_s": "abc"}), r"measurement 'pause_s' is text 'abc', not a number"),
])
def test_the_writer_refuses_what_the_reader_or_the_schema_would_refuse_saying_what(tmp_path, timeline, problem):
    with pytest.raises(TrackFormatError, match=problem):
        write_timeline(timeline(), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_what_the_writer_accepts_is_read_back_and_meets_the_schema(tmp_path):
    timeline = _timeline()
    timeline.settings = {"runtime": {"a": 1}, "physio": {"enabled": False, "why": "none given"},
                         "audio": {"enabled": True, "window_s": 2.0}}
    json_path, _ = write_timeline(timeline, tmp_path / "out")
    assert Timeline.read(json_path).to_dict() == timeline.to_dict()
    assert schema_errors(json.loads(json_path.read_text())) == []


def test_a_nan_setting_is_refused_with_a_line_saying_where_to_look(tmp_path):
    from runtime.track import TrackFormatError

    timeline = _timeline()
    timeline.settings = {"fusion": {"enabled": True, "incongruence_confidence": math.nan}}
    with pytest.raises(TrackFormatError, match="in the settings or a track's model or settings"):
        write_timeline(timeline, tmp_path / "out")


def _old_files(out):
    write_timeline(Timeline("old.mp4", 1.0, [], settings={"runtime": {"old": True}}, software=fixed_software()), out)
    return (out / "timeline.json").read_bytes(), (out / "timeline.csv").read_bytes()


def test_a_full_disk_while_staging_the_json_leaves_both_old_files(tmp_path, monkeypatch):
    out = tmp_path / "out"
    old = _old_files(out)
    real_write = os.fdopen

    def fill_up(fd, *args, **kwargs):
        handle = real_write(fd, *args, **kwargs)
        if ".timeline.json." in os.readlink(f"/proc/self/fd/{fd}"):
            def write(_data):
                raise OSError(28, "No space left on device")

            handle.write = write
        return handle

    monkeypatch.setattr("runtime.files.os.fdopen", fill_up)
    with pytest.raises(InputError, match="timeline.json: cannot write it: No space left on device"):
        write_timeline(_timeline(), out)
    assert ((out / "timeline.json").read_bytes(), (out / "timeline.csv").read_bytes()) == old  # the CSV was new
    assert sorted(p.name for p in out.iterdir()) == ["timeline.csv", "timeline.json"]


def test_a_full_disk_leaves_no_folder_the_write_made_and_keeps_one_that_was_there(tmp_path, monkeypatch):
    def full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("runtime.files.os.fdopen", full)
    for out in (tmp_path / "new" / "run", tmp_path / "kept"):
        if out.name == "kept":
            out.mkdir()
        with pytest.raises(InputError, match="timeline.csv: cannot write it: No space left on device"):
            write_timeline(_timeline(), out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"]  # was: new/run left empty
    assert list((tmp_path / "kept").iterdir()) == []


def test_a_failed_rename_of_the_json_puts_the_old_csv_back(tmp_path, monkeypatch):
    out = tmp_path / "out"
    old = _old_files(out)
    real_replace = os.replace

    def replace(src, dst):
        if str(dst).endswith("timeline.json") and ".part" in str(src):
            raise OSError(5, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr("runtime.files.os.replace", replace)
    with pytest.raises(InputError, match="timeline.json: cannot write it: Input/output error"):
        write_timeline(_timeline(), out)
    assert ((out / "timeline.json").read_bytes(), (out / "timeline.csv").read_bytes()) == old
    assert sorted(p.name for p in out.iterdir()) == ["timeline.csv", "timeline.json"]


def test_a_folder_where_the_json_goes_leaves_the_old_csv(tmp_path):
    out = tmp_path / "out"
    _old_files(out)
    (out / "timeline.json").unlink()
    (out / "timeline.json").mkdir()
    old_csv = (out / "timeline.csv").read_bytes()
    with pytest.raises(InputError, match="timeline.json: is in the way"):
        write_timeline(_timeline(), out)
    assert (out / "timeline.csv").read_bytes() == old_csv
    assert sorted(p.name for p in out.iterdir()) == ["timeline.csv", "timeline.json"]


def test_new_files_replace_old_ones_and_nothing_else_is_left(tmp_path):
    out = tmp_path / "out"
    _old_files(out)
    write_timeline(_timeline(), out)
    assert Timeline.read(out / "timeline.json").to_dict() == _timeline().to_dict()
    assert sorted(p.name for p in out.iterdir()) == ["timeline.csv", "timeline.json"]


@pytest.mark.parametrize(("text", "problem"), [
    ("[]", "not an emotrace-timeline/1 document"),
    ('{"format": "emotrace-timeline/1", "input": {"path": "x", "duration_s": 1}, "tracks": null}',
     "tracks is null, not a list"),
    ('{"format": "emotrace-timeline/1", "input": {"path": "x", "duration_s": 1}, "tracks": [5]}',
     "a track is 5, not an object"),
    ('{"format": "emotrace-timeline/1", "input": null, "tracks": []}', "input is not an object with a path"),
    ('{"format": "emotrace-timeline/1"', "not valid JSON"),
    ('{"format": "emotrace-timeline/1", "input": {"path": "x", "duration_s": 1' + "0" * 5000 + '}, "tracks": []}',
     r"not valid JSON \("),  # was: internal ValueError (the words after are CPython's own)
    ('{"format": "emotrace-timeline/1", "input": {"path": "x", "duration_s": -1}, "tracks": []}',
     r"input duration_s is -1, not a number of seconds"),
    ("[" * 100000 + "]" * 100000, "not a timeline.json: nested too deeply to read"),  # was: internal RecursionError
    ('{"format": "emotrace-timeline/1", "input": {"path": "x", "duration_s": 1' + "0" * 400 + '}, "tracks": []}',
     r"input duration_s is an integer of 401 digits, not a number of seconds$"),  # was: all 401 digits
])
def test_reading_a_broken_timeline_is_one_input_error_naming_the_file(tmp_path, text, problem):
    path = tmp_path / "timeline.json"
    path.write_text(text)
    with pytest.raises(InputError, match=problem) as info:
        Timeline.read(path)
    assert info.value.source == str(path)


def test_two_tracks_of_one_name_are_refused(tmp_path):
    timeline = _timeline()
    timeline.tracks.append(timeline.tracks[0])
    path = tmp_path / "timeline.json"
    path.write_text(json.dumps(timeline.to_dict()))
    with pytest.raises(InputError, match="two tracks named 'audio'"):
        Timeline.read(path)


def test_without_hard_links_the_old_files_are_renamed_aside_and_back(tmp_path, monkeypatch):
    out = tmp_path / "out"
    old = _old_files(out)
    real_replace = os.replace

    def no_links(*_args):
        raise OSError(1, "Operation not permitted")  # e.g. a FAT-formatted stick

    def replace(src, dst):
        if str(dst).endswith("timeline.json") and ".part" in str(src):
            raise OSError(5, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr("runtime.files.os.link", no_links)
    monkeypatch.setattr("runtime.files.os.replace", replace)
    with pytest.raises(InputError, match="timeline.json: cannot write it"):
        write_timeline(_timeline(), out)
    assert ((out / "timeline.json").read_bytes(), (out / "timeline.csv").read_bytes()) == old
    monkeypatch.setattr("runtime.files.os.replace", real_replace)
    write_timeline(_timeline(), out)
    assert sorted(p.name for p in out.iterdir()) == ["timeline.csv", "timeline.json"]
    assert Timeline.read(out / "timeline.json").input_path == "in.mp4"


@pytest.mark.parametrize(("labels", "measurements", "clash"), [
    (["fidgeting", "still"], {"fidgeting": 3.5}, "fidgeting"),  # pandas read one of them as 'fidgeting.1'
    (["quality", "still"], {}, "quality"),
])
def test_a_label_named_as_a_measurement_or_a_fixed_column_is_refused_before_writing(tmp_path, labels, measurements,
                                                                                    clash):
    body = Track("body", labels=labels, windows=[Window(0.0, 2.0, [0.9, 0.1], 1.0, "", measurements)])
    with pytest.raises(TrackFormatError, match=f"'{clash}' would name two columns of timeline.csv"):
        write_timeline(Timeline("x.mp4", 2.0, [body]), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_track_reads_as_stretches_of_its_leading_emotion_that_follow_on_from_one_another():
    from runtime.timeline import spectrum_stretches

    labels = ["happy", "sad"]
    def window(start_s, probs, quality=1.0):
        return Window(start_s, start_s + 2.0, probs, quality if probs else 0.0, "" if probs else "no speech")

    track = Track("fused", labels, [window(0.0, [0.9, 0.1]), window(0.5, [0.7, 0.3]), window(1.0, [0.2, 0.8]),
                                    window(1.5, [0.3, 0.7], quality=0.1), window(2.0, None)], [], {})
    # each window stands for the time nearest its centre (1.0, 1.5, 2.0, ...): the bounds fall half-way between
    assert spectrum_stretches(track) == ["0.0-1.8 s: happy (80%)", "1.8-2.2 s: sad (80%)",
                                         "2.2-2.8 s: little evidence", "2.8-4.0 s: no evidence"]


def test_a_track_of_own_labels_is_read_beside_the_emotion_track_it_is_not_fused_with():
    from runtime.timeline import CAVEAT, reading_lines

    def track(name, labels, probs):
        return Track(name, labels, [Window(t, t + 2.0, probs, 1.0, "") for t in (0.0, 1.0)], [], {})

    voice = track("audio", ["high", "low"], [0.8, 0.2])
    face = track("face", list(CANONICAL_LABELS), [0.05] * 6 + [0.6, 0.05])
    # was: the voice's labels alone, the face (the one canonical emotion evidence) only counted in its summary line
    assert reading_lines(Timeline("x.mp4", 3.0, [voice, face])) == [
        "audio: 2 windows, 2 with evidence", "face: 2 windows, 2 with evidence",
        "face, the leading emotion over time:", "  0.0-3.0 s: disgust (60%)",
        "audio, the leading label over time:", "  0.0-3.0 s: high (80%)", CAVEAT]
    fused = track("fused", list(CANONICAL_LABELS), [0.05] * 6 + [0.6, 0.05])
    assert reading_lines(Timeline("x.mp4", 3.0, [voice, face, fused]))[3:8] == [
        "fused, the leading emotion over time:", "  0.0-3.0 s: disgust (60%)",
        "audio, the leading label over time:", "  0.0-3.0 s: high (80%)", CAVEAT]


@pytest.fixture(scope="module")
def analysed_example(tmp_path_factory) -> tuple[Path, list[str]]:
    """``emotrace analyze examples/session.mp4``, run once for this module's tests: its folder and what it printed."""
    from runtime.cli import main

    out = tmp_path_factory.mktemp("analysed") / "out"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["analyze", str(REPO_ROOT / "examples" / "session.mp4"), "--out", str(out)]) == 0
    return out, printed.getvalue().splitlines()


def test_an_analysis_says_its_tracks_the_emotion_over_time_and_the_caveat(analysed_example):
    from runtime.timeline import CAVEAT

    out, printed = analysed_example
    # was: only "out/timeline.json: 4 track(s) over 40.0 s"
    assert printed[0].startswith("audio: 77 windows, ") and "fused, the leading emotion over time:" in printed
    stretches = printed[printed.index("fused, the leading emotion over time:") + 1:printed.index(CAVEAT)]
    # the stretches of the leading emotion (each flag of incongruence is a line of its own) follow on from one
    # another from the start to the recording's end
    spans_s = [tuple(map(float, line.split(" s: ")[0].split("-"))) for line in stretches if "(incongruent)" not in line]
    assert spans_s[0][0] == 0.0 and spans_s[-1][1] == 40.0
    assert all(a[1] == b[0] < b[1] for a, b in zip(spans_s, spans_s[1:], strict=False))
    assert printed[-1] == f"{out / 'timeline.json'}: 4 track(s) over 40.0 s"


def test_an_analysis_says_where_its_fused_track_flags_the_modalities_incongruent(analysed_example):
    from runtime.timeline import CAVEAT

    out, printed = analysed_example
    flagged = [w for w in Timeline.read(out / "timeline.json").track("fused").windows if w.measurements["incongruent"]]
    stretches = printed[printed.index("fused, the leading emotion over time:") + 1:printed.index(CAVEAT)]
    spans_s = [tuple(map(float, line.split(" s: ")[0].split("-"))) for line in stretches if "(incongruent)" in line]
    # was: none (the example flags 27.0-31.0 s 'audio fearful (0.79) vs face happy (0.88)', printed 'happy (90%)')
    assert flagged and spans_s
    # every flagged window said, over the time it stands for (nearest its centre), and nothing else
    assert all(any(a <= (w.start_s + w.end_s) / 2 <= b for a, b in spans_s) for w in flagged)
    assert all(any(w.start_s <= (a + b) / 2 <= w.end_s for w in flagged) for a, b in spans_s)


def test_the_schema_is_shipped_with_the_package_and_names_the_format_and_labels_the_writer_writes():
    from jsonschema import Draft202012Validator

    from runtime.config import tomllib  # tomli on Python 3.10

    schema = timeline_schema()
    Draft202012Validator.check_schema(schema)
    package_data = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert SCHEMA_FILE in package_data["runtime"]  # an installed emotrace has it beside runtime/timeline.py
    assert importlib.resources.files("runtime").joinpath(SCHEMA_FILE).is_file()  # and reads it as a resource
    assert schema["properties"]["format"]["const"] == TIMELINE_FORMAT
    assert schema["properties"]["labels"]["const"] == list(CANONICAL_LABELS)


def test_the_timeline_an_analysis_writes_meets_its_schema_and_records_what_ran(analysed_example):
    out, _printed = analysed_example
    written = json.loads((out / "timeline.json").read_text())
    assert schema_errors(written) == []
    # no --physio: the physio arm did not run (was: recorded as enabled, with its model, as if it had)
    assert written["settings"]["physio"] == {"enabled": False, "why": "no recording was given for it beside the input"}
    assert all(written["settings"][name]["enabled"] for name in ("audio", "face", "body", "fusion"))


def _document() -> dict:
    """A small timeline as an analysis writes it."""
    from runtime.config import load_settings
    from runtime.pipeline import settings_as_run

    timeline = _timeline()
    timeline.settings = settings_as_run(load_settings(), {"physio": "no recording was given for it"})
    timeline.software = software_record(0.5, analysed_at_utc="2024-01-01T00:00:00+00:00")
    return json.loads(timeline.to_json())


def _edited(edit) -> dict:
    document = copy.deepcopy(_document())
    edit(document)
    return document


@pytest.mark.parametrize("edit, where", [
    (lambda d: d["tracks"][0]["windows"][0]["probs"].__setitem__(2, 1.5), "tracks/0/windows/0/probs"),
    (lambda d: d["tracks"][0]["windows"][0].__setitem__("quality", -0.5), "tracks/0/windows/0/quality"),
    (lambda d: d["tracks"][0]["windows"][1].pop("quality"), "tracks/0/windows/1: 'quality' is a required"),
    (lambda d: d.pop("input"), ": 'input' is a required"),
    (lambda d: d["tracks"][1].pop("labels"), "tracks/1: 'labels' is a required"),
    (lambda d: d["tracks"][0]["windows"][0]["measurements"].__setitem__("f0_median_hz", "high"),
     "tracks/0/windows/0/measurements/f0_median_hz"),
    (lambda d: d["tracks"][0]["labels"].__setitem__(1, "neutral"), "tracks/0/labels"),  # a label twice
    (lambda d: d["settings"].__setitem__("physio", {"enabled": False, "model": "physio-stress"}), "settings/physio"),
    (lambda d: d.__setitem__("format", "emotrace-timeline/2"), "format"),
    # a claim of no label: the window's probs are null instead (was: only the reader refused it)
    (lambda d: d["tracks"][0]["windows"][0].__setitem__("probs", [None] * len(d["tracks"][0]["labels"])),
     "tracks/0/windows/0/probs"),
])
def test_a_timeline_with_a_defect_fails_the_schema_naming_where(edit, where):
    assert schema_errors(_document()) == []
    errors = schema_errors(_edited(edit))
    assert errors and any(error.startswith(where) for error in errors), errors


def test_a_probability_of_null_on_a_label_the_window_gives_none_meets_the_schema():
    # the fused track's calm where only a face spoke (docs/timeline.md)
    document = _edited(lambda d: d["tracks"][0]["windows"][0]["probs"].__setitem__(1, None))
    assert schema_errors(document) == []
    assert Timeline.from_dict(document).tracks[0].windows[0].probs[1] is None


def test_a_window_ending_before_it_starts_is_left_by_the_schema_to_the_reader():
    # JSON Schema cannot compare two fields: the schema says so, and emotrace's reader refuses the window
    document = _edited(lambda d: d["tracks"][0]["windows"][0].update(start_s=2.0, end_s=1.0))
    assert schema_errors(document) == []  # the schema lets it pass...
    assert "end_s after its start_s" in timeline_schema()["description"]  # ...and says it leaves this to the reader
    with pytest.raises(TrackFormatError, match="window 0 .*end_s 1.0 is not after start_s 2.0"):
        Timeline.from_dict(document)


def test_a_folder_write_timeline_may_not_make_is_never_removed_when_the_write_fails(tmp_path, monkeypatch):
    import runtime.timeline as timeline_module

    out = tmp_path / "stick" / "session"
    real_is_dir = Path.is_dir

    def stick_back(self):  # the stick comes back between the write's start and its look at the folder
        if self == out and not real_is_dir(self):
            out.mkdir(parents=True)
            (out / "timeline.json").write_text("the session's last checkpoint")
        return real_is_dir(self)

    def disk_full(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "is_dir", stick_back)
    monkeypatch.setattr(timeline_module, "stage_file", disk_full)
    with pytest.raises(OSError):
        write_timeline(_timeline(), out, make_missing_folder=False)
    # a folder missing as the write began is the run's own only where it may make it: here the stick's, kept
    assert (out / "timeline.json").read_text() == "the session's last checkpoint"


def test_the_writer_s_own_checks_ask_what_the_schema_asks_of_the_software_record_and_the_settings():
    from runtime.pipeline import STEPS
    from runtime.timeline import SOFTWARE_FIELDS, SOFTWARE_REQUIRED, SOFTWARE_WHEN

    schema = timeline_schema()
    software = schema["properties"]["software"]
    kinds = {"string": str, "number": float, "object": dict}  # as _software_problem checks each kind
    assert {key: kinds[field["type"]] for key, field in software["properties"].items()} == SOFTWARE_FIELDS
    assert all(field.get("minimum") == 0 for field in software["properties"].values() if field["type"] == "number")
    assert software["additionalProperties"] is False  # a field beyond SOFTWARE_FIELDS is refused, as the writer does
    assert tuple(software["required"]) == SOFTWARE_REQUIRED
    assert tuple(one for choice in software["oneOf"] for one in choice["required"]) == SOFTWARE_WHEN
    sections = schema["properties"]["settings"]["properties"]
    assert {name for name, section in sections.items() if section.get("$ref") == "#/$defs/step_settings"} == \
        set(STEPS)
