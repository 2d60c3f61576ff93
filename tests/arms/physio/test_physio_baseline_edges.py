"""The limits at which the physio arm gives a stress figure (runtime/arms/physio/arm.py, stress.py): a recording of
exactly the baseline's length (MIN_BASELINE_S) has one, and a probability of exactly one half is not called
stress (the track leads with no_stress, its first label)."""

from __future__ import annotations

import csv

import numpy as np

from runtime.arms.physio.stress import MIN_BASELINE_S, called_stress
from runtime.cli import main


def test_a_recording_exactly_as_long_as_the_baseline_gets_stress_figures(tmp_path):
    rows = int(MIN_BASELINE_S * 4)  # 4 Hz: the last sample's period ends at 300.0 s
    path = tmp_path / "exact.csv"
    path.write_text("time_s,eda\n" + "\n".join(f"{i * 0.25},{1.0 + 0.01 * (i % 7)}" for i in range(rows)) + "\n")
    out = tmp_path / "out.csv"
    assert main(["physio", "classify", str(path), "--csv", str(out)]) == 0
    reasons = {r["reason"] for r in csv.DictReader(out.open())}
    assert not any("too short" in reason for reason in reasons), reasons


def test_a_stress_probability_of_one_half_is_not_called_stress():
    assert called_stress(np.array([0.5, 0.5000001, 0.4999999])).tolist() == [False, True, False]
