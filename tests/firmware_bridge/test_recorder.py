"""The recorder: what the links delivered, handed to the physiological arm with each link's gaps on its own."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_bridge.link import Gap, Recorder, Sample
from runtime.arms.physio.features import process_recording


def samples(recorder: Recorder, channel: str, times_s, value: float, link: str) -> None:
    for t in times_s:
        recorder(Sample(channel, float(t), value, link))


def test_a_gap_on_every_channel_of_one_link_leaves_another_links_channels_whole():
    recorder = Recorder()
    samples(recorder, "eda", np.arange(0, 120, 0.25), 2.0, "serial-board")
    samples(recorder, "hr", np.arange(0, 120, 1.0), 70.0, "ble-hr")
    recorder(Gap("*", 50.0, 110.0, "frames lost", "serial-board"))
    recording = recorder.to_recording("live")
    assert recording.channels["eda"].gaps == [(50.0, 110.0)]
    assert recording.channels["hr"].gaps == []


def test_a_channel_too_short_for_a_rate_is_left_out_with_a_log_line_and_the_rest_still_reads(caplog):
    recorder = Recorder()
    samples(recorder, "eda", np.arange(0, 60, 0.25), 2.0, "serial-board")
    samples(recorder, "temp", [10.0, 10.25], 33.0, "serial-board")  # two frames only
    samples(recorder, "bvp", [5.0, 5.0, 5.0, 5.0], 0.1, "serial-board")  # a stuck board clock
    with caplog.at_level("WARNING", logger="emotrace.firmware_bridge"):
        recording = recorder.to_recording("live")
    assert set(recording.channels) == {"eda"}
    assert recording.channels["eda"].rate_hz == pytest.approx(4.0)
    assert sum("left out" in r.getMessage() for r in caplog.records) == 2
    assert len(recorder.series("temp")[0]) == 2  # kept in the recorder
    process_recording(recording)  # the arm reads what is left


def test_a_channel_stamped_in_whole_milliseconds_keeps_its_true_rate_and_a_hole_does_not_slow_it():
    recorder = Recorder()
    times_s = np.floor(np.arange(0, 60, 1 / 64) * 1000) / 1000  # a 64 Hz board clock read in whole ms: 15 or 16 ms
    times_s = np.delete(times_s, range(1000, 1064))  # a second of lost frames
    samples(recorder, "bvp", times_s, 1.0, "serial-board")
    assert recorder.to_recording("live").channels["bvp"].rate_hz == pytest.approx(64, rel=1e-3)  # not 62.5


def test_a_channel_stamped_on_arrival_keeps_its_rate_through_stalls_that_crowd_its_samples():
    recorder = Recorder()
    times_s = np.arange(600.0)  # a 1 Hz heart rate from a strap, stamped as the notifications arrive
    for k in range(10, 600, 20):  # three times a minute the event loop stalls 1.4 s: two arrive together
        times_s[k], times_s[k + 1] = k + 1.4, k + 1.401
    samples(recorder, "hr", times_s, 70.0, "ble-hr")
    # the crowded steps are no shorter period: the mean of the short steps said 1.03 Hz
    assert recorder.to_recording("live").channels["hr"].rate_hz == pytest.approx(1.0, rel=2e-3)


def test_a_boards_three_accelerometer_axes_become_the_one_acc_channel_the_features_read():
    from runtime.arms.physio.features import process_recording, window_features

    recorder = Recorder()
    for i in range(32 * 60):  # a minute at 32 Hz, the arm at rest: 1 g on z
        t_s = i / 32
        for axis, value in (("acc_x", 0.0), ("acc_y", 0.0), ("acc_z", 1.0)):
            recorder(Sample(axis, t_s, value, "board"))
    recorder(Sample("acc_x", 60.5, 0.0, "board"))  # an axis alone at an instant is no sample of the three
    recording = recorder.to_recording("board")
    assert sorted(recording.channels) == ["acc"]
    assert recording.channels["acc"].values.shape == (32 * 60, 3)
    window = window_features(process_recording(recording), 0.0, 30.0)
    assert window.measurements["acc_magnitude_mean_g"] == pytest.approx(1.0)
    assert window.measurements["motion_g"] == pytest.approx(0.0)


def test_a_gap_on_a_named_channel_covers_that_channel_of_its_own_link_only():
    recorder = Recorder()
    for i in range(40):
        recorder(Sample("eda", i / 4, 2.0, "board"))
        recorder(Sample("hr", float(i), 70.0, "strap"))
    recorder(Gap("eda", 3.0, 5.0, "no skin contact", "board"))
    recorder(Gap("hr", 1.0, 2.0, "no skin contact", "other strap"))  # a link that delivered no heart rate
    recording = recorder.to_recording("two links")
    assert recording.channels["eda"].gaps == [(3.0, 5.0)]
    assert recording.channels["hr"].gaps == []


def test_a_channel_two_links_deliver_as_much_of_is_read_from_the_first_with_a_log_line(caplog):
    recorder = Recorder()
    for i in range(40):
        recorder(Sample("temp", i / 4, 33.0, "board"))
        recorder(Sample("temp", i / 4 + 0.1, 36.5, "ble-temp"))
    recorder(Gap("temp", 2.0, 3.0, "BLE sensor out of reach", "ble-temp"))
    with caplog.at_level("WARNING", logger="emotrace.firmware_bridge"):
        temp = recorder.to_recording("two thermometers").channels["temp"]
    assert set(temp.values) == {33.0} and temp.gaps == []
    assert "temp comes from board and ble-temp; read from board only" in caplog.text


def test_one_reading_first_from_a_link_that_then_went_away_does_not_hide_another_links_signal(caplog):
    recorder = Recorder()
    recorder(Sample("temp", 0.2, 36.5, "ble-temp"))  # one reading, then out of reach for good
    samples(recorder, "temp", np.arange(0.0, 120.0, 0.25), 33.0, "board")
    with caplog.at_level("WARNING", logger="emotrace.firmware_bridge"):
        temp = recorder.to_recording("board + thermometer").channels["temp"]
    assert temp.values.size == 480 and set(temp.values) == {33.0}
    assert recorder.link_for(("temp",)) == "board"
    assert "temp comes from ble-temp and board; read from board only, which delivered most of it" in caplog.text


def test_a_links_missing_readings_do_not_count_towards_reading_a_channel_from_it():
    recorder = Recorder()
    samples(recorder, "temp", np.arange(0.0, 60.0, 0.25), float("nan"), "board")  # an unplugged thermistor
    samples(recorder, "temp", np.arange(0.1, 24.1, 1.0), 33.5, "ble-temp")
    assert recorder.link_for(("temp",)) == "ble-temp"
    assert set(recorder.to_recording("board + thermometer").channels["temp"].values) == {33.5}


def test_a_recording_since_a_time_holds_only_what_was_stamped_from_then_on_acc_included():
    recorder = Recorder()
    samples(recorder, "eda", np.arange(0, 120, 0.25), 2.0, "board")
    for i in range(32 * 120):
        for axis in ("acc_x", "acc_y", "acc_z"):
            recorder(Sample(axis, i / 32, 0.5, "board"))
    recorder(Gap("*", 10.0, 20.0, "frames lost", "board"))
    recorder(Gap("*", 95.0, 100.0, "frames lost", "board"))
    tail = recorder.to_recording("live", since_s=90.0)
    whole = recorder.to_recording("live")
    for name in ("eda", "acc"):
        kept = whole.channels[name].times_s >= 90.0
        np.testing.assert_array_equal(tail.channels[name].times_s, whole.channels[name].times_s[kept])
        np.testing.assert_array_equal(tail.channels[name].values, whole.channels[name].values[kept])
        assert tail.channels[name].rate_hz == pytest.approx(whole.channels[name].rate_hz)
        assert tail.channels[name].gaps == [(95.0, 100.0)]  # the gap long before is not carried


def test_a_recording_since_a_moment_inside_a_dropout_keeps_its_gap():
    # a live window is cut this way: one starting inside a dropout would otherwise read its hole as no hole at all
    recorder = Recorder()
    samples(recorder, "eda", [t for t in np.arange(0, 30, 0.25) if not 10 <= t < 20], 2.0, "serial-board")
    recorder(Gap("*", 9.75, 20.0, "3 frame(s) lost or corrupt", "serial-board"))
    recorder(Gap("*", 2.0, 3.0, "frames lost", "serial-board"))  # ended before the window: not carried
    assert recorder.to_recording("live", since_s=15.0).channels["eda"].gaps == [(9.75, 20.0)]
