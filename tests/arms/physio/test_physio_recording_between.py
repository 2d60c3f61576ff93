"""A live window's stretch of the recording (runtime/arms/physio/recording.py, Recording.between) leaves out a channel
with no samples there quietly: a sensor that stopped is no channel 'read without it' at every window."""

from __future__ import annotations

import numpy as np

from runtime.arms.physio.recording import Channel, Recording


def test_a_stretch_where_a_channel_has_no_samples_leaves_it_out_without_a_warning(caplog):
    eda = Channel("eda", "uS", np.arange(0.0, 100.0), np.full(100, 2.0), rate_hz=1.0)
    temp = Channel("temp", "C", np.arange(0.0, 30.0), np.full(30, 33.0), rate_hz=1.0)  # the thermometer stopped
    recording = Recording("board", {"eda": eda, "temp": temp})
    with caplog.at_level("WARNING"):
        part = recording.between(40.0, 60.0)
    assert list(part.channels) == ["eda"]
    assert caplog.messages == []
