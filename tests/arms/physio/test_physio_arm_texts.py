"""What the physio arm (runtime/arms/physio/arm.py) says and makes: the refusal's video span where the video's header
gives no length, and a live session's track, whose windows run to the session's end past where its sensors stopped."""

from __future__ import annotations

import math

import numpy as np
import pytest

from runtime.arms.physio.arm import resolve_offset
from runtime.arms.physio.recording import Channel, Recording
from runtime.errors import InputError
from tests.arms.physio.stand_ins import skin_temperature


def test_a_refusal_for_a_video_whose_header_gives_no_length_says_so_not_inf():
    with pytest.raises(InputError) as refused:
        resolve_offset(skin_temperature(0.0, 600.0), math.inf, -1000.0, None)  # ends 400 s before the video starts
    assert "the video from 0.0 s (its header gives no length)" in str(refused.value)
    assert "inf" not in str(refused.value)


def test_a_live_sessions_physio_track_runs_to_the_sessions_end_past_where_its_sensors_stopped():
    from runtime.arms.physio.arm import WINDOWS_IN_SESSION, physio_track
    from runtime.arms.physio.stress import PhysioSettings, load_physio_model

    times_s = np.arange(24) / 4  # a board's EDA to 6 s in a 25 s session
    recording = Recording("serial-board", {"eda": Channel("eda", "uS", times_s, 2.0 + 0.01 * (times_s % 3), 4.0)})
    track = physio_track(recording, load_physio_model(), PhysioSettings(window_s=5.0, hop_s=5.0), 0.0, 25.0,
                         sync="live session clock", live=True)
    assert track.settings["windows"] == WINDOWS_IN_SESSION
    assert track.windows[-1].end_s == 25.0  # quality 0 where no sensor delivered, not cut where the board stopped
    assert all(w.quality == 0.0 for w in track.windows if w.start_s >= 6.0)
    assert {w.reason for w in track.windows} >= {"recording too short for a session baseline (sensor samples to "
                                                 "6.0 s of the session's 25.0 s, under 300 s)"}
