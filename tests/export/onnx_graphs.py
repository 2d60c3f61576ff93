"""ONNX graphs the export tests quantize and install: one MatMul of random weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper


def matmul_graph(path: Path, n_in: int = 64, n_out: int = 16) -> Path:
    weights = np.random.default_rng(0).normal(size=(n_in, n_out)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [None, n_in])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [None, n_out])],
        [numpy_helper.from_array(weights, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path
