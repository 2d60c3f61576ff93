import json
import math

import numpy as np
import pytest

from runtime.track import CANONICAL_LABELS, Track, Window, normalise_probs, window_grid


def _track() -> Track:
    return Track(
        name="audio",
        windows=[
            Window(0.0, 2.0, normalise_probs([1, 2, 3, 4, 5, 6, 7, 8.123456789]), 0.8, "",
                   {"f0_median_hz": 123.456789012345, "jitter_local": math.nan, "odd": math.inf}),
            Window(0.5, 2.5, None, 0.0, "no speech", {"speech_fraction": 0.0}),
        ],
        model={"id": "m", "version": "1"},
        settings={"window_s": 2.0},
    )


def test_track_round_trips_exactly_through_json_including_nan_and_inf():
    track = _track()
    text = json.dumps(track.to_dict(), allow_nan=False)
    back = Track.from_dict(json.loads(text))
    assert back.to_dict() == track.to_dict()
    assert back.windows[0].probs == track.windows[0].probs  # floats bit-exact
    assert math.isnan(back.windows[0].measurements["jitter_local"])
    assert back.windows[0].measurements["odd"] == math.inf
    assert back.windows[1].probs is None and back.windows[1].reason == "no speech"


def test_track_rejects_canonical_labels_out_of_order():
    with pytest.raises(ValueError):
        Track(name="x", labels=["happy", "neutral"])
    Track(name="physio", labels=["stress"])  # non-canonical labels are allowed


def test_probs_matrix_puts_zero_for_labels_the_track_lacks_and_nan_for_no_claim():
    track = Track(name="face", labels=["neutral", "happy"], unsupported_labels=["calm"],
                  windows=[Window(0, 1, [0.25, 0.75], 1.0), Window(1, 2, None, 0.0, "no face")])
    matrix = track.probs_matrix()
    assert matrix.shape == (2, len(CANONICAL_LABELS))
    assert matrix[0, CANONICAL_LABELS.index("happy")] == 0.75
    assert matrix[0, CANONICAL_LABELS.index("sad")] == 0.0
    assert np.isnan(matrix[1]).all()


def test_window_grid_covers_the_recording_with_regular_hops():
    grid = window_grid(3.2, 2.0, 0.5)
    assert grid[0] == (0.0, 2.0)
    assert all(b[0] - a[0] == pytest.approx(0.5) for a, b in zip(grid, grid[1:], strict=False))
    assert grid[-1][1] == pytest.approx(3.2)
    assert window_grid(1.2, 2.0, 0.5) == [(0.0, 1.2)]
    assert window_grid(0.0, 2.0, 0.5) == []


def test_normalise_probs_sums_to_one_and_handles_all_zero():
    assert sum(normalise_probs([1, 3])) == pytest.approx(1.0)
    assert normalise_probs([0, 0, 0, 0]) == [0.25] * 4
