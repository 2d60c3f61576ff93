"""Export the trained stress model to ONNX with its model card, into ``models/physio-stress`` (or
``models/physio-stress-live``, the model a live session judges with).

The model (2.3.0 on) is the mean of a logistic regression and three one-hidden-layer MLPs over the card's inputs.
Each member ends in one Gemm to two logits (-z/2, z/2) and a Softmax, which yields exactly
(1 - sigmoid(z), sigmoid(z)); the logistic regression's probabilities weigh 1/2, each MLP's 1/6. It is tiny
(a few KB), so it ships as float32; INT8 would save nothing and cost accuracy. A report without MLPs (before
2.3.0) exports the logistic regression alone.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from export.install import (
    destination_note,
    destination_option,
    guarded_target,
    installing,
    model_version,
    rebuilt_beside,
    write_card,
)
from export.physio.train import LIVE_BASELINE_S, per_subject_text
from runtime.arms.physio.features import MEASUREMENTS
from runtime.arms.physio.model import card_setting, input_blocks, input_settings_problem, model_inputs
from runtime.errors import InputError
from runtime.files import check_output_folder, read_json_object
from runtime.models.card import file_sha256

if TYPE_CHECKING:
    import onnx

log = logging.getLogger(__name__)

MODEL_FILE = "physio_stress.onnx"
LABELS = ["no_stress", "stress"]
# The model id by the scope of the inputs a run was trained on (``train physio --live``: "running"). Its version
# is the export's date and the graph's digest (export.install.model_version), as every arm's export names it: the
# shipped cards' versions (physio-stress 2.4.0, physio-stress-live 1.0.0) name those weights alone.
MODELS = {"session": "physio-stress", "running": "physio-stress-live"}
STRESS_TASK = "stress vs no stress from wrist physiology (heart, EDA, skin temperature, motion)"  # both models' task
# The shipped physio-stress's row in the comparison table, kept as the earlier rows are: a retrain's card sets its
# figures beside the model it replaces; the shipped card's own last row is "this model".
SHIPPED_SESSION_VERSION = "2.4.0"
SHIPPED_SESSION_ROW = (f"| physio-stress {SHIPPED_SESSION_VERSION} (2.3.0 trained on each session as every source "
                       "records it) | 0.841 | 0.773 | 0.824 |\n")
# The subjects and held-out split the comparison table's earlier rows were measured on: a run of other subjects or
# another split has figures that cannot be set beside them.
COMPARED_SUBJECTS = tuple(f"S{n:02d}" for n in range(2, 29))
COMPARED_HELD_OUT = ("S04", "S09", "S13", "S17", "S21", "S25", "S28")  # fixed: not whatever training holds out now
# How each scaling of runtime.arms.physio.model.session_scaled reads in a card.
SCALING_TEXT = {
    "median_iqr": "scaled by its median and interquartile range",
    "zscore": "z-scored",
    "rank": "turned into the normal score of its rank",
}


def stress_probability(weights: dict, features: np.ndarray) -> np.ndarray:
    """The exported model's stress probability computed from the report's weights (float64): the reference the
    ONNX graph is checked against."""
    from scipy.special import expit

    x = np.asarray(features, dtype=np.float64)
    p_logistic = expit(x @ np.asarray(weights["coef"]) + weights["intercept"])
    mlps = weights.get("mlps", [])
    if not mlps:
        return p_logistic
    p_mlps = []
    for m in mlps:
        hidden = np.maximum(x @ np.asarray(m["hidden_weights"]) + m["hidden_bias"], 0.0)
        p_mlps.append(expit(hidden @ np.asarray(m["output_weights"]) + m["output_bias"]))
    return 0.5 * p_logistic + 0.5 * np.mean(p_mlps, axis=0)


def build_onnx(weights: dict) -> onnx.ModelProto:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    coef = np.asarray(weights["coef"], dtype=np.float32)
    mlps = weights.get("mlps", [])
    nodes, initializers, members = [], [], []

    def two_class(name: str, source: str, w: np.ndarray, b: float) -> None:
        """Gemm to (-z/2, z/2) and Softmax: (1 - sigmoid(z), sigmoid(z)) as ``name``."""
        initializers.append(numpy_helper.from_array(np.stack([-w / 2, w / 2], axis=1).astype(np.float32), f"{name}_W"))
        initializers.append(numpy_helper.from_array(np.array([-b / 2, b / 2], dtype=np.float32), f"{name}_B"))
        nodes.append(helper.make_node("Gemm", [source, f"{name}_W", f"{name}_B"], [f"{name}_logits"]))
        nodes.append(helper.make_node("Softmax", [f"{name}_logits"], [name], axis=1))

    two_class("logistic", "features", coef, float(weights["intercept"]))
    members.append(("logistic", 0.5 if mlps else 1.0))
    for i, m in enumerate(mlps):
        for array, suffix in ((m["hidden_weights"], "W1"), (m["hidden_bias"], "B1")):
            initializers.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), f"mlp{i}_{suffix}"))
        nodes.append(helper.make_node("Gemm", ["features", f"mlp{i}_W1", f"mlp{i}_B1"], [f"mlp{i}_pre"]))
        nodes.append(helper.make_node("Relu", [f"mlp{i}_pre"], [f"mlp{i}_hidden"]))
        output_w = np.asarray(m["output_weights"], dtype=np.float32)
        two_class(f"mlp{i}", f"mlp{i}_hidden", output_w, float(m["output_bias"]))
        members.append((f"mlp{i}", 0.5 / len(mlps)))
    for name, share in members:
        initializers.append(numpy_helper.from_array(np.array(share, dtype=np.float32), f"{name}_share"))
        nodes.append(helper.make_node("Mul", [name, f"{name}_share"], [f"{name}_weighted"]))
    nodes.append(helper.make_node("Sum", [f"{name}_weighted" for name, _ in members], ["probs"]))
    graph = helper.make_graph(
        nodes,
        "physio_stress",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", coef.size])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 2])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="emotrace")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


REPORT_KEYS = ("data", "features", "window_s", "hop_s", "context_windows", "split", "metrics", "weights")


def read_report(report_path: Path) -> dict:
    """``emotrace train physio``'s report, checked before anything is written: a corrupt or hand-edited one
    ends in one line naming it, never in a half-exported model folder."""
    report = read_json_object(report_path, REPORT_KEYS, "physio training report")
    problem = _settings_problem(report) or _weights_problem(report["weights"])
    if not problem and "second_stage" in report:  # a benchmark's variant: the graph has no stage for it
        problem = "a second stage, which the exported graph cannot compute (its figures are not the graph's)"
    if not problem:
        expected = _input_width(report)
        if len(report["weights"]["coef"]) != expected:
            problem = f"weights for {len(report['weights']['coef'])} inputs, where its settings make {expected}"
    if problem:
        raise InputError(report_path, f"{problem}: not as 'emotrace train physio' writes it")
    return report


def _settings_problem(report: dict) -> str:
    """'' when the device can window, scale and feed the model as the report says; else what it cannot."""
    for key, kind, what in (("data", str, "a folder path"), ("split", dict, "an object")):
        if not isinstance(report[key], kind):
            return f"{key} {report[key]!r} is not {what}"
    features = report["features"]
    if not (isinstance(features, list) and features and all(name in MEASUREMENTS for name in features)):
        return f"features {features!r} are not the device's measurements"
    return input_settings_problem(report)  # its windows too


def _input_width(report: dict) -> int:
    """How many inputs the device makes from the report's features, asked of the device's own ``model_inputs``."""
    no_windows = np.zeros((0, len(report["features"])))
    return model_inputs(no_windows, np.zeros(0), report["context_windows"], card_setting(report, "scaling"),
                        card_setting(report, "local_baseline_windows")).shape[1]


def _weights_problem(weights) -> str:
    """'' when the weights make a model; else what is wrong with them."""
    try:
        coef = np.asarray(weights["coef"], dtype=float).reshape(-1)
        n_inputs = coef.size
        arrays = [coef, np.asarray(float(weights["intercept"]))]
        for i, m in enumerate(weights.get("mlps", [])):
            hidden = np.asarray(m["hidden_weights"], dtype=float)
            units = hidden.shape[1] if hidden.ndim == 2 else -1
            member = [hidden, np.asarray(m["hidden_bias"], dtype=float), np.asarray(m["output_weights"], dtype=float)]
            shapes_agree = hidden.shape[0] == n_inputs and member[1].shape == (units,) and member[2].shape == (units,)
            arrays += member + [np.asarray(float(m["output_bias"]))]
            if not shapes_agree:
                return f"weights of MLP {i} do not fit {n_inputs} inputs"
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
        return f"weights incomplete ({type(error).__name__}: {error})"
    if not n_inputs:
        return "weights empty"
    unknown = sorted(set(weights) - {"coef", "intercept", "mlps"})
    if unknown:
        return f"weights hold {', '.join(unknown)}, which the exported graph cannot compute"
    if not all(np.isfinite(a).all() for a in arrays):
        return "weights not all finite (NaN or infinite)"  # such a model makes no claim on any window
    return ""


def export_physio(trained_dir: Path, models_dir: Path | None = None, replace: bool = False) -> Path:
    """ONNX graph, card.json and MODEL_CARD.md of a trained model, built in a staging folder and put into
    ``models_dir`` only when all of them are written: a failure leaves the installed model as it was. A model in
    the repo's models/ is replaced only with ``replace``, and a model of another task never (``guarded_target``)."""
    report_path = Path(trained_dir) / "report.json"
    if not report_path.is_file():
        raise InputError(trained_dir, "no report.json: run 'emotrace train physio' first")
    report = read_report(report_path)
    target, shipped = guarded_target(models_dir, replace, MODELS[card_setting(report, "scope")], STRESS_TASK)
    check_output_folder(target.parent)
    with installing(target) as staging:
        max_abs_diff = _save_checked_onnx(report["weights"], staging / MODEL_FILE)
        try:
            card = _card(report, max_abs_diff, model_version(file_sha256(staging / MODEL_FILE)), shipped)
            write_card(staging, card)  # first: the text quotes the sha256 it fills in
            text = model_card_text(card)
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise InputError(report_path, f"not as 'emotrace train physio' writes it ({type(error).__name__}: "
                             f"{error})") from None  # fmt: skip
        (staging / "MODEL_CARD.md").write_text(text)
        licence = Path(report["data"]) / "docs" / "LICENSE"
        if licence.is_file():
            shutil.copyfile(licence, staging / "DATA_LICENSE")
        else:  # the data's licence asks for its notice beside what is made from it
            log.warning("%s: the data's licence notice %s is not there; %s has no DATA_LICENSE: copy it in",
                        report_path, licence, target)
    return target


def _save_checked_onnx(weights: dict, path: Path) -> float:
    """Write the graph and return its largest difference from the fitted model on random inputs."""
    import onnx
    import onnxruntime as ort

    onnx.save(build_onnx(weights), str(path))
    probe = np.random.default_rng(0).normal(size=(256, len(weights["coef"]))).astype(np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    onnx_p = session.run(None, {"features": probe})[0][:, 1]
    max_abs_diff = float(np.max(np.abs(onnx_p - stress_probability(weights, probe))))
    if max_abs_diff > 1e-5:
        raise RuntimeError(f"exported graph differs from the fitted model by {max_abs_diff}")
    return max_abs_diff


def _card(report: dict, max_abs_diff: float, version: str, shipped: bool = True) -> dict:
    """card.json: what the device reads (inputs, windows, scaling, labels) and the report's figures; its
    sha256 is filled in as it is written. ``shipped``: exported into the repo's models/ (its Rebuild line)."""
    scope = card_setting(report, "scope")
    return {
        "id": MODELS[scope],
        "version": version,
        "task": STRESS_TASK,
        "labels": LABELS,
        "files": {"default": MODEL_FILE},
        "sha256": {},
        "feature_set": "physio-window-v2",
        "metrics": report["metrics"] | {"onnx_vs_fitted_max_abs_diff": max_abs_diff},
        "metrics_by_source": report.get("metrics_by_source", {}),  # reports before 2.4.0 had none
        "licence": {
            "model": "Apache-2.0 (the project's)",
            "training_data": "Stress-Predict, MIT, (c) 2022 Talha Iqbal",
            "citation": "T. Iqbal et al., 'Stress Monitoring Using Wearable Sensors: A Pilot Study and "
            "Stress-Predict Dataset', Sensors 22(21):8135, 2022",
        },
        "inputs": {"features": ["N", len(report["weights"]["coef"])]},
        "classifier": report.get("classifier", "logistic regression"),
        "precision": "float32 (a few KB; not quantized)",
        "features": report["features"],
        "window_s": report["window_s"],
        "hop_s": report["hop_s"],
        "context_windows": report["context_windows"],
        "local_baseline_windows": card_setting(report, "local_baseline_windows"),
        "scaling": card_setting(report, "scaling"),
        "scope": scope,
        **({"live_baseline_s": report.get("live_baseline_s", LIVE_BASELINE_S)} if scope == "running" else {}),
        "baseline": _baseline_text(report, scope),
        "split": report["split"],
        "unsupported_labels": "the eight canonical emotions: this model speaks of stress only",
        "rebuild": f"emotrace train physio DATA --out RUN{' --live' if scope == 'running' else ''} && "
        f"emotrace export physio RUN {destination_option(shipped)}",
    }


def _by_source_text(by_source: dict) -> str:
    """The same models judged on the sessions as sources with fewer channels record them (2.4.0 on)."""
    if not by_source:
        return ""
    rows = "\n".join(
        f"| {name} | {m['development_loso']['balanced_accuracy']:.3f} | {m['held_out']['balanced_accuracy']:.3f} "
        f"| {m['held_out']['macro_f1']:.3f} | {m['held_out']['ece']:.3f} |"
        for name, m in by_source.items()
    )
    return f"""With fewer channels (the sessions as these sources record them; missing statistics at the centre):

| source | dev LOSO BA | held-out BA | held-out macro-F1 | held-out ECE |
|---|---|---|---|---|
{rows}

"""


def model_card_text(card: dict) -> str:
    """MODEL_CARD.md of a card.json, as the export writes it (the shipped ones are this text, regenerated)."""
    dev, held = card["metrics"]["development_loso"], card["metrics"]["held_out"]
    split = card["split"]
    subjects = sorted(split.get("development_subjects", []) + split["held_out_subjects"])
    data = f"{len(subjects)} labelled subjects {subjects[0]}-{subjects[-1]}"

    def row(name: str, m: dict) -> str:
        low, high = m.get("ba_interval_95", (float("nan"), float("nan")))  # reports written before 2.3.0 had none
        return (
            f"| {name} | {m['subjects']} | {m['windows']} | {m['balanced_accuracy']:.3f} "
            f"({low:.3f}-{high:.3f}) | {m['macro_f1']:.3f} "
            f"| {m['ece']:.3f} | {per_subject_text(m)} |"
        )

    return f"""# {card["id"]} {card["version"]}

Stress vs no stress, per {card["window_s"]:g} s window (hop {card["hop_s"]:g} s), from wrist physiology.
It assists a clinician's judgement; it does not diagnose.

- **Inputs**: {", ".join(card["features"])} - {_inputs_text(card)}
- **Model**: {card["classifier"]}, ONNX, {card["precision"]}.
- **Labels**: {", ".join(card["labels"])}. The eight canonical emotions are not supported.
- **Data**: Stress-Predict (Empatica E4, {data}; stress = Stroop, interview,
  hyperventilation). MIT licence, (c) 2022 Talha Iqbal. Cite: {card["licence"]["citation"]}.

## Subject-independent results

| evaluation | subjects | windows | BA (95 % over subjects) | macro-F1 | ECE | per-subject BA |
|---|---|---|---|---|---|---|
{row("development, leave-one-subject-out", dev)}
{row("held-out subjects (" + ", ".join(card["split"]["held_out_subjects"]) + ")", held)}
{row(f"all {len(subjects)} subjects, leave-one-subject-out", card["metrics"]["all_subjects_loso"])}

{_by_source_text(card["metrics_by_source"])}Held-out subjects chose no setting (scored after each choice;
docs/physio.md). The interval is the 2.5-97.5 % range of the pooled BA when the subjects are drawn again with
replacement (2,000 draws): how far the figure could move for other people like these.

{_comparison_text(card)}
The exported model is refit on all {len(subjects)} subjects.
ECE: top-label confidence, 10 equal-width bins. ONNX vs fitted model max |diff|:
{card["metrics"]["onnx_vs_fitted_max_abs_diff"]:.2e}.

## Limits

- One lab protocol (seated tasks, one wrist device); a therapy room differs. Probabilities are relative to
  the session's own baseline: a session that is stressful throughout looks like its own normal.
- Needs several minutes of recording for the baseline; windows with heavy motion or missing signals get
  low quality.

Rebuild: `{card["rebuild"]}`. {destination_note(card["id"], not rebuilt_beside(card["rebuild"]))}
sha256: `{card["sha256"]["default"]}`.
"""


def _baseline_text(report: dict, scope: str) -> str:
    """The card's one-line account of how a window's inputs are made (two blocks without a local baseline)."""
    centred = "centred" if scope == "session" else "trailing"
    text = (f"each measurement {SCALING_TEXT[card_setting(report, 'scaling')]} over "
            + ("the session (windows with quality > 0)" if scope == "session"
               else "the session's windows so far (quality > 0)"))
    if input_blocks(card_setting(report, "local_baseline_windows")) == 2:
        return text + f"; inputs: the scaled value and its {centred} mean over context_windows"
    if scope == "session":
        return (text + "; inputs: that scaled value minus its centred local mean over local_baseline_windows, the "
                "scaled value, and the difference averaged over context_windows")
    return (text + "; inputs: that scaled value minus its trailing mean over local_baseline_windows, the scaled "
            "value, and the difference's trailing mean over context_windows")


def _inputs_text(card: dict) -> str:
    scaling = SCALING_TEXT[card["scaling"]]
    if input_blocks(card_setting(card, "local_baseline_windows")) == 2:
        running = card_setting(card, "scope") == "running"
        over, neighbours = ("the session's windows so far", "preceding") if running else ("the session", "neighbouring")
        return f"""each {scaling} over {over}
  (the per-subject baseline); the model sees that scaled value and its mean over {card["context_windows"]}
  {neighbours} windows (no local baseline)."""
    if card_setting(card, "scope") == "running":
        return f"""each {scaling} among the session's windows so far
  (the per-subject baseline, as a live session has it when the window ends); the model sees that scaled value
  minus its trailing mean over {card["local_baseline_windows"]} windows (a local baseline that removes slow
  drift), the scaled value itself, and the difference averaged over the last {card["context_windows"]} windows.
  Trained and scored on the windows from {card["live_baseline_s"]:g} s on: a live session gives no figure
  before."""
    return f"""each {scaling} over the session
  (the per-subject baseline); the model sees that scaled value minus its centred mean over
  {card["local_baseline_windows"]} windows (a local baseline that removes slow drift), the scaled value
  itself, and the difference averaged over {card["context_windows"]} neighbouring windows."""


def is_compared_protocol(split: dict) -> bool:
    """Whether a run's ``split`` is the one the comparison table's earlier rows were measured on: every subject of
    COMPARED_SUBJECTS, and COMPARED_HELD_OUT held out."""
    subjects = sorted(split.get("development_subjects", []) + split["held_out_subjects"])
    return subjects == list(COMPARED_SUBJECTS) and sorted(split["held_out_subjects"]) == sorted(COMPARED_HELD_OUT)


def _comparison_text(card: dict) -> str:
    dev, held = card["metrics"]["development_loso"], card["metrics"]["held_out"]
    everyone = card["metrics"]["all_subjects_loso"]
    if card_setting(card, "scope") == "running":
        return """The model a live session judges with (`emotrace live`): each window as it ends, against the windows
before it. A recording judged when it ends uses physio-stress, which sees the whole session; docs/physio.md
compares the two on the same windows (`python benchmarks/physio_live.py DATA`).
"""
    if not is_compared_protocol(card["split"]):
        return f"""No comparison with the shipped model's history: its rows were measured on Stress-Predict
{COMPARED_SUBJECTS[0]}-{COMPARED_SUBJECTS[-1]} with {", ".join(COMPARED_HELD_OUT)} held out; this model's figures
come from other subjects or another split, and cannot be set beside them.
"""
    shipped_row = "" if card["version"] == SHIPPED_SESSION_VERSION else SHIPPED_SESSION_ROW
    return f"""Comparison, measured on Stress-Predict S02-S28 (same splits; `python -m export.physio.study DATA` for the
first three rows, `emotrace train physio` at each version for the others; written by the export as recorded,
not measured by it):

| model | dev LOSO BA | held-out BA | all-27 LOSO BA |
|---|---|---|---|
| reference: 11 raw E4 features (HR, IBI, EDA, TEMP, ACC mean+sd), session z-score, LR, \
60 s windows without overlap | 0.754 | 0.725 | 0.740 |
| the same reference at a 5 s hop | 0.738 | 0.702 | 0.732 |
| study candidate (raw E4 statistics, local baseline, context) | 0.782 | 0.740 | 0.779 |
| physio-stress 1.0.0 (cleaned measurements, median/IQR, 2-min context) | 0.743 | 0.693 | 0.728 |
| physio-stress 2.0.0 (all 22 statistics, z-score, 15-min local baseline) | 0.782 | 0.740 | 0.779 |
| physio-stress 2.1.0 (15 statistics, ranks, 30-min local baseline, 60 s windows) | 0.826 | 0.744 | 0.803 |
| physio-stress 2.2.0 (2.1.0 on 30 s windows, logistic regression alone) | 0.827 | 0.750 | 0.813 |
| physio-stress 2.3.0 (2.2.0 averaged with three MLPs, trained on the E4 sessions alone) | 0.837 | 0.766 | 0.818 |
{shipped_row}| this model, {card["version"]} | {dev["balanced_accuracy"]:.3f} | {held["balanced_accuracy"]:.3f} \
| {everyone["balanced_accuracy"]:.3f} |
"""
