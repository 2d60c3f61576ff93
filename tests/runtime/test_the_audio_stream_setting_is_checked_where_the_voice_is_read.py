"""audio.stream against the input's audio streams, before any arm runs: the last stream is a stream, one past it is
refused naming the setting, and it plays no part where the voice is not read."""

from __future__ import annotations

import pytest

from runtime import checks
from runtime.config import load_settings
from runtime.errors import InputError
from tests.media_factory import tone, write_audio_streams


@pytest.fixture
def two_microphones(tmp_path):
    return write_audio_streams(tmp_path / "two.m4a", [tone(1.0), tone(1.0, frequency_hz=440.0)])


def test_the_last_audio_stream_can_be_chosen(two_microphones):
    media = checks.probe_input(two_microphones, load_settings(None, {"audio.stream": 2}))
    assert media.audio_streams == 2 and media.has_audio


def test_an_audio_stream_past_the_inputs_is_refused_naming_the_setting(two_microphones):
    with pytest.raises(InputError) as refused:
        checks.probe_input(two_microphones, load_settings(None, {"audio.stream": 3}))
    assert "setting 'audio.stream' = 3" in str(refused.value)
    assert refused.value.problem.endswith("has 2 audio stream(s)")


def test_an_audio_stream_setting_plays_no_part_where_the_voice_is_not_read(two_microphones):
    media = checks.probe_input(two_microphones, load_settings(None, {"audio.stream": 3, "audio.enabled": False}))
    assert media.audio_streams == 2


def test_an_analysis_without_the_voice_is_not_refused_for_its_audio_stream_setting(two_microphones, tmp_path,
                                                                                  monkeypatch):
    from runtime import pipeline
    from tests.runtime.pipeline_fakes import fake_arm

    monkeypatch.setattr(pipeline, "ARMS", [("physio", fake_arm("physio", []))])
    settings = load_settings(None, {"audio.stream": 3, "audio.enabled": False, "face.enabled": False,
                                    "body.enabled": False, "physio.enabled": True})
    timeline = pipeline.analyze_file(two_microphones, tmp_path / "out", settings,
                                     extras={"physio_path": str(tmp_path / "e4.zip")}, fuse=False)
    assert [t.name for t in timeline.tracks] == ["physio"]
