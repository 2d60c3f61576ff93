"""Train the expression model on FER-2013 in plain torch: Training to fit, PublicTest to select.

A VGG-style CNN on 48×48 grey crops (random crop, flip, small rotation/scale, random erasing), label
smoothing, one-cycle SGD. On a CPU with bfloat16 instructions (AVX-512 BF16, AMX) the convolutions run in
bfloat16 autocast with channels-last tensors, about three times faster than float32; elsewhere bfloat16 is
emulated and far slower (17x on an AVX2 CPU), so precision "auto" picks float32 there. The weights and the
exported graph stay float32. The checkpoint kept is the epoch with the best PublicTest balanced accuracy; the
unseen PrivateTest part is not here and is never used.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from export import MAX_TRAIN_THREADS
from export.face.data import CROP_SIZE_PX, FACE_LABELS, held_out_split, load_split
from export.face.metrics import classification_report
from runtime.errors import InputError
from runtime.files import RunFolder, read_json_object, write_atomically, writing_folder
from runtime.models.card import file_sha256
from runtime.stopping import raise_if_stop_asked

PRECISIONS = ("auto", "bf16", "fp32")
# Twice the shipped network's widest stage (512): a stage's weights grow with its width squared, and 100000
# asked for 360 GB at the first batch.
MAX_WIDTH = 1024
# Each stage but the last max-pools 2x: 48 -> 24 -> 12 -> 6 -> 3 -> 1, so a seventh stage would get 0x0 px.
MAX_STAGES = 6

# Grey-level statistics of FER-2013 Training (0–255 scale), baked into the exported graph.
PIXEL_MEAN = 129.4
PIXEL_STD = 65.0


@dataclass
class TrainConfig:
    # The shipped model's settings (models/face-expression-cnn; its second run stopped at 30 epochs to fit the
    # time at hand). Per epoch of the 64-512 network on 2 idle cores: about 2.8 min in bfloat16 with AVX-512
    # BF16, about 9.7 min in float32 on an AVX2-only CPU (where emulated bfloat16 takes 44 s a step, 17x more).
    epochs: int = 40
    batch_size: int = 128
    learning_rate: float = 0.08
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    # Share of each target taken from the FER+ annotators' vote distribution instead of the FER-2013 label
    # (0 = FER-2013 labels only); rows without FER+ votes for our labels keep their FER-2013 target.
    ferplus_weight: float = 0.0
    widths: tuple[int, ...] = (64, 128, 256, 512)
    precision: str = "auto"  # "bf16" (autocast, channels-last), "fp32", or "auto": bf16 where the CPU has it
    max_not_face_votes: int = 5  # drop Training rows that most FER+ annotators call "not a face"
    threads: int = 2
    seed: int = 0
    limit_batches: int = 0  # >0: a short smoke run


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 in hardware (AVX-512 BF16 or AMX) rather than emulating it."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def resolve_precision(requested: str, native_bf16: bool) -> tuple[str, str | None]:
    """(precision to train in, a warning or None): "auto" becomes bf16 only where the CPU has it."""
    if requested not in PRECISIONS:
        raise InputError(f"precision={requested}", f"must be one of {', '.join(PRECISIONS)}")
    if requested == "auto":
        return ("bf16" if native_bf16 else "fp32"), None
    if requested == "bf16" and not native_bf16:
        return "bf16", ("precision bf16: this CPU has no AVX-512 BF16 or AMX, so bfloat16 is emulated and much "
                        "slower than fp32 (17x on an AVX2 CPU); use --precision auto or fp32")
    return requested, None


class ExpressionNet(nn.Module):
    """Four stages of two 3×3 conv-BN-ReLU layers, max-pool between, global average pool, dropout, linear."""

    def __init__(self, widths: tuple[int, ...] = (32, 64, 128, 256), n_classes: int = len(FACE_LABELS)):
        super().__init__()
        layers: list[nn.Module] = []
        channels = 1
        for stage, width in enumerate(widths):
            for _ in range(2):
                layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
                           nn.ReLU(inplace=True)]
                channels = width
            if stage < len(widths) - 1:
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(0.4)
        self.head = nn.Linear(channels, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.head(self.dropout(x))


# Test-time views inside the shipped graph: the crop as given and zoomed in 8 % (centre kept), each with its
# mirror image. Chosen on PublicTest among ±2 px shifts and 0.93/1.08 zooms (docs/face-body.md): the zoom-in
# gave most of the gain of all 14 views at 4 network passes.
TEST_ZOOMS: tuple[float, ...] = (1.0, 1.08)


def view_matrix(size_px: int, zoom: float = 1.0, shift_px: float = 0.0) -> np.ndarray:
    """(size, size) bilinear resampling matrix along one axis: content zoomed about the centre, then moved.

    ``A_y @ image @ A_x.T`` applies it to an image (one matrix per axis). Same sampling as
    ``grid_sample(align_corners=False, padding_mode="border")``: output pixel i reads the source at
    (i + 0.5 - size/2) / zoom + size/2 - 0.5 - shift_px, clamped to the border.
    """
    source = (np.arange(size_px) + 0.5 - size_px / 2) / zoom + size_px / 2 - 0.5 - shift_px
    source = np.clip(source, 0, size_px - 1)
    low = np.floor(source).astype(int)
    high = np.minimum(low + 1, size_px - 1)
    frac = source - low
    matrix = np.zeros((size_px, size_px))
    matrix[np.arange(size_px), low] += 1 - frac
    matrix[np.arange(size_px), high] += frac
    return matrix.astype(np.float32)


class DeployedExpressionNet(nn.Module):
    """What ships: raw grey levels (N, 1, 48, 48) in 0–255 → probabilities.

    Logits are averaged over the test-time views (each zoom, and the mirror image of each) and over several
    trained nets (runs with other seeds or settings); a zoom is two small matrix products, so the graph
    stays plain ONNX.
    """

    def __init__(self, nets: ExpressionNet | list[ExpressionNet], zooms: tuple[float, ...] = TEST_ZOOMS):
        super().__init__()
        self.nets = nn.ModuleList(nets if isinstance(nets, list) else [nets])
        self.zooms = tuple(zooms)
        self.register_buffer("zoom_matrices", torch.from_numpy(
            np.stack([view_matrix(CROP_SIZE_PX, z) for z in self.zooms])))

    def views(self, x: torch.Tensor) -> list[torch.Tensor]:
        # Indexed rather than iterated: iterating a buffer makes the ONNX trace warn that its length is frozen.
        zoomed = [x if z == 1.0 else self.zoom_matrices[i] @ x @ self.zoom_matrices[i].T
                  for i, z in enumerate(self.zooms)]
        return zoomed + [torch.flip(v, dims=[3]) for v in zoomed]

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = (image - PIXEL_MEAN) / PIXEL_STD
        views = self.views(x)
        logits = sum(net(v) for net in self.nets for v in views)
        return torch.softmax(logits / (len(views) * len(self.nets)), dim=1)


def augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random flip, affine jitter (±10°, ±10 % scale, ±4 px shift) and random erasing of a small box."""
    n = batch.shape[0]
    angle = (torch.rand(n, generator=generator) * 2 - 1) * (10 * np.pi / 180)
    scale = 1 + (torch.rand(n, generator=generator) * 2 - 1) * 0.1
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * (4 / (CROP_SIZE_PX / 2))
    flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos * flip, -sin, shift[:, 0]], 1),
                         torch.stack([sin * flip, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
    out = F.grid_sample(batch, grid, padding_mode="border", align_corners=False)
    erase = torch.rand(n, generator=generator) < 0.5
    size = 12
    ys = torch.randint(0, CROP_SIZE_PX - size, (n,), generator=generator)
    xs = torch.randint(0, CROP_SIZE_PX - size, (n,), generator=generator)
    for i in torch.nonzero(erase).flatten().tolist():
        out[i, :, ys[i]:ys[i] + size, xs[i]:xs[i] + size] = 0.0
    return out


def soft_targets(labels: np.ndarray, votes: np.ndarray, label_smoothing: float, ferplus_weight: float) -> np.ndarray:
    """Training targets: the smoothed FER-2013 label, mixed with the FER+ vote distribution where there is one."""
    n_labels = len(FACE_LABELS)
    targets = np.full((len(labels), n_labels), label_smoothing / n_labels, dtype=np.float32)
    targets[np.arange(len(labels)), labels] += 1.0 - label_smoothing
    totals = votes.sum(axis=1, keepdims=True)
    voted = totals[:, 0] > 0
    if ferplus_weight > 0 and voted.any():
        distribution = votes[voted] / totals[voted]
        targets[voted] = (1 - ferplus_weight) * targets[voted] + ferplus_weight * distribution
    return targets


def predict_probs(model: nn.Module, images: np.ndarray, batch_size: int = 512,
                  zooms: tuple[float, ...] = TEST_ZOOMS) -> np.ndarray:
    """(n, 48, 48) uint8 → (n, n_labels) probabilities through the deployed graph (normalising, test-time views)."""
    deployed = DeployedExpressionNet(model, zooms).eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            x = torch.from_numpy(images[start:start + batch_size]).float().unsqueeze(1)
            out.append(deployed(x).numpy())
    return np.concatenate(out)


def train_face(data_root: Path, out_dir: Path, config: TrainConfig | None = None,
               cache_dir: Path | None = None, log=print) -> dict:
    """Fit on Training, keep the epoch with the best PublicTest balanced accuracy; write model.pt + report.json.

    report.json is written last and marks a finished run; a run refused or stopped before the end leaves an
    earlier finished run in ``out_dir`` as it was (``writing_folder``)."""
    config = config or TrainConfig()
    check_config(config)
    data_root, out_dir = Path(data_root), Path(out_dir)
    precision, warning = resolve_precision(config.precision, cpu_has_native_bf16())
    if warning:
        log(warning)
    config = replace(config, precision=precision)  # the report records the precision actually used
    with writing_folder(out_dir, ("report.json",), {"data folder": data_root}) as run:
        return _train(data_root, run, config, cache_dir, log)


def summary_line(summary: dict, out_dir: Path) -> str:
    """What ``emotrace train face`` prints of a run's summary (``train_face``'s return): the selected epoch and
    its PublicTest figures."""
    best = summary["public_test"]
    return (f"{out_dir}: epoch {best['epoch']}, PublicTest accuracy {best['accuracy']:.3f}, "
            f"UA {best['balanced_accuracy']:.3f}, macro-F1 {best['macro_f1']:.3f}, ECE {best['ece']:.3f}")

def check_config(config: TrainConfig) -> None:
    """Refuse settings that cannot train, each error naming its own setting and value, before any work."""
    for name in ("epochs", "batch_size"):
        if getattr(config, name) < 1:
            raise InputError(f"{name}={getattr(config, name)}", "must be at least 1")
    if not 1 <= config.threads <= MAX_TRAIN_THREADS:
        raise InputError(f"threads={config.threads}", f"a number of threads from 1 to {MAX_TRAIN_THREADS}")
    if not config.widths:
        raise InputError("widths=()", "give one or more stage widths")
    if len(config.widths) > MAX_STAGES:
        raise InputError(f"widths={','.join(map(str, config.widths))}", f"at most {MAX_STAGES} stages: each "
                         f"stage but the last halves the {CROP_SIZE_PX} px crop")
    for width in config.widths:
        if not 1 <= width <= MAX_WIDTH:
            raise InputError(f"widths={','.join(map(str, config.widths))}",
                             f"each stage width from 1 to {MAX_WIDTH} channels (not {width})")
    if not 0.0 <= config.ferplus_weight <= 1.0:
        raise InputError(f"ferplus_weight={config.ferplus_weight:g}", "a share between 0 and 1")


def _train(data_root: Path, run: RunFolder, config: TrainConfig, cache_dir: Path | None, log) -> dict:
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    train = load_split(data_root, "Training", cache_dir)
    public, copies = held_out_split(data_root, "PublicTest", cache_dir)
    keep = train.not_face_votes <= config.max_not_face_votes
    if config.ferplus_weight > 0 and not train.label_votes.any():  # else the weight would be recorded, not used
        raise InputError(data_root, f"has no FER+ votes (fer2013new.csv beside labels.csv), which ferplus_weight="
                         f"{config.ferplus_weight:g} asks for")
    if keep.sum() < config.batch_size:
        raise InputError(data_root, f"{int(keep.sum())} usable Training rows: fewer than one batch of "
                         f"{config.batch_size}")
    x_train = torch.from_numpy((train.images[keep].astype(np.float32) - PIXEL_MEAN) / PIXEL_STD).unsqueeze(1)
    y_train = torch.from_numpy(train.labels[keep])
    targets = torch.from_numpy(soft_targets(train.labels[keep], train.label_votes[keep], config.label_smoothing,
                                            config.ferplus_weight))
    log(f"training on {len(y_train)} of {len(keep)} Training rows; selecting on {len(public.labels)} PublicTest "
        f"(its {copies} copies of Training images left out)")

    model = ExpressionNet(config.widths).to(memory_format=torch.channels_last)
    bf16 = config.precision == "bf16"
    optimiser = torch.optim.SGD(model.parameters(), lr=config.learning_rate, momentum=0.9, nesterov=True,
                                weight_decay=config.weight_decay)
    steps_per_epoch = len(y_train) // config.batch_size
    if config.limit_batches:
        steps_per_epoch = min(steps_per_epoch, config.limit_batches)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=config.learning_rate,
                                                   total_steps=config.epochs * steps_per_epoch, pct_start=0.2)
    best: dict = {"balanced_accuracy": -1.0}
    best_state: dict = {}
    history = []
    for epoch in range(config.epochs):
        started = time.perf_counter()
        model.train()
        order = torch.randperm(len(y_train), generator=generator)
        total_loss = 0.0
        for step in range(steps_per_epoch):
            idx = order[step * config.batch_size:(step + 1) * config.batch_size]
            x = augment(x_train[idx], generator).contiguous(memory_format=torch.channels_last)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                logits = model(x)
            loss = F.cross_entropy(logits.float(), targets[idx])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            total_loss += float(loss.detach())
            raise_if_stop_asked()  # a stop a library swallowed during the step
        model.eval()
        if epoch + 1 <= config.epochs // 2:  # early epochs are never the best: skip their evaluation
            log(json.dumps({"epoch": epoch + 1, "loss": round(total_loss / steps_per_epoch, 4)}))
            continue
        # Epochs are compared on the plain crop and its mirror (half the cost of the shipped views).
        probs = predict_probs(model, public.images, zooms=(1.0,))
        report = classification_report(public.labels, probs, FACE_LABELS)
        entry = {"epoch": epoch + 1, "loss": total_loss / steps_per_epoch, "seconds": time.perf_counter() - started,
                 **{k: report[k] for k in ("accuracy", "balanced_accuracy", "macro_f1", "ece")}}
        history.append(entry)
        log(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in entry.items()}))
        if report["balanced_accuracy"] > best["balanced_accuracy"]:
            best = {**report, "epoch": epoch + 1}
            # kept in memory: an earlier run's model.pt stays beside its report until this run ends
            best_state = copy.deepcopy(model.state_dict())
    checkpoint = io.BytesIO()
    torch.save({"state_dict": best_state, "widths": list(config.widths)}, checkpoint)
    summary = {
        "config": asdict(config),
        "labels": list(FACE_LABELS),
        "data": {"train": "FER-2013 Training", "train_rows": int(len(y_train)),
                 "dropped_not_face_rows": int((~keep).sum()),
                 "selection": "FER-2013 PublicTest" + (f" without its {copies} copies of Training images" if copies
                                                       else "")},
        "selected_epoch": best["epoch"],
        "public_test": best,
        "history": history,
        "model_sha256": hashlib.sha256(checkpoint.getvalue()).hexdigest(),  # ties this report to its model.pt
    }
    out_dir = run.begin()
    write_atomically(out_dir / "model.pt", checkpoint.getvalue())
    write_atomically(out_dir / "report.json", json.dumps(summary, indent=1).encode())  # last: the run is done
    return summary


def load_trained(trained_dir: Path) -> ExpressionNet:
    """The network of a finished run, or an ``InputError`` naming its model.pt (missing, truncated, another net)."""
    path = Path(trained_dir) / "model.pt"
    if not path.is_file():
        raise InputError(trained_dir, "holds no model.pt: not a folder written by 'emotrace train face'")
    try:
        checkpoint = torch.load(path, map_location="cpu")
        model = ExpressionNet(tuple(checkpoint["widths"]))
        model.load_state_dict(checkpoint["state_dict"])
    except Exception as error:  # torch raises several types for a truncated or foreign file
        raise InputError(path, f"not a readable checkpoint of 'emotrace train face' ({type(error).__name__})") from None
    return model.eval()


RUN_REPORT_KEYS = ("config", "labels", "data", "selected_epoch", "public_test")


def read_run_report(trained_dir: Path) -> dict:
    """A finished run's report.json, checked against its model.pt before anything is exported: present (a run
    stopped early has none), of a face run, its labels in the order of the network's outputs, and of this
    model.pt (its sha256, or for runs before that was recorded, its widths)."""
    trained_dir = Path(trained_dir)
    model = load_trained(trained_dir)
    path = trained_dir / "report.json"
    if not path.is_file():
        raise InputError(trained_dir, "holds no report.json: not a finished run of 'emotrace train face'")
    report = read_json_object(path, RUN_REPORT_KEYS, "face training report")
    if report["labels"] != list(FACE_LABELS):  # the card would name the outputs wrongly
        raise InputError(path, f"labels {report['labels']} are not the model outputs' order {list(FACE_LABELS)}")
    widths = [m.out_channels for m in model.features if isinstance(m, nn.Conv2d)][1::2]
    recorded = report.get("model_sha256")
    if recorded is not None and recorded != file_sha256(trained_dir / "model.pt"):
        raise InputError(path, "is the report of another model.pt (sha256 differs): train the run again")
    if list(report["config"].get("widths", [])) != widths:
        raise InputError(path, f"is the report of another model.pt (widths {report['config'].get('widths')}, "
                         f"model.pt {widths})")
    return report
