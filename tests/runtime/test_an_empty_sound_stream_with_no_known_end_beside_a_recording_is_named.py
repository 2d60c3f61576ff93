import wave

import numpy as np
import pytest

from runtime import pipeline
from runtime.config import load_settings
from runtime.errors import InputError
from tests.media_factory import write_media
from tests.runtime.pipeline_fakes import fake_arm


def _empty_wav(path):
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"")
    return path


@pytest.mark.parametrize("name", ["empty.wav", "mute.ts"])
def test_an_empty_sound_stream_beside_a_recording_with_no_end_to_place_it_is_refused_naming_the_empty_stream(
        tmp_path, monkeypatch, name):
    # an audio-only file holding nothing, or an MPEG-TS video (no length before it is read) with the face and body
    # off: the voice lost leaves nothing that reads the input, so the recording beside it has no end to be placed
    # against; the error says the sound is empty (was: 'its header gives no length ... enable the audio, face or
    # body arm', with the audio arm on)
    arms = dict(pipeline.ARMS)
    calls: list[str] = []
    monkeypatch.setattr(pipeline, "ARMS", [("audio", arms["audio"]), ("physio", fake_arm("physio", calls))])
    recording = tmp_path / "strap.csv"
    recording.write_text("time_s,eda\n0,2\n")
    settings = load_settings(None, {"face.enabled": False, "body.enabled": False, "physio.enabled": True})
    if name.endswith(".wav"):
        path = _empty_wav(tmp_path / name)
    else:
        path = write_media(tmp_path / name, np.zeros(0, dtype=np.float32), 48000, "mp2", video_codec="mpeg4",
                           video_s=2.0)
    with pytest.raises(InputError, match="audio stream holds no samples") as refused:
        pipeline.analyze_file(path, tmp_path / "out", settings, {"physio_path": str(recording)}, fuse=False)
    assert "enable the audio" not in refused.value.problem
    assert not (tmp_path / "out" / "timeline.json").exists()


def test_an_empty_picture_beside_a_recording_with_no_end_to_place_it_is_refused_naming_the_empty_stream(
        tmp_path, monkeypatch):
    # the same rule for the picture (runtime.arms.video.scan): an MPEG-TS file whose video stream holds no frames,
    # the face on and the voice off (was: 'enable the audio, face or body arm', with the face arm on)
    from tests.media_factory import tone

    arms = dict(pipeline.ARMS)
    monkeypatch.setattr(pipeline, "ARMS", [("face", arms["face"]), ("physio", fake_arm("physio", []))])
    recording = tmp_path / "strap.csv"
    recording.write_text("time_s,eda\n0,2\n")
    settings = load_settings(None, {"audio.enabled": False, "body.enabled": False, "physio.enabled": True})
    path = write_media(tmp_path / "noframes.ts", tone(2.0, 48000), 48000, "mp2", video_codec="mpeg4", video_s=0.0)
    with pytest.raises(InputError, match="video stream holds no frames"):
        pipeline.analyze_file(path, tmp_path / "out", settings, {"physio_path": str(recording)}, fuse=False)
