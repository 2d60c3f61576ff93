"""Bad input on the --audio-backbone route, through the real CLI: one line naming the input, exit 2, no
traceback, no half-written output folder; and the device refusing what it would otherwise judge wrongly."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from export.audio.backbones.train import HeadSettings, train_backbone
from runtime.cli import EXIT_BAD_INPUT, main
from runtime.errors import InputError
from tests.export.audio_backbones.tiny_models import save_tiny_classifier, save_tiny_encoder, tiny_config

REPO = Path(__file__).resolve().parents[3]


def _refused(capsys, argv: list[str], *fragments: str) -> str:
    """Run the CLI; it must exit 2 with one error line holding every fragment."""
    assert main(argv) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("emotrace: error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


# --- a backbone folder that cannot be used ----------------------------------------------------------------


def _truncated_weights(folder: Path) -> None:
    _truncate(folder / "model.safetensors")


def _garbage_weights(folder: Path) -> None:
    (folder / "model.safetensors").write_bytes(os.urandom(4096))


def _config_not_an_object(folder: Path) -> None:
    (folder / "config.json").write_text("[1, 2]")


def _weights_of_another_architecture(folder: Path) -> None:
    # a HuBERT checkpoint under a WavLM config: WavLM's relative-position weights would be random
    other = save_tiny_encoder(folder.parent / "hubert", "hubert")
    shutil.copy(other / "model.safetensors", folder / "model.safetensors")


def _text_model_config(folder: Path) -> None:
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type="bert", architectures=["BertModel"])
    (folder / "config.json").write_text(json.dumps(config))


UNUSABLE_FOLDERS = [
    (_truncated_weights, "could not load the model"),
    (_garbage_weights, "could not load the model"),
    (_config_not_an_object, "holds a JSON list, not a model config"),
    (_weights_of_another_architecture, "lacks 7 of the model's weights"),
    (_text_model_config, "of the model's weights"),
]


def _spoilt_copy(model: Path, folder: Path, spoil) -> Path:
    shutil.copytree(model, folder)
    spoil(folder)
    return folder


@pytest.mark.parametrize(("spoil", "fragment"), UNUSABLE_FOLDERS)
def test_a_backbone_folder_that_cannot_be_used_is_refused_before_any_output(
    tmp_path, capsys, tiny_wavlm, ravdess_manifest, spoil, fragment
):
    folder = _spoilt_copy(tiny_wavlm, tmp_path / "models" / "wavlm", spoil)
    out = tmp_path / "run"
    _refused(capsys, ["train", "audio", str(ravdess_manifest), "--out", str(out), "--audio-backbone", str(folder),
                      "--cv-folds", "2"], str(folder), fragment)
    assert not out.exists()


@pytest.mark.parametrize(("spoil", "fragment"), UNUSABLE_FOLDERS)
def test_models_add_refuses_a_folder_training_could_not_use_and_stores_nothing(
    tmp_path, capsys, monkeypatch, tiny_wavlm, spoil, fragment
):
    folder = _spoilt_copy(tiny_wavlm, tmp_path / "fetched" / "wavlm", spoil)
    monkeypatch.setenv("EMOTRACE_MODEL_STORE", str(tmp_path / "store"))
    _refused(capsys, ["models", "add", "wavlm-base-plus", str(folder)], str(folder), fragment)
    assert not (tmp_path / "store").exists()


def test_models_add_names_the_folder_even_where_the_loader_speaks_of_the_models_name(tmp_path, capsys, monkeypatch):
    folder = save_tiny_classifier(tmp_path / "fetched" / "scenes", {0: "street", 1: "office"})
    monkeypatch.setenv("EMOTRACE_MODEL_STORE", str(tmp_path / "store"))
    line = _refused(capsys, ["models", "add", "scene-classifier", str(folder)], "maps onto the canonical set")
    assert line.startswith(f"emotrace: error: {folder}:"), line
    assert not (tmp_path / "store").exists()


def test_a_non_speech_model_that_loads_whole_is_refused(tmp_path):
    from transformers import AutoModel, BertConfig

    from export.audio.backbones.models import from_pretrained

    AutoModel.from_config(BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=32)).save_pretrained(tmp_path / "bert")
    with pytest.raises(InputError, match="does not take raw audio"):
        from_pretrained(AutoModel, tmp_path / "bert")


def test_a_loader_error_without_a_message_is_named_by_its_type(tmp_path):
    from export.audio.backbones.models import from_pretrained

    class SilentLoader:
        @staticmethod
        def from_pretrained(folder, output_loading_info):
            raise OSError()  # as some loaders do: no message to quote

    with pytest.raises(InputError, match=r"could not load the model \(OSError\)"):
        from_pretrained(SilentLoader, tmp_path)


# --- output folder and corpus -----------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["file", "data folder", "backbone's folder"])
def test_train_refuses_an_out_that_is_a_file_or_an_input(tmp_path, capsys, tiny_wavlm, ravdess_manifest, where):
    data, backbone = tmp_path / "data", tmp_path / "backbone"
    shutil.copytree(ravdess_manifest, data)
    shutil.copytree(tiny_wavlm, backbone)
    out = {"file": tmp_path / "a-file", "data folder": data, "backbone's folder": backbone}[where]
    if where == "file":
        out.write_text("keep me")
    before = {p: sorted(p.iterdir()) for p in (data, backbone)}
    _refused(capsys, ["train", "audio", str(data), "--out", str(out), "--audio-backbone", str(backbone),
                      "--cv-folds", "2"], str(out), "is a file" if where == "file" else f"is the {where}")
    assert {p: sorted(p.iterdir()) for p in (data, backbone)} == before
    if where == "file":
        assert out.read_text() == "keep me"


def _one_emotion(manifest: Path) -> list[str]:
    rows = manifest.read_text().splitlines()
    manifest.write_text("\n".join([rows[0], *(r for r in rows[1:] if r.endswith("neutral"))]))
    return []


def _labels_the_classifier_cannot_say(manifest: Path) -> list[str]:
    rows = manifest.read_text().splitlines()
    kept = [r for r in rows[1:] if r.rsplit(",", 1)[1] in ("calm", "fearful", "disgust", "surprised")]
    manifest.write_text("\n".join([rows[0], *kept]))
    folder = save_tiny_classifier(manifest.parent.parent / "clf", {0: "neu", 1: "hap", 2: "ang", 3: "sad"})
    return ["--audio-backbone", str(folder)]


def _clip_with_nan(manifest: Path) -> list[str]:
    import soundfile

    rows = manifest.read_text().splitlines()
    samples = np.random.default_rng(0).normal(0, 0.1, 48000).astype(np.float32)
    samples[1000] = np.nan
    soundfile.write(manifest.parent / "nan.wav", samples, 16000, subtype="FLOAT")
    _, speaker, emotion = rows[1].split(",")
    manifest.write_text("\n".join([rows[0], f"{manifest.parent / 'nan.wav'},{speaker},{emotion}", *rows[2:]]))
    return []


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (_clip_with_nan, "nan.wav: holds NaN"),
        (lambda m: ["--cv-folds", "1"], "--cv-folds must be at least 2"),
        (lambda m: ["--speed-perturb", "0.9,1.1"], "--speed-perturb: does not apply with --audio-backbone"),
        (lambda m: ["--validation-speakers", "actor01,actor02"], "at least 2 speakers besides the validation"),
        (lambda m: ["--validation-speakers", "actor09"], "actor09: is not one speaker of"),
        (_one_emotion, "at least two emotions"),
        (_labels_the_classifier_cannot_say, "can say neutral, happy, sad, angry"),
    ],
)
@pytest.mark.parametrize("earlier_run", [False, True], ids=["new-folder", "earlier-run"])
def test_train_refuses_a_corpus_the_run_cannot_judge_before_any_output(
    tmp_path, capsys, tiny_wavlm, ravdess_manifest, change, fragment, earlier_run
):
    data, out = tmp_path / "data", tmp_path / "new" / "run"
    shutil.copytree(ravdess_manifest, data)
    if earlier_run:  # a finished run in the folder stays as it was
        out.mkdir(parents=True)
        (out / "report.json").write_text("{}")
    argv = ["train", "audio", str(data), "--out", str(out), "--audio-backbone", str(tiny_wavlm), "--cv-folds", "2"]
    _refused(capsys, argv + change(data / "manifest.csv"), fragment)
    if earlier_run:
        assert sorted(p.name for p in out.iterdir()) == ["report.json"] and (out / "report.json").read_text() == "{}"
    else:
        assert not (tmp_path / "new").exists()  # nor the folder made above it


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
@pytest.mark.parametrize("existing", [False, True], ids=["new-folder", "earlier-run"])
def test_ctrl_c_during_fitting_leaves_no_run_that_looks_finished(tmp_path, tiny_wavlm, ravdess_manifest, existing,
                                                                 stop):
    out = tmp_path / "run"
    if existing:
        out.mkdir()
        (out / "report.json").write_text("{}")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, "-m", "runtime.cli", "train", "audio", str(ravdess_manifest), "--out", str(out),
         "--audio-backbone", str(tiny_wavlm), "--cv-folds", "2"],
        cwd=REPO, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        # a run started in the background of a non-interactive shell inherits SIGINT ignored; Ctrl-C is not
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    for line in process.stderr:  # the head is being fitted once the first fold reports
        if "fold 0" in line:
            process.send_signal(stop)  # SIGTERM: a service manager or `timeout` stopping the training host
            break
    rest = process.stderr.read()
    assert process.wait(timeout=120) == 130, rest
    assert "Traceback" not in rest
    # stopped before its first result: an earlier run stays whole (was: its report deleted); a new folder keeps only
    # the pooled layers already encoded, for a rerun (said in one line), nothing that looks like a result
    results = {p.name for p in out.iterdir() if not p.name.startswith("pooled-")} if out.exists() else set()
    assert results == ({"report.json"} if existing else set())
    if existing:
        assert (out / "report.json").read_text() == "{}"
    else:
        assert not out.exists() or "for a retry" in rest


def test_a_pooled_cache_left_unreadable_is_encoded_again(tmp_path, tiny_wavlm, ravdess_manifest, caplog):
    out = tmp_path / "run"
    settings = HeadSettings(epochs=2)
    train_backbone(ravdess_manifest, out, str(tiny_wavlm), cv_folds=2, settings=settings, progress=False)
    first = json.loads((out / "report.json").read_text())
    (cache,) = out.glob("pooled-*")
    cache.write_bytes(cache.read_bytes()[:300])  # a run stopped by power loss, a full disk
    train_backbone(ravdess_manifest, out, str(tiny_wavlm), cv_folds=2, settings=settings, progress=False)
    assert f"{cache}: unreadable cache" in caplog.text  # was: an internal error (ValueError)
    assert json.loads((out / "report.json").read_text())["cv"] == first["cv"]


# --- export ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_wavlm, ravdess_manifest) -> Path:
    out = tmp_path_factory.mktemp("trained") / "run"
    train_backbone(ravdess_manifest, out, str(tiny_wavlm), cv_folds=2, validation_speakers=["actor03"],
                   settings=HeadSettings(epochs=2), progress=False)
    return out


def _other_runs_head(folder: Path) -> str:
    # the same shape, another run's weights: exported under this run's labels it would be silently wrong
    import torch

    state = torch.load(folder / "head.pt", weights_only=True)
    torch.save({k: v + 1.0 if v.is_floating_point() else v for k, v in state.items()}, folder / "head.pt")
    return "head.pt: is not the head"


def _backbone_replaced(folder: Path) -> str:
    description = json.loads((folder / "backbone.json").read_text())
    replaced = folder.parent / "replaced"
    save_tiny_encoder(replaced, "wavlm", seed=1)  # same name and shape, other weights
    description["folder"] = str(replaced)
    (folder / "backbone.json").write_text(json.dumps(description))
    return "its files changed since the head"


def _labels_reordered(folder: Path) -> str:
    description = json.loads((folder / "backbone.json").read_text())
    (folder / "backbone.json").write_text(json.dumps({**description, "labels": description["labels"][::-1]}))
    return "labels differ"


def _edit_description(folder: Path, **changes) -> None:
    description = json.loads((folder / "backbone.json").read_text())
    (folder / "backbone.json").write_text(json.dumps({**description, **changes}))


def _classifier_run(folder: Path) -> str:
    report = json.loads((folder / "report.json").read_text())
    (folder / "report.json").write_text(json.dumps({**report, "kind": "classifier"}))
    (folder / "head.pt").unlink()
    (folder / "backbone.json").unlink()
    return "keeps its own head"


@pytest.mark.parametrize(
    "spoil",
    [
        lambda f: _truncate(f / "head.pt") or "head.pt",
        lambda f: _truncate(f / "backbone.json") or "backbone.json: not a readable backbone run description",
        lambda f: (f / "report.json").unlink() or "not a finished backbone run",
        lambda f: _truncate(f / "windows.csv") or "windows.csv: line",
        _other_runs_head,
        _backbone_replaced,
        _labels_reordered,
        _classifier_run,
        lambda f: _edit_description(f, head={}) or "lacks head.head_hidden, head.dropout",
        lambda f: _edit_description(f, n_layers="13") or "must be positive whole numbers",
    ],
    ids=["truncated-head", "truncated-description", "interrupted-run", "truncated-windows", "other-head",
         "backbone-replaced", "labels-reordered", "classifier-run", "empty-head-block", "layers-as-text"],
)
@pytest.mark.parametrize("distil", [False, True], ids=["onnx", "student"])
def test_export_refuses_a_trained_folder_it_cannot_trust_and_writes_nothing(
    tmp_path, capsys, trained, spoil, distil
):
    folder = tmp_path / "trained"
    shutil.copytree(trained, folder)
    fragment = spoil(folder)
    out = tmp_path / "model"
    _refused(capsys, ["export", "audio-backbone", str(folder), "--out", str(out)]
             + (["--distil", "--steps", "2"] if distil else []), fragment)
    assert not out.exists()


@pytest.mark.parametrize(
    ("spoil", "extra"),
    [
        (lambda f: _truncate(f / "windows.csv") or "windows.csv: line", []),
        (lambda f: _truncate(f / "windows.csv") or "windows.csv: line", ["--distil", "--steps", "2"]),
        (lambda f: "no such", ["--distil", "--steps", "2", "--unlabelled", "{missing}"]),
    ],
    ids=["truncated-windows", "truncated-windows-student", "missing-unlabelled"],
)
def test_a_refused_export_leaves_an_earlier_export_as_it_was(tmp_path, capsys, trained, spoil, extra):
    folder = tmp_path / "trained"
    shutil.copytree(trained, folder)
    fragment = spoil(folder)
    out = tmp_path / "model"
    out.mkdir()
    earlier = json.dumps({"task": "audio-emotion-waveform"})  # an earlier export, finished
    (out / "card.json").write_text(earlier)
    argv = ["export", "audio-backbone", str(folder), "--out", str(out)]
    _refused(capsys, argv + [a.format(missing=tmp_path / "missing") for a in extra], fragment)
    assert sorted(p.name for p in out.iterdir()) == ["card.json"] and (out / "card.json").read_text() == earlier
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging folder left


def test_export_will_not_replace_a_folder_that_is_no_model(tmp_path, capsys, trained):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "session.txt").write_text("keep me")
    _refused(capsys, ["export", "audio-backbone", str(trained), "--out", str(out)], "holds files but no card.json")
    assert (out / "session.txt").read_text() == "keep me"


@pytest.fixture()
def repo_models(tmp_path, monkeypatch) -> Path:
    """A stand-in for the repo's models/ holding a voice model and a face model, as shipped."""
    import export.install

    models = tmp_path / "repo" / "models"
    for model_id, task in (("audio-emotion", "audio-emotion-waveform"), ("face-expression-cnn", "face-expression")):
        (models / model_id).mkdir(parents=True)
        card = {"id": model_id, "version": "2026.12.02-0123abcd", "task": task}
        (models / model_id / "card.json").write_text(json.dumps(card))
    monkeypatch.setattr(export.install, "REPO_MODELS_DIR", models)
    return models


def _no_work(monkeypatch) -> None:
    """Fail the test where the export starts its work (reading the trained run) before a refusal."""
    import export.audio.backbones.onnx_export as onnx_export

    def loaded(*_args, **_kwargs):
        raise AssertionError("the trained run was read before the refusal")

    monkeypatch.setattr(onnx_export, "load_trained", loaded)


def _folders(models: Path) -> dict[str, str]:
    return {str(p.relative_to(models)): p.read_text() for p in sorted(models.rglob("*")) if p.is_file()} | {
        p.name: "" for p in models.iterdir() if p.name.startswith(".")}


@pytest.mark.parametrize("extra", [[], ["--distil", "--steps", "2"]], ids=["export", "student"])
def test_export_into_the_repos_models_replaces_a_model_there_only_with_replace(
    tmp_path, capsys, monkeypatch, trained, repo_models, extra
):
    before = _folders(repo_models)
    _no_work(monkeypatch)
    # by another path to the same folder too
    for out in (repo_models / "audio-emotion", repo_models / ".." / "models" / "audio-emotion"):
        _refused(capsys, ["export", "audio-backbone", str(trained), "--out", str(out), *extra],
                 "holds audio-emotion 2026.12.02-0123abcd", "give --replace to replace it, or --out naming a folder")
    assert _folders(repo_models) == before


@pytest.mark.parametrize("extra", [[], ["--replace"], ["--distil", "--steps", "2", "--replace"]],
                         ids=["plain", "replace", "student-replace"])
def test_export_never_replaces_a_model_of_another_task(tmp_path, capsys, monkeypatch, trained, repo_models, extra):
    before = _folders(repo_models)
    _no_work(monkeypatch)
    _refused(capsys, ["export", "audio-backbone", str(trained), "--out", str(repo_models / "face-expression-cnn"),
                      *extra], "holds a model for 'face-expression', not 'audio-emotion-waveform'")
    # elsewhere as well: an earlier face export is no voice model's to replace
    elsewhere = tmp_path / "face-model"
    shutil.copytree(repo_models / "face-expression-cnn", elsewhere)
    _refused(capsys, ["export", "audio-backbone", str(trained), "--out", str(elsewhere)],
             "holds a model for 'face-expression'")
    assert _folders(repo_models) == before


def test_replace_outside_the_repos_models_is_taken_and_lets_only_a_card_that_cannot_be_read_go(tmp_path):
    from export.install import guarded_out
    from runtime.arms.audio.model import WAVEFORM_TASK

    out = tmp_path / "model"
    assert guarded_out(out, True, WAVEFORM_TASK) == out  # was: refused ('--replace: not needed with --out')
    out.mkdir()
    (out / "card.json").write_text("{")
    with pytest.raises(InputError, match="not a readable model card"):
        guarded_out(out, False, WAVEFORM_TASK)
    assert guarded_out(out, True, WAVEFORM_TASK) == out


def test_replace_exports_over_the_voice_model_in_the_repos_models(capsys, trained, repo_models):
    assert main(["export", "audio-backbone", str(trained), "--out", str(repo_models / "audio-emotion"),
                 "--replace"]) == 0
    card = json.loads((repo_models / "audio-emotion" / "card.json").read_text())
    assert card["id"] == "audio-emotion-backbone" and card["task"] == "audio-emotion-waveform"
    assert (repo_models / "face-expression-cnn" / "card.json").is_file()
    # a new folder in the repo's models/ holds nothing to replace: no --replace needed
    assert main(["export", "audio-backbone", str(trained), "--out", str(repo_models / "audio-emotion-wavlm")]) == 0
    assert json.loads((repo_models / "audio-emotion-wavlm" / "card.json").read_text())["id"] == "audio-emotion-backbone"


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--out", "{trained}"], "is the trained folder"),
        (["--out", "{file}"], "is a file"),
        (["--out", "{new}", "--distil", "--steps", "0"], "--steps must be at least 1"),
        (["--out", "{new}", "--distil", "--hard-label-weight", "2"], "--hard-label-weight must lie between 0 and 1"),
        (["--out", "{new}", "--unlabelled", "{trained}"], "--unlabelled: applies only with --distil"),
        (["--out", "{new}", "--steps", "500"], "--steps: applies only with --distil"),
        (["--out", "{new}", "--hard-label-weight", "0.5"], "--hard-label-weight: applies only with --distil"),
    ],
)
def test_export_refuses_a_bad_out_or_setting_before_writing(tmp_path, capsys, trained, extra, fragment):
    (tmp_path / "a-file").write_text("keep me")
    before = sorted(trained.iterdir())
    names = {"trained": trained, "file": tmp_path / "a-file", "new": tmp_path / "model"}
    _refused(capsys, ["export", "audio-backbone", str(trained), *(a.format(**names) for a in extra)], fragment)
    assert sorted(trained.iterdir()) == before
    assert not (tmp_path / "model").exists() and (tmp_path / "a-file").read_text() == "keep me"


# --- the device side ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(tmp_path_factory, trained) -> Path:
    from export.audio.backbones.onnx_export import export_trained

    out = tmp_path_factory.mktemp("exported") / "model"
    export_trained(trained, out, latency_repeats=1)
    return out


@pytest.mark.parametrize(
    ("change", "fragment"),
    [({"sample_rate_hz": 8000}, "takes 8000 Hz audio"), ({"window_s": 0}, "window_s must be a positive number")],
)
def test_the_device_refuses_a_waveform_card_it_would_feed_wrongly(tmp_path, exported, change, fragment):
    from runtime.arms.audio.model import load_audio_model

    folder = tmp_path / "model"
    shutil.copytree(exported, folder)
    card = json.loads((folder / "card.json").read_text())
    card["input"].update(change)
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(InputError, match=fragment):
        load_audio_model(folder)


def test_the_device_refuses_a_window_with_nan_samples(exported):
    from runtime.arms.audio.model import load_audio_model

    model = load_audio_model(exported)
    window = np.full(32000, 0.01, dtype=np.float32)
    window[100] = np.nan
    with pytest.raises(InputError, match="NaN"):
        model.predict_segments([np.full(32000, 0.01, dtype=np.float32), window])


def test_a_dimensional_model_missing_its_head_weights_is_refused(tmp_path):
    from safetensors.torch import load_file, save_file

    from export.audio.backbones.models import _dimensional_model_class, load_pretrained

    config = tiny_config("wav2vec2", num_labels=3, final_dropout=0.1, architectures=["DimensionalEmotionModel"])
    _dimensional_model_class()(config).save_pretrained(tmp_path / "dim")
    path = tmp_path / "dim" / "model.safetensors"
    weights = load_file(path)
    save_file({k: v for k, v in weights.items() if not k.startswith("classifier.")}, path, metadata={"format": "pt"})
    with pytest.raises(InputError, match="lacks 4 of the model's weights"):
        load_pretrained(tmp_path / "dim")


@pytest.mark.parametrize("name", [".", "..", "", " ", "../elsewhere", ".hidden", "a/b/c"])  # a/b/c: was stored
def test_models_add_refuses_a_name_that_is_no_folder_of_its_own_and_deletes_nothing(
    tmp_path, capsys, monkeypatch, tiny_wavlm, name
):
    store = tmp_path / "above" / "store"
    kept = Path(shutil.copytree(tiny_wavlm, store / "wavlm-base-plus"))
    (tmp_path / "above" / "unrelated.txt").write_text("not the store's")
    monkeypatch.setenv("EMOTRACE_MODEL_STORE", str(store))
    line = _refused(capsys, ["models", "add", name, str(kept)], "not a model name")
    # was: '.' and '' replaced the whole store with the model, '..' deleted the folder above the store
    assert (kept / "config.json").is_file() and (tmp_path / "above" / "unrelated.txt").is_file()
    assert sorted(p.name for p in store.iterdir()) == ["wavlm-base-plus"], line
