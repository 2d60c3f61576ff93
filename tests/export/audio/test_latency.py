import numpy as np
import onnx
from onnx import TensorProto, helper

from export.audio.latency import onnx_run_times_ms


def test_onnx_run_times_ms_times_each_requested_run(tmp_path):
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "identity",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, tmp_path / "identity.onnx")
    times_ms = onnx_run_times_ms(tmp_path / "identity.onnx", {"x": np.zeros((1, 4), dtype=np.float32)}, repeats=5)
    assert len(times_ms) == 5 and all(0 < t < 1000 for t in times_ms)
