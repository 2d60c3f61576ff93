"""The stress model's figures come from subjects its models never trained on."""

import numpy as np

from export.physio import train
from tests.export.physio.training_inputs import train_over_stand_ins


def test_no_figure_scores_a_subject_its_model_trained_on(tmp_path, monkeypatch):
    scored: list[tuple[list[str], list[str]]] = []  # (the model's training subjects, the subjects it scores)

    def fake_predictions(model, _windows, subjects, sources=train.SOURCES, scope="session"):
        scored.append((model.trained, list(subjects)))
        return {source.name: {s: (np.array([0.7, 0.2, 0.6]), np.array([1, 0, 0])) for s in subjects}
                for source in sources}

    subjects = ["S02", "S03", "S04", "S05", "S06", "S07"]
    development, held_out = ["S02", "S03", "S05", "S06"], ["S04", "S07"]
    report = train_over_stand_ins(tmp_path, monkeypatch, subjects, development, held_out, fake_predictions)
    assert scored and all(not set(trained) & set(judged) for trained, judged in scored)
    held = [trained for trained, judged in scored if judged == held_out]
    assert held == [development]  # the held-out figure: one model, trained on the development subjects alone
    development_folds = [judged for trained, judged in scored if judged[0] in development and len(trained) == 3]
    assert sorted(s for judged in development_folds for s in judged) == sorted(development)
    everyone_folds = [judged for trained, judged in scored if len(trained) == len(subjects) - 1]
    assert sorted(s for judged in everyone_folds for s in judged) == sorted(subjects)
    assert report["metrics"]["held_out"]["subjects"] == len(held_out)


def test_the_headline_figures_are_the_e4_sessions_and_each_other_source_has_its_own(tmp_path, monkeypatch):
    right, wrong = (np.array([0.9, 0.1]), np.array([1, 0])), (np.array([0.1, 0.9]), np.array([1, 0]))

    def by_source(model, _windows, subjects, sources=train.SOURCES, scope="session"):
        return {source.name: {s: right if source == train.E4 else wrong for s in subjects} for source in sources}

    subjects = ["S02", "S03", "S04", "S05"]
    report = train_over_stand_ins(tmp_path, monkeypatch, subjects, ["S02", "S03", "S05"], ["S04"], by_source)
    assert {name: m["balanced_accuracy"] for name, m in report["metrics"].items()} == {
        "development_loso": 1.0, "held_out": 1.0, "all_subjects_loso": 1.0}
    assert report["metrics_by_source"].keys() == {source.name for source in train.SOURCES[1:]}
    assert all(m[part]["balanced_accuracy"] == 0.0
               for m in report["metrics_by_source"].values() for part in ("development_loso", "held_out"))
