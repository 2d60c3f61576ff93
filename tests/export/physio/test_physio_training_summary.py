"""The summary 'emotrace train physio' prints gives each figure under its own name: an operator reads BA, macro-F1,
ECE, the per-subject spread and the counts off it."""

from __future__ import annotations

from export.physio.train import TrainReport


def test_the_training_summary_gives_each_figure_under_its_own_name(tmp_path):
    figures = {
        "balanced_accuracy": 0.811,
        "ba_interval_95": [0.702, 0.893],
        "macro_f1": 0.644,
        "ece": 0.037,
        "per_subject_ba_mean": 0.799,
        "per_subject_ba_sd": 0.061,
        "per_subject_ba_min": 0.655,
        "subjects": 7,
        "windows": 4321,
    }
    metrics = dict.fromkeys(("development_loso", "held_out", "all_subjects_loso"), figures)
    held_out = TrainReport({"metrics": metrics}, tmp_path).summary().splitlines()[2]
    assert held_out == (
        "  held_out: BA 0.811 (95 % over subjects 0.702-0.893), macro-F1 0.644, ECE 0.037, "
        "per-subject BA 0.799 ± 0.061 (min 0.655), 7 subjects, 4321 windows"
    )
