"""``emotrace evaluate physio``: a stress model scored on labelled recordings in the Stress-Predict layout, each
judged as ``physio classify`` judges it and labelled as training labels it; what cannot be scored is said."""

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from export.physio import evaluate as evaluate_physio
from runtime.arms.physio.readers import read_recording
from runtime.arms.physio.stress import PhysioWindow
from runtime.cli import main
from runtime.models.card import REPO_MODELS_DIR
from tests.export.evaluations import evaluated
from tests.physio_factory import START_UNIX_S, write_e4, write_labels, zip_e4

STAND_IN_START_S = 1000.0  # the stand-in recordings' UNIX start
STARTS_S = 5.0 * np.arange(40)  # 30 s windows at 5 s hop over 225 s; from 105 s on, most of a window is stress
STRESS_FROM_S = 120


def _windows(no_signal: int = 3, wrong_calm: int = 2) -> list[PhysioWindow]:
    """Stand-in judged windows: stress ones 90 % sure of stress, calm ones 90 % sure of calm, but the first
    ``wrong_calm`` calm ones called stress and the last ``no_signal`` stress ones without a figure (quality 0)."""
    out = []
    for i, start in enumerate(STARTS_S):
        stress = start + 15 >= STRESS_FROM_S
        p = 0.9 if stress or i < wrong_calm else 0.1
        silent = i >= len(STARTS_S) - no_signal
        out.append(PhysioWindow(start, start + 30, None if silent else p, 0.0 if silent else 1.0,
                                "eda missing" if silent else "", {}))
    return out


def _label_rows(participant: int, start_unix_s: float, seconds: int = 225, stress_from_s: int = STRESS_FROM_S):
    return [f"{participant},80,12,{start_unix_s + t:.0f},{int(t >= stress_from_s)}" for t in range(seconds)]


def _stand_in_set(tmp_path, monkeypatch, subjects=(4, 40), windows=None, extra_rows=(), stress_from_s=STRESS_FROM_S,
                  lacking=()):
    """A Stress-Predict folder of ``subjects`` (participant numbers) whose recordings (20 s E4 exports, those of the
    subjects in ``lacking`` without EDA.csv) are read, but judged by a stand-in (no model run): ``windows`` gives a
    subject's judged windows (``_windows()`` by default)."""
    data = tmp_path / "set"
    (data / "raw").mkdir(parents=True)
    write_e4(tmp_path / "e4", duration_s=20.0)
    shutil.copytree(tmp_path / "e4", tmp_path / "e4-lacking")
    (tmp_path / "e4-lacking" / "EDA.csv").unlink()
    for n in subjects:
        zip_e4(tmp_path / ("e4-lacking" if n in lacking else "e4"), data / "raw" / f"S{n:02d}.zip")
    write_labels(data, [row for n in subjects for row in _label_rows(n, STAND_IN_START_S, stress_from_s=stress_from_s)]
                 + list(extra_rows))
    judged = windows or (lambda _subject: _windows())
    monkeypatch.setattr(evaluate_physio, "read_recording",
                        lambda path: dataclasses.replace(read_recording(path), start_unix_s=STAND_IN_START_S))
    monkeypatch.setattr(evaluate_physio, "classify_windows",
                        lambda recording, model, settings: judged(Path(recording.source).stem))
    return data


def test_windows_without_a_stress_figure_are_left_out_and_counted_not_scored_wrong(tmp_path, monkeypatch):
    data = _stand_in_set(tmp_path, monkeypatch)
    code, report = evaluated("physio", data, tmp_path / "out")
    assert code == 0
    # per subject: 21 calm windows (2 called stress), 19 stress ones of which 3 have no figure (left out, not wrong)
    assert report["windows"] == 2 * 37
    assert report["balanced_accuracy"] == pytest.approx((19 / 21 + 1.0) / 2)
    assert report["per_subject"]["S04"] == {"windows": 37, "stress_windows": 16, "ba": pytest.approx((19 / 21 + 1) / 2),
                                            "without_figure": 3, "without_figure_by_reason": {"eda missing": 3},
                                            "channels_missing": []}
    assert any(line.startswith("6 labelled window(s) without a stress figure") for line in report["notes"])
    assert (tmp_path / "out" / "physio_evaluation.md").read_text().count("| S40 | 37 | 16 |") == 1


def test_windows_without_a_figure_are_counted_by_the_kind_of_reason_not_by_its_figures(tmp_path, monkeypatch):
    def windows(_subject):  # each window's reason with its own shares, as the runtime words it
        return [w if w.stress is not None else dataclasses.replace(
            w, reason=f"too little heart or EDA signal in this window (heart {i} %, EDA 0 % of it; a figure needs "
                      "one at 50 % or more)") for i, w in enumerate(_windows())]

    code, report = evaluated("physio", _stand_in_set(tmp_path, monkeypatch, windows=windows), tmp_path / "out")
    # was: one key per window's wording, '... (heart 37 %, EDA 0 % ...)': 1, '... (heart 38 % ...': 1, ...
    assert code == 0 and report["per_subject"]["S04"]["without_figure_by_reason"] == {
        "too little heart or EDA signal in this window": 3}


def test_a_recording_without_a_channel_file_is_named_in_the_saved_report_with_what_it_lacks(tmp_path, monkeypatch):
    data = _stand_in_set(tmp_path, monkeypatch, subjects=(40, 41), lacking=(41,))
    code, report = evaluated("physio", data, tmp_path / "out")
    # was: scored without its EDA with a warning on the terminal alone; the saved report never said so
    assert code == 0
    assert report["per_subject"]["S41"]["channels_missing"] == ["EDA"]
    assert report["per_subject"]["S40"]["channels_missing"] == []
    lacking = [line for line in report["notes"] if "channel" in line]
    assert len(lacking) == 1 and lacking[0].endswith(": S41 without EDA")
    assert lacking[0] in (tmp_path / "out" / "physio_evaluation.md").read_text()


def test_one_subjects_per_subject_ba_has_no_spread(tmp_path, monkeypatch, capsys):
    code, report = evaluated("physio", _stand_in_set(tmp_path, monkeypatch, subjects=(40,)), tmp_path / "out")
    # was: 'per-subject BA 0.952 ± 0.000', the sd of one value
    assert code == 0 and report["per_subject_ba_sd"] is None
    assert report["per_subject_ba_mean"] == pytest.approx((19 / 21 + 1) / 2)
    lines = [line for line in capsys.readouterr().out.splitlines() if "per-subject BA" in line]
    assert len(lines) == 1 and "per-subject BA 0.952 (one subject: no spread)" in lines[0] and "±" not in lines[0]
    assert "per-subject BA 0.952 (one subject: no spread)" in (tmp_path / "out" / "physio_evaluation.md").read_text()


def test_subjects_the_shipped_model_was_trained_on_are_named_as_not_held_out(tmp_path, monkeypatch, capsys):
    data = _stand_in_set(tmp_path, monkeypatch, subjects=(2, 4, 40))
    code, report = evaluated("physio", data, tmp_path / "out")
    # S02 a development subject, S04 a held-out one: the shipped model is refit on both; S40 is no Stress-Predict id
    assert code == 0 and report["subjects_seen_in_training"] == ["S02", "S04"]
    seen = [line for line in report["notes"] if "not held-out figures" in line]
    assert seen == [line for line in report["notes"] if line.startswith("2 of 3 subjects")]
    assert seen[0].endswith("the card's held-out BA 0.773 on S04, S09, S13, S17, S21, S25, S28 is that of a model "
                            "trained without them")
    assert "not held-out figures: S02, S04" in capsys.readouterr().out


def test_a_set_of_unseen_subjects_has_no_seen_note_and_a_card_without_a_split_says_it_cannot_tell(tmp_path,
                                                                                                   monkeypatch):
    data = _stand_in_set(tmp_path, monkeypatch, subjects=(40, 41))
    code, report = evaluated("physio", data, tmp_path / "out")
    assert code == 0 and report["subjects_seen_in_training"] == []
    assert not [line for line in report["notes"] if "trained on" in line or "held out" in line]
    model = tmp_path / "model"
    shutil.copytree(REPO_MODELS_DIR / "physio-stress", model)
    card = json.loads((model / "card.json").read_text())
    del card["split"]
    (model / "card.json").write_text(json.dumps(card))
    code, report = evaluated("physio", data, tmp_path / "out2", "--model", str(model))
    assert code == 0 and report["subjects_seen_in_training"] is None
    assert "names no training subjects: whether these subjects are held out is unknown" in report["notes"][0]


def test_subjects_without_labels_a_recording_or_a_labelled_window_are_left_out_and_named(tmp_path, monkeypatch):
    data = _stand_in_set(tmp_path, monkeypatch, subjects=(40, 41, 42, 43, 44),
                         extra_rows=[*_label_rows(5, STAND_IN_START_S), *_label_rows(6, STAND_IN_START_S + 5000)])
    write_e4(tmp_path / "e4", duration_s=20.0)
    for subject in ("S01", "S06"):
        zip_e4(tmp_path / "e4", data / "raw" / f"{subject}.zip")
    code, report = evaluated("physio", data, tmp_path / "out")
    assert code == 0 and report["subjects"] == 5
    assert report["subjects_left_out"] == {
        "S01": "no labels in labels/stress_labels*.csv", "S05": "no recording in raw/",
        "S06": "no window of the recording is labelled: the labels do not cover it"}
    assert ("subjects left out: no labels in labels/stress_labels*.csv: S01; no recording in raw/: S05; no "
            "window of the recording is labelled: the labels do not cover it: S06") in report["notes"]
    assert not [line for line in report["notes"] if "rough" in line]  # five subjects: an interval, not a rough one
    assert len(report["ba_interval_95"]) == 2


def test_a_set_whose_every_subject_is_left_out_is_refused_saying_why_once(tmp_path, monkeypatch, capsys):
    data = _stand_in_set(tmp_path, monkeypatch, windows=lambda _subject: _windows(no_signal=len(STARTS_S)))
    assert main(["evaluate", "physio", str(data), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    # was: 'no subject has a labelled window with a stress figure: no labelled window with a stress figure: ...'
    assert len(err) == 1 and err[0].endswith(
        "nothing to score, every subject left out: no labelled window with a stress figure: eda missing: S04, S40")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("subjects, note", [((40,), "one subject: no interval over subjects"),
                                            ((40, 41), "2 subjects: an interval over so few is rough")])
def test_an_interval_over_fewer_than_five_subjects_is_said_rough_or_absent(tmp_path, monkeypatch, subjects, note):
    code, report = evaluated("physio", _stand_in_set(tmp_path, monkeypatch, subjects=subjects), tmp_path / "out")
    assert code == 0 and any(line.startswith(note) for line in report["notes"])
    assert (report["ba_interval_95"] is None) == (len(subjects) == 1)


def test_the_interval_is_drawn_as_resamples_and_seed_say(tmp_path, monkeypatch):
    data = _stand_in_set(tmp_path, monkeypatch, subjects=range(40, 48),
                         windows=lambda subject: _windows(wrong_calm=2 * (int(subject[1:]) - 40)))
    intervals = {}
    for resamples, seed in ((50, 0), (50, 0), (50, 1), (3, 0)):
        out = tmp_path / f"out-{len(intervals)}"
        code, report = evaluated("physio", data, out, "--resamples", str(resamples), "--seed", str(seed))
        assert code == 0 and report["interval"] == {"resamples": resamples, "seed": seed, "unit": "subject"}
        intervals[len(intervals)] = report["ba_interval_95"]
    assert intervals[0] == intervals[1]
    assert intervals[0] != intervals[2] and intervals[0] != intervals[3]


def test_subjects_all_calm_give_no_interval_no_per_subject_ba_and_say_so(tmp_path, monkeypatch, capsys):
    data = _stand_in_set(tmp_path, monkeypatch, subjects=(40, 41), stress_from_s=10_000)
    assert main(["evaluate", "physio", str(data), "--out", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "physio_evaluation.json").read_text()
    report = json.loads(text)
    assert "NaN" not in text and report["ba_interval_95"] is None and report["per_subject_ba"] == {}
    assert report["notes"][-3:] == [
        "no per-subject BA for S40, S41: their scored windows hold one class (counted in the pooled figures)",
        "no interval: no draw of subjects holds both stress and calm windows",
        "every scored window is calm: the balanced accuracy is that class's recall alone"]
    assert "per-subject BA none (no subject's windows hold both classes)" in capsys.readouterr().out


def _real_recording_set(tmp_path) -> Path:
    """One subject, S40, with a 400 s E4 recording (long enough for a session baseline), stress from 200 s on."""
    data = tmp_path / "set"
    (data / "raw").mkdir(parents=True)
    write_e4(tmp_path / "e4", duration_s=400.0)
    zip_e4(tmp_path / "e4", data / "raw" / "S40.zip")
    write_labels(data, _label_rows(40, START_UNIX_S, seconds=400, stress_from_s=200))
    return data


def test_the_figures_are_the_shipped_models_on_the_windows_and_labels_training_scores(tmp_path, monkeypatch):
    from export.physio import dataset
    from export.physio.dataset import load_labels, subject_windows
    from export.physio.train import HOP_S, WINDOW_S, evaluate, subject_xy
    from runtime.arms.physio import arm
    from runtime.arms.physio.features import MEASUREMENTS, WindowFeatures
    from runtime.arms.physio.stress import load_physio_model, stress_probabilities

    rng = np.random.default_rng(3)
    starts = 5.0 * np.arange(75)
    measurements = rng.normal(size=(len(starts), len(MEASUREMENTS))) + (starts >= 185)[:, None]
    quality = np.where(np.arange(len(starts)) % 9 == 4, 0.0, 1.0)  # some windows without signal, in both classes
    stand_ins = [WindowFeatures(s, s + 30, dict(zip(MEASUREMENTS, row, strict=True)), q, "" if q else "eda missing")
                 for s, row, q in zip(starts, measurements, quality, strict=True)]
    # the features stand in for neurokit's work (seconds a recording); the recording, the model and its inputs are real
    monkeypatch.setattr(arm, "recording_features", lambda *_args, **_kwargs: stand_ins)
    monkeypatch.setattr(dataset, "recording_features", lambda *_args, **_kwargs: stand_ins)
    data = _real_recording_set(tmp_path)
    code, report = evaluated("physio", data, tmp_path / "out")

    session = subject_windows(data, "S40", load_labels(data)["S40"], WINDOW_S, HOP_S)
    x, y = subject_xy(session, False)
    expected = evaluate({"S40": (stress_probabilities(load_physio_model(), x), y)})
    assert code == 0 and 0 < y.mean() < 1
    assert report["windows"] == len(y) == expected["windows"]
    for figure in ("balanced_accuracy", "macro_f1", "ece"):
        assert report[figure] == pytest.approx(expected[figure], abs=1e-12)
    assert report["per_subject"]["S40"]["without_figure"] == int((np.isfinite(session.stress_fraction)
                                                                  & (session.quality == 0)).sum()) > 0


def _not_a_zip(tmp_path) -> Path:
    data = tmp_path / "set"
    (data / "raw").mkdir(parents=True)
    (data / "raw" / "S04.zip").write_bytes(b"not a zip")
    write_labels(data, _label_rows(4, STAND_IN_START_S))
    return data


def _no_pairs(tmp_path) -> Path:
    data = tmp_path / "set"
    (data / "raw").mkdir(parents=True)
    write_e4(tmp_path / "e4", duration_s=20.0)
    zip_e4(tmp_path / "e4", data / "raw" / "S01.zip")
    write_labels(data, _label_rows(4, STAND_IN_START_S))
    return data


def _no_raw(tmp_path) -> Path:
    (tmp_path / "set").mkdir()
    return tmp_path / "set"


def _raw_alone(tmp_path) -> Path:
    (tmp_path / "set" / "raw").mkdir(parents=True)
    return tmp_path / "set"


@pytest.mark.parametrize("make, options, named, problem", [
    (lambda tmp: tmp / "none", (), "none", "no such folder"),
    (_no_raw, (), "set", "not a Stress-Predict folder (no raw/ with SXX.zip)"),
    (_raw_alone, (), "labels", "no Stress-Predict label file there (stress_labels*.csv)"),
    (_no_pairs, (), "set", "no subject has both labels (S04) and a recording in raw/ (S01)"),
    (_not_a_zip, (), "S04.zip", "not a readable zip archive"),
    (_no_pairs, ("--resamples", "0"), "--resamples", "must be at least 1, not 0"),
])
def test_a_set_that_cannot_be_scored_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, make, options, named,
                                                                           problem):
    out = tmp_path / "out"
    code = main(["evaluate", "physio", str(make(tmp_path)), "--out", str(out), *options])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and problem in err[0] and named in err[0]
    assert not out.exists()


def test_an_out_that_cannot_be_written_is_refused_before_any_recording_is_read(tmp_path, monkeypatch, capsys):
    data = _stand_in_set(tmp_path, monkeypatch)
    monkeypatch.setattr(evaluate_physio, "judge_subject", lambda *_args: pytest.fail("a recording was judged"))
    (tmp_path / "file").write_text("")
    for out, problem in ((tmp_path / "file", "give a folder to write into"),
                         (data / "runs", "lies inside the data folder")):
        assert main(["evaluate", "physio", str(data), "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and str(out) in err[0] and problem in err[0]
