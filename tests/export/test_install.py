import stat

import pytest

from export.install import install_folder, installing, staging_folder
from runtime.errors import InputError


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
