"""What the stress-model export tests build by hand: a trained run's folder (its report), a subject's windows, a
recording scanned to stand-in windows, and a training run over stand-in models (no feature work, no fitting)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np

from export.physio import dataset, train
from export.physio.dataset import SubjectWindows
from runtime.arms.physio.features import MEASUREMENTS


def trained_folder(tmp_path, weights: dict, n_inputs: int, **report_keys):
    metrics = {
        "balanced_accuracy": 0.7,
        "ba_interval_95": [0.61, 0.78],
        "macro_f1": 0.7,
        "ece": 0.05,
        "per_subject_ba_mean": 0.7,
        "per_subject_ba_sd": 0.1,
        "per_subject_ba_min": 0.5,
        "subjects": 3,
        "windows": 30,
    }
    report = {
        "data": str(tmp_path),
        "features": list(MEASUREMENTS[: n_inputs // 3]),
        "window_s": 30.0,
        "hop_s": 5.0,
        "context_windows": 25,
        "local_baseline_windows": 361,  # three inputs per feature
        "scaling": "rank",
        "split": {"held_out_subjects": ["S04"]},
        "metrics": {"development_loso": metrics, "held_out": metrics, "all_subjects_loso": metrics},
        "weights": weights,
    } | report_keys
    folder = tmp_path / "trained"
    folder.mkdir()
    (folder / "report.json").write_text(json.dumps(report))
    return folder


def subject_session(subject: str, rng, n: int = 80) -> SubjectWindows:
    stress = (np.arange(n) // 20) % 2  # blocks of 20 windows (100 s) alternating
    features = rng.normal(size=(n, len(MEASUREMENTS))) + stress[:, None]
    return SubjectWindows(subject, 5.0 * np.arange(n), features, np.ones(n), stress.astype(float))


def stand_in_windows(monkeypatch, spans: list[tuple[float, float]]):
    """subject_windows over stand-in windows ``spans`` of a recording starting at UNIX 1000 (no E4 read)."""
    recording = SimpleNamespace(start_unix_s=1000.0, channels={})
    windows = [SimpleNamespace(start_s=a, end_s=b, quality=1.0, measurements=dict.fromkeys(MEASUREMENTS, 0.0))
               for a, b in spans]
    monkeypatch.setattr(dataset, "read_e4", lambda _path: recording)
    monkeypatch.setattr(dataset, "recording_features", lambda _recording, _window_s, _hop_s: windows)


class StandInModel:
    """Stands in for a fitted StressEnsemble: the subjects it was trained on."""

    def __init__(self, trained: list[str]):
        self.trained = list(trained)

    def weights(self) -> dict:
        return {"trained on": self.trained}


def train_over_stand_ins(tmp_path, monkeypatch, subjects, development, held_out, by_source, scope="session"):
    """``train._train``'s report over StandInModels scored by ``by_source`` (predictions_by_source's stand-in)."""
    monkeypatch.setattr(train, "load_sources", lambda *_args, **_kwargs: None)
    monkeypatch.setattr(train, "check_usable_windows", lambda *_args, **_kwargs: None)
    monkeypatch.setattr(train, "fit", lambda _windows, trained, scope="session": StandInModel(trained))
    monkeypatch.setattr(train, "predictions_by_source", by_source)
    run = SimpleNamespace(begin=lambda: tmp_path)
    return train._train(tmp_path, run, subjects, development, held_out, None, scope).data
