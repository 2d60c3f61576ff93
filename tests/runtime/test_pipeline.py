"""The file pipeline: which arm runs when, and what reaches the timeline."""

from __future__ import annotations

import numpy as np
import pytest

from runtime import pipeline
from runtime.config import load_settings
from runtime.errors import InputError
from runtime.media import wav_bytes
from runtime.timeline import Timeline, write_timeline
from runtime.track import Track, Window


def fake_arm(name: str, calls: list[str], fails: bool = False):
    def arm(_request):
        calls.append(name)
        if fails:
            raise InputError(f"{name}.csv", "corrupt")
        return Track(name=name, labels=["neutral"], windows=[Window(0.0, 1.0, [1.0], 1.0)])

    return arm


@pytest.fixture
def media(tmp_path):
    path = tmp_path / "session.wav"
    path.write_bytes(wav_bytes(np.zeros(16000, dtype=np.float32), 16000))
    return path


def test_a_bad_physio_recording_fails_before_any_video_or_audio_work(tmp_path, media, monkeypatch):
    calls: list[str] = []
    arms = [("audio", fake_arm("audio", calls)), ("physio", fake_arm("physio", calls, fails=True))]
    monkeypatch.setattr(pipeline, "ARMS", arms)
    with pytest.raises(InputError, match="physio.csv"):
        pipeline.analyze_file(media, tmp_path / "out", load_settings(None, {"physio.enabled": True}))
    assert calls == ["physio"]
    assert not (tmp_path / "out").exists()


def test_the_timeline_keeps_the_arms_order_whatever_ran_first(tmp_path, media, monkeypatch):
    calls: list[str] = []
    arms = [("audio", fake_arm("audio", calls)), ("physio", fake_arm("physio", calls))]
    monkeypatch.setattr(pipeline, "ARMS", arms)
    timeline = pipeline.analyze_file(media, tmp_path / "out", load_settings(None, {"physio.enabled": True}),
                                     fuse=False)
    assert calls == ["physio", "audio"]
    assert [t.name for t in timeline.tracks] == ["audio", "physio"]


def test_a_timeline_that_cannot_be_written_leaves_no_folder(tmp_path, monkeypatch):
    timeline = Timeline(input_path="x.wav", duration_s=1.0, tracks=[], settings={}, software={})
    monkeypatch.setattr(Timeline, "to_csv", lambda _self: (_ for _ in ()).throw(ValueError("not a number")))
    with pytest.raises(ValueError):
        write_timeline(timeline, tmp_path / "out")
    assert not (tmp_path / "out").exists()
