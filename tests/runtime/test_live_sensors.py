"""Body sensors in a live session: a serial board over a pseudo-terminal, a simulated BLE heart-rate strap."""

import os
import re
import threading
import time

import pytest
from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason, BleakDBusError

from firmware_bridge.ble import TEMPERATURE_MEASUREMENT, BleHeartRateLink, BleThermometerLink
from firmware_bridge.link import Sample, SensorLink
from firmware_bridge.serial_link import TYPE_DATA, TYPE_HELLO, SerialBoardLink, data_payload, encode_frame
from runtime.config import load_settings
from runtime.errors import InputError
from runtime.live import LiveInputs, run_live, sensor_readout
from runtime.track import CANONICAL_LABELS
from tests.firmware_bridge.fakes import SimulatedPeripheral
from tests.runtime.live_fakes import QUARTER_HOPS, SHORT_WINDOWS, HandClockSession, flat_eda_board, strap_rising_from


def board(master_fd: int, seconds: float, stop: threading.Event, ready: threading.Event) -> None:
    """A board sending EDA and skin temperature every 50 ms of real time, and HELLO every 0.5 s, for ``seconds``
    from ``ready`` (the session's link reading its port: a loaded host may take seconds to start a session)."""
    if not ready.wait(60):
        return
    started = time.monotonic()
    seq = 0
    while not stop.is_set() and time.monotonic() - started < seconds:
        board_ms = int((time.monotonic() - started) * 1000)
        if seq % 10 == 0:
            os.write(master_fd, encode_frame(TYPE_HELLO, seq, board_ms, b"test-board"))
            seq += 1
        os.write(master_fd, encode_frame(TYPE_DATA, seq, board_ms, data_payload([("eda", 2.0), ("temp", 33.0)])))
        seq += 1
        time.sleep(0.05)


def on_port_open(ready: threading.Event, on_line):
    """``on_line`` that also sets ``ready`` once the session's serial link says it reads its port."""

    def say(line: str) -> None:
        if "serial-board connecting" in line:
            ready.set()
        on_line(line)

    return say


def live_with_board(out, on_line):
    """``emotrace live`` for 2 s with a board on a pseudo-terminal sending for 3 s from the session's start."""
    master, slave = os.openpty()
    stop, ready = threading.Event(), threading.Event()
    writer = threading.Thread(target=board, args=(master, 3.0, stop, ready), daemon=True)
    writer.start()
    try:
        return run_live(out, load_settings(None, SHORT_WINDOWS), LiveInputs(microphone=None, serial=os.ttyname(slave)),
                        duration_s=2.0, on_line=on_port_open(ready, on_line))
    finally:
        stop.set()
        ready.set()  # a session that failed before its link started: the writer ends
        writer.join()
        os.close(master)
        os.close(slave)


def test_a_serial_board_records_into_the_physio_track_and_its_state_is_printed(tmp_path):
    lines = []
    timeline = live_with_board(tmp_path / "out", lines.append)
    physio = timeline.track("physio")
    assert physio.settings["mode"] == "live" and physio.settings["sync"] == "live session clock"
    assert physio.settings["links"]["serial-board"].startswith("connected")
    connected = [line for line in lines if "serial-board connected" in line]
    assert connected and "test-board" in connected[-1] and len(connected) <= 2  # said once, not every HELLO
    temps = [w.measurements.get("temp_c") for w in physio.windows]
    assert any(t == pytest.approx(33.0) for t in temps)
    # once a physio window, the medians of what arrived (no heart channel on this board)
    assert "at 1.0 s: sensors EDA 2.00 µS, skin 33.0 °C (last 1 s)" in lines
    assert 1.8 <= timeline.duration_s <= 2.5
    assert (tmp_path / "out" / "timeline.json").exists()


def test_the_signal_librarys_slow_first_import_comes_before_the_session_clock_not_in_the_session(tmp_path,
                                                                                                monkeypatch):
    import time

    import runtime.live as live

    imported = []

    def slow_first_import() -> None:  # as neurokit2's first import, seconds on a small device
        if not imported:
            time.sleep(1.5)
        imported.append(True)

    monkeypatch.setattr(live, "load_signal_library", slow_first_import)
    lines = []
    live_with_board(tmp_path / "out", lines.append)
    # was: the sensors started 1.5 s into the session (the import ran on its clock), their first second lost
    assert "at 1.0 s: sensors EDA 2.00 µS, skin 33.0 °C (last 1 s)" in lines


def test_a_line_that_cannot_be_printed_costs_that_line_not_the_boards_data(tmp_path, caplog):
    printed = []

    def ascii_terminal(line: str) -> None:  # a terminal that cannot encode µS or °C
        printed.append(line.encode("ascii").decode())

    with caplog.at_level("WARNING", logger="emotrace"):
        timeline = live_with_board(tmp_path / "out", ascii_terminal)
    physio = timeline.track("physio")
    late = [w for w in physio.windows if w.start_s >= 1.0]
    assert late and all(w.measurements.get("temp_c") == pytest.approx(33.0) for w in late)
    assert any("serial-board connected" in line for line in printed)
    assert caplog.text.count("live lines cannot be printed (UnicodeEncodeError") == 1


def test_the_printed_readout_reads_a_channel_from_one_link_as_the_tracks_do_never_a_mix(tmp_path):
    from runtime.clock import SessionClock
    from runtime.live import SensorSession

    lines = []
    session = SensorSession([], load_settings(None, SHORT_WINDOWS), lines.append, SessionClock(monotonic=lambda: 0.0))
    session.start()
    for k in range(24):  # two thermometers at 4 Hz, the board first: it is read on every tie
        session._deliver(Sample("temp", k / 4, 33.0, "board"))
        session._deliver(Sample("temp", k / 4 + 0.1, 30.0, "ble-temp"))
    session.stop()  # the readouts handed over are said by then
    assert set(session.recorder.to_recording("board + thermometer").channels["temp"].values) == {33.0}
    readouts = [line for line in lines if "sensors" in line]
    assert len(readouts) == 5 and all("skin 33.0" in line for line in readouts)  # a median of both: 31.5


def test_a_ble_strap_that_never_connects_leaves_quality_zero_with_the_reason(tmp_path):
    def links(clock):
        return [BleHeartRateLink(SimulatedPeripheral([], now=clock.now_s, fail_connects=100), clock,
                                 backoff_s=(0.2,))]

    lines = []
    timeline = run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS), LiveInputs(microphone=None),
                        duration_s=1.5, on_line=lines.append, make_links=links)
    physio = timeline.track("physio")
    assert physio.windows and all(w.quality == 0.0 for w in physio.windows)
    assert physio.windows[0].reason == "no samples from ble-hr"
    assert lines.count("physio: no samples from ble-hr") == 1  # was: in the track alone
    # said once, not at each of its attempts 0.2 s apart (was: each of these at every one)
    assert [sum(f"ble-hr {state} (" in line for line in lines) for state in ("connecting", "error", "retrying")] == [
        1, 1, 1]


def test_a_ble_strap_s_heart_rate_reaches_the_session_s_track_and_its_readout(tmp_path):
    beat = bytes([0x00, 0x48])  # 72 bpm
    script = [(0.1 * k, beat) for k in range(15)]

    def links(clock):
        return [BleHeartRateLink(SimulatedPeripheral(script, now=clock.now_s), clock, latency_s=0.0)]

    lines = []
    timeline = run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS), LiveInputs(microphone=None),
                        duration_s=1.8, on_line=lines.append, make_links=links)
    physio = timeline.track("physio")
    assert physio.settings["links"]["ble-hr"].startswith(("connected", "stopped"))
    assert any(w.measurements.get("hr_bpm") == pytest.approx(72.0) for w in physio.windows)
    assert "at 1.0 s: sensors heart 72 bpm (last 1 s)" in lines
    assert any("ble-hr connected (heart rate notifications on; battery 80 %)" in line for line in lines)
    assert physio.settings["battery_pct"] == {"ble-hr": 80}
    assert "video" not in physio.settings["windows"]  # a sensors-only session (was: 'cut to the video')


class _Metronome(SensorLink):
    """A link kind neither the runner nor the live session names: EDA of 2 µS every 50 ms, until the stop."""

    def __init__(self, clock):
        super().__init__("metronome", clock)
        self.closed = False

    def run_until_stopped(self, sink, stop):
        self.status(sink, "connected", "ticking")
        while not stop.wait(0.05):
            sink(Sample("eda", self.stamp(), 2.0, self.name))

    def close(self):
        self.closed = True


def test_a_new_kind_of_link_records_into_the_session_by_its_class_alone(tmp_path):
    made = []

    def links(clock):
        made.append(_Metronome(clock))
        return made

    lines = []
    timeline = run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS), LiveInputs(microphone=None),
                        duration_s=1.5, on_line=lines.append, make_links=links)
    physio = timeline.track("physio")
    assert physio.settings["links"]["metronome"] == "connected (ticking)"
    assert any(line.endswith("metronome connected (ticking)") for line in lines)
    assert "at 1.0 s: sensors EDA 2.00 µS (last 1 s)" in lines
    assert made[0].closed  # let go of once its loop ended


def test_a_board_that_sends_too_little_for_any_channel_still_leaves_the_timeline_with_the_reason(tmp_path):
    def links(clock):
        link = SerialBoardLink("loop://", clock)
        for seq in (1, 2):  # two frames, then silence: no channel has a sampling rate
            link.port.write(encode_frame(TYPE_DATA, seq, 250 * seq, data_payload([("eda", 2.0)])))
        return [link]

    lines = []
    timeline = run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS), LiveInputs(microphone=None),
                        duration_s=1.0, on_line=lines.append, make_links=links)
    physio = timeline.track("physio")
    assert physio.windows and all(w.quality == 0.0 for w in physio.windows)
    assert physio.windows[0].reason == "too few samples from serial-board"
    assert "physio: too few samples from serial-board" in lines
    assert (tmp_path / "out" / "timeline.json").exists()


def test_sensor_data_the_physio_arm_cannot_read_leaves_quality_zero_and_keeps_the_timeline(tmp_path):
    def links(clock):
        link = SerialBoardLink("loop://", clock)
        for seq in range(1, 21):  # a pulse wave at 10 Hz: too slow for beats to be found in it
            link.port.write(encode_frame(TYPE_DATA, seq, 100 * seq, data_payload([("bvp", 0.5)])))
        return [link]

    lines = []
    timeline = run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS), LiveInputs(microphone=None),
                        duration_s=1.0, on_line=lines.append, make_links=links)
    physio = timeline.track("physio")
    assert physio.windows and all(w.quality == 0.0 for w in physio.windows)
    assert "bvp sampled at 10 Hz" in physio.windows[0].reason
    assert any(line.startswith("physio: ") and "bvp sampled at 10 Hz" in line for line in lines)
    assert (tmp_path / "out" / "timeline.json").exists()


def test_a_ble_thermometer_beside_a_strap_is_one_link_each_found_by_name_or_address(monkeypatch):
    monkeypatch.setattr("firmware_bridge.ble.bluetooth_problem", lambda: "")  # as on a machine with an adapter
    links = LiveInputs(microphone=None, ble="Polar H10", ble_thermometer="AA:BB:CC:DD:EE:FF").sensor_links(None)
    assert [type(link) for link in links] == [BleHeartRateLink, BleThermometerLink]
    assert (links[0].client.name, links[1].client.address) == ("Polar H10", "AA:BB:CC:DD:EE:FF")


@pytest.mark.parametrize(("raised", "problem"), [
    (FileNotFoundError(2, "No such file or directory"), "Bluetooth is not available here ([Errno 2] No such file "
                                                        "or directory)"),
    (BleakBluetoothNotAvailableError("No Bluetooth adapters found.", BleakBluetoothNotAvailableReason.NO_BLUETOOTH),
     "Bluetooth is not available here (No Bluetooth adapters found)"),
    (BleakDBusError("org.freedesktop.DBus.Error.ServiceUnknown", ["The name org.bluez was not provided"]),
     "Bluetooth is not available here (no BlueZ service: [org.freedesktop.DBus.Error.ServiceUnknown] The name "
     "org.bluez was not provided)"),  # D-Bus without BlueZ
    # controls (they pass on the code before the check): no sure "no Bluetooth", so the link retries as for a sensor
    (BleakDBusError("org.bluez.Error.InProgress", []), ""),  # BlueZ busy
    (ConnectionRefusedError(111, "Connection refused"), ""),
])
def test_a_machine_without_bluetooth_is_one_line_before_the_session_not_endless_retries(monkeypatch, raised, problem):
    from bleak import BleakScanner

    async def discover(timeout):
        raise raised

    monkeypatch.setattr(BleakScanner, "discover", discover)
    inputs = LiveInputs(microphone=None, ble="Polar H10", ble_thermometer="AA:BB:CC:DD:EE:FF")
    if not problem:
        assert len(inputs.sensor_links(None)) == 2
        return
    with pytest.raises(InputError) as refused:  # was: "retrying" every second, then an empty timeline, exit 0
        inputs.sensor_links(None)
    assert str(refused.value) == f"ble:Polar H10 + ble:AA:BB:CC:DD:EE:FF: {problem}"


def test_a_ble_thermometer_delivers_skin_temperature_into_the_physio_track(tmp_path):
    reading = bytes([0x00, 0x4A, 0x01, 0x00, 0xFF])  # 33.0 °C
    script = [(0.1 * k, reading) for k in range(15)]

    def links(clock):
        peripheral = SimulatedPeripheral(script, now=clock.now_s, characteristic=TEMPERATURE_MEASUREMENT)
        return [BleThermometerLink(peripheral, clock, latency_s=0.0)]

    lines = []
    timeline = run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS), LiveInputs(microphone=None),
                        duration_s=1.8, on_line=lines.append, make_links=links)
    physio = timeline.track("physio")
    assert any(w.measurements.get("temp_c") == pytest.approx(33.0) for w in physio.windows)
    assert "at 1.0 s: sensors skin 33.0 °C (last 1 s)" in lines


def test_a_readout_after_the_sensor_went_quiet_says_when_its_readings_stopped(tmp_path):
    reading = bytes([0x00, 0x4A, 0x01, 0x00, 0xFF])  # 33.0 °C, five readings in the first half second, then none

    def links(clock):
        peripheral = SimulatedPeripheral([(0.1 * k, reading) for k in range(5)], now=clock.now_s,
                                         characteristic=TEMPERATURE_MEASUREMENT)
        return [BleThermometerLink(peripheral, clock, latency_s=0.0)]

    lines = []
    run_live(tmp_path / "out", load_settings(None, {"physio.window_s": 6.0, "physio.hop_s": 3.0}),
             LiveInputs(microphone=None), duration_s=6.5, on_line=lines.append, make_links=links)
    readouts = [line for line in lines if " sensors " in line]
    # was: 'at 6.0 s: sensors skin 33.0 °C (last 6 s)', read as the last 6 s though its readings ended at 0.4 s
    assert len(readouts) == 1 and re.fullmatch(r"at 6\.0 s: sensors skin 33\.0 °C \(last 6 s; no reading after "
                                               r"0\.\d s\)", readouts[0]), readouts


def test_the_sensor_readout_gives_medians_of_what_arrived_and_nothing_without_it():
    line = sensor_readout({"hr": [70.0, 90.0, 74.0], "eda": [], "temp": [33.04]}, 60.0, 30.0)
    assert line == "at 60.0 s: sensors heart 74 bpm, skin 33.0 °C (last 30 s)"
    assert sensor_readout({"hr": [], "eda": [], "temp": []}, 30.0, 30.0) is None


def test_a_readout_whose_readings_stopped_early_in_its_span_says_when_they_stopped():
    values = {"hr": [], "eda": [2.1, 2.1], "temp": [33.1]}
    # a board unplugged 6.5 s into a 30 s span: its medians are of those seconds alone, not of the last 30 s
    assert sensor_readout(values, 30.0, 30.0, last_reading_s=6.5) == (
        "at 30.0 s: sensors EDA 2.10 µS, skin 33.1 °C (last 30 s; no reading after 6.5 s)")
    assert sensor_readout(values, 30.0, 30.0, last_reading_s=25.5).endswith("(last 30 s)")  # a reading 4.5 s ago


def test_a_serial_port_that_cannot_be_opened_stops_the_session_before_it_starts(tmp_path):
    with pytest.raises(InputError, match="/dev/no-such-board"):
        run_live(tmp_path / "x", load_settings(), LiveInputs(microphone=None, serial="/dev/no-such-board"),
                 duration_s=1.0)
    assert not (tmp_path / "x").exists()


def test_a_flat_signal_is_read_as_no_signal_not_as_a_failure_of_the_physio_arm(tmp_path, caplog):
    lines = []
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        timeline = run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS), LiveInputs(microphone=None),
                            duration_s=1.0, on_line=lines.append, make_links=flat_eda_board)
    physio = timeline.track("physio")
    assert physio.windows and all(w.quality == 0.0 and w.probs is None for w in physio.windows)
    assert "eda: 1 stretch(es), 30 s in all, could not be read as a signal" in caplog.text
    assert not any("physio arm failed" in line for line in lines)


def test_a_failure_of_the_physio_arm_costs_its_windows_not_the_session(tmp_path, monkeypatch):
    import runtime.live as live

    def failing(*_args, **_kwargs):
        raise ValueError("zero-size array to reduction operation maximum")  # a defect in the arm

    monkeypatch.setattr(live, "physio_track", failing)
    lines = []
    timeline = run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS), LiveInputs(microphone=None),
                        duration_s=1.0, on_line=lines.append, make_links=flat_eda_board)
    physio = timeline.track("physio")
    assert physio.windows and all(w.quality == 0.0 for w in physio.windows)
    assert physio.windows[0].reason == "the physio arm failed (ValueError: zero-size array to reduction operation " \
        "maximum)"
    assert any(line.startswith("physio: the physio arm failed") for line in lines)
    assert (tmp_path / "out" / "timeline.json").exists()
    # the same shape as the track it stands for (was: no unsupported labels, no window settings)
    assert physio.unsupported_labels == list(CANONICAL_LABELS) and physio.settings["window_s"] == 1.0


def test_a_board_lost_mid_session_leaves_windows_to_the_end_and_its_silence_as_a_gap(tmp_path):
    master, slave = os.openpty()
    stop, ready = threading.Event(), threading.Event()
    writer = threading.Thread(target=board, args=(master, 0.8, stop, ready), daemon=True)
    writer.start()

    def unplug_when_done():
        writer.join()
        os.close(master)  # the cable is pulled: reads on the port fail from now on

    threading.Thread(target=unplug_when_done, daemon=True).start()
    try:
        timeline = run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS),
                            LiveInputs(microphone=None, serial=os.ttyname(slave)), duration_s=2.5,
                            on_line=on_port_open(ready, lambda _line: None))
    finally:
        stop.set()
        ready.set()
        os.close(slave)
    physio = timeline.track("physio")
    assert physio.windows[-1].end_s == pytest.approx(timeline.duration_s, abs=0.5)
    assert physio.windows[-1].quality == 0.0  # nothing arrived there
    gaps = physio.settings["gaps"]["eda"]
    assert gaps[-1][0] < 1.2 and gaps[-1][1] >= timeline.duration_s - 0.3


def test_stress_is_judged_as_each_window_falls_due_once_a_live_baseline_has_formed():
    lines = []
    session = HandClockSession(load_settings(None, QUARTER_HOPS), samples_s=7.0, on_line=lines.append, rise_s=4.0)
    session.until(6.0)
    said_by_6_s = [line for line in lines if "(live, against the session so far)" in line]
    live = {t["name"]: t for t in session.end(7.0)["tracks"]}["physio-live"]
    assert live["settings"]["mode"] == "live" and live["windows"][-1]["end_s"] == 7.0
    assert all(w["probs"] is None and w["quality"] == 0.0 for w in live["windows"] if w["start_s"] < 1.0)
    assert live["windows"][0]["reason"] == "live baseline forming (0 of 1 s)"
    stress = live["labels"].index("stress")
    figures = {w["start_s"]: w["probs"][stress] for w in live["windows"] if w["probs"] is not None}
    assert min(figures) == 2.25  # the tenth window with signal: a baseline of ten
    assert max(p for t, p in figures.items() if t >= 4.0) > max(p for t, p in figures.items() if t + 1.0 <= 4.0)
    # the windows that ended by 4 s (SETTLE_S before 6 s) were judged and said then, not as the session stopped
    assert [line.split(" s:")[0] for line in said_by_6_s] == ["at 4.0"]
    assert "at 1.0 s: no stress figure: live baseline forming (0 of 1 s)" in lines
    stress_lines = [line for line in lines if " stress " in line or "no stress figure" in line]
    assert [line.split(" s:")[0] for line in stress_lines] == [f"at {k}.0" for k in range(1, 8)]  # once a window


def test_live_stress_and_the_sensor_readout_are_said_as_a_real_time_session_runs(tmp_path):
    lines = []
    timeline = run_live(tmp_path / "out", load_settings(None, QUARTER_HOPS), LiveInputs(microphone=None),
                        duration_s=7.0, on_line=lambda line: lines.append((time.monotonic(), line)),
                        make_links=strap_rising_from(4.0, 7.0))
    ended = time.monotonic()
    assert {t.name for t in timeline.tracks} >= {"physio", "physio-live"}
    printed = [(t, line) for t, line in lines if "(live, against the session so far)" in line]
    assert printed and printed[0][0] < ended - 0.5  # said as the session went, not only when it stopped
    stress_lines = [line for _, line in lines if " stress " in line or "no stress figure" in line]
    assert 5 <= len(stress_lines) <= 8  # a line once a window (1 s), not at every hop (0.25 s)
    # the sensor readout is the median of the last window alone, not of the session so far
    assert "at 6.0 s: sensors heart 110 bpm (last 1 s)" in [line for _, line in lines]


def test_the_live_track_says_its_windows_are_judged_against_the_session_so_far_as_its_card_says(tmp_path,
                                                                                                monkeypatch):
    import runtime.arms.physio.stress as physio_stress

    loaded = physio_stress.load_physio_model

    def zscoring(*args, **kwargs):  # a live model whose card scales by z-scores and has no local baseline
        model = loaded(*args, **kwargs)
        if model.card.extra.get("scope") == "running":
            model.card.extra.update({"scaling": "zscore", "local_baseline_windows": 0})
        return model

    monkeypatch.setattr("runtime.live.load_physio_model", zscoring)
    timeline = run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS | {"physio.live_baseline_s": 1.0}),
                        LiveInputs(microphone=None), duration_s=1.5, on_line=lambda _line: None,
                        make_links=strap_rising_from(9.0, 1.5))
    # was: "ranks among the windows before, trailing context and local baseline" whatever the card said
    assert timeline.track("physio-live").settings["baseline"] == ("the session so far (session z-scores and trailing "
                                                                  "context)")


def test_a_whole_session_model_judged_live_is_said_to_be_judged_against_the_session_so_far(tmp_path):
    settings = load_settings(None, SHORT_WINDOWS | {"physio.live_baseline_s": 1.0,
                                                    "physio.live_model": "physio-stress"})
    timeline = run_live(tmp_path / "out", settings, LiveInputs(microphone=None), duration_s=1.5,
                        on_line=lambda _line: None, make_links=strap_rising_from(9.0, 1.5))
    assert timeline.track("physio-live").settings["baseline"] == (  # was: "the whole recording (...)"
        "the session so far (session ranks, trailing local baseline and trailing context)")


def test_a_microphone_that_gives_nothing_beside_sensors_is_said_and_the_sensors_are_written(tmp_path, monkeypatch):
    from runtime.track import Track

    def nothing_heard(*_args, **_kwargs):  # a device that opened and then delivered no sound at all
        return Track("audio", list(CANONICAL_LABELS), [], settings={"status": "stopped early: the microphone stalled"})

    monkeypatch.setattr("runtime.live._capture_voice", nothing_heard)
    lines = []
    timeline = run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS),
                        LiveInputs(microphone="anoisesrc=c=pink:a=0.05:r=16000", microphone_format="lavfi"),
                        duration_s=1.5, on_line=lines.append, make_links=strap_rising_from(9.0, 1.5))
    assert "voice: no audio captured (stopped early: the microphone stalled)" in lines
    assert "audio" not in {t.name for t in timeline.tracks} and timeline.track("physio").windows


def test_a_live_window_whose_signal_cannot_be_read_costs_that_window_with_one_log_line(tmp_path, monkeypatch,
                                                                                         caplog):
    import runtime.arms.physio.live as physio_live

    def failing(*_args, **_kwargs):
        raise ValueError("zero-size array to reduction operation maximum")  # a defect in reading the signal

    monkeypatch.setattr(physio_live, "live_window_features", failing)
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        timeline = run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS), LiveInputs(microphone=None),
                            duration_s=2.0, on_line=lambda _line: None, make_links=strap_rising_from(9.0, 2.0))
    live = timeline.track("physio-live")
    assert len(live.windows) >= 2
    assert all(w.reason == "ValueError: zero-size array to reduction operation maximum" for w in live.windows)
    assert caplog.text.count("live stress: ValueError") == 1
    # the track of record is read as ever
    assert any(w.measurements.get("hr_bpm") == pytest.approx(70.0) for w in timeline.track("physio").windows)


def test_a_live_stress_model_that_fails_costs_its_windows_and_the_judging_goes_on(tmp_path, monkeypatch, caplog):
    from runtime.models.runner import Model

    calls = []

    def failing_once(self, feeds):
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("simulated ONNX Runtime failure")
        return original(self, feeds)

    original = Model.run
    monkeypatch.setattr(Model, "run", failing_once)
    # fusion off: its model is run once before the session (checked), and the failure is for the live model
    settings = load_settings(None, {"physio.window_s": 1.0, "physio.hop_s": 0.25, "physio.live_baseline_s": 0.0,
                                    "fusion.enabled": False})
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        timeline = run_live(tmp_path / "out", settings, LiveInputs(microphone=None), duration_s=4.5,
                            on_line=lambda _line: None, make_links=strap_rising_from(9.0, 4.5))
    live = timeline.track("physio-live")
    failed = [w for w in live.windows if "the live stress model failed" in w.reason]
    assert len(failed) == 1 and failed[0].probs is None
    assert any(w.probs is not None and w.start_s > failed[0].start_s for w in live.windows)  # it went on
    assert caplog.text.count("simulated ONNX Runtime failure") == 1


@pytest.mark.parametrize("named", ["./no-such-live-model", "audio-emotion"])  # missing; no stress model
def test_a_live_model_the_config_names_that_cannot_be_loaded_is_refused_before_any_device_opens(tmp_path, named):
    opened = []
    settings = load_settings(None, SHORT_WINDOWS | {"physio.live_model": named})
    with pytest.raises(InputError) as refused:  # was: the whole session, exit 0, 'no live stress figure' said
        run_live(tmp_path / "out", settings, LiveInputs(microphone=None), duration_s=1.5, on_line=None,
                 make_links=lambda clock: opened.append(clock) or strap_rising_from(9.0, 1.5)(clock))
    assert str(refused.value).startswith(f"command line: setting 'physio.live_model' = '{named}': ")
    assert "\n" not in str(refused.value)
    assert opened == [] and not (tmp_path / "out").exists()


def test_without_its_default_live_model_the_session_keeps_the_physio_track_and_says_why(tmp_path, monkeypatch):
    from runtime.arms.physio.stress import load_physio_model

    def without_live(location, backend="onnxruntime"):  # an install that lacks the default live model
        if location == "physio-stress-live":
            raise InputError("models/physio-stress-live", "no model card (card.json) there")
        return load_physio_model(location, backend)

    monkeypatch.setattr("runtime.live.load_physio_model", without_live)
    lines = []
    settings = load_settings(None, SHORT_WINDOWS)
    timeline = run_live(tmp_path / "out", settings, LiveInputs(microphone=None), duration_s=1.5,
                        on_line=lines.append, make_links=strap_rising_from(9.0, 1.5))
    assert "physio-live" not in {t.name for t in timeline.tracks}
    assert any(w.measurements.get("hr_bpm") == pytest.approx(70.0) for w in timeline.track("physio").windows)
    assert "physio: no live stress figure (models/physio-stress-live: no model card (card.json) there)" in lines


def test_a_microphone_that_ends_leaves_the_sensors_recording_to_the_duration(tmp_path):
    timeline = run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS),
                        LiveInputs(microphone="anoisesrc=d=1:c=pink:a=0.05:r=16000", microphone_format="lavfi"),
                        duration_s=2.5, on_line=None, make_links=flat_eda_board)
    # the microphone's second of noise, placed on the session clock as it arrives: on a loaded machine its first
    # chunk may come a few hundred ms after the clock starts; the point is that it ends well before the session
    assert timeline.track("audio").windows[-1].end_s < 2.0
    assert timeline.track("physio").windows[-1].end_s >= 2.4  # was: the board stopped with the microphone, at 1 s


def test_a_microphone_that_cannot_be_opened_is_refused_though_a_sensor_could_record(tmp_path):
    with pytest.raises(InputError, match="alsa:missing-mic: cannot open audio device"):
        run_live(tmp_path / "x", load_settings(None, SHORT_WINDOWS),
                 LiveInputs(microphone="missing-mic", microphone_format="alsa"), duration_s=1.0,
                 on_line=None, make_links=flat_eda_board)  # was: a session of the board alone, exit 0
    assert not (tmp_path / "x").exists()


def test_a_replay_beside_sensors_ends_with_the_file_when_no_duration_is_given(tmp_path):
    import numpy as np

    from runtime.media import wav_bytes

    replay = tmp_path / "session.wav"
    replay.write_bytes(wav_bytes(np.zeros(16000, dtype=np.float32), 16000))  # one second
    timeline = _with_ctrl_c_after(20, lambda: run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS),
                                                         LiveInputs(replay=replay), on_line=None,
                                                         make_links=flat_eda_board))
    assert timeline.duration_s < 3  # the file's second; not the watchdog's Ctrl-C at 20 s


def test_a_replayed_picture_beside_sensors_adds_no_window_past_the_recordings_end(tmp_path):
    from runtime.media import probe
    from tests.arms.face.video_factory import write_video

    video = write_video(tmp_path / "v.mp4", 2.0)
    timeline = _with_ctrl_c_after(20, lambda: run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS),
                                                         LiveInputs(microphone=None, replay=video), on_line=None,
                                                         make_links=flat_eda_board))
    end_s = probe(video).end_s
    # was: the session's close on its clock (2.7 s here), a window past the picture in the face, body, physio and
    # fused tracks
    assert timeline.duration_s == end_s
    assert {t.name: t.windows[-1].end_s for t in timeline.tracks if t.name != "physio-live"} == {
        "face": end_s, "body": end_s, "physio": end_s, "fused": end_s}


def _with_ctrl_c_after(seconds: float, session, ready=None):
    """``session()`` under the CLI's stop handling, with a Ctrl-C ``seconds`` after it starts, or as soon as
    ``ready()`` holds where it is given (``seconds`` then the most it waits): a point of the session's own, which a
    loaded host reaches late."""
    import signal

    from runtime.stopping import stopping_on_signals

    cancelled = threading.Event()

    def ctrl_c() -> None:
        deadline_s = time.monotonic() + seconds
        while not cancelled.wait(0.02):
            if (ready is not None and ready()) or time.monotonic() >= deadline_s:
                os.kill(os.getpid(), signal.SIGINT)
                return

    try:
        with stopping_on_signals():
            threading.Thread(target=ctrl_c, daemon=True).start()
            return session()
    except KeyboardInterrupt:  # (pytest would take it as its own Ctrl-C)
        pytest.fail("the Ctrl-C was raised out of the session")
    finally:
        cancelled.set()


def test_a_replay_that_gives_no_stream_leaves_the_sensors_recording_until_ctrl_c(tmp_path):
    import numpy as np

    from runtime.media import wav_bytes

    replay = tmp_path / "session.wav"
    replay.write_bytes(wav_bytes(np.zeros(16000, dtype=np.float32), 16000))  # its voice is not read: --no-mic
    clocks = []  # the session's, as its sensors are made

    def board_on_the_sessions_clock(clock):
        clocks.append(clock)
        return flat_eda_board(clock)

    # Ctrl-C at 2 s of the session's clock (was: 2 s after the call, its start-up taken out of the session's time)
    timeline = _with_ctrl_c_after(20, lambda: run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS),
                                                       LiveInputs(replay=replay, microphone=None), on_line=None,
                                                       make_links=board_on_the_sessions_clock),
                                  ready=lambda: bool(clocks) and clocks[0].now_s() >= 2.0)
    assert timeline.duration_s >= 1.5  # was: 0.1 s, ended as if the replay had
    statuses = {t.name: t.settings.get("status") for t in timeline.tracks if t.name.startswith("physio")}
    assert statuses and set(statuses.values()) == {"stopped by the user"}  # was: said nowhere in the timeline


def test_a_session_that_fails_to_start_lets_go_of_the_microphone_and_the_sensors(tmp_path, monkeypatch):
    import runtime.live as live

    closed = []
    close_microphone, close_sensors = live.MicrophoneSource.close, live.SensorSession.close
    monkeypatch.setattr(live.MicrophoneSource, "close", lambda self: closed.append("mic") or close_microphone(self))
    monkeypatch.setattr(live.SensorSession, "close", lambda self: closed.append("sensors") or close_sensors(self))

    def camera_fault(*_args):  # a defect, or Ctrl-C, while the face and body models load
        raise RuntimeError("graph failed to load")

    monkeypatch.setattr(live, "_start_video", camera_fault)
    with pytest.raises(RuntimeError):
        run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS),
                 LiveInputs(microphone="anoisesrc=c=pink:a=0.05:r=16000", microphone_format="lavfi",
                            camera="testsrc", camera_format="lavfi"), on_line=None, make_links=flat_eda_board)
    assert closed == ["mic", "sensors"]  # was: both left open


def test_a_microphone_ending_within_half_a_second_of_the_duration_ended_with_it(tmp_path):
    lines = []
    run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS),
             LiveInputs(microphone="anoisesrc=d=1.7:c=pink:a=0.05:r=16000,arealtime", microphone_format="lavfi"),
             duration_s=2.0, on_line=lines.append, make_links=flat_eda_board)  # its stream 0.3 s short of it
    assert not any(line.startswith("sensors: recording on") for line in lines)  # the devices' skew, said as none


def test_sensors_that_reach_the_duration_with_the_microphone_say_nothing_of_recording_on(tmp_path):
    lines = []
    run_live(tmp_path / "out", load_settings(None, SHORT_WINDOWS),
             LiveInputs(microphone="anoisesrc=c=pink:a=0.05:r=16000,arealtime", microphone_format="lavfi"),
             duration_s=1.0, on_line=lines.append, make_links=flat_eda_board)  # paced as a microphone is
    assert not any(line.startswith("sensors: recording on") for line in lines)  # was: "... until 1 s" at the end


def test_a_checkpoint_holds_the_physio_track_of_the_samples_so_far_as_the_sessions_end_makes_it():
    from runtime.live import SETTLE_S

    session = HandClockSession(load_settings(None, SHORT_WINDOWS), samples_s=SETTLE_S + 2.5)
    checkpoint = session.checkpoint(SETTLE_S + 2.0)  # the physio track to 2 s: windows of 1 s every 0.5 s
    physio = {t["name"]: t for t in checkpoint["tracks"]}["physio"]  # was: made only as the session ended
    end_s = checkpoint["software"]["checkpoint_at_s"] - SETTLE_S  # samples of the last instants may be on their way
    assert physio["windows"] and physio["windows"][-1]["end_s"] <= end_s + 1e-3  # checkpoint_at_s: to the ms
    assert any(w["measurements"].get("hr_bpm") == pytest.approx(70.0) for w in physio["windows"])
    final = session.end(SETTLE_S + 2.5)
    final_physio = {t["name"]: t for t in final["tracks"]}["physio"]
    assert set(physio["settings"]) == set(final_physio["settings"]) and physio["model"] == final_physio["model"]
    assert checkpoint["settings"]["physio"]["enabled"]


def test_a_checkpoint_whose_physio_track_cannot_be_made_records_why_as_the_end_does(monkeypatch):
    import runtime.live as live

    def failing(self, duration_s, **options):
        raise RuntimeError("a defect in the physio track")

    monkeypatch.setattr(live.SensorSession, "track", failing)
    session = HandClockSession(load_settings(None, SHORT_WINDOWS), samples_s=live.SETTLE_S + 1.5)
    # checkpoints after the first SETTLE_S, which make a physio track (before: none to make), then the end
    checkpoints = [session.checkpoint(live.SETTLE_S + 0.5), session.checkpoint(live.SETTLE_S + 1.0)]
    final = session.end(live.SETTLE_S + 1.5)
    why = {"enabled": False, "why": "its track could not be made (the session's log says why)"}
    assert all(c["settings"]["physio"] == why for c in checkpoints)  # was: enabled, with its settings
    assert final["settings"]["physio"] == why


def test_a_checkpoint_leaves_the_physio_arms_log_lines_to_the_sessions_end(monkeypatch, caplog):
    import logging

    import runtime.live as live
    from runtime.arms.physio.live import SAID_ONCE

    made_s: list[float] = []  # the physio tracks made, by their end

    def noisy(self, duration_s, **options):
        made_s.append(duration_s)
        SAID_ONCE[0].warning("missing data (hr: %d gap(s))", int(duration_s))  # a loss that grows as it goes
        return real(self, duration_s, **options)

    real = live.SensorSession.track
    monkeypatch.setattr(live.SensorSession, "track", noisy)
    session = HandClockSession(load_settings(None, SHORT_WINDOWS), samples_s=3.5)
    with caplog.at_level(logging.WARNING):
        for checkpoint_s in (live.SETTLE_S + 0.5, live.SETTLE_S + 1.0):
            session.checkpoint(checkpoint_s)
        session.end(3.5)
    assert made_s == [0.5, 1.0, 3.5]  # each checkpoint made one, SETTLE_S before it (was: none, on a slow host)
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("missing data")]
    assert said == ["missing data (hr: 3 gap(s))"]  # the end's, with the session's total; none of a checkpoint's


def test_a_physio_reason_that_differs_by_its_numbers_alone_is_said_once_in_a_session(monkeypatch):
    import runtime.live as live

    def unreadable(recording, *args, duration_s=None, **kwargs):
        raise InputError("sensors", f"{recording.duration_s:.1f} s of samples hold no beat")

    monkeypatch.setattr(live, "physio_track", unreadable)
    lines: list[str] = []
    end_s = live.SETTLE_S + 1.5
    session = HandClockSession(load_settings(None, SHORT_WINDOWS), samples_s=end_s, on_line=lines.append)
    # checkpoints that make a physio track (it ends SETTLE_S before them), each over more samples than the last
    for checkpoint_s in (live.SETTLE_S + 0.5, live.SETTLE_S + 1.0, live.SETTLE_S + 1.25):
        session.checkpoint(checkpoint_s)
    session.end(end_s)
    said = [line for line in lines if line.startswith("physio: ")]
    # once by the checkpoints (was: at each one, its seconds grown), and again as the session ends, with its total
    assert len(said) == 2 and said[0] != said[1], lines
    held_s = session.sensors.recorder.to_recording("strap").duration_s  # what the session's samples span at its end
    assert said[-1] == f"physio: sensors: {held_s:.1f} s of samples hold no beat"


def test_links_closed_as_a_session_is_refused_say_a_close_that_fails_in_one_line(caplog):
    from runtime.live import _close_links

    class GonePort:
        name = "serial-board"
        closed = False

        def close(self):
            raise OSError(5, "Input/output error")

    class Strap:
        name = "ble-hr"
        closed = False

        def close(self):
            self.closed = True

    strap = Strap()
    with caplog.at_level("WARNING"):
        _close_links([GonePort(), strap])  # was: the OSError, hiding the refusal being raised
    assert strap.closed
    assert caplog.messages == ["serial-board: the link could not be closed (OSError: [Errno 5] Input/output error)"]


def test_a_checkpoint_during_a_dropout_holds_its_gap_so_far_and_the_end_the_whole_of_it(tmp_path):
    import runtime.live as live
    from tests.firmware_bridge.fakes import FakeTime, data_frame, make_link, send

    time = FakeTime()
    link = make_link(time, latency_s=0.0)
    sensors = live.SensorSession([link], load_settings(None, SHORT_WINDOWS), None, link.clock)
    for i in range(40):  # 10 s of EDA at 4 Hz, then the board falls silent
        send(link, time, sensors._deliver, data_frame(i, 250 * i), after_s=0.25 if i else 0.0)
    last_s = recorded_last_s = sensors.recorder.series("eda")[0][-1]
    for _ in range(100):
        time.now += 0.1
        link.poll(sensors._deliver)
    checkpoint = sensors.track(20.0, at_end=False)
    # was: no gap until the stop, so a checkpoint kept from a crash said nothing of the 10 s without samples
    assert checkpoint.settings["gaps"]["eda"] == [[pytest.approx(last_s), pytest.approx(link.clock.now_s())]]
    assert sensors.recorder.gaps == []  # a view: the link records its gap itself, once
    for _ in range(50):
        time.now += 0.1
        link.poll(sensors._deliver)
    stopped = threading.Event()
    stopped.set()
    link.run_until_stopped(sensors._deliver, stopped)  # the stop: its gap recorded
    final = sensors.track(25.0)
    assert final.settings["gaps"]["eda"] == [[pytest.approx(recorded_last_s), pytest.approx(link.clock.now_s())]]
