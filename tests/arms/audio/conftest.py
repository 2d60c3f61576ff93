"""Fixtures shared by the audio-arm tests: a toy waveform model."""

from __future__ import annotations

import json

import onnx
import pytest
from onnx import TensorProto, helper

from runtime.models.card import file_sha256
from tests.arms.audio.voice_models import WAVEFORM_LABELS


@pytest.fixture
def waveform_model_dir(tmp_path):
    """A real ONNX graph of the waveform kind: loudness of the window decides between four labels."""
    graph = helper.make_graph(
        [
            helper.make_node("Abs", ["waveform"], ["magnitude"]),
            helper.make_node("ReduceMean", ["magnitude"], ["level"], axes=[1], keepdims=1),
            helper.make_node("MatMul", ["level", "w"], ["logits0"]),
            helper.make_node("Add", ["logits0", "b"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probs"], axis=1),
        ],
        "toy",
        [helper.make_tensor_value_info("waveform", TensorProto.FLOAT, ["batch", 32000])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor("w", TensorProto.FLOAT, [1, 4], [0.0, 50.0, -50.0, 100.0]),
         helper.make_tensor("b", TensorProto.FLOAT, [4], [0.0, 0.0, 0.0, -1.0])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    folder = tmp_path / "toy-waveform"
    folder.mkdir()
    onnx.save(model, folder / "model.onnx")
    card = {"id": "toy-waveform", "version": "1", "task": "audio-emotion-waveform", "labels": WAVEFORM_LABELS,
            "files": {"default": "model.onnx"}, "sha256": {"default": file_sha256(folder / "model.onnx")},
            "input": {"name": "waveform", "sample_rate_hz": 16000, "window_s": 2.0}}
    (folder / "card.json").write_text(json.dumps(card))
    return folder
