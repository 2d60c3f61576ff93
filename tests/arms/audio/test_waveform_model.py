"""The audio arm runs a waveform model (a pretrained encoder or its student) when the config names one."""


import numpy as np
import pytest

from runtime.arms.audio.arm import AudioSettings, analyze_audio
from runtime.arms.audio.classify import classify_paths
from runtime.arms.audio.model import WaveformEmotionModel, load_audio_model
from runtime.cli import main
from runtime.media import read_audio
from tests.arms.audio.voice_models import WAVEFORM_LABELS


def test_waveform_model_fills_the_track_with_its_own_labels(waveform_model_dir, ravdess_dir):
    model = load_audio_model(waveform_model_dir)
    assert isinstance(model, WaveformEmotionModel)
    samples = read_audio(ravdess_dir / "Actor_02" / "03-01-05-02-01-01-02.flac")
    track = analyze_audio(samples, model, AudioSettings())
    assert track.labels == WAVEFORM_LABELS
    assert set(track.unsupported_labels) == {"calm", "fearful", "disgust", "surprised"}
    assert track.settings["speaker_baseline"] == "default"
    claims = [w for w in track.windows if w.has_claim]
    assert claims and all(sum(w.probs) == pytest.approx(1.0, abs=1e-5) for w in claims)
    # louder windows lean further towards the label with the largest weight
    louder = max(claims, key=lambda w: w.measurements["loudness_db"])
    quieter = min(claims, key=lambda w: w.measurements["loudness_db"])
    assert louder.probs[3] >= quieter.probs[3]


def test_classify_with_a_waveform_model_writes_its_labels(waveform_model_dir, ravdess_dir, tmp_path):
    out = tmp_path / "c.csv"
    classify_paths([ravdess_dir / "Actor_02" / "03-01-05-02-01-01-02.flac"], out, model=str(waveform_model_dir))
    header, row = out.read_text().splitlines()
    assert header == "path,emotion," + ",".join(WAVEFORM_LABELS)
    assert row.split(",")[1] in WAVEFORM_LABELS
    assert np.isclose(sum(float(v) for v in row.split(",")[2:]), 1.0, atol=1e-4)


def test_classify_with_a_waveform_model_goes_on_past_a_file_it_cannot_read(waveform_model_dir, ravdess_dir,
                                                                          tmp_path):
    clip = ravdess_dir / "Actor_02" / "03-01-05-02-01-01-02.flac"
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    out = tmp_path / "c.csv"
    count, failed = classify_paths([empty, clip], out, model=str(waveform_model_dir))  # was: the empty file's error
    assert count == 1 and [str(error) for error in failed] == [f"{empty}: empty file"]
    header, row = out.read_text().splitlines()
    assert row.split(",")[0] == str(clip)


def test_windows_longer_than_a_waveform_model_reads_are_refused_and_shorter_ones_said(waveform_model_dir,
                                                                                     ravdess_dir, tmp_path, capsys,
                                                                                     caplog):
    # was: each 6 s window judged by its first 2 s alone, silently
    clip = ravdess_dir / "Actor_02" / "03-01-05-02-01-01-02.flac"
    assert main(["analyze", str(clip), "--out", str(tmp_path / "long"), "--audio-model", str(waveform_model_dir),
                 "--window-s", "6"]) == 2
    assert capsys.readouterr().err == ("emotrace: error: --window-s: setting 'audio.window_s' = 6.0: longer than "
                                       "the 2 s the waveform model toy-waveform reads, which would judge each "
                                       "window's first 2 s alone; give 2 s or less\n")
    assert not (tmp_path / "long").exists()
    assert main(["analyze", str(clip), "--out", str(tmp_path / "short"), "--audio-model", str(waveform_model_dir),
                 "--window-s", "1"]) == 0
    assert ("voice: 1 s windows, but toy-waveform was trained on 2 s windows; its emotion figures are not measured "
            "for these settings") in caplog.messages
