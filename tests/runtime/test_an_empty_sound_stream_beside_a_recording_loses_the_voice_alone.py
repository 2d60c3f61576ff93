import logging

import numpy as np

from runtime import pipeline
from runtime.config import load_settings
from tests.media_factory import write_media
from tests.runtime.pipeline_fakes import fake_arm


def test_a_video_whose_sound_is_empty_is_analysed_for_the_recording_beside_it_without_the_voice(
        tmp_path, monkeypatch, caplog):
    # the face and body off: the physio recording is all there is to read, as where the video has no sound stream
    arms = dict(pipeline.ARMS)
    monkeypatch.setattr(pipeline, "ARMS", [("audio", arms["audio"]), ("physio", fake_arm("physio", []))])
    recording = tmp_path / "strap.csv"
    recording.write_text("time_s,eda\n0,2\n")
    settings = load_settings(None, {"face.enabled": False, "body.enabled": False, "physio.enabled": True})
    videos = {"mute.mkv": np.zeros(0, dtype=np.float32), "silent.mkv": None}  # an empty sound stream; none
    for name, sound in videos.items():
        video = write_media(tmp_path / name, sound, 48000, "pcm_s16le", video_codec="mpeg4", video_s=2.0)
        with caplog.at_level(logging.WARNING):
            timeline = pipeline.analyze_file(video, tmp_path / f"out-{name}", settings,
                                             {"physio_path": str(recording)}, fuse=False)
        assert [track.name for track in timeline.tracks] == ["physio"]  # was: refused for the empty one
        assert timeline.settings["audio"]["enabled"] is False
    assert any(r.getMessage().endswith("mute.mkv: audio stream holds no samples; analysed without the voice")
               for r in caplog.records)
