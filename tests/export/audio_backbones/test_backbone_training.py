import csv
import json

import numpy as np
import pytest

from export.audio.backbones.data import WINDOW_S, clip_waveform_windows, window_samples
from export.audio.backbones.distill import DistillSettings, StudentNet, distill, distill_trained
from export.audio.backbones.onnx_export import export_trained, summary_line
from export.audio.backbones.train import HeadSettings, fit_head, head_probs, speaker_folds, train_backbone
from runtime.arms.audio.windows import speech_windows
from runtime.config import DEFAULTS
from runtime.media import read_audio
from runtime.models import load_model
from tests.export.audio_backbones.tiny_models import save_tiny_classifier, tiny_config
from tests.export.cards import assert_card_as_exports_write_it


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_wavlm, ravdess_manifest):
    out = tmp_path_factory.mktemp("trained")
    report = train_backbone(
        ravdess_manifest,
        out,
        str(tiny_wavlm),
        cv_folds=2,
        validation_speakers=["actor03"],
        settings=HeadSettings(epochs=3),
        progress=False,
    )
    return out, report


def test_training_writes_speaker_independent_folds_and_a_held_out_check(trained):
    out, report = trained
    assert report.kind == "encoder" and report.labels[0] == "neutral" and len(report.labels) == 8
    folds = report.cv["folds"]
    tested = [s for fold in folds for s in fold["test_speakers"]]
    assert sorted(tested) == ["actor01", "actor02"]  # each training speaker tested once, never trained on
    assert report.validation["clip"]["n"] == 8  # actor03's clips, kept out of the folds
    for key in ("balanced_accuracy", "macro_f1", "ece"):
        assert 0.0 <= report.cv["clip"][key] <= 1.0
    assert sum(report.layer_weights) == pytest.approx(1.0, abs=1e-3)
    saved = json.loads((out / "report.json").read_text())
    assert saved["cv"]["split"].startswith("StratifiedGroupKFold by speaker")


def test_a_head_on_layers_that_follow_their_clips_labels_scores_far_above_chance(tiny_wavlm, ravdess_manifest,
                                                                                 tmp_path, monkeypatch):
    # the encoder's pooled layers replaced by noise plus each window's label index: a window paired with another
    # clip's label (a misalignment anywhere from the manifest to the head's rows) would score near chance, 1/8
    import export.audio.backbones.train as backbone_train

    encoded = backbone_train._pooled_cached

    def following_labels(model, fingerprint, windows, out, progress):
        shape = encoded(model, fingerprint, windows, out, progress).shape
        y = np.array([backbone_train.CANONICAL_LABELS.index(windows.clips[i].emotion) for i in windows.clip_index])
        return (np.random.default_rng(0).normal(scale=0.5, size=shape) + y[:, None, None]).astype(np.float32)

    monkeypatch.setattr(backbone_train, "_pooled_cached", following_labels)
    settings = HeadSettings(epochs=100, learning_rate=1e-2)  # a batch an epoch: 100 steps, a second or two
    report = train_backbone(ravdess_manifest, tmp_path / "run", str(tiny_wavlm), cv_folds=2,
                            validation_speakers=["actor03"], settings=settings, progress=False)
    ua = {"cv": report.cv["clip"]["balanced_accuracy"], "validation": report.validation["clip"]["balanced_accuracy"]}
    assert min(ua.values()) > 3 / len(report.labels), ua  # about 0.8 and 1.0


def test_training_windows_are_the_devices_speech_windows(trained, ravdess_manifest):
    out, _ = trained
    with open(out / "windows.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    first_path = rows[0]["path"]
    settings = DEFAULTS["audio"]
    expected = speech_windows(
        read_audio(first_path, 16000),
        16000,
        settings["window_s"],
        settings["hop_s"],
        settings["min_speech_fraction"],
    )
    ours = [(float(r["start_s"]), float(r["end_s"])) for r in rows if r["path"] == first_path]
    assert ours == [pytest.approx((w.start_s, w.end_s), abs=1e-5) for w in expected]
    windows, waveforms = clip_waveform_windows(first_path)
    assert waveforms.shape == (len(windows), window_samples(WINDOW_S))


def test_export_gives_an_int8_model_the_runtime_loads_and_that_agrees_with_torch(trained, tmp_path):
    out, _ = trained
    metrics = export_trained(out, tmp_path / "model", latency_repeats=2)
    assert metrics["onnx_vs_torch"]["max_abs_diff"] < 1e-4
    assert metrics["int8_vs_float"]["max_abs_diff"] < 0.1
    assert metrics["latency_cpu_per_window"]["int8"]["median_ms"] > 0
    card = assert_card_as_exports_write_it(tmp_path / "model")
    assert card.version.endswith("-" + card.sha256["default"][:8])  # two exports of one day are told apart
    model = load_model(tmp_path / "model")  # int8, checked against its card's checksum
    assert model.labels == json.loads((out / "backbone.json").read_text())["labels"]
    # the graph takes raw samples of any length: a short last window and a full one
    for seconds in (1.3, 2.0):
        probs = model.run({"waveform": np.zeros((2, int(16000 * seconds)), dtype=np.float32) + 0.01})[0]
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-4)
    card_metrics = json.loads((tmp_path / "model" / "card.json").read_text())["metrics"]
    assert "speaker_independent" in card_metrics
    # float and INT8 scored on the held-out speaker's windows (actor03: 8 clips, one window or more each)
    assert card_metrics["check_windows"]["float"]["n"] == card_metrics["check_windows"]["int8"]["n"] >= 8


def test_distillation_exports_a_student_judged_on_the_held_out_speaker(trained, tmp_path):
    out, _ = trained
    metrics = distill_trained(out, tmp_path / "student", settings=DistillSettings(steps=3), latency_repeats=2)
    assert metrics["distillation"]["steps"] == 3
    assert set(metrics["held_out_speakers"]) == {"student", "teacher", "student_teacher_agreement"}
    assert metrics["held_out_speakers"]["student"]["n"] == 8
    assert_card_as_exports_write_it(tmp_path / "student")  # its metrics written in after the export's
    student = load_model(tmp_path / "student")
    probs = student.run({"waveform": np.full((1, 32000), 0.01, dtype=np.float32)})[0]
    assert probs.shape == (1, 8)


def test_layer_weights_move_to_the_layer_that_holds_the_emotion():
    rng = np.random.default_rng(0)
    targets = np.repeat([0, 1, 2], 60)
    pooled = rng.normal(size=(180, 4, 16)).astype(np.float32)
    pooled[:, 2, :3] += 4.0 * np.eye(3)[targets]  # only layer 2 knows the class
    head = fit_head(pooled, targets, 3, HeadSettings(epochs=40))
    assert int(np.argmax(head.layer_weights)) == 2
    assert (head_probs(head, pooled).argmax(1) == targets).mean() > 0.9


def test_a_stop_swallowed_during_a_head_step_ends_the_fit_at_that_step(monkeypatch):
    from export.audio.backbones.models import LayerWeightedHead
    from runtime.stopping import stopping_on_signals
    from tests.runtime.stops import swallowed_stop

    forward = LayerWeightedHead.forward
    steps = []

    def swallowing(self, x):  # a library caught the Ctrl-C raised inside the first step's forward pass
        steps.append(len(steps))
        if len(steps) == 1:
            swallowed_stop()
        return forward(self, x)

    monkeypatch.setattr(LayerWeightedHead, "forward", swallowing)
    rng = np.random.default_rng(0)
    with stopping_on_signals(), pytest.raises(KeyboardInterrupt):
        fit_head(rng.normal(size=(60, 2, 8)).astype(np.float32), np.repeat([0, 1, 2], 20), 3, HeadSettings(epochs=5))
    assert steps == [0]  # was: every step of five epochs, and a head fitted as if never stopped


def test_folds_never_split_a_speaker():
    targets = np.tile(np.arange(4), 10)
    speakers = np.repeat([f"s{i}" for i in range(5)], 8)
    folds = speaker_folds(targets, speakers, 5)
    for test in folds:
        inside = set(speakers[test])
        outside = set(np.delete(speakers, test))
        assert not inside & outside


def test_student_learns_the_teachers_outputs_on_unlabelled_windows():
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    low = np.stack([np.sin(2 * np.pi * 150 * t + p) for p in rng.uniform(0, 6, 32)])
    high = np.stack([np.sin(2 * np.pi * 2500 * t + p) for p in rng.uniform(0, 6, 32)])
    waveforms = (np.concatenate([low, high]) * 0.3).astype(np.float32)
    teacher = np.repeat([[0.9, 0.1], [0.1, 0.9]], 32, axis=0)
    student, history = distill(
        teacher, waveforms, None, DistillSettings(steps=60, batch_size=16), StudentNet(2, channels=16)
    )
    assert np.mean(history.losses[-10:]) < np.mean(history.losses[:10])
    from export.audio.backbones.models import run_batched

    assert (run_batched(student, waveforms).argmax(1) == teacher.argmax(1)).mean() > 0.9


def test_a_finetuned_checkpoint_is_judged_only_on_labels_it_can_say(tmp_path, ravdess_manifest):
    folder = save_tiny_classifier(tmp_path / "clf", {0: "neu", 1: "hap", 2: "ang", 3: "sad", 4: "other"})
    report = train_backbone(ravdess_manifest, tmp_path / "out", str(folder), progress=False)
    assert report.kind == "classifier"
    assert report.labels == ["neutral", "happy", "sad", "angry"]
    assert report.label_mapping["unmapped"] == ["other"]
    assert "calm" in report.label_mapping["unsupported"]
    assert report.cv["clip"]["n"] == 3 * 4  # three actors' neutral, happy, sad and angry clips
    assert report.cv["windows_with_unsupported_true_label"] > 0
    assert not (tmp_path / "out" / "head.pt").exists()  # nothing trained: its own head is kept


def test_the_dimensional_model_trains_a_head_on_its_trunk_and_reports_its_own_dimensions(
    tmp_path, ravdess_manifest
):
    from export.audio.backbones.models import _dimensional_model_class

    config = tiny_config(
        "wav2vec2", num_labels=3, id2label={0: "arousal", 1: "dominance", 2: "valence"}, final_dropout=0.1
    )
    _dimensional_model_class()(config).save_pretrained(tmp_path / "dim")
    report = train_backbone(
        ravdess_manifest,
        tmp_path / "out",
        str(tmp_path / "dim"),
        cv_folds=3,
        settings=HeadSettings(epochs=2),
        progress=False,
    )
    assert report.kind == "dimensional"
    assert set(report.dimensions_by_label) == set(report.labels)
    assert all(set(v) == {"arousal", "dominance", "valence"} for v in report.dimensions_by_label.values())
    assert (tmp_path / "out" / "head.pt").is_file()


def test_distillation_keeps_the_weights_that_did_best_on_validation_speakers():
    from export.audio.backbones.distill import ValidationSet

    rng = np.random.default_rng(1)
    t = np.arange(16000) / 16000
    low = np.stack([np.sin(2 * np.pi * 150 * t + p) for p in rng.uniform(0, 6, 24)])
    high = np.stack([np.sin(2 * np.pi * 2500 * t + p) for p in rng.uniform(0, 6, 24)])
    waveforms = (np.concatenate([low, high]) * 0.3).astype(np.float32)
    teacher = np.repeat([[0.9, 0.1], [0.1, 0.9]], 24, axis=0)
    # validation speakers whose windows the teacher judges the other way round: learning hurts there
    validation = ValidationSet(waveforms, teacher[:, ::-1].copy(), np.full(len(waveforms), -1))
    student, history = distill(
        teacher,
        waveforms,
        None,
        DistillSettings(steps=60, batch_size=16),
        StudentNet(2, channels=16),
        validation=validation,
        eval_every=10,
    )
    assert history.best_step == min(history.validation_losses, key=history.validation_losses.get)
    assert history.best_step < 60
    from export.audio.backbones.distill import _validation_loss

    kept = _validation_loss(student, validation, DistillSettings().hard_label_weight)
    assert kept == pytest.approx(history.validation_losses[history.best_step], rel=1e-4)


def test_inner_validation_speakers_come_from_the_training_speakers_only_when_there_are_enough():
    from export.audio.backbones.distill import inner_validation_speakers

    assert inner_validation_speakers(["a", "b"]) == []
    chosen = inner_validation_speakers([f"s{i:02d}" for i in range(20)] * 3)
    assert chosen == ["s17", "s18", "s19"]


def test_validation_speakers_are_named_as_in_the_default_route(tmp_path, tiny_wavlm, ravdess_manifest):
    # RAVDESS speakers are "ravdess-03": "03" names one, as `train audio` without a backbone accepts
    text = (ravdess_manifest / "manifest.csv").read_text().replace(",actor", ",ravdess-")
    (tmp_path / "manifest.csv").write_text(text)
    report = train_backbone(tmp_path / "manifest.csv", tmp_path / "run", str(tiny_wavlm), cv_folds=2,
                            validation_speakers=["03"], settings=HeadSettings(epochs=1), progress=False)
    assert report.validation["clip"]["n"] == 8
    assert sorted(s for fold in report.cv["folds"] for s in fold["test_speakers"]) == ["ravdess-01", "ravdess-02"]


def test_a_backbone_learns_from_windows_without_their_dc_offset_as_the_device_cuts_them(ravdess_dir, tmp_path):
    import soundfile

    samples = read_audio(ravdess_dir / "Actor_03" / "03-01-05-02-01-01-03.flac")
    soundfile.write(tmp_path / "offset.wav", samples + np.float32(0.05), 16000, subtype="FLOAT")
    windows, waveforms = clip_waveform_windows(tmp_path / "offset.wav")
    assert windows and abs(float(np.mean(waveforms))) < 1e-3  # the offset (0.05) is gone, not fed to the encoder


def test_the_export_command_prints_agreement_and_latency(tmp_path):
    metrics = {"int8_vs_float": {"top1_agreement": 0.98765},
               "latency_cpu_per_window": {"float": {"median_ms": 12.34}, "int8": {"median_ms": 5.6}}}
    assert summary_line(tmp_path, metrics) == (
        f"{tmp_path}: exported; int8 vs float top-1 agreement 0.988; CPU per 2 s window 12.34 ms float, 5.6 ms int8")


def test_a_first_run_stopped_in_its_fitting_keeps_the_pooled_layers_for_the_retry(tmp_path, tiny_wavlm,
                                                                                  ravdess_manifest, monkeypatch,
                                                                                  caplog):
    import export.audio.backbones.train as backbone_train

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C in a head's fitting, after the backbone ran over every window

    monkeypatch.setattr(backbone_train, "fit_head", stopped)
    out = tmp_path / "run"
    with caplog.at_level("WARNING"), pytest.raises(KeyboardInterrupt):
        train_backbone(ravdess_manifest, out, str(tiny_wavlm), cv_folds=2, settings=HeadSettings(epochs=1),
                       progress=False)
    (pooled,) = out.iterdir()  # was: the new folder removed whole
    assert pooled.match("pooled-*.npz") and f"kept {pooled} for a retry" in caplog.messages
