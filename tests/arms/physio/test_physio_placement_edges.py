"""Where a physio recording lands on the video clock at the video's edges (runtime/arms/physio/arm.py): a recording
that ends exactly where the video starts, or starts exactly where it ends, is 'no overlap' (not the later 'overlaps
too little'); a window centred within a millisecond of the end keeps the shortest span but never runs past the video."""

from __future__ import annotations

import pytest

from runtime.arms.physio.arm import MIN_SHOWN_HALF_S, resolve_offset, shown_span
from runtime.arms.physio.recording import Recording
from runtime.errors import InputError


def _ten_minutes() -> Recording:
    recording = Recording("rec.csv", {}, start_unix_s=None)
    recording.channels["eda"] = type("C", (), {"end_s": 600.0})()  # only end_s is read (as test_physio_arm does)
    return recording


def test_a_recording_that_ends_exactly_where_the_video_starts_has_no_overlap():
    with pytest.raises(InputError, match=r"no overlap with the video: the recording covers -600\.0\.\.0\.0 s"):
        resolve_offset(_ten_minutes(), video_duration_s=300.0, offset_s=-600.0, video_start_unix_s=None)


def test_a_recording_that_starts_exactly_where_the_video_ends_has_no_overlap():
    with pytest.raises(InputError, match=r"no overlap with the video: the recording covers 300\.0\.\.900\.0 s"):
        resolve_offset(_ten_minutes(), video_duration_s=300.0, offset_s=300.0, video_start_unix_s=None)


def test_a_recording_overlapping_the_video_by_a_moment_at_either_edge_is_placed():
    assert resolve_offset(_ten_minutes(), 300.0, -599.9, None)[0] == -599.9
    assert resolve_offset(_ten_minutes(), 300.0, 299.9, None)[0] == 299.9


def test_a_window_centred_within_a_millisecond_of_the_videos_end_never_runs_past_it():
    start_s, end_s = shown_span(0.0, 60.0, 0.0, 30.0005)  # centre 30 s, 0.5 ms before the end
    assert end_s == 30.0005  # was (mutant): 30.001, past the video
    assert start_s == pytest.approx(30.0 - MIN_SHOWN_HALF_S)
