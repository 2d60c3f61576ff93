"""Alignment edges: the time a grid window stands for by default, and a probability a track puts on a label it
lists as unsupported, which is no evidence and no share of the claim."""

from __future__ import annotations

import numpy as np
import pytest

from runtime.fusion.align import align_tracks, grid_stands_for_s
from runtime.track import CANONICAL_LABELS, Track, Window
from tests.fusion.rows import L


def test_by_default_a_grid_window_stands_for_the_grids_smallest_step_around_its_centre():
    grid = np.array([[0.0, 2.0], [0.5, 2.5], [2.0, 4.0]])  # steps 0.5 and 1.5
    assert grid_stands_for_s(grid).tolist() == [[0.75, 1.25], [1.25, 1.75], [2.75, 3.25]]


def test_mass_a_track_puts_on_a_label_it_lists_unsupported_is_no_share_of_its_claim():
    row = [0.0] * 8
    row[L["calm"]], row[L["happy"]], row[L["sad"]] = 0.5, 0.45, 0.05
    face = Track("face", list(CANONICAL_LABELS), [Window(0.0, 2.0, row, 1.0)], ["calm"], {"id": "some-face"})
    probs = align_tracks([face], 2.0, 0.5).emotion.probs[0, 0]
    assert probs[L["calm"]] == 0.0
    assert probs.sum() == pytest.approx(1.0)
    assert probs[L["happy"]] == pytest.approx(0.9)
