"""Execution backends behind one interface, registered by key and picked by configuration.

Each backend is a few dozen lines: load a file, run named float inputs, return the outputs in order.
ONNX Runtime is the default; OpenVINO (NUC), TFLite (LiteRT) and TensorRT (Jetson) are alternatives.
A file a backend cannot load, or inputs a graph does not take, are one-line ``InputError`` s naming the file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from runtime.errors import InputError, first_line
from runtime.models.card import ModelCard, load_card, verify_checksum
from runtime.native import native_stderr

log = logging.getLogger(__name__)

Shape = tuple[int | None, ...]  # a declared tensor shape; None where a dimension is dynamic


def _static(dims) -> Shape:
    return tuple(int(d) if isinstance(d, (int, np.integer)) and d >= 0 else None for d in dims)


class Backend:
    """Runs one model file. Subclasses set ``name`` and implement ``__init__`` and ``run``."""

    name = "base"
    formats: tuple[str, ...] = ()  # model file suffixes it reads

    def __init__(self, path: Path, threads: int = 1):
        """``threads``: CPU threads for one call (a GPU backend ignores it)."""
        raise NotImplementedError

    @classmethod
    def unavailable(cls) -> str:
        """Why this machine cannot run the backend ("" when it can): checked before any work, and at load."""
        return ""

    @classmethod
    def _refuse_if_unavailable(cls) -> None:
        problem = cls.unavailable()
        if problem:
            raise InputError(cls.name, problem)

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        raise NotImplementedError

    def input_shapes(self) -> dict[str, Shape] | None:
        """The graph's inputs by name with their declared shapes; None where the backend feeds inputs by order."""
        return None

    def output_shapes(self) -> list[Shape | None]:
        """The declared shape of each output (None where unknown)."""
        return []


class _OrtSessionBackend(Backend):
    """What the ONNX Runtime backends share: a session, its declared inputs and outputs, and one-line errors."""

    def _open(self, path: Path, options, providers: list[str]) -> None:
        import onnxruntime as ort

        self.path = Path(path)
        try:
            self.session = ort.InferenceSession(str(path), options, providers=providers)
        except Exception as error:  # ORT raises its own untyped errors for unreadable files
            raise InputError(path, f"not a loadable ONNX model ({first_line(error)})") from None
        self.input_names = [i.name for i in self.session.get_inputs()]

    def input_shapes(self) -> dict[str, Shape]:
        return {i.name: _static(i.shape) for i in self.session.get_inputs()}

    def output_shapes(self) -> list[Shape | None]:
        return [_static(o.shape) for o in self.session.get_outputs()]

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        from onnxruntime.capi.onnxruntime_pybind11_state import InvalidArgument

        try:
            return self.session.run(None, inputs)
        except InvalidArgument as error:  # e.g. an input of a type the graph does not take
            raise InputError(self.path, f"the model rejects its input ({first_line(error)})") from None


class OnnxRuntimeBackend(_OrtSessionBackend):
    name = "onnxruntime"
    formats = ("onnx",)

    def __init__(self, path: Path, threads: int = 1):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._open(path, options, ["CPUExecutionProvider"])


class OpenVinoBackend(Backend):
    name = "openvino"
    formats = ("onnx",)

    @classmethod
    def unavailable(cls) -> str:
        return _import_problem("openvino", "pip install -e '.[openvino]' in the project")

    def __init__(self, path: Path, threads: int = 1, device: str = "CPU"):
        self._refuse_if_unavailable()
        import openvino as ov

        self.path = Path(path)
        core = ov.Core()
        try:
            self.compiled = core.compile_model(core.read_model(str(path)), device, {"INFERENCE_NUM_THREADS": threads})
        except Exception as error:  # OpenVINO raises RuntimeError (or its own types) for a file it cannot read
            raise InputError(path, f"not a model OpenVINO can load ({first_line(error)})") from None

    @staticmethod
    def _shape(port) -> Shape:
        shape = port.get_partial_shape()
        if shape.rank.is_dynamic:
            return ()
        return tuple(d.get_length() if d.is_static else None for d in shape)

    def input_shapes(self) -> dict[str, Shape]:
        return {port.get_any_name(): self._shape(port) for port in self.compiled.inputs}

    def output_shapes(self) -> list[Shape | None]:
        return [self._shape(port) or None for port in self.compiled.outputs]

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        result = self.compiled(inputs)
        return [np.asarray(result[out]) for out in self.compiled.outputs]


# LiteRT says this at the first model a process loads, on stderr, whatever the settings.
LITERT_DELEGATE_LINE = "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."


class TfliteBackend(Backend):
    name = "tflite"
    formats = ("tflite",)

    @classmethod
    def unavailable(cls) -> str:
        return _import_problem("ai_edge_litert.interpreter", "pip install ai-edge-litert")

    def __init__(self, path: Path, threads: int = 1):
        self._refuse_if_unavailable()
        from ai_edge_litert.interpreter import Interpreter

        self.path = Path(path)
        try:
            self.interpreter = Interpreter(model_path=str(path), num_threads=threads)
            with native_stderr(keep=lambda line: line != LITERT_DELEGATE_LINE):
                self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:  # LiteRT's errors for a file that is not a usable model
            raise InputError(path, f"not a loadable TFLite model ({first_line(error)})") from None

    def output_shapes(self) -> list[Shape | None]:
        return [_static(d.get("shape_signature", d["shape"])) for d in self.interpreter.get_output_details()]

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        details = self.interpreter.get_input_details()
        self._check_by_order(details, list(inputs.values()))
        try:
            for detail, value in zip(details, inputs.values(), strict=True):
                if tuple(detail["shape"]) != value.shape:
                    self.interpreter.resize_tensor_input(detail["index"], value.shape)
                    self.interpreter.allocate_tensors()
                self.interpreter.set_tensor(detail["index"], value.astype(detail["dtype"]))
            self.interpreter.invoke()
        except (ValueError, RuntimeError) as error:  # LiteRT's errors for an input the graph cannot take after all
            raise InputError(self.path, f"the model rejects its input ({first_line(error)})") from None
        return [self.interpreter.get_tensor(d["index"]) for d in self.interpreter.get_output_details()]

    def _check_by_order(self, details: list[dict], values: list[np.ndarray]) -> None:
        """Inputs fed by order are checked against the graph's as ``Model`` checks named ones: their count, and
        each one's shape but the batch (resized to what is given)."""
        if len(values) != len(details):
            raise InputError(self.path, f"the model takes {len(details)} input(s); it was given {len(values)}")
        for detail, value in zip(details, values, strict=True):
            declared = _static(detail.get("shape_signature", detail["shape"]))
            check_input_shape(self.path, detail["name"], (None, *declared[1:]) if declared else (), value)


class TensorRtBackend(_OrtSessionBackend):
    """TensorRT through ONNX Runtime's TensorRT execution provider (Jetson, NVIDIA GPUs)."""

    name = "tensorrt"
    formats = ("onnx",)

    @classmethod
    def unavailable(cls) -> str:
        import onnxruntime as ort

        if "TensorrtExecutionProvider" in ort.get_available_providers():
            return ""
        return "backend unavailable: no TensorRT execution provider on this machine"

    def __init__(self, path: Path, threads: int = 1):
        self._refuse_if_unavailable()
        self._open(path, None, ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"])


def _import_problem(module: str, install: str) -> str:
    """Why ``module`` cannot be imported ("" when it can): not installed, or installed but broken (a shared
    library missing, built for another numpy), said with ``install``, the command that puts it right."""
    import importlib

    try:
        importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name and (module == error.name or module.startswith(f"{error.name}.")):
            return f"backend not installed: {install}"
        return f"backend installed but cannot be loaded ({first_line(error)}): {install}"
    except ImportError as error:
        return f"backend installed but cannot be loaded ({first_line(error)}): {install}"
    return ""


BACKENDS: dict[str, type[Backend]] = {
    b.name: b for b in (OnnxRuntimeBackend, OpenVinoBackend, TfliteBackend, TensorRtBackend)
}


def _shape_text(shape: Shape) -> str:
    return "(" + ", ".join("N" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


class Model:
    """A card and a backend: ``run`` takes named inputs and returns the outputs in order.

    With ``labels_output`` set, that output's last dimension holds one value per card label: its width is
    checked against the card's labels when the graph declares it, else on the first run.
    """

    def __init__(self, card: ModelCard, backend: Backend, variant: str, labels_output: int | None = None):
        self.card = card
        self.backend = backend
        self.variant = variant
        self.path = card.path(variant)
        self._inputs = backend.input_shapes()
        self._labels_output = labels_output
        self._refused: InputError | None = None
        if labels_output is not None:
            shapes = backend.output_shapes()
            if labels_output >= len(shapes) and shapes:
                raise InputError(self.path, f"the model has {len(shapes)} output(s); its card's labels name "
                                            f"output {labels_output}")
            declared = shapes[labels_output] if labels_output < len(shapes) else None
            if declared and declared[-1] is not None:
                self._check_label_width(declared[-1])

    @property
    def labels(self) -> list[str]:
        return list(self.card.labels)

    def identity(self) -> dict[str, str]:
        return {**self.card.identity(self.variant), "backend": self.backend.name}

    def input_shape(self, name: str) -> Shape | None:
        """The declared shape of input ``name`` (None where the backend does not say)."""
        return (self._inputs or {}).get(name)

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        if self._refused is not None:
            raise self._refused
        self._check_inputs(inputs)
        outputs = self.backend.run(inputs)
        if self._labels_output is not None:
            index, self._labels_output = self._labels_output, None  # a width the graph left open: checked once
            if index >= len(outputs):
                self._refused = InputError(self.path, f"the model has {len(outputs)} output(s); its card's labels name "
                                                       f"output {index}")
                raise self._refused
            self._check_label_width(int(np.shape(outputs[index])[-1]))
        return outputs

    def _check_label_width(self, width: int) -> None:
        self._labels_output = None
        if width != len(self.card.labels):
            self._refused = InputError(self.card.folder / "card.json", f"card lists {len(self.card.labels)} labels, "
                                                                       f"the model ({self.path.name}) outputs {width}")
            raise self._refused

    def _check_inputs(self, inputs: dict[str, np.ndarray]) -> None:
        declared = self._inputs
        if declared is None:
            return
        unknown = [name for name in inputs if name not in declared]
        if unknown or len(inputs) != len(declared):
            raise InputError(self.path, f"the model takes inputs {', '.join(declared)}; "
                                        f"it was given {', '.join(inputs) or 'none'}")
        for name, value in inputs.items():
            check_input_shape(self.path, name, declared[name], value)


def check_input_shape(path: Path, name: str, shape: Shape, value: np.ndarray) -> None:
    """An input ``value`` whose shape is not the declared ``shape`` (None: any size there; empty: any shape at all)
    is an ``InputError`` naming the model file, the input and both shapes."""
    given = np.shape(value)
    fits = len(shape) == len(given) and all(d is None or d == g for d, g in zip(shape, given, strict=True))
    if shape and not fits:
        raise InputError(path, f"the model takes input {name!r} of shape {_shape_text(shape)}; it was given "
                               f"{_shape_text(given)}")


def run_each_row(run: Callable[[dict[str, np.ndarray]], list[np.ndarray]], name: str,
                 batch: np.ndarray) -> np.ndarray:
    """``run``'s first output for each row of ``batch`` (its input ``name``) run alone, stacked.
    A graph quantized dynamically (DynamicQuantizeLinear) scales its input by the range of all it is given at once:
    run together, a window's probabilities would depend on the windows beside it (a recording's length, a live
    checkpoint's). An empty batch is a ``ValueError``: the output's width is the graph's, known only from a run."""
    if len(batch) == 0:
        raise ValueError(f"run_each_row: input {name!r} has no rows; with none to run, the model's output width "
                         "is unknown, so no empty result can be shaped")
    return np.concatenate([run({name: batch[i:i + 1]})[0] for i in range(len(batch))])


def load_model(location: str | Path, variant: str = "default", backend: str = "onnxruntime",
               threads: int = 1, labels_output: int | None = None) -> Model:
    """Load a model by id (under ``models/``), folder or card path, checked against its card's checksum.

    ``threads``: CPU threads one call may use (1 by default: the arms run side by side in a live session).
    ``labels_output``: the output (by position) whose last dimension is one value per card label, for a model
    that classifies: a card whose labels do not match that width is refused (at load where the graph declares
    the width, else on the first run).
    """
    if backend not in BACKENDS:
        raise InputError(backend, f"unknown backend; choose one of {', '.join(BACKENDS)}")
    if int(threads) < 1:
        raise InputError(f"threads={threads}", "a model needs at least one CPU thread")
    card = load_card(location)
    verify_checksum(card, variant)
    backend = backend_for_file(card.path(variant), backend, card.extra.get("backend"))
    return Model(card, BACKENDS[backend](card.path(variant), threads=int(threads)), variant, labels_output)


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
