"""A strap reporting 0 bpm is a strap without a reading, not a malformed one (docs/physio.md, "Live sensors"), and a
link thread that does not stop is said (firmware_bridge/runner.py)."""

from __future__ import annotations

import threading

from firmware_bridge.ble import BleHeartRateLink
from firmware_bridge.link import Recorder, SensorLink
from firmware_bridge.runner import LinkThreads
from runtime.clock import SessionClock
from tests.firmware_bridge.fakes import FakeTime, SimulatedPeripheral


def test_a_strap_reporting_0_bpm_is_said_once_as_no_reading_stays_alive_and_is_not_counted_malformed():
    time = FakeTime(0.0)
    recorder = Recorder()
    link = BleHeartRateLink(SimulatedPeripheral([]), SessionClock(monotonic=time), latency_s=0.0)
    good, zero = bytes([0x10, 0x48, 0x00, 0x04]), bytes([0x10, 0x00])  # 72 bpm with a 1 s beat; 0 bpm
    for at_s, payload in [(0.0, good), (1.0, good), *[(1.0 + k, zero) for k in range(1, 11)], (12.0, good)]:
        time.now = at_s
        link.on_notification(payload, recorder)
    assert link.format_errors == 0  # a sign of life: the link stays connected, not reconnected every 5 s
    assert [(s.state, s.detail) for s in recorder.statuses] == [
        ("error", "sensor reports 0 bpm: no heart rate reading until it comes back"),
        ("connected", "heart rate readings back after 10 s")]
    assert recorder.to_recording().gaps()["hr"] == [(1.0, 11.0)]


class _Stuck(SensorLink):
    """A link whose driver call does not return when the session stops."""

    def __init__(self) -> None:
        super().__init__("stuck", SessionClock())
        self.release = threading.Event()

    def run_until_stopped(self, sink, stop):
        self.release.wait(5.0)

    def close(self):
        pass


def test_a_link_that_does_not_stop_in_time_is_said_in_a_warning_and_left_behind(caplog):
    link = _Stuck()
    threads = LinkThreads([link], Recorder())
    with caplog.at_level("WARNING", logger="emotrace.firmware_bridge"):
        threads.start()
        threads.stop(timeout_s=0.1)
    link.release.set()
    assert [r.getMessage() for r in caplog.records] == [
        "stuck: the link did not stop within 0.1 s; the session ends without it"]


def test_a_single_malformed_notification_is_said_once_not_again_in_a_count_at_the_connections_end():
    from tests.firmware_bridge.fakes import run_link

    time = FakeTime()
    good, malformed = bytes([0x00, 0x48]), bytes([0x01, 0x48])  # the second: half a uint16 heart rate
    script = [(1.0, good), (2.0, malformed), (3.0, good), (4.0, good)]
    recorder = run_link(SimulatedPeripheral(script, now=time), time, stop_after_hr=3)
    said = [s.detail for s in recorder.statuses if "malformed" in s.detail]
    assert len(said) == 1 and said[0].startswith("malformed heart rate notification 0148")


def test_a_second_outage_says_its_error_again_though_the_first_outage_said_the_same():
    # 'an error not said yet since the sensor's last reading': each outage after a reading is said afresh
    from tests.firmware_bridge.fakes import OutOfReach, run_link

    time = FakeTime()
    beat = bytes([0x00, 0x48])
    script = [(float(t), beat) for t in (1, 2, 3, 60, 61, 62, 100, 101, 102)]

    def absent():
        rel_s = time.now - 500.0
        return "no BLE device strap in range" if 5.0 <= rel_s < 50.0 or 70.0 <= rel_s < 90.0 else None

    peripheral = OutOfReach(script, time, absent)
    recorder = run_link(peripheral, time, stop_after_hr=8, silence_timeout_s=5.0)
    assert [s.detail for s in recorder.statuses if s.state == "error"] == [
        "ConnectionError: no BLE device strap in range"] * 2
    assert sum(s.detail.startswith("back after") for s in recorder.statuses) == 2
