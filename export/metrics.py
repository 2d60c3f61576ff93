"""Classification metrics every training-host report and model card uses: UA, WA, macro-F1, per-class recall,
confusion, ECE — one implementation for every modality and for fusion, from probabilities
(``classification_metrics``) or from predicted labels alone (``prediction_metrics``); and their spread over
people (``group_bootstrap_intervals``).

Definitions:
- UA (unweighted accuracy) = balanced accuracy = the mean over classes of each class's recall.
- WA (weighted accuracy) = plain accuracy over all items.
- macro-F1 = the unweighted mean of per-class F1.
- ECE (expected calibration error) = sum over 10 equal-width confidence bins of
  (items in bin / all items) * |accuracy in bin - mean top-class probability in bin|; the bins span [0, 1]
  (``confidence_floor`` narrows them, e.g. to [0.5, 1] for a two-class model whose confidence is never below 0.5).
An item the model made no claim on (a clip without a speech window) counts as wrong (predicted -1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from export import BOOTSTRAP_RESAMPLES

ECE_BINS = 10


def classification_metrics(y_true: np.ndarray, probs: np.ndarray, labels: list[str],
                           claimed: np.ndarray | None = None) -> dict[str, Any]:
    """Metrics of probability rows ``probs`` (n, k) against true indices ``y_true`` (n,).

    Rows where ``claimed`` is False count as a wrong prediction, with uniform probabilities for the ECE.
    """
    y_true = np.asarray(y_true, dtype=int)
    probs = np.asarray(probs, dtype=np.float64)
    k = len(labels)
    claimed = np.ones(y_true.size, dtype=bool) if claimed is None else np.asarray(claimed, dtype=bool)
    probs = np.where(claimed[:, None], probs, 1.0 / k)
    y_pred = np.where(claimed, probs.argmax(axis=1), -1)
    confusion, recall, f1, present = _per_class(y_true, y_pred, k)
    return {
        "n": int(y_true.size),
        "no_claim": int((~claimed).sum()),
        **_summary(y_true, y_pred, recall, f1, present),
        "ece": expected_calibration_error(y_true, probs, predicted=y_pred),  # an unclaimed row is never right
        # a label with no true rows has no recall (null), not a recall of 0 that would read as a failing class
        "recall": {label: float(r) if has else None for label, r, has in zip(labels, recall, present, strict=True)},
        "confusion": {"labels": list(labels), "rows_true_cols_pred": confusion.tolist()},
    }


def prediction_metrics(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict[str, float]:
    """UA, WA and macro-F1 of predicted label indices ``y_pred`` (-1 where no claim was made) against true indices
    ``y_true``, both (n,), for a result that has labels but no probabilities (a thresholded score, a vote)."""
    y_true, y_pred = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)
    _, recall, f1, present = _per_class(y_true, y_pred, n_classes)
    return _summary(y_true, y_pred, recall, f1, present)


DRAWN_GROUPS_AT_ONCE = 2_000_000  # group indices (or a draw's confusion counts) in one block: any --resamples fits


def group_bootstrap_intervals(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray, n_classes: int,
                              resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0,
                              every_class: bool = False) -> dict[str, list[float]]:
    """95 % intervals (2.5 and 97.5 percentiles) of UA and macro-F1 when the groups (speakers, subjects) are drawn
    again with replacement, each bringing all its items; ``y_pred`` as for ``prediction_metrics``. Each draw is
    ``len(names)`` integers from ``default_rng(seed)`` indexing the sorted names of the groups the items name (so a
    group without items, named nowhere in ``groups``, is never drawn), scored as ``prediction_metrics`` scores the
    items it brings: the sums of the groups' confusions stand in for that loop.

    Groups, not items, are the unit: one person's items share a voice or a body, so resampling items would
    understate how much the figure moves from one set of people to the next. A draw lacking a class scores the
    classes it has, as UA does; with ``every_class`` it is left out instead (a two-class balanced accuracy over
    people none of whom was stressed is no balanced accuracy), and the intervals are NaN if every draw lacks one.
    """
    y_true, y_pred, groups = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int), np.asarray(groups)
    names = np.unique(groups)
    k = n_classes
    # each group's confusion and support, flat: a draw's are the sums over the groups it holds
    counts = np.stack([np.concatenate([confusion.ravel(), support]) for confusion, support in
                       (_counts(y_true[groups == name], y_pred[groups == name], k) for name in names)])
    rng = np.random.default_rng(seed)
    # the draws in blocks: the same figures in bounded memory, whether a draw is long (many groups) or its confusion
    # counts are (few groups of many classes)
    rows = max(1, DRAWN_GROUPS_AT_ONCE // max(len(names), counts.shape[1]))
    blocks = [_drawn_figures(rng, min(rows, resamples - start), counts, k, every_class)
              for start in range(0, resamples, rows)]
    figures = {name: np.concatenate([np.empty(0), *(block[name] for block in blocks)]) for name in ("ua", "macro_f1")}
    if not figures["ua"].size:
        return {"ua": [float("nan")] * 2, "macro_f1": [float("nan")] * 2}
    return {name: [float(v) for v in np.percentile(values, [2.5, 97.5])] for name, values in figures.items()}


def _drawn_figures(rng: np.random.Generator, resamples: int, counts: np.ndarray, k: int,
                   every_class: bool) -> dict[str, np.ndarray]:
    """UA and macro-F1 of ``resamples`` draws of the groups whose flat confusions and supports are the rows of
    ``counts``, each draw ``len(counts)`` integers from ``rng``; the draws ``every_class`` leaves out dropped."""
    groups = len(counts)
    draws = rng.integers(0, groups, (resamples, groups))
    times_drawn = np.zeros((resamples, groups))
    np.add.at(times_drawn, (np.arange(resamples)[:, None], draws), 1)
    totals = times_drawn @ counts  # whole numbers, exact in float64
    recall, f1, present = _rates(totals[:, :k * k].reshape(-1, k, k), totals[:, k * k:])
    kept = present.all(axis=1) if every_class else present.any(axis=1)
    return {name: np.where(present, values, 0.0)[kept].sum(axis=1) / present[kept].sum(axis=1)
            for name, values in (("ua", recall), ("macro_f1", f1))}


FEW_GROUPS = 5  # fewer groups than this: an interval over them rests on too few draws to be more than rough


def few_groups_note(count: int, unit: str) -> str:
    """What an interval over ``count`` groups (``unit``s) cannot claim: over one, no interval at all; under
    ``FEW_GROUPS``, it is rough; '' otherwise."""
    if count < 2:
        return f"one {unit}: no interval over {unit}s"  # one group drawn again is the same group: no spread
    if count < FEW_GROUPS:
        return f"{count} {unit}s: an interval over so few is rough (each draw is one of few combinations)"
    return ""


def interval_notes(figures: dict[str, dict[str, Any]]) -> list[str]:
    """The distinct notes (``few_groups_note``) of the ``interval_95`` of each of a report's ``figures``, sorted."""
    return sorted({m["interval_95"]["note"] for m in figures.values() if m.get("interval_95", {}).get("note")})


def group_interval(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray, n_classes: int, unit: str,
                   resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> dict[str, Any]:
    """``group_bootstrap_intervals`` as a report carries it: the UA and macro-F1 intervals with what they were drawn
    over (``resamples``, ``unit``, such as "speaker", and ``seed``), and a ``note`` where the groups are fewer than
    ``FEW_GROUPS`` (rough); over one group, the note alone (one group drawn again is the same group: no spread)."""
    count = len(np.unique(np.asarray(groups)))
    note = few_groups_note(count, unit)
    if count < 2:
        return {"note": note}
    interval: dict[str, Any] = group_bootstrap_intervals(y_true, y_pred, groups, n_classes, resamples, seed)
    interval |= {"resamples": resamples, "unit": unit, "seed": seed}
    return interval | ({"note": note} if note else {})


def interval_range(interval: dict[str, Any], name: str) -> str:
    """'0.612–0.701' for figure ``name`` of a ``group_interval`` (a table's cell); '' where it has none."""
    low_high = interval.get(name)
    return f"{low_high[0]:.3f}–{low_high[1]:.3f}" if low_high else ""


def interval_text(interval: dict[str, Any], name: str) -> str:
    """' (95 % over speakers 0.612–0.701)' for figure ``name`` of a ``group_interval``; '' where it has none."""
    low_high = interval_range(interval, name)
    return f" (95 % over {interval.get('unit', 'group')}s {low_high})" if low_high else ""


def _per_class(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """Confusion (rows true, columns predicted; unclaimed rows left out), per-class recall and F1, and which
    classes have true rows."""
    confusion, support = _counts(y_true, y_pred, k)
    return confusion, *_rates(confusion, support)


def _counts(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The confusion (k, k) of the claimed rows and each class's true rows (support, unclaimed ones too)."""
    confusion = np.zeros((k, k), dtype=int)
    claimed = y_pred >= 0
    np.add.at(confusion, (y_true[claimed], y_pred[claimed]), 1)
    return confusion, np.bincount(y_true, minlength=k)


def _rates(confusion: np.ndarray, support: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class recall and F1 and which classes have true rows, of one confusion (k, k) and support (k,) or of a
    stack of them (n, k, k) and (n, k)."""
    hits = np.diagonal(confusion, axis1=-2, axis2=-1)
    recall = np.divide(hits, support, out=np.zeros(support.shape), where=support > 0)
    predicted = confusion.sum(axis=-2)
    precision = np.divide(hits, predicted, out=np.zeros(predicted.shape), where=predicted > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(recall.shape), where=precision + recall > 0)
    return recall, f1, support > 0


def _summary(y_true: np.ndarray, y_pred: np.ndarray, recall: np.ndarray, f1: np.ndarray,
             present: np.ndarray) -> dict[str, float]:
    """UA and macro-F1 over the classes with true rows (a class only ever predicted adds no recall), and WA."""
    return {
        "ua": float(recall[present].mean()) if present.any() else 0.0,
        "wa": float((y_pred == y_true).mean()) if y_true.size else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
    }


def expected_calibration_error(y_true: np.ndarray, probs: np.ndarray, n_bins: int = ECE_BINS,
                               confidence_floor: float = 0.0, predicted: np.ndarray | None = None) -> float:
    """ECE of the top-class probability over ``n_bins`` equal-width bins from ``confidence_floor`` to 1;
    ``predicted``: the label each row was given where not its argmax (-1 where none was)."""
    if len(y_true) == 0:
        return 0.0
    probs = np.asarray(probs, dtype=np.float64)
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) if predicted is None else np.asarray(predicted)) == np.asarray(y_true)
    position = (confidence - confidence_floor) / (1.0 - confidence_floor)
    # rounded before the floor: a confidence on an edge (0.6 over [0.5, 1] is 1.9999999999999996 bins up) opens the
    # bin above it, as 0.55 and 0.65 do theirs
    bins = np.clip(np.floor(np.round(position * n_bins, 9)).astype(int), 0, n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        inside = bins == b
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(ece)


def markdown_table(rows: dict[str, dict[str, Any]]) -> str:
    """A markdown table of UA / WA / macro-F1 / ECE, one row per named result."""
    lines = ["| result | UA | WA | macro-F1 | ECE | n | no claim |", "|---|---|---|---|---|---|---|"]
    for name, m in rows.items():
        lines.append(f"| {name} | {m['ua']:.3f} | {m['wa']:.3f} | {m['macro_f1']:.3f} | {m['ece']:.3f} | "
                     f"{m['n']} | {m['no_claim']} |")
    return "\n".join(lines)


def paired_gain(per_subject_ba: dict[str, float], reference: dict[str, float]) -> str:
    """Mean per-subject gain over the reference ± its standard error, and how many subjects gain: the same
    people under both, so the spread between people drops out of the comparison."""
    gains = np.array([per_subject_ba[s] - reference[s] for s in reference if s in per_subject_ba])
    if len(gains) < 2:
        return "—"
    standard_error = gains.std(ddof=1) / np.sqrt(len(gains))
    return f"{gains.mean():+.3f} ± {standard_error:.3f} ({int(np.sum(gains > 0))}/{len(gains)})"

