"""Dynamic INT8 quantization keeps weights to 7 bits, for every exporter that uses it."""

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from export.quantization import quantize_weights_dynamic
from tests.export.onnx_graphs import matmul_graph


def _int8_weight_range(path: Path) -> tuple[int, int]:
    values = np.concatenate([numpy_helper.to_array(t).ravel() for t in onnx.load(str(path)).graph.initializer
                             if t.data_type == onnx.TensorProto.INT8])
    return int(values.min()), int(values.max())


@pytest.mark.parametrize("per_channel", [False, True])
def test_dynamic_int8_weights_keep_to_seven_bits_so_cpus_without_vnni_cannot_saturate_them(tmp_path, per_channel):
    # full-range int8 weights (to +-127) overflow the pairwise 16-bit sums of AVX2's integer kernels
    out = quantize_weights_dynamic(matmul_graph(tmp_path / "f.onnx"), tmp_path / "q.onnx", ["MatMul"], per_channel)
    low, high = _int8_weight_range(out)
    assert low >= -64 and high <= 64 and high - low > 100  # the 7-bit range used, not exceeded


def test_the_voice_export_quantizes_through_the_seven_bit_path(tmp_path):
    from export.audio.export import quantize

    quantize(matmul_graph(tmp_path / "f.onnx"), tmp_path / "q.onnx")
    low, high = _int8_weight_range(tmp_path / "q.onnx")
    assert low >= -64 and high <= 64
