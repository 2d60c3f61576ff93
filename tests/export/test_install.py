import stat

import pytest

from export.install import (
    check_install_target,
    guarded_out,
    guarded_target,
    install_folder,
    installing,
    model_version,
    models_dir_instead,
    staging_folder,
    with_destination,
    write_card,
)
from runtime.errors import InputError
from tests.export.cards import assert_card_as_exports_write_it


def test_a_model_folder_is_swapped_in_whole_and_readable_by_others(tmp_path):
    models = tmp_path / "models"
    old = models / "m"
    old.mkdir(parents=True)
    (old / "card.json").write_text("old")
    staging = staging_folder(models, "m")
    (staging / "card.json").write_text("new")

    target = install_folder(staging, models / "m")
    assert target == models / "m" and (target / "card.json").read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert sorted(p.name for p in models.iterdir()) == ["m"]  # neither the staging nor the old copy is left


def _old_and_new(models):
    (models / "m").mkdir(parents=True)
    (models / "m" / "card.json").write_text("old")
    staging = staging_folder(models, "m")
    (staging / "card.json").write_text("new")
    return staging


def test_a_new_model_that_cannot_go_in_puts_the_old_one_back(tmp_path, monkeypatch):
    from pathlib import Path

    models = tmp_path / "models"
    staging = _old_and_new(models)
    rename = Path.rename

    def refused(self, target):
        if self == staging:
            raise OSError(13, "Permission denied")
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", refused)
    with pytest.raises(OSError):
        install_folder(staging, models / "m")
    assert (models / "m" / "card.json").read_text() == "old"  # was: gone, left in a hidden .m-old- folder
    assert sorted(p.name for p in models.iterdir()) == sorted(["m", staging.name])  # the caller removes its staging


def test_an_old_copy_that_cannot_be_removed_does_not_undo_the_install(tmp_path, monkeypatch):
    import export.install as install

    models = tmp_path / "models"
    staging = _old_and_new(models)
    remove = install.shutil.rmtree

    def read_only(path, ignore_errors=False, **kwargs):  # the old model's folders copied 0555, a service user
        if not ignore_errors:
            raise PermissionError(13, "Permission denied", str(path))
        remove(path, ignore_errors=True, **kwargs)

    monkeypatch.setattr(install.shutil, "rmtree", read_only)
    assert (install_folder(staging, models / "m") / "card.json").read_text() == "new"  # was: PermissionError


def test_a_first_install_needs_no_old_folder(tmp_path):
    staging = staging_folder(tmp_path / "new-models", "m")
    (staging / "x").write_text("1")
    assert (install_folder(staging, tmp_path / "new-models" / "m") / "x").read_text() == "1"


def test_an_export_that_fails_leaves_the_old_model_whole_and_no_staging(tmp_path):
    target = tmp_path / "models" / "m"
    target.mkdir(parents=True)
    (target / "card.json").write_text("old")
    with pytest.raises(InputError, match="late"), installing(target) as staging:
        (staging / "card.json").write_text("half")
        raise InputError("data", "found late")
    assert sorted(p.name for p in target.parent.iterdir()) == ["m"] and (target / "card.json").read_text() == "old"
    with installing(target) as staging:
        (staging / "card.json").write_text("new")
    assert (target / "card.json").read_text() == "new"


def test_installing_will_not_replace_a_folder_that_holds_no_model(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "session.txt").write_text("keep me")
    with pytest.raises(InputError, match="no card.json"), installing(tmp_path / "notes"):
        pass
    assert (tmp_path / "notes" / "session.txt").read_text() == "keep me"


def test_a_new_staging_folder_clears_what_an_install_stopped_by_power_loss_left(tmp_path):
    models = tmp_path / "models"
    left = [models / ".m-k3j_x9q2", models / ".m-old-0a1b2c3d"]  # a staging copy and an old copy of m
    kept = [models / ".mx-abcd1234", models / ".m-notes", models / "m"]  # another model's, not ours, the model
    for folder in left + kept:
        (folder / "weights").mkdir(parents=True)
    staging = staging_folder(models, "m")  # was: the leftovers stayed, each as large as the model
    assert sorted(p.name for p in models.iterdir()) == sorted([staging.name, *(p.name for p in kept)])


@pytest.mark.parametrize("checked", [True, False])
def test_a_replacement_the_file_system_refuses_is_one_line_and_the_old_model_stays(tmp_path, monkeypatch, checked):
    from pathlib import Path

    models = tmp_path / "models"
    (models / "m").mkdir(parents=True)
    (models / "m" / "card.json").write_text("old")
    rename = Path.rename

    def refused(self, target):  # the new model cannot be renamed in (a disk gone read-only, a held folder)
        if self.name.startswith(".m-") and target == models / "m":
            raise OSError(30, "Read-only file system")
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", refused)
    said = r"models/m: cannot be replaced \(Read-only file system\); the model there stays"
    with pytest.raises(InputError, match=said), installing(models / "m", checked=checked) as staging:
        (staging / "card.json").write_text("new")  # was: an internal OSError (every export but `models add`)
    assert (models / "m" / "card.json").read_text() == "old"
    assert sorted(p.name for p in models.iterdir()) == ["m"]  # no staging or old copy left


def test_a_written_card_holds_the_checksum_of_each_file_it_names_and_the_loader_accepts_it(tmp_path):
    (tmp_path / "a.onnx").write_bytes(b"float graph")
    (tmp_path / "a.int8.onnx").write_bytes(b"int8 graph")
    card = {"id": "m", "version": model_version("0123456789abcdef"), "task": "t", "labels": ["calm", "angry"],
            "files": {"default": "a.int8.onnx", "float": "a.onnx"},
            "sha256": {"default": "0" * 64}}  # a stale digest (of an earlier file) is replaced, not kept
    write_card(tmp_path, card)
    loaded = assert_card_as_exports_write_it(tmp_path)
    assert loaded.version.endswith("-01234567") and set(loaded.sha256) == {"default", "float"}


def test_an_export_over_a_model_says_which_it_replaced(tmp_path, caplog):
    target = tmp_path / "models" / "audio-emotion"
    target.mkdir(parents=True)
    (target / "card.json").write_text('{"id": "audio-emotion", "version": "3.1.0"}')
    with caplog.at_level("WARNING"), installing(target) as staging:
        (staging / "card.json").write_text('{"id": "audio-emotion", "version": "clinic-1"}')
    # was: the shipped model gone without a word, a clinic's own read in its place under the same id
    assert f"{target}: replaced audio-emotion 3.1.0, which every command naming it now reads in its place" in \
        caplog.text
    caplog.clear()
    with caplog.at_level("WARNING"), installing(tmp_path / "models" / "new") as staging:
        (staging / "card.json").write_text("{}")
    assert "replaced" not in caplog.text  # a first install replaces nothing


@pytest.mark.parametrize("destination", ["", " --replace", " --models-dir DIR", " --models-dir /m"])
@pytest.mark.parametrize(("shipped", "option"), [(True, "--replace"), (False, "--models-dir DIR")])
def test_a_carried_over_rebuild_line_gets_this_models_destination_once(destination, shipped, option):
    line = "a && emotrace export x RUN" + destination
    assert with_destination(line, shipped) == f"a && emotrace export x RUN {option}"
    assert with_destination(f"{line}  # seed=1", shipped) == f"a && emotrace export x RUN {option}  # seed=1"


@pytest.mark.parametrize("card", [None, {"id": "m", "version": "1", "task": "another task"}])
@pytest.mark.parametrize("id_option", [False, True])
def test_a_refused_folder_under_models_dir_says_to_give_another_models_dir_not_a_folder(tmp_path, card, id_option):
    # the user named --models-dir (and perhaps --id), never models/m itself: was 'give a new or empty folder'
    import json

    target = tmp_path / "models" / "m"
    target.mkdir(parents=True)
    (target / ("card.json" if card else "notes.txt")).write_text(json.dumps(card or {}))
    with pytest.raises(InputError) as refused:
        guarded_target(tmp_path / "models", False, "m", "a task",
                       instead=models_dir_instead("m", id_option=True) if id_option else None)
    advice = refused.value.problem.split("; ")[-1]
    assert advice == ("give --models-dir a folder whose m/ is new, empty or a model of the same task"
                      + (", or another --id" if id_option else ""))
    with pytest.raises(InputError, match="; give a new or empty folder"):  # an --out names its folder itself
        guarded_out(target, False, "a task")


def test_a_model_card_that_cannot_be_read_is_refused_naming_replace_where_the_command_takes_it(tmp_path):
    target = tmp_path / "models" / "m"
    target.mkdir(parents=True)
    (target / "card.json").write_text("{not json")
    # was: the card's problem alone, though --replace would clear it (--models-dir, or an --out)
    with pytest.raises(InputError, match=r"card\.json: .*; give --replace to replace whatever m/ holds$"):
        guarded_target(tmp_path / "models", False, "m", "a task")
    with pytest.raises(InputError, match=r"; give --replace to replace whatever m/ holds$"):
        guarded_out(target, False, "a task")
    with pytest.raises(InputError) as refused:  # train body, which has no --replace, is not told to give it
        check_install_target(target, task="a task")
    assert "--replace" not in str(refused.value)
    assert guarded_target(tmp_path / "models", True, "m", "a task") == (target, False)
