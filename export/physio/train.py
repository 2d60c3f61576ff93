"""Train the stress model on Stress-Predict with subject-independent evaluation.

Protocol (written into report.json):
1. development subjects: leave-one-subject-out cross-validation (the figure used to choose settings);
2. held-out subjects (no setting chosen on them, though scored after each choice: docs/physio.md): a model trained on
   all development subjects;
3. the shipped model: refit on every labelled subject with the same settings.
The classifier (2.3.0) is the mean of a logistic regression's and three small MLPs' stress probabilities. Since
2.4.0 every training session also enters as the sources that lack channels would deliver it (``SOURCES``), so
that one model serves the E4, the serial board, a BLE strap and an EDA sensor alone.
Training and evaluation keep every labelled window with quality > 0 and call it stress when at least half of its
labelled seconds are (``MIXED_LABELS`` can leave the mixed ones out of training; it gained nothing).
"""

from __future__ import annotations

import glob
import json
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from export import BOOTSTRAP_RESAMPLES
from export.fitting import fit_or_interrupt
from export.metrics import expected_calibration_error, few_groups_note, group_bootstrap_intervals, prediction_metrics
from export.physio.dataset import (
    CACHE_SUFFIX,
    LABEL_FILES_TEXT,
    SubjectWindows,
    label_file,
    load_dataset,
    load_labels,
    stress_label,
)
from runtime.arms.physio.features import MEASUREMENTS
from runtime.arms.physio.model import INPUT_SCOPES
from runtime.arms.physio.readers.e4 import check_e4_zip
from runtime.arms.physio.stress import PhysioSettings, called_stress
from runtime.errors import InputError
from runtime.files import RunFolder, check_output_folder, write_atomically, writing_folder

# Chosen by leave-one-subject-out on the development subjects (export/physio/study.py, docs/physio.md): the
# channels as delivered beat the cleaned measurements (0.782 vs 0.743 with all 22 and a z-score); dropping
# seven of them one at a time by the same criterion (TEMP sd and slope, ACC magnitude sd and x axis, SCR
# count, HR sd and max) and ranking each over the session with a 30-minute local baseline: 0.826.
HEART_FEATURES = ("hr_channel_bpm", "hr_min_bpm", "ibi_mean_s", "ibi_sd_s", "ibi_rmssd_s")
EDA_FEATURES = ("eda_mean_us", "eda_sd_us", "eda_slope_us_per_min", "eda_highpass_tonic_us", "eda_phasic_sd_us",
                "eda_phasic_max_us", "scr_amplitude_sum_us")  # fmt: skip
MOTION_FEATURES = ("acc_magnitude_mean_g", "acc_z_mean_g")
MODEL_FEATURES: tuple[str, ...] = (*HEART_FEATURES, *EDA_FEATURES, "temp_c", *MOTION_FEATURES)
HELD_OUT_SUBJECTS: tuple[str, ...] = ("S04", "S09", "S13", "S17", "S21", "S25", "S28")
# 30 s windows (2.2.0; 60 s until 2.1.0): on the development subjects as good as 60 s (leave-one-subject-out BA
# 0.827 vs 0.826, ECE 0.025 vs 0.030; 20 s 0.825, benchmarks/physio_variants.py), twice as fine in time and
# within the 10-30 s the issue asks for; the two-minute context and the local baseline carry the longer view.
WINDOW_S = 30.0
HOP_S = 5.0
CONTEXT_WINDOWS = 25  # 25 windows x 5 s hop: a centred two-minute neighbourhood
# 361 windows x 5 s hop: a centred 30-minute local baseline; near the ends of a recording the filter repeats
# the first (last) window, so there the baseline leans on the session's first (last) minutes.
LOCAL_BASELINE_WINDOWS = 361
SCALING = "rank"  # normal scores of the session ranks (windows with quality > 0)
REGULARISATION_C = 0.1
# 2.3.0: the logistic regression's stress probability averaged with three small MLPs' (one hidden layer of 16
# ReLU units, L2 alpha 1, seeds 0-2, stress windows repeated to balance the classes). Chosen on the development
# subjects (leave-one-subject-out BA 0.837 vs 0.827, 13 of 20 gaining, benchmarks/physio_variants.py), then
# scored once on the held-out ones: 0.766 vs 0.750 (5 of 7 gaining, none losing more than 0.002).
MLP_HIDDEN_UNITS = 16
MLP_ALPHA = 1.0
MLP_SEEDS = (0, 1, 2)
MLP_MAX_ITER = 300
LIVE_BASELINE_S = PhysioSettings().live_baseline_s  # a live session's stress figures start there
MIXED_LABELS = None  # train on every labelled window with its label (``stress_label``; dropping mixed ones: no gain)


class Source(NamedTuple):
    """A kind of sensor, simulated on the E4 recordings."""

    name: str
    without: tuple[str, ...]  # recording channels it lacks: its features are computed again without them
    available: tuple[str, ...]  # the MODEL_FEATURES statistics it delivers (the others are missing)


E4 = Source("every channel (E4)", (), MODEL_FEATURES)
SERIAL_BOARD = Source("the serial board: pulse wave, EDA, skin temperature", ("hr", "ibi", "acc"),
                      tuple(n for n in MODEL_FEATURES if n not in MOTION_FEATURES))  # fmt: skip
BLE_STRAP = Source("heart rate and beat intervals (a BLE strap)", (), HEART_FEATURES)
EDA_ONLY = Source("EDA only", (), EDA_FEATURES)
# 2.4.0: every training session enters once per source. A model trained on the E4 alone leans on statistics a
# board or a strap never delivers; trained on all four it keeps the E4 figure (development leave-one-subject-out
# 0.841 vs 0.837, +0.004 +- 0.006 per subject) and gains with fewer channels: the serial board 0.797 vs 0.781,
# a BLE strap 0.756 vs 0.743, EDA only 0.764 vs 0.731 (benchmarks/physio_channels.py). The board's own
# recomputed features matter: hiding the E4's accelerometer instead gained nothing for it (0.783, the same
# script). Then scored once on the held-out subjects: E4 0.773 vs 0.766, board 0.755 vs 0.710, strap 0.642 vs
# 0.648, EDA 0.712 vs 0.670.
SOURCES: tuple[Source, ...] = (E4, SERIAL_BOARD, BLE_STRAP, EDA_ONLY)
Windows = dict[tuple[str, ...], dict[str, SubjectWindows]]  # left-out channels -> subject id -> windows


@dataclass
class TrainReport:
    data: dict
    out_dir: Path

    def summary(self) -> str:
        lines = [f"{self.out_dir}: physio stress model trained"]
        for name in ("development_loso", "held_out", "all_subjects_loso"):
            m = self.data["metrics"][name]
            low, high = m["ba_interval_95"]
            note = few_groups_note(m["subjects"], "subject")
            interval = note if m["subjects"] < 2 else f"95 % over subjects {low:.3f}-{high:.3f}" + (
                f"; {note}" if note else "")
            lines.append(
                f"  {name}: BA {m['balanced_accuracy']:.3f} ({interval}), "
                f"macro-F1 {m['macro_f1']:.3f}, "
                f"ECE {m['ece']:.3f}, per-subject BA {per_subject_text(m)}, "
                f"{m['subjects']} subjects, {m['windows']} windows"
            )
        return "\n".join(lines)


def load_sources(
    data_dir: Path,
    sources: tuple[Source, ...] = SOURCES,
    cache_dir: Path | None = None,
    subjects: list[str] | None = None,
) -> Windows:
    """Every labelled subject's windows, once per distinct set of channels the ``sources`` leave out."""
    windows: Windows = {}
    for without in dict.fromkeys(source.without for source in sources):
        loaded = load_dataset(data_dir, WINDOW_S, HOP_S, subjects=subjects, cache_dir=cache_dir, without=without)
        windows[without] = {s.subject: s for s in loaded}
    return windows


def source_features(subject: SubjectWindows, source: Source) -> np.ndarray:
    """The subject's MODEL_FEATURES as the source delivers them: the statistics it lacks are missing (NaN), which
    the session scaling puts at the centre (0), as on the device."""
    features = subject.features[:, [MEASUREMENTS.index(name) for name in MODEL_FEATURES]].copy()
    for j, name in enumerate(MODEL_FEATURES):
        if name not in source.available:
            features[:, j] = np.nan
    return features


def source_xy(windows: Windows, subject: str, source: Source, for_training: bool,
              scope: str = "session") -> tuple[np.ndarray, np.ndarray]:
    """Model inputs and labels of one subject's session as ``source`` would have recorded it."""
    session = windows[source.without][subject]
    return subject_xy(session, for_training, source_features(session, source), scope)


def subject_xy(
    subject: SubjectWindows, for_training: bool, features: np.ndarray | None = None, scope: str = "session"
) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs and 0/1 labels of the subject's labelled windows with quality > 0. ``features`` replaces the
    subject's MODEL_FEATURES columns (a benchmark's other statistics or masked ones). ``scope``: "session"
    (every window against the whole session) or "running" (against the windows before it, as a live session
    judges; only the windows from LIVE_BASELINE_S on, where a live session gives a figure)."""
    if features is None:
        features = subject.features[:, [MEASUREMENTS.index(name) for name in MODEL_FEATURES]]
    x = INPUT_SCOPES[scope](features, subject.quality, CONTEXT_WINDOWS, SCALING, LOCAL_BASELINE_WINDOWS)
    fraction = subject.stress_fraction
    keep = np.isfinite(fraction) & (subject.quality > 0)
    if scope == "running":
        keep &= subject.starts_s >= LIVE_BASELINE_S
    if for_training and MIXED_LABELS is not None:
        keep &= (fraction <= MIXED_LABELS[0]) | (fraction >= MIXED_LABELS[1])
    return x[keep], stress_label(fraction[keep])


@dataclass
class StressEnsemble:
    """The shipped classifier: the mean of a logistic regression's stress probability and the mean of the MLPs'."""

    logistic: object  # sklearn LogisticRegression
    mlps: list  # sklearn MLPClassifier, one per seed

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        p_logistic = self.logistic.predict_proba(x)
        if not self.mlps:
            return p_logistic
        return 0.5 * p_logistic + 0.5 * np.mean([m.predict_proba(x) for m in self.mlps], axis=0)

    def weights(self) -> dict:
        """Everything the ONNX export needs, as JSON-ready lists."""
        return {
            "coef": self.logistic.coef_[0].tolist(),
            "intercept": float(self.logistic.intercept_[0]),
            "mlps": [
                {
                    "hidden_weights": m.coefs_[0].tolist(),
                    "hidden_bias": m.intercepts_[0].tolist(),
                    "output_weights": m.coefs_[1][:, 0].tolist(),
                    "output_bias": float(m.intercepts_[1][0]),
                }
                for m in self.mlps
            ],
        }


def fit_xy(x: np.ndarray, y: np.ndarray, mlp_seeds: tuple[int, ...] = MLP_SEEDS) -> StressEnsemble:
    """The shipped classifier fitted on model inputs and 0/1 labels (``mlp_seeds=()``: the logistic regression
    alone)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    logistic = LogisticRegression(C=REGULARISATION_C, solver="liblinear", class_weight="balanced").fit(x, y)
    rows = balanced_rows(y)
    mlps = []
    for seed in mlp_seeds:  # on all 27 subjects each stops by its tolerance after 100-150 epochs
        mlp = MLPClassifier(hidden_layer_sizes=(MLP_HIDDEN_UNITS,), alpha=MLP_ALPHA, max_iter=MLP_MAX_ITER,
                            random_state=seed)  # fmt: skip
        mlps.append(fit_or_interrupt(mlp, x[rows], y[rows]))
    return StressEnsemble(logistic, mlps)


def balanced_rows(y: np.ndarray) -> np.ndarray:
    """Row indices with the rarer class's rows repeated until both classes count about the same: sklearn's MLP
    takes no class weights, and without them its 0.5 threshold favours the larger class (no stress, two thirds
    of the windows)."""
    counts = np.bincount(y, minlength=2)
    if counts.min() == 0:
        return np.arange(len(y))
    repeats = np.where(y == np.argmin(counts), round(counts.max() / counts.min()), 1)
    return np.repeat(np.arange(len(y)), repeats)


def check_usable_windows(windows: Windows, subjects: list[str], data_dir: Path, scope: str = "session",
                         sources: tuple[Source, ...] = SOURCES) -> None:
    """Every subject gives a labelled window with signal (quality > 0) as each source records it, before any model
    is fitted: one without is scored on nothing (its leave-one-out fold would fail in the fitting library)."""
    for subject in subjects:
        for source in sources:
            if not len(source_xy(windows, subject, source, False, scope)[0]):
                after = f" from {LIVE_BASELINE_S:g} s on" if scope == "running" else ""
                raise InputError(data_dir / "raw" / f"{subject}.zip",
                                 f"no labelled window{after} with usable signal (quality > 0) as {source.name} "
                                 "records it: mend the recording or leave the subject out of the labels")


def fit(windows: Windows, subjects: list[str], sources: tuple[Source, ...] = SOURCES,
        scope: str = "session") -> StressEnsemble:
    """The shipped classifier trained on ``subjects``' sessions, each as every one of ``sources`` records it."""
    pairs = [source_xy(windows, s, source, True, scope) for s in subjects for source in sources]
    return fit_xy(np.vstack([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs]))


def predictions_by_source(
    model: StressEnsemble, windows: Windows, subjects: list[str], sources: tuple[Source, ...] = SOURCES,
    scope: str = "session",
) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Source name -> subject -> (stress probability, label) of the model on each subject's labelled windows."""
    out: dict[str, dict] = {source.name: {} for source in sources}
    for s in subjects:
        for source in sources:
            x, y = source_xy(windows, s, source, False, scope)
            out[source.name][s] = (model.predict_proba(x)[:, 1], y)
    return out


PER_SUBJECT_SPREAD = ("per_subject_ba_mean", "per_subject_ba_sd", "per_subject_ba_min", "per_subject_ba_max")


def per_subject_text(m: dict) -> str:
    """The spread of per-subject BA in a report's words: mean ± sd (min), or why there is none."""
    if m["per_subject_ba_mean"] is None:
        return "none (no subject's windows hold both classes)"
    if m["per_subject_ba_sd"] is None:  # one subject's BA: no spread to give
        return f"{m['per_subject_ba_mean']:.3f} (one subject: no spread)"
    return f"{m['per_subject_ba_mean']:.3f} ± {m['per_subject_ba_sd']:.3f} (min {m['per_subject_ba_min']:.3f})"


def evaluate(predictions: dict[str, tuple[np.ndarray, np.ndarray]], resamples: int = BOOTSTRAP_RESAMPLES,
             seed: int = 0) -> dict:
    """BA, macro-F1 and ECE over all windows pooled, plus the spread of per-subject BA (over the subjects whose
    windows hold both classes; None without any, its sd None over one) and a 95 % interval of the pooled BA over
    resampled subjects (``resamples`` draws from ``seed``)."""
    p = np.concatenate([v[0] for v in predictions.values()])
    y = np.concatenate([v[1] for v in predictions.values()])
    per_subject = {
        s: prediction_metrics(v[1], called_stress(v[0]), 2)["ua"]
        for s, v in predictions.items()
        if len(set(v[1].tolist())) > 1
    }
    values = np.array(list(per_subject.values()))
    pooled = prediction_metrics(y, called_stress(p), 2)
    spread = ({"per_subject_ba_mean": float(values.mean()),
               "per_subject_ba_sd": float(values.std()) if values.size > 1 else None,  # the sd of one: none
               "per_subject_ba_min": float(values.min()), "per_subject_ba_max": float(values.max())} if values.size
              else dict.fromkeys(PER_SUBJECT_SPREAD))  # no subject's windows hold both classes: no spread to give
    return {
        "balanced_accuracy": pooled["ua"],
        "ba_interval_95": subject_bootstrap_interval(predictions, resamples, seed),
        "macro_f1": pooled["macro_f1"],
        "ece": stress_calibration_error(p, y),
        **spread,
        "per_subject_ba": per_subject,
        "subjects": len(predictions),
        "windows": int(y.size),
        "stress_share": float(y.mean()),
    }


def subject_bootstrap_interval(
    predictions: dict[str, tuple[np.ndarray, np.ndarray]], resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0
) -> list[float]:
    """2.5 and 97.5 percentiles of the pooled BA when the subjects are drawn again with replacement
    (``group_bootstrap_intervals``); a draw without stress or without calm windows has no BA and is left out."""
    p = np.concatenate([v[0] for v in predictions.values()])
    y = np.concatenate([v[1] for v in predictions.values()])
    subjects = np.repeat(list(predictions), [len(v[1]) for v in predictions.values()])
    intervals = group_bootstrap_intervals(y, called_stress(p), subjects, 2, resamples, seed, every_class=True)
    return intervals["ua"]


def stress_calibration_error(p_stress: np.ndarray, y: np.ndarray) -> float:
    """Top-label ECE of a two-class model: 10 bins over [0.5, 1], where its confidence lives."""
    probs = np.column_stack([1.0 - np.asarray(p_stress, dtype=float), p_stress])
    return expected_calibration_error(y, probs, confidence_floor=0.5)


def train_physio(
    data_dir: Path,
    out_dir: Path,
    held_out: tuple[str, ...] = HELD_OUT_SUBJECTS,
    cache_dir: Path | None = None,
    scope: str = "session",
) -> TrainReport:
    """Train and score the stress model; ``scope`` "running": the model a live session judges with, each window
    against the windows before it (``runtime.arms.physio.model.running_inputs``)."""
    if scope not in INPUT_SCOPES:
        raise ValueError(f"unknown scope {scope!r} (known: {', '.join(INPUT_SCOPES)})")
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    if not (data_dir / "raw").is_dir():
        raise InputError(data_dir, "not a Stress-Predict folder (no raw/ with SXX.zip)")
    for folder in (out_dir, cache_dir):
        if folder is not None:
            check_output_folder(folder, {"data folder": data_dir})
    subjects, development, test = split_subjects(data_dir, held_out)  # before any feature work
    absent = [s for s in subjects if not (data_dir / "raw" / f"{s}.zip").is_file()]
    if absent:  # found now, not after the other subjects' features
        raise InputError(data_dir / "raw", f"no recording for {', '.join(absent)}, labelled in {LABEL_FILES_TEXT}")
    for subject in subjects:  # likewise a recording that is not a zip (cut short, another file renamed)
        check_e4_zip(data_dir / "raw" / f"{subject}.zip")
    # report.json is written whole at the end (write_atomically): a refused or stopped run keeps an earlier one
    caches = caches_inside(out_dir, cache_dir)
    with writing_folder(out_dir, (), {"data folder": data_dir}, caches=caches) as run:
        return _train(data_dir, run, subjects, development, test, cache_dir, scope)


def caches_inside(out_dir: Path, cache_dir: Path | None) -> tuple[str, ...]:
    """What of ``out_dir`` a stopped first run keeps for a retry (``writing_folder``'s ``caches``): a cache folder
    inside it, as the entry of ``out_dir`` holding it, or its window files where it is ``out_dir`` itself."""
    if cache_dir is None or not Path(cache_dir).resolve().is_relative_to(Path(out_dir).resolve()):
        return ()
    inside = Path(cache_dir).resolve().relative_to(Path(out_dir).resolve())
    return (glob.escape(inside.parts[0]),) if inside.parts else (f"*{CACHE_SUFFIX}",)


def _train(data_dir: Path, run: RunFolder, subjects: list[str], development: list[str], test: list[str],
           cache_dir: Path | None, scope: str) -> TrainReport:
    windows = load_sources(data_dir, cache_dir=cache_dir, subjects=subjects)
    check_usable_windows(windows, subjects, data_dir, scope)

    loso: dict[str, dict] = {source.name: {} for source in SOURCES}
    for s in development:
        model = fit(windows, [t for t in development if t != s], scope=scope)
        for name, by_subject in predictions_by_source(model, windows, [s], scope=scope).items():
            loso[name].update(by_subject)
    held = predictions_by_source(fit(windows, development, scope=scope), windows, test, scope=scope)
    final = fit(windows, subjects, scope=scope)
    # For comparison with published leave-subjects-out figures: the same settings over all 27 subjects
    # (the settings were chosen on the development subjects only).
    everyone = {}
    for s in subjects:
        model = fit(windows, [t for t in subjects if t != s], scope=scope)
        everyone.update(predictions_by_source(model, windows, [s], (E4,), scope)[E4.name])

    report = {
        "data": str(data_dir.resolve()),  # export copies the data's licence notice from here, wherever it runs
        "features": list(MODEL_FEATURES),
        "window_s": WINDOW_S,
        "hop_s": HOP_S,
        "context_windows": CONTEXT_WINDOWS,
        "local_baseline_windows": LOCAL_BASELINE_WINDOWS,
        "scaling": SCALING,
        "scope": scope,
        **({"live_baseline_s": LIVE_BASELINE_S} if scope == "running" else {}),
        "regularisation_c": REGULARISATION_C,
        "classifier": f"mean of a logistic regression and {len(MLP_SEEDS)} MLPs ({MLP_HIDDEN_UNITS} ReLU units, "
        f"alpha {MLP_ALPHA:g}, classes balanced by repetition), trained on each session as {len(SOURCES)} sources "
        "record it",
        "split": {
            "development_subjects": development,
            "held_out_subjects": test,
            "development_protocol": "leave-one-subject-out over the development subjects",
            "held_out_protocol": "trained on all development subjects, tested once on the held-out subjects",
            "windows": "every labelled window with quality > 0" if scope == "session" else
            f"the labelled windows with quality > 0 from {LIVE_BASELINE_S:g} s on (a live session's figures start "
            "there)",
            "shipped_model": f"refit on all labelled subjects ({subjects[0]}-{subjects[-1]})",
            "all_subjects_protocol": f"leave-one-subject-out over all {len(subjects)} labelled subjects, same settings",
        },
        "training_sources": [source._asdict() for source in SOURCES],
        "metrics": {
            "development_loso": evaluate(loso[E4.name]),
            "held_out": evaluate(held[E4.name]),
            "all_subjects_loso": evaluate(everyone),
        },
        # the same models judged on the sessions as the other sources record them
        "metrics_by_source": {
            source.name: {"development_loso": evaluate(loso[source.name]), "held_out": evaluate(held[source.name])}
            for source in SOURCES[1:]
        },
        "weights": final.weights(),
    }
    out_dir = run.begin()
    write_atomically(out_dir / "report.json", json.dumps(report, indent=1).encode())  # whole, or the old one kept
    return TrainReport(report, out_dir)


def split_subjects(data_dir: Path, held_out: tuple[str, ...]) -> tuple[list[str], list[str], list[str]]:
    """(every labelled subject, the development ones, the held-out ones), checked before any feature work: each
    subject's labels hold both stress and rest, leave-one-subject-out needs two development subjects, and the
    held-out figure at least one held-out subject."""
    table = load_labels(data_dir)
    for subject, (_, labels) in sorted(table.items()):
        if labels.min() == labels.max():
            raise InputError(label_file(data_dir, subject), f"every label of {subject} is {labels[0]:.0f}: a subject "
                             "needs stress and rest seconds for its balanced accuracy")
    subjects = sorted(table)
    development = [s for s in subjects if s not in held_out]
    test = [s for s in held_out if s in table]
    if len(development) < 2:
        raise InputError(data_dir, f"{len(development)} development subject(s) ({', '.join(development) or 'none'}): "
                         "leave-one-subject-out needs at least two besides the held-out ones")
    if not test:
        raise InputError(data_dir, f"none of the held-out subjects ({', '.join(held_out)}) is labelled: the held-out "
                         "figure needs at least one")
    return subjects, development, test
