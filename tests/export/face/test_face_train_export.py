import json
import re
import shutil

import numpy as np
import pytest

from export.face.data import load_split
from export.face.export import compose_ensemble, export_face, installed_summary_line
from export.face.train import TrainConfig, summary_line, train_face
from runtime.arms.face.expression import ExpressionModel
from runtime.errors import InputError
from tests.export.face.tiny_fer import write_fer


@pytest.fixture(scope="module")
def tiny_fer(tmp_path_factory):
    """A FER-2013-shaped folder whose classes differ in brightness, so a CNN can learn them in a few steps."""
    return write_fer(tmp_path_factory.mktemp("fer"), {"Training": 24, "PublicTest": 6})


@pytest.fixture(scope="module")
def trained(tiny_fer, tmp_path_factory):
    out = tmp_path_factory.mktemp("trained")
    config = TrainConfig(epochs=8, batch_size=32, widths=(16, 32), learning_rate=0.05, threads=1)
    train_face(tiny_fer, out, config, log=lambda line: None)
    return out


def test_training_keeps_the_best_public_test_epoch(trained):
    report = json.loads((trained / "report.json").read_text())
    assert (trained / "model.pt").is_file()
    assert report["selected_epoch"] >= 5  # the first half of the epochs is never evaluated
    assert report["public_test"]["balanced_accuracy"] > 1 / 7  # brightness classes are learnable
    best = max(report["history"], key=lambda entry: entry["balanced_accuracy"])  # the first of equals
    assert report["selected_epoch"] == best["epoch"]
    assert report["public_test"]["balanced_accuracy"] == best["balanced_accuracy"]


def test_export_ships_int8_the_face_arm_loads_and_leaves_the_float_reference_beside_the_run(trained, tiny_fer,
                                                                                               tmp_path):
    folder = export_face(trained, tiny_fer, models_dir=tmp_path)
    card = json.loads((folder / "card.json").read_text())
    metrics = card["metrics"]["public_test"]
    assert card["files"] == {"default": "expression_int8.onnx"}
    assert sorted(p.name for p in folder.glob("*.onnx")) == ["expression_int8.onnx"]
    assert (trained / "expression_float.onnx").stat().st_size == metrics["float"]["size_bytes"]
    assert metrics["int8"]["size_bytes"] < metrics["float"]["size_bytes"]
    assert abs(metrics["int8_minus_float_accuracy"]) <= 0.01
    model = ExpressionModel(folder)
    probs = model.predict(np.full((2, 48, 48), 100, np.uint8))
    assert probs.shape == (2, 7) and np.allclose(probs.sum(axis=1), 1.0)
    assert model.unsupported_labels == ["calm"]


def test_int8_weights_keep_to_seven_bits_so_cpus_without_vnni_do_not_saturate(trained, tiny_fer, tmp_path):
    import onnx
    from onnx import numpy_helper

    folder = export_face(trained, tiny_fer, models_dir=tmp_path)
    graph = onnx.load(str(folder / "expression_int8.onnx")).graph
    weights = [numpy_helper.to_array(i) for i in graph.initializer if i.data_type == onnx.TensorProto.INT8]
    assert weights, "the INT8 graph holds int8 weights"
    assert max(int(np.abs(w.astype(np.int16)).max()) for w in weights) <= 64


def test_a_float_graph_requantizes_into_its_model_folder_keeping_the_training_record(trained, tiny_fer, tmp_path):
    from export.face.export import requantize_face

    before = json.loads((export_face(trained, tiny_fer, models_dir=tmp_path) / "card.json").read_text())
    folder = requantize_face(trained / "expression_float.onnx", tiny_fer, models_dir=tmp_path)
    card = json.loads((folder / "card.json").read_text())
    assert card["training"] == before["training"] and card["rebuild"] == before["rebuild"]
    assert card["requantized"]["previous_version"] == before["version"]
    assert card["version"].endswith(card["sha256"]["default"][:8])
    assert set(card["metrics"]["public_test"]) >= {"float", "int8", "int8_minus_float_accuracy"}
    assert ExpressionModel(folder).predict(np.full((1, 48, 48), 90, np.uint8)).shape == (1, 7)


@pytest.mark.parametrize("shipped", [True, False], ids=["repo-models", "beside"])
@pytest.mark.parametrize("old_destination", ["", " --models-dir DIR", " --replace"],
                         ids=["before-the-guard", "beside", "replace"])
def test_a_requantized_card_says_where_its_rebuild_puts_the_model_as_its_note_does(
        trained, tiny_fer, tmp_path, monkeypatch, shipped, old_destination):
    import export.install
    from export.face.export import requantize_face

    models = tmp_path / "models"
    if shipped:  # this folder stands in for the repo's models/
        monkeypatch.setattr(export.install, "REPO_MODELS_DIR", models)
    folder = export_face(trained, tiny_fer, models_dir=models, replace=False)
    card = json.loads((folder / "card.json").read_text())
    command, marker, comment = card["rebuild"].partition("  # ")  # a tiny run's settings are named after '  # '
    assert marker and command.endswith(" --replace" if shipped else " --models-dir DIR")
    export_part = command.removesuffix(" --replace").removesuffix(" --models-dir DIR")
    card["rebuild"] = f"{export_part}{old_destination}  # {comment}"  # as an earlier card may have had it
    (folder / "card.json").write_text(json.dumps(card))
    requantize_face(trained / "expression_float.onnx", tiny_fer, models_dir=models, replace=shipped)
    rebuild = json.loads((folder / "card.json").read_text())["rebuild"]
    # was: the old line kept, e.g. no destination beside a note saying '`--replace`: over the model ...'
    option = "--replace" if shipped else "--models-dir DIR"
    assert rebuild == f"{export_part} {option}  # {comment}"
    note = "`--replace`: over the model" if shipped else "`--models-dir DIR`: the folder this model was exported into"
    assert note in (folder / "MODEL_CARD.md").read_text()


def test_requantizing_something_that_is_not_a_float_graph_is_one_line(trained, tiny_fer, tmp_path, capsys):
    from runtime.cli import main

    export_face(trained, tiny_fer, models_dir=tmp_path)
    before = (tmp_path / "face-expression-cnn" / "card.json").read_text()
    not_onnx = tmp_path / "notes.onnx"
    not_onnx.write_text("not a graph")
    args = ["export", "face", "--from-float", str(not_onnx), "--data", str(tiny_fer), "--models-dir", str(tmp_path)]
    assert main(args) == 2
    assert "not an ONNX graph" in capsys.readouterr().err
    assert (tmp_path / "face-expression-cnn" / "card.json").read_text() == before
    assert main([*args[:3], str(tmp_path / "missing.onnx"), *args[4:]]) == 2
    assert "no such float graph" in capsys.readouterr().err
    assert main([*args, str(tmp_path)]) == 2  # a trained folder as well
    assert "--from-float takes no trained folders" in capsys.readouterr().err


def test_an_ensemble_card_is_not_requantized(trained, tiny_fer, tmp_path):
    from export.face.export import requantize_face

    export_face(trained, tiny_fer, models_dir=tmp_path)
    compose_ensemble(["face-expression-cnn"], tiny_fer, models_dir=tmp_path)
    # named as an ensemble of its members, whose graphs are what can be requantized (was also: 'give --models-dir a
    # folder whose face-expression/ is new, empty...', where requantizing finds no card to keep)
    with pytest.raises(InputError, match=r"holds an ensemble of face-expression-cnn, not a model for .*; give --id the "
                                         r"folder of an exported expression model to requantize \(an ensemble's: each "
                                         r"member's\)$"):
        requantize_face(trained / "expression_float.onnx", tiny_fer, models_dir=tmp_path, model_id="face-expression")


def test_an_ensemble_is_measured_beside_each_member(trained, tiny_fer, tmp_path):
    export_face(trained, tiny_fer, models_dir=tmp_path)
    folder = compose_ensemble(["face-expression-cnn"], tiny_fer, models_dir=tmp_path)
    card = json.loads((folder / "card.json").read_text())
    assert card["members"] == ["../face-expression-cnn"]
    own, member = card["metrics"]["public_test"], card["metrics"]["members_public_test"]["face-expression-cnn"]
    assert own["accuracy"] == pytest.approx(member["accuracy"])  # one member: the mean is that member
    assert "face-expression-cnn" in (folder / "MODEL_CARD.md").read_text()


def test_an_ensemble_rebuild_line_names_its_data_as_its_members_cards_do(trained, tiny_fer, tmp_path):
    member = export_face(trained, tiny_fer, models_dir=tmp_path)
    folder = compose_ensemble(["face-expression-cnn"], tiny_fer, models_dir=tmp_path)
    card, text = json.loads((folder / "card.json").read_text()), (folder / "MODEL_CARD.md").read_text()

    def data_of(command: str) -> str:
        return command.split(" --data ")[1].split()[0]

    # was: ../shared/data/images/fer2013 whatever folder it was composed on, a path from one checkout's layout
    assert data_of(card["rebuild"]) == data_of(json.loads((member / "card.json").read_text())["rebuild"])
    assert f"`{card['rebuild']}`" in text and "DATA: the FER-2013 folder" in text
    assert str(tiny_fer) not in card["rebuild"]


def test_several_runs_export_as_one_graph_averaging_their_logits(trained, tiny_fer, tmp_path_factory):
    import onnxruntime as ort

    from export.face.train import load_trained, predict_probs

    second = tmp_path_factory.mktemp("trained-seed1")
    config = TrainConfig(epochs=4, batch_size=32, widths=(16, 32), learning_rate=0.05, threads=1, seed=1)
    train_face(tiny_fer, second, config, log=lambda line: None)
    folder = export_face([trained, second], tiny_fer, models_dir=tmp_path_factory.mktemp("models"))
    card = json.loads((folder / "card.json").read_text())
    assert [run["config"]["seed"] for run in card["training"]["runs"]] == [0, 1]
    images = np.random.default_rng(1).integers(0, 255, (5, 48, 48)).astype(np.uint8)
    session = ort.InferenceSession(str(trained / "expression_float.onnx"))  # left beside the first run
    merged = session.run(None, {"image": images[:, None].astype(np.float32)})[0]
    mean_log = np.mean([np.log(predict_probs(load_trained(d), images)) for d in (trained, second)], axis=0)
    expected = np.exp(mean_log) / np.exp(mean_log).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(merged, expected, atol=1e-4)


def test_zero_epochs_is_an_input_error_not_a_traceback(tiny_fer, tmp_path, capsys):
    from runtime.cli import main

    assert main(["train", "face", str(tiny_fer), "--out", str(tmp_path / "out"), "--epochs", "-1"]) == 2
    assert "at least 1" in capsys.readouterr().err


def test_widths_that_are_not_numbers_are_an_input_error(tiny_fer, tmp_path, capsys):
    from runtime.cli import main

    assert main(["train", "face", str(tiny_fer), "--out", str(tmp_path / "out"), "--widths", "64,wide"]) == 2
    assert "--widths takes numbers such as" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_zero_width_is_an_input_error(tiny_fer, tmp_path, capsys):
    from runtime.cli import main

    assert main(["train", "face", str(tiny_fer), "--out", str(tmp_path / "out"), "--widths", "16,0"]) == 2
    assert "widths=16,0: each stage width from 1 to 1024" in capsys.readouterr().err


def test_float32_and_bfloat16_training_both_learn_and_record_their_precision(tiny_fer, tmp_path):
    for precision in ("fp32", "bf16"):
        config = TrainConfig(epochs=6, batch_size=32, widths=(16, 32), learning_rate=0.05, threads=1,
                             precision=precision)
        summary = train_face(tiny_fer, tmp_path / precision, config, log=lambda line: None)
        assert summary["config"]["precision"] == precision
        assert summary["public_test"]["balanced_accuracy"] > 1 / 7


def test_auto_precision_is_bfloat16_only_on_a_cpu_that_computes_it():
    from export.face.train import resolve_precision

    assert resolve_precision("auto", native_bf16=True) == ("bf16", None)
    assert resolve_precision("auto", native_bf16=False) == ("fp32", None)
    assert resolve_precision("fp32", native_bf16=True) == ("fp32", None)


def test_asking_for_emulated_bfloat16_trains_in_it_but_warns(tiny_fer, tmp_path, monkeypatch):
    import export.face.train as face_train

    monkeypatch.setattr(face_train, "cpu_has_native_bf16", lambda: False)
    lines: list[str] = []
    config = TrainConfig(epochs=1, batch_size=32, widths=(8,), threads=1, precision="bf16", limit_batches=1)
    summary = train_face(tiny_fer, tmp_path / "bf16", config, log=lines.append)
    assert summary["config"]["precision"] == "bf16"
    assert any("bfloat16 is emulated" in line and "--precision auto or fp32" in line for line in lines)

    config = TrainConfig(epochs=1, batch_size=32, widths=(8,), threads=1, precision="auto", limit_batches=1)
    summary = train_face(tiny_fer, tmp_path / "auto", config, log=lambda line: None)
    assert summary["config"]["precision"] == "fp32"


def test_an_unknown_precision_is_an_input_error(tiny_fer, tmp_path):
    config = TrainConfig(epochs=1, widths=(8,), precision="fp16")
    with pytest.raises(InputError, match="auto, bf16, fp32"):
        train_face(tiny_fer, tmp_path / "out", config, log=lambda line: None)


def test_exporting_a_folder_that_is_not_a_training_run_is_one_line(tiny_fer, tmp_path, capsys):
    from runtime.cli import main

    assert main(["export", "face", str(tmp_path), "--data", str(tiny_fer), "--models-dir", str(tmp_path)]) == 2
    assert "holds no model.pt" in capsys.readouterr().err


def test_soft_targets_are_label_smoothing_alone_without_ferplus_weight():
    from export.face.train import soft_targets

    labels = np.array([0, 2])
    votes = np.array([[0, 0, 10, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0]])
    targets = soft_targets(labels, votes, 0.1, 0.0)
    assert targets[0, 0] == pytest.approx(0.9 + 0.1 / 7) and targets[0, 2] == pytest.approx(0.1 / 7)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=1e-6)


def test_ferplus_votes_soften_the_target_but_never_replace_the_fer_label():
    from export.face.train import soft_targets

    labels = np.array([2, 1, 3])  # sad, happy, angry
    votes = np.array([[10, 0, 0, 0, 0, 0, 0],  # every annotator says neutral
                      [0, 0, 0, 0, 0, 0, 0],  # no FER+ votes: the FER target stays as it is
                      [3, 0, 0, 7, 0, 0, 0]])
    targets = soft_targets(labels, votes, 0.1, 0.4)
    assert list(targets.argmax(axis=1)) == [2, 1, 3]
    assert targets[0, 0] == pytest.approx(0.6 * 0.1 / 7 + 0.4)  # the annotators' doubt moves weight to neutral
    assert targets[1, 1] == pytest.approx(0.9 + 0.1 / 7)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=1e-6)


def test_view_matrices_resample_like_grid_sample_for_zooms_and_shifts():
    import torch
    from torch.nn import functional as F

    from export.face.train import view_matrix

    images = torch.from_numpy(np.random.default_rng(2).normal(size=(3, 1, 48, 48)).astype(np.float32))
    for zoom, shift_x_px, shift_y_px in ((1.08, 0, 0), (0.93, 0, 0), (1.0, 2, -2), (1.08, -2, 1)):
        theta = torch.tensor([[1 / zoom, 0.0, -2 * shift_x_px / 48], [0.0, 1 / zoom, -2 * shift_y_px / 48]])
        grid = F.affine_grid(theta.expand(3, 2, 3), list(images.shape), align_corners=False)
        reference = F.grid_sample(images, grid, padding_mode="border", align_corners=False)
        along_y = torch.from_numpy(view_matrix(48, zoom, shift_y_px))
        along_x = torch.from_numpy(view_matrix(48, zoom, shift_x_px))
        torch.testing.assert_close(along_y @ images @ along_x.T, reference, atol=1e-4, rtol=0)
    np.testing.assert_allclose(view_matrix(48), np.eye(48), atol=1e-6)


def test_the_deployed_graph_averages_every_zoom_and_its_mirror(trained):
    import torch

    from export.face.train import DeployedExpressionNet, load_trained

    net = load_trained(trained)
    deployed = DeployedExpressionNet(net, zooms=(1.0, 1.08)).eval()
    image = torch.from_numpy(np.random.default_rng(3).integers(0, 255, (2, 1, 48, 48)).astype(np.float32))
    views = deployed.views(image)
    assert len(views) == 4
    torch.testing.assert_close(views[2], torch.flip(views[0], dims=[3]))
    plain = DeployedExpressionNet(net, zooms=(1.0,)).eval()
    with torch.no_grad():
        assert not torch.allclose(deployed(image), plain(image))  # the zoomed view takes part


def test_a_split_cache_is_never_served_for_other_data(tmp_path):
    cache = tmp_path / "cache"
    first = load_split(write_fer(tmp_path / "a", {"PublicTest": 2}), "PublicTest", cache)
    other = load_split(write_fer(tmp_path / "b", {"PublicTest": 3}), "PublicTest", cache)
    assert len(first.labels) == 14 and len(other.labels) == 21  # 7 classes
    again = load_split(tmp_path / "a", "PublicTest", cache)  # served from its own cache
    assert np.array_equal(again.images, first.images) and len(list(cache.iterdir())) == 2


def test_a_split_cache_left_unreadable_is_read_again_from_the_images(tmp_path, caplog):
    cache = tmp_path / "cache"
    first = load_split(write_fer(tmp_path / "a", {"PublicTest": 2}), "PublicTest", cache)
    (stored,) = cache.iterdir()
    stored.write_bytes(stored.read_bytes()[:300])  # a run stopped by power loss, a full disk
    again = load_split(tmp_path / "a", "PublicTest", cache)  # was: an internal error (BadZipFile)
    assert np.array_equal(again.images, first.images) and f"{stored}: unreadable cache" in caplog.text


def test_the_graph_traces_without_warnings_and_computes_what_torch_does(trained, tmp_path):
    import warnings

    import onnxruntime as ort
    import torch

    from export.face.export import INPUT_NAME, export_onnx
    from export.face.train import TEST_ZOOMS, DeployedExpressionNet, load_trained

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # what a command line shows
        export_onnx([trained], tmp_path / "face.onnx")
    # torch's notices that the TorchScript exporter is old are its own; a TracerWarning would be about this graph
    assert [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)] == []
    image = np.random.default_rng(5).integers(0, 255, (3, 1, 48, 48)).astype(np.float32)
    with torch.no_grad():
        expected = DeployedExpressionNet([load_trained(trained)], TEST_ZOOMS).eval()(torch.from_numpy(image)).numpy()
    session = ort.InferenceSession(str(tmp_path / "face.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {INPUT_NAME: image})[0], expected, atol=1e-5)


def test_a_training_image_copied_into_public_test_is_left_out_of_the_selection_and_counted(tmp_path):
    import shutil

    root = write_fer(tmp_path / "fer", {"Training": 5, "PublicTest": 2})
    # FER-2013's PublicTest holds such copies, some under another label: selecting on them rewards memorising
    shutil.copy(sorted((root / "Training" / "happy").glob("*.png"))[0], root / "PublicTest" / "sad" / "99999.png")
    lines: list[str] = []
    config = TrainConfig(epochs=1, batch_size=32, widths=(4,), threads=1, limit_batches=1)
    summary = train_face(root, tmp_path / "run", config, log=lines.append)
    assert summary["public_test"]["n"] == 14  # 7 classes x 2, the copy not among them
    assert summary["data"]["selection"] == "FER-2013 PublicTest without its 1 copies of Training images"
    assert any("selecting on 14 PublicTest (its 1 copies of Training images left out)" in line for line in lines)


def test_the_saved_model_is_the_selected_epochs_not_the_last(tiny_fer, tmp_path, monkeypatch):
    import export.face.train as face_train
    from export.face.data import FACE_LABELS, held_out_split
    from export.face.train import load_trained, predict_probs

    real = face_train.classification_report
    scored: list[dict] = []

    def first_scored_epoch_best(labels, probs, names):  # pins the choice on an epoch that is not the last
        scored.append(real(labels, probs, names))
        return {**scored[-1], "balanced_accuracy": 1.0 - 0.1 * len(scored)}

    monkeypatch.setattr(face_train, "classification_report", first_scored_epoch_best)
    config = TrainConfig(epochs=3, batch_size=32, widths=(8,), learning_rate=0.05, threads=1, limit_batches=2)
    summary = train_face(tiny_fer, tmp_path / "run", config, log=lambda line: None)
    assert summary["selected_epoch"] == 2 and [e["epoch"] for e in summary["history"]] == [2, 3]
    assert summary["history"][0]["ece"] != pytest.approx(summary["history"][1]["ece"], abs=1e-6)  # tellable apart
    # model.pt, scored as the selection scored it, gives the report's figures: the weights are the chosen epoch's
    public, _ = held_out_split(tiny_fer)
    saved = real(public.labels, predict_probs(load_trained(tmp_path / "run"), public.images, zooms=(1.0,)),
                 FACE_LABELS)
    assert saved["accuracy"] == pytest.approx(summary["public_test"]["accuracy"])
    assert saved["ece"] == pytest.approx(summary["public_test"]["ece"], abs=1e-6)


def test_the_int8_check_refuses_a_graph_that_loses_accuracy_and_installs_nothing(trained, tiny_fer, tmp_path,
                                                                                 monkeypatch):
    import onnx
    from onnx import numpy_helper

    import export.face.export as face_export

    def damaged(float_path, int8_path, calibration):  # a broken recipe: every face comes out neutral
        model = onnx.load(str(float_path))
        for tensor in model.graph.initializer:
            if tensor.name.endswith("head.bias"):
                tensor.CopyFrom(numpy_helper.from_array(np.array([1e3, 0, 0, 0, 0, 0, 0], np.float32), tensor.name))
        onnx.save(model, str(int8_path))

    assert json.loads((trained / "report.json").read_text())["public_test"]["accuracy"] > 0.3  # more to lose
    monkeypatch.setattr(face_export, "quantize_int8", damaged)
    with pytest.raises(InputError, match=f"{trained}: INT8 model loses [0-9.]+ points of PublicTest accuracy"):
        export_face(trained, tiny_fer, models_dir=tmp_path)
    assert not (tmp_path / "face-expression-cnn").exists()


@pytest.mark.parametrize("with_ferplus_first", [False, True])
def test_runs_trained_with_and_without_fer_plus_are_refused_as_one_model(trained, tiny_fer, tmp_path,
                                                                       with_ferplus_first):
    # was: exported, the licence crediting FER+ from any run, the card's text and Rebuild line from the first alone
    ferplus = tmp_path / "with-fer2013new"
    shutil.copytree(trained, ferplus)
    report = json.loads((ferplus / "report.json").read_text())
    report["data"]["dropped_not_face_rows"] = 150  # as trained with FER+'s fer2013new.csv beside labels.csv
    (ferplus / "report.json").write_text(json.dumps(report))
    runs = [ferplus, trained] if with_ferplus_first else [trained, ferplus]
    with pytest.raises(InputError, match=rf"^{re.escape(str(ferplus))}: dropped FER\+'s non-faces .*, "
                                         rf"{re.escape(str(trained))} did not"):
        export_face(runs, tiny_fer, models_dir=tmp_path / "models")
    assert not (tmp_path / "models").exists()  # refused before any work


def test_the_card_gives_each_averaged_run_its_own_figures(trained, tiny_fer, tmp_path):
    weak = tmp_path / "weak"  # one batch: figures far from the trained run's
    config = TrainConfig(epochs=1, batch_size=32, widths=(16, 32), threads=1, seed=2, limit_batches=1)
    train_face(tiny_fer, weak, config, log=lambda line: None)
    runs = [weak, trained]  # the float graph goes beside the first: the shared run's is left alone
    figures = [{k: json.loads((run / "report.json").read_text())["public_test"][k]
                for k in ("accuracy", "balanced_accuracy", "macro_f1")} for run in runs]
    assert figures[0] != figures[1]
    card = json.loads((export_face(runs, tiny_fer, models_dir=tmp_path / "models") / "card.json").read_text())
    assert [run["public_test"] for run in card["training"]["runs"]] == figures


def test_the_commands_print_the_selected_figures(tmp_path):
    figures = {"accuracy": 0.61234, "balanced_accuracy": 0.5, "macro_f1": 0.49, "ece": 0.0312}
    assert summary_line({"public_test": {**figures, "epoch": 7}}, tmp_path) == (
        f"{tmp_path}: epoch 7, PublicTest accuracy 0.612, UA 0.500, macro-F1 0.490, ECE 0.031")
    float_figures = {"accuracy": 0.9, "balanced_accuracy": 0.9}  # the installed model is the INT8 one
    (tmp_path / "card.json").write_text(json.dumps({"metrics": {"public_test": {"float": float_figures,
                                                                                "int8": figures}}}))
    assert installed_summary_line(tmp_path, "requantized") == (
        f"{tmp_path}: requantized; PublicTest accuracy 0.612, UA 0.500")
    (tmp_path / "card.json").write_text(json.dumps({"metrics": {"public_test": figures}}))  # an ensemble's
    assert installed_summary_line(tmp_path, "composed") == f"{tmp_path}: composed; PublicTest accuracy 0.612, UA 0.500"


def asdict_of(config) -> dict:
    """A TrainConfig as a run's report.json records it (widths a list)."""
    from dataclasses import asdict

    return json.loads(json.dumps(asdict(config)))


def _configs_the_rebuild_trains(rebuild: str, monkeypatch) -> list[dict]:
    """The TrainConfig each ``emotrace train face`` command of a Rebuild line gives, through the command line."""
    import shlex

    import export.face.train as face_train
    from runtime.cli import main

    configs: list[dict] = []
    monkeypatch.setattr(face_train, "train_face", lambda data, out, config: configs.append(asdict_of(config)))
    monkeypatch.setattr(face_train, "summary_line", lambda summary, out: "")
    for command in rebuild.split("#")[0].split(" && "):
        words = shlex.split(command)
        if words[1] == "train":
            assert main(words[1:]) in (0, None)
    return configs


def test_the_rebuild_line_trains_every_recorded_setting_of_each_run(monkeypatch):
    from export.face.export import rebuild_command
    from export.face.train import TrainConfig

    shipped = [asdict_of(TrainConfig(precision="bf16")), asdict_of(TrainConfig(seed=1, epochs=30, precision="bf16"))]
    other = [asdict_of(TrainConfig(ferplus_weight=0.5, precision="fp32", widths=(32, 64), threads=4))]
    for configs in (shipped, other):
        rebuild = rebuild_command(configs)
        # precision as trained, not "auto" (which picks fp32 on an AVX2 host: another model), the FER+ weight kept
        assert _configs_the_rebuild_trains(rebuild, monkeypatch) == configs
        assert "# also" not in rebuild
        runs = " ".join(f"run{i}" for i in range(len(configs)))
        assert rebuild.endswith(f"emotrace export face {runs} --data DATA --replace")  # into the repo's models/
        beside = rebuild_command(configs, shipped=False)
        assert beside.endswith(f"emotrace export face {runs} --data DATA --models-dir DIR")


def test_a_setting_the_command_line_cannot_give_is_named_beside_the_rebuild_line():
    from export.face.export import rebuild_command
    from export.face.train import TrainConfig

    rebuild = rebuild_command([asdict_of(TrainConfig()), asdict_of(TrainConfig(batch_size=32, limit_batches=1))])
    assert rebuild.endswith("  # also TrainConfig: run1 batch_size=32, limit_batches=1 (no command-line option)")


def test_the_card_credits_fer_plus_only_where_its_votes_were_used(trained, tiny_fer, tmp_path):
    from export.face.export import _model_card_text

    folder = export_face(trained, tiny_fer, models_dir=tmp_path)  # tiny_fer has no fer2013new.csv
    card = json.loads((folder / "card.json").read_text())
    assert card["training"]["data"]["dropped_not_face_rows"] == 0
    text = (folder / "MODEL_CARD.md").read_text()
    assert "non-faces dropped" not in text and "FER+" not in text and "FER+" not in card["licence"]["training_data"]
    assert f"`{card['rebuild']}`" in text and "DATA: the FER-2013 folder" in text
    card["training"]["data"]["dropped_not_face_rows"] = 150  # as with FER+'s fer2013new.csv beside labels.csv
    text = _model_card_text(card)
    assert "FER+ clear non-faces dropped" in text and "FER+ votes MIT" in text and "fer2013new.csv" in text
