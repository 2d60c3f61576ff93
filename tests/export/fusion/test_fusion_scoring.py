"""The paired comparison's figures (export.fusion.evaluate) on hand-built cases whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from export.fusion import evaluate
from export.fusion.evaluate import check_targets, compare, markdown_report, scores, single_modality, with_missing
from export.fusion.pairs import pair_tables
from export.fusion.synthetic import synthetic_table
from runtime.fusion.align import FusionInput
from runtime.track import CANONICAL_LABELS


def _confident(predicted) -> np.ndarray:
    return np.eye(len(CANONICAL_LABELS))[predicted] * 0.6 + 0.4 / len(CANONICAL_LABELS)


def test_scores_give_ua_and_macro_f1_over_the_classes_present_on_an_imbalanced_case():
    targets = np.array([0, 0, 0, 0, 1, 1])
    predicted = np.array([0, 0, 0, 1, 1, 3])  # 3 is never a target
    s = scores(_confident(predicted), targets)
    assert s["ua"] == pytest.approx((3 / 4 + 1 / 2) / 2)  # plain accuracy would be 4/6
    assert s["accuracy"] == pytest.approx(4 / 6)
    # F1 of class 0: precision 1, recall 3/4; of class 1: 1/2 and 1/2. Class 3 (predicted only) does not count.
    assert s["macro_f1"] == pytest.approx((6 / 7 + 1 / 2) / 2)


def _results(ua: dict[str, float], missing: dict[str, dict[str, float]]) -> dict:
    row = {name: {"ua": value, "macro_f1": 0.0, "ece": 0.0, "accuracy": 0.0} for name, value in ua.items()}
    out = {"all present": row}
    for condition, values in missing.items():
        out[condition] = {name: {"ua": value, "macro_f1": 0.0, "ece": 0.0, "accuracy": 0.0}
                          for name, value in values.items()}
    return out


def test_targets_compare_with_the_best_single_and_the_best_remaining_single_modality():
    results = _results(
        {"audio only": 0.6, "face only": 0.4, "mean": 0.7, "product": 0.5},
        {"audio missing 30%": {"mean": 0.45, "product": 0.3}, "face missing 30%": {"mean": 0.62, "product": 0.65}},
    )
    t = check_targets(results, ["audio", "face"], ["mean", "product"], 0.3)
    assert t["best_single_ua"] == 0.6 and t["best_method"] == "mean"
    assert t["gain_points"] == pytest.approx(10.0) and t["gain_met"]
    audio_missing = t["missing"]["audio missing 30%"]
    # audio is the missing one: the floor is face's 0.4, not audio's own 0.6
    assert audio_missing["best_remaining_single_ua"] == 0.4
    assert audio_missing["met_by"] == {"mean": True, "product": False}
    assert t["missing"]["face missing 30%"]["best_remaining_single_ua"] == 0.6


def test_the_markdown_report_puts_each_figure_under_its_own_column():
    results = {"all present": {"mean": {"ua": 0.111, "macro_f1": 0.222, "ece": 0.333, "accuracy": 0.444},
                               "audio only": {"ua": 0.1, "macro_f1": 0.1, "ece": 0.1, "accuracy": 0.1}},
               "audio missing 30%": {"mean": {"ua": 0.1, "macro_f1": 0.1, "ece": 0.1, "accuracy": 0.1}}}
    report = {"results": results, "targets": check_targets(results, ["audio"], ["mean"], 0.3)}
    lines = markdown_report(report).splitlines()
    assert lines[0] == "| condition | method | UA | macro-F1 | ECE | accuracy |"
    assert "| all present | mean | 0.111 | 0.222 | 0.333 | 0.444 |" in lines


def test_the_comparison_fits_on_the_training_people_and_scores_on_the_test_people(monkeypatch):
    audio = synthetic_table("audio", [f"spk{i}" for i in range(6)], 2, skill=1.5, seed=1)
    face = synthetic_table("face", [f"img{i}" for i in range(30)], 2, skill=1.5, unsupported=["calm"], seed=2)
    # a third of the speakers held out, so the two parts differ in size
    paired = pair_tables([audio, face], test_fraction=1 / 3, sessions_per_person=2, windows_per_session=8, seed=0)
    is_test = paired.split == "test"
    fitted_on = []
    fit_methods = evaluate.fit_methods

    def spy(methods, train, targets, weights=None):
        fitted_on.append((train, targets))
        return fit_methods(methods, train, targets, weights)

    monkeypatch.setattr(evaluate, "fit_methods", spy)
    report = compare(paired, ["mean", "accuracy"])
    assert report["windows"] == {"train": int((~is_test).sum()), "test": int(is_test.sum())}
    assert is_test.sum() != (~is_test).sum()
    counts = dict(zip(*np.unique(paired.targets[is_test], return_counts=True), strict=True))
    assert report["class_counts_test"] == {CANONICAL_LABELS[c]: int(n) for c, n in counts.items()}
    (train, targets), = fitted_on
    assert set(train.sequence.tolist()) == set(paired.data.sequence[~is_test].tolist())
    assert targets.tolist() == paired.targets[~is_test].tolist()


def test_a_single_modality_guesses_uniformly_where_it_is_missing():
    # blanked as compare blanks its conditions: quality 0, the old probabilities still in the array
    probs = np.zeros((50, 2, len(CANONICAL_LABELS)))
    probs[:, :, 2] = 1.0
    data = FusionInput(["audio", "face"], probs, np.ones((50, 2)), np.ones((2, 8), dtype=bool), np.zeros(50, int))
    holed = with_missing(data, "face", 0.3, seed=1)
    face = single_modality(holed, "face")
    blank = ~holed.present[:, 1]
    assert blank.any() and np.allclose(face[blank], 1 / len(CANONICAL_LABELS))
    assert np.all(face[~blank].argmax(1) == 2)
