"""Execution backends behind one interface, registered by key and picked by configuration.

Each backend is a few dozen lines: load a file, run named float inputs, return the outputs in order.
ONNX Runtime is the default; OpenVINO (NUC), TFLite (LiteRT) and TensorRT (Jetson) are alternatives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from runtime.errors import InputError
from runtime.models.card import ModelCard, load_card, verify_checksum

log = logging.getLogger(__name__)


class Backend:
    """Runs one model file. Subclasses set ``name`` and implement ``__init__`` and ``run``."""

    name = "base"
    formats: tuple[str, ...] = ()  # model file suffixes it reads

    def __init__(self, path: Path, threads: int = 1):
        """``threads``: CPU threads for one call (a GPU backend ignores it)."""
        raise NotImplementedError

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        raise NotImplementedError


class OnnxRuntimeBackend(Backend):
    name = "onnxruntime"
    formats = ("onnx",)

    def __init__(self, path: Path, threads: int = 1):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # ORT raises its own untyped errors for unreadable files
            raise InputError(path, f"not a loadable ONNX model ({str(error).splitlines()[0][:120]})") from None
        self.input_names = [i.name for i in self.session.get_inputs()]

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self.session.run(None, inputs)


class OpenVinoBackend(Backend):
    name = "openvino"
    formats = ("onnx",)

    def __init__(self, path: Path, threads: int = 1, device: str = "CPU"):
        try:
            import openvino as ov
        except ImportError:
            raise InputError("openvino", "backend not installed: pip install 'emotrace[openvino]'") from None
        core = ov.Core()
        self.compiled = core.compile_model(core.read_model(str(path)), device, {"INFERENCE_NUM_THREADS": threads})

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        result = self.compiled(inputs)
        return [np.asarray(result[out]) for out in self.compiled.outputs]


class TfliteBackend(Backend):
    name = "tflite"
    formats = ("tflite",)

    def __init__(self, path: Path, threads: int = 1):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise InputError("tflite", "backend not installed: pip install 'emotrace[tflite]'") from None
        self.interpreter = Interpreter(model_path=str(path), num_threads=threads)
        self.interpreter.allocate_tensors()

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        details = self.interpreter.get_input_details()
        for detail, value in zip(details, inputs.values(), strict=True):
            if tuple(detail["shape"]) != value.shape:
                self.interpreter.resize_tensor_input(detail["index"], value.shape)
                self.interpreter.allocate_tensors()
            self.interpreter.set_tensor(detail["index"], value.astype(detail["dtype"]))
        self.interpreter.invoke()
        return [self.interpreter.get_tensor(d["index"]) for d in self.interpreter.get_output_details()]


class TensorRtBackend(Backend):
    """TensorRT through ONNX Runtime's TensorRT execution provider (Jetson, NVIDIA GPUs)."""

    name = "tensorrt"
    formats = ("onnx",)

    def __init__(self, path: Path, threads: int = 1):
        import onnxruntime as ort

        if "TensorrtExecutionProvider" not in ort.get_available_providers():
            raise InputError("tensorrt", "backend unavailable: no TensorRT execution provider on this machine")
        self.session = ort.InferenceSession(
            str(path), providers=["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
        )

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self.session.run(None, inputs)


BACKENDS: dict[str, Callable[..., Backend]] = {
    b.name: b for b in (OnnxRuntimeBackend, OpenVinoBackend, TfliteBackend, TensorRtBackend)
}


class Model:
    """A card and a backend: ``run`` takes named inputs and returns the outputs in order."""

    def __init__(self, card: ModelCard, backend: Backend, variant: str):
        self.card = card
        self.backend = backend
        self.variant = variant

    @property
    def labels(self) -> list[str]:
        return list(self.card.labels)

    def identity(self) -> dict[str, str]:
        return {**self.card.identity(self.variant), "backend": self.backend.name}

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self.backend.run(inputs)


def load_model(location: str | Path, variant: str = "default", backend: str = "onnxruntime",
               threads: int = 1) -> Model:
    """Load a model by id (under ``models/``), folder or card path, checked against its card's checksum.

    ``threads``: CPU threads one call may use (1 by default: the arms run side by side in a live session).
    """
    if backend not in BACKENDS:
        raise InputError(backend, f"unknown backend; choose one of {', '.join(BACKENDS)}")
    if int(threads) < 1:
        raise InputError(f"threads={threads}", "a model needs at least one CPU thread")
    card = load_card(location)
    verify_checksum(card, variant)
    backend = backend_for_file(card.path(variant), backend, card.extra.get("backend"))
    return Model(card, BACKENDS[backend](card.path(variant), threads=int(threads)), variant)


def backend_for_file(path: Path, requested: str, own: str | None = None) -> str:
    """The requested backend when it reads this file's format, else the card's own, else the first that does.

    The runtime backend is one config key for every model, but a .tflite file cannot run on TensorRT nor an
    .onnx file on LiteRT: such a model keeps an execution path that can run it, and the log says so.
    """
    suffix = Path(path).suffix.lstrip(".")
    if suffix in BACKENDS[requested].formats:
        return requested
    able = [name for name, b in BACKENDS.items() if suffix in b.formats]
    if not able:
        raise InputError(path, f"no backend reads .{suffix} model files")
    chosen = own if own in able else able[0]
    log.info("%s: a .%s model runs on %s, not %s", path, suffix, chosen, requested)
    return chosen
