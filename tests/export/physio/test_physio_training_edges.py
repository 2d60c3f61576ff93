"""Edges of the stress model's training host: which windows are labelled, the window cache, what a report and a
card say of the settings, the study's per-subject scaling, and spoilt reports refused in one line."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from export.physio import dataset, study, train
from export.physio.export import COMPARED_HELD_OUT, export_physio
from runtime.arms.physio.features import MEASUREMENTS
from runtime.arms.physio.model import Z_CLIP
from runtime.errors import InputError
from runtime.models.card import REPO_MODELS_DIR
from tests.export.physio.training_inputs import (
    stand_in_windows,
    subject_session,
    train_over_stand_ins,
    trained_folder,
)
from tests.physio_factory import START_UNIX_S, write_e4, write_labels, zip_e4

# --- which windows are labelled ------------------------------------------------------------------------------


def test_a_window_with_23_of_its_30_seconds_labelled_is_left_out(tmp_path, monkeypatch):
    stand_in_windows(monkeypatch, [(20.0, 50.0), (21.0, 51.0)])
    times = 1000.0 + np.arange(44)  # seconds 0-43 labelled, stress from 30
    table = (times, (times >= 1030.0).astype(float))
    windows = dataset.subject_windows(tmp_path, "S02", table, 30.0, 5.0)
    # 20-50: 24 of 30 (80 %), kept; 21-51: 23 of 30 (77 %), under the 80 % rule
    assert windows.stress_fraction[0] == pytest.approx(14 / 24) and np.isnan(windows.stress_fraction[1])


def test_participant_number_zero_in_the_label_file_is_refused_naming_its_line(tmp_path):
    write_labels(tmp_path, ["2,80,12,1000,1", "0,80,12,1000,0"])
    with pytest.raises(InputError, match=r"line 3: Participant '0' is not a participant number"):
        dataset.load_labels(tmp_path)


def test_a_label_at_an_endless_time_is_refused_naming_its_line(tmp_path):
    write_labels(tmp_path, ["2,80,12,1000,1", "2,80,12,inf,0"])
    with pytest.raises(InputError, match=r"line 3: Time\(sec\) 'inf' is not a time"):
        dataset.load_labels(tmp_path)


def test_cached_windows_read_back_with_their_starts_quality_and_stress_shares(tmp_path):
    rng = np.random.default_rng(0)
    written = dataset.SubjectWindows("S02", np.arange(4) * 5.0, rng.normal(size=(4, len(MEASUREMENTS))),
                                     np.array([1.0, 0.0, 0.5, 0.25]), np.array([np.nan, 0.0, 0.75, 1.0]))
    dataset.write_cached_windows(tmp_path / "S02.npz", written, "key")
    back = dataset.read_cached_windows(tmp_path / "S02.npz", "S02", "key")
    np.testing.assert_array_equal(back.starts_s, written.starts_s)
    np.testing.assert_array_equal(back.quality, written.quality)
    np.testing.assert_array_equal(back.stress_fraction, written.stress_fraction)


def test_a_labelled_subject_without_a_recording_is_one_line_when_windows_are_cached(tmp_path):
    (tmp_path / "raw").mkdir()
    write_labels(tmp_path, ["3,80,12,1000,1", "3,80,12,1001,0"])
    with pytest.raises(InputError, match=r"S03\.zip: no recording for S03, who has labels"):
        dataset.load_dataset(tmp_path, 30.0, 5.0, cache_dir=tmp_path / "cache")


# --- the training report -------------------------------------------------------------------------------------


def _report(tmp_path, monkeypatch, scope: str) -> dict:
    """The report.json train._train writes over stand-in models and figures (no feature work, no fitting)."""
    def by_source(model, _windows, subjects, sources=train.SOURCES, scope="session"):
        return {source.name: {s: (np.array([0.9, 0.1, 0.2]), np.array([1, 0, 0])) for s in subjects}
                for source in sources}

    train_over_stand_ins(tmp_path, monkeypatch, ["S02", "S03", "S04", "S05"], ["S02", "S03", "S05"], ["S04"],
                         by_source, scope)
    return json.loads((tmp_path / "report.json").read_text())


@pytest.mark.parametrize("scope", ["session", "running"])
def test_the_report_names_the_window_and_input_settings_it_was_trained_with(tmp_path, monkeypatch, scope):
    report = _report(tmp_path, monkeypatch, scope)
    assert report["features"] == list(train.MODEL_FEATURES)
    assert (report["window_s"], report["hop_s"]) == (train.WINDOW_S, train.HOP_S)
    assert (report["context_windows"], report["local_baseline_windows"]) == (train.CONTEXT_WINDOWS,
                                                                            train.LOCAL_BASELINE_WINDOWS)
    assert report["scaling"] == train.SCALING and report["scope"] == scope
    # a live model's figures start at the live baseline; the session model's have no such start
    assert report.get("live_baseline_s") == (train.LIVE_BASELINE_S if scope == "running" else None)


def test_the_reports_weights_are_the_model_refit_on_every_subject_and_its_split_names_both_groups(tmp_path,
                                                                                               monkeypatch):
    report = _report(tmp_path, monkeypatch, "session")
    assert report["weights"] == {"trained on": ["S02", "S03", "S04", "S05"]}  # not the development model
    assert report["split"]["development_subjects"] == ["S02", "S03", "S05"]
    assert report["split"]["held_out_subjects"] == ["S04"]
    assert report["split"]["shipped_model"] == "refit on all labelled subjects (S02-S05)"


@pytest.mark.parametrize("model_id", ["physio-stress", "physio-stress-live"])
def test_a_retrain_by_the_cards_rebuild_line_makes_the_shipped_models_inputs_and_split(model_id):
    # the rebuild line runs 'emotrace train physio DATA' with its defaults: they are the shipped model's settings
    card = json.loads((REPO_MODELS_DIR / model_id / "card.json").read_text())
    assert card["rebuild"].startswith("emotrace train physio DATA --out RUN")
    assert card["features"] == list(train.MODEL_FEATURES)
    assert (card["window_s"], card["hop_s"], card["context_windows"], card["local_baseline_windows"],
            card["scaling"]) == (train.WINDOW_S, train.HOP_S, train.CONTEXT_WINDOWS, train.LOCAL_BASELINE_WINDOWS,
                                 train.SCALING)
    assert card["split"]["held_out_subjects"] == list(train.HELD_OUT_SUBJECTS) == list(COMPARED_HELD_OUT)


def test_a_live_models_training_and_figures_judge_each_window_against_the_windows_before_it(monkeypatch):
    # 600 s: the windows from the live baseline on are half of them
    session = subject_session("S90", np.random.default_rng(3), 120)
    windows = {train.E4.without: {"S90": session}}
    expected_x, expected_y = train.subject_xy(session, True, scope="running")
    assert 0 < len(expected_x) < len(session.starts_s)
    captured = {}
    monkeypatch.setattr(train, "fit_xy", lambda x, y: captured.update(x=x, y=y))
    train.fit(windows, ["S90"], sources=(train.E4,), scope="running")
    np.testing.assert_array_equal(captured["x"], expected_x)
    np.testing.assert_array_equal(captured["y"], expected_y)
    first_input = SimpleNamespace(predict_proba=lambda x: np.column_stack([1 - x[:, 0], x[:, 0]]))
    judged = train.predictions_by_source(first_input, windows, ["S90"], (train.E4,), "running")[train.E4.name]
    np.testing.assert_array_equal(judged["S90"][0], expected_x[:, 0])
    np.testing.assert_array_equal(judged["S90"][1], expected_y)


def test_windows_the_labels_do_not_cover_are_neither_trained_on_nor_scored():
    session = subject_session("S90", np.random.default_rng(3), 120)
    session.stress_fraction[:30] = np.nan  # before the labels begin
    for for_training in (True, False):
        x, y = train.subject_xy(session, for_training)
        assert len(x) == len(y) == 90 and y.tolist() == session.stress_fraction[30:].astype(int).tolist()


def test_the_figures_give_the_share_of_stress_windows():
    predictions = {"S90": (np.array([0.9, 0.1, 0.2, 0.3]), np.array([1, 0, 0, 0])),
                   "S91": (np.array([0.9, 0.8, 0.2, 0.3]), np.array([1, 1, 0, 0]))}
    assert train.evaluate(predictions)["stress_share"] == pytest.approx(3 / 8)


def test_mlp_training_rows_repeat_the_rarer_class_the_nearest_whole_number_of_times():
    y = np.array([0] * 80 + [1] * 30)  # 80 / 30 = 2.67: three copies (90) are nearer 80 than two (60)
    assert np.bincount(y[train.balanced_rows(y)]).tolist() == [80, 90]


def test_training_refuses_an_unknown_scope_or_a_folder_without_recordings_before_reading_any(tmp_path):
    data = tmp_path / "data"
    (data / "raw").mkdir(parents=True)
    write_labels(data, [f"{p},80,12,{1000 + i},{i % 2}" for p in (2, 3, 4) for i in range(2)])
    with pytest.raises(ValueError, match=r"unknown scope 'future' \(known: session, running\)"):
        train.train_physio(data, tmp_path / "out", scope="future")
    (data / "raw").rmdir()  # labels, but no raw/ of recordings: not a Stress-Predict folder
    with pytest.raises(InputError, match=r"data: not a Stress-Predict folder \(no raw/ with SXX\.zip\)"):
        train.train_physio(data, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# --- the card ------------------------------------------------------------------------------------------------


def test_the_card_gives_the_device_the_reports_own_windows_inputs_split_and_figures(tmp_path):
    features = list(MEASUREMENTS[3:10])
    split = {"development_subjects": ["S02", "S03"], "held_out_subjects": ["S05"], "windows": "every one"}
    figures = {"balanced_accuracy": 0.61, "ba_interval_95": [0.5, 0.7], "macro_f1": 0.6, "ece": 0.04,
               "per_subject_ba_mean": 0.61, "per_subject_ba_sd": 0.1, "per_subject_ba_min": 0.5, "subjects": 2,
               "windows": 20}
    by_source = {"EDA only": {"development_loso": figures, "held_out": figures}}
    trained = trained_folder(tmp_path, {"coef": [0.1] * 14, "intercept": 0.0}, 14, features=features, window_s=20.0,
                             hop_s=2.5, context_windows=9, local_baseline_windows=0, scaling="zscore", split=split,
                             metrics_by_source=by_source)
    folder = export_physio(trained, models_dir=tmp_path / "models")
    card = json.loads((folder / "card.json").read_text())
    assert card["features"] == features and card["inputs"] == {"features": ["N", 14]}
    assert (card["window_s"], card["hop_s"], card["context_windows"], card["local_baseline_windows"],
            card["scaling"]) == (20.0, 2.5, 9, 0, "zscore")
    assert card["split"] == split and card["metrics_by_source"] == by_source
    assert "live_baseline_s" not in card  # a session model's figures have no live start
    text = (folder / "MODEL_CARD.md").read_text()
    assert "per 20 s window (hop 2.5 s)" in text and "its mean over 9\n  neighbouring windows" in text


def test_a_live_card_without_a_local_baseline_says_its_context_trails(tmp_path):
    trained = trained_folder(tmp_path, {"coef": [0.1] * 14, "intercept": 0.0}, 14, features=list(MEASUREMENTS[:7]),
                             local_baseline_windows=0, scope="running")
    folder = export_physio(trained, models_dir=tmp_path / "models")
    card = json.loads((folder / "card.json").read_text())
    assert card["baseline"].endswith("inputs: the scaled value and its trailing mean over context_windows")
    text = (folder / "MODEL_CARD.md").read_text()
    assert "over the session's windows so far" in text and "25\n  preceding windows (no local baseline)" in text


def test_only_every_compared_subject_with_the_compared_held_out_ones_is_the_compared_protocol():
    from export.physio.export import COMPARED_SUBJECTS, is_compared_protocol

    development = [s for s in COMPARED_SUBJECTS if s not in COMPARED_HELD_OUT]
    assert is_compared_protocol({"development_subjects": development, "held_out_subjects": list(COMPARED_HELD_OUT)})
    # the same held-out subjects beside fewer development ones: other figures
    assert not is_compared_protocol({"development_subjects": development[:5],
                                     "held_out_subjects": list(COMPARED_HELD_OUT)})


def _spoilt(tmp_path, change):
    trained = trained_folder(tmp_path, {"coef": [0.1] * 21, "intercept": 0.0}, 21)
    report = json.loads((trained / "report.json").read_text())
    change(report)
    (trained / "report.json").write_text(json.dumps(report))
    return trained


def _mlp(inputs: int = 21, units: int = 4, outputs: int = 4, output_bias: float = 0.0) -> dict:
    return {"hidden_weights": np.zeros((inputs, units)).tolist(), "hidden_bias": [0.0] * units,
            "output_weights": [0.0] * outputs, "output_bias": output_bias}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda r: r["weights"].update(mlps=[_mlp(inputs=20)]), "weights of MLP 0 do not fit 21 inputs"),
        (lambda r: r["weights"].update(mlps=[_mlp(outputs=3)]), "weights of MLP 0 do not fit 21 inputs"),
        (lambda r: r["weights"].update(mlps=[_mlp(output_bias=float("nan"))]), "weights not all finite"),
        (lambda r: r.update(hop_s=0), "hop_s 0 is not a positive number of seconds"),
        (lambda r: r.update(window_s=float("inf")), "window_s inf is not a positive number of seconds"),
        (lambda r: r.update(window_s=True), "window_s true is not a positive number of seconds"),  # was: 1 s
    ],
    ids=["hidden weights of another width", "output weights of another width", "NaN in an MLP", "hop 0",
         "endless window", "a window of true"],
)
def test_a_report_the_device_cannot_run_is_refused_in_one_line_and_nothing_is_installed(tmp_path, change, problem):
    trained = _spoilt(tmp_path, change)
    with pytest.raises(InputError, match=problem) as refused:
        export_physio(trained, models_dir=tmp_path / "models")
    assert len(str(refused.value).splitlines()) == 1
    assert not (tmp_path / "models").exists()


# --- the study's reference pipeline ---------------------------------------------------------------------------


def test_the_studys_reference_steps_one_whole_window_so_its_windows_do_not_overlap():
    assert study.REFERENCE_STEP * study.HOP_S == study.WINDOW_S  # "60 s windows without overlap"


def test_the_study_z_scores_each_column_over_the_recording_missing_at_the_centre_and_outliers_clipped():
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.normal(5.0, 2.0, 200), rng.normal(-300.0, 50.0, 200), np.full(200, 0.1 + 0.2)])
    x[7, 0], x[9, 1] = np.nan, 1e6  # a missing value, an artefact
    x[::2, 2] = 0.3  # a flat column, but for rounding
    z = study.zscore_session(x)
    assert z[7, 0] == 0.0 and z[9, 1] == Z_CLIP
    assert np.allclose(np.nanmean(z[np.arange(200) != 7, 0]), 0.0, atol=0.02)  # each column against itself
    assert np.allclose(z[:, 2], 0.0)


def test_the_study_candidates_context_averages_the_local_difference_not_the_level():
    z = np.full((50, 2), 1.5)  # a level with no change: nothing against the local baseline
    inputs = study.candidate_inputs(z)
    assert np.allclose(inputs[:, :2], 0.0) and np.allclose(inputs[:, 2:4], 1.5) and np.allclose(inputs[:, 4:], 0.0)


def test_the_studys_statistics_take_the_samples_from_a_windows_start_up_to_not_at_its_end():
    times = np.arange(10.0)
    assert study._stats(times, times, 0.0, 5.0)[0] == pytest.approx(2.0)  # samples 0-4


def _study_data(shift: dict[str, float]) -> dict[str, dict]:
    rng = np.random.default_rng(1)
    data = {}
    for subject in ("S02", "S03", "S04", "S05", "S09"):
        stress = ((np.arange(60) // 15) % 2).astype(float)
        features = rng.normal(size=(60, len(study.RAW_FEATURES))) + stress[:, None]
        fraction = stress.copy()
        fraction[:6] = np.nan  # unlabelled windows
        data[subject] = {"features": features * 10.0 + shift.get(subject, 0.0), "stress_fraction": fraction}
    return data


def test_the_study_scales_each_subject_by_their_own_recording_and_keeps_the_held_out_ones_apart(monkeypatch):
    monkeypatch.setattr(study, "evaluate", lambda predictions: predictions)
    figures = study.run_setup(_study_data({}), "reference_5s_hop")
    assert sorted(figures["development_loso"]) == ["S02", "S03", "S05"] and sorted(figures["held_out"]) == ["S04",
                                                                                                         "S09"]
    assert all(len(p) == len(y) == 54 for p, y in figures["all_subjects_loso"].values())  # labelled windows only
    # one subject's device reading 40 units higher throughout changes no one's inputs, so no figure
    shifted = study.run_setup(_study_data({"S03": 40.0, "S04": -40.0}), "reference_5s_hop")
    for part, by_subject in figures.items():
        for subject, (p, _labels) in by_subject.items():
            np.testing.assert_allclose(shifted[part][subject][0], p, err_msg=f"{part} {subject}")


def test_a_study_window_cut_short_by_the_end_of_the_recording_is_not_labelled(tmp_path):
    pytest.importorskip("neurokit2")
    data = tmp_path / "data"
    (data / "raw").mkdir(parents=True)
    zip_e4(write_e4(tmp_path / "e4", duration_s=122.0), data / "raw" / "S02.zip")  # windows to 120 s, then 65-122
    write_labels(data, [f"2,80,12,{START_UNIX_S + i:.0f},{int(i >= 60)}" for i in range(122)])
    windows = study.subject_raw_windows(data, "S02", dataset.load_labels(data)["S02"])
    fraction = windows["stress_fraction"]
    assert len(fraction) == 14 and np.isfinite(fraction[:13]).all()  # 0-60 ... 60-120, every second labelled
    assert np.isnan(fraction[13])  # 65-122: 57 s


def test_the_studys_cached_windows_are_read_back_only_for_the_labels_they_were_computed_from(tmp_path, monkeypatch):
    pytest.importorskip("neurokit2")
    data, cache = tmp_path / "data", tmp_path / "cache"
    (data / "raw").mkdir(parents=True)
    zip_e4(write_e4(tmp_path / "e4", duration_s=122.0), data / "raw" / "S02.zip")
    write_labels(data, [f"2,80,12,{START_UNIX_S + i:.0f},{int(i >= 60)}" for i in range(122)])
    first = study.load_raw(data, cache)["S02"]["stress_fraction"]
    write_labels(data, [f"2,80,12,{START_UNIX_S + i:.0f},1" for i in range(122)])  # relabelled: all stress
    relabelled = study.load_raw(data, cache)["S02"]["stress_fraction"]
    assert first[0] == 0.0 and relabelled[0] == 1.0  # was: the first labels' windows, read back by file name
    monkeypatch.setattr(study, "subject_raw_windows", lambda *args: pytest.fail("computed again, not read back"))
    np.testing.assert_array_equal(study.load_raw(data, cache)["S02"]["stress_fraction"], relabelled)


@pytest.mark.parametrize("scope", ["session", "running"])
def test_a_subject_without_a_usable_labelled_window_is_refused_by_name_before_any_fitting(tmp_path, scope):
    rng = np.random.default_rng(0)
    sessions = {s: subject_session(s, rng, n=100) for s in ("S90", "S91", "S92")}
    windows = {source.without: sessions for source in train.SOURCES}
    train.check_usable_windows(windows, ["S90", "S91", "S92"], tmp_path, scope)  # every one has signal
    sessions["S92"].quality[:] = 0.0  # a loose sensor all session: was a traceback from the fitting library
    with pytest.raises(InputError, match=r"S92\.zip: no labelled window.* with usable signal \(quality > 0\)"):
        train.check_usable_windows(windows, ["S90", "S91", "S92"], tmp_path, scope)
