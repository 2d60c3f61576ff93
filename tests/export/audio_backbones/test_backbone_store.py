import shutil

import pytest

from export.audio.backbones.store import add_model, format_listing, list_models, resolve_model
from runtime.cli import main
from runtime.errors import InputError


def _model_folder(folder, tiny_wavlm):
    shutil.copytree(tiny_wavlm, folder)
    return folder


def test_a_model_not_in_the_store_is_an_input_error_naming_the_add_command(tmp_path):
    with pytest.raises(InputError, match="emotrace models add wavlm-base-plus FOLDER") as info:
        resolve_model("wavlm-base-plus", tmp_path)
    assert "microsoft/wavlm-base-plus" in str(info.value)  # says which files to fetch


def test_a_missing_folder_is_named_as_a_folder(tmp_path):
    with pytest.raises(InputError, match="no such model folder"):
        resolve_model(str(tmp_path / "nowhere" / "model"), tmp_path)


def test_an_added_model_resolves_by_short_name_and_hub_id(tmp_path, tiny_wavlm):
    source = _model_folder(tmp_path / "downloaded" / "wavlm", tiny_wavlm)
    stored = add_model("microsoft/wavlm-base-plus", source, tmp_path / "store")
    weights = (source / "model.safetensors").read_bytes()
    assert stored.name == "wavlm-base-plus" and (stored / "model.safetensors").read_bytes() == weights
    assert resolve_model("wavlm-base-plus", tmp_path / "store") == stored
    assert resolve_model("microsoft/wavlm-base-plus", tmp_path / "store") == stored
    listed = {row.name: row.stored_path for row in list_models(tmp_path / "store")}
    assert listed["wavlm-base-plus"] == stored and listed["hubert-base"] is None


def test_adding_a_folder_without_a_config_is_refused_and_stores_nothing(tmp_path):
    (tmp_path / "junk").mkdir()
    with pytest.raises(InputError, match="no config.json"):
        add_model("hubert-base", tmp_path / "junk", tmp_path / "store")
    assert not (tmp_path / "store").exists()


def test_models_add_command_copies_into_the_store(tmp_path, monkeypatch, capsys, tiny_wavlm):
    monkeypatch.setenv("EMOTRACE_MODEL_STORE", str(tmp_path / "store"))
    source = _model_folder(tmp_path / "wavlm", tiny_wavlm)
    assert main(["models", "add", "wavlm-base-plus", str(source)]) == 0
    assert "licence" in capsys.readouterr().out
    assert (tmp_path / "store" / "wavlm-base-plus" / "config.json").is_file()
    assert main(["models", "add", "wavlm-base-plus", str(tmp_path / "nope")]) == 2


def test_a_model_added_under_a_name_of_ones_own_is_listed_and_its_replacement_said(tmp_path, monkeypatch, capsys,
                                                                                    tiny_wavlm):
    monkeypatch.setenv("EMOTRACE_MODEL_STORE", str(tmp_path / "store"))
    source = _model_folder(tmp_path / "wavlm", tiny_wavlm)
    assert main(["models", "add", "clinic/voice-encoder", str(source)]) == 0
    assert capsys.readouterr().out.startswith("clinic/voice-encoder: stored in ")
    assert main(["models", "add", "clinic/voice-encoder", str(source)]) == 0
    assert capsys.readouterr().out.startswith("clinic/voice-encoder: replaced in ")  # was: "stored" again
    assert main(["models", "list"]) == 0
    added = [line for line in capsys.readouterr().out.splitlines() if "voice-encoder" in line]
    assert len(added) == 1 and " added " in added[0] and " yes " in added[0]  # was: not listed


def test_models_list_shows_each_licence(capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "CC-BY-NC-SA-4.0" in out and "Apache-2.0" in out and "audeering-dim" in out
    assert format_listing(list_models()).count("\n") == len(list_models())


def test_training_with_a_backbone_not_in_the_store_fails_in_one_line_naming_the_add(
    tmp_path, capsys, monkeypatch, ravdess_manifest
):
    monkeypatch.setenv("EMOTRACE_MODEL_STORE", str(tmp_path / "empty-store"))
    code = main(
        ["train", "audio", str(ravdess_manifest), "--out", str(tmp_path / "out"), "--audio-backbone", "hubert-base"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "emotrace models add hubert-base FOLDER" in err and err.count("\n") == 1


def test_a_store_path_that_is_a_file_is_refused_before_the_model_is_loaded(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")  # never loaded: the store is checked first
    store = tmp_path / "storefile"
    store.write_text("")
    with pytest.raises(InputError, match="storefile: is a file"):  # was: internal NotADirectoryError after loading
        add_model("hubert-base", tmp_path / "model", store)


def test_a_copy_that_fails_is_one_line_and_keeps_the_model_stored_before(tmp_path, monkeypatch, capsys, tiny_wavlm):
    import export.audio.backbones.store as store_module

    store = tmp_path / "store"
    monkeypatch.setenv("EMOTRACE_MODEL_STORE", str(store))
    source = _model_folder(tmp_path / "wavlm", tiny_wavlm)
    assert main(["models", "add", "wavlm-base-plus", str(source)]) == 0
    before = {p.name: p.read_bytes() for p in (store / "wavlm-base-plus").iterdir()}
    copy = shutil.copytree

    def disk_fills(src, dst, **kwargs):  # half the files copied, then the disk is full
        copy(src, dst, **kwargs)
        raise OSError(28, "No space left on device", str(dst) + "/model.safetensors")

    monkeypatch.setattr(store_module.shutil, "copytree", disk_fills)
    assert main(["models", "add", "wavlm-base-plus", str(source)]) == 2  # was: 1, an internal error
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"emotrace: error: {source}: cannot be copied into the store {store} (")
    assert err.endswith("model.safetensors: No space left on device); nothing stored") and "\n" not in err
    assert {p.name: p.read_bytes() for p in (store / "wavlm-base-plus").iterdir()} == before
    assert sorted(p.name for p in store.iterdir()) == ["wavlm-base-plus"]  # was: a .partial copy left behind


def test_copies_an_add_stopped_by_power_loss_left_are_removed_by_the_next(tmp_path, tiny_wavlm):
    store = tmp_path / "store"
    left = [store / ".wavlm-base-plus-k3j_x9q2", store / ".wavlm-base-plus-old-0a1b2c3d"]  # staging, old copy
    kept = [store / ".wavlm-base-abcd1234", store / ".wavlm-base-plus-notes"]  # another model's, not ours
    for folder in left + kept:
        (folder / "weights").mkdir(parents=True)
    add_model("wavlm-base-plus", _model_folder(tmp_path / "wavlm", tiny_wavlm), store)
    assert sorted(p.name for p in store.iterdir()) == sorted(["wavlm-base-plus", *(p.name for p in kept)])


def test_adding_a_file_says_it_is_a_file_not_that_no_model_folder_exists(tmp_path):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"weights")
    with pytest.raises(InputError) as refused:  # was: "no such model folder", though the file is there
        add_model("wavlm-base-plus", weights, tmp_path / "store")
    assert str(refused.value) == (f"{weights}: is a file, not a model folder; give the folder holding config.json")
    with pytest.raises(InputError, match="no such model folder$"):
        add_model("wavlm-base-plus", tmp_path / "nowhere", tmp_path / "store")
