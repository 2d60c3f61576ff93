"""To the device: a trained backbone + head as one ONNX graph (raw 16 kHz samples in, probabilities out),
INT8 weights by ONNX Runtime's dynamic quantization, the quantized model checked against the float one, CPU
latency per 2 s window measured, and a model card the runtime's ``load_card`` reads.
"""

from __future__ import annotations

import json
import pickle
import statistics
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from export.audio.backbones.data import WINDOW_S, window_samples
from export.audio.backbones.models import (
    BackboneEmotionModel,
    LayerWeightedHead,
    PooledLayers,
    _quiet_transformers,
    from_pretrained,
    model_fingerprint,
)
from export.audio.backbones.train import BACKBONE_FILE, HEAD_FILE, REPORT_FILE
from export.audio.latency import onnx_run_times_ms
from export.install import guarded_out, installing, model_version, write_card
from export.quantization import quantize_weights_dynamic
from runtime.arms.audio.model import WAVEFORM_TASK
from runtime.audio_rate import AUDIO_RATE_HZ
from runtime.errors import InputError, first_line
from runtime.files import check_output_folder, read_json_object
from runtime.models.card import file_sha256
from runtime.models.runner import OnnxRuntimeBackend, run_each_row
from runtime.track import CANONICAL_LABELS

INPUT_NAME = "waveform"
_DESCRIPTION_KEYS = ("folder", "kind", "labels", "n_layers", "hidden_size", "normalize", "head", "licence", "backbone")
_HEAD_KEYS = ("head_hidden", "dropout")
OPSET = 17
FLOAT_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"


def export_onnx(
    module: nn.Module, path: str | Path, output_name: str = "probs", n_samples: int | None = None
) -> Path:
    """Trace ``module`` (waveform (batch, samples) → output) into ONNX with free batch and length axes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    example = torch.zeros(1, n_samples or window_samples())
    example[0, ::50] = 0.1  # not all zeros: a constant input can fold normalisation away while tracing
    module.eval()
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")
        # The TorchScript exporter: the dynamo one needs onnxscript and handles these encoders no better.
        torch.onnx.export(
            module,
            (example,),
            str(path),
            input_names=[INPUT_NAME],
            output_names=[output_name],
            dynamic_axes={INPUT_NAME: {0: "batch", 1: "samples"}, output_name: {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    return path


def quantize_int8(float_path: str | Path, int8_path: str | Path) -> Path:
    """INT8 weights for MatMul/Gemm (dynamic activation scales): the transformer's bulk, kept accurate.

    The convolutional front end stays float: ConvInteger is slow or missing on several execution providers.
    """
    return quantize_weights_dynamic(float_path, int8_path, ["MatMul", "Gemm"])


def onnx_outputs(path: str | Path, waveforms: np.ndarray) -> np.ndarray:
    """The graph's outputs for ``waveforms``, each window run alone as the device runs it (``run_each_row``)."""
    if not len(waveforms):
        return np.zeros((0,))
    return run_each_row(OnnxRuntimeBackend(Path(path)).run, INPUT_NAME, np.ascontiguousarray(waveforms, np.float32))


def latency_per_window_summary(
    path: str | Path, window_s: float = WINDOW_S, repeats: int = 10, threads: int = 1, seed: int = 0
) -> dict[str, float]:
    """Median and longest wall time of one window through ONNX Runtime on this CPU (``threads`` intra-op
    threads), in ms, with how they were measured."""
    waveform = np.random.default_rng(seed).normal(0, 0.1, (1, window_samples(window_s))).astype(np.float32)
    times_ms = onnx_run_times_ms(path, {INPUT_NAME: waveform}, repeats, threads)
    return {
        "median_ms": round(statistics.median(times_ms), 2),
        "max_ms": round(max(times_ms), 2),
        "repeats": repeats,
        "threads": threads,
        "window_s": window_s,
    }


def compare_outputs(reference: np.ndarray, candidate: np.ndarray) -> dict[str, float]:
    """How far the quantized model's probabilities are from the float model's on the same windows."""
    diff = np.abs(reference - candidate)
    return {
        "top1_agreement": float((reference.argmax(1) == candidate.argmax(1)).mean()),
        "max_abs_diff": float(diff.max()),
        "mean_abs_diff": float(diff.mean()),
        "n": int(len(reference)),
    }


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def load_trained(trained: str | Path) -> tuple[BackboneEmotionModel, dict]:
    """The float torch model a finished ``train audio --audio-backbone`` run wrote, and its description."""
    from transformers import AutoModel

    trained = Path(trained)
    if not (trained / REPORT_FILE).is_file():
        raise InputError(trained, f"not a finished backbone run (no {REPORT_FILE}); run "
                                  "`emotrace train audio --audio-backbone ...` into it (again)")
    report = read_json_object(trained / REPORT_FILE, what="backbone run report")
    kind = report.get("kind")
    if kind in ("classifier", "emotion2vec"):
        raise InputError(trained, f"a run of a {kind}, which keeps its own head: no head was trained to export")
    if not (trained / BACKBONE_FILE).is_file() or not (trained / HEAD_FILE).is_file():
        raise InputError(
            trained,
            f"not a trained backbone folder (needs {BACKBONE_FILE} and {HEAD_FILE}; "
            "run `emotrace train audio --audio-backbone ...` first)",
        )
    description = read_json_object(trained / BACKBONE_FILE, _DESCRIPTION_KEYS, "backbone run description")
    head_block = description["head"]
    missing = [f"head.{key}" for key in _HEAD_KEYS if not isinstance(head_block, dict) or key not in head_block]
    if missing:
        raise InputError(trained / BACKBONE_FILE, f"lacks {', '.join(missing)}")
    if not (_is_count(description["n_layers"]) and _is_count(description["hidden_size"])
            and _is_count(head_block["head_hidden"]) and isinstance(head_block["dropout"], (int, float))
            and isinstance(description["labels"], list) and len(description["labels"]) >= 2
            and all(label in CANONICAL_LABELS for label in description["labels"])):
        raise InputError(trained / BACKBONE_FILE, "n_layers, hidden_size and head.head_hidden must be positive "
                         "whole numbers, head.dropout a number and labels two or more canonical labels")
    if report.get("labels", description["labels"]) != description["labels"]:
        # the card takes its label order from backbone.json: any other order than the head's is silently wrong
        raise InputError(trained / BACKBONE_FILE, f"its labels differ from those of {REPORT_FILE}: files of two runs")
    if description.get("head_sha256") not in (None, file_sha256(trained / HEAD_FILE)):
        raise InputError(trained / HEAD_FILE, f"is not the head {BACKBONE_FILE} describes (checksum differs)")
    _quiet_transformers()
    folder = Path(description["folder"])
    if not folder.is_dir():
        raise InputError(folder, "the backbone's folder is gone; pull or copy it back")
    if description.get("backbone_sha256") not in (None, model_fingerprint(folder)):
        raise InputError(folder, f"its files changed since the head in {trained} was trained on them; "
                                 "retrain, or put the original model back")
    if description["kind"] == "dimensional":
        from export.audio.backbones.models import _dimensional_model_class

        encoder = from_pretrained(_dimensional_model_class(), folder).wav2vec2
    else:
        encoder = from_pretrained(AutoModel, folder)
    head_settings = description["head"]
    head = LayerWeightedHead(
        description["n_layers"],
        description["hidden_size"],
        len(description["labels"]),
        head_settings["head_hidden"],
        head_settings["dropout"],
    )
    try:
        head.load_state_dict(torch.load(trained / HEAD_FILE, weights_only=True))
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as error:
        raise InputError(trained / HEAD_FILE, f"unreadable or not this run's head ({first_line(error, 160)})"
                         ) from None
    model = BackboneEmotionModel(PooledLayers(encoder, description["normalize"]), head)
    model.eval()
    return model, description


def waveform_card(model_id: str, labels: list[str], metrics: dict, licence: dict, extra: dict,
                  int8_digest: str = "") -> dict:
    """The card of an exported backbone: int8 as the default variant, float beside it (``write_card`` fills in
    the checksums of both); ``int8_digest`` (the INT8 file's SHA-256) tells two exports of one day apart."""
    return {
        "id": model_id,
        "version": model_version(int8_digest),
        "task": WAVEFORM_TASK,
        "labels": labels,
        "files": {"default": INT8_FILE, "float": FLOAT_FILE},
        "sha256": {},
        "feature_set": None,
        "metrics": metrics,
        "licence": licence,
        "input": {
            "name": INPUT_NAME,
            "shape": ["batch", "samples"],
            "sample_rate_hz": AUDIO_RATE_HZ,
            "window_s": WINDOW_S,
            "normalisation": "inside the graph",
        },
        **extra,
    }


def export_trained(
    trained: str | Path,
    out: str | Path,
    model_id: str = "audio-emotion-backbone",
    check_windows: np.ndarray | None = None,
    latency_repeats: int = 10,
    replace: bool = False,
) -> dict:
    """ONNX float + INT8 of a trained backbone, checked and timed; returns the card's metrics. A model in the
    repo's models/ is replaced only with ``replace``, and a model of another task never (``guarded_out``)."""
    trained, out = Path(trained), Path(out)
    check_output_folder(out, {"trained folder": trained})
    guarded_out(out, replace, WAVEFORM_TASK)
    model, description = load_trained(trained)
    check_targets = None
    if check_windows is None:  # read before anything is written: a bad windows.csv leaves no half export
        check_windows, check_targets = check_set(trained, description["labels"])
    check_output_folder(out, {"trained folder": trained, "backbone's folder": Path(description["folder"])})
    with installing(out) as staging:  # a refused or failed export leaves an earlier one whole
        export_onnx(model, staging / FLOAT_FILE)
        quantize_int8(staging / FLOAT_FILE, staging / INT8_FILE)
        return finish_export(
            staging,
            model_id,
            description["labels"],
            model,
            check_windows,
            latency_repeats,
            check_targets=check_targets,
            licence={"backbone": description["licence"], "backbone_name": description["backbone"]},
            extra={"trained_from": str(trained.resolve())},
            report_path=trained / REPORT_FILE,
        )


def finish_export(
    out: Path,
    model_id: str,
    labels: list[str],
    model: nn.Module,
    check_windows: np.ndarray | None,
    latency_repeats: int,
    licence: dict,
    extra: dict,
    report_path: Path | None = None,
    check_targets: np.ndarray | None = None,
) -> dict:
    """Check float ONNX against torch and INT8 against float, time both, write the card.

    With ``check_targets`` (label indices of ``check_windows``), both ONNX models are also scored on them.
    """
    if check_windows is None:
        check_windows = np.random.default_rng(0).normal(0, 0.1, (8, window_samples())).astype(np.float32)
    from export.audio.backbones.models import run_batched

    reference = run_batched(model, check_windows)
    float_out = onnx_outputs(out / FLOAT_FILE, check_windows)
    int8_out = onnx_outputs(out / INT8_FILE, check_windows)
    metrics = {
        "onnx_vs_torch": compare_outputs(reference, float_out),
        "int8_vs_float": compare_outputs(float_out, int8_out),
        "latency_cpu_per_window": {
            "float": latency_per_window_summary(out / FLOAT_FILE, repeats=latency_repeats),
            "int8": latency_per_window_summary(out / INT8_FILE, repeats=latency_repeats),
        },
        "size_bytes": {"float": (out / FLOAT_FILE).stat().st_size, "int8": (out / INT8_FILE).stat().st_size},
    }
    if check_targets is not None:
        metrics["check_windows"] = {
            "what": "held-out speakers' windows when training kept some, else an even sample of all windows",
            "float": _scores(check_targets, float_out, labels),
            "int8": _scores(check_targets, int8_out, labels),
        }
    if report_path is not None and report_path.is_file():
        report = json.loads(report_path.read_text())
        metrics["speaker_independent"] = {k: report.get(k) for k in ("cv", "validation")}
    write_card(out, waveform_card(model_id, labels, metrics, licence, extra, file_sha256(out / INT8_FILE)))
    return metrics


def summary_line(out: Path, metrics: dict) -> str:
    """What ``emotrace export audio-backbone`` prints of an export's metrics (``finish_export``'s return): the INT8
    graph's top-1 agreement with the float one and both graphs' median CPU time per window."""
    latency = metrics["latency_cpu_per_window"]
    agreement = metrics["int8_vs_float"]["top1_agreement"]
    return (f"{out}: exported; int8 vs float top-1 agreement {agreement:.3f}; CPU per 2 s window "
            f"{latency['float']['median_ms']} ms float, {latency['int8']['median_ms']} ms int8")

def check_set(trained: Path, labels: list[str], max_windows: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Windows to compare float and INT8 on: the held-out speakers', else an even sample of all."""
    from export.audio.backbones.data import read_window_table, waveforms_of

    rows = read_window_table(trained, labels)
    held_out = [r for r in rows if r.get("held_out") == "1"]
    chosen = held_out or rows
    if len(chosen) > max_windows:
        chosen = [chosen[i] for i in np.linspace(0, len(chosen) - 1, max_windows).round().astype(int)]
    return waveforms_of(chosen), np.array([labels.index(r["emotion"]) for r in chosen])


def _scores(targets: np.ndarray, probs: np.ndarray, labels: list[str]) -> dict:
    from export.face.metrics import classification_report

    report = classification_report(targets, probs, labels)
    return {k: report[k] for k in ("n", "accuracy", "balanced_accuracy", "macro_f1", "ece")}
