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


def test_a_model_runs_on_the_cpu_threads_it_is_given():
    from runtime.arms.face.expression import ExpressionModel

    default = ExpressionModel()  # the ensemble card: its member gets the threads
    two = ExpressionModel(threads=2)
    threads = [m.model.backend.session.get_session_options().intra_op_num_threads
               for m in (default.members[0], two.members[0])]
    assert threads == [1, 2]
    crops = np.full((2, 48, 48), 120, np.uint8)
    assert np.allclose(default.predict(crops), two.predict(crops), atol=1e-5)


def test_fewer_than_one_thread_is_an_input_error():
    with pytest.raises(InputError, match="at least one CPU thread"):
        load_model("face-expression-cnn", threads=0)
