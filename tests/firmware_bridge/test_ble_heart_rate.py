"""BLE Heart Rate Service: spec byte sequences, a simulated peripheral behind the link's interface."""

from __future__ import annotations

import asyncio
import logging

import numpy as np
import pytest

from firmware_bridge.ble import (
    BATTERY_LEVEL,
    BATTERY_LOW_PCT,
    BEAT_CHAIN_MAX_LAG_S,
    HEART_RATE_MEASUREMENT,
    TEMPERATURE_MEASUREMENT,
    BleFormatError,
    BleHeartRateLink,
    BleThermometerLink,
    parse_battery_level,
    parse_heart_rate_measurement,
    parse_temperature_measurement,
)
from firmware_bridge.link import Recorder, Sample
from runtime.clock import SessionClock
from tests.firmware_bridge.fakes import FakeTime, OutOfReach, SimulatedPeripheral, run_link


def test_uint8_heart_rate_without_options():
    m = parse_heart_rate_measurement(bytes([0x00, 0x48]))
    assert (m.heart_rate_bpm, m.sensor_contact, m.energy_expended_kj, m.rr_intervals_s) == (
        72,
        None,
        None,
        (),
    )


def test_contact_and_rr_intervals_in_1024ths_of_a_second():
    # flags 0x16: contact supported + detected, RR present; HR 76;
    # RR 0x0400 = 1024/1024 s, 0x0320 = 800/1024 s
    m = parse_heart_rate_measurement(bytes([0x16, 0x4C, 0x00, 0x04, 0x20, 0x03]))
    assert m.heart_rate_bpm == 76
    assert m.sensor_contact is True
    assert m.rr_intervals_s == (1.0, 800 / 1024)


def test_uint16_heart_rate_with_energy_expended():
    # flags 0x09: HR as uint16, energy expended present; HR 0x00B4 = 180; energy 0x0110 = 272 kJ
    m = parse_heart_rate_measurement(bytes([0x09, 0xB4, 0x00, 0x10, 0x01]))
    assert (m.heart_rate_bpm, m.energy_expended_kj, m.rr_intervals_s) == (180, 272, ())


def test_every_field_at_once_is_read_in_the_specification_s_order():
    # flags 0x1F: HR as uint16, contact supported + detected, energy expended, RR intervals; HR 0x0048 = 72;
    # energy 0x0203 = 515 kJ; RR 0x0300 = 768/1024 s, 0x0340 = 832/1024 s (energy before the intervals)
    m = parse_heart_rate_measurement(bytes([0x1F, 0x48, 0x00, 0x03, 0x02, 0x00, 0x03, 0x40, 0x03]))
    assert (m.heart_rate_bpm, m.sensor_contact, m.energy_expended_kj) == (72, True, 515)
    assert m.rr_intervals_s == (0.75, 832 / 1024)


def test_energy_expended_with_rr_intervals_and_an_8_bit_rate():
    # flags 0x18: energy expended + RR; HR 0x41 = 65; energy 0x0001 = 1 kJ; RR 0x03A0 = 928/1024 s
    m = parse_heart_rate_measurement(bytes([0x18, 0x41, 0x01, 0x00, 0xA0, 0x03]))
    assert (m.heart_rate_bpm, m.energy_expended_kj, m.rr_intervals_s) == (65, 1, (928 / 1024,))


def test_contact_detected_without_contact_supported_is_no_report_of_contact():
    # flags 0x02: bit 1 set, bit 2 not: the specification says contact is then not supported
    assert parse_heart_rate_measurement(bytes([0x02, 0x50])).sensor_contact is None


def test_contact_supported_but_lost_is_reported_as_no_contact():
    m = parse_heart_rate_measurement(bytes([0x04, 0x50]))
    assert m.sensor_contact is False


@pytest.mark.parametrize("data", [b"", bytes([0x01, 0x48]), bytes([0x08, 0x48, 0x01])])
def test_truncated_measurements_are_format_errors(data):
    with pytest.raises(BleFormatError):
        parse_heart_rate_measurement(data)


@pytest.mark.parametrize("data, rr_intervals_s", [
    (bytes([0x10, 0x3E, 0xB1, 0x03, 0xDE]), (0x03B1 / 1024,)),  # as real straps send: one RR, then a stray 0xde
    (bytes([0x10, 0x3E, 0x00]), ()),  # the stray byte alone
], ids=["after-an-interval", "alone"])
def test_an_odd_byte_after_the_rr_intervals_is_ignored_and_the_rate_and_whole_intervals_kept(data, rr_intervals_s):
    m = parse_heart_rate_measurement(data)
    assert (m.heart_rate_bpm, m.rr_intervals_s, m.rr_stray_byte) == (62, rr_intervals_s, True)
    assert not parse_heart_rate_measurement(bytes([0x10, 0x3E, 0xB1, 0x03])).rr_stray_byte


def test_battery_level_is_one_byte_percent():
    assert parse_battery_level(bytes([87])) == 87
    with pytest.raises(BleFormatError):
        parse_battery_level(bytes([101]))


def test_a_strap_whose_notifications_end_in_a_stray_byte_delivers_every_reading_and_is_said_once(caplog):
    time = FakeTime()
    note = bytes([0x10, 0x3E, 0xB1, 0x03, 0xDE])  # HR 62, RR 0x03b1 = 945/1024 s, a stray 0xde
    peripheral = SimulatedPeripheral([(float(i), note) for i in range(1, 21)], now=time)
    with caplog.at_level(logging.INFO, logger="emotrace.firmware_bridge"):
        recorder = run_link(peripheral, time, stop_after_hr=20)
    assert len(recorder.series("hr")[0]) == len(recorder.series("ibi")[0]) == 20
    assert not recorder.gaps and peripheral.connects == 1
    said = [r.getMessage() for r in caplog.records if "odd byte" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("ble-hr: ") and "103eb103de" in said[0]


def test_notifications_are_stamped_on_the_session_clock_minus_latency_with_beats_laid_backwards():
    time = FakeTime()
    beat = bytes([0x16, 0x4C, 0x00, 0x04])  # HR 76, one RR of 0x0400 = 1024/1024 s
    peripheral = SimulatedPeripheral([(1.0, beat), (2.0, beat), (3.0, beat)], now=time)
    recorder = run_link(peripheral, time, stop_after_hr=3)
    times, values = recorder.series("hr")
    assert list(values) == [76.0, 76.0, 76.0]
    assert times == pytest.approx([0.9, 1.9, 2.9])  # arrival 1, 2, 3 s after start, minus 0.1 s latency
    ibi_times, ibis = recorder.series("ibi")
    assert ibi_times == pytest.approx([0.9, 1.9, 2.9]) and set(ibis) == {1.0}


def test_a_sensor_that_vanishes_is_reconnected_with_backoff_and_the_silence_is_a_gap():
    time = FakeTime()
    beat = bytes([0x00, 0x48])
    script = [(float(i), beat) for i in range(1, 12)]
    peripheral = SimulatedPeripheral(script, now=time, vanish_after=3)
    recorder = run_link(peripheral, time, stop_after_hr=6, backoff_s=(0.5, 1.0))
    assert peripheral.connects == 2
    gaps = [g for g in recorder.gaps if g.channel == "hr"]
    assert len(gaps) == 1
    hr_times = recorder.series("hr")[0]
    assert hr_times[3] - hr_times[2] > 1.0  # beats due while away are lost, not invented
    assert gaps[0].start_s == pytest.approx(hr_times[2])
    assert gaps[0].end_s == pytest.approx(hr_times[3])
    assert "out of reach" in gaps[0].reason
    states = [s.state for s in recorder.statuses]
    assert "disconnected" in states and states.count("connected") == 2


def test_connection_failures_back_off_and_give_up_after_max_attempts():
    time = FakeTime()
    peripheral = SimulatedPeripheral([], fail_connects=10)
    start = time.now
    recorder = run_link(peripheral, time, stop_after_hr=1, backoff_s=(0.5, 1.0, 2.0), max_attempts=3)
    assert peripheral.connects == 3
    assert time.now - start == pytest.approx(0.5 + 1.0)  # two waits before the third and last attempt
    assert recorder.statuses[-1].state == "stopped"
    assert [s.state for s in recorder.statuses].count("stopped") == 1  # given up once, after the third attempt


def test_the_gap_before_a_strap_is_first_reached_runs_from_the_links_start_its_first_scan_included():
    time = FakeTime()
    peripheral = SimulatedPeripheral([(float(i), bytes([0x00, 0x48])) for i in range(1, 12)], now=time,
                                     fail_connects=1)
    plain_connect = peripheral.connect

    async def scan_of_3_s() -> None:  # bleak scans for seconds before it says a sensor is not in range
        time.now += 3.0
        await plain_connect()

    peripheral.connect = scan_of_3_s
    recorder = run_link(peripheral, time, stop_after_hr=3, backoff_s=(0.5,))
    gap = next(g for g in recorder.gaps if g.channel == "hr")
    assert gap.start_s == 0.0  # was 2.9: the first scan's 3 s (less the latency) were in no gap
    assert gap.end_s == pytest.approx(recorder.series("hr")[0][0])


def test_malformed_notification_is_reported_and_skipped_its_beats_a_gap():
    time = FakeTime()
    script = [(1.0, bytes([0x00, 0x48])), (2.0, bytes([0x01, 0x48])), (3.0, bytes([0x00, 0x4A]))]
    recorder = run_link(SimulatedPeripheral(script, now=time), time, stop_after_hr=2)
    assert recorder.series("hr")[1].tolist() == [72.0, 74.0]
    assert any(s.state == "error" and "malformed" in s.detail for s in recorder.statuses)
    hr_s = recorder.series("hr")[0]
    refused = [g for g in recorder.gaps if "refused" in g.reason]
    assert [g.channel for g in refused] == ["hr", "ibi"]  # was: no gap
    assert all((g.start_s, g.end_s) == pytest.approx((hr_s[0], 1.9)) for g in refused)  # since the reading before


def test_simulated_peripheral_offers_the_standard_characteristics():
    peripheral = SimulatedPeripheral([], battery_pct=None)
    assert peripheral.has_characteristic(HEART_RATE_MEASUREMENT)
    assert not peripheral.has_characteristic(BATTERY_LEVEL)


def test_ble_beats_feed_the_physio_features_and_the_dropout_stays_a_gap():
    from runtime.arms.physio.features import process_recording, window_features

    time = FakeTime()
    beat = bytes([0x10, 0x4B, 0x00, 0x04])  # HR 75, RR 1024/1024 s (rounded: a 60-75 bpm strap)
    script = [(float(i), beat) for i in range(1, 200)]
    peripheral = SimulatedPeripheral(script, now=time, vanish_after=60)
    recorder = run_link(peripheral, time, stop_after_hr=150, backoff_s=(30.0,), silence_timeout_s=5.0)
    (gap,) = [g for g in recorder.gaps if g.channel == "ibi"]
    assert gap.end_s - gap.start_s > 30.0
    signals = process_recording(recorder.to_recording("ble"))
    during = window_features(signals, gap.start_s + 2.0, gap.end_s - 2.0)
    after = window_features(signals, gap.end_s + 1.0, gap.end_s + 61.0)
    straddling = window_features(signals, gap.end_s - 20.0, gap.end_s + 40.0)
    assert during.quality == 0.0
    assert 0.0 < straddling.quality < after.quality  # the gap counts against the window, beats are not invented
    assert after.measurements["hr_bpm"] == pytest.approx(60.0)


@pytest.mark.parametrize(
    ("notification", "reason"),
    [(bytes([0x14, 0x48, 0x00, 0x02]), "no skin contact"), (bytes([0x10, 0x00, 0x00, 0x02]), "0 bpm")],
)
def test_a_notification_that_is_no_heart_reading_is_a_gap_on_rate_and_beats(notification, reason):
    time = FakeTime()
    good = bytes([0x10, 0x48, 0x00, 0x04])  # HR 72, RR 1 s
    script = [(1.0, good), (2.0, notification), (3.0, good)]
    recorder = run_link(SimulatedPeripheral(script, now=time), time, stop_after_hr=2)
    assert recorder.series("hr")[1].tolist() == [72.0, 72.0]
    assert recorder.series("ibi")[1].tolist() == [1.0, 1.0]  # the RR of the bad reading is not a beat
    assert {g.channel for g in recorder.gaps if reason in g.reason} == {"hr", "ibi"}


def test_beats_of_one_notification_reach_the_sink_oldest_first():
    time = FakeTime()
    two_beats = bytes([0x10, 0x48, 0x00, 0x03, 0x00, 0x04])  # RR 768/1024 s then 1024/1024 s
    recorder = Recorder()
    stop = asyncio.Event()

    def sink(event):
        recorder(event)
        if recorder.series("hr")[0].size:
            stop.set()

    link = BleHeartRateLink(SimulatedPeripheral([(1.0, two_beats)], now=time), SessionClock(monotonic=time),
                            latency_s=0.0, sleep=time.sleep)
    asyncio.run(asyncio.wait_for(link.run(sink, stop), timeout=10))
    ibi_s, ibi = recorder.series("ibi")
    assert ibi.tolist() == [0.75, 1.0]
    assert ibi_s.tolist() == pytest.approx([0.0, 1.0])


class UnreadableBattery(SimulatedPeripheral):
    async def read(self, uuid: str) -> bytes:
        return bytes([0xFF])  # outside 0..100


def test_a_battery_level_that_cannot_be_read_costs_the_level_not_the_heart_rate():
    time = FakeTime()
    script = [(float(i), bytes([0x00, 0x48])) for i in range(1, 4)]
    peripheral = UnreadableBattery(script, now=time)
    recorder = run_link(peripheral, time, stop_after_hr=3)
    assert recorder.series("hr")[1].tolist() == [72.0] * 3
    assert peripheral.connects == 1
    assert recorder.series("battery")[0].size == 0
    assert any("battery level unreadable" in s.detail for s in recorder.statuses)


def test_a_sensor_sending_only_malformed_notifications_goes_silent_and_its_silence_is_a_gap():
    time = FakeTime()
    script = [(1.0, bytes([0x00, 0x48]))] + [(1.0 + 0.5 * i, bytes([0x11, 0x48])) for i in range(1, 30)]
    script += [(20.0, bytes([0x00, 0x4A]))]
    peripheral = SimulatedPeripheral(script, now=time)
    recorder = run_link(peripheral, time, stop_after_hr=2, backoff_s=(0.5,), silence_timeout_s=5.0)
    assert peripheral.connects >= 2  # each time it went silent
    (gap,) = [g for g in recorder.gaps if g.channel == "hr" and "out of reach" in g.reason]
    hr_times = recorder.series("hr")[0]
    assert (gap.start_s, gap.end_s) == pytest.approx(tuple(hr_times))
    refused = [g for g in recorder.gaps if g.channel == "hr" and "refused" in g.reason]
    assert refused and all(gap.start_s <= g.start_s < g.end_s <= gap.end_s for g in refused)  # each within it
    malformed = [s for s in recorder.statuses if "malformed" in s.detail]
    assert len(malformed) <= peripheral.connects + 1 < 29  # the first, then a count per connection; not one each


def test_a_dropout_still_open_when_the_session_stops_is_recorded_as_a_gap():
    time = FakeTime()
    script = [(float(i), bytes([0x00, 0x48])) for i in range(1, 3)]  # two beats, then nothing ever again
    peripheral = SimulatedPeripheral(script, now=time)
    clock = SessionClock(monotonic=time)
    recorder = Recorder()
    stop = asyncio.Event()

    link = BleHeartRateLink(peripheral, clock, latency_s=0.0, sleep=time.sleep, backoff_s=(4.0,))

    async def main():
        running = asyncio.create_task(link.run(recorder, stop))
        while time.now <= 1010:  # the sensor never came back
            await asyncio.sleep(0)
        stop.set()
        await asyncio.wait_for(running, timeout=10)

    asyncio.run(main())
    hr_gaps = [g for g in recorder.gaps if g.channel == "hr"]
    assert len(hr_gaps) == 1 and "until the session stopped" in hr_gaps[0].reason
    assert hr_gaps[0].start_s == pytest.approx(recorder.series("hr")[0][-1])
    assert hr_gaps[0].end_s > 10.0


def test_bleak_errors_and_a_machine_without_bluetooth_are_connection_errors_naming_the_sensor(monkeypatch):
    import bleak
    from bleak.exc import BleakError

    from firmware_bridge.ble import BleakGattClient

    for error in (BleakError("org.bluez.Error.NotReady"), FileNotFoundError(2, "No such file or directory")):

        async def find(*_args, error=error, **_kwargs):
            raise error

        monkeypatch.setattr(bleak.BleakScanner, "find_device_by_filter", staticmethod(find))
        with pytest.raises(ConnectionError, match="Polar H10"):
            asyncio.run(BleakGattClient(name="Polar H10").connect())


class Broken(SimulatedPeripheral):
    async def connect(self) -> None:
        raise RuntimeError("adapter firmware fault")


def test_a_link_that_fails_unexpectedly_says_so_in_a_status_not_a_traceback_and_ends_with_the_session():
    import time

    from firmware_bridge.runner import LinkThreads

    recorder = Recorder()
    threads = LinkThreads([BleHeartRateLink(Broken([]), SessionClock())], recorder)
    threads.start()
    deadline = time.monotonic() + 5
    while not any(s.state == "stopped" for s in recorder.statuses) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert recorder.statuses[-1].state == "stopped"
    assert "adapter firmware fault" in recorder.statuses[-1].detail
    time.sleep(0.3)
    assert threads.threads[0].is_alive()  # was: ended at the failure, its silence no gap
    threads.stop()
    assert not threads.threads[0].is_alive()
    assert {g.channel for g in recorder.gaps} == {"hr", "ibi"}  # the silence to the stop


# --- another GATT sensor through the same link: the Health Thermometer Service ---------------------------


@pytest.mark.parametrize(
    ("data", "celsius"),
    [
        (bytes([0x00, 0x6C, 0x01, 0x00, 0xFF]), 36.4),  # 364 x 10^-1 °C
        (bytes([0x01, 0xDA, 0x03, 0x00, 0xFF]), 37.0),  # 986 x 10^-1 °F
        (bytes([0x06, 0x6D, 0x01, 0x00, 0xFF, 0xEA, 0x07, 12, 3, 10, 30, 0, 0x02]), 36.5),  # with time stamp and type
        (bytes([0x00, 0xB9, 0xFF, 0xFF, 0xFF]), -7.1),  # a negative mantissa
    ],
)
def test_temperature_measurement_is_an_ieee_11073_float_in_celsius(data, celsius):
    assert parse_temperature_measurement(data) == pytest.approx(celsius)


@pytest.mark.parametrize(
    "data",
    [b"", bytes([0x00, 0x6C, 0x01, 0x00]), bytes([0x02, 0x6C, 0x01, 0x00, 0xFF, 0xEA]),
     bytes([0x00, 0xFF, 0xFF, 0x7F, 0x00]), bytes([0x00, 0x00, 0x00, 0x80, 0x00])],  # fmt: skip
)
def test_truncated_or_valueless_temperature_measurements_are_format_errors(data):
    with pytest.raises(BleFormatError):
        parse_temperature_measurement(data)


def test_a_ble_thermometer_plugs_into_the_same_link_and_its_dropout_is_a_gap_on_temperature_only():
    time = FakeTime()
    reading = bytes([0x00, 0x4A, 0x01, 0x00, 0xFF])  # 33.0 °C, skin
    script = [(float(i), reading) for i in range(1, 40)]
    peripheral = SimulatedPeripheral(script, now=time, vanish_after=10, characteristic=TEMPERATURE_MEASUREMENT)
    clock = SessionClock(monotonic=time)
    recorder = Recorder()
    stop = asyncio.Event()

    def sink(event):
        recorder(event)
        if recorder.series("temp")[0].size >= 20:
            stop.set()

    link = BleThermometerLink(peripheral, clock, latency_s=0.0, sleep=time.sleep, backoff_s=(2.0,),
                              silence_timeout_s=3.0)
    asyncio.run(asyncio.wait_for(link.run(sink, stop), timeout=10))
    assert set(recorder.series("temp")[1]) == {33.0}
    (gap,) = recorder.gaps
    assert gap.channel == "temp" and gap.end_s - gap.start_s >= 2.0  # at least the back-off: readings lost
    times = recorder.series("temp")[0].tolist()
    assert gap.start_s in times and gap.end_s in times and not any(gap.start_s < t < gap.end_s for t in times)
    assert any(s.detail == "temperature notifications on; battery 80 %" for s in recorder.statuses)
    assert recorder.to_recording("ble").channels["temp"].gaps == [(gap.start_s, gap.end_s)]


def test_a_thermometer_reporting_once_a_minute_by_a_slow_clock_is_not_taken_for_gone():
    time = FakeTime(0.0)
    reading = bytes([0x00, 0x4A, 0x01, 0x00, 0xFF])  # 33.0 °C
    period_s = 60.2  # once a minute by a clock 0.3 % slow: each reading a little later than a minute after the last
    peripheral = SimulatedPeripheral([(period_s * i, reading) for i in range(1, 21)], now=time,
                                     characteristic=TEMPERATURE_MEASUREMENT)

    recorder = Recorder()
    stop = asyncio.Event()

    async def sleep(seconds):
        """The session's time moving on, stopping at each reading due on the way so that it arrives on time; the
        session stops a second after the last."""
        end_s = time.now + seconds
        for due_s in [at_s for at_s, _ in peripheral.script if time.now < at_s < end_s]:
            time.now = due_s
            await asyncio.sleep(0)  # the thermometer sends it
        time.now = end_s
        if time.now > period_s * 20 + 1.0:
            stop.set()
        await asyncio.sleep(0)

    link = BleThermometerLink(peripheral, SessionClock(monotonic=time), latency_s=0.0, sleep=sleep)
    asyncio.run(asyncio.wait_for(link.run(recorder, stop), timeout=10))
    assert recorder.series("temp")[0] == pytest.approx([period_s * i for i in range(1, 21)])
    assert not recorder.gaps and peripheral.connects == 1


# --- beat timing, retries and stopping --------------------------------------------------------------------


def strap_notifications(seconds: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray, list[tuple[float, bytes]]]:
    """A strap's true beats (times, intervals in 1/1024 s) and its notifications: once a second, each with the RR
    intervals of the beats since the one before, sent after a radio delay of 20-120 ms."""
    rng = np.random.default_rng(seed)
    ticks = np.round(1024 * (0.85 + 0.04 * np.sin(np.arange(2 * seconds) / 3) + rng.normal(0, 0.02, 2 * seconds)))
    rr_s = ticks / 1024
    beats_s = 0.3 + np.cumsum(rr_s)
    keep = beats_s <= seconds - 1  # the beats a notification carried
    notifications = []
    for second in range(1, seconds):
        due = (beats_s > second - 1) & (beats_s <= second)
        payload = bytes([0x10, 70]) + b"".join(int(t).to_bytes(2, "little") for t in ticks[due])
        notifications.append((second + rng.uniform(0.02, 0.12), payload))
    return beats_s[keep], rr_s[keep], notifications


def test_beats_follow_each_other_by_their_intervals_across_notifications_so_hrv_survives():
    from runtime.arms.physio.features import process_recording, window_features

    time = FakeTime(0.0)
    recorder = Recorder()
    link = BleHeartRateLink(SimulatedPeripheral([]), SessionClock(monotonic=time), latency_s=0.05)
    true_beats_s, true_rr_s, notifications = strap_notifications(120)
    delivered: list = []

    def sink(event) -> None:
        delivered.append(event)
        recorder(event)

    for arrival_s, payload in notifications:
        time.now = arrival_s
        delivered.clear()
        link.on_notification(payload, sink)
        assert all(s.t_s <= arrival_s - 0.05 for s in delivered if isinstance(s, Sample))  # never after received
    beat_s, rr_s = recorder.series("ibi")
    assert np.all(np.diff(beat_s) > 0)
    back_to_back = np.abs(np.diff(beat_s) - rr_s[1:]) < 1e-9  # as the intervals say, but where the chain ran ahead
    assert back_to_back.mean() > 0.95
    assert beat_s.size == true_beats_s.size
    late = true_beats_s > 20.0  # once the chain has met a notification sent soon after its last beat
    assert np.max(np.abs(beat_s[late] - true_beats_s[late])) < 0.15
    window = window_features(process_recording(recorder.to_recording("ble")), 30.0, 90.0)
    in_window = (true_beats_s > 30.0) & (true_beats_s <= 90.0)
    true_rmssd_ms = 1000 * np.sqrt(np.mean(np.diff(true_rr_s[in_window]) ** 2))
    assert window.measurements["rmssd_ms"] == pytest.approx(true_rmssd_ms, rel=0.1)


def test_beats_lost_in_between_start_the_chain_again_from_the_notification():
    from firmware_bridge.ble import beat_times_s

    chained = beat_times_s([0.8, 0.8], stamp_s=10.0, last_beat_s=8.3)
    assert [t for t, _ in chained] == pytest.approx([9.1, 9.9])
    ahead = beat_times_s([0.8, 0.8], stamp_s=9.5, last_beat_s=8.3)  # would end after its notification
    assert [t for t, _ in ahead] == pytest.approx([8.7, 9.5])
    lost = beat_times_s([0.8, 0.8], stamp_s=14.0, last_beat_s=8.3)  # 4 s of beats never came
    assert [t for t, _ in lost] == pytest.approx([13.2, 14.0])
    overlapping = beat_times_s([0.8, 0.8], stamp_s=8.9, last_beat_s=8.3)  # the first would precede the last beat
    assert [t for t, _ in overlapping] == pytest.approx([8.9])


def test_a_dropout_ends_at_the_first_beat_after_it_so_no_beat_falls_inside_the_gap():
    time = FakeTime()
    three_beats = bytes([0x10, 0x48, 0x00, 0x04, 0x00, 0x04, 0x00, 0x04])  # three RRs of 1 s
    script = [(float(i), bytes([0x10, 0x48, 0x00, 0x04])) for i in range(1, 4)] + [(15.0, three_beats)]
    peripheral = SimulatedPeripheral(script, now=time, vanish_after=3)
    recorder = run_link(peripheral, time, stop_after_hr=4, backoff_s=(10.0,))
    (gap,) = [g for g in recorder.gaps if g.channel == "ibi"]
    beat_s = recorder.series("ibi")[0]
    assert not any(gap.start_s < t < gap.end_s for t in beat_s)
    assert gap.end_s == pytest.approx(beat_s[-3])


def test_no_contact_is_a_gap_since_the_reading_before_not_a_fixed_second():
    time = FakeTime(0.0)
    recorder = Recorder()
    link = BleHeartRateLink(SimulatedPeripheral([]), SessionClock(monotonic=time), latency_s=0.0)
    for at_s, payload in [(1.0, bytes([0x16, 0x46])), (1.25, bytes([0x14, 0x46])), (3.25, bytes([0x14, 0x46]))]:
        time.now = at_s
        link.on_notification(payload, recorder)
    assert [(g.start_s, g.end_s) for g in recorder.gaps if g.channel == "hr"] == [(1.0, 1.25), (1.25, 3.25)]


def test_a_strap_without_skin_contact_is_said_once_when_its_readings_stop_and_once_when_they_come_back():
    time = FakeTime(0.0)
    recorder = Recorder()
    link = BleHeartRateLink(SimulatedPeripheral([]), SessionClock(monotonic=time), latency_s=0.0)
    good, no_contact = bytes([0x16, 0x46]), bytes([0x14, 0x46])
    for at_s, payload in [(0.0, good), (1.0, good), *[(1.0 + k, no_contact) for k in range(1, 601)], (602.0, good)]:
        time.now = at_s
        link.on_notification(payload, recorder)
    # was: nothing said for ten minutes of a strap slipped off, the link 'connected' throughout
    assert [(s.state, s.detail) for s in recorder.statuses] == [
        ("error", "no skin contact: no heart rate reading until it comes back"),
        ("connected", "heart rate readings back after 600 s")]
    recording = recorder.to_recording()
    assert recording.gaps()["hr"] == [(1.0, 601.0)]  # one stretch of the notifications' 600 gaps


def test_refused_notifications_in_a_row_are_missing_once_in_the_recording_not_once_each():
    time = FakeTime(0.0)
    recorder = Recorder()
    link = BleHeartRateLink(SimulatedPeripheral([]), SessionClock(monotonic=time), latency_s=0.0)
    good, malformed = bytes([0x16, 0x46]), bytes([0x18, 0x46, 0x01])  # energy expended flagged, one byte of it
    for at_s in (1.0, 2.0):
        time.now = at_s
        link.on_notification(good, recorder)
    for k in range(1, 61):
        time.now = 2.0 + k
        link.on_notification(malformed, recorder)
    time.now = 63.0
    link.on_notification(good, recorder)
    # each refusal's gap runs back 5 s: summed, 290 s missing of a 63 s session
    assert recorder.to_recording().gaps()["hr"] == [(2.0, 62.0)]


@pytest.mark.parametrize("payload", [bytes([0x01, 0xFF, 0xFF]), bytes([0x00, 0x0A])])  # 65535 and 10 bpm
def test_a_heart_rate_no_heart_beats_at_is_malformed_not_a_sample(payload):
    time = FakeTime(0.0)
    recorder = Recorder()
    link = BleHeartRateLink(SimulatedPeripheral([]), SessionClock(monotonic=time))
    link.on_notification(payload, recorder)
    assert recorder.sample_count == 0 and link.format_errors == 1


def test_a_temperature_no_skin_has_is_malformed_not_a_sample():
    recorder = Recorder()
    link = BleThermometerLink(SimulatedPeripheral([]), SessionClock())
    link.on_notification(bytes([0x00, 0x01, 0x00, 0x00, 0x7F]), recorder)  # 1 x 10^127 °C
    assert recorder.sample_count == 0 and link.format_errors == 1


class SilentStrap(SimulatedPeripheral):
    """Connects, but never sends a reading (a strap taken off, or one without its characteristic's data)."""

    async def start_notify(self, uuid, callback):
        raise ConnectionError("simulated: notifications refused")


def test_connections_that_bring_no_reading_back_off_and_give_up():
    time = FakeTime()
    peripheral = SilentStrap([])
    start = time.now
    recorder = run_link(peripheral, time, stop_after_hr=1, backoff_s=(0.5, 1.0, 2.0), max_attempts=3)
    assert peripheral.connects == 3
    assert time.now - start == pytest.approx(0.5 + 1.0)
    assert recorder.statuses[-1].state == "stopped"


class NoHeartRate(SimulatedPeripheral):
    def has_characteristic(self, uuid):
        return uuid == BATTERY_LEVEL


def test_a_device_without_the_measurement_is_said_once_and_not_retried():
    time = FakeTime()
    peripheral = NoHeartRate([])
    recorder = run_link(peripheral, time, stop_after_hr=1)
    assert peripheral.connects == 1 and not peripheral.is_connected
    assert recorder.statuses[-1].state == "stopped" and "heart rate measurement" in recorder.statuses[-1].detail


class GoneForGood(SimulatedPeripheral):
    """Delivers, vanishes, and is never found again."""

    async def connect(self):
        if self.connects >= 1:
            self.connects += 1
            raise ConnectionError("simulated: device not found")
        await super().connect()


class LosesItsMeasurement(SimulatedPeripheral):
    """Delivers, vanishes, and comes back without its heart rate measurement."""

    def has_characteristic(self, uuid):
        return super().has_characteristic(uuid) and (uuid != HEART_RATE_MEASUREMENT or self.connects < 2)


class LosesItsMeasurementOnce(SimulatedPeripheral):
    """Delivers, vanishes, comes back once listing no heart rate measurement (services read incompletely after a
    reconnection, as BlueZ's cache can give), then with it."""

    def has_characteristic(self, uuid):
        return super().has_characteristic(uuid) and (uuid != HEART_RATE_MEASUREMENT or self.connects != 2)


def test_a_sensor_that_comes_back_once_without_its_measurement_is_retried_and_read_again():
    time = FakeTime()
    peripheral = LosesItsMeasurementOnce([(float(i), bytes([0x00, 72])) for i in range(1, 40)], now=time,
                                         vanish_after=3)
    recorder = run_link(peripheral, time, stop_after_hr=6, silence_timeout_s=2.0)
    assert peripheral.connects == 3 and len(recorder.series("hr")[0]) == 6  # was: stopped after the first 3
    assert [s.detail for s in recorder.statuses if s.state == "stopped"] == ["stopped by request"]
    (said,) = [s.detail for s in recorder.statuses if "without its heart rate measurement" in s.detail]
    assert "reconnecting" in said
    (gap,) = [g for g in recorder.gaps if g.channel == "hr"]
    assert gap.start_s == pytest.approx(recorder.series("hr")[0][2])


@pytest.mark.parametrize(("strap", "ended"), [
    (GoneForGood, "gave up after 3 failed attempts"),
    (LosesItsMeasurement, "gave up after 3 failed attempts"),  # was: stopped at its first return without it
], ids=["gave-up", "measurement-gone"])
def test_a_link_that_ends_on_its_own_records_its_silence_to_the_stop_as_a_gap(strap, ended):
    time = FakeTime()
    started = time.now
    peripheral = strap([(float(i), bytes([0x10, 72, 0x00, 0x04])) for i in range(1, 6)], now=time, vanish_after=3)
    recorder = run_until_the_link_ends(peripheral, time, then_s=600.0, max_attempts=3)  # on without the strap
    last_hr_s = recorder.series("hr")[0][-1]
    assert sorted((g.channel, g.start_s, g.end_s) for g in recorder.gaps) == [  # was: none
        ("hr", last_hr_s, pytest.approx(time.now - started)), ("ibi", last_hr_s, pytest.approx(time.now - started))]
    (said,) = [s.detail for s in recorder.statuses if s.state == "stopped"]
    assert ended in said and "right sensor" not in said


def test_a_stop_during_the_back_off_ends_the_link_at_once_with_the_gap_to_the_stop():
    peripheral = SimulatedPeripheral([(0.0, bytes([0x00, 0x48]))], now=lambda: 0.0, vanish_after=1)
    clock = SessionClock()
    recorder = Recorder()
    link = BleHeartRateLink(peripheral, clock, latency_s=0.0, backoff_s=(30.0,), silence_timeout_s=0.2)

    async def main():
        stop = asyncio.Event()
        running = asyncio.create_task(link.run(recorder, stop))
        while not any(s.state == "retrying" for s in recorder.statuses):
            await asyncio.sleep(0.01)
        stop.set()
        stopped_s = clock.now_s()
        await asyncio.wait_for(running, timeout=2.0)  # not the 30 s back-off
        return stopped_s

    stopped_s = asyncio.run(main())
    (gap,) = [g for g in recorder.gaps if g.channel == "hr"]
    assert gap.end_s == pytest.approx(stopped_s, abs=0.2)
    assert recorder.statuses[-1].state == "stopped"


class FaultyBattery(SimulatedPeripheral):
    async def read(self, uuid):
        raise RuntimeError("GATT read failed in the stack")


def test_any_failure_of_the_battery_read_costs_the_level_not_the_heart_rate():
    time = FakeTime()
    script = [(float(i), bytes([0x00, 0x48])) for i in range(1, 4)]
    recorder = run_link(FaultyBattery(script, now=time), time, stop_after_hr=3)
    assert recorder.series("hr")[1].tolist() == [72.0] * 3
    assert any("battery level unreadable" in s.detail for s in recorder.statuses)


class DrainingStrap(SimulatedPeripheral):
    """A strap that drops every ``every`` notifications and reads ``levels[i]`` % on its connection i (the last
    level on after them)."""

    def __init__(self, script, levels: list[int], every: int, **kwargs):
        super().__init__(script, battery_pct=levels[0], **kwargs)
        self.levels, self.every = levels, every

    async def connect(self) -> None:
        await super().connect()
        self.battery_pct = self.levels[min(self.connects, len(self.levels)) - 1]
        self.vanish_after = self.sent + self.every


class BatteryLostOnReconnect(DrainingStrap):
    """A strap whose battery level reads on its first connection only: later ones fail the read, or offer none."""

    def __init__(self, script, offered: bool, **kwargs):
        super().__init__(script, [80], every=3, **kwargs)
        self.offered = offered

    async def connect(self) -> None:
        await super().connect()
        if self.connects > 1 and not self.offered:
            self.battery_pct = None

    async def read(self, uuid):
        if self.connects > 1:
            raise RuntimeError("GATT read failed in the stack")
        return await super().read(uuid)


@pytest.mark.parametrize("offered", [True, False])
def test_a_level_unread_on_a_later_connection_is_not_the_earlier_one(offered):
    # was: 'battery 80 %' on every connection after the first, the first connection's level said again
    time = FakeTime()
    script = [(float(i), bytes([0x00, 0x48])) for i in range(1, 10)]
    peripheral = BatteryLostOnReconnect(script, offered, now=time)
    recorder = run_link(peripheral, time, stop_after_hr=6, backoff_s=(0.5,))
    connected = [s.detail for s in recorder.statuses if s.state == "connected"]
    assert len(connected) >= 2
    assert connected[0] == "heart rate notifications on; battery 80 %"
    assert all(d.endswith("heart rate notifications on") for d in connected[1:])
    assert any("battery level unreadable" in s.detail for s in recorder.statuses) == offered


@pytest.mark.parametrize(("levels", "warned"), [
    ([80], []),
    ([BATTERY_LOW_PCT], [BATTERY_LOW_PCT]),  # said once, not at each of four reconnections
    ([15], [15]),  # was: at connections 1, 3, 4 and 5 (the de-duplication cleared by each reading back)
    ([25, 20, 20, 12, 12], [20, 12]),  # reaching the threshold, then falling below the level warned of
    ([15, 18, 15, 10, 10], [15, 10]),  # up again (another reading of the cell) and back: nothing new
])
def test_the_battery_level_is_said_with_each_connection_and_a_low_one_warned_of_once_a_level_not_recorded(
        levels, warned, caplog):
    time = FakeTime()
    script = [(float(i), bytes([0x00, 0x48])) for i in range(1, 20)]
    peripheral = DrainingStrap(script, levels, every=3, now=time)
    with caplog.at_level(logging.INFO, logger="emotrace.firmware_bridge"):
        recorder = run_link(peripheral, time, stop_after_hr=15, backoff_s=(0.5,))
    connected = [s.detail for s in recorder.statuses if s.state == "connected"]
    assert peripheral.connects == len(connected) == 5
    assert connected[0] == f"heart rate notifications on; battery {levels[0]} %"
    assert all(d.endswith(f"; battery {levels[min(i, len(levels) - 1)]} %") for i, d in enumerate(connected))
    lines = [r.getMessage() for r in caplog.records]
    low = [r.getMessage() for r in caplog.records if "battery low" in r.getMessage()]
    assert low == [f"ble-hr: battery low ({pct} %): change or charge it after the session" for pct in warned]
    assert all(r.levelno == logging.WARNING for r in caplog.records if "battery low" in r.getMessage())
    # a warning, not the link's state: it stays connected, and the warning comes after the line that says so
    assert not any("battery low" in s.detail for s in recorder.statuses)
    if warned:
        assert lines.index(low[0]) > lines.index(f"ble-hr: connected ({connected[0]})")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        recording = recorder.to_recording("ble-hr")
    assert list(recording.channels) == ["hr"]  # was: "battery" too, or a warning that it was left out
    assert not caplog.records


class FailsOnReconnect(SimulatedPeripheral):
    async def start_notify(self, uuid, callback):
        if self.connects > 1:
            raise RuntimeError("stack fault")
        await super().start_notify(uuid, callback)


def run_until_the_link_ends(peripheral: SimulatedPeripheral, time: FakeTime, then_s: float = 0.0,
                            **link_options) -> Recorder:
    """Run the link until it ends on its own (it fails, gives up, or finds no measurement: said as stopped), let
    the session go on ``then_s`` more, and stop it."""
    recorder = Recorder()
    link = BleHeartRateLink(peripheral, SessionClock(monotonic=time), latency_s=0.0, sleep=time.sleep,
                            backoff_s=(1.0,), **link_options)

    async def main():
        stop = asyncio.Event()
        running = asyncio.create_task(link.run(recorder, stop))
        while not running.done() and not any(s.state == "stopped" for s in recorder.statuses):
            await asyncio.sleep(0.01)
        time.now += then_s
        stop.set()
        await asyncio.wait_for(running, timeout=2.0)

    asyncio.run(main())
    return recorder


def test_a_link_that_fails_unexpectedly_disconnects_says_so_and_records_its_silence_to_the_stop_as_a_gap():
    time = FakeTime()
    started = time.now
    peripheral = FailsOnReconnect([(float(i), bytes([0x00, 0x48])) for i in range(1, 4)], now=time, vanish_after=2)
    recorder = run_until_the_link_ends(peripheral, time, then_s=30.0)  # half a minute more without the sensor
    assert not peripheral.is_connected
    assert [s.detail for s in recorder.statuses if s.state == "stopped"] == ["link failed: RuntimeError: stack fault"]
    (gap,) = [g for g in recorder.gaps if g.channel == "hr"]
    assert gap.start_s == pytest.approx(recorder.series("hr")[0][-1]) and "link failed" in gap.reason
    assert gap.end_s == pytest.approx(time.now - started)  # was: ended at the failure, 30 s before the stop


class CancelledOnce(SimulatedPeripheral):
    async def connect(self) -> None:
        if self.connects == 0:
            self.connects += 1
            raise asyncio.CancelledError  # leaked by the BLE stack, not a stop of the session
        await super().connect()


def test_a_connection_attempt_the_stack_cancels_is_retried_like_a_failed_one():
    time = FakeTime()
    peripheral = CancelledOnce([(1.0, bytes([0x00, 0x48]))], now=time)
    recorder = run_link(peripheral, time, stop_after_hr=1)
    assert peripheral.connects == 2
    assert recorder.series("hr")[1].tolist() == [72.0]
    assert any("cancelled the attempt" in s.detail for s in recorder.statuses)


class CancelledNotify(SimulatedPeripheral):
    async def start_notify(self, uuid, callback):
        if self.connects == 1:
            raise asyncio.CancelledError  # leaked by the BLE stack from a GATT call, not a stop of the session
        await super().start_notify(uuid, callback)


def test_a_gatt_call_the_stack_cancels_costs_the_connection_not_the_link():
    time = FakeTime()
    peripheral = CancelledNotify([(1.0, bytes([0x00, 0x48]))], now=time)
    recorder = run_link(peripheral, time, stop_after_hr=1)  # was: CancelledError out of the link, no reconnection
    assert peripheral.connects == 2
    assert recorder.series("hr")[1].tolist() == [72.0]
    assert any("cancelled a call" in s.detail for s in recorder.statuses)


class TaskOfPython310:
    """A running task as Python 3.10 has it: no ``cancelling`` (3.11)."""

    def __init__(self, task: asyncio.Task):
        self._task = task

    def __getattr__(self, name):
        if name == "cancelling":
            raise AttributeError(name)
        return getattr(self._task, name)


def test_on_python_3_10_a_cancellation_the_stack_leaks_is_still_retried_not_an_attribute_error(monkeypatch):
    import firmware_bridge.ble as ble

    current_task = asyncio.current_task
    monkeypatch.setattr(ble.asyncio, "current_task", lambda *a: TaskOfPython310(current_task(*a)))
    time = FakeTime()
    peripheral = CancelledNotify([(1.0, bytes([0x00, 0x48]))], now=time)
    recorder = run_link(peripheral, time, stop_after_hr=1)  # was: AttributeError 'cancelling', the link failed
    assert peripheral.connects == 2
    assert recorder.series("hr")[1].tolist() == [72.0]
    assert not [s for s in recorder.statuses if s.state == "stopped" and "failed" in s.detail]


def test_a_sensor_gone_before_its_services_are_read_is_a_connection_error_like_any_dropped_link():
    from bleak.exc import BleakError

    from firmware_bridge.ble import BleakGattClient

    class Dropped:  # bleak's client once the device dropped: no services
        @property
        def services(self):
            raise BleakError("Service Discovery has not been performed yet")

    client = BleakGattClient(name="Polar H10")
    client._client = Dropped()
    with pytest.raises(ConnectionError, match="Polar H10: Service Discovery"):  # was: BleakError, the link ended
        client.has_characteristic(HEART_RATE_MEASUREMENT)


class DisconnectFails(FailsOnReconnect):
    async def disconnect(self) -> None:
        await super().disconnect()
        if self.connects > 1:
            raise asyncio.CancelledError  # the stack's, not a stop of the session


def test_a_disconnect_that_fails_costs_neither_the_failure_line_nor_the_gap():
    time = FakeTime()
    peripheral = DisconnectFails([(float(i), bytes([0x00, 0x48])) for i in range(1, 4)], now=time, vanish_after=2)
    recorder = run_until_the_link_ends(peripheral, time)
    assert [s.detail for s in recorder.statuses if s.state == "stopped"] == ["link failed: RuntimeError: stack fault"]
    assert {g.channel for g in recorder.gaps} == {"hr", "ibi"}


class HangsOnDisconnect(SimulatedPeripheral):
    async def disconnect(self) -> None:
        await asyncio.sleep(60)  # bleak may wait long for an answer from a sensor that went away


def test_a_disconnect_that_hangs_does_not_hold_the_session_past_its_stop(monkeypatch):
    import firmware_bridge.ble as ble

    monkeypatch.setattr(ble, "DISCONNECT_WAIT_S", 0.1)
    recorder = Recorder()
    link = BleHeartRateLink(HangsOnDisconnect([]), SessionClock(), latency_s=0.0)

    async def main():
        stop = asyncio.Event()
        running = asyncio.create_task(link.run(recorder, stop))
        await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(running, timeout=2.0)

    asyncio.run(main())
    assert recorder.statuses[-1].state == "stopped"


def test_an_rr_interval_no_heart_beats_at_places_the_beats_but_is_not_delivered():
    time = FakeTime(10.0)
    recorder = Recorder()
    link = BleHeartRateLink(SimulatedPeripheral([]), SessionClock(monotonic=time), latency_s=0.0)
    rr_1024 = [820, 4096, 102, 819]  # 0.80 s, 4 s (a lost beat's sum), 0.10 s (a spike), 0.80 s
    payload = bytes([0x10, 70]) + b"".join(rr.to_bytes(2, "little") for rr in rr_1024)
    time.now = 20.0
    link.on_notification(payload, recorder)
    beats_s, rr_s = recorder.series("ibi")
    assert rr_s.tolist() == pytest.approx([820 / 1024, 819 / 1024])
    assert beats_s[-1] == pytest.approx(time.now - 10.0)  # the last beat ends the notification, as before
    assert beats_s[-1] - beats_s[0] == pytest.approx((4096 + 102 + 819) / 1024)  # the dropped ones still space them


@pytest.mark.parametrize(
    ("refusal", "reason"),
    [
        (bytes([0x14, 70]), "no skin contact"),  # contact supported, not detected
        (bytes([0x10, 0]), "0 bpm"),
        (bytes([0x10, 10]), "10 bpm is outside"),  # no heart beats at 10 bpm
        (bytes([0x11, 70]), "lacks its heart rate"),  # malformed: half a uint16 heart rate
    ],
    ids=["no-contact", "0-bpm", "10-bpm", "malformed"],
)
def test_a_refused_notification_restarts_the_beat_chain_so_later_beats_stay_on_time(refusal, reason):
    time = FakeTime(0.0)
    recorder = Recorder()
    link = BleHeartRateLink(SimulatedPeripheral([]), SessionClock(monotonic=time), latency_s=0.05)
    true_beats_s, _, notifications = strap_notifications(90)
    refused_at = 30  # the notification sent at 30 s: its beats are lost
    delivered_s, true_s = [], []
    for second, (arrival_s, payload) in enumerate(notifications, start=1):
        time.now = arrival_s
        if second == refused_at:
            payload = refusal if reason == "lacks its heart rate" else refusal + payload[2:]
            refused_stamp_s = arrival_s - 0.05
        before = recorder.series("ibi")[0].size
        link.on_notification(payload, recorder)
        new_s = recorder.series("ibi")[0][before:]
        carried_s = true_beats_s[(true_beats_s > second - 1) & (true_beats_s <= second)]
        delivered_s += new_s.tolist()
        true_s += carried_s[carried_s.size - new_s.size :].tolist()  # a chain starting again may leave out its first
    delivered_s, true_s = np.array(delivered_s), np.array(true_s)
    later = true_s > refused_at + 10
    # was: every later beat one beat early (0.74 s here), for good
    assert np.max(np.abs(delivered_s[later] - true_s[later])) < 0.15
    (gap,) = [g for g in recorder.gaps if g.channel == "ibi"]
    assert reason in gap.reason and gap.end_s == pytest.approx(refused_stamp_s)
    assert gap.start_s == pytest.approx(notifications[refused_at - 2][0] - 0.05)  # the reading before
    assert not any(gap.start_s < t <= gap.end_s for t in delivered_s)  # no beat inside it (was: for 0 bpm, one)


def test_beats_after_a_no_contact_gap_are_not_chained_to_the_beats_before_it_nor_placed_inside_it():
    time = FakeTime(0.0)
    recorder = Recorder()
    link = BleHeartRateLink(SimulatedPeripheral([]), SessionClock(monotonic=time), latency_s=0.0)

    for at_s, payload in [(1.0, with_rr(75, 0.8)), (2.0, with_rr(75, 0.8)), (3.0, with_rr(75, 0.8, flags=0x14)),
                          (4.0, with_rr(75, 0.8, 0.8, 0.8)), (5.0, with_rr(75, 0.8))]:
        time.now = at_s
        link.on_notification(payload, recorder)
    (gap,) = [g for g in recorder.gaps if g.channel == "ibi"]
    assert (gap.start_s, gap.end_s) == (2.0, 3.0)
    beats_s = recorder.series("ibi")[0]
    assert not any(gap.start_s < t <= gap.end_s for t in beats_s)  # was: 2.6, chained to 1.8 across the gap
    assert beats_s.tolist() == pytest.approx([1.0, 1.8, 3.2, 4.0, 4.8], abs=1e-3)  # 2.4, inside the gap: left out


def test_beats_at_or_before_a_refused_notification_are_left_out():
    from firmware_bridge.ble import beat_times_s

    assert [t for t, _ in beat_times_s([0.8, 0.8, 0.8], stamp_s=4.0, after_s=3.0)] == pytest.approx([3.2, 4.0])
    chained = beat_times_s([0.8, 0.8], stamp_s=10.0, last_beat_s=8.3, after_s=9.5)  # the later of the two counts
    assert [t for t, _ in chained] == pytest.approx([9.9])


def test_a_sensor_gone_for_minutes_is_said_lost_once_and_back_once_its_gap_as_before():
    time = FakeTime()
    beat = bytes([0x00, 0x48])
    script = [(float(i), beat) for i in range(1, 4)] + [(600.0 + i, beat) for i in range(100)]
    peripheral = OutOfReach(script, time, lambda: "no BLE device strap in range" if time.now < 1100 else None,
                            vanish_after=3)
    recorder = run_link(peripheral, time, stop_after_hr=8)
    assert peripheral.connects > 30  # it was looked for all along, every 18 s at most
    said = [(s.state, s.detail) for s in recorder.statuses]
    # was: 'connecting', 'error (... in range)' and 'retrying (in 8 s)' at each of the 30-odd attempts
    assert [state for state, _ in said] == ["connecting", "connected", "disconnected", "retrying", "error",
                                            "connected", "stopped"]
    assert said[4][1] == "ConnectionError: no BLE device strap in range"
    assert said[5][1].startswith("back after 6") and said[5][1].endswith("heart rate notifications on; battery 80 %")
    hr_s = recorder.series("hr")[0]
    (gap,) = [g for g in recorder.gaps if g.channel == "hr"]
    assert (gap.start_s, gap.end_s) == pytest.approx((hr_s[2], hr_s[3])) and "out of reach" in gap.reason


def test_a_new_error_while_retrying_is_said_once_and_an_old_one_not_again():
    time = FakeTime()
    errors = iter(["no BLE device strap in range"] * 4 + ["strap: org.bluez.Error.NotReady"] * 4
                  + ["no BLE device strap in range"] * 4)
    script = [(float(i), bytes([0x00, 0x48])) for i in [1, *range(100, 400)]]
    peripheral = OutOfReach(script, time, lambda: next(errors, None), vanish_after=1)
    recorder = run_link(peripheral, time, stop_after_hr=2)
    assert peripheral.connects == 14  # the first, twelve in vain, the one that found it
    assert [s.detail for s in recorder.statuses if s.state == "error"] == [
        "ConnectionError: no BLE device strap in range", "ConnectionError: strap: org.bluez.Error.NotReady"]
    assert [s.state for s in recorder.statuses].count("retrying") == 1


def test_after_a_dropout_too_short_to_leave_the_chain_2_s_behind_the_beats_start_again_from_their_stamps():
    time = FakeTime()
    one_beat = bytes([0x10, 0x3C, 0x00, 0x04])  # 60 bpm, one RR of 1 s: the beat the notification comes with
    script = [(float(i), one_beat) for i in range(1, 12)]
    # back in 1 s, on the strap's cadence: the notification at 4 s went out while away, its beat lost, and the
    # next comes on time at 5 s
    peripheral = SimulatedPeripheral(script, now=time, vanish_after=3)
    recorder = run_link(peripheral, time, stop_after_hr=8, backoff_s=(1.0,))
    hr_s, beats_s = recorder.series("hr")[0], recorder.series("ibi")[0]
    assert peripheral.connects == 2 and beats_s.size == hr_s.size
    assert hr_s[3] - hr_s[2] == pytest.approx(2.0)  # one beat lost
    assert hr_s[3] - hr_s[2] < 1 + BEAT_CHAIN_MAX_LAG_S  # the chain would have run on across it
    # each beat at its notification's stamp, as before the dropout (was: every beat after it 1 s early, 3.9 to
    # 7.9 for 4.9 to 8.9: the chain, only ever pulled back, never caught up with the beat lost)
    assert beats_s == pytest.approx(hr_s)
    (gap,) = [g for g in recorder.gaps if g.channel == "ibi"]
    assert (gap.start_s, gap.end_s) == pytest.approx((beats_s[2], beats_s[3]))  # the whole dropout (was: 1 s of it)


# --- beats and gaps across a dropout, the silence watch, refusals said ------------------------------------


def with_rr(bpm: int, *rr_s: float, flags: int = 0x16) -> bytes:
    """A Heart Rate Measurement with skin contact (unless ``flags`` says otherwise) and RR intervals ``rr_s``."""
    return bytes([flags | 0x10, bpm]) + b"".join(round(s * 1024).to_bytes(2, "little") for s in rr_s)


def lagging_beats_then_a_dropout(contact_at_1s: bool) -> tuple[SimulatedPeripheral, Recorder]:
    """A strap at 63 bpm whose beats fall further behind each notification (0.95 s RR a second: the last at 9.5 s,
    stamped 9.9 s), after a reading at 1 s with or without skin contact; it drops out, and is back at 12 s with five
    0.7 s beats laid back from its stamp: the oldest (9.1 s) before the last beat delivered, the next (9.8 s) after
    it but before its stamp."""
    time = FakeTime()
    first = with_rr(63, 0.95) if contact_at_1s else bytes([0x14, 70])
    script = [(1.0, first)] + [(float(i), with_rr(63, 0.95)) for i in range(2, 11)] + [(12.0, with_rr(86, *[0.7] * 5))]
    peripheral = SimulatedPeripheral(script, now=time, vanish_after=len(script) - 1)
    recorder = run_link(peripheral, time, stop_after_hr=len(script) - (not contact_at_1s), backoff_s=(0.5,))
    return peripheral, recorder


def test_beats_after_a_dropout_never_go_back_though_a_no_contact_reading_came_early_in_the_session():
    # the no-contact reading at 1 s leaves a floor for later beats: the dropout's floor is the later of it and the
    # last beat, never the earlier
    peripheral, recorder = lagging_beats_then_a_dropout(contact_at_1s=False)
    assert peripheral.connects == 2
    beats_s = recorder.series("ibi")[0]
    assert np.all(np.diff(beats_s) > 0)  # was: 9.1 s delivered after 9.5 s
    assert beats_s[9:].tolist() == pytest.approx([9.8, 10.5, 11.2, 11.9], abs=2e-3)


def test_a_dropouts_gap_never_ends_before_it_starts_when_the_beats_after_it_reach_back_before_the_last_reading():
    # the gap opens at the last reading's stamp (9.9 s) and closes at the oldest beat after it (9.8 s): the beats
    # lag their notifications, so that beat is earlier than the stamp it follows
    peripheral, recorder = lagging_beats_then_a_dropout(contact_at_1s=True)
    assert peripheral.connects == 2
    gaps = [g for g in recorder.gaps if "out of reach" in g.reason]
    assert {g.channel for g in gaps} == {"hr", "ibi"}
    assert [g.start_s for g in gaps] == pytest.approx([9.9, 9.9])
    assert all(g.end_s >= g.start_s for g in gaps)
    # the heart rate's gap runs to its next reading, the beats' to the oldest beat after the dropout (both had ended
    # at the oldest beat: the heart rate's 2 s without a reading was no gap)
    ends_s = {g.channel: g.end_s for g in gaps}
    assert ends_s["hr"] == pytest.approx(recorder.series("hr")[0][-1]) and ends_s["hr"] > 11.0
    assert ends_s["ibi"] == pytest.approx(9.9)


def test_a_strap_connected_but_silent_is_counted_gone_at_its_silence_timeout_not_later():
    time = FakeTime()
    timeout_s = BleHeartRateLink.default_silence_timeout_s
    script = [(float(i), bytes([0x00, 70])) for i in (1, 2, 3, 30, 31, 32)]  # taken off at 3 s, still connected
    peripheral = SimulatedPeripheral(script, now=time)
    recorder = run_link(peripheral, time, stop_after_hr=6)
    (gone_s,) = [s.t_s for s in recorder.statuses if s.state == "disconnected"]
    # the watch looks every 0.5 s (a quarter of the timeout at most): it finds the silence by its next look
    assert timeout_s < gone_s - 3.0 <= timeout_s + 0.5  # was: twice the timeout


def test_a_late_reading_carrying_two_beats_keeps_them_on_the_chain_each_its_interval_after_the_one_before():
    # 50 bpm (RR 1.2 s); radio retries hold back the reading that carries the next two beats until 4.4 s: their
    # chain from the beat at 1 s ends at 3.4 s, under BEAT_CHAIN_MAX_LAG_S before the stamp, so they stay on it
    time = FakeTime(0.0)
    recorder = Recorder()
    link = BleHeartRateLink(SimulatedPeripheral([]), SessionClock(monotonic=time), latency_s=0.0)
    for at_s, payload in [(1.0, with_rr(50, 1.2)), (4.4, with_rr(50, 1.2, 1.2))]:
        time.now = at_s
        link.on_notification(payload, recorder)
    beats_s, rr_s = recorder.series("ibi")
    assert np.diff(beats_s) == pytest.approx(rr_s[1:])  # was: 2.2 s after the beat before, labelled 1.2 s
    assert beats_s.tolist() == pytest.approx([1.0, 2.2, 3.4], abs=1e-3)


def test_before_a_sensors_first_reading_its_gap_starts_at_the_first_failed_attempt_not_the_last():
    time = FakeTime()
    script = [(float(i), bytes([0x00, 70])) for i in range(1, 4)]
    peripheral = SimulatedPeripheral(script, now=time, fail_connects=3)
    recorder = run_link(peripheral, time, stop_after_hr=3)  # back-off 0.5 and 1 s: attempts at 0, 0.5 and 1.5 s
    assert peripheral.connects == 4
    assert recorder.statuses[0].t_s == 0.0  # the first attempt, as the session starts
    (gap,) = [g for g in recorder.gaps if g.channel == "hr"]
    # the session's start (was: 1.4 s, the third attempt's stamp; then -0.1 s, the first's less the latency)
    assert gap.start_s == 0.0
    assert gap.end_s == pytest.approx(recorder.series("hr")[0][0])


def test_a_second_malformed_notification_is_said_in_a_count_at_the_connections_end():
    # the first is said in its own line; later ones only in a count, once a connection, so that it is not lost
    time = FakeTime()
    good, malformed = bytes([0x00, 0x48]), bytes([0x01, 0x48])  # the second: half a uint16 heart rate
    script = [(1.0, good), (2.0, malformed), (3.0, malformed), (4.0, good), (5.0, good)]
    recorder = run_link(SimulatedPeripheral(script, now=time), time, stop_after_hr=3)
    said = [s.detail for s in recorder.statuses if s.state == "error"]
    assert len(said) == 2 and said[0].startswith("malformed heart rate notification 0148")
    assert said[1] == "2 malformed heart rate notifications so far"  # was: not said


def test_a_negative_latency_is_refused():
    # a reading stamped after it arrived: the latency's sign got lost on the way
    with pytest.raises(ValueError, match="latency_s"):
        BleHeartRateLink(SimulatedPeripheral([]), SessionClock(), latency_s=-0.05)


def test_beats_after_a_dropout_whose_first_reading_back_has_no_rr_intervals_fall_after_that_reading():
    # below 60 bpm a strap's reading may carry no interval (no beat since the last one); the beats' gap ends at it,
    # so the beats of the next reading, laid back from its stamp, may not fall inside that gap
    time = FakeTime()
    script = [(float(i), with_rr(60, 1.0)) for i in range(1, 6)] + [(8.0, bytes([0x06, 60])),
                                                                    (9.0, with_rr(60, 1.0, 1.0, 1.0))]
    peripheral = SimulatedPeripheral(script, now=time, vanish_after=5)
    recorder = run_link(peripheral, time, stop_after_hr=7, backoff_s=(0.5,))
    assert peripheral.connects == 2
    (gap,) = [g for g in recorder.gaps if g.channel == "ibi"]
    beats_s = recorder.series("ibi")[0]
    assert not any(gap.start_s < t < gap.end_s for t in beats_s)  # was: a beat at 7 s in a gap 5..8 s
    assert [t for t in beats_s if t > gap.start_s] == pytest.approx([8.9])  # 6.9 and 7.9 s are no beats after it


def test_a_dropout_under_way_is_a_gap_so_far_on_both_channels_and_none_once_the_sensor_is_back():
    time = FakeTime()
    script = [(float(i), bytes([0x00, 0x48])) for i in range(1, 12)]
    peripheral = SimulatedPeripheral(script, now=time, vanish_after=3)
    recorder, views = Recorder(), []
    stop = asyncio.Event()
    link = BleHeartRateLink(peripheral, SessionClock(monotonic=time), latency_s=0.1, sleep=time.sleep,
                            backoff_s=(0.5, 1.0))

    def sink(event):
        recorder(event)
        if getattr(event, "state", None) == "retrying" or len(recorder.series("hr")[0]) == 5:
            views.append((link.stamp(), link.dropout_under_way()))
        if len(recorder.series("hr")[0]) >= 6:
            stop.set()

    asyncio.run(asyncio.wait_for(link.run(sink, stop), timeout=10))
    (retrying_s, away), (_, back) = views
    last_hr_s = recorder.series("hr")[0][2]
    assert [(g.channel, g.start_s, g.end_s) for g in away] == [("hr", last_hr_s, retrying_s),
                                                              ("ibi", last_hr_s, retrying_s)]
    assert back == [] and recorder.gaps[0].start_s == last_hr_s  # the view recorded nothing: the link did, once
