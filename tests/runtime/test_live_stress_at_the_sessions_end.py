"""The live stress windows of a sensors session (runtime/live.py, SensorSession) around its end: which windows are
judged, kept and said after --duration-s or a stop, once a window_s, each SETTLE_S after its end."""

from __future__ import annotations

import threading
import time

import pytest

from firmware_bridge.link import Sample
from runtime.clock import SessionClock
from runtime.config import load_settings
from runtime.live import SETTLE_S, SensorSession
from tests.runtime.live_fakes import QUARTER_HOPS


def _strap_session(lines, duration_s=None):
    now_s = [0.0]
    sensors = SensorSession([], load_settings(None, QUARTER_HOPS), lines.append,
                            SessionClock(monotonic=lambda: now_s[0]), duration_s=duration_s)
    sensors.start()
    for k in range(48):  # a strap's heart rate, ten a second, to 4.7 s
        sensors._deliver(Sample("hr", k / 10, 70.0, "strap"))
    return sensors, now_s


def test_windows_past_the_sessions_duration_are_neither_said_nor_kept_and_lines_come_once_a_window():
    lines = []
    sensors, now_s = _strap_session(lines, duration_s=3.5)
    now_s[0] = 4.6  # the sensors recorded on while the voice caught up
    sensors.stop(reason="stopped by the user")
    stress_lines = [line for line in lines if "stress" in line]
    assert [line.split(" s:")[0] for line in stress_lines] == ["at 1.0", "at 2.0", "at 3.0"]
    live = sensors.live_track(3.5)
    assert [w.end_s for w in live.windows] == pytest.approx([1.0 + 0.25 * k for k in range(11)])
    assert live.settings["status"] == "stopped by the user"


def test_a_stop_given_the_duration_judges_no_window_ending_after_it():
    lines = []
    sensors, now_s = _strap_session(lines)
    now_s[0] = 4.6
    sensors.stop(3.5)  # --duration-s 3.5, closed at 4.6 s
    assert sensors.stress.windows[-1].end_s == 3.5
    assert not [line for line in lines if line.startswith("at 4.0 s:") and "stress" in line]


def test_a_window_is_judged_settle_s_after_its_end_not_at_it():
    now_s = [0.0]
    sensors = SensorSession([], load_settings(None, QUARTER_HOPS), None, SessionClock(monotonic=lambda: now_s[0]))
    now_s[0] = 4.0
    sensors._judged = 12  # the 13th window ends at 4.0 s: now
    assert SETTLE_S > 0 and sensors._wait_to_judge_s() == pytest.approx(SETTLE_S)


def test_a_stop_coming_during_a_judge_ends_the_judging_at_its_end_each_window_judged_once_in_order():
    lines: list[str] = []
    now_s = [0.0]
    sensors = SensorSession([], load_settings(None, QUARTER_HOPS), lines.append,
                            SessionClock(monotonic=lambda: now_s[0]))
    for k in range(90):  # a strap's heart rate, ten a second, to 8.9 s
        sensors._deliver(Sample("hr", k / 10, 70.0, "strap"))
    judging, release = threading.Event(), threading.Event()
    judge = sensors.stress.judge

    def slow_judge(recording, start_s: float, end_s: float):
        if end_s == 2.0:  # the stop comes while this window is judged
            judging.set()
            release.wait(30)
        return judge(recording, start_s, end_s)

    sensors.stress.judge = slow_judge
    now_s[0] = 9.0  # the judging thread behind: every window ending by 7 s is due at once
    sensors.start()
    assert judging.wait(30)
    stopping = threading.Thread(target=sensors.stop, args=(3.0,))  # --duration-s 3, closed at 9 s
    stopping.start()
    while not sensors._stopped.is_set() and stopping.is_alive():  # its end set: the stop waits on the judging now
        time.sleep(0.01)
    release.set()
    stopping.join(30)
    # judge_due bounded by the duration and a stop asked for alone, not the stop's end: windows to 7 s judged, said
    assert [w.end_s for w in sensors.stress.windows] == pytest.approx([1.0 + 0.25 * k for k in range(9)])
    assert [line.split(" s:")[0] for line in lines if "stress" in line] == ["at 1.0", "at 2.0", "at 3.0"]
