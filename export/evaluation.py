"""What ``emotrace evaluate audio``, ``face`` and ``physio`` share: where the model is, the resamples asked for, what
of a labelled set a model cannot score, a reason's kind, the figures' line, the label and confusion tables, and the
report's two files. ``unit`` names what a set holds ("clip", "image"): the report's keys and lines are in its words
(``clip_counts``, ``model_labels_without_clips``)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from export.metrics import classification_metrics, group_interval, interval_text
from runtime.errors import InputError
from runtime.files import write_atomically
from runtime.models.card import is_model_id


def resolve_model(model: str | None, models_dir: Path | None, default: str) -> str | Path:
    """Where the model is: an id (``default`` where none is given) under ``models_dir`` (default the repo's
    models/), or a path as given."""
    location = model or default
    if models_dir is None:
        return location
    if not is_model_id(location):
        raise InputError("--models-dir", f"looks up a model id, but --model {location} is a path: give one of them")
    return Path(models_dir) / location


def check_resamples(resamples: int) -> None:
    """An ``InputError`` where fewer than one resample of the interval is asked for."""
    if resamples < 1:
        raise InputError("--resamples", f"must be at least 1, not {resamples}")


def reason_kind(reason: str) -> str:
    """A reason without its figures: the words before its parenthesis ('too little heart or EDA signal in this
    window (heart 37 %, EDA 0 % of it; ...)' -> '... in this window'), so that reasons are counted by kind."""
    return reason.split(" (")[0]


def coverage(emotions: Iterable[str], labels: list[str]) -> tuple[dict[str, int], list[str]]:
    """Counts of the set's ``emotions`` (one per item) that are none of the model's ``labels``, and the model's
    labels no item has."""
    emotions = list(emotions)
    outside = Counter(emotion for emotion in emotions if emotion not in labels)
    present = set(emotions)
    return dict(sorted(outside.items())), [label for label in labels if label not in present]


def scored(y_true: np.ndarray, probs: np.ndarray, claimed: np.ndarray, labels: list[str], unit: str,
           groups: np.ndarray, group_unit: str, resamples: int, seed: int) -> dict[str, Any]:
    """A report's figures of probability rows ``probs`` against true indices ``y_true`` (``claimed`` False where the
    model made no claim): UA, macro-F1, ECE, accuracy, the items (``unit``s) and those without a claim, 95 %
    intervals of UA and macro-F1 over resampled ``groups`` (``group_unit``s), recall, counts and confusion."""
    metrics = classification_metrics(y_true, probs, labels, claimed)
    y_pred = np.where(claimed, probs.argmax(axis=1), -1)
    counts = np.bincount(y_true, minlength=len(labels))
    return {
        "ua": metrics["ua"], "macro_f1": metrics["macro_f1"], "ece": metrics["ece"], "accuracy": metrics["wa"],
        f"{unit}s": metrics["n"], "no_claim": metrics["no_claim"],
        "interval_95": group_interval(y_true, y_pred, groups, len(labels), group_unit, resamples, seed),
        "recall": metrics["recall"],
        f"{unit}_counts": {label: int(n) for label, n in zip(labels, counts, strict=True)},
        "confusion": metrics["confusion"],
    }


def coverage_notes(report: dict[str, Any], unit: str) -> list[str]:
    """The lines for items whose label the model lacks (left out) and model labels no item has (not judged)."""
    lines = []
    if report["outside_model_labels"]:
        counted = ", ".join(f"{label} {n}" for label, n in report["outside_model_labels"].items())
        lines.append(f"{unit}s with labels the model does not have, left out of the figures: {counted}")
    if report[f"model_labels_without_{unit}s"]:
        lines.append(f"model labels with no {unit} in the set, not judged (UA is over the others): "
                     f"{', '.join(report[f'model_labels_without_{unit}s'])}")
    return lines


def figures_line(report: dict[str, Any]) -> str:
    """'UA 0.654 (95 % over images 0.628–0.679), macro-F1 ..., ECE ..., accuracy ...'."""
    interval = report["interval_95"]
    return (f"UA {report['ua']:.3f}{interval_text(interval, 'ua')}, macro-F1 {report['macro_f1']:.3f}"
            f"{interval_text(interval, 'macro_f1')}, ECE {report['ece']:.3f}, accuracy {report['accuracy']:.3f}")


def label_tables(report: dict[str, Any], unit: str, unclaimed: str) -> list[str]:
    """Markdown lines: each model label's items and recall, then the confusion (``unclaimed``: the items it
    leaves out, those the model made no claim on)."""
    labels = report["model"]["labels"]
    lines = [f"| label | {unit}s | recall |", "|---|---|---|"]
    for label in labels:
        recall = report["recall"][label]
        lines.append(f"| {label} | {report[f'{unit}_counts'][label]} | {'—' if recall is None else f'{recall:.3f}'} |")
    lines += ["", f"Confusion (rows true, columns predicted; {unclaimed} left out):", "",
              "| true \\ predicted | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for label, row in zip(labels, report["confusion"]["rows_true_cols_pred"], strict=True):
        lines.append(f"| {label} | " + " | ".join(str(n) for n in row) + " |")
    return lines


def write_report(report: dict[str, Any], out: Path, name: str, markdown: str) -> tuple[Path, Path]:
    """``out``/``name``.json (the report) and .md (``markdown``), each written whole or not at all."""
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / f"{name}.json", out / f"{name}.md"
    write_atomically(json_path, (json.dumps(report, indent=1) + "\n").encode())
    write_atomically(md_path, markdown.encode())
    return json_path, md_path
