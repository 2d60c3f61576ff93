"""face.person = "all": the face arm gives a track per person, and each of them reaches the timeline in the arms'
order (not the first person's alone)."""

from __future__ import annotations

from runtime import pipeline
from runtime.config import load_settings
from runtime.track import Track, Window
from tests.runtime.pipeline_fakes import fake_arm


def test_every_persons_face_track_reaches_the_timeline(tmp_path, monkeypatch):
    import numpy as np

    from runtime.media import wav_bytes

    wav = tmp_path / "session.wav"
    wav.write_bytes(wav_bytes(np.zeros(16000, dtype=np.float32), 16000))

    def faces(_request):
        return [Track(name=f"face-{n}", labels=["neutral"], windows=[Window(0.0, 1.0, [1.0], 1.0)]) for n in (1, 2, 3)]

    monkeypatch.setattr(pipeline, "ARMS", [("audio", fake_arm("audio", [])), ("face", faces)])
    timeline = pipeline.analyze_file(wav, tmp_path / "out", load_settings(None, {"body.enabled": False}), fuse=False)
    assert [t.name for t in timeline.tracks] == ["audio", "face-1", "face-2", "face-3"]
