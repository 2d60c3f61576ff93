import stat

from export.install import install_folder, staging_folder


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
