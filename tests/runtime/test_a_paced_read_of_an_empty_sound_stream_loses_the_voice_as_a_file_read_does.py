import numpy as np
import pytest

from runtime import pipeline
from runtime.config import load_settings
from runtime.errors import InputError
from runtime.media import wav_bytes
from tests.media_factory import write_media
from tests.runtime.pipeline_fakes import fake_arm


def test_a_video_whose_sound_is_empty_read_at_real_time_pace_is_analysed_without_the_voice(tmp_path, monkeypatch):
    # as without --realtime: no audio track, the audio arm recorded as not run (was: an audio track of no window,
    # 'stopped early: ... audio stream holds no samples', the arm recorded as run)
    arms = dict(pipeline.ARMS)
    monkeypatch.setattr(pipeline, "ARMS", [("audio", arms["audio"]), ("face", fake_arm("face", []))])
    video = write_media(tmp_path / "mute.mkv", np.zeros(0, dtype=np.float32), 48000, "pcm_s16le",
                        video_codec="mpeg4", video_s=2.0)
    settings = load_settings(None, {"body.enabled": False, "runtime.realtime": True})
    timeline = pipeline.analyze_file(video, tmp_path / "out", settings, fuse=False)
    assert [track.name for track in timeline.tracks] == ["face"]
    assert timeline.settings["audio"]["enabled"] is False


def test_an_empty_sound_file_read_at_real_time_pace_is_refused_as_holding_no_samples(tmp_path):
    # as without --realtime (was: 'too short to hold speech: 0 ms of audio ... (audio stream holds no samples)')
    path = tmp_path / "empty.wav"
    path.write_bytes(wav_bytes(np.zeros(0, dtype=np.float32), 16000))
    settings = load_settings(None, {"runtime.realtime": True})
    with pytest.raises(InputError, match=r"^.*audio stream holds no samples$"):
        pipeline.analyze_file(path, tmp_path / "out", settings, fuse=False)
