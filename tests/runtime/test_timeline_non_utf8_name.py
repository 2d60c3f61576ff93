"""A Latin-1 file name (README: "File names that are not UTF-8 ... the output is never lost to one name") is written
into timeline.csv and the printed lines as s\\xe9ance.wav, but into timeline.json's input.path as the lone
surrogate "\\udce9": valid JSON syntax, no Unicode text (jq reads it as U+FFFD, a strict parser such as Rust's
serde_json refuses the file, Python's parsed string cannot be written as UTF-8)."""

import json
import os

import numpy as np

from runtime.cli import main
from runtime.media import read_audio, wav_bytes


def test_a_latin1_input_name_is_written_into_timeline_json_as_text_a_strict_reader_takes(ravdess_dir, tmp_path):
    clips = sorted((ravdess_dir / "Actor_03").glob("*.flac"))[:2]
    samples = np.concatenate([read_audio(c) for c in clips])
    name = os.fsdecode(b"s\xe9ance.wav")  # as Python holds the Latin-1 byte: a lone surrogate
    (tmp_path / name).write_bytes(wav_bytes(samples, 16000))
    assert main(["analyze", str(tmp_path / name), "--out", str(tmp_path / "out")]) == 0
    path = json.loads((tmp_path / "out" / "timeline.json").read_bytes())["input"]["path"]
    path.encode("utf-8")  # was: UnicodeEncodeError, '\udce9' (surrogates not allowed)
    assert path.endswith("s\\xe9ance.wav")  # as timeline.csv's and the printed lines' path_text gives it


def test_every_name_in_timeline_json_that_is_not_utf8_is_written_as_the_csv_writes_it():
    from runtime.timeline import Timeline
    from runtime.track import CANONICAL_LABELS, Track, Window
    from tests.runtime.timelines import fixed_software

    recording = os.fsdecode(b"/media/stick/s\xe9ance/EDA.csv")
    physio = Track("physio", labels=["stress"], unsupported_labels=list(CANONICAL_LABELS),
                   windows=[Window(0, 30, [0.7], 0.9, "", {})], settings={"physio_input": recording})
    text = Timeline(os.fsdecode(b"s\xe9ance.mp4"), 30.0, [physio], software=fixed_software()).to_json()
    text.encode("utf-8")  # was: '\udce9' in both, no Unicode text
    written = json.loads(text)
    assert written["input"]["path"] == "s\\xe9ance.mp4"
    assert written["tracks"][0]["settings"]["physio_input"] == "/media/stick/s\\xe9ance/EDA.csv"


def test_a_name_that_is_not_utf8_in_a_windows_reason_is_written_into_timeline_csv_as_into_the_json(tmp_path):
    from runtime.timeline import Timeline, write_timeline
    from runtime.track import Track, Window
    from tests.runtime.timelines import fixed_software

    name = os.fsdecode(b"s\xe9ance.csv")
    physio = Track("physio", labels=["stress"], windows=[Window(0.0, 30.0, None, 0.0, f"no samples in {name}")])
    json_path, csv_path = write_timeline(Timeline("x.mp4", 30.0, [physio], software=fixed_software()),
                                         tmp_path / "out")  # was: UnicodeEncodeError, nothing written
    assert "no samples in s\\xe9ance.csv" in csv_path.read_text(encoding="utf-8")
    assert json.loads(json_path.read_text(encoding="utf-8"))["tracks"][0]["windows"][0]["reason"] == (
        "no samples in s\\xe9ance.csv")
