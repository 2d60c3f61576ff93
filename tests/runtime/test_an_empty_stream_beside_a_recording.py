"""An input stream found empty beside a physio recording: where the input's header gives the end the recording is
placed against, the empty stream loses its arms alone, as a missing stream does; where it gives none, the empty
stream is the error, named."""

import logging

import numpy as np
import pytest

from runtime import pipeline
from runtime.config import load_settings
from runtime.errors import InputError
from runtime.media import wav_bytes
from tests.media_factory import tone, write_media
from tests.runtime.pipeline_fakes import fake_arm


def _beside_a_recording(monkeypatch, tmp_path, input_arm: str) -> tuple[dict, dict]:
    """The real ``input_arm`` and a stand-in physio arm, every other arm off: (settings, extras)."""
    arms = dict(pipeline.ARMS)
    monkeypatch.setattr(pipeline, "ARMS", [(input_arm, arms[input_arm]), ("physio", fake_arm("physio", []))])
    recording = tmp_path / "strap.csv"
    recording.write_text("time_s,eda\n0,2\n")
    off = {f"{arm}.enabled": False for arm in ("audio", "face", "body") if arm != input_arm}
    return load_settings(None, {**off, "physio.enabled": True}), {"physio_path": str(recording)}


def test_a_video_whose_sound_is_empty_is_analysed_for_the_recording_beside_it_without_the_voice(
        tmp_path, monkeypatch, caplog):
    settings, extras = _beside_a_recording(monkeypatch, tmp_path, "audio")
    videos = {"mute.mkv": np.zeros(0, dtype=np.float32), "silent.mkv": None}  # an empty sound stream; none
    for name, sound in videos.items():
        video = write_media(tmp_path / name, sound, 48000, "pcm_s16le", video_codec="mpeg4", video_s=2.0)
        with caplog.at_level(logging.WARNING):
            timeline = pipeline.analyze_file(video, tmp_path / f"out-{name}", settings, extras, fuse=False)
        assert [track.name for track in timeline.tracks] == ["physio"]  # was: refused for the empty one
        assert timeline.settings["audio"]["enabled"] is False
    assert any(r.getMessage().endswith("mute.mkv: audio stream holds no samples; analysed without the voice")
               for r in caplog.records)


@pytest.mark.parametrize("name", ["empty.wav", "mute.ts"])
def test_an_empty_sound_stream_with_no_end_to_place_the_recording_is_refused_naming_the_empty_stream(
        tmp_path, monkeypatch, name):
    # an audio-only file holding nothing, or an MPEG-TS video (no length before it is read): the voice lost leaves
    # nothing that reads the input (was: 'its header gives no length ... enable the audio, face or body arm', with
    # the audio arm on)
    settings, extras = _beside_a_recording(monkeypatch, tmp_path, "audio")
    if name.endswith(".wav"):
        path = tmp_path / name
        path.write_bytes(wav_bytes(np.zeros(0, dtype=np.float32), 16000))
    else:
        path = write_media(tmp_path / name, np.zeros(0, dtype=np.float32), 48000, "mp2", video_codec="mpeg4",
                           video_s=2.0)
    with pytest.raises(InputError, match="audio stream holds no samples") as refused:
        pipeline.analyze_file(path, tmp_path / "out", settings, extras, fuse=False)
    assert "enable the audio" not in refused.value.problem
    assert not (tmp_path / "out" / "timeline.json").exists()


def test_an_empty_picture_with_no_end_to_place_the_recording_is_refused_naming_the_empty_stream(
        tmp_path, monkeypatch):
    # the same rule for the picture: an MPEG-TS file whose video stream holds no frames, the face arm alone on
    settings, extras = _beside_a_recording(monkeypatch, tmp_path, "face")
    path = write_media(tmp_path / "noframes.ts", tone(2.0, 48000), 48000, "mp2", video_codec="mpeg4", video_s=0.0)
    with pytest.raises(InputError, match="video stream holds no frames"):
        pipeline.analyze_file(path, tmp_path / "out", settings, extras, fuse=False)
