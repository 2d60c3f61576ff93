"""Installing an exported model, and the small parts of the training host around it: the guard over the repo's
models/, a new model's version, the quantizer's quiet and per-channel weights (from a mutation review)."""

import json
import logging
import os
import time

import numpy as np
import onnx
import pytest

import export.install as install
from export.install import (
    check_install_target,
    guarded_out,
    guarded_target,
    installing,
    model_version,
    with_destination,
)
from export.quantization import _not_the_quantizers, quantize_weights_dynamic, quiet_quantizer
from runtime.errors import InputError
from tests.export.onnx_graphs import matmul_graph


def _model_folder(folder, task="a task", **card):
    folder.mkdir(parents=True)
    (folder / "card.json").write_text(json.dumps({"id": folder.name, "version": "1", "task": task, **card}))
    return folder


@pytest.fixture
def repo_models(tmp_path, monkeypatch):
    """A stand-in for the repo's models/, which every command reads."""
    models = tmp_path / "repo-models"
    models.mkdir()
    monkeypatch.setattr(install, "REPO_MODELS_DIR", models)
    return models


# --- the guard over the repo's models/ ------------------------------------------------------------------------


def test_a_new_model_id_in_the_repos_models_needs_no_replace(repo_models):
    assert guarded_target(None, False, "new-model", "a task") == (repo_models / "new-model", True)


def test_an_unreadable_card_in_the_repos_models_is_refused_saying_what_to_do(repo_models):
    (repo_models / "m").mkdir()
    (repo_models / "m" / "card.json").write_text("{half a card")
    with pytest.raises(InputError, match=r"card\.json: not a readable model card \(.*\), so what an export would "
                                         r"replace cannot be told: give --replace to replace it, or --models-dir DIR"):
        guarded_target(None, False, "m", "a task")


def test_an_out_folder_in_the_repos_models_is_kept_unasked(repo_models):
    target = _model_folder(repo_models / "m")
    with pytest.raises(InputError) as refused:
        guarded_out(target, False, "a task")
    assert str(refused.value) == (f"{target}: holds m 1, which every command reading m uses: give --replace to "
                                  "replace it, or --out naming a folder outside the repo's models/")
    assert guarded_out(target, True, "a task") == target


def test_an_empty_folder_may_be_installed_into(tmp_path):
    (tmp_path / "empty").mkdir()
    assert check_install_target(tmp_path / "empty", task="a task") == tmp_path / "empty"


def test_a_file_where_a_model_folder_would_go_is_refused_and_kept(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("a clinic's notes")
    # was: the file renamed away and removed, a model folder in its place
    with pytest.raises(InputError, match="is a file, not a model folder; give a new or empty folder"), \
            installing(notes) as staging:
        (staging / "card.json").write_text("{}")
    assert notes.read_text() == "a clinic's notes"
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(InputError, match="is a device, pipe or socket, not a model folder"):
        check_install_target(tmp_path / "pipe")
    # an install its caller checks itself (the backbone store's) is refused too, when the work is done
    with pytest.raises(InputError, match="is a file, not a model folder$"), installing(notes, checked=False) as staging:
        (staging / "config.json").write_text("{}")
    assert notes.read_text() == "a clinic's notes"


def test_a_target_that_cannot_be_looked_at_is_one_line_naming_it(tmp_path, monkeypatch):
    from pathlib import Path

    target = tmp_path / "m"
    real_stat = Path.stat

    def denied(path, *args, **kwargs):  # root passes any permission, so the refusal is faked
        if path == target:
            raise PermissionError(13, "Permission denied", str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", denied)
    with pytest.raises(InputError) as refused:  # was: a PermissionError from Path.exists
        check_install_target(target, task="a task")
    assert str(refused.value) == f"{target}: cannot be listed (Permission denied)"


def test_a_folder_that_cannot_be_listed_is_one_line_naming_it(tmp_path, monkeypatch):
    from pathlib import Path

    target = _model_folder(tmp_path / "m")
    real_iterdir = Path.iterdir

    def denied(path):  # root lists whatever chmod says, so the refusal is faked
        if path == target:
            raise PermissionError(13, "Permission denied", str(path))
        return real_iterdir(path)

    monkeypatch.setattr(Path, "iterdir", denied)
    with pytest.raises(InputError) as refused:
        check_install_target(target, task="a task")
    assert str(refused.value) == f"{target}: cannot be listed (Permission denied)"


def test_a_rebuild_line_with_trailing_spaces_gets_its_destination_once():
    assert with_destination("emotrace export x RUN --replace  ", False) == "emotrace export x RUN --models-dir DIR"


def test_a_new_models_version_is_the_utc_date_year_month_day(monkeypatch):
    monkeypatch.setattr(install.time, "gmtime", lambda *_: time.struct_time((2026, 3, 9, 23, 30, 0, 0, 68, 0)))
    assert model_version() == "2026.03.09"
    assert model_version("89abcdef0123") == "2026.03.09-89abcdef"


# --- the quantizer's quiet, and its per-channel weights ---------------------------------------------------------


def test_the_quantizers_quiet_ends_with_the_block():
    root = logging.getLogger()
    with quiet_quantizer():
        assert _not_the_quantizers in root.filters
    assert _not_the_quantizers not in root.filters


def test_per_channel_quantization_gives_each_output_column_its_own_scale(tmp_path):
    scales = {}
    for per_channel in (False, True):
        out = quantize_weights_dynamic(matmul_graph(tmp_path / "f.onnx", n_out=16), tmp_path / f"{per_channel}.onnx",
                                       ["MatMul"], per_channel)
        scales[per_channel] = [np.prod(t.dims) for t in onnx.load(str(out)).graph.initializer
                               if t.name.endswith("_scale")]
    assert scales == {False: [1], True: [16]}
