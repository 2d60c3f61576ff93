"""What the pipeline records of a recording: its length to the microsecond, and the voice's band level as one of
the voice's declared measurements (its column among the voice's, refused as an arousal source on a scale of its
own)."""

import json

import numpy as np

from runtime import pipeline
from runtime.config import load_settings
from runtime.media import wav_bytes
from runtime.timeline import measurement_columns
from runtime.track import Track, Window
from tests.runtime.pipeline_fakes import EXAMPLE, fake_arm, refused_before_any_arm


def test_a_recordings_length_reaches_the_timeline_to_the_microsecond(tmp_path, monkeypatch):
    recording = tmp_path / "session.wav"
    recording.write_bytes(wav_bytes(np.zeros(19752, dtype=np.float32), 16000))  # 1.2345 s; the arm's track ends at 1 s
    monkeypatch.setattr(pipeline, "ARMS", [("audio", fake_arm("audio", []))])
    timeline = pipeline.analyze_file(recording, tmp_path / "out", load_settings(), fuse=False)
    assert timeline.duration_s == 1.2345
    assert json.loads((tmp_path / "out" / "timeline.json").read_text())["input"]["duration_s"] == 1.2345


def test_the_voice_band_level_named_for_arousal_is_refused_as_a_measurement_on_its_own_scale(tmp_path, monkeypatch):
    settings = load_settings(None, {"fusion.arousal_from": ["audio.speech_high_band_db"]})
    refused_before_any_arm(monkeypatch, EXAMPLE, tmp_path / "out", settings,
                           "the audio track's 'speech_high_band_db' is a measurement on a scale of its own, not an "
                           "activation score \\(arousal can read: nothing\\)$")


def test_the_voice_band_level_column_comes_with_the_voices_columns_before_the_bodys():
    voice = Track("audio", labels=["neutral"], windows=[
        Window(0.0, 2.0, [1.0], 1.0, "", {"speech_high_band_db": -40.0, "tremor_index": 0.1})])
    body = Track("body", labels=["neutral"], windows=[Window(0.0, 2.0, [1.0], 1.0, "", {"activation": 0.5})])
    assert measurement_columns([voice, body]) == ["speech_high_band_db", "tremor_index", "activation"]
