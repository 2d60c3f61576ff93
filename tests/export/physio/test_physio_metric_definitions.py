"""The report's BA is balanced accuracy (the mean of the two recalls), not accuracy, and its macro-F1 is the mean of
the two classes' F1, not BA: told apart only where the classes are unequal, as they are in Stress-Predict (about
a third of the windows stress)."""

from __future__ import annotations

import numpy as np
import pytest

from export.physio import train


def _always_calm() -> dict:
    # 1 stress window and 9 calm ones, every window called calm
    return {"S90": (np.full(10, 0.1), np.array([1] + [0] * 9))}


def test_balanced_accuracy_is_the_mean_of_the_recalls_not_the_share_of_windows_right():
    figures = train.evaluate(_always_calm())
    assert figures["balanced_accuracy"] == pytest.approx(0.5)  # accuracy would be 0.9


def test_macro_f1_is_the_mean_of_the_two_classes_f1():
    figures = train.evaluate(_always_calm())
    calm_f1 = 2 * 0.9 * 1.0 / (0.9 + 1.0)  # precision 9/10, recall 1; stress F1 is 0
    assert figures["macro_f1"] == pytest.approx(calm_f1 / 2)
