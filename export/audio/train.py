"""Train the voice-emotion model with speaker-independent folds, and fit the models export ships.

Two variants are trained and reported, as the model card's contract names them:
- ``session``: features z-scored per speaker (``zscore_by_group``), as the device does per session;
- ``none``: raw features, with the standardisation learnt from the training speakers.
Each variant is a small classifier over window features (``CLASSIFIER``); a clip's probabilities are
the mean of its speech windows' (``clip_probabilities``). Folds are GroupKFold over speakers, so no
speaker is ever in both the training and the evaluated part of a fold. The training part of every fit also
holds speed-perturbed copies of its own speakers' clips (``SPEED_FACTORS``), each copy z-scored as a
speaker of its own; evaluation reads the unperturbed clips only.

``out`` receives: ``report.json`` and ``report.md`` (cross-validated metrics, clip and window level),
``models.npz`` (the fitted float models: every speaker, and every speaker but the validation ones) and
``validation.npz`` (the validation speakers' window features, for export's quantization check).

The labels are the canonical eight, or with ``labels_as_given`` a manifest's own (``export.audio.datasets``): the
run's label set is then the labels its clips hold (``Corpus.labels``), which every index of ``y`` counts in.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from export.arrays import save_npz
from export.audio.datasets import (
    LABELS_AS_GIVEN,
    Corpus,
    UnmappedLabels,
    data_checksum,
    load_corpus,
    ravdess_clips,
    speaker_key,
    truncated_wavs,
)
from export.audio.extract import MIN_SPEECH_FRACTION, WINDOW_HOP_S, WINDOW_S, WindowTable, extract_windows
from export.fitting import fit_or_interrupt, two_class_logits
from export.metrics import classification_metrics, group_interval, interval_notes, interval_text, markdown_table
from runtime import log_filters
from runtime.arms.audio.features import FEATURE_SET, clip_probabilities, feature_names, zscore_against, zscore_by_group
from runtime.errors import InputError
from runtime.files import RunFolder, check_output_folder, first_named, write_atomically, writing_folder
from runtime.track import CANONICAL_LABELS, LABEL_SHORT_FORMS, outside_canonical

log = logging.getLogger(__name__)

MODES = ("session", "none")
LABELS = list(CANONICAL_LABELS)
# Chosen by leave-actors-out CV on RAVDESS actors 01-20; five seeds averaged (logits) gained about 1 point of UA.
# Other candidates on the same folds: benchmarks/audio_candidates.py (figures in the README).
CLASSIFIER: dict[str, Any] = {"kind": "mlp", "hidden": 128, "alpha": 3.0, "max_iter": 300, "seed": 0, "members": 5}
# Speed perturbation of the training speakers (export/audio/extract.py): the same folds gave clip UA 0.720
# with 0.9 and 1.1 against 0.694 without, with the session baseline.
SPEED_FACTORS: tuple[float, ...] = (0.9, 1.1)
CACHE_FOLDER = "cache"  # in a run's folder: the window features of its clips and their speed copies
# Baselines besides the whole set per speaker for the session variant (TrainingRows.with_varied_baselines): the
# shipped model has none; 3 read a neutral start 0.584 instead of 0.347 and every emotion 0.669 instead of 0.695
# (one MLP, no speed copies; benchmarks/audio_baseline_mix.py --varied-baselines 3). Each adds the rows once more.
MAX_VARIED_BASELINES = 10


@dataclass
class TrainReport:
    data: str
    n_clips: int
    n_windows: int
    speakers: list[str]
    validation_speakers: list[str]
    folds: list[list[str]]
    cv: dict[str, dict[str, Any]]  # "session/clip", "session/window", "none/clip", "none/window"
    skipped: dict[str, int] = field(default_factory=dict)
    no_speech_clips: list[str] = field(default_factory=list)
    classifier: dict[str, Any] = field(default_factory=dict)
    speed_factors: list[float] = field(default_factory=list)
    varied_baselines: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)  # what the figures cannot say (coverage_warnings)
    ravdess_clips: int = 0  # clips named as RAVDESS names its files: they bind the model to its licence
    truncated_clips: list[str] = field(default_factory=list)  # WAVs cut short (truncated_wavs): trained on as held
    clips_per_label: dict[str, int] = field(default_factory=dict)  # every label of the run's set, 0 where none
    speakers_per_label: dict[str, int] = field(default_factory=dict)  # speakers with clips of each label
    data_checksum: dict[str, str] = field(default_factory=dict)  # which data made the model (data_checksum)
    # the data folder resolved here: what an export compares with a card from before data checksums
    data_path: str = ""
    labels: list[str] = field(default_factory=lambda: list(LABELS))  # the run's label set (Corpus.labels)
    labels_as_given: bool = False  # a manifest's own labels kept (train audio --labels-as-given)

    def summary(self) -> str:
        lines = [f"{self.data}: {self.n_clips} clips, {self.n_windows} speech windows, "
                 f"{len(self.speakers)} speakers, {len(self.folds)} speaker-independent folds, "
                 f"speed perturbation {', '.join(f'{f:g}' for f in self.speed_factors) or 'none'}"
                 + (f", {self.varied_baselines} varied baselines a speaker" if self.varied_baselines else "")]
        if self.labels_as_given:
            lines.append(f"  labels as given: {', '.join(self.labels)}")
        for name, m in self.cv.items():
            interval = m.get("interval_95", {})
            lines.append(f"  {name:15s} UA {m['ua']:.3f}{interval_text(interval, 'ua')}  WA {m['wa']:.3f}  "
                         f"macro-F1 {m['macro_f1']:.3f}{interval_text(interval, 'macro_f1')}  ECE {m['ece']:.3f}")
        lines += [f"  intervals: {note}" for note in interval_notes(self.cv)]
        if self.skipped:
            lines.append("  left out: " + "; ".join(f"{n} ({why})" for why, n in self.skipped.items()))
        if self.no_speech_clips:
            lines.append(f"  {len(self.no_speech_clips)} clip(s) without a speech window (scored as wrong)")
        if self.truncated_clips:
            lines.append(f"  {len(self.truncated_clips)} WAV clip(s) cut short, trained on as the shorter clips they "
                         "hold (report.md names them)")
        lines += [f"  warning: {warning}" for warning in self.warnings]
        lines.append(f"  final models fitted; validation speakers: {', '.join(self.validation_speakers)}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# --- classifiers: fitted with scikit-learn, kept as plain arrays that export writes as ONNX ----------------


def fit_classifier(features: np.ndarray, y: np.ndarray, spec: dict[str, Any] = CLASSIFIER,
                   n_labels: int = len(LABELS)) -> dict[str, Any]:
    """A standardiser plus a linear or one-hidden-layer model, as arrays: mean, scale, layers [(W, b), ...], with
    ``n_labels`` outputs (``y`` indexes the run's label set)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    mean = features.mean(axis=0)
    scale = np.maximum(features.std(axis=0), 1e-3)
    standard = (features - mean) / scale
    if spec["kind"] == "logreg":
        model = LogisticRegression(C=spec["C"], max_iter=spec.get("max_iter", 2000)).fit(standard, y)
        layers = [(model.coef_.T, model.intercept_)]
    elif spec["kind"] == "mlp":
        members = []
        for k in range(spec.get("members", 1)):
            model = MLPClassifier((spec["hidden"],), alpha=spec["alpha"], max_iter=spec["max_iter"],
                                  random_state=spec["seed"] + k)
            # a ConvergenceWarning at max_iter is expected with strong L2
            members.append(fit_or_interrupt(model, standard, y, keep_warnings=False))
        layers = _average_logits(members)
    else:
        raise ValueError(f"unknown classifier kind {spec['kind']!r}")
    classes = list(model.classes_)
    if len(classes) == 2:  # sklearn's one logit of the second class
        layers[-1] = two_class_logits(*layers[-1])
    # a class absent from training: every label's output here, so that folds compare; export keeps the learnt ones
    if classes != list(range(n_labels)):
        w_last, b_last = layers[-1]
        full_w = np.zeros((w_last.shape[0], n_labels))
        full_b = np.full(n_labels, -30.0)
        full_w[:, classes] = w_last
        full_b[classes] = b_last
        layers[-1] = (full_w, full_b)
    return {"mean": mean.astype(np.float32), "scale": scale.astype(np.float32),
            "layers": [(w.astype(np.float32), b.astype(np.float32)) for w, b in layers]}


def _average_logits(members: list[Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Several one-hidden-layer MLPs as one wider MLP whose logits are the members' mean: one graph ships."""
    w_hidden = np.hstack([m.coefs_[0] for m in members])
    b_hidden = np.concatenate([m.intercepts_[0] for m in members])
    w_out = np.vstack([m.coefs_[1] for m in members]) / len(members)
    b_out = np.mean([m.intercepts_[1] for m in members], axis=0)
    return [(w_hidden, b_hidden), (w_out, b_out)]


def predict_proba(model: dict[str, Any], features: np.ndarray) -> np.ndarray:
    """The float model's probabilities, computed exactly as the exported graph computes them."""
    h = (np.asarray(features, dtype=np.float32) - model["mean"]) / model["scale"]
    for i, (w, b) in enumerate(model["layers"]):
        h = h @ w + b
        if i < len(model["layers"]) - 1:
            h = np.maximum(h, 0.0)
    h = h - h.max(axis=1, keepdims=True)
    e = np.exp(h)
    return e / e.sum(axis=1, keepdims=True)


def learnt_labels(y: np.ndarray, space: list[str] = LABELS) -> list[str]:
    """The labels of ``space`` (the run's label set) that ``y`` (indices into it) holds, in its order: what a model
    fitted on it can tell apart. The rest are only its padding (``fit_classifier``), never a learnt absence."""
    present = set(np.unique(y).tolist())
    return [label for i, label in enumerate(space) if i in present]


def keep_outputs(model: dict[str, Any], labels: list[str], space: list[str] = LABELS) -> dict[str, Any]:
    """``model`` with outputs for ``labels`` alone (a subset of ``space``): its probabilities over them are the
    full model's renormalised, so a model that never saw a label ships without it rather than claiming it absent."""
    columns = [space.index(label) for label in labels]
    w_last, b_last = model["layers"][-1]
    return {**model, "layers": [*model["layers"][:-1], (w_last[:, columns], b_last[columns])]}


def all_label_columns(probs: np.ndarray, labels: list[str], space: list[str] = LABELS) -> np.ndarray:
    """Probabilities over ``labels`` (a subset of ``space``) spread onto every column of ``space``, 0 elsewhere,
    for the metrics, which count labels by their index in ``space``."""
    full = np.zeros((probs.shape[0], len(space)), dtype=probs.dtype)
    full[:, [space.index(label) for label in labels]] = probs
    return full


def model_arrays(model: dict[str, Any], prefix: str) -> dict[str, np.ndarray]:
    arrays = {f"{prefix}/mean": model["mean"], f"{prefix}/scale": model["scale"]}
    for i, (w, b) in enumerate(model["layers"]):
        arrays[f"{prefix}/W{i}"] = w
        arrays[f"{prefix}/b{i}"] = b
    return arrays


def model_from_arrays(arrays: Any, prefix: str) -> dict[str, Any]:
    layers = []
    while f"{prefix}/W{len(layers)}" in arrays:
        i = len(layers)
        layers.append((arrays[f"{prefix}/W{i}"], arrays[f"{prefix}/b{i}"]))
    if not layers:
        raise KeyError(prefix)
    return {"mean": arrays[f"{prefix}/mean"], "scale": arrays[f"{prefix}/scale"], "layers": layers}


# --- evaluation -------------------------------------------------------------------------------------------


def mode_features(table: WindowTable, groups: np.ndarray, mode: str) -> np.ndarray:
    return zscore_by_group(table.features, groups) if mode == "session" else table.features


@dataclass
class TrainingRows:
    """One mode's window features of a corpus and of its speed-perturbed copies, ready to fit and score.

    Row i of ``features`` belongs to speaker ``groups[i]``; ``original`` marks the unperturbed rows, the
    only ones ever scored. Each copy is z-scored on its own (a perturbed voice is a speaker of its own).
    With ``varied_baselines`` N, the session mode also trains on each speaker's windows z-scored over N more
    baselines drawn from their own clips (``random_baselines``), so that sessions holding fewer emotions than
    the corpus's speakers are read better (benchmarks/audio_baseline_mix.py); those rows are never scored.
    """

    features: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    original: np.ndarray
    labels: list[str] = field(default_factory=lambda: list(LABELS))  # the run's label set, which ``y`` indexes

    @classmethod
    def build(cls, table: WindowTable, y_clip: np.ndarray, speaker_clip: np.ndarray, mode: str,
              augmented: tuple[WindowTable, ...] = (), varied_baselines: int = 0,
              labels: list[str] = LABELS) -> TrainingRows:
        parts = [table, *augmented]
        groups = [speaker_clip[t.clip_index] for t in parts]
        rows = cls(features=np.concatenate([mode_features(t, g, mode) for t, g in zip(parts, groups, strict=True)]),
                   y=np.concatenate([y_clip[t.clip_index] for t in parts]),
                   groups=np.concatenate(groups),
                   original=np.concatenate([np.full(t.clip_index.size, i == 0) for i, t in enumerate(parts)]),
                   labels=list(labels))
        if mode == "session" and varied_baselines:
            rows = rows.with_varied_baselines(table, y_clip[table.clip_index], groups[0], varied_baselines)
        return rows

    def with_varied_baselines(self, table: WindowTable, y: np.ndarray, groups: np.ndarray, count: int,
                              seed: int = 0) -> TrainingRows:
        """These rows and each speaker's windows z-scored over ``count`` more of their own baselines."""
        rng = np.random.default_rng(seed)
        features, labels, speakers = [self.features], [self.y], [self.groups]
        for speaker in np.unique(groups):
            rows = np.flatnonzero(groups == speaker)
            for reference in random_baselines(y[rows], table.clip_index[rows], count, rng, self.labels):
                features.append(zscore_against(table.features[rows], table.features[rows[reference]]))
                labels.append(y[rows])
                speakers.append(groups[rows])
        extra = sum(len(f) for f in features[1:])
        return TrainingRows(np.concatenate(features).astype(np.float32), np.concatenate(labels),
                            np.concatenate(speakers), np.concatenate([self.original, np.zeros(extra, dtype=bool)]),
                            self.labels)

    def fit(self, without: list[str], spec: dict[str, Any] = CLASSIFIER) -> dict[str, Any]:
        """A classifier fitted on every row (perturbed copies included) of the speakers not in ``without``."""
        train = ~np.isin(self.groups, without)
        return fit_classifier(self.features[train], self.y[train], spec, len(self.labels))

    def out_of_fold(self, folds: list[list[str]], spec: dict[str, Any] = CLASSIFIER) -> np.ndarray:
        """Probabilities of every original row from the model of the fold that left its speaker out."""
        probs = np.zeros((int(self.original.sum()), len(self.labels)))
        original_groups = self.groups[self.original]
        original_features = self.features[self.original]
        for fold in folds:
            test = np.isin(original_groups, fold)
            probs[test] = predict_proba(self.fit(fold, spec), original_features[test])
        return probs


CALM_LABELS = ("neutral", "calm")  # a baseline of these alone is a session's quiet start


def random_baselines(y: np.ndarray, clip_index: np.ndarray, count: int, rng: np.random.Generator,
                     labels: list[str] = LABELS) -> list[np.ndarray]:
    """``count`` baselines of one speaker's windows (``y``, ``clip_index`` theirs; ``y`` indexes ``labels``), each
    the window indices it is taken over: a few of their clips of any emotion (5 to 40), one emotion with or without
    the neutral and calm clips, or the neutral and calm ones alone, drawn at random. Baselines of fewer than two
    windows are left out."""
    calm = np.isin(y, [labels.index(label) for label in CALM_LABELS if label in labels])
    emotions = sorted(set(np.unique(y[~calm]).tolist()))
    clips = np.unique(clip_index)
    baselines = []
    for _ in range(count):
        kind = int(rng.integers(4))
        if kind == 0 or not emotions:
            size = int(rng.integers(min(5, clips.size), min(40, clips.size) + 1))
            drawn = rng.choice(clips, size=size, replace=False)
            baseline = np.flatnonzero(np.isin(clip_index, drawn))
        elif kind == 3:
            baseline = np.flatnonzero(calm)
        else:
            own = y == rng.choice(emotions)
            baseline = np.flatnonzero(own | calm if kind == 1 else own)
        if baseline.size > 1:
            baselines.append(baseline)
    return baselines


def clip_level(window_probs: np.ndarray, clip_index: np.ndarray, n_clips: int) -> tuple[np.ndarray, np.ndarray]:
    """Clip probabilities (mean of each clip's windows) and whether each clip had any window."""
    n_labels = window_probs.shape[1]
    probs = np.full((n_clips, n_labels), 1.0 / n_labels)
    claimed = np.zeros(n_clips, dtype=bool)
    for clip in np.unique(clip_index):
        probs[clip] = clip_probabilities(window_probs[clip_index == clip])
        claimed[clip] = True
    return probs, claimed


def check_cv_folds(cv_folds: int) -> None:
    """Speaker-independent cross-validation needs two folds or more (said before any feature work)."""
    if cv_folds < 2:
        raise InputError(str(cv_folds), "--cv-folds must be at least 2")


def speaker_folds(speakers: list[str], cv_folds: int) -> list[list[str]]:
    """GroupKFold's speaker partition (deterministic), written into the report."""
    from sklearn.model_selection import GroupKFold

    n_folds = min(cv_folds, len(speakers))
    order = np.array(speakers)
    folds = GroupKFold(n_splits=n_folds).split(order, groups=order)
    return [sorted(order[test].tolist()) for _, test in folds]


def cross_validate(table: WindowTable, y_clip: np.ndarray, speaker_clip: np.ndarray,
                   folds: list[list[str]], spec: dict[str, Any] = CLASSIFIER,
                   augmented: tuple[WindowTable, ...] = (), varied_baselines: int = 0,
                   labels: list[str] = LABELS) -> dict[str, dict[str, Any]]:
    """Out-of-fold metrics per mode, at clip and at window level (``augmented``: perturbed copies to train on), each
    with its 95 % intervals of UA and macro-F1 over resampled speakers (``interval_95``); ``y_clip`` indexes
    ``labels``."""
    y = y_clip[table.clip_index]
    speaker_window = speaker_clip[table.clip_index]
    results: dict[str, dict[str, Any]] = {}
    for mode in MODES:
        rows = TrainingRows.build(table, y_clip, speaker_clip, mode, augmented, varied_baselines, labels)
        window_probs = rows.out_of_fold(folds, spec)
        clip_probs, claimed = clip_level(window_probs, table.clip_index, len(table.clips))
        results[f"{mode}/clip"] = classification_metrics(y_clip, clip_probs, list(labels), claimed) | {
            "interval_95": group_interval(y_clip, np.where(claimed, clip_probs.argmax(axis=1), -1), speaker_clip,
                                          len(labels), "speaker")}
        results[f"{mode}/window"] = classification_metrics(y, window_probs, list(labels)) | {
            "interval_95": group_interval(y, window_probs.argmax(axis=1), speaker_window, len(labels), "speaker")}
    return results


# --- the command ------------------------------------------------------------------------------------------


def coverage_warnings(corpus: Corpus, learnt: list[str] | None = None, folds: Sequence[Sequence[str]] = (),
                      validation: Sequence[str] = ()) -> list[str]:
    """Labels the speaker-independent figures cannot judge: ones the exported model leaves out (not among
    ``learnt``, default the labels with clips: absent, or with clips but no speech window), ones only one speaker
    has (the fold that scores that speaker never trained on the label, so its recall is 0 by construction), and
    ones whose every speaker one of ``folds`` holds out together, or the ``validation`` speakers do (the model that
    scores them, a fold's or export's check model, never learnt the label)."""
    speakers_of = corpus.speakers_by_label()
    learnt = [label for label in corpus.labels if speakers_of[label]] if learnt is None else learnt
    left_out = [label for label in corpus.labels if label not in learnt]
    them = "it" if len(left_out) == 1 else "them"
    warnings_ = [f"{unlearnt_labels(left_out, [label for label in corpus.labels if speakers_of[label]])}: the exported "
                 f"model leaves {them} out (its card lists the labels it learnt, so its tracks mark {them} "
                 f"unsupported and fusion gives {them} no say), and UA is over the other labels"] if left_out else []
    warnings_ += [f"only speaker {s[0]} has {label} clips: no fold scores {label} on a speaker it was "
                  "trained on, so its recall is 0 by construction and UA understates the model"
                  for label, s in speakers_of.items() if len(s) == 1]
    for label, them in speakers_of.items():
        if len(them) > 1 and any(set(them) <= set(fold) for fold in folds):
            warnings_.append(f"every speaker of {label} ({', '.join(them)}) is in one cross-validation fold: the "
                             f"model that scores them never learnt {label}, so its recall is 0 by construction and "
                             "UA understates the model; more folds (--cv-folds) or more speakers of it split them")
        if len(them) > 1 and set(them) <= set(validation):
            warnings_.append(f"every speaker of {label} ({', '.join(them)}) is a validation speaker: export's check "
                             f"model never learnt {label}, so the card's held-out figures score its recall 0")
    return warnings_


def short_form_warnings(labels: list[str]) -> list[str]:
    """One warning naming those of a run's own ``labels`` that are a corpus's short forms ('n', 'ps'): with
    --labels-as-given each is a class of its own, which fusion leaves out, where the manifest may have meant the
    emotion it stands for elsewhere."""
    codes = [label for label in outside_canonical(labels) if label in LABEL_SHORT_FORMS]
    if not codes:
        return []
    meant = ", ".join(f"{code} ({LABEL_SHORT_FORMS[code]})" for code in codes)
    return [f"own label(s) {meant} are short forms corpora use for canonical emotions: taken as given they are "
            "classes of their own, left out of fusion; without --labels-as-given they are read as those emotions"]


def unlearnt_labels(left_out: list[str], with_clips: list[str]) -> str:
    """Why the labels ``left_out`` were not learnt, by whether the training data had clips of them
    (``with_clips``): 'no clips of calm; no speech windows of sad (its clips held none)'."""
    absent = [label for label in left_out if label not in with_clips]
    silent = [label for label in left_out if label in with_clips]
    parts = [f"no clips of {', '.join(absent)}"] if absent else []
    if silent:
        parts.append(f"no speech windows of {', '.join(silent)} ({'its' if len(silent) == 1 else 'their'} clips "
                     "held none)")
    return "; ".join(parts)


def default_validation_speakers(speakers: list[str]) -> list[str]:
    """The last fifth of the speakers in sorted order (RAVDESS 01-20: actors 17-20)."""
    count = max(1, round(len(speakers) / 5))
    return sorted(speakers)[-count:]


def train_audio(data: Path, out: Path, cv_folds: int = 5, validation_speakers: list[str] | None = None,
                speed_factors: tuple[float, ...] = SPEED_FACTORS, varied_baselines: int = 0,
                labels_as_given: bool = False) -> TrainReport:
    """Cross-validate by speaker, report, and fit the float models export writes as ONNX; ``labels_as_given``: a
    manifest's labels that map onto no canonical one are classes of their own (``export.audio.datasets``)."""
    started = time.perf_counter()
    data, out = Path(data), Path(out)
    check_output_folder(out, {"data folder": data})
    try:
        corpus = load_corpus(data, LABELS_AS_GIVEN if labels_as_given else ())
    except UnmappedLabels as error:  # a clinic's own scheme is trained on when asked: say how
        if labels_as_given:  # asked already: what its rows lack is a label at all
            raise
        raise InputError(error.source, f"{error.problem} (labels of a scheme of one's own: --labels-as-given takes "
                         "a manifest's labels as written)") from None
    speakers = corpus.speakers
    if len(speakers) < 2:
        raise InputError(data, "needs clips from at least two speakers for speaker-independent folds")
    refuse_own_labels_of_one_speaker(data, corpus)
    emotions = sorted({clip.emotion for clip in corpus.clips}, key=corpus.labels.index)
    if len(emotions) < 2:  # a model of one label always says it, and its figures would read as perfect
        raise InputError(data, f"every clip is labelled {emotions[0]}: training needs clips of at least two emotions")
    check_cv_folds(cv_folds)
    if cv_folds > len(speakers):  # said before the minutes of feature work, not only in the report's fold count
        log.warning("--cv-folds %d: only %d speakers, so %d folds of one speaker each", cv_folds, len(speakers),
                    len(speakers))
    validation = _resolve_speakers(validation_speakers, speakers, data)
    truncated = truncated_wavs(corpus.clips)
    for line in truncated.values():  # said before the minutes of work, so that a copy cut short can be made again
        log.warning("%s", line)
    if not 0 <= varied_baselines <= MAX_VARIED_BASELINES:
        raise InputError(str(varied_baselines), f"--varied-baselines must be from 0 to {MAX_VARIED_BASELINES}")
    bad_factors = [f for f in speed_factors if not 0.5 <= f <= 2.0 or f == 1.0]
    if bad_factors:
        raise InputError(",".join(f"{f:g}" for f in bad_factors),
                         "speed factors must lie between 0.5 and 2 and differ from 1")
    # report.json marks a finished run (written last, export needs it)
    with writing_folder(out, ("report.json", "report.md"), {"data folder": data}, caches=(CACHE_FOLDER,)) as run:
        return _train(corpus, data, run, cv_folds, validation, speed_factors, started, varied_baselines, truncated,
                      labels_as_given)


def refuse_own_labels_of_one_speaker(data: Path, corpus: Corpus) -> None:
    """An ``InputError`` naming a manifest's own labels (outside the canonical ones) that only one speaker's clips
    have: no fold could judge such a label on a speaker it was not learnt from, and a word of one's own met in one
    speaker's rows alone is what a typo looks like. (A canonical label of one speaker is a warning of the report.)"""
    speakers = corpus.speakers_by_label()
    lone = [f"{label!r} ({speakers[label][0]}, {corpus.counts()[label]} clip(s))"
            for label in outside_canonical(speakers) if len(speakers[label]) == 1]
    if lone:
        raise InputError(data, f"{len(lone)} label(s) with clips of one speaker alone: {first_named(lone)}; each label "
                         "needs clips from at least two speakers for speaker-independent folds (a misspelt label "
                         "reads as a label of its own)")


def _train(corpus: Corpus, data: Path, run: RunFolder, cv_folds: int, validation: list[str],
           speed_factors: tuple[float, ...], started: float, varied_baselines: int = 0,
           truncated: dict[Path, str] | None = None, labels_as_given: bool = False) -> TrainReport:
    out = run.path
    truncated = truncated or {}
    with media_lines_once({str(path) for path in truncated}):
        # the cache serves a retrain, and the retry of a run stopped or failed after it (writing_folder): kept
        table = extract_windows(corpus.clips, cache_dir=out / CACHE_FOLDER, data=data)
        if table.features.shape[0] == 0:
            raise InputError(data, "no clip holds any speech")
        augmented = tuple(extract_windows(corpus.clips, cache_dir=out / CACHE_FOLDER, speed_factor=f, data=data)
                          for f in speed_factors)

    labels = corpus.labels
    y_clip = np.array([labels.index(clip.emotion) for clip in corpus.clips])
    speaker_clip = np.array([clip.speaker for clip in corpus.clips])
    speakers = corpus.speakers
    folds = speaker_folds(speakers, cv_folds)
    cv = cross_validate(table, y_clip, speaker_clip, folds, augmented=augmented, varied_baselines=varied_baselines,
                        labels=labels)
    run.begin()  # minutes of work are done: from here an earlier run in the folder is replaced
    learnt = _fit_and_save(table, y_clip, speaker_clip, validation, out, augmented, varied_baselines, labels)

    report = TrainReport(data=str(data), n_clips=len(corpus.clips), n_windows=int(table.features.shape[0]),
                         speakers=speakers, validation_speakers=validation, folds=folds, cv=cv,
                         skipped=corpus.skipped, no_speech_clips=table.no_speech, classifier=dict(CLASSIFIER),
                         speed_factors=list(speed_factors), varied_baselines=varied_baselines,
                         seconds=round(time.perf_counter() - started, 1),
                         warnings=coverage_warnings(corpus, learnt, folds, validation) + short_form_warnings(labels),
                         ravdess_clips=ravdess_clips(corpus.clips), truncated_clips=list(truncated.values()),
                         clips_per_label=corpus.counts(),
                         speakers_per_label={k: len(v) for k, v in corpus.speakers_by_label().items()},
                         data_checksum=data_checksum(data, corpus), data_path=str(data.resolve()),
                         labels=list(labels), labels_as_given=labels_as_given)
    _write_report(report, out)
    return report


def media_lines_once(said: set[str]) -> AbstractContextManager[None]:
    """``runtime.media``'s warnings while the clips are read, each said once: a clip is read again for every speed
    copy, and a WAV cut short, which the run has said itself (``truncated_wavs``, paths ``said``), not again."""

    def cut_short_said(record: logging.LogRecord) -> bool:
        named = isinstance(record.args, tuple) and bool(record.args) and str(record.args[0]) in said
        return named and "cut short" in record.getMessage()

    return log_filters.said_once([logging.getLogger("runtime.media")], unsaid=cut_short_said)


def _resolve_speakers(requested: list[str] | None, speakers: list[str], data: Path) -> list[str]:
    return resolve_speakers(requested, speakers, data) if requested else default_validation_speakers(speakers)


def resolve_speakers(requested: list[str], speakers: list[str], data: Path) -> list[str]:
    """The corpus's speakers that ``--validation-speakers`` names (sorted): each the speaker of that id; else the
    one speaker whose id it spells otherwise (``speaker_key``: 'p1' is 'P01', 'actor 3' is 'Actor_03'); else the
    one whose id ends in '-' and it, spelt either way ('17' or '017' for 'ravdess-17'). A name read as another
    spelling is said in a warning line. An ``InputError``, the speakers listed: a name that is none of them, or
    fits several, or names that leave no speaker to train on."""
    resolved = []
    for name in (s.strip() for s in requested if s.strip()):
        matches = speakers_named(name, speakers)
        if len(matches) != 1:
            raise InputError(name, f"is not one speaker of {data} (speakers: {', '.join(speakers)})")
        # said before the minutes of work, where a typo may have picked a speaker (not for the documented '17')
        if name not in (matches[0], id_end(matches[0])):
            log.warning("--validation-speakers %s read as %s", name, matches[0])
        resolved.append(matches[0])
    if not resolved:
        raise InputError(",".join(requested), "--validation-speakers names no speaker")
    if len(set(resolved)) >= len(speakers):
        raise InputError(",".join(requested), "validation speakers must leave some speakers to train on")
    return sorted(set(resolved))


def speakers_named(name: str, speakers: list[str]) -> list[str]:
    """The speakers a typed ``name`` may mean, by the first rule any fits (``resolve_speakers``)."""
    if name in speakers:
        return [name]
    key = speaker_key(name)
    respelled = [s for s in speakers if speaker_key(s) == key]
    # RAVDESS speakers are "ravdess-17": "17" names one too, where no speaker is "17" itself
    return respelled or [s for s in speakers if "-" in s and speaker_key(id_end(s)) == key]


def rebuild_speaker_name(speaker: str, speakers: list[str]) -> str:
    """How a card's Rebuild line names ``speaker`` to ``--validation-speakers``: the end of its id after the last '-'
    ('17' for ravdess-17) where that names it alone among ``speakers`` (``speakers_named``), else its whole id, which
    always does (site1-P01 beside site2-P01 or a speaker 'P01')."""
    short = id_end(speaker)
    return short if speakers_named(short, speakers) == [speaker] else speaker


def id_end(speaker: str) -> str:
    """A speaker id's end after its last '-' ('17' of 'ravdess-17'; the whole id where it has none)."""
    return speaker.rsplit("-", 1)[-1]


def _fit_and_save(table: WindowTable, y_clip: np.ndarray, speaker_clip: np.ndarray, validation: list[str],
                  out: Path, augmented: tuple[WindowTable, ...] = (), varied_baselines: int = 0,
                  space: list[str] = LABELS) -> list[str]:
    """Fit each mode on every speaker (shipped) and on all but the validation speakers (quantization check);
    the labels the shipped models learnt, of the run's label set ``space`` (which ``y_clip`` indexes)."""
    groups = speaker_clip[table.clip_index]
    y = y_clip[table.clip_index]
    held_out = np.isin(groups, validation)
    arrays: dict[str, np.ndarray] = {}
    learnt: list[str] = []
    for mode in MODES:
        rows = TrainingRows.build(table, y_clip, speaker_clip, mode, augmented, varied_baselines, space)
        learnt = learnt_labels(rows.y, space)  # the rows the shipped model is fitted on, the same in each mode
        arrays.update(model_arrays(rows.fit(without=[]), f"{mode}/all"))
        arrays.update(model_arrays(rows.fit(without=validation), f"{mode}/check"))
    # label_space: what the outputs and validation.npz's y count in (the canonical eight where absent); whether the
    # labels were taken as given is the report's to say (export reads it there)
    meta = {"feature_set": FEATURE_SET, "n_features": len(feature_names()), "labels": learnt,
            "label_space": list(space),
            "window_s": WINDOW_S, "hop_s": WINDOW_HOP_S, "min_speech_fraction": MIN_SPEECH_FRACTION,
            "classifier": CLASSIFIER, "speed_factors": [t.speed_factor for t in augmented],
            "varied_baselines": varied_baselines,
            "validation_speakers": validation}
    save_npz(out / "models.npz", meta=np.array(json.dumps(meta)), **arrays)
    save_npz(out / "validation.npz", features=table.features[held_out], groups=groups[held_out],
              y=y[held_out], clip_index=table.clip_index[held_out])
    return learnt


def _write_report(report: TrainReport, out: Path) -> None:
    lines = [f"# Voice-emotion training report ({FEATURE_SET})", "",
             f"Data: `{report.data}`: {report.n_clips} clips, {report.n_windows} speech windows "
             f"({WINDOW_S} s, hop {WINDOW_HOP_S} s, at least {MIN_SPEECH_FRACTION:.0%} speech), "
             f"{len(report.speakers)} speakers. Clips (speakers) per label: "
             + ", ".join(f"{label} {n} ({report.speakers_per_label[label]})"
                         for label, n in report.clips_per_label.items()) + ".", "",
             f"Data checksum: sha256 `{report.data_checksum['sha256']}`, of {report.data_checksum['of']}.", "",
             *([f"Labels as the manifest gives them (--labels-as-given): {', '.join(report.labels)}.", ""]
               if report.labels_as_given else []),
             f"Classifier: `{json.dumps(report.classifier)}`. Speed-perturbed copies of the training speakers: "
             f"{', '.join(f'{f:g}' for f in report.speed_factors) or 'none'}. Baselines per speaker besides the whole "
             f"set (session variant, --varied-baselines): {report.varied_baselines}.", "",
             f"Speaker-independent folds (GroupKFold, {len(report.folds)} folds):", ""]
    lines += [f"- fold {i + 1}: {', '.join(fold)}" for i, fold in enumerate(report.folds)]
    lines += ["", "## Cross-validated metrics (out of fold)", "", markdown_table(report.cv), "",
              "With 95 % intervals over resampled speakers (each draw brings all of a speaker's clips or windows):", ""]
    lines += [f"- {name}: UA {m['ua']:.3f}{interval_text(m['interval_95'], 'ua')}, macro-F1 {m['macro_f1']:.3f}"
              f"{interval_text(m['interval_95'], 'macro_f1')}"
              + (f"; {m['interval_95']['note']}" if "note" in m["interval_95"] else "")
              for name, m in report.cv.items()]
    lines += ["",
              "## Per-class recall (clip level)", "", "| label | " + " | ".join(MODES) + " |",
              "|---|" + "---|" * len(MODES)]
    for label in report.labels:  # a label without clips has no recall ("-"), not a recall of 0
        recalls = [report.cv[f"{m}/clip"]["recall"][label] for m in MODES]
        lines.append(f"| {label} | " + " | ".join("-" if r is None else f"{r:.3f}" for r in recalls) + " |")
    for mode in MODES:
        matrix = report.cv[f"{mode}/clip"]["confusion"]["rows_true_cols_pred"]
        lines += ["", f"## Confusion, clip level, {mode} (rows true, columns predicted)", "",
                  "| | " + " | ".join(report.labels) + " |", "|---|" + "---|" * len(report.labels)]
        lines += [f"| {label} | " + " | ".join(str(v) for v in row) + " |"
                  for label, row in zip(report.labels, matrix, strict=True)]
    if report.skipped:
        lines += ["", "## Left out", ""] + [f"- {n} file(s): {why}" for why, n in report.skipped.items()]
    if report.no_speech_clips:
        lines += ["", f"{len(report.no_speech_clips)} clip(s) had no speech window and count as wrong."]
    if report.truncated_clips:
        lines += ["", "## WAV clips cut short (trained on as what they hold)", ""]
        lines += [f"- {line}" for line in report.truncated_clips]
    if report.warnings:
        lines += ["", "## What these figures cannot say", ""] + [f"- {warning}" for warning in report.warnings]
    lines += ["", f"Validation speakers (held out of the check model): {', '.join(report.validation_speakers)}"]
    write_atomically(out / "report.md", ("\n".join(lines) + "\n").encode())
    write_atomically(out / "report.json", (json.dumps(report.to_dict(), indent=2) + "\n").encode())  # last: done
