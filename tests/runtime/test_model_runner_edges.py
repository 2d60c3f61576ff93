"""Model loading as a clinic's IT person meets it: cards that do not fit, files swapped or unreadable, backends
asked for that this machine or file cannot use."""

import json
import logging

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from runtime.errors import InputError
from runtime.models import BACKENDS, load_card, load_model
from runtime.models.card import REPO_MODELS_DIR, file_sha256
from runtime.models.runner import _static, backend_for_file
from tests.runtime.model_folders import copy_model, toy_classifier


def _toy_graph(folder, input_shape, output_shape, n_outputs=1):
    """An ONNX graph copying its input ``x`` to each of its outputs, with the shapes declared as given (None: no
    shape at all), and a card that matches it."""
    outputs = [f"y{i}" for i in range(n_outputs)]
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], [name]) for name in outputs], "toy",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, output_shape) for name in outputs],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    folder.mkdir()
    onnx.save(model, folder / "toy.onnx")
    card = {"id": "toy", "version": "1", "task": "t", "labels": ["a", "b"], "files": {"default": "toy.onnx"},
            "sha256": {"default": file_sha256(folder / "toy.onnx")}}
    (folder / "card.json").write_text(json.dumps(card))
    return folder


# --- names and paths -------------------------------------------------------------------------------------------


def test_a_name_starting_with_a_dot_is_a_folder_not_a_shipped_id(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    copy_model(tmp_path, "face-expression-cnn", lambda c: c.update(id="mine"), name=".mine")
    assert load_card(".mine").id == "mine"


def test_a_folder_without_a_card_is_said_as_such_not_as_an_unknown_shipped_id(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError) as caught:
        load_card(tmp_path / "empty")
    assert str(caught.value) == f"{tmp_path / 'empty'}: no model card (card.json) there"


def test_a_variant_the_card_does_not_list_is_one_line_naming_the_card():
    with pytest.raises(InputError, match="has no model variant 'fp32'") as caught:
        load_model("face-expression-cnn", variant="fp32")
    assert caught.value.source == str(REPO_MODELS_DIR / "face-expression-cnn" / "card.json")


# --- card fields ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("edit", "problem"), [
    (lambda c: c.update(version=""), "card field 'version' must be a non-empty string"),
    (lambda c: c.update(id=""), "card field 'id' must be a non-empty string"),
    (lambda c: c.update(labels=["neutral", ""]), "card field 'labels' must be a non-empty list of label names"),
    (lambda c: c["files"].update(session=""), "card field 'files' must map each variant to a file name"),
    (lambda c: c.update(feature_set=0), "card field 'feature_set' must be a string or null"),
    (lambda c: c["sha256"].update(session=c["sha256"]["session"] + "0"),
     r"card field 'sha256' must map each variant to its file's SHA-256 \(64 hex digits\)"),
], ids=["empty-version", "empty-id", "empty-label", "empty-file-name", "numeric-feature-set", "65-hex-digits"])
def test_an_empty_or_misshapen_card_field_is_refused_at_the_card(tmp_path, edit, problem):
    folder = copy_model(tmp_path, "audio-emotion", edit)
    with pytest.raises(InputError, match=problem) as caught:
        load_card(folder)
    assert caught.value.source == str(folder / "card.json")


def test_a_checksum_written_in_upper_case_is_accepted(tmp_path):
    # e.g. PowerShell's Get-FileHash, or certutil, print the digest in capitals
    folder = copy_model(tmp_path, "face-expression-cnn",
                        lambda c: c["sha256"].update(default=c["sha256"]["default"].upper()))
    assert load_model(folder).card.sha256["default"].isupper()


def test_a_model_file_that_cannot_be_read_is_one_line_naming_it(tmp_path, monkeypatch):
    import runtime.models.card as card_module

    folder = copy_model(tmp_path, "face-expression-cnn")
    path = load_card(folder).path("default")

    def denied(read_path):  # root reads whatever chmod says, so the refusal is faked
        raise PermissionError(13, "Permission denied", str(read_path))

    monkeypatch.setattr(card_module, "file_sha256", denied)
    with pytest.raises(InputError) as refused:  # was: 'internal error: PermissionError ...'
        load_model(folder)
    assert str(refused.value) == f"{path}: model file cannot be read (Permission denied)"


def test_a_model_file_replaced_by_a_folder_is_said_missing_in_one_line(tmp_path):
    folder = copy_model(tmp_path, "face-expression-cnn")
    path = load_card(folder).path("default")
    path.unlink()
    path.mkdir()  # an unpacking that made a folder of the file's name
    with pytest.raises(InputError, match="model file is missing") as caught:
        load_model(folder)
    assert caught.value.source == str(path)


# --- backends: unknown, not installed, not for this file --------------------------------------------------------


def test_an_unknown_backend_is_one_line_listing_the_known_ones():
    with pytest.raises(InputError) as caught:
        load_model("face-expression-cnn", backend="cuda")
    assert str(caught.value) == f"cuda: unknown backend; choose one of {', '.join(BACKENDS)}"


@pytest.mark.parametrize(("package", "backend", "install"), [
    ("ai_edge_litert", "tflite", "pip install ai-edge-litert"),
    ("openvino", "openvino", "pip install -e '.[openvino]' in the project"),
])
def test_a_backend_not_installed_says_how_to_install_it(monkeypatch, package, backend, install):
    import importlib

    def not_installed(name):  # as Python says it: the missing top-level package named, not the module asked for
        raise ModuleNotFoundError(f"No module named {package!r}", name=package)

    monkeypatch.setattr(importlib, "import_module", not_installed)
    assert BACKENDS[backend].unavailable() == f"backend not installed: {install}"


def test_an_onnx_model_keeps_its_cards_own_backend_when_the_configured_one_cannot_read_it():
    assert backend_for_file("m/voice.onnx", "tflite", own="tensorrt") == "tensorrt"
    assert backend_for_file("m/voice.onnx", "tflite", own="no-such-backend") == "onnxruntime"


@pytest.mark.filterwarnings("ignore:Specified provider")
def test_a_loaded_model_runs_on_its_cards_own_backend_when_the_configured_one_cannot_read_it(tmp_path, monkeypatch):
    import onnxruntime as ort

    monkeypatch.setattr(ort, "get_available_providers", lambda: ["TensorrtExecutionProvider", "CPUExecutionProvider"])
    folder = copy_model(tmp_path, "face-expression-cnn", lambda c: c.update(backend="tensorrt"))
    assert load_model(folder, backend="tflite").backend.name == "tensorrt"


def test_the_log_says_which_backend_a_model_runs_on_instead_of_the_configured_one(caplog):
    with caplog.at_level(logging.INFO, logger="runtime.models.runner"):
        load_model("face-detector", backend="onnxruntime")
    assert "a .tflite model runs on tflite, not onnxruntime" in caplog.text


def test_a_negative_dimension_is_read_as_dynamic():
    # TFLite's shape_signature says -1 where a dimension is dynamic
    assert _static([-1, 3, "n", np.int64(5), 0]) == (None, 3, None, 5, 0)


# --- graphs and their inputs and labels -------------------------------------------------------------------------


def test_a_model_given_none_of_its_inputs_is_one_line_naming_them(tmp_path):
    model = load_model(toy_classifier(tmp_path / "toy", ["a", "b"]))
    with pytest.raises(InputError, match="the model takes inputs x; it was given none"):
        model.run({})  # was (mutated): onnxruntime's ValueError 'Required inputs ... are missing'


def test_a_one_dimensional_input_shape_is_written_as_a_tuple(tmp_path):
    model = load_model(_toy_graph(tmp_path / "toy", ["n"], ["n"]))
    with pytest.raises(InputError, match=r"takes input 'x' of shape \(N,\); it was given \(2, 3\)$"):
        model.run({"x": np.ones((2, 3), np.float32)})


def test_an_input_whose_rank_the_graph_leaves_open_takes_any_shape(tmp_path):
    model = load_model(_toy_graph(tmp_path / "toy", None, None))
    assert model.input_shape("x") == ()
    for shape in [(3,), (2, 2), (1, 2, 2)]:
        assert model.run({"x": np.ones(shape, np.float32)})[0].shape == shape


def test_a_card_naming_a_labels_output_past_the_last_is_refused_at_load(tmp_path):
    folder = _toy_graph(tmp_path / "toy", ["n", 2], ["n", 2], n_outputs=2)
    assert load_model(folder, labels_output=1).labels == ["a", "b"]
    with pytest.raises(InputError, match=r"the model has 2 output\(s\); its card's labels name output 2$"):
        load_model(folder, labels_output=2)


def test_a_tflite_model_takes_a_batch_other_than_the_one_it_declares():
    model = load_model("face-expression-fer")  # declares one 64x64 image
    images = np.random.default_rng(0).uniform(0, 1, (3, 64, 64, 1)).astype(np.float32)
    name = model.card.extra["input_name"]
    together = model.run({name: images})[0]
    alone = np.concatenate([model.run({name: images[i:i + 1]})[0] for i in range(3)])
    assert together.shape == (3, 7)
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_a_tflite_model_given_an_image_of_a_size_its_graph_cannot_take_is_one_line_naming_it():
    model = load_model("face-detector")  # takes 192x192 images
    name = model.backend.interpreter.get_input_details()[0]["name"]
    with pytest.raises(InputError) as refused:  # was: a RuntimeError
        model.run({name: np.zeros((1, 128, 128, 3), dtype=np.float32)})
    assert str(refused.value) == (f"{model.path}: the model takes input {name!r} of shape (N, 192, 192, 3); it was "
                                  "given (1, 128, 128, 3)")
    with pytest.raises(InputError, match=r"the model takes 1 input\(s\); it was given 2$"):  # was: zip()'s error
        model.run({name: np.zeros((1, 192, 192, 3), dtype=np.float32), "other": np.zeros(1)})


def test_tensorrt_asks_for_tensorrt_then_cuda_then_the_cpu_for_what_they_cannot_run(monkeypatch):
    import onnxruntime as ort

    asked = []
    real_session = ort.InferenceSession

    def session(path, options=None, providers=None):
        asked.append(list(providers))
        return real_session(path, options, providers=["CPUExecutionProvider"])  # this machine has only the CPU

    monkeypatch.setattr(ort, "get_available_providers", lambda: ["TensorrtExecutionProvider", "CPUExecutionProvider"])
    monkeypatch.setattr(ort, "InferenceSession", session)
    assert load_model("face-expression-cnn", backend="tensorrt").identity()["backend"] == "tensorrt"
    assert asked == [["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]]


def test_a_backend_that_feeds_inputs_by_order_declares_no_input_shapes():
    model = load_model("face-detector")  # LiteRT
    assert model.input_shape("input") is None
    shape = tuple(model.backend.interpreter.get_input_details()[0]["shape"])
    outputs = model.run({"input": np.zeros(shape, np.float32)})  # checked by order, in the backend (TfliteBackend)
    assert [out.shape[0] for out in outputs] == [shape[0]] * len(outputs)
