"""check_request judges the input by the arms that will run: a stream no running arm reads may be undecodable, an
input whose header gives no length is refused before any arm only where nothing but a recording beside it is
read, and an analysis where an arm reads the input goes ahead whatever its header says."""

from __future__ import annotations

import dataclasses

from runtime import checks, pipeline
from runtime.checks import NO_END_TO_FIT
from runtime.config import load_settings
from tests.media_factory import tone, write_media
from tests.runtime.pipeline_fakes import fake_arm, refused_before_any_arm

VIDEO_ARMS_OFF = {"face.enabled": False, "body.enabled": False}


def test_a_video_stream_no_running_arm_reads_may_be_undecodable(tmp_path, monkeypatch):
    video = write_media(tmp_path / "v.mkv", tone(1.0, 16000), 16000, "pcm_s16le", video_codec="mpeg4", video_s=1.0)
    real_probe = checks.probe
    monkeypatch.setattr(checks, "probe", lambda *args: dataclasses.replace(
        real_probe(*args), video_problem="its video is an unsupported codec"))
    monkeypatch.setattr(pipeline, "ARMS", [("audio", fake_arm("audio", [])), ("face", fake_arm("face", []))])
    timeline = pipeline.analyze_file(video, tmp_path / "out", load_settings(None, VIDEO_ARMS_OFF), fuse=False)
    assert [t.name for t in timeline.tracks] == ["audio"]  # the voice alone, the picture never read
    # where the face runs, the same input is refused before any arm, naming the stream's problem
    refused_before_any_arm(monkeypatch, video, tmp_path / "out2", load_settings(None, {"body.enabled": False}),
                           "its video is an unsupported codec$")


def _transport_stream(tmp_path):  # MPEG-TS: FFmpeg reads its end from the last stamps, so none is known before
    return write_media(tmp_path / "session.ts", tone(1.0, 48000), 48000, "aac")


def test_a_physio_recording_against_an_input_no_arm_reads_and_of_no_known_end_is_refused_before_any_arm(
        tmp_path, monkeypatch):
    settings = load_settings(None, {"audio.enabled": False, **VIDEO_ARMS_OFF, "physio.enabled": True})
    error = refused_before_any_arm(monkeypatch, _transport_stream(tmp_path), tmp_path / "out", settings,
                                   "no arm here reads it", extras={"physio_path": str(tmp_path / "e4.zip")})
    assert error.problem == NO_END_TO_FIT


def test_a_physio_recording_against_an_input_an_arm_reads_is_analysed_whatever_its_header_says(tmp_path,
                                                                                              monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(pipeline, "ARMS", [("audio", fake_arm("audio", calls)), ("physio", fake_arm("physio", calls))])
    settings = load_settings(None, {**VIDEO_ARMS_OFF, "physio.enabled": True})
    timeline = pipeline.analyze_file(_transport_stream(tmp_path), tmp_path / "out", settings,
                                     extras={"physio_path": str(tmp_path / "e4.zip")}, fuse=False)
    assert calls == ["physio", "audio"]
    assert [t.name for t in timeline.tracks] == ["audio", "physio"]
