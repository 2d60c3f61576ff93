"""``emotrace audio classify``: a recording's DC offset is removed before the VAD and the features, as in the arm."""

import csv

import numpy as np
import pytest
import soundfile

from runtime.cli import main
from runtime.media import read_audio
from runtime.track import CANONICAL_LABELS


@pytest.mark.parametrize("baseline", ["none", "folder"])
def test_a_dc_offset_does_not_change_what_classify_writes(ravdess_dir, tmp_path, baseline):
    samples = read_audio(ravdess_dir / "Actor_03" / "03-01-05-02-01-01-03.flac")
    rows = {}
    for name, offset in (("plain", 0.0), ("offset", 0.05)):  # 0.05: inaudible, a cheap microphone's
        folder = tmp_path / name
        folder.mkdir()
        soundfile.write(folder / "clip.wav", samples + np.float32(offset), 16000, subtype="FLOAT")
        out = tmp_path / f"{name}.csv"
        assert main(["audio", "classify", str(folder), "--csv", str(out), "--speaker-baseline", baseline]) == 0
        [rows[name]] = list(csv.DictReader(out.open()))
    plain, offset = (np.array([float(rows[k][label]) for label in CANONICAL_LABELS]) for k in ("plain", "offset"))
    assert rows["plain"]["emotion"] == rows["offset"]["emotion"]
    assert np.abs(plain - offset).max() < 0.01


def test_classify_names_the_gain_for_a_clip_too_quiet_to_find_speech_in(ravdess_dir, tmp_path, capsys, caplog):
    samples = read_audio(ravdess_dir / "Actor_03" / "03-01-05-02-01-01-03.flac")
    for name, peak_dbfs in (("quiet", -44.0), ("inaudible", -75.0)):
        soundfile.write(tmp_path / f"{name}.wav", samples / np.abs(samples).max() * 10 ** (peak_dbfs / 20), 16000)
    assert main(["audio", "classify", str(tmp_path / "quiet.wav"), "--csv", str(tmp_path / "q.csv")]) == 0
    assert "quiet.wav: very quiet audio (loudest -44" in caplog.text
    assert main(["audio", "classify", str(tmp_path / "inaudible.wav"), "--csv", str(tmp_path / "i.csv")]) == 2
    assert "inaudible.wav: no speech found: very quiet audio" in capsys.readouterr().err
    assert not (tmp_path / "i.csv").exists()
