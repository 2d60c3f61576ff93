"""Ctrl-C and SIGTERM stop a command even where a library swallowed the signal's KeyboardInterrupt."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

import numpy as np
import pytest

from runtime import pipeline
from runtime.config import load_settings
from runtime.live import until
from runtime.sources.audio import AudioChunk
from runtime.sources.video import FileVideoSource
from runtime.stopping import ask_to_stop, stop_asked, stopping_on_signals
from tests.conftest import REPO_ROOT
from tests.runtime.test_pipeline import fake_arm


def swallowed_stop() -> None:
    """A signal that lands in a library which catches what its handler raises (PyAV's resampler did)."""
    with contextlib.suppress(KeyboardInterrupt):
        ask_to_stop(signal.SIGTERM, None)


def test_a_live_voice_stop_that_a_library_swallowed_ends_the_capture_at_the_next_chunk():
    def microphone() -> Iterator[AudioChunk]:  # a device that never ends
        for i in range(1000):
            if i == 3:
                swallowed_stop()
            yield AudioChunk(i * 0.1, np.zeros(1600, dtype=np.float32), 16000)

    taken = []
    with stopping_on_signals(), pytest.raises(KeyboardInterrupt):
        for chunk in until(microphone(), None):
            taken.append(chunk)
    assert len(taken) == 3  # the chunk read as the stop came is not judged; was: all 1000, the session going on


def test_an_analysis_whose_stop_an_arm_swallowed_writes_nothing(tmp_path, monkeypatch):
    calls: list[str] = []
    audio = fake_arm("audio", calls)
    monkeypatch.setattr(pipeline, "ARMS", [("audio", lambda request: swallowed_stop() or audio(request))])
    media = REPO_ROOT / "examples" / "session.mp4"
    with stopping_on_signals(), pytest.raises(KeyboardInterrupt):
        pipeline.analyze_file(media, tmp_path / "out", load_settings(), fuse=False)
    assert calls == ["audio"] and not (tmp_path / "out").exists()  # was: a timeline written as if finished


def test_a_video_whose_stop_the_decoder_swallowed_ends_at_the_next_frame():
    source = FileVideoSource(REPO_ROOT / "examples" / "session.mp4", sample_fps=2.0)
    seen = 0
    with stopping_on_signals(), pytest.raises(KeyboardInterrupt):
        for _frame in source.frames():
            seen += 1
            if seen == 2:
                swallowed_stop()
    assert seen == 2  # was: every frame of the video


def test_the_handlers_found_are_given_back_and_the_request_forgotten():
    def host_handler(signum, frame):  # what a program embedding the CLI had set
        pass

    before = {number: signal.signal(number, host_handler) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        with stopping_on_signals():
            assert signal.getsignal(signal.SIGINT) is ask_to_stop and signal.getsignal(signal.SIGTERM) is ask_to_stop
            swallowed_stop()
            assert stop_asked()
        assert signal.getsignal(signal.SIGINT) is host_handler and signal.getsignal(signal.SIGTERM) is host_handler
        assert not stop_asked()  # a later command in the same process is not stopped by this one's Ctrl-C
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)
