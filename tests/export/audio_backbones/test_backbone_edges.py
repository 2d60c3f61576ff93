"""Edges of the --audio-backbone route: label order, the store's names and keys, the speakers each fit may see,
one-line refusals, the exported card's fields and what a student is distilled towards."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from export.audio.backbones.catalog import catalog_entry
from export.audio.backbones.data import (
    WINDOWS_FILE,
    WaveformWindows,
    clip_waveform_windows,
    corpus_windows,
    cut_windows,
    read_window_table,
    waveforms_of,
)
from export.audio.backbones.labels import map_labels
from export.audio.backbones.store import add_model, list_models, model_licence, resolve_model
from export.audio.datasets import Clip
from runtime.arms.audio.windows import AudioWindow
from runtime.errors import InputError
from runtime.track import CANONICAL_LABELS
from tests.export.audio_backbones.tiny_models import TINY

WINDOW_COLUMNS = ["path", "speaker", "start_s", "end_s", "speech_fraction", "emotion", "fold", "held_out"]


def _write_windows(folder: Path, rows: list[list]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / WINDOWS_FILE, "w", newline="") as handle:
        csv.writer(handle).writerows([WINDOW_COLUMNS, *rows])
    return folder


def _ravdess(ravdess_dir: Path, actor: str, emotion: int) -> Path:
    return ravdess_dir / f"Actor_{actor}" / f"03-01-{emotion:02d}-01-01-01-{actor}.flac"


# --- labels ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("keys", [int, str], ids=["int-keys", "json-keys"])
def test_a_checkpoint_of_more_than_ten_classes_keeps_its_class_order(keys):
    names = ["neu", "hap", "ang", "sad", "fea", "dis", "sur", "cal", "LABEL_8", "LABEL_9", "joy", "anger"]
    mapping = map_labels({keys(i): name for i, name in enumerate(names)})
    assert mapping.model_labels == tuple(names)  # class 10 after class 9, not after class 1
    assert mapping.canonical_of[10] == "happy" and mapping.canonical_of[2] == "angry"


# --- catalog and store -------------------------------------------------------------------------------------


def test_a_model_named_by_its_hub_id_is_the_catalogs_with_its_kind_and_licence():
    assert catalog_entry("microsoft/wavlm-base-plus").name == "wavlm-base-plus"
    dim = "audeering/wav2vec2-large-robust-12-ft-emotion-msp-dim"
    assert catalog_entry(dim).kind == "dimensional" and "non-commercial" in model_licence(dim)
    assert catalog_entry("superb-er-hubert-large").kind == "classifier"
    assert catalog_entry("clinic/own-model") is None


def test_a_model_added_under_a_hub_id_of_ones_own_is_listed_under_that_id(tmp_path, tiny_wavlm):
    store = tmp_path / "store"
    stored = add_model("clinic/voice-encoder", shutil.copytree(tiny_wavlm, tmp_path / "fetched"), store)
    assert stored == store / "clinic--voice-encoder"
    rows = [row for row in list_models(store) if row.stored_path == stored]
    assert [(row.name, row.repo_id, row.kind) for row in rows] == [
        ("clinic--voice-encoder", "clinic/voice-encoder", "added")]
    assert resolve_model("clinic/voice-encoder", store) == stored


def test_a_catalog_model_in_the_store_is_listed_once(tmp_path, tiny_wavlm):
    store = tmp_path / "store"
    add_model("wavlm-base-plus", shutil.copytree(tiny_wavlm, tmp_path / "fetched"), store)
    names = [row.name for row in list_models(store)]
    assert names.count("wavlm-base-plus") == 1 and len(names) == len(set(names))


def test_a_store_folder_without_a_config_is_no_stored_model(tmp_path):
    store = tmp_path / "store"
    (store / "wavlm-base-plus").mkdir(parents=True)  # a copy someone emptied, or a half-made folder
    (store / "own-model").mkdir()
    (store / "own-model" / "model.safetensors").write_bytes(b"weights")
    with pytest.raises(InputError, match="not in the local model store"):
        resolve_model("wavlm-base-plus", store)
    rows = {row.name: row.stored_path for row in list_models(store)}
    assert rows["wavlm-base-plus"] is None and "own-model" not in rows


@pytest.mark.parametrize("name", ["models/clinic/wavlm", "C:\\models\\wavlm", "./wavlm", "~/no-such-model-here"])
def test_a_name_meant_as_a_folder_that_is_not_there_is_said_to_be_missing(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="no such model folder$"):
        resolve_model(name, tmp_path / "store")


def test_a_model_file_given_as_the_backbone_is_said_to_be_a_file(tmp_path):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"weights")
    with pytest.raises(InputError, match="is a file; give the model's folder$"):
        resolve_model(str(weights), tmp_path / "store")


@pytest.mark.parametrize(("line", "licence"), [('license: "apache-2.0"', "apache-2.0"), ("licence: 'mit'", "mit"),
                                              ("license: cc-by-4.0", "cc-by-4.0")])
def test_an_added_models_licence_is_read_from_its_cards_front_matter(tmp_path, line, licence):
    (tmp_path / "README.md").write_text(f"---\nlanguage: en\n{line}\n---\n# A model\n")
    assert model_licence("clinic/voice-encoder", tmp_path) == licence
    assert model_licence("clinic/voice-encoder", tmp_path / "elsewhere").startswith("unknown")


# --- models ------------------------------------------------------------------------------------------------


def _config_folder(folder: Path, config: dict) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize(
    ("config", "kind"),
    [
        ({"architectures": ["Wav2Vec2ForSequenceClassification"], "problem_type": "regression"}, "dimensional"),
        ({"architectures": ["Wav2Vec2ForSequenceClassification"]}, "classifier"),
        ({"architectures": ["WhisperForAudioClassification"]}, "classifier"),
        ({"architectures": ["WavLMModel"]}, "encoder"),
    ],
)
def test_a_models_kind_is_read_from_its_config(tmp_path, config, kind):
    from export.audio.backbones.models import detect_kind

    assert detect_kind(_config_folder(tmp_path / "m", config), "clinic/model") == kind


def test_a_catalog_name_decides_the_kind_whatever_the_config_says(tmp_path):
    from export.audio.backbones.models import detect_kind

    folder = _config_folder(tmp_path / "m", {"architectures": ["Wav2Vec2Model"]})
    assert detect_kind(folder, "audeering-dim") == "dimensional"
    assert detect_kind(folder, "superb-er-wav2vec2-base") == "classifier"


@pytest.mark.parametrize("present", ["model.pt", "config.yaml"])
def test_a_folder_with_half_an_emotion2vec_checkpoint_is_refused(tmp_path, present):
    from export.audio.backbones.models import detect_kind

    (tmp_path / present).write_text("x")
    with pytest.raises(InputError, match="not a transformers model folder"):
        detect_kind(tmp_path)


@pytest.mark.parametrize(("preprocessor", "normalised"), [({"do_normalize": False}, False), ({}, True),
                                                          ({"do_normalize": True}, True), (None, True)],
                         ids=["off", "unsaid", "on", "no-preprocessor-file"])
def test_the_graph_normalises_the_waveform_only_where_the_checkpoints_preprocessor_does(
    tmp_path, tiny_wavlm, preprocessor, normalised
):
    from export.audio.backbones.models import load_pretrained

    # transformers' feature extractor normalises unless told otherwise; a large model's layer-normed front end needs it
    folder = shutil.copytree(tiny_wavlm, tmp_path / "m")
    if preprocessor is not None:
        (folder / "preprocessor_config.json").write_text(json.dumps(preprocessor))
    assert load_pretrained(folder).pooled_layers.normalizer.enabled is normalised


def test_a_checkpoint_without_its_pretraining_mask_embedding_loads(tmp_path, tiny_wavlm):
    from safetensors.torch import load_file, save_file

    from export.audio.backbones.models import load_pretrained

    folder = shutil.copytree(tiny_wavlm, tmp_path / "m")
    weights = load_file(folder / "model.safetensors")
    save_file({k: v for k, v in weights.items() if k != "masked_spec_embed"}, folder / "model.safetensors",
              metadata={"format": "pt"})
    assert load_pretrained(folder).pooled(np.zeros((1, 16000), dtype=np.float32)).shape == (1, 3, 32)


def test_the_fingerprint_follows_the_config_and_weights_not_the_readme(tmp_path, tiny_wavlm):
    from export.audio.backbones.models import model_fingerprint

    folder = shutil.copytree(tiny_wavlm, tmp_path / "m")
    first = model_fingerprint(folder)
    (folder / "README.md").write_text("a card edited after training")
    assert model_fingerprint(folder) == first
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "layer_norm_eps": 1e-3}))
    assert model_fingerprint(folder) != first


def test_an_encoder_asked_for_emotions_says_it_has_no_head(tiny_wavlm):
    from export.audio.backbones.models import load_pretrained

    with pytest.raises(InputError, match="has no head of its own; train one with --audio-backbone"):
        load_pretrained(tiny_wavlm).predict(np.zeros((1, 16000), dtype=np.float32))


def test_the_head_reads_each_layer_in_units_of_its_training_spread():
    from export.audio.backbones.models import LayerWeightedHead

    torch.manual_seed(0)
    head = LayerWeightedHead(2, 4, 3).eval()
    pooled = np.random.default_rng(0).normal(size=(6, 2, 4)).astype(np.float32)
    scaled = pooled * np.array([1000.0, 0.1], dtype=np.float32)[None, :, None]  # layers of other magnitudes
    head.set_standardisation(pooled)
    plain = head(torch.as_tensor(pooled)).detach()
    head.set_standardisation(scaled)
    torch.testing.assert_close(head(torch.as_tensor(scaled)).detach(), plain, rtol=1e-3, atol=1e-3)


def test_a_head_on_layers_with_a_constant_feature_gives_probabilities():
    from export.audio.backbones.train import HeadSettings, fit_head, head_probs

    pooled = np.random.default_rng(0).normal(size=(12, 2, 4)).astype(np.float32)
    pooled[:, :, 3] = 0.5  # a dimension that never changes over the training windows
    head = fit_head(pooled, np.repeat([0, 1], 6), 2, HeadSettings(epochs=1))
    probs = head_probs(head, pooled)
    assert np.isfinite(probs).all() and np.allclose(probs.sum(axis=1), 1.0)


# --- windows -----------------------------------------------------------------------------------------------


def test_each_window_is_cut_whole_and_a_short_last_one_is_zero_padded_at_its_end():
    samples = np.arange(1, 101, dtype=np.float32)  # 10 s at 10 Hz
    windows = [AudioWindow(0.0, 2.0, 1.0), AudioWindow(3.0, 5.0, 1.0), AudioWindow(9.0, 10.0, 1.0)]
    out = cut_windows(samples, windows, window_s=2.0, sample_rate_hz=10)
    np.testing.assert_array_equal(out[0], samples[:20])
    np.testing.assert_array_equal(out[1], samples[30:50])
    np.testing.assert_array_equal(out[2], np.r_[samples[90:], np.zeros(10)])


def test_a_clip_without_speech_is_listed_and_holds_no_window(tmp_path, ravdess_dir):
    import soundfile

    silent = tmp_path / "silent.wav"
    soundfile.write(silent, np.zeros(48000, dtype=np.float32), 16000)
    speech = _ravdess(ravdess_dir, "01", 5)
    clips = [Clip(silent, "s1", "neutral", "test"), Clip(speech, "s2", "angry", "test")]
    windows = corpus_windows(clips)
    assert windows.no_speech == [str(silent)]
    assert len(windows.windows) > 0 and set(windows.clip_index.tolist()) == {1}


def test_the_windows_read_back_from_the_table_are_those_cut_in_training(tmp_path, ravdess_dir):
    path = _ravdess(ravdess_dir, "02", 3)
    windows, waveforms = clip_waveform_windows(path)
    rows = [{"path": str(path), "start_s": f"{w.start_s:.6f}", "end_s": f"{w.end_s:.6f}"} for w in windows]
    np.testing.assert_allclose(waveforms_of(rows), waveforms, atol=1e-6)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "windows.csv: lists no window$"),
        ([["a.wav", "s1", "0", "2", "1", "neutral", "0", "0"], ["a.wav", "", "2", "4", "1", "sad", "0", "0"]],
         "windows.csv: line 3 is incomplete"),
        ([["a.wav", "s1", "0", "2", "1", "neutral", "0", ""]], "windows.csv: line 2 is incomplete"),
        ([["a.wav", "s1", "zero", "2", "1", "neutral", "0", "0"]], "line 2: start_s and end_s must be numbers"),
        ([["a.wav", "s1", "0", "2", "1", "neutral", "0", "0"], ["a.wav", "s1", "2", "4", "1", "joy", "0", "0"]],
         "line 3: label 'joy' is not one the head was trained on"),
    ],
    ids=["header-only", "empty-speaker", "empty-held-out", "text-time", "unknown-label"],
)
def test_a_windows_table_that_cannot_be_trusted_is_refused_naming_its_line(tmp_path, rows, message):
    folder = _write_windows(tmp_path / "run", rows)
    with pytest.raises(InputError, match=message):
        read_window_table(folder, ["neutral", "sad"])


# --- training: folds, held-out speakers, the pooled cache ---------------------------------------------------


def test_folds_need_two_speakers_and_are_never_more_than_the_speakers():
    from export.audio.backbones.train import speaker_folds

    with pytest.raises(InputError, match="at least 2 speakers, found 1"):
        speaker_folds(np.array([0, 1, 0, 1]), np.array(["s1"] * 4), 5)
    speakers = np.repeat(["s1", "s2", "s3"], 4)
    folds = speaker_folds(np.tile([0, 1], 6), speakers, 5)
    assert sorted(sorted(set(speakers[test])) for test in folds) == [["s1"], ["s2"], ["s3"]]


def test_the_heads_loss_weighs_each_class_by_its_rarity(monkeypatch):
    import export.audio.backbones.train as backbone_train

    weights = []

    class Recording(torch.nn.CrossEntropyLoss):
        def __init__(self, weight=None):
            weights.append(weight)
            super().__init__(weight=weight)

    monkeypatch.setattr(backbone_train.nn, "CrossEntropyLoss", Recording)
    pooled = np.random.default_rng(0).normal(size=(4, 2, 3)).astype(np.float32)
    backbone_train.fit_head(pooled, np.array([0, 0, 0, 1]), 3, backbone_train.HeadSettings(epochs=0))
    # n / (count × classes): the rare class counts three times the common one, an absent class not at all
    np.testing.assert_allclose(weights[0].numpy(), [4 / 9, 4 / 3, 0.0], rtol=1e-6)


def test_the_summary_says_what_a_checkpoint_cannot_produce_and_drops():
    from export.audio.backbones.train import BackboneReport

    report = BackboneReport("superb", "classifier", "Apache-2.0", ["neutral", "happy"], 10, 12, ["a", "b"],
                            label_mapping={"unmapped": ["other"], "unsupported": ["calm", "fearful"]})
    summary = report.summary()
    assert "unmapped model labels (mass dropped): other" in summary
    assert "canonical labels it cannot produce: calm, fearful" in summary
    assert summary.splitlines()[0] == "superb (classifier; licence: Apache-2.0): 10 clips, 12 windows, 2 speakers"


def test_no_fit_sees_the_speakers_it_is_judged_on(tmp_path, monkeypatch, tiny_wavlm, ravdess_manifest):
    """Each fold's head never sees that fold's speakers, and no head the held-out validation speaker."""
    import export.audio.backbones.train as backbone_train
    from export.audio.backbones.models import LayerWeightedHead

    def window_numbers(model, fingerprint, windows, out, progress):  # pooled layers that name their window
        pooled = np.zeros((len(windows.windows), 2, 4), dtype=np.float32)
        pooled[:, 0, 0] = np.arange(len(windows.windows))
        return pooled

    fitted = []

    def recording_fit(pooled, targets, n_classes, settings):
        fitted.append(set(pooled[:, 0, 0].astype(int).tolist()))
        return LayerWeightedHead(2, 4, n_classes).eval()

    monkeypatch.setattr(backbone_train, "_pooled_cached", window_numbers)
    monkeypatch.setattr(backbone_train, "fit_head", recording_fit)
    report = backbone_train.train_backbone(ravdess_manifest, tmp_path / "run", str(tiny_wavlm), cv_folds=2,
                                           validation_speakers=["actor03"], progress=False)
    with open(tmp_path / "run" / WINDOWS_FILE, newline="") as handle:
        rows = list(csv.DictReader(handle))
    held_out = {i for i, r in enumerate(rows) if r["speaker"] == "actor03"}
    assert held_out and all(rows[i]["held_out"] == "1" and rows[i]["fold"] == "-1" for i in held_out)
    training = set(range(len(rows))) - held_out
    assert len(fitted) == 3  # two folds, then the final head
    for k, fit in enumerate(fitted[:2]):
        tested = {i for i, r in enumerate(rows) if r["fold"] == str(k)}
        assert fit == training - tested
        assert sorted({rows[i]["speaker"] for i in tested}) == report.cv["folds"][k]["test_speakers"]
    assert fitted[2] == training


def test_the_pooled_cache_is_used_again_only_for_the_same_model_and_the_same_files(tmp_path):
    from export.audio.backbones.train import _pooled_cached

    class Model:
        name = "tiny"
        encoded = 0

        def pooled(self, waveforms):
            self.encoded += 1
            return np.zeros((len(waveforms), 2, 3), dtype=np.float32)

    audio = tmp_path / "a.wav"
    audio.write_bytes(b"x" * 100)
    windows = WaveformWindows(np.zeros((2, 8), dtype=np.float32), np.array([0, 0]),
                              [AudioWindow(0.0, 2.0, 1.0), AudioWindow(1.0, 3.0, 1.0)],
                              [Clip(audio, "s1", "neutral", "test")], [])
    model = Model()
    for fingerprint in ("model-a", "model-a", "model-b"):
        _pooled_cached(model, fingerprint, windows, tmp_path, False)
    assert model.encoded == 2  # the same model's layers read back; another model's encoded anew
    audio.write_bytes(b"x" * 120)  # the file replaced under the same name
    _pooled_cached(model, "model-a", windows, tmp_path, False)
    assert model.encoded == 3


# --- distillation ------------------------------------------------------------------------------------------


def test_the_distillation_loss_mixes_the_teacher_and_the_true_labels_by_the_given_share():
    from export.audio.backbones.distill import distillation_loss

    probs = torch.tensor([[0.5, 0.25, 0.25], [0.25, 0.5, 0.25]])
    soft = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    hard = torch.tensor([0, -1])  # class 0 is a label like any other; -1: no label
    soft_loss = (np.log(2) + np.log(4)) / 2  # the mean over windows of -log p(teacher's class)
    hard_loss = np.log(2)  # the one labelled window, true class 0 at p 0.5
    loss = distillation_loss(torch.log(probs), soft, hard, 0.3)
    assert float(loss) == pytest.approx(0.7 * soft_loss + 0.3 * hard_loss, rel=1e-6)
    assert float(distillation_loss(torch.log(probs), soft, torch.tensor([-1, -1]), 0.3)) == pytest.approx(
        soft_loss, rel=1e-6)


def test_distillation_judges_the_last_step_on_the_validation_speakers():
    from export.audio.backbones.distill import DistillSettings, StudentNet, ValidationSet, distill

    waveforms = np.random.default_rng(0).normal(0, 0.1, (4, 3200)).astype(np.float32)
    teacher = np.full((4, 2), 0.5)
    validation = ValidationSet(waveforms, teacher, np.array([0, 1, -1, 0]))
    _, history = distill(teacher, waveforms, None, DistillSettings(steps=3, batch_size=2), StudentNet(2, channels=4),
                         validation=validation, eval_every=100)
    assert list(history.validation_losses) == [3] and history.best_step == 3


@pytest.mark.parametrize(("n", "chosen"), [(3, ["s2"]), (5, ["s4"]), (10, ["s8", "s9"])])
def test_a_few_training_speakers_give_at_least_one_for_early_stopping(n, chosen):
    from export.audio.backbones.distill import inner_validation_speakers

    assert inner_validation_speakers([f"s{i}" for i in range(n)] * 2) == chosen


def test_a_hard_label_weight_outside_zero_to_one_is_refused_and_zero_taken(tmp_path):
    from export.audio.backbones.distill import DistillSettings, distill_trained

    with pytest.raises(InputError, match="--hard-label-weight must lie between 0 and 1"):
        distill_trained(tmp_path / "run", tmp_path / "out", settings=DistillSettings(hard_label_weight=-0.1))
    with pytest.raises(InputError, match="not a finished backbone run"):  # 0: the teacher alone, a legitimate choice
        distill_trained(tmp_path / "run", tmp_path / "out", settings=DistillSettings(hard_label_weight=0.0))


class _UniformTeacher(torch.nn.Module):
    def __init__(self, n: int):
        super().__init__()
        self.n = n

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return torch.full((waveform.shape[0], self.n), 1.0 / self.n)


def _fake_trained(tmp_path: Path, ravdess_dir: Path, monkeypatch, labels: list[str]) -> tuple[Path, dict]:
    """A trained run's windows.csv (actors 01-04 trained on, 05 held out, one emotion each), its teacher stubbed."""
    import export.audio.backbones.onnx_export as onnx_export

    rows = [[str(_ravdess(ravdess_dir, actor, emotion)), f"actor{actor}", "0.500000", "2.500000", "1.0", label,
             "0", "1" if actor == "05" else "0"]
            for actor, emotion, label in (("01", 1, "neutral"), ("02", 2, "calm"), ("03", 3, "happy"),
                                          ("04", 4, "sad"), ("05", 5, "angry"))]
    trained = _write_windows(tmp_path / "trained", rows)
    (tmp_path / "backbone").mkdir()
    description = {"labels": labels, "folder": str(tmp_path / "backbone"), "licence": "MIT (microsoft/unilm)",
                   "backbone": "wavlm-base-plus"}
    monkeypatch.setattr(onnx_export, "load_trained", lambda folder: (_UniformTeacher(len(labels)), description))
    return trained, description


def test_a_student_learns_from_the_training_speakers_and_is_judged_on_the_held_out_one(
    tmp_path, monkeypatch, ravdess_dir
):
    import soundfile

    import export.audio.backbones.distill as distill_module
    from runtime.media import read_audio

    labels = list(CANONICAL_LABELS[:5])  # neutral, calm, happy, sad, angry
    trained, _ = _fake_trained(tmp_path, ravdess_dir, monkeypatch, labels)
    unlabelled = tmp_path / "unlabelled" / "more"
    unlabelled.mkdir(parents=True)
    soundfile.write(unlabelled / "CALL.WAV", read_audio(_ravdess(ravdess_dir, "06", 1), 16000), 16000)
    seen = {}
    original = distill_module.distill

    def recording(teacher_probs, waveforms, targets, settings, validation=None):
        seen.update(targets=targets.tolist(), validation=validation.targets.tolist(), n=len(waveforms),
                    teacher=len(teacher_probs))
        return original(teacher_probs, waveforms, targets, settings, validation=validation)

    monkeypatch.setattr(distill_module, "distill", recording)
    settings = distill_module.DistillSettings(steps=1, batch_size=4, hard_label_weight=0.0)
    metrics = distill_module.distill_trained(trained, tmp_path / "student", tmp_path / "unlabelled", settings,
                                             latency_repeats=1)
    n_extra = len(clip_waveform_windows(unlabelled / "CALL.WAV")[0])
    # actors 01-03 fit it (neutral, calm, happy), 04 (sad) stops it early, 05 (angry) judges it
    assert n_extra > 0 and seen["targets"] == [0, 1, 2] + [-1] * n_extra and seen["validation"] == [3]
    assert seen["n"] == seen["teacher"] == 3 + n_extra
    assert metrics["distillation"]["unlabelled_windows"] == n_extra
    assert metrics["distillation"]["inner_validation_speakers"] == ["actor04"]
    assert metrics["distillation"]["hard_label_weight"] == 0.0
    assert metrics["held_out_speakers"]["student"]["n"] == 1 and metrics["check_windows"]["float"]["n"] == 1
    card = json.loads((tmp_path / "student" / "card.json").read_text())
    assert card["licence"] == {"teacher_backbone": "MIT (microsoft/unilm)"}
    assert card["teacher"] == "wavlm-base-plus" and card["distilled_from"] == str(trained.resolve())
    assert card["labels"] == labels and card["files"] == {"default": "model.int8.onnx", "float": "model.onnx"}


# --- export ------------------------------------------------------------------------------------------------


def _trained_description(folder: Path, **changes) -> Path:
    folder.mkdir()
    labels = ["neutral", "happy"]
    (folder / "report.json").write_text(json.dumps({"kind": "encoder", **({"labels": changes["labels"]}
                                                                          if "labels" in changes else {})}))
    description = {"folder": str(folder), "kind": "encoder", "labels": labels, "n_layers": 3, "hidden_size": 32,
                   "normalize": True, "head": {"head_hidden": 16, "dropout": 0.1}, "licence": "MIT",
                   "backbone": "tiny", **changes}
    (folder / "backbone.json").write_text(json.dumps(description))
    (folder / "head.pt").write_bytes(b"never read: refused before")
    return folder


@pytest.mark.parametrize("changes", [{"labels": ["neutral"]}, {"labels": ["neutral", "joy"]}, {"n_layers": True},
                                     {"hidden_size": 0}, {"head": {"head_hidden": 16, "dropout": "0.1"}}],
                         ids=["one-label", "not-canonical", "bool-layers", "zero-width", "text-dropout"])
def test_export_refuses_a_description_it_would_build_a_wrong_head_from(tmp_path, changes):
    from export.audio.backbones.onnx_export import load_trained

    with pytest.raises(InputError, match="backbone.json: n_layers, hidden_size and head.head_hidden must be"):
        load_trained(_trained_description(tmp_path / "run", **changes))


def test_the_int8_and_float_comparison_is_per_window():
    from export.audio.backbones.onnx_export import compare_outputs

    reference = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    candidate = np.array([[0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    result = compare_outputs(reference, candidate)
    assert result["top1_agreement"] == pytest.approx(2 / 3)  # the third window changes its mind
    assert result["max_abs_diff"] == pytest.approx(0.2) and result["mean_abs_diff"] == pytest.approx(0.8 / 6)
    assert result["n"] == 3


def test_the_latency_is_the_median_and_the_longest_of_the_runs(monkeypatch, tmp_path):
    import export.audio.backbones.onnx_export as onnx_export

    monkeypatch.setattr(onnx_export, "onnx_run_times_ms", lambda path, feeds, repeats, threads: [9.0, 1.0, 2.0])
    summary = onnx_export.latency_per_window_summary(tmp_path / "m.onnx", repeats=3)
    assert summary == {"median_ms": 2.0, "max_ms": 9.0, "repeats": 3, "threads": 1, "window_s": 2.0}


@pytest.mark.parametrize("held_out", [True, False], ids=["held-out-speakers", "none-held-out"])
def test_export_checks_on_the_held_out_windows_else_an_even_sample_of_all(tmp_path, monkeypatch, held_out):
    import export.audio.backbones.data as data
    from export.audio.backbones.onnx_export import check_set

    rows = [[f"c{i}.wav", "s9" if held_out and i % 100 == 7 else "s1", "0", "2", "1",
             "happy" if i % 2 else "neutral", "0", "1" if held_out and i % 100 == 7 else "0"] for i in range(301)]
    folder = _write_windows(tmp_path / "run", rows)
    monkeypatch.setattr(data, "waveforms_of", lambda chosen: np.array([int(r["path"][1:-4]) for r in chosen]))
    chosen, targets = check_set(folder, ["neutral", "happy"])
    if held_out:
        assert chosen.tolist() == [7, 107, 207]
    else:
        assert len(chosen) == 200 and chosen[0] == 0 and chosen[-1] == 300 and np.all(np.diff(chosen) >= 1)
    assert targets.tolist() == [i % 2 for i in chosen]


def test_an_exported_backbones_card_says_its_input_files_licence_and_speaker_independent_figures(
    tmp_path, monkeypatch
):
    import export.audio.backbones.onnx_export as onnx_export
    from export.audio.backbones.distill import StudentNet

    trained = tmp_path / "trained"
    trained.mkdir()
    report = {"cv": {"clip": {"balanced_accuracy": 0.5}}, "validation": {"clip": {"balanced_accuracy": 0.4}}}
    (trained / "report.json").write_text(json.dumps(report))
    torch.manual_seed(0)
    model = StudentNet(2, channels=4).eval()  # any waveform model stands in for the backbone and its head
    (tmp_path / "backbone").mkdir()
    description = {"labels": ["neutral", "sad"], "folder": str(tmp_path / "backbone"), "licence": "Apache-2.0",
                   "backbone": "hubert-base"}
    monkeypatch.setattr(onnx_export, "load_trained", lambda folder: (model, description))
    windows = np.random.default_rng(0).normal(0, 0.1, (2, 32000)).astype(np.float32)
    metrics = onnx_export.export_trained(trained, tmp_path / "model", check_windows=windows, latency_repeats=1)
    card = json.loads((tmp_path / "model" / "card.json").read_text())
    assert card["task"] == "audio-emotion-waveform" and card["labels"] == ["neutral", "sad"]
    assert card["files"] == {"default": "model.int8.onnx", "float": "model.onnx"}
    assert card["input"] == {"name": "waveform", "shape": ["batch", "samples"], "sample_rate_hz": 16000,
                             "window_s": 2.0, "normalisation": "inside the graph"}
    assert card["licence"] == {"backbone": "Apache-2.0", "backbone_name": "hubert-base"}
    assert card["trained_from"] == str(trained.resolve())
    assert metrics["speaker_independent"] == report and card["metrics"]["speaker_independent"] == report
    import onnx

    graph = onnx.load(tmp_path / "model" / "model.int8.onnx").graph
    assert [i.name for i in graph.input] == ["waveform"] and [o.name for o in graph.output] == ["probs"]


# --- the tremor probe and the latency bench -----------------------------------------------------------------


def test_the_tremor_probe_keeps_each_speakers_copies_in_its_fold(monkeypatch):
    import export.audio.backbones.tremor_probe as tremor_probe

    groups_seen = []
    monkeypatch.setattr(tremor_probe, "probe_auc",
                        lambda features, labels, groups, n_folds: groups_seen.append(groups.tolist()) or 0.5)
    speakers = np.array(["a", "a", "b", "c"])
    result = tremor_probe.tremor_sensitivity(np.zeros((4, 2, 3)), np.ones((4, 2, 3)), speakers)
    assert groups_seen == [["a", "a", "b", "c"] * 2] * 2  # a window and its tremored copy: one speaker's
    assert result["n_windows"] == 4 and result["auc_per_layer"] == [0.5, 0.5]


def test_the_latency_bench_builds_the_full_graph_of_an_architecture(monkeypatch):
    import export.audio.backbones.bench_latency as bench

    monkeypatch.setattr(bench, "ARCHITECTURES", {"tiny-wavlm": ("wavlm", TINY)})
    with torch.no_grad():
        probs = bench.build("tiny-wavlm")(torch.zeros(1, 16000) + 0.01)
    assert probs.shape == (1, 8) and float(probs.sum()) == pytest.approx(1.0, rel=1e-5)
    assert bench.build("student")(torch.zeros(2, 16000) + 0.01).shape == (2, 8)


def test_a_staging_copy_left_by_a_stopped_add_is_no_stored_model(tmp_path):
    from export.audio.backbones.store import list_models

    left = tmp_path / "store" / ".wavlm-base-plus-k3j_x9q2"  # an install's staging folder, removed at the next add
    left.mkdir(parents=True)
    (left / "config.json").write_text("{}")
    (tmp_path / "store" / "mine").mkdir()
    (tmp_path / "store" / "mine" / "config.json").write_text("{}")
    added = [row.name for row in list_models(tmp_path / "store") if row.kind == "added"]
    assert added == ["mine"]  # was: the staging copy listed as an added model too, which no command could use
