"""benchmarks/live_fusion_lag.py: how far a window fused as soon as it ends is from file mode's."""

from __future__ import annotations

import pytest

from benchmarks.live_fusion_lag import largest_live_gap
from runtime.track import CANONICAL_LABELS, Track, Window


def _row(label: str, p: float) -> list[float]:
    row = [(1 - p) / (len(CANONICAL_LABELS) - 1)] * len(CANONICAL_LABELS)
    row[CANONICAL_LABELS.index(label)] = p
    return row


def _voice() -> Track:
    return Track("audio", windows=[Window(0.5 * k, 0.5 * k + 2.0, _row("sad", 0.8), 1.0) for k in range(9)])


def test_tracks_on_the_grid_end_with_its_windows_so_live_and_file_mode_agree():
    assert largest_live_gap([_voice()], "quality") == pytest.approx(0.0, abs=1e-9)


def test_a_face_window_ending_after_the_grid_window_is_missing_live_and_the_gap_says_how_much_it_moves():
    # the face's 2-4 s window ends after the 1.5-3.5 s grid window, whose fused spectrum file mode takes half from it
    face = Track("face", windows=[Window(float(k), k + 2.0, _row("happy", 0.9), 1.0) for k in range(4)],
                 unsupported_labels=["calm"])
    assert largest_live_gap([_voice(), face], "quality") > 0.01
