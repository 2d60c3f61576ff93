"""A board unplugged mid-session leaves its silence to the session's end as a gap; that gap ends where the session
ends (its ``duration_s``), as every track does, not when the link's thread was stopped after it."""

from __future__ import annotations

import os
import threading
import time

from firmware_bridge.serial_link import TYPE_DATA, data_payload, encode_frame
from runtime.config import load_settings
from runtime.live import LiveInputs, run_live
from tests.runtime.live_fakes import SHORT_WINDOWS


def _board_then_unplugged(master: int, ready: threading.Event, seconds: float) -> None:
    if not ready.wait(60):
        return
    started, seq = time.monotonic(), 0
    while time.monotonic() - started < seconds:
        board_ms = int((time.monotonic() - started) * 1000)
        os.write(master, encode_frame(TYPE_DATA, seq, board_ms, data_payload([("eda", 2.0), ("temp", 33.0)])))
        seq += 1
        time.sleep(0.05)
    os.close(master)  # the cable pulled: the port is gone


def test_the_gap_of_a_board_unplugged_mid_session_ends_where_the_session_ends(tmp_path):
    master, slave = os.openpty()
    ready = threading.Event()

    def say(line: str) -> None:
        if "serial-board connecting" in line:
            ready.set()

    writer = threading.Thread(target=_board_then_unplugged, args=(master, ready, 0.8), daemon=True)
    writer.start()
    try:
        timeline = run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS),
                            LiveInputs(microphone=None, serial=os.ttyname(slave)), duration_s=2.0, on_line=say)
    finally:
        ready.set()
        writer.join(5)
        os.close(slave)
    gaps = timeline.track("physio").settings["gaps"]
    assert gaps, "the unplugged board's silence is a gap"
    ends = [end for stretches in gaps.values() for _start, end in stretches]
    assert max(ends) <= timeline.duration_s + 1e-6, (gaps, timeline.duration_s)
