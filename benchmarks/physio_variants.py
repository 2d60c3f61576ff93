"""Variants of the stress model scored by leave-one-subject-out on the development subjects only.

    emotrace train physio ../shared/data/physio/stress_predict --out runs/physio --cache runs/physio-cache
    python benchmarks/physio_variants.py ../shared/data/physio/stress_predict --cache runs/physio-cache

Every variant starts from the shipped model's inputs (``export.physio.train.subject_xy``: 15 statistics,
session rank, 30-minute local baseline, two-minute context) and differs in one thing:

- ``lead``: the inputs of the window k hops later (k > 0) or earlier (k < 0) label window t. The body answers
  a stressor with a delay (heart rate in seconds, skin conductance and its recovery over minutes); a recorded
  session can look ahead, so a lead would re-align the response with the event that caused it.
- ``stack``: the inputs at several offsets side by side, so the classifier learns the response's time course.
- ``boosting`` and ``mean``: gradient boosting alone and averaged with the logistic regression.

The held-out subjects are not scored: a variant that wins here is then measured once by ``train physio``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from export.physio import train as shipped  # noqa: E402
from export.physio.dataset import load_dataset  # noqa: E402
from runtime.arms.physio.features import MEASUREMENTS  # noqa: E402
from runtime.arms.physio.model import model_inputs  # noqa: E402
from runtime.errors import InputError  # noqa: E402

# (name, offsets in hops, classifier); 12 hops of 5 s = one minute.
VARIANTS: tuple[tuple[str, tuple[int, ...], str], ...] = (
    ("shipped", (0,), "logistic"),
    ("lead +15 s", (3,), "logistic"),
    ("lead +30 s", (6,), "logistic"),
    ("lead +45 s", (9,), "logistic"),
    ("lead +60 s", (12,), "logistic"),
    ("lag -15 s", (-3,), "logistic"),
    ("stack 0, ±30 s", (0, -6, 6), "logistic"),
    ("stack 0, ±60 s", (0, -12, 12), "logistic"),
    ("stack 0, ±60, ±120 s", (0, -12, 12, -24, 24), "logistic"),
    ("boosting", (0,), "boosting"),
    ("mean of logistic and boosting", (0,), "mean"),
)


def shifted(x: np.ndarray, offsets: tuple[int, ...]) -> np.ndarray:
    """Row t gets the rows t + k for each offset k side by side; beyond the recording's ends the end row."""
    rows = np.arange(len(x))
    return np.hstack([x[np.clip(rows + k, 0, len(x) - 1)] for k in offsets])


def subject_table(subject, offsets: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    columns = [MEASUREMENTS.index(name) for name in shipped.MODEL_FEATURES]
    x = model_inputs(subject.features[:, columns], subject.quality, shipped.CONTEXT_WINDOWS, shipped.SCALING,
                     shipped.LOCAL_BASELINE_WINDOWS)
    keep = np.isfinite(subject.stress_fraction) & (subject.quality > 0)
    return shifted(x, offsets)[keep], (subject.stress_fraction[keep] >= 0.5).astype(int)


def classifiers(kind: str, x: np.ndarray, y: np.ndarray) -> list:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    fitted = []
    if kind in ("logistic", "mean"):
        fitted.append(LogisticRegression(C=shipped.REGULARISATION_C, solver="liblinear",
                                         class_weight="balanced").fit(x, y))
    if kind in ("boosting", "mean"):
        fitted.append(HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15,
                                                     min_samples_leaf=100, class_weight="balanced",
                                                     random_state=0).fit(x, y))
    return fitted


def development_loso(subjects: list, offsets: tuple[int, ...], kind: str) -> dict:
    tables = {s.subject: subject_table(s, offsets) for s in subjects}
    predictions = {}
    for name, (x, y) in tables.items():
        train = [t for t in tables if t != name]
        fitted = classifiers(kind, np.vstack([tables[t][0] for t in train]),
                             np.concatenate([tables[t][1] for t in train]))
        predictions[name] = (np.mean([m.predict_proba(x)[:, 1] for m in fitted], axis=0), y)
    return shipped.evaluate(predictions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the Stress-Predict folder")
    parser.add_argument("--cache", type=Path, help="the feature cache of 'emotrace train physio --cache'")
    args = parser.parse_args()
    if not (args.data / "raw").is_dir():
        raise SystemExit(f"{args.data}: not a Stress-Predict folder (no raw/ with SXX.zip)")
    try:
        subjects = load_dataset(args.data, shipped.WINDOW_S, shipped.HOP_S, cache_dir=args.cache)
    except InputError as error:
        raise SystemExit(str(error)) from None
    development = [s for s in subjects if s.subject not in shipped.HELD_OUT_SUBJECTS]
    print(f"development subjects: {len(development)}, leave-one-subject-out")
    print("| variant | BA | macro-F1 | ECE | per-subject BA mean (min) |\n|---|---|---|---|---|")
    for name, offsets, kind in VARIANTS:
        m = development_loso(development, offsets, kind)
        print(f"| {name} | {m['balanced_accuracy']:.3f} | {m['macro_f1']:.3f} | {m['ece']:.3f} | "
              f"{m['per_subject_ba_mean']:.3f} ({m['per_subject_ba_min']:.2f}) |", flush=True)


if __name__ == "__main__":
    main()
