"""A gap on one accelerometer axis (a board's per-channel gap on ``acc_x``) is a gap on the one ``acc`` channel the
features read (docs/physio.md, "Live sensors": a board's acc_x/y/z become the one three-axis acc channel)."""

from __future__ import annotations

from firmware_bridge.link import Gap, Recorder, Sample


def test_a_gap_on_one_accelerometer_axis_is_a_gap_on_the_acc_channel():
    recorder = Recorder()
    for i in range(40):
        t_s = i * 0.25
        if 2.0 < t_s < 5.0:
            continue
        for axis, value in (("acc_x", 0.0), ("acc_y", 0.0), ("acc_z", 1.0)):
            recorder(Sample(axis, t_s, value, "serial-board"))
    recorder(Gap("acc_x", 2.0, 5.0, "no acc_x reading from the board for 3.0 s", "serial-board"))
    recording = recorder.to_recording()
    assert recording.gaps()["acc"] == [(2.0, 5.0)]
