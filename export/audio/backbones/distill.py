"""A small waveform student trained on a large teacher's outputs, for devices the teacher is too slow for.

The student is a few 1-D convolutions over raw 16 kHz samples (a learned filterbank with a 25 ms kernel and
10 ms stride, then three conv blocks, mean and standard-deviation pooling, a linear layer): about 0.1 M
parameters, so a 2 s window costs a millisecond or two on one CPU core. It learns from the teacher's
probabilities on every window, labelled or not (soft cross-entropy), plus the true label where there is one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from export.audio.backbones.data import clip_waveform_windows, read_window_table, waveforms_of
from export.audio.backbones.models import WaveformNormalizer, run_batched
from export.audio.backbones.train import clip_probs
from export.face.metrics import classification_report
from runtime.errors import InputError

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a")


class StudentNet(nn.Module):
    """Waveform (batch, samples) → probabilities over ``n_classes``."""

    def __init__(self, n_classes: int, channels: int = 64, kernel_samples: int = 400, hop_samples: int = 160):
        super().__init__()
        self.normalizer = WaveformNormalizer(True)
        self.front = nn.Sequential(
            nn.Conv1d(1, channels, kernel_samples, stride=hop_samples, bias=False),
            nn.BatchNorm1d(channels),
            nn.ReLU(),
        )
        blocks = []
        for _ in range(3):
            blocks += [
                nn.Conv1d(channels, channels, 5, padding=2, bias=False),
                nn.BatchNorm1d(channels),
                nn.ReLU(),
                nn.MaxPool1d(2),
            ]
        self.blocks = nn.Sequential(*blocks)
        self.classifier = nn.Linear(2 * channels, n_classes)

    def logits(self, waveform: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.front(self.normalizer(waveform).unsqueeze(1)))
        pooled = torch.cat([x.mean(dim=-1), x.std(dim=-1)], dim=-1)
        return self.classifier(pooled)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(waveform), dim=-1)


@dataclass(frozen=True)
class DistillSettings:
    steps: int = 3000
    batch_size: int = 32
    learning_rate: float = 2e-3
    hard_label_weight: float = 0.3  # share of the loss from true labels, where a window has one
    seed: int = 0


def distill(
    teacher_probs: np.ndarray,
    waveforms: np.ndarray,
    targets: np.ndarray | None = None,
    settings: DistillSettings = DistillSettings(),
    student: StudentNet | None = None,
) -> tuple[StudentNet, list[float]]:
    """Train a student on (waveform, teacher probabilities[, label]) windows; ``targets`` -1 = unlabelled.

    Returns the student (eval mode) and its loss per step.
    """
    if len(waveforms) != len(teacher_probs):
        raise ValueError("one teacher output per window")
    torch.manual_seed(settings.seed)
    generator = np.random.default_rng(settings.seed)
    student = student or StudentNet(teacher_probs.shape[1])
    optimiser = torch.optim.AdamW(student.parameters(), lr=settings.learning_rate, weight_decay=1e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, settings.learning_rate, total_steps=settings.steps
    )
    soft = torch.as_tensor(teacher_probs, dtype=torch.float32)
    hard = torch.as_tensor(np.full(len(waveforms), -1) if targets is None else targets, dtype=torch.long)
    losses = []
    student.train()
    for _ in range(settings.steps):
        batch = torch.as_tensor(
            generator.choice(len(waveforms), size=min(settings.batch_size, len(waveforms)), replace=False)
        )
        log_probs = torch.log_softmax(student.logits(torch.as_tensor(waveforms[batch.numpy()])), dim=-1)
        loss = -(soft[batch] * log_probs).sum(dim=-1).mean()
        labelled = hard[batch] >= 0
        if labelled.any() and settings.hard_label_weight > 0:
            hard_loss = nn.functional.nll_loss(log_probs[labelled], hard[batch][labelled])
            loss = (1 - settings.hard_label_weight) * loss + settings.hard_label_weight * hard_loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(float(loss.detach()))
    student.eval()
    return student, losses


# --- from a trained backbone folder -----------------------------------------------------------------------


def unlabelled_windows(folder: str | Path) -> np.ndarray:
    """Speech windows of every audio file under ``folder`` (no labels needed: the teacher provides them)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "no such folder of unlabelled speech")
    rows = [
        clip_waveform_windows(p)[1]
        for p in sorted(folder.rglob("*"))
        if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()
    ]
    rows = [r for r in rows if len(r)]
    if not rows:
        raise InputError(folder, "holds no audio file with speech")
    return np.concatenate(rows)


def distill_trained(
    trained: str | Path,
    out: str | Path,
    unlabelled: str | Path | None = None,
    settings: DistillSettings = DistillSettings(),
    model_id: str = "audio-emotion-student",
    latency_repeats: int = 10,
) -> dict:
    """Distil a trained backbone into ``StudentNet``, export it (float + INT8) with a card; return metrics.

    The student learns on the training speakers' windows (and any unlabelled speech); the speakers held out
    in training (``held_out`` in windows.csv) judge it, against their true labels and against the teacher.
    """
    from export.audio.backbones.onnx_export import (
        FLOAT_FILE,
        INT8_FILE,
        export_onnx,
        finish_export,
        load_trained,
        quantize_int8,
    )

    trained, out = Path(trained), Path(out)
    teacher, description = load_trained(trained)
    labels = description["labels"]
    rows = read_window_table(trained)
    waveforms = waveforms_of(rows)
    targets = np.array([labels.index(r["emotion"]) for r in rows])
    held_out = np.array([r["held_out"] == "1" for r in rows])
    fit_waves, fit_targets = waveforms[~held_out], targets[~held_out]
    if unlabelled is not None:
        extra = unlabelled_windows(unlabelled)
        fit_waves = np.concatenate([fit_waves, extra])
        fit_targets = np.concatenate([fit_targets, np.full(len(extra), -1)])
    teacher_fit = run_batched(teacher, fit_waves)
    student, losses = distill(teacher_fit, fit_waves, fit_targets, settings)
    metrics: dict = {
        "distillation": {
            "windows": int(len(fit_waves)),
            "unlabelled_windows": int((fit_targets < 0).sum()),
            "steps": settings.steps,
            "first_loss": losses[0],
            "last_loss": losses[-1],
        }
    }
    if held_out.any():
        _, inverse = np.unique(np.array([r["path"] for r in rows])[held_out], return_inverse=True)
        student_probs = run_batched(student, waveforms[held_out])
        teacher_probs = run_batched(teacher, waveforms[held_out])
        metrics["held_out_speakers"] = {
            name: _clip_metrics(probs, targets[held_out], inverse, labels)
            for name, probs in (("student", student_probs), ("teacher", teacher_probs))
        }
        metrics["held_out_speakers"]["student_teacher_agreement"] = float(
            (student_probs.argmax(1) == teacher_probs.argmax(1)).mean()
        )
    out.mkdir(parents=True, exist_ok=True)
    export_onnx(student, out / FLOAT_FILE)
    quantize_int8(out / FLOAT_FILE, out / INT8_FILE)
    check = held_out if held_out.any() else np.ones(len(rows), dtype=bool)
    export_metrics = finish_export(
        out,
        model_id,
        labels,
        student,
        waveforms[check],
        latency_repeats,
        check_targets=targets[check],
        licence={"teacher_backbone": description["licence"]},
        extra={"distilled_from": str(trained.resolve()), "teacher": description["backbone"]},
    )
    metrics.update(export_metrics)
    card_path = out / "card.json"
    card = json.loads(card_path.read_text())
    card["metrics"] = metrics
    from runtime.timeline import write_atomically

    write_atomically(card_path, json.dumps(card, indent=2).encode())
    return metrics


def _clip_metrics(probs: np.ndarray, targets: np.ndarray, clip_index: np.ndarray, labels: list[str]) -> dict:
    ids, per_clip = clip_probs(probs, clip_index)
    clip_targets = np.array([targets[clip_index == i][0] for i in ids])
    report = classification_report(clip_targets, per_clip, labels)
    return {k: report[k] for k in ("n", "accuracy", "balanced_accuracy", "macro_f1", "ece")}
