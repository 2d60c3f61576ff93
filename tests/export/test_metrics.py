import numpy as np
import pytest

from export.metrics import classification_metrics, expected_calibration_error


def test_ece_is_zero_for_honest_confidence_and_the_gap_otherwise():
    y = np.array([0, 0, 1, 1])
    sure_right = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    assert expected_calibration_error(y, sure_right) == pytest.approx(0.0)
    half_right = np.array([[0.8, 0.2], [0.8, 0.2], [0.8, 0.2], [0.8, 0.2]])  # 80 % sure, 50 % right
    assert expected_calibration_error(y, half_right) == pytest.approx(0.3)


def test_a_confidence_floor_spreads_the_bins_over_the_range_a_two_class_model_uses():
    y = np.array([1, 1, 0, 0])
    probs = np.array([[0.45, 0.55], [0.05, 0.95], [0.55, 0.45], [0.95, 0.05]])
    # [0, 1] bins put 0.55 and 0.95 in different bins either way; what changes is where the edges fall.
    assert expected_calibration_error(y, probs, confidence_floor=0.5) == pytest.approx(0.5 * 0.45 + 0.5 * 0.05)


def test_unclaimed_items_count_as_wrong_and_recall_is_per_class():
    y = np.array([0, 0, 1, 1])
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.9, 0.1]])
    metrics = classification_metrics(y, probs, ["a", "b"], claimed=np.array([True, False, True, True]))
    assert metrics["recall"] == {"a": 0.5, "b": 0.5}
    assert metrics["ua"] == pytest.approx(0.5) and metrics["wa"] == pytest.approx(0.5)
    assert metrics["no_claim"] == 1
