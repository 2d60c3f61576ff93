"""``emotrace evaluate audio``: an installed voice-emotion model scored on a labelled set someone brings.

The set is read as ``emotrace train audio`` reads one (``export.audio.datasets.load_corpus``: a manifest CSV, a
folder with one, or corpus file names) and each clip is judged as ``emotrace audio classify`` judges it
(``classify_files``: the mean of its speech windows' probabilities, optionally against its speaker's own
baseline). Figures are clip-level, from ``export.metrics``: UA, macro-F1, ECE, accuracy, confusion, per-label
recall, per-speaker UA, and 95 % intervals of UA and macro-F1 over resampled speakers.

A model trained on a manifest's own labels (``train audio --labels-as-given``) reads the set's labels the same way:
its own labels as written, canonical words as their labels; a label that is neither is refused, naming the model's.
What cannot be scored is said, never dropped silently: clips whose label the model does not have (left out of
the figures, counted by label), labels of the model with no clip (UA is over the labels the set has), and clips
without speech (kept, as a wrong answer with no claim, as training reports count them). A file that cannot be
read at all is refused, as training refuses it, and then the refusal alone is said (the readable files' warnings are
held until no file refuses the set). With the speaker baseline, a speaker with less speech than the
runtime's default for a session baseline (20 s, ``MIN_BASELINE_SPEECH_S``, recorded in the report) is judged as the
runtime would judge them, by the population variant, and named, as ``audio classify`` judges such a folder.
Speakers the model was trained on (by its card's folds) are named: figures on them are not held-out ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from export import BOOTSTRAP_RESAMPLES, EVALUATION_BASELINES
from export.audio.datasets import Clip, Unmapped, load_corpus, parse_file_name, speaker_key
from export.evaluation import (
    check_resamples,
    coverage,
    coverage_notes,
    figures_line,
    label_tables,
    resolve_model,
    scored,
    write_report,
)
from export.metrics import prediction_metrics
from runtime import log_filters
from runtime.arms.audio.classify import MIN_BASELINE_SPEECH_S, NoSpeech, classify_files, without_baseline_line
from runtime.arms.audio.model import DEFAULT_AUDIO_MODEL, WaveformEmotionModel, load_audio_model
from runtime.errors import InputError
from runtime.files import check_output_folder, path_text, unreadable_files
from runtime.track import outside_canonical

REPORT_NAME = "audio_evaluation"
# what reading and judging the clips says of a readable one (quiet, narrowband, cut short): held while a broken file
# may yet refuse the set
JUDGING_LOGGERS = ("runtime.arms.audio.classify", "runtime.media")


@dataclass
class Judged:
    """The scored clips' truth, speaker and probabilities; ``claimed`` False where a clip had no speech."""

    clips: list[Clip]
    probs: np.ndarray  # (n, k) over the model's labels; uniform where unclaimed
    claimed: np.ndarray  # (n,) bool
    errors: dict[Path, str]  # clip without speech -> why
    without_baseline: list[str]  # speakers with too little speech for a baseline of their own (population variant)


def judge(clips: list[Clip], model: Any, speaker_baseline: str, data: Path) -> Judged:
    """Each clip's probabilities as ``audio classify`` gives them; the "speaker" baseline groups by the set's
    speakers (not the files' folders; ``speaker_baseline`` is checked by ``evaluate_audio``). Files that cannot be
    read are refused, naming the set ``data``, before anything is said of the readable files or the speakers'
    baselines (the lines of baselines short of a file left unsaid: once those are refused, the files short are clips
    without speech, listed in the report)."""
    if speaker_baseline == "speaker" and isinstance(model, WaveformEmotionModel):  # it would be ignored: say so
        raise InputError("--speaker-baseline", f"speaker does not apply to {model.card.id}, a waveform model "
                         "(it reads samples, with no baseline): use --speaker-baseline none")
    files = [clip.path for clip in clips]
    with log_filters.held([logging.getLogger(name) for name in JUDGING_LOGGERS]):
        classified = classify_files(
            files, model, "folder" if speaker_baseline == "speaker" else "none",
            speakers=[clip.speaker for clip in clips], min_baseline_speech_s=MIN_BASELINE_SPEECH_S,
            baseline_hint="--speaker-baseline speaker")
        failed = classified.failed
        refuse_unreadable(data, failed, len(files))
    by_path = dict(classified.clips)
    k = len(model.labels)
    probs = np.array([by_path.get(path, np.full(k, 1.0 / k)) for path in files], dtype=np.float64).reshape(-1, k)
    claimed = np.array([path in by_path for path in files], dtype=bool)
    # a file with no probabilities is one without speech (unreadable ones were refused): its error, in order
    unread = [path for path, read in zip(files, claimed, strict=True) if not read]
    errors = {path: error.problem for path, error in zip(unread, failed, strict=True)}
    return Judged(clips, probs, claimed, errors, classified.without_baseline)


def refuse_unreadable(data: Path, failed: list[InputError], n_files: int) -> None:
    """One ``InputError`` naming the files that could not be read at all (their count and the first
    ``MAX_NAMED_FILES``): a clip without speech is a wrong answer, but a file that is no audio is a broken set."""
    unreadable = [error for error in failed if not isinstance(error, NoSpeech)]
    if not unreadable:
        return
    raise unreadable_files(data, unreadable, n_files)


def score(judged: Judged, labels: list[str], resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> dict[str, Any]:
    """Clip-level figures of ``judged`` against the model's ``labels``; per speaker and over resampled speakers."""
    y_true = np.array([labels.index(clip.emotion) for clip in judged.clips], dtype=int)
    speakers = np.array([clip.speaker for clip in judged.clips])
    y_pred = np.where(judged.claimed, judged.probs.argmax(axis=1), -1)
    per_speaker = {
        speaker: {"ua": prediction_metrics(y_true[mine], y_pred[mine], len(labels))["ua"], "clips": int(mine.sum()),
                  "no_claim": int((~judged.claimed[mine]).sum())}
        for speaker in sorted(set(speakers.tolist())) for mine in [speakers == speaker]
    }
    figures = scored(y_true, judged.probs, judged.claimed, labels, "clip", speakers, "speaker", resamples, seed)
    return {**figures, "speakers": len(per_speaker), "per_speaker": per_speaker}


def trained_speakers(card_metrics: dict[str, Any]) -> set[str] | None:
    """The speakers a ``train audio`` model learnt from, by its card's cross-validation folds (the exported model
    is fitted on every one of them); None where the card does not name them. A ``train audio`` card lists the
    folds' speakers (``metrics.folds``), a waveform (backbone) card each fold's ``test_speakers`` under
    ``metrics.speaker_independent.cv.folds``."""
    folds = card_metrics.get("folds")
    if isinstance(folds, list) and folds and all(isinstance(fold, list) for fold in folds):
        return {str(speaker) for fold in folds for speaker in fold}
    independent = card_metrics.get("speaker_independent")
    cv = independent.get("cv") if isinstance(independent, dict) else None
    folds = cv.get("folds") if isinstance(cv, dict) else None
    if isinstance(folds, list) and folds and all(isinstance(fold, dict) and isinstance(fold.get("test_speakers"), list)
                                                 for fold in folds):
        return {str(speaker) for fold in folds for speaker in fold["test_speakers"]}
    return None


def seen_speakers(clips: list[Clip], trained: set[str]) -> list[str]:
    """The set's speakers the model was trained on: by the set's id, or by the id a corpus file name gives (a
    manifest may call RAVDESS actor 17 "A17", training called it "ravdess-17"), each matched as ``train audio``
    matches one person's spellings (``speaker_key``: "p1" is "P01")."""
    keys = {speaker_key(speaker) for speaker in trained}
    seen = set()
    for clip in clips:
        try:
            parsed = parse_file_name(clip.path)
        except Unmapped:
            parsed = None
        if speaker_key(clip.speaker) in keys or (parsed is not None and speaker_key(parsed[1]) in keys):
            seen.add(clip.speaker)
    return sorted(seen)


def notes(report: dict[str, Any]) -> list[str]:
    """What the figures leave out or count as wrong, one line each."""
    lines = []
    seen = report["speakers_seen_in_training"]
    if seen is None:
        lines.append("the model's card names no training speakers: whether these speakers are held out is unknown")
    elif seen:
        lines.append(f"{len(seen)} of {report['speakers']} speakers were in the model's training data, so these "
                     f"figures are not held-out ones: {', '.join(seen)}")
    lines += coverage_notes(report, "clip")
    if report["speakers_without_baseline"]:
        lines.append(without_baseline_line(report["speakers_without_baseline"], "speaker"))
    if report["interval_95"].get("note"):
        lines.append(report["interval_95"]["note"])
    if report["no_speech"]:
        lines.append(f"{len(report['no_speech'])} clip(s) without speech the model could judge, counted wrong "
                     f"(listed under no_speech)")
    if report["skipped_by_reader"]:
        skipped = ", ".join(f"{reason}: {n}" for reason, n in report["skipped_by_reader"].items())
        lines.append(f"files the reader left out: {skipped}")
    return lines


def evaluate_audio(data: Path, out: Path, model: str | None = None, models_dir: Path | None = None,
                   speaker_baseline: str = "none", resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0,
                   ) -> dict[str, Any]:
    """Score the model on the labelled set ``data``; the report (also written to ``out``) with its notes."""
    check_resamples(resamples)
    if speaker_baseline not in EVALUATION_BASELINES:  # before the set is read
        raise InputError(speaker_baseline,
                         f"speaker baseline must be {' or '.join(map(repr, EVALUATION_BASELINES))}")
    data, out = Path(data), Path(out)
    check_output_folder(out, {"data folder": data})
    emotion_model = load_audio_model(resolve_model(model, models_dir, DEFAULT_AUDIO_MODEL))
    labels = list(emotion_model.labels)
    # a model of a manifest's own labels (train audio --labels-as-given) is scored on a set that uses them
    corpus = load_corpus(data, outside_canonical(labels))
    outside, without = coverage((clip.emotion for clip in corpus.clips), labels)
    known = [clip for clip in corpus.clips if clip.emotion in labels]
    if not known:
        raise InputError(data, f"no clip has a label the model {emotion_model.card.id} has ({', '.join(labels)}); "
                         f"the set's labels: {', '.join(sorted({clip.emotion for clip in corpus.clips}))}")
    judged = judge(known, emotion_model, speaker_baseline, data)
    trained = trained_speakers(emotion_model.card.metrics)
    report = {
        "model": {"id": emotion_model.card.id, "version": emotion_model.card.version,
                  "folder": str(emotion_model.card.folder), "labels": labels},
        "data": str(data),
        "speaker_baseline": speaker_baseline,
        "min_baseline_speech_s": MIN_BASELINE_SPEECH_S if speaker_baseline == "speaker" else None,
        "speakers_without_baseline": judged.without_baseline,
        "clips_read": len(corpus.clips),
        "outside_model_labels": outside,
        "model_labels_without_clips": without,
        "skipped_by_reader": dict(corpus.skipped),
        "no_speech": [{"path": path_text(path), "reason": why} for path, why in judged.errors.items()],
        **score(judged, labels, resamples, seed),
        "speakers_seen_in_training": None if trained is None else seen_speakers(known, trained),
        "predictions": [
            {"path": str(clip.path), "speaker": clip.speaker, "label": clip.emotion,
             "predicted": labels[int(row.argmax())] if claimed else None,
             "confidence": round(float(row.max()), 4) if claimed else None}
            for clip, row, claimed in zip(judged.clips, judged.probs, judged.claimed, strict=True)
        ],
    }
    report["notes"] = notes(report)
    write_report(report, out, REPORT_NAME, markdown_report(report))
    return report


def summary(report: dict[str, Any]) -> str:
    """A few lines: the model, the set, the headline figures and the notes."""
    lines = [
        f"{report['model']['id']} {report['model']['version']} on {report['data']}: {report['clips']} clips of "
        f"{report['speakers']} speaker(s), speaker baseline {report['speaker_baseline']}",
        figures_line(report),
    ]
    return "\n".join(lines + [f"note: {line}" for line in report["notes"]])


def markdown_report(report: dict[str, Any]) -> str:
    lines = [f"# {report['model']['id']} {report['model']['version']} on {report['data']}", "",
             summary(report).replace("\n", "  \n"), "", *label_tables(report, "clip", "clips without speech")]
    lines += ["", "| speaker | clips | UA | no claim |", "|---|---|---|---|"]
    for speaker, s in report["per_speaker"].items():
        lines.append(f"| {speaker} | {s['clips']} | {s['ua']:.3f} | {s['no_claim']} |")
    return "\n".join(lines) + "\n"

