"""``emotrace train body``: a softmax regression over the body arm's window measurements, learned from the
user's labelled segments (manifest CSV: ``video,start_s,end_s,label``), exported as ONNX with a card.

Features are exactly what the device computes (the body arm's own windows, relative to each video's session
baseline). With two or more videos the report gives leave-one-video-out balanced accuracy and macro-F1.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from export.fitting import two_class_logits
from export.install import check_install_target, installing, model_version, write_card
from export.metrics import prediction_metrics
from runtime.checks import column_taken
from runtime.errors import InputError
from runtime.files import check_output_folder, read_csv_rows
from runtime.models.card import file_sha256
from runtime.timeline import CSV_FIXED_COLUMNS
from runtime.track import given_label, label_order

FEATURES = ("movement_overall_rel", "movement_head_rel", "movement_hands_rel", "movement_torso_rel",
            "fidgeting_rel", "stillness", "self_touch", "openness_rel", "head_down", "lean_forward",
            "lean_sideways_deg", "activation")


def read_manifest(path: Path) -> list[dict]:
    path = Path(path)
    header, rows = read_csv_rows(path, "CSV manifest")  # a missing file or a folder said in its own words
    if not set(header) >= MANIFEST_COLUMNS:
        raise InputError(path, "manifest needs the columns video,start_s,end_s,label")
    if not rows:
        raise InputError(path, "manifest has its header alone: no labelled segment to train on")
    segments = [_segment(path, line, row) for line, row in rows]
    taken = sorted(label for label in {s["label"] for s in segments} if column_taken(label))
    if taken:  # a label is a column of timeline.csv, as each measurement is
        raise InputError(path, f"label {taken[0]!r} is the name of a timeline column (a measurement, a "
                               f"quality_<track>, or one of {', '.join(CSV_FIXED_COLUMNS)}); name it otherwise")
    return segments


MANIFEST_COLUMNS = {"video", "start_s", "end_s", "label"}


def _segment(path: Path, number: int, row: dict) -> dict:
    if any(not row[column].strip() for column in MANIFEST_COLUMNS):
        raise InputError(path, f"line {number}: needs a video, start_s, end_s and a label")
    video = Path(row["video"]) if Path(row["video"]).is_absolute() else path.parent / row["video"]
    try:
        start_s, end_s = float(row["start_s"]), float(row["end_s"])
    except ValueError:
        raise InputError(path, f"line {number}: start_s/end_s must be numbers") from None
    if not (math.isfinite(start_s) and math.isfinite(end_s)) or start_s < 0 or end_s <= start_s:
        raise InputError(path, f"line {number}: needs 0 <= start_s < end_s, both finite")
    label = given_label(row["label"])  # as train audio --labels-as-given reads a label: 'Joy' is happy
    if not label:
        raise InputError(path, f"line {number}: label {row['label']!r} holds no word")
    return {"video": video, "start_s": start_s, "end_s": end_s, "label": label}


def segment_windows(segments: list[dict], settings=None) -> tuple[np.ndarray, list[str], list[str]]:
    """Feature rows of the body windows that lie inside labelled segments, their labels and videos."""
    from runtime.arms.body.arm import BodySettings, body_track
    from runtime.arms.video.scan import scan_video, video_duration_s
    from runtime.media import probe

    settings = settings or BodySettings()
    rows, labels, videos = [], [], []
    for video in sorted({s["video"] for s in segments}):
        scan = scan_video(video, None, settings, sample_fps=settings.sample_fps)
        track = body_track(scan, video_duration_s(scan, probe(video).end_s, settings.sample_fps), settings)
        for segment in (s for s in segments if s["video"] == video):
            for window in track.windows:
                inside = window.start_s >= segment["start_s"] - 1e-6 and window.end_s <= segment["end_s"] + 1e-6
                if inside and window.quality > 0:
                    rows.append([window.measurements.get(name, np.nan) for name in FEATURES])
                    labels.append(segment["label"])
                    videos.append(str(video))
    return np.array(rows, dtype=np.float64).reshape(-1, len(FEATURES)), labels, videos


def fit(x: np.ndarray, y: np.ndarray, n_classes: int):
    from sklearn.linear_model import LogisticRegression

    fill = np.nanmedian(x, axis=0)
    fill = np.where(np.isfinite(fill), fill, 0.0)
    x = np.where(np.isfinite(x), x, fill)
    mean, std = x.mean(axis=0), x.std(axis=0)
    std = np.where(std > 1e-9, std, 1.0)
    classifier = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced").fit((x - mean) / std, y)
    weights = np.zeros((x.shape[1], n_classes))
    bias = np.full(n_classes, -1e4)  # a class absent from this fold never wins
    layer = (classifier.coef_.T, classifier.intercept_)
    weights[:, classifier.classes_], bias[classifier.classes_] = (
        layer if len(classifier.classes_) > 2 else two_class_logits(*layer))  # two: one logit, of the second
    return fill, mean, std, weights, bias


def onnx_graph(mean: np.ndarray, std: np.ndarray, weights: np.ndarray, bias: np.ndarray):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits = [numpy_helper.from_array(a.astype(np.float32), name) for a, name in
             ((mean, "mean"), (std, "std"), (weights, "weights"), (bias, "bias"))]
    nodes = [helper.make_node("Sub", ["features", "mean"], ["centred"]),
             helper.make_node("Div", ["centred", "std"], ["scaled"]),
             helper.make_node("MatMul", ["scaled", "weights"], ["logits0"]),
             helper.make_node("Add", ["logits0", "bias"], ["logits"]),
             helper.make_node("Softmax", ["logits"], ["probs"], axis=1)]
    graph = helper.make_graph(
        nodes, "body_classifier",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", len(mean)])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["n", weights.shape[1]])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


def train_body(manifest: Path, out_dir: Path) -> Path:
    """Learn from the manifest's segments and install the model folder ``out_dir``, which is checked before the
    videos are scanned: new, empty, or an earlier ``train body`` model, kept whole until the new one is complete."""
    segments = read_manifest(manifest)
    out_dir = check_install_target(check_output_folder(Path(out_dir)), task=BODY_TASK)
    return _train(manifest, segments, out_dir)


BODY_TASK = "body-language classes from body window measurements"


def _leave_one_video_out(x: np.ndarray, y: np.ndarray, videos: list[str], n_classes: int) -> dict:
    """Each video's windows judged by a classifier fitted on the other videos'; a video whose others hold one
    label alone (one video a label, say) cannot be judged so, and is named instead."""
    judged = np.zeros(len(y), dtype=bool)
    predicted = np.zeros_like(y)
    unjudged = []
    for video in sorted(set(videos)):
        held = np.array([v == video for v in videos])
        if len(np.unique(y[~held])) < 2:
            unjudged.append(video)
            continue
        fill, mean, std, weights, bias = fit(x[~held], y[~held], n_classes)
        scores = ((np.where(np.isfinite(x[held]), x[held], fill) - mean) / std) @ weights + bias
        predicted[held], judged[held] = scores.argmax(axis=1), True
    if not judged.any():
        return {"not_measured": "every video's others hold one label alone"}
    figures = prediction_metrics(y[judged], predicted[judged], n_classes)
    result = {"balanced_accuracy": figures["ua"], "macro_f1": figures["macro_f1"], "windows": int(judged.sum())}
    if unjudged:
        result["videos_not_judged"] = unjudged  # their others hold one label alone
    return result


def _train(manifest: Path, segments: list[dict], out_dir: Path) -> Path:
    x, label_names, videos = segment_windows(segments)
    labels = label_order(label_names)
    if len(labels) < 2 or len(x) < 4:
        raise InputError(manifest, "needs at least two labels and four body windows inside the segments")
    y = np.array([labels.index(label) for label in label_names])
    report: dict = {"windows": int(len(y)), "videos": len(set(videos)), "labels": labels}
    if len(set(videos)) >= 2:
        report["leave_one_video_out"] = _leave_one_video_out(x, y, videos, len(labels))
    fill, mean, std, weights, bias = fit(x, y, len(labels))
    with installing(out_dir) as staging:  # an earlier model stays whole until this one is complete
        graph = staging / "body_classifier.onnx"
        graph.write_bytes(onnx_graph(mean, std, weights, bias).SerializeToString())
        card = {
            # dated, with its graph's digest: a retrained model never shares a version with the one a fuser learned
            # from (--arm-model body=<id>@<version>)
            "id": out_dir.name, "version": model_version(file_sha256(graph)), "task": BODY_TASK,
            "labels": labels, "files": {"default": "body_classifier.onnx"}, "sha256": {},
            "features": list(FEATURES), "fill": [float(v) for v in fill], "metrics": report,
            "licence": {"training_data": f"the user's own labelled segments ({Path(manifest).name})"},
        }
        write_card(staging, card)
    return out_dir
