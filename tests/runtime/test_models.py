import numpy as np
import pytest

from runtime.errors import InputError
from runtime.models import load_model
from runtime.models.runner import backend_for_file


def test_a_backend_that_cannot_read_the_file_gives_way_to_the_cards_own():
    assert backend_for_file("m/face.tflite", "tensorrt", own="tflite") == "tflite"
    assert backend_for_file("m/voice.onnx", "tflite", own="onnxruntime") == "onnxruntime"
    assert backend_for_file("m/voice.onnx", "tflite", own=None) == "onnxruntime"
    assert backend_for_file("m/voice.onnx", "openvino", own="onnxruntime") == "openvino"


def test_a_model_file_no_backend_reads_is_an_input_error():
    with pytest.raises(InputError, match="no backend reads .pt"):
        backend_for_file("m/model.pt", "onnxruntime")


def test_shipped_tflite_model_runs_when_the_runtime_backend_is_onnxruntime():
    model = load_model("face-detector", backend="onnxruntime")
    assert model.backend.name == "tflite" and model.identity()["backend"] == "tflite"
    shape = tuple(model.backend.interpreter.get_input_details()[0]["shape"])
    outputs = model.run({"input": np.zeros(shape, np.float32)})
    assert len(outputs) >= 1 and all(np.isfinite(o).all() for o in outputs)
