"""Face-model figures under the names the face cards use (accuracy, balanced accuracy = UA, macro-F1, ECE,
per-class recall), computed by the shared ``export.metrics``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from export.metrics import classification_metrics


def classification_report(labels: np.ndarray, probs: np.ndarray, label_names: Sequence[str]) -> dict:
    metrics = classification_metrics(labels, probs, list(label_names))
    return {
        "n": metrics["n"],
        "accuracy": metrics["wa"],
        "balanced_accuracy": metrics["ua"],
        "macro_f1": metrics["macro_f1"],
        "ece": metrics["ece"],
        "per_class_recall": metrics["recall"],
        "confusion": metrics["confusion"]["rows_true_cols_pred"],
        "labels": list(label_names),
    }
