"""BLE Heart Rate Service: spec byte sequences, a simulated peripheral behind the link's interface."""

from __future__ import annotations

import asyncio

import pytest

from firmware_bridge.ble import (
    BATTERY_LEVEL,
    HEART_RATE_MEASUREMENT,
    TEMPERATURE_MEASUREMENT,
    BleFormatError,
    BleHeartRateLink,
    BleThermometerLink,
    SimulatedPeripheral,
    parse_battery_level,
    parse_heart_rate_measurement,
    parse_temperature_measurement,
)
from firmware_bridge.link import Gap, Recorder, Status
from runtime.clock import SessionClock
from tests.firmware_bridge.fakes import FakeTime


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


def test_contact_supported_but_lost_is_reported_as_no_contact():
    m = parse_heart_rate_measurement(bytes([0x04, 0x50]))
    assert m.sensor_contact is False


@pytest.mark.parametrize("data", [b"", bytes([0x01, 0x48]), bytes([0x10, 0x48, 0x00]), bytes([0x08, 0x48, 0x01])])
def test_truncated_measurements_are_format_errors(data):
    with pytest.raises(BleFormatError):
        parse_heart_rate_measurement(data)


def test_battery_level_is_one_byte_percent():
    assert parse_battery_level(bytes([87])) == 87
    with pytest.raises(BleFormatError):
        parse_battery_level(bytes([101]))


def run_link(peripheral: SimulatedPeripheral, time: FakeTime, stop_after_hr: int, **kwargs) -> Recorder:
    clock = SessionClock(monotonic=time)
    recorder = Recorder()
    stop = asyncio.Event()

    def sink(event):
        recorder(event)
        if len(recorder.series("hr")[0]) >= stop_after_hr:
            stop.set()

    link = BleHeartRateLink(peripheral, clock, latency_s=0.1, sleep=time.sleep, **kwargs)

    async def main():
        await asyncio.wait_for(link.run(sink, stop), timeout=10)

    asyncio.run(main())
    return recorder


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
    assert recorder.series("battery")[1].tolist() == [80.0]


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
    assert all(isinstance(s, Status) for s in recorder.statuses)


def test_malformed_notification_is_reported_and_skipped():
    time = FakeTime()
    script = [(1.0, bytes([0x00, 0x48])), (2.0, bytes([0x01, 0x48])), (3.0, bytes([0x00, 0x4A]))]
    recorder = run_link(SimulatedPeripheral(script, now=time), time, stop_after_hr=2)
    assert recorder.series("hr")[1].tolist() == [72.0, 74.0]
    assert any(s.state == "error" and "malformed" in s.detail for s in recorder.statuses)
    assert not any(isinstance(g, Gap) and g.channel == "hr" for g in recorder.gaps)


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
    ibi = [e for e in recorder.samples if e.channel == "ibi"]
    assert [e.value for e in ibi] == [0.75, 1.0]
    assert [e.t_s for e in ibi] == pytest.approx([0.0, 1.0])


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
    (gap,) = [g for g in recorder.gaps if g.channel == "hr"]
    hr_times = recorder.series("hr")[0]
    assert (gap.start_s, gap.end_s) == pytest.approx(tuple(hr_times))
    malformed = [s for s in recorder.statuses if "malformed" in s.detail]
    assert len(malformed) <= peripheral.connects + 1 < 29  # the first, then a count per connection; not one each


def test_a_dropout_still_open_when_the_session_stops_is_recorded_as_a_gap():
    time = FakeTime()
    script = [(float(i), bytes([0x00, 0x48])) for i in range(1, 3)]  # two beats, then nothing ever again
    peripheral = SimulatedPeripheral(script, now=time)
    clock = SessionClock(monotonic=time)
    recorder = Recorder()
    stop = asyncio.Event()

    def sink(event):
        recorder(event)
        if isinstance(event, Status) and event.state == "retrying" and time.now > 1010:
            stop.set()  # the sensor never came back

    link = BleHeartRateLink(peripheral, clock, latency_s=0.0, sleep=time.sleep, backoff_s=(4.0,))
    asyncio.run(asyncio.wait_for(link.run(sink, stop), timeout=10))
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


def test_a_link_that_fails_unexpectedly_ends_its_thread_with_a_status_not_a_traceback():
    from firmware_bridge.runner import LinkThreads

    recorder = Recorder()
    threads = LinkThreads([BleHeartRateLink(Broken([]), SessionClock())], recorder)
    threads.start()
    threads.threads[0].join(timeout=5)
    assert not threads.threads[0].is_alive()
    assert recorder.statuses[-1].state == "stopped"
    assert "adapter firmware fault" in recorder.statuses[-1].detail
    threads.stop()


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
    assert any(s.detail == "temperature notifications on" for s in recorder.statuses)
    assert recorder.to_recording("ble").channels["temp"].gaps == [(gap.start_s, gap.end_s)]
