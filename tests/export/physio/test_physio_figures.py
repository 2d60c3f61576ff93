"""The stress model's figures: which windows are labelled, which subjects and draws a figure counts, the split."""


import numpy as np
import pytest

from export.physio import dataset, train
from tests.export.physio.training_inputs import stand_in_windows


def _labels(seconds: int, stress_from: int) -> tuple[np.ndarray, np.ndarray]:
    times = 1000.0 + np.arange(seconds)
    return times, (times >= 1000.0 + stress_from).astype(float)


def test_a_window_with_exactly_80_percent_of_its_seconds_labelled_is_kept(tmp_path, monkeypatch):
    stand_in_windows(monkeypatch, [(0.0, 30.0), (20.0, 50.0), (25.0, 55.0)])
    windows = dataset.subject_windows(tmp_path, "S02", _labels(44, 30), 30.0, 5.0)  # seconds 0-43 labelled
    # 20-50: 24 of 30 seconds labelled (80 %), 14 of them stress; 25-55: 19 of 30, too few
    assert windows.stress_fraction[1] == pytest.approx(14 / 24)
    assert np.isnan(windows.stress_fraction[2]) and windows.stress_fraction[0] == 0.0


def test_a_window_cut_short_by_the_end_of_the_recording_is_not_labelled(tmp_path, monkeypatch):
    stand_in_windows(monkeypatch, [(70.0, 100.0), (75.0, 104.0)])  # the grid's tail: 29 s, every second labelled
    windows = dataset.subject_windows(tmp_path, "S02", _labels(110, 0), 30.0, 5.0)
    assert windows.stress_fraction[0] == 1.0 and np.isnan(windows.stress_fraction[1])


def test_a_subject_whose_windows_hold_one_class_has_no_per_subject_balanced_accuracy():
    predictions = {
        "S90": (np.array([0.9, 0.2, 0.8, 0.1]), np.array([1, 1, 0, 0])),  # half right
        "S91": (np.array([0.9, 0.9]), np.array([0, 0])),  # calm only: a recall, no balanced accuracy
    }
    figures = train.evaluate(predictions)
    assert figures["per_subject_ba"] == {"S90": 0.5}
    assert figures["per_subject_ba_min"] == 0.5 and figures["subjects"] == 2


def test_the_per_subject_spread_is_the_population_sd_as_the_shipped_cards_figures_are():
    # models/physio-stress/card.json: development 0.842 +- 0.062 is np.std (ddof 0) of its per-subject figures
    predictions = {"S90": (np.array([0.9, 0.1]), np.array([1, 0])), "S91": (np.array([0.9, 0.9]), np.array([1, 0]))}
    figures = train.evaluate(predictions)
    assert figures["per_subject_ba"] == {"S90": 1.0, "S91": 0.5}
    assert figures["per_subject_ba_sd"] == pytest.approx(0.25)


def test_a_subject_draw_without_stress_or_without_calm_windows_is_left_out_of_the_interval():
    # A: stress windows only, all right; B: calm windows only, all wrong. AB pools to 0.5; AA and BB have no BA
    # (scored over the class they have they would give 1.0 and 0.0)
    predictions = {"A": (np.array([0.9, 0.9]), np.array([1, 1])), "B": (np.array([0.9, 0.9]), np.array([0, 0]))}
    assert train.subject_bootstrap_interval(predictions, resamples=400) == [0.5, 0.5]


def test_the_held_out_subjects_are_kept_out_of_the_development_ones(tmp_path):
    from tests.physio_factory import write_labels

    (tmp_path / "raw").mkdir()
    write_labels(tmp_path, [f"{p},80,12,{1000 + i},{i % 2}" for p in (2, 3, 4, 5, 9, 30) for i in range(2)])
    subjects, development, held_out = train.split_subjects(tmp_path, ("S04", "S09", "S13"))
    assert subjects == ["S02", "S03", "S04", "S05", "S09", "S30"]
    assert development == ["S02", "S03", "S05", "S30"] and held_out == ["S04", "S09"]  # S13 has no labels


def test_held_out_subjects_whose_windows_each_hold_one_class_give_figures_and_say_there_is_no_spread():
    predictions = {"S90": (np.array([0.9, 0.8]), np.array([1, 1])), "S91": (np.array([0.9, 0.1]), np.array([0, 0]))}
    figures = train.evaluate(predictions)  # was: a ValueError (the minimum of no subject) after all the fitting
    assert figures["balanced_accuracy"] == pytest.approx(0.75) and figures["per_subject_ba"] == {}
    assert figures["per_subject_ba_mean"] is None and figures["per_subject_ba_max"] is None
    assert train.per_subject_text(figures) == "none (no subject's windows hold both classes)"


def test_a_window_at_exactly_one_half_counts_as_the_no_stress_the_track_leads_with():
    from runtime.arms.physio.arm import two_class
    from runtime.track import leading_label_index

    labels = ["no_stress", "stress"]  # the shipped card's order
    assert labels[leading_label_index(two_class(labels, 0.5))] == "no_stress"
    predictions = {"S90": (np.array([0.5, 0.9, 0.1, 0.2]), np.array([0, 1, 0, 0]))}
    figures = train.evaluate(predictions)
    assert figures["per_subject_ba"] == {"S90": 1.0} and figures["balanced_accuracy"] == 1.0
