"""``emotrace evaluate physio``: an installed stress model scored on labelled wrist recordings someone brings.

The recordings are read in the Stress-Predict layout ``train physio`` reads (``raw/SXX.zip`` E4 exports and
``labels/stress_labels*.csv``, ``export.physio.dataset``), each judged as ``emotrace physio classify`` judges
it (``classify_windows``: the model's own windows, each against the whole session), and its windows labelled as
training labels them (``labelled_fractions``, ``stress_label``: a whole window, 80 % of it labelled or more, stress
when half its labelled seconds are). Figures are those of training's evaluation (``export.physio.train.evaluate``):
balanced accuracy over every scored window pooled, macro-F1, ECE, per-subject BA and a 95 % interval of the BA over
resampled subjects.

What cannot be scored is said, never dropped silently: subjects with labels but no recording or a recording but no
labels, or whose labelled windows have no stress figure, are left out and named; labelled windows without a stress
figure (quality 0: no usable signal, which the runtime gives no figure and training's evaluation leaves out) are left
out and counted by the kind of their reason; a recording read without some of its E4 channels is named with them.
Subjects the model was trained on (by its card's split: the shipped model is refit on every subject of it) are named:
figures on them are not held-out ones.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from export import BOOTSTRAP_RESAMPLES
from export.evaluation import check_resamples, reason_kind, resolve_model, write_report
from export.metrics import few_groups_note
from export.physio.dataset import LABEL_FILES_TEXT, labelled_fractions, load_labels, stress_label
from export.physio.train import evaluate, per_subject_text
from runtime.arms.physio.arm import classify_windows
from runtime.arms.physio.model import card_setting
from runtime.arms.physio.readers import read_recording
from runtime.arms.physio.readers.e4 import channels_lacking, check_e4_zip
from runtime.arms.physio.stress import DEFAULT_MODEL, load_physio_model, settings_as_trained
from runtime.errors import InputError
from runtime.files import check_output_folder, missing_input
from runtime.models import Model
from runtime.models.card import ModelCard
from runtime.stopping import raise_if_stop_asked

REPORT_NAME = "physio_evaluation"
SCORED_WINDOWS = ("every labelled window (whole, 80 % of its seconds labelled or more) with a stress figure "
                  "(quality > 0), as training's evaluation scores them; stress where at least half its labelled "
                  "seconds are")


@dataclass
class Judged:
    """One subject's labelled windows: the stress probability and 0/1 label of those with a stress figure, and why
    the others have none (the kind of the runtime's reason, by count); the E4 channels its recording lacks."""

    p_stress: np.ndarray
    labels: np.ndarray
    without_figure: Counter = field(default_factory=Counter)
    channels_missing: list[str] = field(default_factory=list)


def data_subjects(data: Path) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], list[str], dict[str, str]]:
    """(the label table, the subjects with labels and a recording, the others -> why they are left out), checked
    before any feature work: the layout, the label file, and each recording a readable zip."""
    if not data.exists():
        raise missing_input(data, "folder")
    if not (data / "raw").is_dir():
        raise InputError(data, "not a Stress-Predict folder (no raw/ with SXX.zip)")
    table = load_labels(data)
    recorded = {path.stem for path in (data / "raw").glob("*.zip")}
    left_out = {subject: f"no labels in {LABEL_FILES_TEXT}" for subject in recorded - set(table)}
    left_out |= {subject: "no recording in raw/" for subject in set(table) - recorded}
    subjects = sorted(recorded & set(table))
    if not subjects:
        raise InputError(data, f"no subject has both labels ({', '.join(sorted(table))}) and a recording in raw/ "
                         f"({', '.join(sorted(recorded)) or 'none'})")
    for subject in subjects:
        check_e4_zip(data / "raw" / f"{subject}.zip")
    return table, subjects, dict(sorted(left_out.items()))


def judge_subject(zip_path: Path, label_table: tuple[np.ndarray, np.ndarray], model: Model) -> Judged:
    """The subject's recording judged as ``physio classify`` judges it, its windows labelled as training labels
    them."""
    settings = settings_as_trained(model)
    recording = read_recording(zip_path)
    windows = classify_windows(recording, model, settings)
    fractions = labelled_fractions(windows, recording.start_unix_s, label_table, settings.window_s)
    labelled = np.isfinite(fractions)
    figure = np.array([w.stress is not None for w in windows], dtype=bool)
    scored = labelled & figure
    return Judged(np.array([w.stress for w, kept in zip(windows, scored, strict=True) if kept], dtype=float),
                  stress_label(fractions[scored]),
                  Counter(reason_kind(w.reason or "no stress figure")
                          for w, kept in zip(windows, labelled & ~figure, strict=True) if kept),
                  channels_lacking(recording))


def trained_subjects(card_extra: dict[str, Any]) -> list[str] | None:
    """The subjects a ``train physio`` model learnt from: every subject of its card's split (development and
    held-out; the shipped model is refit on all of them). None where the card has no split."""
    split = card_extra.get("split")
    if not isinstance(split, dict):
        return None
    named = [split.get(key) for key in ("development_subjects", "held_out_subjects")]
    subjects = {str(subject) for group in named if isinstance(group, list) for subject in group}
    return sorted(subjects) or None


def seen_line(report: dict[str, Any], card: ModelCard) -> str:
    """The note on the subjects the model was trained on, and where the card holds a held-out figure on some of them
    (a model trained without them); '' where none of the set's subjects was trained on."""
    seen = report["subjects_seen_in_training"]
    if seen is None:
        return "the model's card names no training subjects: whether these subjects are held out is unknown"
    if not seen:
        return ""
    line = (f"{len(seen)} of {report['subjects']} subjects have the ids of subjects the model was trained on (its "
            f"card's split), so these figures are not held-out figures: {', '.join(seen)}")
    split, metrics = card.extra.get("split"), card.metrics.get("held_out")
    held = split.get("held_out_subjects") if isinstance(split, dict) else None
    figure = metrics.get("balanced_accuracy") if isinstance(metrics, dict) else None
    if isinstance(held, list) and isinstance(figure, float) and set(seen) & set(held):
        line += (f"; the card's held-out BA {figure:.3f} on {', '.join(held)} is that of a model trained without "
                 "them")
    return line


def notes(report: dict[str, Any], card: ModelCard, lacking: dict[str, list[str]]) -> list[str]:
    """What the figures leave out or cannot claim, one line each; ``lacking``: the subjects whose recordings lack
    channels -> those channels."""
    lines = [seen_line(report, card)]
    if report["subjects_left_out"]:
        lines.append(f"subjects left out: {left_out_text(report['subjects_left_out'])}")
    if lacking:
        lines.append("recordings read without some of an E4 export's channels (no samples of them: the file missing "
                     "from the export or empty), their windows judged on the others: "
                     + "; ".join(f"{s} without {', '.join(channels)}" for s, channels in lacking.items()))
    without = sum(s["without_figure"] for s in report["per_subject"].values())
    if without:
        lines.append(f"{without} labelled window(s) without a stress figure (quality 0: no usable signal, or a live "
                     "model's baseline still forming) left out of the figures, as training's evaluation leaves out "
                     "windows of quality 0 (by subject and kind of reason under per_subject)")
    one_class = [s for s in report["per_subject"] if s not in report["per_subject_ba"]]
    if one_class:
        lines.append(f"no per-subject BA for {', '.join(one_class)}: their scored windows hold one class (counted in "
                     "the pooled figures)")
    if report["ba_interval_95"] is None and report["subjects"] > 1:
        lines.append("no interval: no draw of subjects holds both stress and calm windows")
    else:  # rough over few subjects, none over one
        lines.append(few_groups_note(report["subjects"], "subject"))
    if 0 < report["stress_share"] < 1:
        return [line for line in lines if line]
    kind = "stress" if report["stress_share"] else "calm"
    lines.append(f"every scored window is {kind}: the balanced accuracy is that class's recall alone")
    return [line for line in lines if line]


def left_out_text(left_out: dict[str, str]) -> str:
    """'no recording in raw/: S05, S06; no labels in ...: S01': the subjects left out by why."""
    by_reason: dict[str, list[str]] = {}
    for subject, why in sorted(left_out.items()):
        by_reason.setdefault(why, []).append(subject)
    return "; ".join(f"{why}: {', '.join(subjects)}" for why, subjects in by_reason.items())


def evaluate_physio(data: Path, out: Path, model: str | None = None, models_dir: Path | None = None,
                    resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> dict[str, Any]:
    """Score the stress model on the labelled recordings in ``data``; the report (also written to ``out``)."""
    check_resamples(resamples)
    data, out = Path(data), Path(out)
    check_output_folder(out, {"data folder": data})
    table, subjects, left_out = data_subjects(data)
    stress_model = load_physio_model(str(resolve_model(model, models_dir, DEFAULT_MODEL)))
    settings = settings_as_trained(stress_model)
    judged = {}
    for subject in subjects:
        raise_if_stop_asked()  # a library can swallow the signal's own KeyboardInterrupt
        judged[subject] = judge_subject(data / "raw" / f"{subject}.zip", table[subject], stress_model)
        if not judged[subject].labels.size:
            without = judged[subject].without_figure
            left_out[subject] = ("no labelled window with a stress figure: " + ", ".join(without) if without else
                                 "no window of the recording is labelled: the labels do not cover it")
    scored = {s: (j.p_stress, j.labels) for s, j in judged.items() if j.labels.size}
    if not scored:
        raise InputError(data, f"nothing to score, every subject left out: {left_out_text(left_out)}")
    figures = evaluate(scored, resamples, seed)
    interval = figures["ba_interval_95"]
    if len(scored) < 2 or not np.isfinite(interval).all():  # one subject drawn again is itself; NaN: no draw has both
        figures["ba_interval_95"] = None
    extra = stress_model.card.extra
    trained = trained_subjects(extra)
    report = {
        "model": {"id": stress_model.card.id, "version": stress_model.card.version,
                  "folder": str(stress_model.card.folder), "scope": card_setting(extra, "scope")},
        "data": str(data),
        "window_s": settings.window_s,
        "hop_s": settings.hop_s,
        "windows_scored": SCORED_WINDOWS,
        "subjects_left_out": dict(sorted(left_out.items())),
        **figures,
        "interval": {"resamples": resamples, "seed": seed, "unit": "subject"},
        "per_subject": {
            s: {"windows": int(j.labels.size), "stress_windows": int(j.labels.sum()),
                "ba": figures["per_subject_ba"].get(s), "without_figure": sum(j.without_figure.values()),
                "without_figure_by_reason": dict(j.without_figure.most_common()),
                "channels_missing": j.channels_missing}
            for s, j in judged.items() if s in scored
        },
        "subjects_seen_in_training": None if trained is None else [s for s in scored if s in trained],
    }
    report["notes"] = notes(report, stress_model.card,
                            {s: j.channels_missing for s, j in judged.items() if j.channels_missing})
    write_report(report, out, REPORT_NAME, markdown_report(report))
    return report


def summary(report: dict[str, Any]) -> str:
    """A few lines: the model, the set, the headline figures and the notes."""
    windows = (f"{report['windows']} windows of {report['subjects']} subject(s), {report['stress_share']:.0%} stress, "
               f"{report['window_s']:g} s windows at {report['hop_s']:g} s hop")
    interval = report["ba_interval_95"]
    spread = f" (95 % over subjects {interval[0]:.3f}–{interval[1]:.3f})" if interval else ""
    figures = (f"BA {report['balanced_accuracy']:.3f}{spread}, macro-F1 {report['macro_f1']:.3f}, "
               f"ECE {report['ece']:.3f}, per-subject BA {per_subject_text(report)}")
    notes = [f"note: {line}" for line in report["notes"]]
    return "\n".join([f"{report['model']['id']} {report['model']['version']} on {report['data']}: {windows}", figures,
                      *notes])


def markdown_report(report: dict[str, Any]) -> str:
    lines = [f"# {report['model']['id']} {report['model']['version']} on {report['data']}", "",
             summary(report).replace("\n", "  \n"), "",
             "| subject | windows | stress windows | BA | without a stress figure |", "|---|---|---|---|---|"]
    for subject, s in report["per_subject"].items():
        ba = "—" if s["ba"] is None else f"{s['ba']:.3f}"
        lines.append(f"| {subject} | {s['windows']} | {s['stress_windows']} | {ba} | {s['without_figure']} |")
    return "\n".join(lines) + "\n"
