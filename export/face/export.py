"""Export a trained expression model: ONNX (float), INT8 (ONNX Runtime static quantization), a check of the
INT8 model against the float one on PublicTest, and a model folder with card.json and MODEL_CARD.md.

The graph takes raw grey levels (N, 1, 48, 48), 0–255, and returns probabilities in canonical label order
(normalisation and the mirror-image average are inside it), so the device does no preprocessing of its own.

``compose_ensemble`` writes the shipped default, ``models/face-expression``: a card whose ``members`` are other
model folders (this CNN, fer's baseline), averaged by the face arm, with every member's figures beside the
ensemble's on the same split so the better choice is visible.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from export.face.data import CROP_SIZE_PX, FACE_LABELS, check_splits, load_split
from export.face.fer_baseline import evaluate
from export.face.train import TEST_ZOOMS, DeployedExpressionNet, TrainConfig, load_trained, read_run_report
from export.install import (
    destination_note,
    destination_option,
    guarded_target,
    installing,
    model_version,
    models_dir_instead,
    rebuilt_beside,
    with_destination,
    write_card,
)
from export.quantization import MAX_INT8_LOSS
from runtime.arms.face.expression import ENSEMBLE_TASK, FACE_TASK
from runtime.errors import InputError
from runtime.files import check_output_file, check_output_folder, read_json_object
from runtime.models.card import file_sha256, is_model_id, load_card
from runtime.track import is_number

MODEL_ID = "face-expression-cnn"
ENSEMBLE_ID = "face-expression"
INPUT_NAME = "image"
INT8_FILE = "expression_int8.onnx"  # what ships
FLOAT_FILE = "expression_float.onnx"  # the reference it is checked against, left beside the first run
# A zoom scales the aligned crop about its centre. Beyond 2x a view shows less than the middle half of the face
# (eyes or mouth cut off); below 0.5x the face fills under half the crop, the rest smeared border pixels. Training
# only jitters scale by 10 %, so views outside that range are ones the network never learnt from.
MIN_ZOOM, MAX_ZOOM = 0.5, 2.0
METRIC_KEYS = ("split", "n", "accuracy", "balanced_accuracy", "macro_f1", "ece", "per_class_recall",
               "latency_ms_per_face")


# The settings of a run that change the model, with the ``emotrace train face`` option that sets each: the Rebuild
# line gives every one as the run's report recorded it, since a default can change, and precision "auto" resolves
# per host (fp32 on an AVX2 CPU where the run was bf16: another model).
TRAIN_OPTIONS = {"seed": "--seed", "epochs": "--epochs", "widths": "--widths", "ferplus_weight": "--ferplus-weight",
                 "precision": "--precision", "threads": "--threads"}
# The folder a Rebuild line reads: the run's report does not record the path it was given, and a path as given
# (relative to where the command ran, or this host's) would not work from the reader's repository.
DATA_PLACEHOLDER = "DATA"


def _option_text(value: object) -> str:
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def train_command(config: dict, out: str) -> str:
    """The ``emotrace train face`` command that trains a run of ``config`` (a report's) into ``out``."""
    options = "".join(f" {flag} {_option_text(config[name])}" for name, flag in TRAIN_OPTIONS.items() if name in config)
    return f"emotrace train face {DATA_PLACEHOLDER} --out {out}{options}"


def settings_without_option(config: dict) -> dict:
    """The settings of ``config`` that differ from TrainConfig's defaults and that no command-line option sets."""
    defaults = asdict(TrainConfig())
    return {name: value for name, value in config.items()
            if name not in TRAIN_OPTIONS and name in defaults and value != defaults[name]}


def rebuild_command(configs: list[dict], model_id: str = MODEL_ID, zooms: tuple[float, ...] = TEST_ZOOMS,
                    shipped: bool = True) -> str:
    """The commands that train each run of ``configs`` and export them, as the card records them, into the repo's
    models/ (``shipped``) or beside it; a setting the command line cannot give (a run trained from Python) is named
    in a trailing shell comment."""
    runs = " ".join(f"run{i}" for i in range(len(configs)))
    export = (f"emotrace export face {runs} --data {DATA_PLACEHOLDER}"
              + ("" if model_id == MODEL_ID else f" --id {model_id}")
              + ("" if tuple(zooms) == TEST_ZOOMS else f" --zooms {','.join(map(str, zooms))}")
              + f" {destination_option(shipped)}")
    command = " && ".join([*(train_command(c, f"run{i}") for i, c in enumerate(configs)), export])
    unset = [f"run{i} " + ", ".join(f"{k}={_option_text(v)}" for k, v in settings_without_option(c).items())
             for i, c in enumerate(configs) if settings_without_option(c)]
    return command + (f"  # also TrainConfig: {'; '.join(unset)} (no command-line option)" if unset else "")


def ferplus_uses(dropped_not_face_rows: int, ferplus_weights: list[float]) -> list[str]:
    """What the FER+ votes did in training, if anything: a card credits FER+ only where it was used."""
    uses = ["not-a-face votes used to drop rows"] if dropped_not_face_rows else []
    return uses + (["label votes mixed into the targets"] if any(w > 0 for w in ferplus_weights) else [])


def _card_ferplus_uses(card: dict) -> list[str]:
    """What FER+ did in a card's training: its one data record (which every run shares, ``check_same_ferplus_data``)
    and each run's weight; the licence and the card's text both read it here."""
    return ferplus_uses(card["training"]["data"].get("dropped_not_face_rows", 0),
                        [r["config"].get("ferplus_weight", 0.0) for r in card["training"]["runs"]])


def check_same_ferplus_data(trained_dirs: list[Path], reports: list[dict]) -> None:
    """Runs averaged into one model share one data record in its card and one DATA in its Rebuild line: refused
    where some dropped FER+'s non-faces (trained with fer2013new.csv) and others did not."""
    dropped = [bool(r["data"].get("dropped_not_face_rows", 0)) for r in reports]
    if len(set(dropped)) > 1:
        named = [", ".join(str(d) for d, used in zip(trained_dirs, dropped, strict=True) if used is flag)
                 for flag in (True, False)]
        raise InputError(named[0], f"dropped FER+'s non-faces in training (fer2013new.csv beside labels.csv), "
                         f"{named[1]} did not: runs averaged into one model must be trained on the same data")


def rebuild_sentence(card: dict) -> str:
    """MODEL_CARD.md's Rebuild sentence of an exported or ensemble card: its command, what DATA stands for and
    where the command puts the model."""
    where = destination_note(card["id"], not rebuilt_beside(card["rebuild"]))
    if card.get("members"):
        return f"Rebuild (DATA: the FER-2013 folder the members are measured on): `{card['rebuild']}`. {where}"
    ferplus = ", with FER+'s fer2013new.csv beside labels.csv" if _card_ferplus_uses(card) else ""
    return (f"Rebuild (DATA: the FER-2013 folder the runs were trained on{ferplus}): "
            f"`{card['rebuild']}`. {where}")


def export_onnx(trained_dirs: list[Path], path: Path, zooms: tuple[float, ...] = TEST_ZOOMS) -> None:
    model = DeployedExpressionNet([load_trained(d) for d in trained_dirs], zooms).eval()
    example = torch.zeros(1, 1, CROP_SIZE_PX, CROP_SIZE_PX)
    torch.onnx.export(model, (example,), str(path), input_names=[INPUT_NAME], output_names=["probs"],
                      dynamic_axes={INPUT_NAME: {0: "n"}, "probs": {0: "n"}}, opset_version=17, dynamo=False)


def quantize_int8(float_path: Path, int8_path: Path, calibration: np.ndarray) -> None:
    """Static INT8 (QDQ) with calibration crops from Training: activations in 8 bits, weights in 7.

    Weights keep to 7 bits (``reduce_range``) because x86 CPUs without VNNI (AVX2, AVX-512 without VNNI) multiply
    uint8 activations by int8 weights with an instruction that adds pairs of products into a saturating 16-bit
    sum: with full-range weights the shipped graph scored 0.663 on PublicTest on an AVX2 CPU against 0.705 in
    float (and on a VNNI CPU); with 7-bit weights 0.705 on both, at the same speed.
    """
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{INPUT_NAME: calibration[i:i + 32, None].astype(np.float32)}
                                 for i in range(0, len(calibration), 32)])

        def get_next(self):
            return next(self.batches, None)

    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(float_path), str(prepared))
        quantize_static(str(prepared), str(int8_path), Reader(), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                        reduce_range=True)


def check_zooms(zooms: tuple[float, ...]) -> None:
    """Each test-time zoom a finite factor from MIN_ZOOM to MAX_ZOOM, refused before any work (NaN used to fail
    deep in the graph build, inf and 1e9 to ship a view of one smeared pixel)."""
    if not zooms:
        raise InputError("zooms=()", "give one or more zoom factors (1 = the crop as given)")
    for zoom in zooms:
        if not is_number(zoom) or not MIN_ZOOM <= zoom <= MAX_ZOOM:  # NaN fails every comparison
            raise InputError(f"zooms={','.join(map(str, zooms))}", f"each zoom a factor from {MIN_ZOOM:g} to "
                             f"{MAX_ZOOM:g} (1 = the crop as given; not {zoom})")


def check_model_id(model_id: str) -> None:
    """A model id names one folder under the models folder, as the runtime reads ids (``is_model_id``): not a
    path, and not '.', '..' or a hidden name, which the runtime would read as a path."""
    if not model_id or not is_model_id(model_id):
        raise InputError(f"id={model_id!r}", "a model id is one folder name, without '/' or a leading '.'")


def export_face(trained: Path | list[Path], data_root: Path, models_dir: Path | None = None,
                cache_dir: Path | None = None, calibration_rows: int = 512, model_id: str = MODEL_ID,
                zooms: tuple[float, ...] = TEST_ZOOMS, replace: bool = False) -> Path:
    """One trained run, or several (seeds) whose logits the exported graph averages, as ``models/<model_id>``; a
    model there in the repo's models/ is replaced only with ``replace`` (``guarded_target``)."""
    check_model_id(model_id)
    check_zooms(zooms)
    trained_dirs = [Path(d) for d in (trained if isinstance(trained, list) else [trained])]
    trained_dir = trained_dirs[0]
    reports = [read_run_report(d) for d in trained_dirs]  # every run checked before any work
    check_same_ferplus_data(trained_dirs, reports)
    report = reports[0]
    # never another kind of model; a refusal offers another --id besides another --models-dir
    folder, shipped = guarded_target(models_dir, replace, model_id, FACE_TASK,
                                     instead=models_dir_instead(model_id, id_option=True))
    check_splits(data_root)
    check_output_folder(folder.parent)
    check_output_file(trained_dir / FLOAT_FILE)  # the float graph goes there at the end: found unwritable now
    with installing(folder) as staging:
        # The float graph is only the reference the INT8 one is checked against: it is left beside the first
        # run (it is four times the size and nothing on the device reads it), never shipped.
        float_path = staging / FLOAT_FILE
        export_onnx(trained_dirs, float_path, zooms)
        training = {"data": report["data"], "runs": [
            {"config": r["config"], "selected_epoch": r["selected_epoch"],
             "public_test": {k: r["public_test"][k] for k in ("accuracy", "balanced_accuracy", "macro_f1")}}
            for r in reports]}
        uses = _card_ferplus_uses({"training": training})
        card = {
            "id": model_id, "version": "", "task": FACE_TASK,
            "labels": list(FACE_LABELS), "format": "onnx", "backend": "onnxruntime",
            "input_name": INPUT_NAME,
            "input_px": CROP_SIZE_PX, "layout": "nchw", "value_range": [0.0, 255.0],
            "unsupported_labels": ["calm"],
            "test_time_views": {"zooms": list(zooms), "mirror": True},
            "licence": {"name": "Apache-2.0 (project code)", "training_data": "FER-2013 (states no licence; "
                        "Goodfellow et al. 2013)" + "".join(f"; FER+ {use} (MIT, Microsoft)" for use in uses)},
            "training": training,
            "rebuild": rebuild_command([r["config"] for r in reports], model_id, zooms, shipped),
        }
        _quantize_check_into(float_path, card, staging, data_root, cache_dir, calibration_rows, trained_dir)
        shutil.move(float_path, trained_dir / FLOAT_FILE)
    return folder


def requantize_face(float_path: Path, data_root: Path, models_dir: Path | None = None, model_id: str = MODEL_ID,
                    cache_dir: Path | None = None, calibration_rows: int = 512, replace: bool = False) -> Path:
    """Quantize an exported float graph (the one an export left beside its first run) again into
    ``models/<model_id>``, keeping that card's training record: a new INT8 recipe without retraining. In the
    repo's models/ only with ``replace``, as every export there (``guarded_target``)."""
    import onnx

    float_path = Path(float_path)
    check_model_id(model_id)
    # never another kind of model, nor an ensemble (no graph of its own): its refusal names the members
    # it reads the model already there, so a new or empty folder is no way on (an ensemble's members are)
    folder, shipped = guarded_target(models_dir, replace, model_id, FACE_TASK, instead="give --id the folder of an "
                                     "exported expression model to requantize (an ensemble's: each member's)")
    check_splits(data_root)
    if not (folder / "card.json").is_file():
        raise InputError(folder, "no model card there to requantize")
    if not float_path.is_file():
        raise InputError(float_path, "no such float graph")
    try:
        inputs = [i.name for i in onnx.load(str(float_path), load_external_data=False).graph.input]
    except Exception as error:  # onnx raises several types for a file that is not a graph
        raise InputError(float_path, f"not an ONNX graph ({type(error).__name__})") from None
    if inputs != [INPUT_NAME]:
        raise InputError(float_path, f"not an exported expression graph (inputs {inputs}, expected [{INPUT_NAME!r}])")
    load_card(folder)  # a corrupt card is one line naming it (as for --ensemble), not a JSON traceback
    card = json.loads((folder / "card.json").read_text())  # every field as written, kept in the new card
    card["requantized"] = {"float_sha256": file_sha256(float_path), "previous_version": card.get("version")}
    if card.get("rebuild"):  # kept from the earlier card, whose export may have gone elsewhere or predate --replace
        card["rebuild"] = with_destination(card["rebuild"], shipped)
    with installing(folder) as staging:
        _quantize_check_into(float_path, card, staging, data_root, cache_dir, calibration_rows, float_path)
    return folder


def compose_ensemble(member_ids: list[str], data_root: Path, models_dir: Path | None = None,
                     cache_dir: Path | None = None, replace: bool = False) -> Path:
    """``models/face-expression``: the mean of the member models, measured beside each of them on PublicTest. In
    the repo's models/ only with ``replace``, as every export there (``guarded_target``)."""
    target, shipped = guarded_target(models_dir, replace, ENSEMBLE_ID, ENSEMBLE_TASK)
    check_splits(data_root)
    models_dir = target.parent
    repeated = sorted({member for member in member_ids if member_ids.count(member) > 1})
    if repeated:
        raise InputError(", ".join(repeated), "named twice as an ensemble member: each counts once")
    members = [load_card(models_dir / member) for member in member_ids]
    for member in members:  # one model each (not an ensemble, whose card would then list itself)
        member.require_task((FACE_TASK,), "a single face-expression model")
    labels = sorted({label for card in members for label in card.labels}, key=list(FACE_LABELS).index)
    members_digest = hashlib.sha256(json.dumps([(m.id, m.version) for m in members]).encode()).hexdigest()
    card = {
        "id": ENSEMBLE_ID, "version": model_version(members_digest),
        "task": ENSEMBLE_TASK,
        "labels": labels, "files": {}, "members": [f"../{m.id}" for m in members],
        "unsupported_labels": ["calm"],
        "licence": {"name": "the members' (see each member's card)",
                    "members": {m.id: m.licence for m in members}},
        "rebuild": (f"emotrace export face --ensemble {','.join(member_ids)} --data {DATA_PLACEHOLDER} "
                    f"{destination_option(shipped)}"),
    }
    with installing(target) as staging:
        write_card(staging, card)
        compare = {m.id: {k: v for k, v in evaluate(m.folder, data_root, cache_dir=cache_dir).items()
                          if k in METRIC_KEYS} for m in members}
        own = evaluate(staging, data_root, cache_dir=cache_dir)
        card["metrics"] = {"public_test": {k: own[k] for k in METRIC_KEYS}, "members_public_test": compare}
        write_card(staging, card)
        (staging / "MODEL_CARD.md").write_text(_ensemble_card_text(card))
    return target


def installed_summary_line(folder: Path, action: str) -> str:
    """What ``emotrace export face --ensemble`` or ``--from-float`` prints of the model folder it installed: the
    PublicTest accuracy and UA of the graph that runs (an ensemble's own figures; an exported model's INT8 ones)."""
    figures = read_json_object(Path(folder) / "card.json", what="model card")["metrics"]["public_test"]
    if "int8" in figures:
        figures = figures["int8"]
    return f"{folder}: {action}; PublicTest accuracy {figures['accuracy']:.3f}, UA {figures['balanced_accuracy']:.3f}"

def _ensemble_card_text(card: dict) -> str:
    rows = [(f"**{card['id']}** (mean of the members)", card["metrics"]["public_test"])]
    rows += [(f"`{name}`", m) for name, m in card["metrics"]["members_public_test"].items()]
    table = "\n".join(f"| {name} | {m['accuracy']:.3f} | {m['balanced_accuracy']:.3f} | {m['macro_f1']:.3f} | "
                      f"{m['ece']:.3f} | {m['latency_ms_per_face']:.2f} ms |" for name, m in rows)
    return f"""# {card['id']} ({card['version']})

The face arm's default expression model: the mean of the probabilities of its members
({', '.join(m.lstrip('./') for m in card['members'])}), each run on the same aligned face crop at its own input
size. Labels: {', '.join(card['labels'])}; "calm" is not supported.

| model | accuracy | UA (balanced) | macro-F1 | ECE | latency/face (CPU) |
|---|---|---|---|---|---|
{table}

Split: {card['metrics']['public_test']['split']} (n={card['metrics']['public_test']['n']}); the CNN member
was selected on it (epoch choice), so its figures and the ensemble's are slightly optimistic. The official
PrivateTest part is not available here. Licences: each member's card. {rebuild_sentence(card)}
"""


def _model_card_text(card: dict) -> str:
    m = card["metrics"]["public_test"]
    rows = "\n".join(
        f"| {name} | {v['accuracy']:.3f} | {v['balanced_accuracy']:.3f} | {v['macro_f1']:.3f} | {v['ece']:.3f} | "
        f"{v['size_bytes'] / 1024:.0f} KiB | {v['latency_ms_per_face']:.2f} ms |"
        for name, v in (("float (the check's reference, not shipped)", m["float"]), ("INT8 (shipped)", m["int8"])))
    runs = "; ".join(f"seed {r['config']['seed']}, epoch {r['selected_epoch']}, widths {r['config']['widths']}, "
                     f"PublicTest accuracy alone {r['public_test']['accuracy']:.3f}" for r in card["training"]["runs"])
    # Said only where it happened: without fer2013new.csv nothing is dropped (dropped_not_face_rows 0)
    dropped = ", FER+ clear non-faces dropped" if card["training"]["data"].get("dropped_not_face_rows") else ""
    ferplus_licence = "; FER+ votes MIT" if _card_ferplus_uses(card) else ""
    return f"""# {card['id']} ({card['version']})

Facial expression from a 48×48 grey face crop aligned on the eye line; seven canonical labels
({', '.join(card['labels'])}); "calm" is not supported.

- Data: FER-2013 Training ({card['training']['data']['train_rows']} rows{dropped}); each run's
  epoch selected on PublicTest by balanced accuracy; PrivateTest never seen.
- Runs averaged in the graph (logits): {runs}
- Test-time views averaged in the graph (logits): zooms {card['test_time_views']['zooms']} about the centre, each
  with its mirror image.
- INT8: static QDQ, activations 8-bit, weights 7-bit per channel (full-range weights saturate ONNX Runtime's
  integer kernels on CPUs without VNNI); {_requantized_note(card)}
- Licence of the data: FER-2013 states none (web image search, Goodfellow et al. 2013){ferplus_licence}.

| variant | accuracy | UA (balanced) | macro-F1 | ECE | size | latency/face (1 CPU thread) |
|---|---|---|---|---|---|---|
{rows}

Split: {m['float']['split']} (n={m['float']['n']}); its epoch was selected on it, so the figures are somewhat
optimistic. Only the INT8 graph ships; the export leaves the float graph beside the first run (`{FLOAT_FILE}`).
{rebuild_sentence(card)}
"""


def _quantize_check_into(float_path: Path, card: dict, staging: Path, data_root: Path, cache_dir: Path | None,
                         calibration_rows: int, source: Path) -> None:
    """Quantize ``float_path`` into ``staging``, measure both graphs on PublicTest, refuse an INT8 graph that
    loses more than MAX_INT8_LOSS (naming ``source``), and write card.json and MODEL_CARD.md there; ``card``
    gains its files, sha256, version and metrics."""
    train = load_split(data_root, "Training", cache_dir)
    rng = np.random.default_rng(0)
    calibration = train.images[rng.choice(len(train.images), min(calibration_rows, len(train.images)),
                                          replace=False)]
    quantize_int8(float_path, staging / INT8_FILE, calibration)
    card["files"] = {"default": INT8_FILE}
    # A retrained or requantized model must not share a version with the one a fuser learned: the version
    # names the file.
    card["version"] = model_version(file_sha256(staging / INT8_FILE))
    card.pop("metrics", None)
    write_card(staging, card)
    metrics = {}
    for variant, path in (("float", float_path), ("int8", staging / INT8_FILE)):
        probe_dir = Path(tempfile.mkdtemp(prefix="face-variant-"))
        try:
            shutil.copy(path, probe_dir / "model.onnx")
            write_card(probe_dir, {**card, "files": {"default": "model.onnx"}})
            result = evaluate(probe_dir, data_root, cache_dir=cache_dir)
        finally:
            shutil.rmtree(probe_dir, ignore_errors=True)
        metrics[variant] = {**{k: result[k] for k in METRIC_KEYS}, "size_bytes": path.stat().st_size}
    metrics["int8_minus_float_accuracy"] = metrics["int8"]["accuracy"] - metrics["float"]["accuracy"]
    if metrics["int8_minus_float_accuracy"] < -MAX_INT8_LOSS:
        raise InputError(source, f"INT8 model loses {-100 * metrics['int8_minus_float_accuracy']:.1f} "
                         f"points of PublicTest accuracy (at most {100 * MAX_INT8_LOSS:g} allowed); nothing exported")
    card["metrics"] = {"public_test": metrics}
    write_card(staging, card)
    (staging / "MODEL_CARD.md").write_text(_model_card_text(card))


def _requantized_note(card: dict) -> str:
    if "requantized" not in card:
        return "quantized at export."
    return (f"requantized from the float graph (sha256 {card['requantized']['float_sha256'][:12]}…) that "
            f"version {card['requantized']['previous_version']} was quantized from.")
