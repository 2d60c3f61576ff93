"""Measurements on the fusion grid: averaged by the time each window stands for alone (not by its quality), with
a quality that counts only the time covered by windows that measured them."""

from __future__ import annotations

import pytest

from runtime.fusion.align import align_tracks
from runtime.track import Track, Window


def _body(windows):
    return Track("body", [], [Window(s, e, None, q, "", m) for s, e, q, m in windows], [], {"id": "body-pose"})


def test_a_grid_window_between_two_body_windows_takes_their_plain_mean_whatever_their_quality():
    body = _body([(0.0, 2.0, 1.0, {"activation": 0.2}), (1.0, 3.0, 0.2, {"activation": 0.8})])
    aligned = align_tracks([body], 2.0, 0.5, grid=[(0.5, 2.5)])  # stands for 1.25-1.75: half in each
    assert aligned.measurements["body"]["activation"][0] == pytest.approx(0.5)


def test_the_quality_of_a_measurement_counts_only_the_time_the_windows_that_measured_it_cover():
    body = _body([(0.0, 2.0, 1.0, {"activation": 0.6, "motion": 0.1}), (2.0, 4.0, 1.0, {"motion": 0.3})])
    aligned = align_tracks([body], 2.0, 0.5, grid=[(1.0, 3.0)])
    assert aligned.measurement_quality["body"]["motion"][0] == pytest.approx(1.0)
    assert aligned.measurement_quality["body"]["activation"][0] == pytest.approx(0.5)  # 1-2 s of 1-3 s measured
