"""A session stopped by the user (Ctrl-C, a service manager's SIGTERM) says it ended where the stop came, where its
timeline ends, not where its loops noticed the stop (a chunk or a judged window later)."""

import os
import signal
import threading

import pytest

from runtime.config import load_settings
from runtime.live import run_live_audio


def test_a_stopped_session_says_it_ended_where_its_timeline_ends(tmp_path, monkeypatch):
    import runtime.live as live
    from runtime.stopping import stopping_on_signals

    lines: list[str] = []
    capture = live._capture

    def noticed_late(*args, **kwargs):  # the loops notice the stop a chunk or a judged window later
        captured = capture(*args, **kwargs)
        threading.Event().wait(0.4)
        return captured

    def on_line(line: str) -> None:
        lines.append(line)
        if line.startswith("at ") and sum(said.startswith("at ") for said in lines) == 1:
            os.kill(os.getpid(), signal.SIGTERM)  # stopped as its first window is said

    monkeypatch.setattr(live, "_capture", noticed_late)
    paced = "anoisesrc=d=30:c=pink:a=0.05:r=16000,arealtime"  # read in real time, as a microphone's sound comes
    try:
        with stopping_on_signals():
            timeline = run_live_audio(tmp_path / "live", load_settings(), device=paced, input_format="lavfi",
                                      on_line=on_line)
    except KeyboardInterrupt:  # (pytest would take it as its own Ctrl-C)
        pytest.fail("the stop was not taken as the session's end")
    assert timeline.duration_s < 30.0  # stopped, not run to the source's end
    assert [line for line in lines if line.startswith("session ended at")] == [
        f"session ended at {timeline.duration_s:.1f} s; writing its timeline"]
