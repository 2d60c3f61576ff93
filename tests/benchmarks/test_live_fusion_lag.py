"""benchmarks/live_fusion_lag.py: how far a window fused as soon as it ends is from file mode's."""

from __future__ import annotations

import pytest

from benchmarks.live_fusion_lag import live_gap
from runtime.fusion.live import LiveFusion
from runtime.track import CANONICAL_LABELS, Track, Window


def _row(label: str, p: float) -> list[float]:
    row = [(1 - p) / (len(CANONICAL_LABELS) - 1)] * len(CANONICAL_LABELS)
    row[CANONICAL_LABELS.index(label)] = p
    return row


def _voice() -> Track:
    # a different label from window to window, so that a live window fused over the wrong voice window differs
    return Track("audio", windows=[Window(0.5 * k, 0.5 * k + 2.0, _row(CANONICAL_LABELS[k % 8], 0.8), 1.0)
                                   for k in range(9)])


def test_tracks_on_the_grid_end_with_its_windows_so_live_and_file_mode_agree():
    gap = live_gap([_voice()], "quality")
    assert gap.largest == pytest.approx(0.0, abs=1e-9)
    assert gap.compared == 9 and gap.live_silent == 0


def test_a_label_no_modality_of_a_window_can_name_is_compared_as_0_in_both_modes():
    # a face alone: the fused windows give calm no probability (None), in file mode and live mode alike
    face = Track("face", windows=[Window(0.5 * k, 0.5 * k + 2.0, _row("happy", 0.8), 1.0) for k in range(9)],
                 unsupported_labels=["calm"])
    gap = live_gap([face], "quality")
    assert gap.largest == pytest.approx(0.0, abs=1e-9) and gap.compared == 9


def test_a_live_window_fused_over_the_wrong_time_is_a_gap(monkeypatch):
    # was: 0.0, every voice window the same spectrum and a live window without a claim left out unseen
    window = LiveFusion.window

    def early(self: LiveFusion, tracks: list[Track], start_s: float, end_s: float) -> Window:
        # the grid window 1.5 s earlier than asked; none before the session starts
        return window(self, tracks, start_s - 1.5, end_s - 1.5) if start_s >= 1.5 else Window(start_s, end_s)

    monkeypatch.setattr(LiveFusion, "window", early)
    gap = live_gap([_voice()], "quality")
    assert gap.largest > 0.5 and (gap.compared, gap.live_silent) == (6, 3)


def test_a_live_window_without_a_claim_where_file_mode_claims_is_counted(monkeypatch):
    monkeypatch.setattr(LiveFusion, "window", lambda self, tracks, start_s, end_s: Window(start_s, end_s, None, 0.0))
    gap = live_gap([_voice()], "quality")
    assert (gap.compared, gap.live_silent, gap.largest) == (0, 9, 0.0)


def test_a_face_window_ending_after_the_grid_window_is_missing_live_and_the_gap_says_how_much_it_moves():
    # the face's 2-4 s window ends after the 1.5-3.5 s grid window, whose fused spectrum file mode takes half from it
    face = Track("face", windows=[Window(float(k), k + 2.0, _row("happy", 0.9), 1.0) for k in range(4)],
                 unsupported_labels=["calm"])
    gap = live_gap([_voice(), face], "quality")
    assert gap.largest > 0.01 and gap.compared > 0
