"""Model folders the runtime tests make: a shipped model's copy with its card changed, a toy classifier whose width
is left open, a body classifier with given labels."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper

from runtime.models.card import REPO_MODELS_DIR, file_sha256


def copy_model(tmp_path, model_id, edit=None, name=None):
    """A copy of a shipped model folder, its card changed by ``edit(card)``."""
    folder = tmp_path / (name or model_id)
    shutil.copytree(REPO_MODELS_DIR / model_id, folder)
    card = json.loads((folder / "card.json").read_text())
    if edit is not None:
        edit(card)
    (folder / "card.json").write_text(json.dumps(card))
    return folder


def toy_classifier(folder, labels):
    """An ONNX graph copying its (n, w) input to its output: the output's width is left open."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["probs"])], "toy",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", "w"])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["n", "w"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    folder.mkdir()
    onnx.save(model, folder / "toy.onnx")
    card = {"id": "toy", "version": "1", "task": "t", "labels": labels, "files": {"default": "toy.onnx"},
            "sha256": {"default": file_sha256(folder / "toy.onnx")}}
    (folder / "card.json").write_text(json.dumps(card))
    return folder


def body_model_labelled(folder, labels: list[str]):
    """A body classifier folder with these labels (as one trained before labels were checked could have)."""
    from export.body.train import fit, onnx_graph

    folder.mkdir()
    x, y = np.random.default_rng(0).normal(0, 1, (8, 3)), np.array([0, 1] * 4)
    (folder / "body.onnx").write_bytes(onnx_graph(*fit(x, y, 2)[1:]).SerializeToString())
    (folder / "card.json").write_text(json.dumps({
        "id": folder.name, "version": "1", "task": "body", "labels": labels,
        "files": {"default": "body.onnx"}, "sha256": {"default": file_sha256(folder / "body.onnx")},
        "features": ["a", "b", "c"], "fill": [0.0, 0.0, 0.0]}))
    return folder
