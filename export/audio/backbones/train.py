"""`emotrace train audio --audio-backbone NAME_OR_PATH`: a pretrained speech model judged on unseen speakers.

- An encoder (or the dimensional model's trunk) gets ``LayerWeightedHead``: the encoder is frozen, every
  window's per-layer time-averaged states are computed once, and the head (softmax layer weights + MLP) is
  trained on them in speaker-independent folds, then once more on all training speakers.
- A fine-tuned classifier or emotion2vec keeps its own head: it is only evaluated (its labels mapped onto
  the canonical set, unmapped ones reported), since no speaker of the corpus is needed to train it.

Folds group windows by speaker (StratifiedGroupKFold), so no speaker is in a fold's training and test part;
``validation_speakers`` are kept out of everything until the final check. Metrics are per window and per clip
(the mean of its windows' probabilities): UA (balanced accuracy), macro-F1, ECE.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from export.arrays import read_cache, save_npz
from export.audio.backbones.catalog import KIND_CLASSIFIER, KIND_DIMENSIONAL, KIND_EMOTION2VEC
from export.audio.backbones.data import (
    WINDOW_HOP_S,
    WINDOW_S,
    WINDOWS_FILE,
    WaveformWindows,
    corpus_windows,
)
from export.audio.backbones.models import (
    DIMENSIONS,
    LayerWeightedHead,
    LoadedModel,
    load_pretrained,
    model_fingerprint,
)
from export.audio.backbones.store import resolve_model
from export.audio.datasets import Corpus, load_corpus
from export.audio.train import check_cv_folds, resolve_speakers
from export.face.metrics import classification_report
from runtime.audio_rate import AUDIO_RATE_HZ
from runtime.errors import InputError
from runtime.files import RunFolder, check_output_folder, path_text, write_atomically, writing_folder
from runtime.models.card import file_sha256
from runtime.stopping import raise_if_stop_asked
from runtime.track import CANONICAL_LABELS

HEAD_FILE = "head.pt"
BACKBONE_FILE = "backbone.json"
REPORT_FILE = "report.json"
POOLED_CACHES = "pooled-*.npz"  # in a run's folder, keyed by the model and the clips: kept for a retry
_METRIC_KEYS = ("n", "accuracy", "balanced_accuracy", "macro_f1", "ece")


@dataclass(frozen=True)
class HeadSettings:
    head_hidden: int = 256
    dropout: float = 0.2
    epochs: int = 60
    batch_size: int = 128
    learning_rate: float = 1e-3
    weight_decay: float = 1e-2
    seed: int = 0


@dataclass
class BackboneReport:
    backbone: str
    kind: str
    licence: str
    labels: list[str]
    n_clips: int
    n_windows: int
    speakers: list[str]
    cv: dict = field(default_factory=dict)  # {"window": metrics, "clip": metrics, "folds": [...]}
    validation: dict | None = None
    label_mapping: dict | None = None
    layer_weights: list[float] | None = None
    dimensions_by_label: dict | None = None  # dimensional model: mean arousal/dominance/valence per label
    clips_without_speech: list[str] = field(default_factory=list)  # no speech window: not judged
    skipped: dict = field(default_factory=dict)  # corpus files left out (reason -> count)
    out: Path | None = None

    def to_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "out"}
        data["out"] = str(self.out) if self.out else None
        return data

    def summary(self) -> str:
        lines = [
            f"{self.backbone} ({self.kind}; licence: {self.licence}): {self.n_clips} clips, "
            f"{self.n_windows} windows, {len(self.speakers)} speakers"
        ]
        if self.clips_without_speech:
            lines.append(f"  {len(self.clips_without_speech)} clip(s) without a speech window, not judged")
        for scope in ("window", "clip"):
            if scope in self.cv:
                lines.append(f"  speaker-independent CV, per {scope}: {_line(self.cv[scope])}")
        if self.validation:
            lines.append(f"  held-out validation speakers, per clip: {_line(self.validation['clip'])}")
        if self.label_mapping and self.label_mapping.get("unmapped"):
            lines.append(
                f"  unmapped model labels (mass dropped): {', '.join(self.label_mapping['unmapped'])}"
            )
        if self.label_mapping and self.label_mapping.get("unsupported"):
            lines.append(
                f"  canonical labels it cannot produce: {', '.join(self.label_mapping['unsupported'])}"
            )
        if self.out:
            lines.append(f"  written to {self.out}")
        return "\n".join(lines)


def _line(metrics: dict) -> str:
    return (
        f"UA {metrics['balanced_accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f}, "
        f"ECE {metrics['ece']:.3f}, accuracy {metrics['accuracy']:.3f} (n={metrics['n']})"
    )


# --- the head ---------------------------------------------------------------------------------------


def fit_head(
    pooled: np.ndarray, targets: np.ndarray, n_classes: int, settings: HeadSettings = HeadSettings()
) -> LayerWeightedHead:
    """Train ``LayerWeightedHead`` on (n, n_layers, hidden) pooled states; class-balanced cross-entropy."""
    torch.manual_seed(settings.seed)
    generator = np.random.default_rng(settings.seed)
    head = LayerWeightedHead(
        pooled.shape[1], pooled.shape[2], n_classes, settings.head_hidden, settings.dropout
    )
    head.set_standardisation(pooled)
    counts = np.bincount(targets, minlength=n_classes).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / n_classes, 0.0)
    loss_fn = nn.CrossEntropyLoss(weight=torch.as_tensor(weights, dtype=torch.float32))
    # The layer weights get no decay (it would pull them back to uniform) and a faster rate: 13-25 numbers
    # that should settle within a few epochs, unlike the MLP's weights.
    others = [p for name, p in head.named_parameters() if name != "layer_logits"]
    optimiser = torch.optim.AdamW(
        [
            {"params": others, "weight_decay": settings.weight_decay},
            {"params": [head.layer_logits], "weight_decay": 0.0, "lr": settings.learning_rate * 10},
        ],
        lr=settings.learning_rate,
    )
    x_all = torch.as_tensor(pooled, dtype=torch.float32)
    y_all = torch.as_tensor(targets, dtype=torch.long)
    head.train()
    for _ in range(settings.epochs):
        order = generator.permutation(len(targets))
        for first in range(0, len(order), settings.batch_size):
            batch = torch.as_tensor(order[first : first + settings.batch_size])
            optimiser.zero_grad()
            loss = loss_fn(head(x_all[batch]), y_all[batch])
            loss.backward()
            optimiser.step()
            raise_if_stop_asked()  # a stop a library swallowed during the step
    head.eval()
    return head


def head_probs(head: LayerWeightedHead, pooled: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return torch.softmax(head(torch.as_tensor(pooled, dtype=torch.float32)), dim=-1).numpy()


# --- evaluation -------------------------------------------------------------------------------------


def clip_probs(probs: np.ndarray, clip_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean window probabilities per clip: (clip ids in order, (n_clips, n_classes))."""
    ids = np.unique(clip_index)
    return ids, np.stack([probs[clip_index == i].mean(axis=0) for i in ids]) if ids.size else probs[:0]


def evaluate(probs: np.ndarray, targets: np.ndarray, clip_index: np.ndarray, labels: list[str]) -> dict:
    """Window- and clip-level figures; ``targets`` index ``labels``."""
    ids, per_clip = clip_probs(probs, clip_index)
    clip_targets = np.array([targets[clip_index == i][0] for i in ids], dtype=int)
    return {"window": _metrics(targets, probs, labels), "clip": _metrics(clip_targets, per_clip, labels)}


def _metrics(targets: np.ndarray, probs: np.ndarray, labels: list[str]) -> dict:
    report = classification_report(targets, probs, labels)
    return {k: report[k] for k in (*_METRIC_KEYS, "confusion", "labels")}


def speaker_folds(targets: np.ndarray, speakers: np.ndarray, n_folds: int, seed: int = 0) -> list[np.ndarray]:
    """Test indices of each fold; every speaker's windows in exactly one fold."""
    from sklearn.model_selection import StratifiedGroupKFold

    n_speakers = len(np.unique(speakers))
    if n_speakers < 2:
        raise InputError(
            "speakers", f"speaker-independent folds need at least 2 speakers, found {n_speakers}"
        )
    splitter = StratifiedGroupKFold(n_splits=min(n_folds, n_speakers), shuffle=True, random_state=seed)
    return [test for _, test in splitter.split(np.zeros(len(targets)), targets, groups=speakers)]


# --- the command ------------------------------------------------------------------------------------


def train_backbone(
    data: str | Path,
    out: str | Path,
    backbone: str,
    cv_folds: int = 5,
    validation_speakers: list[str] | None = None,
    cache_dir: str | Path | None = None,
    settings: HeadSettings = HeadSettings(),
    progress: bool = True,
) -> BackboneReport:
    """Train (or, for models with their own head, evaluate) ``backbone`` on the corpus in ``data``."""
    data, out = Path(data), Path(out)
    check_cv_folds(cv_folds)
    inputs = {"data folder": data, "backbone's folder": resolve_model(backbone, cache_dir)}
    check_output_folder(out, inputs)
    corpus = load_corpus(data)
    validation_speakers = _check_corpus(corpus, data, validation_speakers)
    with writing_folder(out, (REPORT_FILE,), inputs, caches=(POOLED_CACHES,)) as run:
        return _train(corpus, data, run, backbone, cv_folds, validation_speakers, cache_dir, settings, progress)


def _check_corpus(corpus: Corpus, data: Path, validation_speakers: list[str] | None) -> list[str]:
    """What the corpus must hold before any model is loaded: two labels, and two training speakers for folds.
    Returns the validation speakers as the corpus names them ("03" is RAVDESS's "ravdess-03", as in the default
    route)."""
    emotions = sorted({clip.emotion for clip in corpus.clips})
    if len(emotions) < 2:
        raise InputError(data, f"needs clips of at least two emotions to train or judge a head (only {emotions})")
    validation_speakers = resolve_speakers(validation_speakers, corpus.speakers, data) if validation_speakers else []
    training = set(corpus.speakers) - set(validation_speakers)
    if len(training) < 2:
        raise InputError(data, f"speaker-independent folds need at least 2 speakers besides the validation "
                               f"speakers, found {len(training)}")
    return validation_speakers


def _train(
    corpus: Corpus,
    data: Path,
    run: RunFolder,
    backbone: str,
    cv_folds: int,
    validation_speakers: list[str] | None,
    cache_dir: str | Path | None,
    settings: HeadSettings,
    progress: bool,
) -> BackboneReport:
    model = load_pretrained(backbone, cache_dir)
    labels = [label for label in CANONICAL_LABELS if label in {c.emotion for c in corpus.clips}]
    if model.kind in (KIND_CLASSIFIER, KIND_EMOTION2VEC) and len(set(labels) & set(model.labels)) < 2:
        # its own head judges only labels it can say: fewer than two leave nothing to score
        raise InputError(data, f"{backbone} can say {', '.join(model.labels)}; the corpus needs clips of at least "
                               f"two of them to judge it (it has {', '.join(labels)})")
    windows = corpus_windows(corpus.clips, progress=progress)
    if len(windows.windows) == 0:
        raise InputError(data, "no clip holds a speech window")
    out = run.for_caches()  # run.begin() comes right before the first result is written
    speakers = np.array([windows.clips[i].speaker for i in windows.clip_index])
    held_out = np.isin(speakers, validation_speakers or [])
    targets = np.array([labels.index(windows.clips[i].emotion) for i in windows.clip_index], dtype=int)
    report = BackboneReport(
        backbone,
        model.kind,
        model.licence,
        labels,
        len(corpus.clips),
        len(windows.windows),
        sorted(set(speakers.tolist())),
        clips_without_speech=windows.no_speech,
        skipped=corpus.skipped,
        out=out,
    )
    fold_of = np.full(len(targets), -1)
    if model.kind in (KIND_CLASSIFIER, KIND_EMOTION2VEC):
        _evaluate_own_head(model, windows, targets, labels, held_out, report, progress)
    else:
        fold_of = _train_head(
            model, windows, targets, labels, speakers, held_out, cv_folds, settings, run, report, progress
        )
    if model.kind == KIND_DIMENSIONAL:
        # Its own arousal/dominance/valence per corpus label: a sanity check (anger should be aroused).
        dimensions = model.predict(windows.waveforms)
        report.dimensions_by_label = {
            label: dict(zip(DIMENSIONS, dimensions[targets == k].mean(axis=0).round(4).tolist(), strict=True))
            for k, label in enumerate(labels)
            if (targets == k).any()
        }
    run.begin()  # from here an earlier run in the folder is replaced (a trained head's run began already)
    _write_windows(out / WINDOWS_FILE, windows, labels, targets, fold_of, held_out)
    write_atomically(out / REPORT_FILE, json.dumps(report.to_dict(), indent=2).encode())  # last: the run is done
    return report


def _log(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)


def _pooled_cached(
    model: LoadedModel, fingerprint: str, windows: WaveformWindows, out: Path, progress: bool
) -> np.ndarray:
    """Every window's pooled layers, cached in ``out`` under a key of the model's files and the clip list."""
    digest = hashlib.sha256(fingerprint.encode())
    for clip in windows.clips:
        digest.update(f"{clip.path}|{clip.path.stat().st_size}".encode())
    digest.update(f"{WINDOW_S}|{WINDOW_HOP_S}|{len(windows.windows)}|without dc".encode())
    cache = out / POOLED_CACHES.replace("*", digest.hexdigest()[:16])
    cached = read_cache(cache, ("pooled",)) if cache.is_file() else None
    if cached is not None:
        return cached["pooled"]
    _log(progress, f"  encoding {len(windows.windows)} windows with {model.name} ...")
    pooled = model.pooled(windows.waveforms).astype(np.float32)
    save_npz(cache, pooled=pooled)
    return pooled


def _train_head(
    model: LoadedModel,
    windows: WaveformWindows,
    targets: np.ndarray,
    labels: list[str],
    speakers: np.ndarray,
    held_out: np.ndarray,
    cv_folds: int,
    settings: HeadSettings,
    run: RunFolder,
    report: BackboneReport,
    progress: bool,
) -> np.ndarray:
    out = run.path
    fingerprint = model_fingerprint(model.folder)
    pooled = _pooled_cached(model, fingerprint, windows, out, progress)
    train = np.flatnonzero(~held_out)
    fold_of = np.full(len(targets), -1)
    oof = np.zeros((len(targets), len(labels)))
    folds = []
    for k, test in enumerate(speaker_folds(targets[train], speakers[train], cv_folds, settings.seed)):
        test_idx = train[test]
        fit_idx = np.setdiff1d(train, test_idx)
        head = fit_head(pooled[fit_idx], targets[fit_idx], len(labels), settings)
        oof[test_idx] = head_probs(head, pooled[test_idx])
        fold_of[test_idx] = k
        folds.append(
            {
                "fold": k,
                "test_speakers": sorted(set(speakers[test_idx].tolist())),
                **{
                    k2: v
                    for k2, v in evaluate(
                        oof[test_idx], targets[test_idx], windows.clip_index[test_idx], labels
                    )["clip"].items()
                    if k2 in _METRIC_KEYS
                },
            }
        )
        _log(progress, f"  fold {k}: clip UA {folds[-1]['balanced_accuracy']:.3f}")
    report.cv = {
        **evaluate(oof[train], targets[train], windows.clip_index[train], labels),
        "folds": folds,
        "split": f"StratifiedGroupKFold by speaker, {len(folds)} folds, seed {settings.seed}",
    }
    head = fit_head(pooled[train], targets[train], len(labels), settings)
    if held_out.any():
        val = np.flatnonzero(held_out)
        report.validation = evaluate(
            head_probs(head, pooled[val]), targets[val], windows.clip_index[val], labels
        )
    report.layer_weights = head.layer_weights.round(4).tolist()
    buffer = io.BytesIO()
    torch.save(head.state_dict(), buffer)
    run.begin()  # the first result: an earlier run's report goes, so it never stands beside this head
    write_atomically(out / HEAD_FILE, buffer.getvalue())
    description = {
        "backbone": model.name,
        "folder": str(model.folder),
        # export refuses a head.pt from another run and an encoder folder whose files changed since
        "head_sha256": file_sha256(out / HEAD_FILE),
        "backbone_sha256": fingerprint,
        "kind": model.kind,
        "licence": model.licence,
        "labels": labels,
        "n_layers": model.n_layers,
        "hidden_size": model.hidden_size,
        "normalize": bool(model.pooled_layers.normalizer.enabled),
        "sample_rate_hz": AUDIO_RATE_HZ,
        "window_s": WINDOW_S,
        "hop_s": WINDOW_HOP_S,
        "head": settings.__dict__,
    }
    write_atomically(out / BACKBONE_FILE, json.dumps(description, indent=2).encode())
    return fold_of


def _evaluate_own_head(
    model: LoadedModel,
    windows: WaveformWindows,
    targets: np.ndarray,
    labels: list[str],
    held_out: np.ndarray,
    report: BackboneReport,
    progress: bool,
) -> None:
    """A model with its own head: every speaker is unseen to it, so all windows are test windows."""
    _log(progress, f"  running {model.name} on {len(windows.windows)} windows ...")
    supported = model.labels
    probs = model.predict(windows.waveforms)  # over ``supported``
    keep = np.isin(np.array(labels)[targets], supported)  # windows whose true label the model can say
    columns = [supported.index(label) for label in labels if label in supported]
    kept_labels = [label for label in labels if label in supported]
    remap = np.array([kept_labels.index(labels[t]) if labels[t] in kept_labels else -1 for t in targets])
    report.label_mapping = model.mapping.report() if model.mapping else None
    report.labels = kept_labels
    report.cv = {
        **evaluate(probs[keep][:, columns], remap[keep], windows.clip_index[keep], kept_labels),
        "split": "none needed: the checkpoint never saw these speakers (check its card for the corpus)",
        "windows_with_unsupported_true_label": int((~keep).sum()),
    }
    del held_out  # every speaker is already unseen


def _write_windows(
    path: Path,
    windows: WaveformWindows,
    labels: list[str],
    targets: np.ndarray,
    fold_of: np.ndarray,
    held_out: np.ndarray,
) -> None:
    """One row per window: where it came from, its label, its fold (-1 = final-check speaker or no CV)."""
    rows = [["path", "speaker", "start_s", "end_s", "speech_fraction", "emotion", "fold", "held_out"]]
    for i, window in enumerate(windows.windows):
        clip = windows.clips[windows.clip_index[i]]
        rows.append(
            [
                path_text(clip.path),
                clip.speaker,
                f"{window.start_s:.6f}",
                f"{window.end_s:.6f}",
                f"{window.speech_fraction:.4f}",
                labels[targets[i]],
                int(fold_of[i]),
                int(held_out[i]),
            ]
        )
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    write_atomically(path, buffer.getvalue().encode())
