"""What the live-session tests share: short physio windows, a session's sensors on a clock the test moves, a strap
whose heart rate rises, a board whose EDA is flat, and a session folder that moves to another device."""

from __future__ import annotations

import json
import math
import time

from firmware_bridge.ble import BleHeartRateLink
from firmware_bridge.link import Sample
from firmware_bridge.serial_link import TYPE_DATA, SerialBoardLink, data_payload, encode_frame
from runtime.live import LiveInputs
from tests.firmware_bridge.fakes import SimulatedPeripheral

SHORT_WINDOWS = {"physio.window_s": 1.0, "physio.hop_s": 0.5}
QUARTER_HOPS = {"physio.window_s": 1.0, "physio.hop_s": 0.25, "physio.live_baseline_s": 1.0}  # a stress figure soon


def flat_eda_board(clock):
    link = SerialBoardLink("loop://", clock)
    for seq in range(1, 121):  # 30 s of EDA at 0 µS: shorted electrodes, which neurokit2 cannot decompose
        link.port.write(encode_frame(TYPE_DATA, seq, 250 * seq, data_payload([("eda", 0.0)])))
    return [link]


def strap_rising_from(rise_s: float, seconds: float):
    """A strap whose heart rate is 70 bpm, then 110 from ``rise_s`` on, ten notifications a second."""
    script = [(0.1 * k, bytes([0x00, 70 if 0.1 * k < rise_s else 110])) for k in range(int(seconds * 10))]

    def links(clock):
        return [BleHeartRateLink(SimulatedPeripheral(script, now=clock.now_s), clock, latency_s=0.0)]

    return links


class HandClockSession:
    """A live session's sensors on a clock the test moves, not a real-time session that needs a checkpoint at a
    given time of a loaded host: a strap's heart rate, ten samples a second at ``bpm`` (110 from ``rise_s`` on where
    given), delivered as the clock passes them, and the live stress windows judged as they fall due; its checkpoints
    and its end made when the test says, as written (JSON)."""

    def __init__(self, settings: dict, samples_s: float, bpm: float = 70.0, on_line=None,
                 rise_s: float = math.inf):
        import runtime.live as live
        from runtime.clock import SessionClock

        self.now_s = 0.0
        self.clock = SessionClock(monotonic=lambda: self.now_s)
        self.settings = settings
        self.inputs = LiveInputs(microphone=None)
        self.sensors = live.SensorSession([], settings, on_line, self.clock)
        self.so_far = live.SessionSoFar(self.inputs, settings, self.clock, time.perf_counter(), sensors=self.sensors)
        self.pending = [Sample("hr", 0.1 * k, bpm if 0.1 * k < rise_s else 110.0, "strap")
                        for k in range(round(samples_s * 10))]

    def until(self, t_s: float) -> None:
        """The samples sent by ``t_s``, and the clock there."""
        while self.pending and self.pending[0].t_s < t_s:
            self.sensors._deliver(self.pending.pop(0))
        self.now_s = t_s
        self.sensors.judge_due(t_s)

    def checkpoint(self, t_s: float) -> dict:
        self.until(t_s)
        return json.loads(self.so_far.timeline().to_json())

    def end(self, t_s: float) -> dict:
        import runtime.live as live

        self.until(t_s)
        self.sensors.stop()
        return json.loads(live._session_timeline([], None, self.sensors, self.inputs, self.settings, self.clock, t_s,
                                                 self.so_far.started, {}).to_json())


def on_another_device(monkeypatch, folder, moved: list) -> None:
    """``os.stat`` says ``folder`` is on another device once ``moved`` holds anything: a stick's mount point once
    the stick is unmounted, or the stick back under a new device number."""
    import os

    stat = os.stat

    def faked(path, *args, **kwargs):
        result = stat(path, *args, **kwargs)
        if moved and os.path.abspath(path) == str(folder):
            fields = list(result)
            fields[2] += 1  # st_dev
            return os.stat_result(fields)
        return result

    monkeypatch.setattr(os, "stat", faked)
