"""The limits of a session baseline as the physio arm says them (runtime/arms/physio/arm.py): a session of exactly
MIN_BASELINE_WINDOWS windows has one (the limit is 'fewer than', as its reason says), and a recording just short of
MIN_BASELINE_S never reads as having reached it (runtime/clock.py, seconds_below)."""

from __future__ import annotations

import csv

from runtime.arms.physio.stress import MIN_BASELINE_S, MIN_BASELINE_WINDOWS
from runtime.cli import main


def test_a_recording_of_exactly_the_fewest_windows_for_a_baseline_gets_stress_figures(tmp_path):
    rows = int(MIN_BASELINE_S * 4)  # 4 Hz to 300.0 s
    path = tmp_path / "ten_windows.csv"
    path.write_text("time_s,eda\n" + "\n".join(f"{i * 0.25},{1.0 + 0.01 * (i % 7)}" for i in range(rows)) + "\n")
    out = tmp_path / "out.csv"
    window_s = MIN_BASELINE_S / MIN_BASELINE_WINDOWS  # 30 s windows, no overlap: exactly ten
    assert main(["physio", "classify", str(path), "--csv", str(out), "--window-s", f"{window_s:g}",
                 "--hop-s", f"{window_s:g}"]) == 0
    windows = list(csv.DictReader(out.open()))
    assert len(windows) == MIN_BASELINE_WINDOWS
    assert not any("too few windows" in w["reason"] for w in windows), {w["reason"] for w in windows}


def test_a_recording_just_short_of_the_baseline_never_reads_as_the_baseline():
    from runtime.arms.physio.arm import too_short_reason

    assert too_short_reason(299.96, None) == "recording too short for a session baseline (299.9 s < 300 s)"
    assert too_short_reason(299.96, 299.98) == ("recording too short for a session baseline (sensor samples to "
                                                "299.9 s of the session's 299.9 s, under 300 s)")
