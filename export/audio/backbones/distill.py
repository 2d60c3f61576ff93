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
from export.install import CARD_FILE, guarded_out, installing, write_card
from runtime.arms.audio.model import WAVEFORM_TASK
from runtime.errors import InputError
from runtime.files import check_output_folder

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


@dataclass
class ValidationSet:
    """Windows of speakers the student does not learn from, to keep its best state (early stopping)."""

    waveforms: np.ndarray
    teacher_probs: np.ndarray
    targets: np.ndarray  # -1 = unlabelled


@dataclass
class DistillHistory:
    losses: list[float]  # training loss per step
    validation_losses: dict[int, float]  # step -> loss on the validation set
    best_step: int  # the step whose weights the student keeps (the last one without validation)


def distillation_loss(
    log_probs: torch.Tensor, soft: torch.Tensor, hard: torch.Tensor, hard_label_weight: float
) -> torch.Tensor:
    """Soft cross-entropy to the teacher, mixed with the true labels' cross-entropy where there are any."""
    loss = -(soft * log_probs).sum(dim=-1).mean()
    labelled = hard >= 0
    if labelled.any() and hard_label_weight > 0:
        hard_loss = nn.functional.nll_loss(log_probs[labelled], hard[labelled])
        loss = (1 - hard_label_weight) * loss + hard_label_weight * hard_loss
    return loss


def distill(
    teacher_probs: np.ndarray,
    waveforms: np.ndarray,
    targets: np.ndarray | None = None,
    settings: DistillSettings = DistillSettings(),
    student: StudentNet | None = None,
    validation: ValidationSet | None = None,
    eval_every: int = 100,
) -> tuple[StudentNet, DistillHistory]:
    """Train a student on (waveform, teacher probabilities[, label]) windows; ``targets`` -1 = unlabelled.

    With ``validation``, the weights with the lowest validation loss (checked every ``eval_every`` steps)
    are kept: a student on a few dozen speakers otherwise learns them by heart.
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
    history = DistillHistory([], {}, settings.steps)
    best_state, best_loss = None, float("inf")
    student.train()
    for step in range(1, settings.steps + 1):
        batch = torch.as_tensor(
            generator.choice(len(waveforms), size=min(settings.batch_size, len(waveforms)), replace=False)
        )
        log_probs = torch.log_softmax(student.logits(torch.as_tensor(waveforms[batch.numpy()])), dim=-1)
        loss = distillation_loss(log_probs, soft[batch], hard[batch], settings.hard_label_weight)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        history.losses.append(float(loss.detach()))
        if validation is not None and (step % eval_every == 0 or step == settings.steps):
            val_loss = _validation_loss(student, validation, settings.hard_label_weight)
            history.validation_losses[step] = val_loss
            if val_loss < best_loss:
                best_loss, history.best_step = val_loss, step
                best_state = {k: v.detach().clone() for k, v in student.state_dict().items()}
            student.train()
    if best_state is not None:
        student.load_state_dict(best_state)
    student.eval()
    return student, history


def _validation_loss(student: StudentNet, validation: ValidationSet, hard_label_weight: float) -> float:
    student.eval()
    probs = run_batched(student, validation.waveforms, batch_size=64)
    log_probs = torch.log(torch.as_tensor(probs, dtype=torch.float32).clamp_min(1e-12))
    soft = torch.as_tensor(validation.teacher_probs, dtype=torch.float32)
    hard = torch.as_tensor(validation.targets, dtype=torch.long)
    return float(distillation_loss(log_probs, soft, hard, hard_label_weight))


def inner_validation_speakers(speakers: list[str], share: float = 0.15) -> list[str]:
    """A fixed share of the training speakers (the last ones in sorted order) for early stopping."""
    ordered = sorted(set(speakers))
    if len(ordered) < 3:
        return []
    return ordered[-max(1, round(share * len(ordered))) :]


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
    replace: bool = False,
) -> dict:
    """Distil a trained backbone into ``StudentNet``, export it (float + INT8) with a card; return metrics. A model
    in the repo's models/ is replaced only with ``replace``, and a model of another task never (``guarded_out``).

    The student learns on the training speakers' windows (and any unlabelled speech); the speakers held out
    in training (``held_out`` in windows.csv) judge it, against their true labels and against the teacher.
    """
    from export.audio.backbones.onnx_export import load_trained

    trained, out = Path(trained), Path(out)
    if settings.steps < 1:
        raise InputError(str(settings.steps), "--steps must be at least 1")
    if not 0.0 <= settings.hard_label_weight <= 1.0:
        raise InputError(str(settings.hard_label_weight), "--hard-label-weight must lie between 0 and 1")
    check_output_folder(out, {"trained folder": trained})
    guarded_out(out, replace, WAVEFORM_TASK)  # before minutes of distilling
    teacher, description = load_trained(trained)
    check_output_folder(out, {"trained folder": trained, "backbone's folder": Path(description["folder"])})
    with installing(out) as staging:  # a refused or failed export leaves an earlier one whole
        return _distill_trained(trained, staging, teacher, description, unlabelled, settings, model_id,
                                latency_repeats)


def _distill_trained(
    trained: Path,
    out: Path,
    teacher: nn.Module,
    description: dict,
    unlabelled: str | Path | None,
    settings: DistillSettings,
    model_id: str,
    latency_repeats: int,
) -> dict:
    from export.audio.backbones.onnx_export import (
        FLOAT_FILE,
        INT8_FILE,
        export_onnx,
        finish_export,
        quantize_int8,
    )

    labels = description["labels"]
    rows = read_window_table(trained, labels)
    waveforms = waveforms_of(rows)
    targets = np.array([labels.index(r["emotion"]) for r in rows])
    held_out = np.array([r["held_out"] == "1" for r in rows])
    speakers = np.array([r["speaker"] for r in rows])
    inner = inner_validation_speakers(speakers[~held_out].tolist())
    in_val = np.isin(speakers, inner) & ~held_out
    fit = ~held_out & ~in_val
    fit_waves, fit_targets = waveforms[fit], targets[fit]
    if unlabelled is not None:
        extra = unlabelled_windows(unlabelled)
        fit_waves = np.concatenate([fit_waves, extra])
        fit_targets = np.concatenate([fit_targets, np.full(len(extra), -1)])
    teacher_fit = run_batched(teacher, fit_waves)
    validation = None
    if in_val.any():
        validation = ValidationSet(
            waveforms[in_val], run_batched(teacher, waveforms[in_val]), targets[in_val]
        )
    student, history = distill(teacher_fit, fit_waves, fit_targets, settings, validation=validation)
    metrics: dict = {
        "distillation": {
            "windows": int(len(fit_waves)),
            "unlabelled_windows": int((fit_targets < 0).sum()),
            "steps": settings.steps,
            "hard_label_weight": settings.hard_label_weight,
            "first_loss": history.losses[0],
            "last_loss": history.losses[-1],
            "inner_validation_speakers": inner,
            "best_step": history.best_step,
            "validation_losses": history.validation_losses,
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
    card = json.loads((out / CARD_FILE).read_text())
    card["metrics"] = metrics
    write_card(out, card)
    return metrics


def _clip_metrics(probs: np.ndarray, targets: np.ndarray, clip_index: np.ndarray, labels: list[str]) -> dict:
    ids, per_clip = clip_probs(probs, clip_index)
    clip_targets = np.array([targets[clip_index == i][0] for i in ids])
    report = classification_report(clip_targets, per_clip, labels)
    return {k: report[k] for k in ("n", "accuracy", "balanced_accuracy", "macro_f1", "ece")}
