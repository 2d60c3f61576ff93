from pathlib import Path

import pytest

from export.audio.backbones.pull import format_listing, list_models, pull_model, resolve_model
from runtime.cli import main
from runtime.errors import InputError


def _fake_cache(cache: Path, repo_id: str) -> Path:
    """The layout huggingface_hub writes: models--owner--name/{refs/main, snapshots/<commit>/...}."""
    commit = "0" * 40
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    (snapshot / "config.json").write_text("{}")
    return snapshot


def test_a_model_not_in_the_cache_is_an_input_error_naming_the_pull_command(tmp_path):
    with pytest.raises(InputError, match="emotrace models pull wavlm-base-plus"):
        resolve_model("wavlm-base-plus", cache_dir=tmp_path)


def test_a_missing_folder_is_named_as_a_folder(tmp_path):
    with pytest.raises(InputError, match="no such model folder"):
        resolve_model(str(tmp_path / "nowhere" / "model"), cache_dir=tmp_path)


def test_a_cached_model_resolves_by_short_name_and_hub_id_without_the_network(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    snapshot = _fake_cache(tmp_path, "microsoft/wavlm-base-plus")
    assert resolve_model("wavlm-base-plus", cache_dir=tmp_path) == snapshot
    assert resolve_model("microsoft/wavlm-base-plus", cache_dir=tmp_path) == snapshot
    listed = {row.name: row.cached_path for row in list_models(cache_dir=tmp_path)}
    assert listed["wavlm-base-plus"] == snapshot
    assert listed["hubert-base"] is None


def test_pull_honours_hf_hub_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(InputError, match="HF_HUB_OFFLINE"):
        pull_model("wavlm-base-plus", cache_dir=tmp_path)


def test_models_list_shows_each_licence(capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "CC-BY-NC-SA-4.0" in out and "Apache-2.0" in out and "audeering-dim" in out
    assert format_listing(list_models()).count("\n") == len(list_models())


def test_training_with_an_uncached_backbone_fails_in_one_line_naming_the_pull(
    tmp_path, capsys, monkeypatch, ravdess_manifest
):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code = main(
        [
            "train",
            "audio",
            str(ravdess_manifest),
            "--out",
            str(tmp_path / "out"),
            "--audio-backbone",
            "hubert-base",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "emotrace models pull hubert-base" in err and err.count("\n") == 1
