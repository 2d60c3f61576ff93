"""The model's input settings that no test pinned (each found by a mutation of model.py that the tests before let
pass)."""

from __future__ import annotations

import numpy as np
import pytest

from runtime.arms.physio.model import input_settings_problem, model_inputs, running_inputs


@pytest.mark.parametrize("inputs", [model_inputs, running_inputs])
def test_a_local_baseline_of_one_window_is_no_baseline_and_adds_no_block(inputs):
    features = np.arange(12, dtype=float).reshape(6, 2)
    assert inputs(features, np.ones(6), 3, local_baseline_windows=1).shape == (6, 4)
    assert inputs(features, np.ones(6), 3, local_baseline_windows=2).shape == (6, 6)


@pytest.mark.parametrize(("settings", "problem"), [
    ({"context_windows": 0}, "context_windows 0 is not a whole number of windows (at least 1)"),
    ({"live_baseline_s": float("inf")}, "live_baseline_s inf is not a number of seconds (0 or more)"),
])
def test_a_card_s_input_setting_out_of_range_is_named(settings, problem):
    assert input_settings_problem(settings) == problem
    assert input_settings_problem({}) == ""
