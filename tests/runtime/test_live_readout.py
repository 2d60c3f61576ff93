"""The live sensor readout's heart rate: a strap's readings, else the beats of a board's pulse wave."""

import math
import re
import subprocess
import sys
import threading

import neurokit2 as nk
import numpy as np
import pytest

from firmware_bridge.link import Recorder, Sample
from runtime.arms.physio.features import recording_features
from runtime.arms.physio.recording import Channel, Recording
from runtime.clock import SessionClock
from runtime.config import load_settings
from runtime.live import SensorSession, beats_heart_rate_bpm

RATE_HZ = 64.0  # the reference board's pulse wave


def readouts(samples: list[Sample]) -> list[str]:
    """The readout lines a session of default settings (30 s windows) prints as ``samples`` arrive, in time order."""
    lines: list[str] = []
    session = SensorSession([], load_settings(None), lines.append, SessionClock(monotonic=lambda: 0.0))
    session.start()
    for sample in sorted(samples, key=lambda s: s.t_s):
        session._deliver(sample)
    session.stop()  # the readouts handed over are said by then; the clock stood at 0: no span of its own
    return [line for line in lines if "sensors" in line]


def board(pulse: np.ndarray, link: str = "serial-board") -> list[Sample]:
    """A board's pulse wave at 64 Hz, with EDA and skin temperature at 4 Hz, as long as ``pulse``."""
    samples = [Sample("bvp", i / RATE_HZ, float(v), link) for i, v in enumerate(pulse)]
    for k in range(int(pulse.size / RATE_HZ * 4)):
        samples += [Sample("eda", k / 4, 2.0, link), Sample("temp", k / 4, 33.0, link)]
    return samples


def heart_bpm(line: str) -> float:
    return float(re.search(r"heart (\d+) bpm", line).group(1))


@pytest.mark.parametrize("bpm", [64, 96])
def test_a_board_s_pulse_wave_gives_the_readout_the_heart_rate_of_the_physio_track_s_windows(bpm):
    pulse = nk.ppg_simulate(duration=62, sampling_rate=RATE_HZ, heart_rate=bpm, random_state=2)
    lines = readouts(board(pulse))
    # was: 'at 30.0 s: sensors EDA 2.00 µS, skin 33.0 °C (last 30 s)', the board's heart left out
    assert [line.split(": sensors")[0] for line in lines] == ["at 30.0 s", "at 60.0 s"]
    recording = Recording("board", {"bvp": Channel("bvp", "", np.arange(pulse.size) / RATE_HZ, pulse, RATE_HZ)})
    track_bpm = [w.measurements["hr_bpm"] for w in recording_features(recording, window_s=30.0, hop_s=30.0)]
    for line, bpm_there in zip(lines, track_bpm, strict=False):
        assert line.endswith(", EDA 2.00 µS, skin 33.0 °C (last 30 s)")
        # the span's wave alone, not the whole recording's, is filtered: its edges may move a beat or two
        assert heart_bpm(line) == pytest.approx(bpm_there, abs=1.5)
        assert heart_bpm(line) == pytest.approx(bpm, rel=0.1)  # the simulated rate drifts about it


def test_a_strap_s_heart_rate_is_read_before_a_board_s_pulse_wave():
    pulse = nk.ppg_simulate(duration=32, sampling_rate=RATE_HZ, heart_rate=96, random_state=2)
    strap = [Sample("hr", float(t), 61.0, "ble-hr") for t in range(32)]
    (line,) = readouts(board(pulse) + strap)
    assert heart_bpm(line) == 61


def sine(duration_s: float, rate_hz: float) -> np.ndarray:
    return np.sin(np.arange(int(duration_s * rate_hz)) / rate_hz * 2 * np.pi * 1.2)  # 72 bpm, were it a pulse


@pytest.mark.parametrize(("pulse", "rate_hz"), [
    (np.zeros(int(32 * RATE_HZ)), RATE_HZ),  # flat: a sensor off the skin
    (sine(5.0, RATE_HZ), RATE_HZ),  # 5 s: too short to read
    (sine(32.0, 10.0), 10.0),  # too slow for the arm's filters
], ids=["flat", "short", "slow"])
def test_a_pulse_wave_without_readable_beats_gives_no_heart_figure_and_no_line_of_log(pulse, rate_hz, caplog):
    samples = [s for s in board(np.zeros(int(32 * RATE_HZ))) if s.channel != "bvp"]
    samples += [Sample("bvp", i / rate_hz, float(v), "serial-board") for i, v in enumerate(pulse)]
    with caplog.at_level("DEBUG"):
        lines = readouts(samples)
    assert lines == ["at 30.0 s: sensors EDA 2.00 µS, skin 33.0 °C (last 30 s)"]
    assert [r.getMessage() for r in caplog.records if r.name.startswith("emotrace")] == []


def test_beat_intervals_alone_give_the_heart_rate_the_physio_track_reads():
    beats = Recorder()
    t_s = 0.0
    for interval_s in [0.8, 0.82, 0.78] * 12:
        t_s += interval_s
        beats(Sample("ibi", t_s, interval_s, "link"))
    assert beats_heart_rate_bpm(beats, 0.0, 30.0) == pytest.approx(60 / 0.8)
    assert math.isnan(beats_heart_rate_bpm(Recorder(), 0.0, 30.0))


@pytest.mark.parametrize(("ended_at_s", "said"), [(61.0, ["at 30.0 s", "at 60.0 s"]), (50.0, ["at 30.0 s"])])
def test_the_last_span_s_readout_is_said_as_the_session_ends_where_that_span_ended(ended_at_s, said):
    now_s = [0.0]
    lines: list[str] = []
    session = SensorSession([], load_settings(None), lines.append, SessionClock(monotonic=lambda: now_s[0]))
    session.start()
    for k in range(240):  # a board's EDA to 59.75 s, then none: it stopped
        session._deliver(Sample("eda", k / 4, 2.0, "serial-board"))
    now_s[0] = ended_at_s
    session.stop()
    # was: the span to 60 s never said, no later sample coming to say it; one not ended with the session is not
    assert [line.split(": sensors")[0] for line in lines if "sensors EDA 2.00 µS (last 30 s)" in line] == said


def test_a_link_hands_a_slow_readout_over_and_never_waits_for_it(monkeypatch):
    import runtime.live as live

    # was: read in the delivering link's thread, which read no port meanwhile (neurokit2's first import: 1.6 s)
    release, ran_in = threading.Event(), []

    def slow_readout(beats: Recorder, start_s: float, end_s: float) -> float:
        ran_in.append(threading.current_thread())
        release.wait(5)
        return 72.0

    monkeypatch.setattr(live, "beats_heart_rate_bpm", slow_readout)
    lines: list[str] = []
    session = SensorSession([], load_settings(None), lines.append, SessionClock(monotonic=lambda: 0.0))
    session.start()
    try:
        for sample in sorted(board(np.zeros(int(31 * RATE_HZ))), key=lambda s: s.t_s):
            session._deliver(sample)
        delivered_before_release = not release.is_set()
    finally:
        release.set()
        session.stop()
    assert delivered_before_release and len(ran_in) == 1 and ran_in[0] is not threading.current_thread()
    assert "at 30.0 s: sensors heart 72 bpm, EDA 2.00 µS, skin 33.0 °C (last 30 s)" in lines


def test_a_span_no_later_sample_ends_is_said_while_the_session_runs(monkeypatch):
    import runtime.live as live

    monkeypatch.setattr(live, "SETTLE_S", 0.1)
    said = threading.Event()

    def on_line(line: str) -> None:
        if "sensors EDA 2.00 µS" in line:
            said.set()

    session = SensorSession([], load_settings(None, {"physio.window_s": 1.0, "physio.hop_s": 0.5}), on_line,
                            SessionClock())
    session.start()
    try:
        for k in range(3):  # a board's EDA to 0.5 s, then none: it went silent or its port went
            session._deliver(Sample("eda", k / 4, 2.0, "serial-board"))
        # was: said only as the session ended, after lines stamped later
        assert said.wait(10)
    finally:
        session.stop()


def test_a_sensor_session_imports_the_signal_library_before_any_link_runs():
    code = ("import sys\n"
            "from runtime.clock import SessionClock\n"
            "from runtime.config import load_settings\n"
            "from runtime.live import SensorSession\n"
            "assert 'neurokit2' not in sys.modules\n"
            "SensorSession([], load_settings(None), None, SessionClock())\n"
            "print('neurokit2' in sys.modules)\n")
    # was: imported by the first readout, in the thread of the link that delivered its sample (1.6 s)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "True"


def _eda_to_60_s_then_ended(clock_at_end_s: float, duration_s: float | None, stop_s: float = math.inf) -> list[str]:
    """The readout lines of a board's EDA to 59.75 s, its session ended (a duration, or a stop at ``stop_s``) with
    its clock at ``clock_at_end_s`` (the wrap-up after it): where each readout line says its span ended."""
    from runtime.live import _end_devices

    now_s = [0.0]
    lines: list[str] = []
    session = SensorSession([], load_settings(None), lines.append, SessionClock(monotonic=lambda: now_s[0]))
    session.start()
    for k in range(240):
        session._deliver(Sample("eda", k / 4, 2.0, "serial-board"))
    now_s[0] = clock_at_end_s
    _end_devices(None, session, duration_s, "stopped by the user" if math.isfinite(stop_s) else "", stop_s)
    return [line.split(": sensors")[0] for line in lines if "sensors EDA 2.00 µS (last 30 s)" in line]


def test_a_session_of_a_whole_number_of_spans_says_its_last_span_as_it_ends():
    # --duration-s 60: the span to 60 s ends with the session (was: left unsaid, no later sample to end it)
    assert _eda_to_60_s_then_ended(60.4, 60.0) == ["at 30.0 s", "at 60.0 s"]


def test_a_span_ending_after_the_sessions_duration_is_not_said_though_the_wrap_up_ran_past_it():
    # --duration-s 59, closed at 61 s once the last voice windows were judged: its session ended before 60 s
    assert _eda_to_60_s_then_ended(61.0, 59.0) == ["at 30.0 s"]


def test_a_span_ending_after_a_stop_is_not_said_though_the_wrap_up_ran_past_it():
    # Ctrl-C at 59 s, closed at 61 s: what the sensors gave after the stop is not the session's
    assert _eda_to_60_s_then_ended(61.0, None, stop_s=59.0) == ["at 30.0 s"]
