"""Export the trained voice-emotion models: ONNX graphs, INT8 quantization, the float-vs-INT8 check, the card.

Each variant becomes one graph: ``features`` [N, n_features] float32 → standardise (Sub, Mul) →
MatMul + Add (→ Relu → MatMul + Add) → Softmax → ``probs`` [N, n_labels], one per label the training data held
(the card lists those; a label without clips is left out, so the runtime marks it unsupported). ONNX Runtime's
``quantize_dynamic`` turns the MatMul weights into INT8 (per output channel, 7 bits). The check: the model fitted
without the validation speakers is exported and quantized the same way, and its clip-level UA on those unseen speakers,
float vs INT8, must agree within 1 point; the shipped models (every speaker) are compared on the same
clips too. Everything lands in ``<models_dir>/audio-emotion/`` at once (written beside, then renamed); without a
models folder (or naming the repo's), over the repo's, where a model trained on other data, or on data that cannot
be told to be this run's, is replaced only when asked (``replace``).
"""

from __future__ import annotations

import json
import logging
import platform
import shlex
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from export.audio.datasets import LABELS_AS_GIVEN, load_corpus, speaker_list_text
from export.audio.evaluate import trained_speakers
from export.audio.extract import clip_speech_level_dbfs
from export.audio.latency import onnx_run_times_ms
from export.audio.train import (
    LABELS,
    MODES,
    SPEED_FACTORS,
    all_label_columns,
    clip_level,
    keep_outputs,
    model_from_arrays,
    predict_proba,
    rebuild_speaker_name,
    unlearnt_labels,
)
from export.install import (
    destination_note,
    destination_option,
    guarded_target,
    installing,
    model_version,
    refuse_unasked_replacement,
    write_card,
)
from export.metrics import classification_metrics, interval_notes, interval_range
from export.quantization import MAX_INT8_LOSS, quantize_weights_dynamic
from runtime.arms.audio.features import FEATURE_SET, zscore_by_group
from runtime.arms.audio.level import LEVEL_MARGIN_DB, SPEECH_LEVEL, trained_range_dbfs, training_speech_range
from runtime.arms.audio.model import FEATURE_TASK
from runtime.errors import InputError
from runtime.files import write_atomically
from runtime.fusion.align import shares_fused
from runtime.models.card import file_sha256
from runtime.models.runner import OnnxRuntimeBackend, run_each_row
from runtime.track import outside_canonical

log = logging.getLogger(__name__)

MODEL_ID = "audio-emotion"
OPSET = 17


def build_onnx(model: dict[str, Any], name: str):
    """An ONNX graph of a fitted float model (see the module docstring for its shape)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    n_features = int(model["mean"].size)
    n_labels = int(np.asarray(model["layers"][-1][1]).size)
    inits = [numpy_helper.from_array(model["mean"].astype(np.float32), "mean"),
             numpy_helper.from_array((1.0 / model["scale"]).astype(np.float32), "inv_scale")]
    nodes = [helper.make_node("Sub", ["features", "mean"], ["centred"]),
             helper.make_node("Mul", ["centred", "inv_scale"], ["h0"])]
    current = "h0"
    for i, (w, b) in enumerate(model["layers"]):
        inits += [numpy_helper.from_array(np.asarray(w, np.float32), f"W{i}"),
                  numpy_helper.from_array(np.asarray(b, np.float32), f"b{i}")]
        nodes += [helper.make_node("MatMul", [current, f"W{i}"], [f"z{i}"]),
                  helper.make_node("Add", [f"z{i}", f"b{i}"], [f"a{i}"])]
        current = f"a{i}"
        if i < len(model["layers"]) - 1:
            nodes.append(helper.make_node("Relu", [current], [f"r{i}"]))
            current = f"r{i}"
    nodes.append(helper.make_node("Softmax", [current], ["probs"], axis=-1))
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", n_features])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", n_labels])],
        inits)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                   producer_name="emotrace-export-audio")
    onnx_model.ir_version = 8
    onnx.checker.check_model(onnx_model)
    return onnx_model


def quantize(float_path: Path, int8_path: Path) -> None:
    """INT8 weights for every MatMul (dynamic activation quantization, per-channel 7-bit weights)."""
    quantize_weights_dynamic(float_path, int8_path, ["MatMul"], per_channel=True)


def int8_weight_count(path: Path) -> int:
    """How many INT8 initializers a model holds (0 means quantization did nothing)."""
    import onnx

    return sum(1 for t in onnx.load(str(path)).graph.initializer if t.data_type == onnx.TensorProto.INT8)


def run_onnx(path: Path, features: np.ndarray) -> np.ndarray:
    """The probabilities the exported graph gives ``features``, run as the device runs it."""
    return run_each_row(OnnxRuntimeBackend(path).run, "features", features.astype(np.float32))  # its output: probs


def median_latency_per_window_ms(path: Path, n_features: int, repeats: int = 300) -> float:
    """Median time of one single-window inference (batch of 1) on this CPU, one thread."""
    return float(np.median(onnx_run_times_ms(path, {"features": np.zeros((1, n_features), dtype=np.float32)}, repeats)))


def export_audio(trained: Path, models_dir: Path | None = None, replace: bool = False) -> Path:
    """ONNX + INT8 + check + card.json + MODEL_CARD.md for the models ``train_audio`` wrote to ``trained``.

    Without ``models_dir``, or with it naming the repo's models/, the model goes over the one there (the shipped
    one), which every command then reads: where that one was trained on other data (``training_data_difference``),
    only with ``replace``; elsewhere ``replace`` only lets a card that cannot be read be replaced. A model of
    another task is never replaced (``guarded_target``)."""
    trained = Path(trained)
    stored, validation, report, meta = _load_trained(trained)
    target, shipped = guarded_target(models_dir, replace, MODEL_ID, FEATURE_TASK,
                                     lambda shipped_model: refuse_other_data_over(shipped_model, report))
    models_dir = target.parent
    if meta["feature_set"] != FEATURE_SET:
        raise InputError(trained / "models.npz", f"trained with feature set {meta['feature_set']}, "
                         f"this code computes {FEATURE_SET}: retrain")
    if models_dir.exists() and not models_dir.is_dir():  # a folder not there yet is made, as every export makes it
        raise InputError(models_dir, "is a file, not a models folder")

    with installing(target) as staging:
        check: dict[str, Any] = {}
        for mode in MODES:
            check[mode] = _export_mode(stored, validation, mode, staging, meta["n_features"], meta["labels"],
                                       meta.get("label_space", LABELS))
        failed = [m for m in MODES if check[m]["check_model"]["ua_drop"] > MAX_INT8_LOSS]
        if failed:
            figures = "; ".join(f"{m} variant UA {check[m]['check_model']['ua_float']:.3f} float, "
                                f"{check[m]['check_model']['ua_int8']:.3f} INT8" for m in failed)
            raise InputError(trained, f"INT8 model loses more than {100 * MAX_INT8_LOSS:g} point of UA on the "
                             f"validation speakers ({', '.join(meta['validation_speakers'])}, "
                             f"{check[failed[0]]['n_validation_clips']} clips): {figures}; not exported (on few "
                             "clips one clip moves UA by points: name more with train audio --validation-speakers)")
        card = _card(meta, report, check, staging, shipped)
        speech_range = training_speech_level(report)
        if speech_range:
            card[SPEECH_LEVEL] = speech_range
        write_card(staging, card)
        write_atomically(staging / "MODEL_CARD.md", model_card_markdown(card, trained, shipped).encode())
    return target


def training_speech_level(report: dict[str, Any]) -> dict[str, Any] | None:
    """The run's training clips' speech level (``level.training_speech_range``), measured in the clips as training
    read them: what the runtime flags speech judged without a baseline against. None, said in a line, where the
    data is no longer there: the card then claims no range, and the runtime flags nothing."""
    data = report.get("data_path") or report["data"]
    try:
        corpus = load_corpus(data, LABELS_AS_GIVEN if report.get("labels_as_given") else ())
        levels = [clip_speech_level_dbfs(clip.path) for clip in corpus.clips]
    except InputError as error:
        log.warning("%s; the card records no training speech level, so speech far from it is not flagged", error)
        return None
    spoken = [level for level in levels if level is not None]
    return {**training_speech_range(spoken), "of": (
        f"the median RMS level of each training clip's speech frames (dBFS), over the {len(spoken)} of "
        f"{len(levels)} clips with speech: 5 % point, median, 95 % point")} if spoken else None


def training_data_difference(card: dict[str, Any], report: dict[str, Any], root: Path) -> str:
    """'' where the model of ``card`` was trained on the data of the run of ``report``, else how they differ, as a
    refusal says it. By their data checksums; where either predates them (the shipped card of 2026.12.02), by the
    data folder resolved (the card's relative to ``root``, where its Rebuild runs), its speakers and its number of
    clips, all three: a folder named alike may hold other data, and the same one may be named otherwise."""
    metrics = card.get("metrics") if isinstance(card.get("metrics"), dict) else {}
    ours, theirs = _checksum_sha256(report), _checksum_sha256(metrics)
    if ours and theirs:
        return "" if ours == theirs else (f"trained on other data (data checksum {theirs[:12]}) than this run "
                                          f"(data checksum {ours[:12]})")
    card_data, run_data = _card_data(metrics, root), _run_data(report)
    if None not in card_data and card_data == run_data:
        return ""
    unnamed = "this run's report" if theirs else "the card"
    return (f"not comparable ({unnamed} names no data checksum): trained on {_data_text(card_data)}, this run on "
            f"{_data_text(run_data)}")


DataSeen = tuple[Path | None, frozenset[str] | None, int | None]  # data folder resolved, speakers, clips


def _checksum_sha256(fields: dict[str, Any]) -> str | None:
    checksum = fields.get("data_checksum")
    return checksum.get("sha256") if isinstance(checksum, dict) else None


def _card_data(metrics: dict[str, Any], root: Path) -> DataSeen:
    """What a card says of its data: its folder (relative to ``root``) resolved, the speakers of its folds and its
    clips (``clips``, or the clip-level cross-validation's n of a card from before it); None for what it lacks."""
    data = metrics.get("data")
    speakers = trained_speakers(metrics)
    cv = metrics.get("cv") if isinstance(metrics.get("cv"), dict) else {}
    clip_figures = cv.get("session/clip") if isinstance(cv.get("session/clip"), dict) else {}
    clips = metrics.get("clips") if metrics.get("clips") is not None else clip_figures.get("n")
    return ((root / data).resolve() if isinstance(data, str) else None, frozenset(speakers or ()) or None,
            clips if isinstance(clips, int) else None)


def _run_data(report: dict[str, Any]) -> DataSeen:
    """What a run's report says of its data: the folder as training resolved it (a report from before that: as
    named, from here), its speakers, its clips."""
    data = report.get("data_path") or report.get("data")
    speakers = report.get("speakers") or [s for fold in report.get("folds", []) for s in fold]
    clips = report.get("n_clips")
    return (Path(data).resolve() if isinstance(data, str) else None,
            frozenset(map(str, speakers)) or None, clips if isinstance(clips, int) else None)


def _data_text(seen: DataSeen) -> str:
    folder, speakers, clips = seen
    return (f"{folder or '?'} ({'?' if clips is None else clips} clips, "
            f"{'?' if speakers is None else len(speakers)} speakers)")


def refuse_other_data_over(target: Path, report: dict[str, Any]) -> None:
    """An ``InputError`` where ``target`` holds a model trained on other data than the run of ``report``, or on data
    that cannot be told to be its (``training_data_difference``; a card that cannot be read): replacing it by
    default would put a clinic's model in place of the shipped one for every command, unasked. A retrain on the
    same data replaces it unasked, as its card's own Rebuild line does."""
    refuse_unasked_replacement(target, lambda card: training_data_difference(card, report, target.parent.parent))


def _load_trained(trained: Path) -> tuple[Any, Any, dict[str, Any], dict[str, Any]]:
    """models.npz, validation.npz, report.json and the models' meta, checked to be one finished run of
    ``train_audio``: a report of another kind or of another run would put its figures on these models' card."""
    paths = [trained / "models.npz", trained / "validation.npz", trained / "report.json"]
    for path in paths:
        if not path.is_file():
            raise InputError(path, "missing: run 'emotrace train audio DATA --out DIR' first")
    try:
        stored, validation = np.load(paths[0]), np.load(paths[1])
        meta = json.loads(str(stored["meta"]))
        validation_arrays = {k: validation[k] for k in ("features", "groups", "y", "clip_index")}
        report = json.loads(paths[2].read_text())
    except (ValueError, OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as error:
        raise InputError(trained, f"unreadable training output ({error})") from None
    expected = {"data", "folds", "validation_speakers", "cv"}
    if not isinstance(report, dict) or not expected <= set(report) or not all(
            f"{mode}/clip" in report["cv"] for mode in MODES):
        raise InputError(paths[2], "is not a report of 'emotrace train audio'; retrain")
    if report["validation_speakers"] != meta.get("validation_speakers"):
        raise InputError(paths[2], "belongs to another run than models.npz (validation speakers differ); retrain")
    if validation_arrays["y"].size == 0:
        raise InputError(paths[1], "holds no validation windows, so INT8 cannot be checked; retrain")
    labels = meta.setdefault("labels", LABELS)  # the labels the models learnt (all eight before they were written)
    space = meta.setdefault("label_space", LABELS)  # what the outputs count in (the eight before it was written)
    if not isinstance(space, list) or not all(isinstance(label, str) for label in space):
        raise InputError(paths[0], f"names the label set {space!r}, not a list of labels; retrain")
    if not isinstance(labels, list) or not labels or labels != [label for label in space if label in labels]:
        raise InputError(paths[0], f"names labels {labels!r}, not some of {', '.join(space)} in that order; retrain")
    return stored, validation_arrays, report, meta


def _export_mode(stored: Any, validation: Any, mode: str, folder: Path, n_features: int,
                 labels: list[str], space: list[str] = LABELS) -> dict[str, Any]:
    features = validation["features"]
    if mode == "session":
        features = zscore_by_group(features, validation["groups"])
    y = validation["y"]
    clip_index = validation["clip_index"]
    _, first = np.unique(clip_index, return_index=True)
    clips = np.unique(clip_index)
    y_clip = y[first]
    remap = np.searchsorted(clips, clip_index)

    def clip_metrics(window_probs: np.ndarray) -> dict[str, Any]:
        probs, claimed = clip_level(all_label_columns(window_probs, labels, space), remap, clips.size)
        return classification_metrics(y_clip, probs, list(space), claimed)

    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for which in ("check", "all"):
            model = keep_outputs(model_from_arrays(stored, f"{mode}/{which}"), labels, space)
            float_path = (Path(scratch) if which == "check" else folder) / f"{mode}.float.onnx"
            int8_path = (Path(scratch) if which == "check" else folder) / f"{mode}.int8.onnx"
            write_atomically(float_path, build_onnx(model, f"{MODEL_ID}-{mode}").SerializeToString())
            quantize(float_path, int8_path)
            if int8_weight_count(int8_path) == 0:
                raise InputError(int8_path, "quantization produced no INT8 weights")
            p_ref = predict_proba(model, features)
            p_float = run_onnx(float_path, features)
            p_int8 = run_onnx(int8_path, features)
            if not np.allclose(p_ref, p_float, atol=1e-4):
                raise InputError(float_path, "ONNX graph disagrees with the fitted float model")
            m_float, m_int8 = clip_metrics(p_float), clip_metrics(p_int8)
            result[f"{which}_model"] = {
                "ua_float": m_float["ua"], "ua_int8": m_int8["ua"],
                "ua_drop": m_float["ua"] - m_int8["ua"],
                "macro_f1_float": m_float["macro_f1"], "macro_f1_int8": m_int8["macro_f1"],
                "ece_float": m_float["ece"], "ece_int8": m_int8["ece"],
                "window_agreement": float((p_float.argmax(1) == p_int8.argmax(1)).mean()),
                "max_abs_prob_diff": float(np.abs(p_float - p_int8).max()),
                "size_bytes_float": float_path.stat().st_size, "size_bytes_int8": int8_path.stat().st_size,
            }
            if which == "all":
                result["latency_ms_per_window_int8"] = median_latency_per_window_ms(int8_path, n_features)
                result["latency_ms_per_window_float"] = median_latency_per_window_ms(float_path, n_features)
                float_path.unlink()  # only the INT8 file ships
    result["n_validation_clips"] = int(clips.size)
    return result


_RAVDESS_LICENCE = {
    "model": "trained on RAVDESS: CC BY-NC-SA 4.0 (non-commercial, attribution, share-alike)",
    "training_data": ("RAVDESS, Livingstone & Russo (2018), PLoS ONE 13(5): e0196391, "
                      "doi:10.5281/zenodo.1188976, CC BY-NC-SA 4.0"),
}


def ravdess_share(report: dict[str, Any]) -> str:
    """How much of the training data is RAVDESS: "all" when every speaker came from RAVDESS file names or every clip
    is named as RAVDESS names its files (a manifest's own speaker ids for them), "part" when some clips are RAVDESS
    recordings (a speaker found by RAVDESS name, or clips named as RAVDESS names its files, counted when the run read
    them: ``ravdess_clips``), "" when none is. Any RAVDESS clip binds the model to RAVDESS's share-alike licence."""
    speakers = [str(s) for s in report.get("speakers", [])]
    named = [s for s in speakers if s.startswith("ravdess-")]
    clips, ravdess = report.get("n_clips") or 0, report.get("ravdess_clips") or 0
    if (named and len(named) == len(speakers)) or (clips and ravdess == clips):
        return "all"
    return "part" if named or ravdess else ""


def _licence(report: dict[str, Any]) -> dict[str, str]:
    share = ravdess_share(report)
    if share == "all":
        return dict(_RAVDESS_LICENCE)
    counted = f"{report['data']}: {report.get('n_clips', '?')} clips, {len(report.get('speakers', []))} speakers"
    if share == "part":
        return {"model": "trained in part on RAVDESS, so bound by its CC BY-NC-SA 4.0 (non-commercial, attribution, "
                         "share-alike); the rest of the data adds its own terms",
                "training_data": f"{counted}; part of it is {_RAVDESS_LICENCE['training_data']} (that licence covers "
                                 "the RAVDESS part); the rest's licence not recorded by the training host"}
    # a clinic's own data: its terms are the clinic's to state; the card must not claim RAVDESS's
    return {"model": "trained on the data named in metrics.data; it carries that data's licence terms",
            "training_data": f"{counted}; licence not recorded by the training host"}


def _card(meta: dict[str, Any], report: dict[str, Any], check: dict[str, Any], folder: Path,
          shipped: bool = True) -> dict[str, Any]:
    """The card.json of an export; ``shipped``: into the repo's models/ (else 'the exported model')."""
    installed = "shipped" if shipped else "exported"
    files = {mode: f"{mode}.int8.onnx" for mode in MODES}
    sha256 = {mode: file_sha256(folder / name) for mode, name in files.items()}  # the model card's text quotes them
    cv = report["cv"]
    return {
        "id": MODEL_ID,
        # date + file digest: a retrained model never shares a version with the one a fuser learned
        "version": model_version(sha256["session"]),
        "task": FEATURE_TASK,
        "labels": list(meta.get("labels", LABELS)),  # the learnt ones: the runtime marks the rest unsupported
        # a manifest's own labels (--labels-as-given), as the run's report says (a models.npz of before also named it
        # in its meta, which the report of its run always matched: left unread)
        "labels_as_given": bool(report.get("labels_as_given", False)),
        "files": files,
        "sha256": sha256,
        "feature_set": FEATURE_SET,
        "n_features": meta["n_features"],
        "window_s": meta["window_s"],
        "hop_s": meta["hop_s"],
        "min_speech_fraction": meta["min_speech_fraction"],
        "input": "features",
        "output": "probs",
        "baseline": {"session": "features z-scored per session (zscore_by_group) before the model",
                     "none": "raw features; standardisation inside the graph"},
        "classifier": meta["classifier"],
        "speed_perturbation": meta.get("speed_factors", []),
        "varied_baselines": meta.get("varied_baselines", 0),
        "metrics": {
            "protocol": (f"leave-speakers-out cross-validation, {len(report['folds'])} folds (GroupKFold by "
                         "speaker), out-of-fold predictions; clip = mean of its speech windows' probabilities; "
                         "float models"),
            "data": report["data"],
            "clips": report.get("n_clips"),
            # which data made the model ({"sha256", "of"}; None for a report from before): a rebuild can be checked
            "data_checksum": report.get("data_checksum"),
            # what a reviewer weighs the figures by: a label of few clips or one speaker is barely judged
            "clips_per_label": report.get("clips_per_label"),
            "speakers_per_label": report.get("speakers_per_label"),
            "speakers": len(report.get("speakers", [])) or len({s for fold in report["folds"] for s in fold}),
            "folds": report["folds"],
            # interval_95: over resampled speakers, where the run's report has one (reports from before had none)
            "cv": {name: {k: m[k] for k in ("ua", "wa", "macro_f1", "ece", "n", "no_claim", "recall", "interval_95")
                          if k in m}
                   for name, m in cv.items()},
            "quantization_check": {
                "validation_speakers": meta["validation_speakers"],
                "note": ("every figure is on the validation speakers' clips; check_model: fitted without them, so its "
                         "figures are held-out ones (the export refuses INT8 where its UA drops more than "
                         f"{100 * MAX_INT8_LOSS:g} point); all_model: the {installed} model, fitted on every speaker, "
                         "them included, so its figures are on its own training speakers, not held-out ones"),
                # whose clips each model's figures are on, said per model: a reader of one row needs no note
                "speakers_scored": {"check_model": "validation speakers, held out of this model",
                                    "all_model": "validation speakers, in this model's training data"},
                **check,
            },
        },
        "licence": {**_licence(report),
            "features": "librosa (ISC), numpy/scipy (BSD), praat-parselmouth (GPLv3) for F0",
        },
        "warnings": list(report.get("warnings", [])),  # what the figures cannot say, as training said it
        "host": {"python": platform.python_version(), "machine": platform.machine(),
                 "processor": platform.processor() or platform.machine()},
    }


def gain_limit_line(card: dict[str, Any]) -> str:
    """The card's limit on the microphone's gain, naming its own training speech's range where the card records
    it (``training_speech_level``)."""
    trained_dbfs = trained_range_dbfs(card)
    flagged = (f"The runtime flags speech judged by this variant more than {LEVEL_MARGIN_DB:g} dB outside this "
               f"model's training speech ({trained_dbfs[0]:g} to {trained_dbfs[1]:g} dBFS, 5-95 % of the clips' "
               f"median speech level, `{SPEECH_LEVEL}` in card.json; `gain` in the voice track's settings, "
               "docs/audio-models.md); within that range the gain still moves the emotions. Set the gain so that "
               "speech lies in it, or use the `session` variant." if trained_dbfs else
               "This card records no training speech level, so the runtime flags no level; use the `session` "
               "variant.")
    return ("- Without a speaker baseline (the `none` variant) the emotions move with the microphone's gain: the "
            "features hold the speech's absolute level, which acted corpora tie to emotion (docs/audio-models.md, "
            f"'Microphone gain'). {flagged}")


def _training_options(card: dict) -> str:
    """The train audio options the card's run used where they are not the defaults."""
    factors = [float(f) for f in card.get("speed_perturbation", [])]
    options = "" if factors == list(SPEED_FACTORS) else (
        " --speed-perturb " + (",".join(f"{f:g}" for f in factors) if factors else "none"))
    options += " --labels-as-given" if card.get("labels_as_given") else ""
    return options + (f" --varied-baselines {card['varied_baselines']}" if card.get("varied_baselines") else "")


def rebuild_validation_speakers(card: dict[str, Any]) -> str:
    """The Rebuild line's ``--validation-speakers`` value: each of the card's validation speakers by a name that
    selects it alone among the run's speakers (``rebuild_speaker_name``), quoted for the shell where it must be."""
    validation = card["metrics"]["quantization_check"]["validation_speakers"]
    speakers = sorted({s for fold in card["metrics"]["folds"] for s in fold} | set(validation))
    return shlex.quote(speaker_list_text([rebuild_speaker_name(s, speakers) for s in validation]))


def label_coverage(labels: list[str], with_clips: list[str] | None = None) -> str:
    """The labels a card lists, said against the canonical eight: those a model never learnt are unsupported, for
    want of clips or, where the training data had clips of them (``with_clips``, default ``labels``), of speech; a
    manifest's own labels (--labels-as-given) are said to be left out of fusion, and those of its labels with clips
    but no speech to be unlearnt."""
    with_clips = labels if with_clips is None else with_clips
    own = outside_canonical(labels)
    if own:
        canonical = [label for label in labels if label in LABELS]
        silent = [label for label in with_clips if label not in labels]  # a scheme's labels all had clips
        them = "it" if len(own) == 1 else "them"
        return (f"{len(labels)} labels as the training data's manifest gives them, {', '.join(labels)} (train audio "
                f"--labels-as-given; {', '.join(own)} {'is' if len(own) == 1 else 'are'} none of the eight canonical "
                f"labels fusion works over, so the fused track leaves {them} out"
                + (f", while {', '.join(canonical)} {shares_fused(canonical)}" if canonical else
                   " and claims no emotion from this model")
                + f"; fusion.arousal_from may name {'it' if len(own) == 1 else 'one'} (audio.{own[0]}) to move "
                "arousal"
                + (f"; the training data held {unlearnt_labels(silent, with_clips)}, so the model does not list "
                   f"{'it' if len(silent) == 1 else 'them'}" if silent else "") + ")")
    if len(labels) == len(LABELS):
        return "the eight canonical labels (" + ", ".join(labels) + ")"
    left_out = [label for label in LABELS if label not in labels]
    why = unlearnt_labels(left_out, with_clips)
    return (f"{len(labels)} of the eight canonical labels ({', '.join(labels)}; the training data held {why}, so "
            "the model does not list them and its tracks mark them unsupported: fusion gives them no say)")


def labels_with_clips(card: dict[str, Any]) -> list[str] | None:
    """The labels the card's training data had clips of (a clip recall, None where a label had no clip)."""
    recall = card["metrics"]["cv"].get("session/clip", {}).get("recall")
    return [label for label, value in recall.items() if value is not None] if isinstance(recall, dict) else None


def int8_rows(installed: str = "shipped") -> dict[str, str]:
    """The float-vs-INT8 table's row names: ``installed`` is 'shipped' (the repo's models/) or 'exported'."""
    return {"check_model": "held out: fitted without them", "all_model": f"{installed}: trained on them too"}


def int8_check_text(check: dict[str, Any], installed: str = "shipped") -> list[str]:
    """What the card's float-vs-INT8 table is scored on: the validation speakers' clips that hold a speech window
    (the only ones a model is run on), held out of the check model and in the ``installed`` model's training data."""
    speakers = ", ".join(check["validation_speakers"])
    clips = check.get("session", {}).get("n_validation_clips")
    return [f"Every row is scored on the clips of the validation speakers ({speakers}"
            + (f"; {clips} clips with a speech window" if clips else "")
            + ": train audio --validation-speakers, default the last fifth of the speakers in sorted order). "
            f"**Held out**: a model fitted as the {installed} one but without them: held-out figures, and the check "
            f"the export passes (INT8 may lose at most {100 * MAX_INT8_LOSS:g} point of UA there). "
            f"**{installed.capitalize()}**: the {installed} model, trained on every speaker, them included: figures "
            "on its own training speakers, which say that INT8 agrees with float, not how well the model does on a "
            "new voice (the cross-validated figures above say that)."]


def interval_cell(figures: dict[str, Any], name: str) -> str:
    """'0.612–0.701' of a figure's 95 % interval over speakers, '-' where there is none."""
    return interval_range(figures.get("interval_95", {}), name) or "-"


def per_label_table(metrics: dict[str, Any]) -> list[str]:
    """The card's lines of clips and speakers per label of the training data (none where the run's report had no
    counts), a blank line after."""
    clips, speakers = metrics.get("clips_per_label"), metrics.get("speakers_per_label")
    if not clips or not speakers:
        return []
    return ["| label | clips | speakers |", "|---|---|---|",
            *[f"| {label} | {n} | {speakers.get(label, '?')} |" for label, n in clips.items()], ""]


def model_card_markdown(card: dict[str, Any], trained: Path, shipped: bool = True) -> str:
    """MODEL_CARD.md of ``card``; ``shipped``: exported into the repo's models/ (its INT8 rows say 'exported'
    otherwise)."""
    installed = "shipped" if shipped else "exported"
    cv = card["metrics"]["cv"]
    check = card["metrics"]["quantization_check"]
    lines = [
        f"# Model card: {card['id']} {card['version']}", "",
        f"Voice emotion over {label_coverage(card['labels'], labels_with_clips(card))}, one probability "
        f"vector per {card['window_s']} s speech window (hop {card['hop_s']} s, at least "
        f"{card['min_speech_fraction']:.0%} speech by the voice activity detector, Silero VAD with the loud-voice "
        "rescue; a clip with no such window is judged on its one window with the most); a clip's vector is the "
        "mean of its windows'. "
        "It assists a clinician; it does not diagnose, and acted emotions are not felt ones.", "",
        "## Variants", "",
        "| file | input | INT8 size | latency / window (INT8, 1 thread) | sha256 |", "|---|---|---|---|---|",
    ]
    for mode, name in card["files"].items():
        lines.append(f"| `{name}` | {card['baseline'][mode]} | {check[mode]['all_model']['size_bytes_int8']} B | "
                     f"{check[mode]['latency_ms_per_window_int8']:.3f} ms | `{card['sha256'][mode][:16]}…` |")
    ravdess = card["licence"]["training_data"] == _RAVDESS_LICENCE["training_data"]
    ravdess_part = not ravdess and _RAVDESS_LICENCE["training_data"] in card["licence"]["training_data"]
    speakers, clips = card["metrics"].get("speakers"), card["metrics"].get("clips")
    lines += [
        "", "## Data", "", f"`{card['metrics']['data']}`: RAVDESS speech, {speakers} actors ({clips} clips, 16 kHz). "
        "Actors 21-24 are not here and were never used." if ravdess else card["licence"]["training_data"] + ".", "",
        *per_label_table(card["metrics"]),
        *([f"Data checksum: sha256 `{checksum['sha256']}`, of {checksum['of']}.", ""]
          if (checksum := card["metrics"].get("data_checksum")) else []),
        *[f"Warning: {warning}." for warning in card.get("warnings", [])], "",
        "## Features", "",
        f"`{card['feature_set']}`, {card['n_features']} values per window (runtime/arms/audio/features.py, the "
        "same code on the device): 25 ms frames every 10 ms; 40 log-mel bands (mean, std, 10/90th percentile and "
        "the mean absolute frame-to-frame change: 200 values); 13 MFCCs and their deltas, log energy and its "
        "delta, spectral centroid, bandwidth, roll-off, flatness, flux and zero-crossing rate (each mean, std, "
        "10/50/90th percentile, 10-90 range, slope: 238 values); F0 in semitones over voiced frames (the same "
        "plus mean absolute step), voiced ratio, voicing strength, voiced loudness (11 values).", "",
        f"Classifier: `{json.dumps(card['classifier'])}` (scikit-learn, written as MatMul/Add/Relu/Softmax).", "",
        "Training data augmentation: " + (
            "every training speaker's clips also played " + " and ".join(f"{f:g}" for f in card["speed_perturbation"])
            + " times as fast (speed perturbation: tempo, pitch and formants move together), each copy z-scored "
            "as a speaker of its own; no copy of an evaluated speaker is ever trained on, and only unperturbed "
            "clips are scored." if card.get("speed_perturbation") else "none.")
        + (f" The session variant also learnt each speaker's windows against {card['varied_baselines']} more "
           "baselines of their own clips drawn at random (train audio --varied-baselines); never scored."
           if card.get("varied_baselines") else ""), "",
        "## Metrics (speaker-independent)", "", card["metrics"]["protocol"] + ".", "",
        "Folds: " + "; ".join(", ".join(f) for f in card["metrics"]["folds"]) + ".", "",
        "| variant / level | UA | WA | macro-F1 | ECE | UA 95 % | macro-F1 95 % |", "|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {name} | {m['ua']:.3f} | {m['wa']:.3f} | {m['macro_f1']:.3f} | {m['ece']:.3f} | "
              f"{interval_cell(m, 'ua')} | {interval_cell(m, 'macro_f1')} |" for name, m in cv.items()]
    notes = interval_notes(cv)
    lines += ["", "Definitions: UA = balanced accuracy (mean per-class recall), WA = accuracy, ECE = expected "
              "calibration error over 10 confidence bins. Clips without a speech window count as wrong. 95 %: the "
              "2.5-97.5 percentiles of the out-of-fold figure when the speakers are drawn again with replacement, "
              "each bringing all of their clips or windows (the spread from one set of speakers to the next; "
              "'-' where the run's report had none)" + "".join(f"; {note}" for note in notes) + ".", "",
              "## Float vs INT8", "", *int8_check_text(check, installed), "",
              "| variant | model, on the validation speakers | UA float | UA INT8 | macro-F1 float | macro-F1 INT8 | "
              "window agreement | size float → INT8 |", "|---|---|---|---|---|---|---|---|"]
    for mode in card["files"]:
        for which in ("check_model", "all_model"):
            c = check[mode][which]
            lines.append(f"| {mode} | {int8_rows(installed)[which]} | {c['ua_float']:.3f} | {c['ua_int8']:.3f} | "
                         f"{c['macro_f1_float']:.3f} | {c['macro_f1_int8']:.3f} | {c['window_agreement']:.3f} | "
                         f"{c['size_bytes_float']} → {c['size_bytes_int8']} B |")
    comparison = trained / "comparison.md"
    if comparison.is_file():
        lines += ["", "## Candidates compared (same folds)", "", comparison.read_text().strip()]
    lines += [
        "", "## Rebuild", "", "```",
        f"emotrace train audio {shlex.quote(str(card['metrics']['data']))} "
        f"--out runs/audio --cv-folds {len(card['metrics']['folds'])} "
        "--validation-speakers " + rebuild_validation_speakers(card)
        + _training_options(card),
        f"emotrace export audio runs/audio {destination_option(shipped)}", "```", "",
        destination_note(MODEL_ID, shipped), "",
        "## Licences", "", f"- Model and training data: {card['licence']['training_data']}. The model is "
        + ("derived from RAVDESS and shares its licence: non-commercial use only, with attribution." if ravdess
           else "derived in part from RAVDESS and shares its licence (non-commercial use only, with attribution, "
           "share-alike), besides the terms of the rest of the data." if ravdess_part
           else "derived from that data and carries its licence terms."),
        f"- Feature code: {card['licence']['features']}.", "",
        "## Limits", "",
        f"- Acted, studio-quality North-American English from {speakers} professional actors, two sentences; real "
        "therapy-room speech is spontaneous, noisier and less intense. Expect lower figures there." if ravdess
        else f"- Figures from {speakers} speakers; speakers unlike "
        "them may fare worse.",
        "- The `session` variant assumes the session holds varied speech of one person: a session of one "
        "mood shifts the baseline and flattens the contrast.",
        gain_limit_line(card),
        "- Windows without speech (VAD) make no claim.", "",
    ]
    return "\n".join(lines)
