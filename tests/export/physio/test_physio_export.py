"""Training-host pieces: window labels, metrics, and the ONNX export read back through the model interface."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest

from export.physio import train
from export.physio.dataset import SubjectWindows, load_dataset, window_stress_fraction
from export.physio.export import export_physio
from export.physio.train import (
    BLE_STRAP,
    E4,
    EDA_FEATURES,
    HEART_FEATURES,
    MODEL_FEATURES,
    MOTION_FEATURES,
    SERIAL_BOARD,
    balanced_rows,
    evaluate,
    fit_xy,
    stress_calibration_error,
    subject_bootstrap_interval,
)
from runtime.arms.physio.features import MEASUREMENTS
from runtime.errors import InputError
from runtime.models import load_model
from runtime.models.card import REPO_MODELS_DIR
from tests.export.cards import assert_card_as_exports_write_it
from tests.export.physio.training_inputs import subject_session, trained_folder
from tests.physio_factory import write_labels


def test_window_label_is_the_share_of_labelled_stress_seconds_inside_it():
    times = 1000.0 + np.arange(100)
    labels = (times >= 1050).astype(float)
    assert window_stress_fraction(times, labels, 1040.0, 1060.0) == (1.0, 0.5)
    covered, fraction = window_stress_fraction(times, labels, 1090.0, 1110.0)
    assert covered == 0.5 and fraction == 1.0  # only 10 of its 20 seconds are labelled
    assert window_stress_fraction(times, labels, 2000.0, 2060.0)[0] == 0.0


def test_ece_is_the_gap_between_confidence_and_accuracy():
    y = np.array([1, 1, 0, 0])
    assert stress_calibration_error(np.array([0.9, 0.9, 0.1, 0.1]), y) == pytest.approx(0.1)
    assert stress_calibration_error(np.array([1.0, 1.0, 0.0, 0.0]), y) == pytest.approx(0.0)


def test_evaluate_reports_balanced_accuracy_and_per_subject_spread():
    predictions = {
        "S90": (np.array([0.9, 0.8, 0.2, 0.1]), np.array([1, 1, 0, 0])),  # all right
        "S91": (np.array([0.9, 0.2, 0.8, 0.1]), np.array([1, 1, 0, 0])),  # half right
    }
    m = evaluate(predictions)
    assert m["balanced_accuracy"] == pytest.approx(0.75)
    assert m["per_subject_ba"] == {"S90": 1.0, "S91": 0.5}
    assert m["per_subject_ba_min"] == 0.5 and m["windows"] == 8


def test_interval_over_subjects_is_wide_when_subjects_disagree_and_closed_when_they_agree():
    right = (np.array([0.9, 0.8, 0.2, 0.1]), np.array([1, 1, 0, 0]))
    wrong = (np.array([0.1, 0.2, 0.8, 0.9]), np.array([1, 1, 0, 0]))
    low, high = subject_bootstrap_interval({f"S{i}": right for i in range(10)})
    assert low == high == 1.0
    mixed = {f"S{i}": right if i < 5 else wrong for i in range(10)}
    low, high = subject_bootstrap_interval(mixed)
    assert low < 0.3 and high > 0.7  # the pooled 0.5 could be far off for another ten people
    low, high = evaluate(mixed)["ba_interval_95"]
    assert low < evaluate(mixed)["balanced_accuracy"] < high


def test_the_pooled_balanced_accuracy_weighs_every_window_not_every_subject_alike():
    predictions = {
        "S90": (np.array([0.9, 0.1]), np.array([1, 0])),  # 2 windows, all right
        "S91": (np.array([0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.9, 0.9]), np.array([1, 1, 1, 1, 0, 0, 0, 0])),  # half
    }
    m = evaluate(predictions)
    assert m["balanced_accuracy"] == pytest.approx(0.6)  # 3 of 5 stress and 3 of 5 calm windows right
    assert m["per_subject_ba_mean"] == pytest.approx(0.75)


def test_the_interval_is_of_balanced_accuracy_not_of_accuracy():
    always_calm = (np.full(10, 0.1), np.array([1] + [0] * 9))  # accuracy 0.9, balanced accuracy 0.5
    assert subject_bootstrap_interval({f"S{i}": always_calm for i in range(8)}) == [0.5, 0.5]


def _subject(ba: float, per_class: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """One subject's windows, ``per_class`` stress and ``per_class`` calm, with balanced accuracy exactly ``ba``."""
    right = round(ba * per_class)
    assert right == pytest.approx(ba * per_class)  # so that the BA is exactly the one asked for
    stress = [0.9] * right + [0.1] * (per_class - right)
    calm = [0.1] * right + [0.9] * (per_class - right)
    return np.array(stress + calm), np.array([1] * per_class + [0] * per_class)


def test_the_interval_holds_the_pooled_figure_and_stays_within_the_subjects_own():
    bas = [0.5, 0.6, 0.7, 0.7, 0.8, 0.9, 1.0]
    predictions = {f"S{i}": _subject(ba) for i, ba in enumerate(bas)}
    low, high = subject_bootstrap_interval(predictions)
    pooled = evaluate(predictions)["balanced_accuracy"]
    assert pooled == pytest.approx(np.mean(bas))  # equal-sized, balanced subjects: the pooled BA is their mean
    assert min(bas) <= low < pooled < high <= max(bas)
    assert subject_bootstrap_interval(predictions) == [low, high]  # the same seed, the same interval
    low, high = subject_bootstrap_interval({f"S{i}": _subject(0.7) for i in range(7)})
    assert low == high == pytest.approx(0.7)  # every subject alike: closed


def test_the_interval_widens_as_the_subjects_spread_apart():
    narrow = subject_bootstrap_interval({f"S{i}": _subject(0.6 if i % 2 else 0.8) for i in range(10)})
    wide = subject_bootstrap_interval({f"S{i}": _subject(0.4 if i % 2 else 1.0) for i in range(10)})
    assert 0.6 <= narrow[0] < 0.7 < narrow[1] <= 0.8 and 0.4 <= wide[0] < 0.7 < wide[1] <= 1.0
    assert wide[1] - wide[0] > 2 * (narrow[1] - narrow[0])  # three times the spread around the same 0.7


def test_the_interval_is_of_the_pooled_figure_so_a_subject_of_many_windows_weighs_more():
    # one subject of 40 + 40 windows all right, nine of 2 + 2 half right: 49 of 58 stress and calm windows right
    predictions = {"S0": _subject(1.0, per_class=40)} | {f"S{i}": _subject(0.5, per_class=2) for i in range(1, 10)}
    pooled = evaluate(predictions)["balanced_accuracy"]
    assert pooled == pytest.approx(49 / 58)
    low, high = subject_bootstrap_interval(predictions)
    # a draw without S0 (0.9 ** 10, a third of them) pools to 0.5; one with S0 twice or more pools above 0.9
    assert low == pytest.approx(0.5) and 0.9 < high < 1.0
    assert low < pooled < high  # the mean of the subjects' own BAs, 0.55, would put it near 0.5 to 0.65


def test_subjects_not_windows_are_drawn_again():
    # four subjects of 100 windows, two all right and two all wrong: a draw of four subjects is all wrong 1 time
    # in 16, so the interval runs from 0 to 1; drawing the 400 windows instead would give about 0.43 to 0.57
    predictions = {f"S{i}": _subject(1.0 if i < 2 else 0.0, per_class=50) for i in range(4)}
    assert subject_bootstrap_interval(predictions) == [0.0, 1.0]


def test_the_interval_spans_the_middle_95_percent_of_the_resampled_figures():
    # eight subjects of one size, four all right and four all wrong: a draw of eight pools to k / 8, k the right
    # ones drawn, k ~ Binomial(8, 1/2); P(k <= 0) = 1/256, P(k <= 1) = 9/256 = 3.5 %, P(k <= 2) = 37/256 = 14 %,
    # so the 2.5th percentile is k = 1 and the 97.5th k = 7 (a 5-95 % range would be k = 2 to 6)
    predictions = {f"S{i}": _subject(1.0 if i < 4 else 0.0) for i in range(8)}
    for seed in (0, 1, 2):
        assert subject_bootstrap_interval(predictions, resamples=20000, seed=seed) == [0.125, 0.875]


def test_stress_calibration_bins_span_the_half_to_one_range_a_two_class_confidence_lives_in():
    # right at 0.52, wrong at 0.58: one bin over [0, 1] (gap 0.05), two over [0.5, 1]
    assert stress_calibration_error(np.array([0.52, 0.58]), np.array([1, 0])) == pytest.approx(0.24 + 0.29)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 160 rows: what counts is the column
def test_the_figures_read_the_stress_column_of_the_model():
    rng = np.random.default_rng(5)
    sessions = {s: subject_session(s, rng) for s in ("S90", "S91", "S92")}
    windows = {E4.without: sessions}
    model = train.fit(windows, ["S90", "S91"], sources=(E4,))
    judged = train.predictions_by_source(model, windows, ["S92"], sources=(E4,))[E4.name]
    assert evaluate(judged)["balanced_accuracy"] > 0.8  # the stress shift is plain; the calm column gives < 0.2


def test_windows_without_usable_signal_are_neither_trained_on_nor_scored():
    session = subject_session("S90", np.random.default_rng(6))
    session.quality[10:30] = 0.0
    for for_training in (True, False):
        x, y = train.subject_xy(session, for_training=for_training)
        assert len(x) == len(y) == 60


def test_the_logistic_regression_weighs_the_rarer_stress_windows_as_much_as_the_rest():
    rng = np.random.default_rng(7)
    y = (np.arange(1000) < 100).astype(int)  # one stress window in ten
    x = rng.normal(size=(1000, 3)) + 1.2 * y[:, None]
    model = fit_xy(x, y, mlp_seeds=())
    stress_recall = np.mean(model.predict_proba(x)[y == 1, 1] >= 0.5)
    assert stress_recall > 0.8  # unweighted, the 0.5 threshold favours the calm windows (recall about 0.5)


# 400 random rows do not let the MLPs settle by their tolerance; what is tested is the export, not the fit
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_exported_onnx_reproduces_the_fitted_ensemble_through_load_model(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 21))
    y = (x[:, 0] + np.maximum(x[:, 1], 0) + 0.5 * rng.normal(size=400) > 0.8).astype(int)  # a third stress
    fitted = fit_xy(x, y)
    folder = export_physio(trained_folder(tmp_path, fitted.weights(), 21), models_dir=tmp_path / "models")
    model = load_model(folder)
    probe = rng.normal(size=(64, 21)).astype(np.float32)
    probs = model.run({"features": probe})[0]
    assert model.labels == ["no_stress", "stress"]
    np.testing.assert_allclose(probs, fitted.predict_proba(probe.astype(np.float64)), atol=1e-5)
    logistic_alone = fitted.logistic.predict_proba(probe.astype(np.float64))
    assert np.abs(probs - logistic_alone).max() > 0.01  # the MLPs are in the graph, not only the regression
    card = json.loads((folder / "card.json").read_text())
    assert "MIT" in card["licence"]["training_data"]
    assert "| 0.700 (0.610-0.780) |" in (folder / "MODEL_CARD.md").read_text()


def test_a_report_without_mlps_exports_the_logistic_regression_alone(tmp_path):
    rng = np.random.default_rng(1)
    coef, intercept = rng.normal(size=21), -0.3
    folder = export_physio(trained_folder(tmp_path, {"coef": coef.tolist(), "intercept": intercept}, 21),
                           models_dir=tmp_path / "models")  # fmt: skip
    probe = rng.normal(size=(16, 21)).astype(np.float32)
    probs = load_model(folder).run({"features": probe})[0]
    np.testing.assert_allclose(probs[:, 1], 1 / (1 + np.exp(-(probe @ coef + intercept))), atol=1e-5)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)


def test_the_physio_export_writes_a_card_the_loader_accepts(tmp_path):
    weights = {"coef": np.ones(21).tolist(), "intercept": 0.0}
    folder = export_physio(trained_folder(tmp_path, weights, 21), models_dir=tmp_path / "models")
    card = assert_card_as_exports_write_it(folder)
    assert card.sha256["default"] in (folder / "MODEL_CARD.md").read_text()
    assert (folder / "MODEL_CARD.md").read_text().startswith(f"# physio-stress {card.version}\n")


def test_an_export_of_other_weights_gets_another_version_and_says_which_it_replaced(tmp_path, caplog, monkeypatch):
    import export.install as install

    day = time.gmtime(1_800_000_000)  # one UTC date for every export: the version starts with it
    monkeypatch.setattr(install.time, "gmtime", lambda *seconds: day)
    versions = []
    for scale, models in ((1.0, "models"), (1.0, "elsewhere"), (2.0, "models")):
        (tmp_path / str(len(versions))).mkdir()
        trained = trained_folder(tmp_path / str(len(versions)), {"coef": [scale] * 21, "intercept": 0.0}, 21)
        versions.append(json.loads((export_physio(trained, models_dir=tmp_path / models)
                                    / "card.json").read_text())["version"])
    assert versions[0] == versions[1] != versions[2]  # the same weights, the same version; others, another
    assert versions[0].startswith(time.strftime("%Y.%m.%d-", day))
    replaced = [r.getMessage() for r in caplog.records if "replaced" in r.getMessage()]
    assert len(replaced) == 1 and f"replaced physio-stress {versions[0]}," in replaced[0]


def _figures(ba: float, macro_f1: float, ece: float, subjects: int) -> dict:
    return {"balanced_accuracy": ba, "ba_interval_95": [ba - 0.05, ba + 0.05], "macro_f1": macro_f1, "ece": ece,
            "per_subject_ba_mean": ba, "per_subject_ba_sd": 0.1, "per_subject_ba_min": ba - 0.2,
            "subjects": subjects, "windows": 100 * subjects}


def test_the_model_card_puts_each_evaluations_figures_in_its_own_row_and_column(tmp_path):
    weights = {"coef": [0.1] * 21, "intercept": 0.0}
    metrics = {"development_loso": _figures(0.811, 0.801, 0.011, 3), "held_out": _figures(0.722, 0.702, 0.032, 2),
               "all_subjects_loso": _figures(0.633, 0.603, 0.053, 5)}
    by_source = {"the board": {"development_loso": _figures(0.544, 0.504, 0.014, 3),
                               "held_out": _figures(0.455, 0.405, 0.045, 2)}}
    split = {"development_subjects": ["S02", "S03", "S05"], "held_out_subjects": ["S04", "S06"]}
    folder = export_physio(trained_folder(tmp_path, weights, 21, metrics=metrics, metrics_by_source=by_source,
                                          split=split), models_dir=tmp_path / "models")
    card = (folder / "MODEL_CARD.md").read_text()
    assert "| development, leave-one-subject-out | 3 | 300 | 0.811 (0.761-0.861) | 0.801 | 0.011 |" in card
    assert "| held-out subjects (S04, S06) | 2 | 200 | 0.722 (0.672-0.772) | 0.702 | 0.032 |" in card
    assert "| all 5 subjects, leave-one-subject-out | 5 | 500 | 0.633 (0.583-0.683) | 0.603 | 0.053 |" in card
    assert "| the board | 0.544 | 0.455 | 0.405 | 0.045 |" in card
    assert "5 labelled subjects S02-S06" in card
    # five subjects are not the split the shipped model's history was measured on: no row of it, nor of this one
    assert "No comparison with the shipped model's history" in card
    assert "physio-stress 2.3.0" not in card and "| this model," not in card


def test_only_a_run_of_the_compared_subjects_and_split_is_set_beside_the_shipped_history(tmp_path):
    weights = {"coef": [0.1] * 21, "intercept": 0.0}
    metrics = {"development_loso": _figures(0.811, 0.801, 0.011, 20), "held_out": _figures(0.722, 0.702, 0.032, 7),
               "all_subjects_loso": _figures(0.633, 0.603, 0.053, 27)}
    held_out = ["S04", "S09", "S13", "S17", "S21", "S25", "S28"]  # the split the history was measured on, written out
    development = [f"S{n:02d}" for n in range(2, 29) if f"S{n:02d}" not in held_out]
    split = {"development_subjects": development, "held_out_subjects": held_out}
    folder = export_physio(trained_folder(tmp_path, weights, 21, metrics=metrics, split=split),
                           models_dir=tmp_path / "models")
    card = (folder / "MODEL_CARD.md").read_text()
    version = json.loads((folder / "card.json").read_text())["version"]
    assert "physio-stress 2.3.0" in card
    # the model a retrain replaces has its row too, its figures those of its card: was, the rows stopped at 2.3.0
    shipped = json.loads((REPO_MODELS_DIR / "physio-stress" / "card.json").read_text())
    measured = shipped["metrics"]
    figures = [measured[k]["balanced_accuracy"] for k in ("development_loso", "held_out", "all_subjects_loso")]
    row = re.search(rf"^\| physio-stress {re.escape(shipped['version'])} \(.+\) \| (.+) \|$", card, re.MULTILINE)
    assert row and row.group(1) == " | ".join(f"{f:.3f}" for f in figures)
    assert card.index(row.group(0)) < card.index(f"| this model, {version} | 0.811 | 0.722 | 0.633 |")  # the last row
    other_split = {"development_subjects": development[1:] + held_out[:1], "held_out_subjects": held_out[1:]
                   + development[:1]}
    (tmp_path / "other").mkdir()
    folder = export_physio(trained_folder(tmp_path / "other", weights, 21, metrics=metrics, split=other_split),
                           models_dir=tmp_path / "models")
    assert "| this model," not in (folder / "MODEL_CARD.md").read_text()  # all 27, but another held-out set


def test_an_export_whose_graph_differs_from_the_fitted_model_is_refused(tmp_path, monkeypatch):
    import export.physio.export as physio_export

    fitted = physio_export.stress_probability
    monkeypatch.setattr(physio_export, "stress_probability", lambda weights, x: fitted(weights, x) + 1e-3)
    with pytest.raises(RuntimeError, match="exported graph differs from the fitted model"):
        export_physio(trained_folder(tmp_path, {"coef": [0.1] * 21, "intercept": 0.0}, 21),
                      models_dir=tmp_path / "models")


@pytest.mark.parametrize(
    "spoil, problem",
    [
        (lambda text, report: text[:40], "not a readable physio training report"),
        (lambda text, report: json.dumps({k: v for k, v in report.items() if k != "weights"}), "no weights"),
        (lambda text, report: json.dumps(report | {"weights": report["weights"] | {"mlps": [{
            "hidden_weights": np.zeros((21, 4)).tolist(), "hidden_bias": [0.0] * 3,
            "output_weights": [0.0] * 4, "output_bias": 0.0}]}}), "of MLP 0 do not fit 21 inputs"),
        (lambda text, report: json.dumps(report | {"weights": report["weights"] | {"coef": [float("nan")] * 21}}),
         "weights not all finite"),
        (lambda text, report: json.dumps(report | {"weights": report["weights"] | {"coef": [1.0] * 30}}),
         "weights for 30 inputs, where its settings make 21"),
        (lambda text, report: json.dumps(report | {"window_s": -5}), "window_s -5 is not a positive number"),
        (lambda text, report: json.dumps(report | {"context_windows": "x"}), "context_windows 'x' is not a whole"),
        (lambda text, report: json.dumps(report | {"features": ["pulse"] * 7}), "are not the device's measurements"),
        (lambda text, report: json.dumps(report | {"scope": "future"}), "scope 'future' is none of session, running"),
        (lambda text, report: json.dumps(report | {"second_stage": {"offsets_s": [0, 30]}}),
         "a second stage, which the exported graph cannot compute"),  # was: exported as if the first were all
        (lambda text, report: json.dumps(report | {"weights": report["weights"] | {"temperature": 2.0}}),
         "weights hold temperature, which the exported graph cannot compute"),
        (lambda text, report: json.dumps(report | {"data": 5}), "data 5 is not a folder path"),  # was TypeError
        (lambda text, report: json.dumps(report | {"split": "x"}), "split 'x' is not an object"),  # AttributeError
    ],
    ids=["cut short", "no weights", "hidden bias of the wrong length", "NaN weights", "weights of another width",
         "negative window", "context not a number", "unknown features", "unknown scope", "second stage",
         "unknown weights", "data not a path", "split not an object"],
)
def test_a_spoilt_report_is_refused_in_one_line_before_anything_is_written(tmp_path, spoil, problem):
    coef = np.ones(21)
    trained = trained_folder(tmp_path, {"coef": coef.tolist(), "intercept": 0.0}, 21)
    text = (trained / "report.json").read_text()
    (trained / "report.json").write_text(spoil(text, json.loads(text)))
    with pytest.raises(InputError, match=problem):
        export_physio(trained, models_dir=tmp_path / "models")
    assert not (tmp_path / "models").exists()


def test_a_report_the_card_cannot_be_made_from_leaves_the_installed_model_whole(tmp_path):
    coef = np.ones(21)
    trained = trained_folder(tmp_path, {"coef": coef.tolist(), "intercept": 0.0}, 21)
    installed = export_physio(trained, models_dir=tmp_path / "models")
    before = {f.name: f.read_bytes() for f in installed.iterdir()}
    report = json.loads((trained / "report.json").read_text())
    report["weights"]["coef"] = (2 * coef).tolist()  # a new model ...
    report["metrics"] = {"held_out": report["metrics"]["held_out"]}  # ... whose figures are cut short
    (trained / "report.json").write_text(json.dumps(report))
    with pytest.raises(InputError, match="not as 'emotrace train physio' writes it"):
        export_physio(trained, models_dir=tmp_path / "models")
    assert {f.name: f.read_bytes() for f in installed.iterdir()} == before
    assert [f.name for f in (tmp_path / "models").iterdir()] == ["physio-stress"]  # no staging folder left


def test_mlp_training_rows_repeat_the_rarer_class_until_the_classes_balance():
    y = np.array([0] * 60 + [1] * 20)
    rows = balanced_rows(y)
    assert np.bincount(y[rows]).tolist() == [60, 60]
    assert balanced_rows(np.zeros(5, dtype=int)).tolist() == [0, 1, 2, 3, 4]  # one class: nothing to repeat


def test_a_source_without_channels_is_computed_and_cached_apart(stress_predict_dir, tmp_path):
    data = stress_predict_dir
    [e4] = load_dataset(data, 30.0, 30.0, subjects=["S02"], cache_dir=tmp_path)
    [board] = load_dataset(data, 30.0, 30.0, subjects=["S02"], cache_dir=tmp_path, without=("hr", "ibi", "acc"))
    cached = sorted(f.name for f in tmp_path.iterdir())
    assert cached == ["S02_w30_h30.npz", "S02_w30_h30_without-hr_without-ibi_without-acc.npz"]
    column = MEASUREMENTS.index
    assert np.isnan(board.features[:, column("acc_magnitude_mean_g")]).all()
    assert np.isfinite(e4.features[:, column("acc_magnitude_mean_g")]).all()
    # Heart rate from the pulse wave, not the E4's own HR file: the same person, another estimate.
    e4_hr, board_hr = e4.features[:, column("hr_channel_bpm")], board.features[:, column("hr_channel_bpm")]
    assert np.nanmedian(board_hr) == pytest.approx(np.nanmedian(e4_hr), abs=10)
    assert not np.allclose(board_hr, e4_hr, equal_nan=True)


def test_each_training_session_enters_once_per_source_with_what_it_lacks_at_the_centre(monkeypatch):
    rng = np.random.default_rng(2)
    sessions = {s: subject_session(s, rng) for s in ("S90", "S91")}
    windows = {E4.without: sessions, SERIAL_BOARD.without: sessions}
    captured = {}
    monkeypatch.setattr(train, "fit_xy", lambda x, y: captured.update(x=x, y=y))
    train.fit(windows, ["S90", "S91"], sources=(E4, BLE_STRAP))
    d = len(MODEL_FEATURES)
    x = captured["x"].reshape(2, 2, 80, 3 * d)  # subject, source, window, input
    eda = [MODEL_FEATURES.index(name) for name in EDA_FEATURES]
    heart = [MODEL_FEATURES.index(name) for name in HEART_FEATURES]
    assert np.all(x[:, 1][..., eda] == 0) and np.all(x[:, 1][..., [d + j for j in eda]] == 0)
    assert np.all(x[:, 1][..., heart] == x[:, 0][..., heart])  # the strap's copy keeps its heart statistics
    assert np.all(x[:, 0][..., eda] != 0)
    assert captured["y"].tolist() == np.tile(sessions["S90"].stress_fraction, 4).astype(int).tolist()


def test_a_source_reads_its_own_recomputed_windows():
    rng = np.random.default_rng(3)
    e4, board = subject_session("S90", rng), subject_session("S90", rng)
    windows = {E4.without: {"S90": e4}, SERIAL_BOARD.without: {"S90": board}}
    x_e4, _ = train.source_xy(windows, "S90", E4, for_training=False)
    x_board, _ = train.source_xy(windows, "S90", SERIAL_BOARD, for_training=False)
    np.testing.assert_array_equal(x_e4, train.subject_xy(e4, for_training=False)[0])
    motion = [MODEL_FEATURES.index(name) for name in MOTION_FEATURES]
    assert np.all(x_board[:, motion] == 0) and np.all(x_e4[:, motion] != 0)
    # the board's copy comes from its own windows, not from the E4's with the accelerometer hidden
    e4_masked = train.subject_xy(e4, for_training=False, features=train.source_features(e4, SERIAL_BOARD))[0]
    assert not np.allclose(x_board, e4_masked)


# --- what training refuses before any feature work, and Ctrl-C --------------------------------------------


def _labelled_data(tmp_path, subjects: dict[int, list[int]]):
    """A Stress-Predict-like folder: raw/ (no recordings needed before the checks) and one label row per value."""
    data = tmp_path / "data"
    (data / "raw").mkdir(parents=True)
    rows = [f"{p},80,12,{1000 + i},{label}" for p, labels in subjects.items() for i, label in enumerate(labels)]
    write_labels(data, rows)
    return data


@pytest.mark.parametrize(
    ("subjects", "problem"),
    [
        ({2: [0, 1], 3: [0, 0], 4: [0, 1]}, "every label of S03 is 0"),
        ({2: [0, 1], 4: [0, 1]}, r"1 development subject\(s\) \(S02\): leave-one-subject-out needs at least two"),
        ({2: [0, 1], 3: [0, 1], 5: [1, 0]}, "none of the held-out subjects .* is labelled"),
    ],
    ids=["one class", "one development subject", "no held-out subject"],
)
def test_training_refuses_subjects_it_cannot_evaluate_before_any_feature_work(tmp_path, subjects, problem):
    data = _labelled_data(tmp_path, subjects)  # S04 is held out; raw/ holds no recording: none is read first
    with pytest.raises(InputError, match=problem):
        train.train_physio(data, tmp_path / "out")


def test_a_subject_labelled_in_one_class_alone_is_refused_naming_the_label_file_that_labels_them(tmp_path):
    data = _labelled_data(tmp_path, {2: [0, 1], 4: [0, 1]})
    more = data / "labels" / "stress_labels_more.csv"  # a second file, as subjects beyond S28 may come
    more.write_text("Participant,HR,respr,Time(sec),Label\n3,80,12,1000,1\n3,80,12,1001,1\n")
    with pytest.raises(InputError, match="every label of S03 is 1") as refused:
        train.train_physio(data, tmp_path / "out")
    assert refused.value.source == str(more)  # was: the labels folder, which holds two files


def test_training_refuses_an_out_or_cache_that_is_a_file_before_any_work(tmp_path):
    data = _labelled_data(tmp_path, {2: [0, 1], 3: [0, 1], 4: [0, 1]})
    taken = tmp_path / "taken"
    taken.write_text("")
    with pytest.raises(InputError, match="taken: is a file; give a folder"):
        train.train_physio(data, taken)
    with pytest.raises(InputError, match="taken: is a file; give a folder"):
        train.train_physio(data, tmp_path / "out", cache_dir=taken)


def test_ctrl_c_during_an_mlp_fit_stops_the_run_instead_of_keeping_a_half_trained_network(monkeypatch):
    from sklearn.neural_network import MLPClassifier

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt  # what SIGINT raises inside sklearn's training loop, which catches it

    monkeypatch.setattr(MLPClassifier, "_backprop", interrupted)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 6))
    with pytest.raises(KeyboardInterrupt):
        fit_xy(x, (x[:, 0] > 0).astype(int))


def test_running_scope_trains_on_the_windows_a_live_session_judges_each_from_its_past():
    rng = np.random.default_rng(4)
    session = subject_session("S90", rng, n=160)  # 800 s
    x, y = train.subject_xy(session, for_training=True, scope="running")
    from_baseline = session.starts_s >= train.LIVE_BASELINE_S
    assert len(x) == from_baseline.sum() and y.tolist() == session.stress_fraction[from_baseline].astype(int).tolist()
    later = SubjectWindows("S90", session.starts_s, session.features.copy(), session.quality, session.stress_fraction)
    later.features[120:] += 5.0  # what comes after window 120 changes
    x_later, _ = train.subject_xy(later, for_training=True, scope="running")
    first_changed = 120 - from_baseline.argmax()
    np.testing.assert_array_equal(x_later[:first_changed], x[:first_changed])
    x_session, _ = train.subject_xy(session, for_training=True)
    assert len(x_session) == 160  # the shipped scope: every labelled window, each against the whole session


def test_a_running_scope_report_installs_the_live_model_beside_the_shipped_one(tmp_path):
    coef = np.random.default_rng(5).normal(size=21)
    weights = {"coef": coef.tolist(), "intercept": 0.0}
    shipped = export_physio(trained_folder(tmp_path, weights, 21), models_dir=tmp_path / "models")
    (tmp_path / "trained").rename(tmp_path / "session-run")
    live = export_physio(trained_folder(tmp_path, weights, 21, scope="running"), models_dir=tmp_path / "models")
    assert (shipped.name, live.name) == ("physio-stress", "physio-stress-live")
    card = json.loads((live / "card.json").read_text())
    assert card["scope"] == "running" and card["id"] == "physio-stress-live"
    assert "--live" in card["rebuild"] and "trailing mean" in card["baseline"]
    assert json.loads((shipped / "card.json").read_text())["scope"] == "session"
    text = (live / "MODEL_CARD.md").read_text()
    assert text.startswith("# physio-stress-live ") and "among the session's windows so far" in text


def test_a_card_without_a_local_baseline_does_not_describe_one(tmp_path):
    rng = np.random.default_rng(2)
    weights = {"coef": rng.normal(size=14).tolist(), "intercept": 0.1}  # two inputs per feature: no local baseline
    folder = export_physio(trained_folder(tmp_path, weights, 14, features=list(MEASUREMENTS[:7]),
                                          local_baseline_windows=0, scaling="zscore"), models_dir=tmp_path / "models")
    card = json.loads((folder / "card.json").read_text())
    assert card["baseline"].endswith("inputs: the scaled value and its centred mean over context_windows")
    text = (folder / "MODEL_CARD.md").read_text()
    assert "no local baseline" in text and "local mean" not in text  # was: "minus its centred local mean ..."


def test_the_datas_licence_notice_goes_beside_the_model_or_its_absence_is_said(tmp_path, caplog):
    coef = np.zeros(21)
    trained = trained_folder(tmp_path, {"coef": coef.tolist(), "intercept": 0.0}, 21)
    with caplog.at_level("WARNING"):
        folder = export_physio(trained, models_dir=tmp_path / "models")
    # was: exported without the notice, without a word (the report's data path was relative to another folder)
    assert not (folder / "DATA_LICENSE").exists() and "has no DATA_LICENSE" in caplog.text
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "LICENSE").write_text("MIT License\n")
    assert (export_physio(trained, models_dir=tmp_path / "models") / "DATA_LICENSE").read_text() == "MIT License\n"


@pytest.mark.parametrize("model_id", ["physio-stress", "physio-stress-live"])
def test_a_shipped_physio_model_card_is_the_exports_text_of_its_card_json(model_id):
    from export.physio.export import MODELS, model_card_text
    from runtime.models.card import REPO_MODELS_DIR

    folder = REPO_MODELS_DIR / model_id
    card = json.loads((folder / "card.json").read_text())
    assert MODELS[card["scope"]] == model_id  # the key the export writes, naming the scope of its inputs
    assert (folder / "MODEL_CARD.md").read_text() == model_card_text(card)  # generated, never edited by hand
    assert_card_as_exports_write_it(folder, dated=False)  # shipped before the physio export dated its versions


def test_the_training_summary_says_an_interval_over_one_or_few_subjects_for_what_it_is(tmp_path):
    from export.physio.train import TrainReport

    def figures(subjects: int, low: float, high: float) -> dict:
        return {"balanced_accuracy": 0.627, "ba_interval_95": [low, high], "macro_f1": 0.6, "ece": 0.1,
                "per_subject_ba_mean": 0.627, "per_subject_ba_sd": 0.0, "per_subject_ba_min": 0.627,
                "subjects": subjects, "windows": 100}

    metrics = {"development_loso": figures(2, 0.5, 0.7), "held_out": figures(1, 0.627, 0.627),
               "all_subjects_loso": figures(27, 0.7, 0.8)}
    lines = TrainReport({"metrics": metrics}, tmp_path).summary().splitlines()
    # was: '(95 % over subjects 0.627-0.627)', an interval over one subject, and no word that two make a rough one
    assert "BA 0.627 (one subject: no interval over subjects)," in lines[2]
    assert "(95 % over subjects 0.500-0.700; 2 subjects: an interval over so few is rough" in lines[1]
    assert "(95 % over subjects 0.700-0.800)," in lines[3]
