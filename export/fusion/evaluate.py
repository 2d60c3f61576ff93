"""The paired comparison of every fusion method against the single modalities, on the same held-out windows.

Learned and accuracy-/calibration-dependent methods are fitted on the training part only; every figure is on
the
test part (people never used for fitting). Conditions: all modalities present, then each modality missing in a
seeded random ``missing_fraction`` of the test windows. Metrics: UA (balanced accuracy over the classes
present),
macro-F1, ECE (``ECE_BINS`` equal-width confidence bins, top label).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from export.fusion.pairs import PairedData
from export.metrics import expected_calibration_error, prediction_metrics
from runtime.fusion import FUSERS, make_fuser
from runtime.fusion.align import FusionInput
from runtime.fusion.base import Fuser, normalise_rows
from runtime.track import CANONICAL_LABELS

DEFAULT_METHODS = ("mean", "accuracy", "accuracy-class", "quality", "product", "stacking", "attention")


def scores(probs: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    figures = prediction_metrics(targets, probs.argmax(1), probs.shape[1])
    return {
        "ua": figures["ua"],
        "macro_f1": figures["macro_f1"],
        "ece": expected_calibration_error(targets, probs),
        "accuracy": figures["wa"],
    }


def single_modality(data: FusionInput, modality: str) -> np.ndarray:
    """One modality on its own; a window where it is missing gets a uniform guess."""
    j = data.modalities.index(modality)
    probs = np.where(data.present[:, j, None], data.probs[:, j], 0.0)
    return normalise_rows(probs)


def with_missing(data: FusionInput, modality: str, fraction: float, seed: int) -> FusionInput:
    rng = np.random.default_rng(seed)
    quality = data.quality.copy()
    j = data.modalities.index(modality)
    quality[rng.random(data.n_windows) < fraction, j] = 0.0
    return data.with_quality(quality)


def scored_probs(fuser: Fuser, data: FusionInput, scored: np.ndarray) -> np.ndarray:
    """The fuser's probabilities for the ``scored`` windows of ``data`` (every window of some sessions), each
    fused as analyze fuses it: a temporal fuser (attention) over every window, so a window's context is the last
    windows of time, labelled or not, claim or none (``Fuser.fuse``); any other over the scored ones alone. The
    spectrum is ``Fuser.probabilities``': masked to the labels the window's modalities can give, as the track's."""
    if fuser.temporal:
        return fuser.probabilities(data)[scored]
    return fuser.probabilities(data.subset(scored))


def fit_methods(
    methods: Sequence[str], train: FusionInput, targets: np.ndarray, weights: dict[str, float] | None = None
) -> dict[str, Fuser]:
    fusers = {}
    for name in methods:
        fuser = make_fuser(name, weights=weights)
        started = time.perf_counter()
        fusers[name] = fuser.fit(train, targets)
        fusers[name].fit_s = round(time.perf_counter() - started, 2)  # type: ignore[attr-defined]
    return fusers


def _check_weights_name_tables(weights: dict[str, float], modalities: Sequence[str]) -> None:
    """Weights naming no table (a typo would leave the "weighted" row equal to the mean), or weighing every
    table's modality 0 (no row to score), are refused in one line."""
    from runtime.errors import InputError
    from runtime.fusion.methods import weighs_any

    unknown = sorted(set(weights) - set(modalities))
    if unknown:
        raise InputError("--weights", f"names no table: {', '.join(unknown)} (tables: {', '.join(modalities)})")
    if weights and not weighs_any(weights, modalities):
        raise InputError("--weights", f"weighs every table ({', '.join(modalities)}) 0: nothing would be fused")


def compare(
    paired: PairedData,
    methods: Sequence[str] = DEFAULT_METHODS,
    missing_fraction: float = 0.3,
    seed: int = 0,
    weights: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Every method and single modality under every condition; the targets checked."""
    from runtime.errors import InputError

    unknown = [m for m in methods if m not in FUSERS]
    if unknown:
        raise InputError("--methods", f"unknown method(s) {', '.join(unknown)}")
    train, train_targets = paired.part("train")
    _check_weights_name_tables(weights or {}, train.modalities)
    test, scored, test_targets = paired.context("test")
    fusers = fit_methods(methods, train, train_targets, weights)
    conditions = {"all present": test}
    for k, modality in enumerate(test.modalities):
        conditions[f"{modality} missing {missing_fraction:.0%}"] = with_missing(
            test, modality, missing_fraction, seed + 1 + k
        )
    results: dict[str, dict[str, dict[str, float]]] = {}
    for condition, data in conditions.items():
        row = {f"{m} only": scores(single_modality(data, m)[scored], test_targets) for m in data.modalities}
        for name, fuser in fusers.items():
            row[name] = scores(scored_probs(fuser, data, scored), test_targets)
        results[condition] = row
    return {
        "data": paired.description,
        "windows": {"train": int(len(train_targets)), "test": int(len(test_targets))},
        "class_counts_test": {
            CANONICAL_LABELS[c]: int(n)
            for c, n in zip(*np.unique(test_targets, return_counts=True), strict=True)
        },
        "missing_fraction": missing_fraction,
        "results": results,
        "targets": check_targets(results, test.modalities, methods, missing_fraction),
        "fitted": {name: f.describe() | {"fit_s": getattr(f, "fit_s", None)} for name, f in fusers.items()},
    }


def check_targets(
    results: dict, modalities: Sequence[str], methods: Sequence[str], missing_fraction: float
) -> dict[str, Any]:
    """Best fusion UA ≥ best single + 5 points; with any one modality missing, the best fusion (chosen on
    "all present") ≥ the best remaining single modality (every modality but the missing one, fully
    present)."""
    full = results["all present"]
    best_single = max(full[f"{m} only"]["ua"] for m in modalities)
    best_method = max(methods, key=lambda m: full[m]["ua"])
    # judged on the gain as the report prints it, to the hundredth of a point: 0.65 + 0.05 is 0.7000000000000001,
    # and a gain of 5 points exactly was "NOT met"
    gain_points = round(100 * (full[best_method]["ua"] - best_single), 2)
    out: dict[str, Any] = {
        "best_single_ua": best_single,
        "best_method": best_method,
        "best_method_ua": full[best_method]["ua"],
        "gain_points": gain_points,
        "gain_met": gain_points >= 5.0,
        "missing": {},
    }
    for modality in modalities:
        condition = f"{modality} missing {missing_fraction:.0%}"
        remaining = [m for m in modalities if m != modality]
        floor = max(full[f"{m} only"]["ua"] for m in remaining) if remaining else 0.0
        per_method = {m: results[condition][m]["ua"] >= floor for m in methods}
        out["missing"][condition] = {
            "best_remaining_single_ua": floor,
            "best_method_ua": results[condition][best_method]["ua"],
            "met_by_best_method": per_method[best_method],
            "met_by": per_method,
        }
    return out


def markdown_report(report: dict[str, Any]) -> str:
    lines = ["| condition | method | UA | macro-F1 | ECE | accuracy |", "|---|---|---|---|---|---|"]
    for condition, row in report["results"].items():
        for method, s in row.items():
            lines.append(
                f"| {condition} | {method} | {s['ua']:.3f} | {s['macro_f1']:.3f} | {s['ece']:.3f} | "
                f"{s['accuracy']:.3f} |"
            )
    t = report["targets"]
    lines += [
        "",
        f"Best method: **{t['best_method']}** UA {t['best_method_ua']:.3f} vs best single "
        f"{t['best_single_ua']:.3f} ({t['gain_points']:+.2f} points; target +5: "  # 4.96 is no "+5.0": NOT met
        f"{'met' if t['gain_met'] else 'NOT met'}).",
    ]
    for condition, m in t["missing"].items():
        lines.append(
            f"- {condition}: {t['best_method']} UA {m['best_method_ua']:.3f} vs best remaining single "
            f"{m['best_remaining_single_ua']:.3f} — {'met' if m['met_by_best_method'] else 'NOT met'}"
        )
    if "repeats" in report:
        rep = report["repeats"]
        lines += [
            "",
            f"Over {rep['seeds']} seeds (people splits and pairings), mean ± sd:",
            "",
            "| condition | method | UA | macro-F1 | ECE |",
            "|---|---|---|---|---|",
        ]
        for condition, row in rep["results"].items():
            for method, m in row.items():
                lines.append(
                    f"| {condition} | {method} | {m['ua']['mean']:.3f} ± {m['ua']['sd']:.3f} | "
                    f"{m['macro_f1']['mean']:.3f} ± {m['macro_f1']['sd']:.3f} | "
                    f"{m['ece']['mean']:.3f} ± {m['ece']['sd']:.3f} |"
                )
        met = rep["targets_met"]
        lines += [
            "",
            f"Targets met: gain in {met['gain']}/{rep['seeds']} seeds, missing-modality floor in "
            f"{met['missing']}/{rep['seeds']}; best method per seed: "
            f"{', '.join(rep['best_method_per_seed'])}",
        ]
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    from runtime.files import write_atomically

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "fusion_report.json", out_dir / "fusion_report.md"
    write_atomically(json_path, (json.dumps(report, indent=1, default=str) + "\n").encode())
    write_atomically(md_path, markdown_report(report).encode())
    return json_path, md_path
