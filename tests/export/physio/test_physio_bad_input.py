"""Bad input to 'emotrace train physio' and 'emotrace export physio': one line and exit 2 before any feature work,
nothing written into the data, nothing lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from export.physio import train
from runtime.cli import main
from tests.export.physio.training_inputs import trained_folder
from tests.physio_factory import write_e4, write_labels, zip_e4


def _listing(folder):
    return sorted((str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*"))


@pytest.fixture
def data(tmp_path, monkeypatch):
    """Labels for S02-S04 and a short recording for each; feature work is refused here (the checks come first)."""
    root = tmp_path / "data"
    (root / "raw").mkdir(parents=True)
    write_labels(root, [f"{p},80,12,{1000 + i},{i % 2}" for p in (2, 3, 4) for i in range(4)])
    recording = write_e4(tmp_path / "e4", duration_s=60)
    for subject in ("S02", "S03", "S04"):
        zip_e4(recording, root / "raw" / f"{subject}.zip")

    def no_feature_work(*_args, **_kwargs):
        raise AssertionError("feature work started before the input was checked")

    monkeypatch.setattr(train, "load_sources", no_feature_work)
    return root


@pytest.mark.parametrize(("args", "problem"), [
    (["--out", "{data}"], "is the data folder"),
    (["--out", "{data}/raw/run"], "raw/run: lies inside the data folder"),
    (["--out", "{tmp}/out", "--cache", "{data}"], "is the data folder"),
    (["--out", "{tmp}/out", "--cache", "{data}/cache"], "cache: lies inside the data folder"),
    (["--out", "{tmp}/out", "--missing", "S03"], "raw: no recording for S03, labelled in"),
    (["--out", "{tmp}/out", "--cut", "S04"], "S04.zip: not a readable zip archive"),  # was: after S02's and S03's
], ids=["out is the data", "out inside the data", "cache is the data", "cache inside the data", "recording missing",
        "recording not a zip"])
def test_bad_training_input_is_one_line_before_any_feature_work_and_writes_nothing(data, tmp_path, capsys, args,
                                                                                   problem):
    if "--missing" in args:
        (data / "raw" / f"{args.pop()}.zip").unlink()
        args.pop()
    if "--cut" in args:  # a recording copied in part
        zipped = data / "raw" / f"{args.pop()}.zip"
        zipped.write_bytes(zipped.read_bytes()[:100])
        args.pop()
    before = _listing(tmp_path)
    argv = [a.format(data=data, tmp=tmp_path) for a in args]
    assert main(["train", "physio", str(data), *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and problem in err, err
    assert _listing(tmp_path) == before


def test_exporting_into_a_models_dir_that_is_a_file_is_one_line(tmp_path, capsys):
    trained = trained_folder(tmp_path, {"coef": [1.0] * 21, "intercept": 0.0}, 21)
    models = tmp_path / "models"
    models.write_text("")
    assert main(["export", "physio", str(trained), "--models-dir", str(models)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "models: is a file; give a folder to write into" in err, err
    assert models.read_text() == ""


def test_ctrl_c_during_fitting_exits_130_keeping_an_earlier_report_and_making_no_folder(data, tmp_path, monkeypatch,
                                                                                        capsys):
    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "load_sources", lambda *_args, **_kwargs: {})
    monkeypatch.setattr(train, "check_usable_windows", lambda *_args, **_kwargs: None)
    monkeypatch.setattr(train, "fit", interrupted)
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "report.json").write_text("{}")
    assert main(["train", "physio", str(data), "--out", str(earlier)]) == 130
    assert main(["train", "physio", str(data), "--out", str(tmp_path / "new" / "run")]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert (earlier / "report.json").read_text() == "{}" and not (tmp_path / "new").exists()


@pytest.mark.parametrize("cache", ["cache", "parts/cache", "."], ids=["in out", "deeper in out", "out itself"])
def test_a_stopped_first_run_keeps_a_cache_inside_its_out_for_a_retry(data, tmp_path, monkeypatch, caplog, cache):
    def cached_then_stopped(data_dir, cache_dir=None, subjects=None):
        (cache_dir / "S02_w60_h5.npz").parent.mkdir(parents=True, exist_ok=True)
        (cache_dir / "S02_w60_h5.npz").write_bytes(b"windows")  # minutes of feature work, then Ctrl-C in fitting
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "load_sources", cached_then_stopped)
    out = tmp_path / "runs" / "physio"
    with caplog.at_level("WARNING"):
        assert main(["train", "physio", str(data), "--out", str(out), "--cache", str(out / cache)]) == 130
    # was: --out removed whole, the cache in it too
    assert [str(p.relative_to(out)) for p in out.rglob("*.npz")] == [str(Path(cache) / "S02_w60_h5.npz")]
    assert any(message.endswith("for a retry") for message in caplog.messages)


def test_a_stop_swallowed_while_a_subject_is_read_ends_the_pass_at_the_next_subject(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import numpy as np

    from export.physio import dataset
    from runtime.stopping import stopping_on_signals
    from tests.runtime.stops import swallowed_stop

    read = []

    def windows(data_dir, subject, *args):  # a library swallowed the Ctrl-C while the subject was read
        read.append(subject)
        swallowed_stop()
        return SimpleNamespace(stress_fraction=np.array([0.5]))

    monkeypatch.setattr(dataset, "load_labels", lambda data_dir: {"S01": None, "S02": None, "S03": None})
    monkeypatch.setattr(dataset, "subject_windows", windows)
    with stopping_on_signals(), pytest.raises(KeyboardInterrupt):
        dataset.load_dataset(tmp_path, 60.0, 5.0)
    assert read == ["S01"]  # was: every subject read, and the run trained on


def test_an_export_over_the_repos_model_needs_replace_and_its_rebuild_line_says_where_it_went(tmp_path, monkeypatch,
                                                                                             capsys):
    import json
    import shutil

    import export.install
    from runtime.models.card import REPO_MODELS_DIR

    repo_models = tmp_path / "repo" / "models"  # stands in for the repo's models/, which every command reads
    shutil.copytree(REPO_MODELS_DIR / "physio-stress", repo_models / "physio-stress")
    monkeypatch.setattr(export.install, "REPO_MODELS_DIR", repo_models)
    trained = trained_folder(tmp_path, {"coef": [1.0] * 21, "intercept": 0.0}, 21)
    before = _listing(repo_models)
    # was: physio-stress 2.4.0 replaced, said only afterwards in a warning
    assert main(["export", "physio", str(trained)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{repo_models / 'physio-stress'}: holds physio-stress 2.4.0" in err
    assert "--replace" in err and "--models-dir DIR" in err
    assert _listing(repo_models) == before
    elsewhere = tmp_path / "elsewhere"
    assert main(["export", "physio", str(trained), "--models-dir", str(elsewhere)]) == 0
    # was: 'emotrace export physio DIR', which replaces the repo's model
    beside = elsewhere / "physio-stress"
    assert json.loads((beside / "card.json").read_text())["rebuild"].endswith(
        "emotrace export physio RUN --models-dir DIR")
    assert "`--models-dir DIR`: the folder this model was exported into" in (beside / "MODEL_CARD.md").read_text()
    assert main(["export", "physio", str(trained), "--replace"]) == 0
    shipped = repo_models / "physio-stress"
    assert json.loads((shipped / "card.json").read_text())["rebuild"].endswith("emotrace export physio RUN --replace")
    assert "`--replace`: over the model in the repo's models/physio-stress" in (shipped / "MODEL_CARD.md").read_text()


@pytest.mark.parametrize("replace", [False, True])
def test_an_export_over_a_model_of_another_task_is_refused_in_one_line_wherever_it_is(tmp_path, monkeypatch, capsys,
                                                                                      replace):
    import json

    import export.install
    from runtime.arms.face.expression import FACE_TASK

    repo_models = tmp_path / "repo" / "models"
    monkeypatch.setattr(export.install, "REPO_MODELS_DIR", repo_models)
    # a face model exported with --id physio-stress: into another folder, or into the repo's models/ (replace)
    models = repo_models if replace else tmp_path / "elsewhere"
    other = models / "physio-stress"
    other.mkdir(parents=True)
    (other / "card.json").write_text(json.dumps({"id": "physio-stress", "version": "1", "task": FACE_TASK}))
    before = _listing(models)
    trained = trained_folder(tmp_path, {"coef": [1.0] * 21, "intercept": 0.0}, 21)
    args = ["--replace"] if replace else ["--models-dir", str(models)]
    assert main(["export", "physio", str(trained), *args]) == 2  # was: 0, the face model replaced
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{other}: holds a model for {FACE_TASK!r}, not 'stress vs no stress" in err
    assert _listing(models) == before


@pytest.mark.parametrize("where", ["elsewhere", "repo", "repo --replace"])
def test_an_export_into_a_folder_holding_an_ensemble_names_it_by_its_members(tmp_path, monkeypatch, capsys, where):
    import json

    import export.install
    from runtime.arms.face.expression import ENSEMBLE_TASK

    repo_models = tmp_path / "repo" / "models"
    monkeypatch.setattr(export.install, "REPO_MODELS_DIR", repo_models)
    models = tmp_path / "elsewhere" if where == "elsewhere" else repo_models
    ensemble = models / "physio-stress"  # a face ensemble composed under this id
    ensemble.mkdir(parents=True)
    (ensemble / "card.json").write_text(json.dumps({
        "id": "physio-stress", "version": "1", "task": ENSEMBLE_TASK, "files": {},
        "members": ["../face-expression-cnn", "../face-expression-fer"]}))
    before = _listing(models)
    trained = trained_folder(tmp_path, {"coef": [1.0] * 21, "intercept": 0.0}, 21)
    args = {"elsewhere": ["--models-dir", str(models)], "repo": [], "repo --replace": ["--replace"]}[where]
    assert main(["export", "physio", str(trained), *args]) == 2
    err = capsys.readouterr().err.strip()
    # was: 'holds a model for <the ensemble's task>', or in the repo without --replace advice to give it, which the
    # task check then refused
    said = f"{ensemble}: holds an ensemble of face-expression-cnn, face-expression-fer, not a model for 'stress vs no"
    assert len(err.splitlines()) == 1 and said in err, err
    assert err.endswith("give --models-dir a folder whose physio-stress/ is new, empty or a model of the same task")
    assert _listing(models) == before


def test_a_cards_rebuild_line_run_with_models_dir_added_exports_there(tmp_path, monkeypatch, capsys):
    import json
    import shutil

    import export.install
    from runtime.models.card import REPO_MODELS_DIR

    repo_models = tmp_path / "repo" / "models"
    shutil.copytree(REPO_MODELS_DIR / "physio-stress", repo_models / "physio-stress")
    monkeypatch.setattr(export.install, "REPO_MODELS_DIR", repo_models)
    before = _listing(repo_models)
    rebuild = json.loads((repo_models / "physio-stress" / "card.json").read_text())["rebuild"]
    export_line = rebuild.split(" && ")[-1].split()
    assert export_line[:3] == ["emotrace", "export", "physio"] and export_line[-1] == "--replace"
    trained = trained_folder(tmp_path, {"coef": [1.0] * 21, "intercept": 0.0}, 21)
    argv = [str(trained) if word == "RUN" else word for word in export_line[1:]]
    fresh = tmp_path / "fresh"
    # a fresh folder, then the same folder holding the model of the same task: was, '--replace: not needed with
    # --models-dir'
    for _ in range(2):
        assert main([*argv, "--models-dir", str(fresh)]) == 0, capsys.readouterr().err
        assert json.loads((fresh / "physio-stress" / "card.json").read_text())["rebuild"].endswith(
            "emotrace export physio RUN --models-dir DIR")
    assert _listing(repo_models) == before  # the repo's model is not touched
    # a card that cannot be read: kept without --replace, replaced with it
    (fresh / "physio-stress" / "card.json").write_text("{")
    assert main([*argv[:-1], "--models-dir", str(fresh)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "card.json: not a readable model card" in err
    assert main([*argv, "--models-dir", str(fresh)]) == 0
    assert json.loads((fresh / "physio-stress" / "card.json").read_text())["task"].startswith("stress vs no stress")
