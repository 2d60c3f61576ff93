"""Training the learned fusers on the host and exporting them to ONNX (+ INT8 where it applies) with a card.

- stacking: multinomial logistic regression (scikit-learn) over ``stacking_features``; exported as one
  Gemm + Softmax graph written with onnx.helper.
- attention: a small torch model (cross-modal attention inside each window, causal attention over the last
  ``context_windows`` windows) trained with modality dropout; exported with torch.onnx and dynamically
  quantized
  to INT8 with ONNX Runtime (MatMul weights). Both graphs take the features the device computes with the same
  functions (``runtime.fusion.learned``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from export.fitting import two_class_logits
from export.install import model_version, write_card
from export.metrics import prediction_metrics
from export.quantization import quantize_weights_dynamic
from runtime.fusion.align import FusionInput
from runtime.fusion.learned import FUSION_TASK, TOKEN_FEATURES, modality_tokens, sequence_slices, stacking_features
from runtime.models.card import file_sha256
from runtime.track import CANONICAL_LABELS

if TYPE_CHECKING:
    import torch

OPSET = 17


# --- stacking -------------------------------------------------------------------------------------------


def train_stacking(
    data: FusionInput,
    targets: np.ndarray,
    out_dir: Path,
    c: float | None = None,
    drop_window: float = 0.3,
    seed: int = 0,
) -> Path:
    """Fit the meta-learner on training windows and write ``stacking.onnx`` + ``card.json`` into ``out_dir``.

    The windows are used twice: as they are, and with each modality blanked in a random ``drop_window`` share
    (modality dropout), so the learner sees absent modalities and learns to lean on the rest. Classes are
    balanced (the target is UA); the regularisation ``c``, unless given, is chosen by cross-validation over
    whole sessions of the training windows only.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from sklearn.linear_model import LogisticRegression

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    dropped = np.where(rng.random(data.quality.shape) < drop_window, 0.0, data.quality)
    blanked = data.with_quality(dropped)
    features = np.concatenate([stacking_features(data), stacking_features(blanked)])
    targets = np.concatenate([targets, targets])
    groups = np.concatenate([data.sequence, data.sequence])
    classes = np.unique(targets)
    # One BLAS thread: these fits are tiny, and oversubscribed threads on a shared host cost 10x.
    with threadpool_limits(limits=1):
        if c is None:
            c = choose_c(features, targets, groups, seed)
        model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)
        model.fit(features, targets)
    # Classes never seen in training get a very low bias, so the graph still outputs all 8 labels.
    weight = np.zeros((features.shape[1], len(CANONICAL_LABELS)), dtype=np.float32)
    bias = np.full(len(CANONICAL_LABELS), -30.0, dtype=np.float32)
    layer = (model.coef_.T, model.intercept_)
    weight[:, classes], bias[classes] = layer if len(classes) > 2 else two_class_logits(*layer)
    graph = helper.make_graph(
        [
            helper.make_node("Gemm", ["features", "W", "b"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probs"], axis=1),
        ],
        "fusion_stacking",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", features.shape[1]])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["n", len(CANONICAL_LABELS)])],
        [numpy_helper.from_array(weight, "W"), numpy_helper.from_array(bias, "b")],
    )
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    onnx.checker.check_model(onnx_model)
    onnx.save(onnx_model, out_dir / "stacking.onnx")
    write_card(
        out_dir,
        {
            "id": "fusion-stacking",
            "version": model_version(file_sha256(out_dir / "stacking.onnx")),  # the date alone named two fusers
            "task": FUSION_TASK,
            "labels": list(CANONICAL_LABELS),
            "files": {"default": "stacking.onnx"},
            "modalities": list(data.modalities),
            "input": "features",
            "output": "probs",
            "feature_set": "emotrace-fusion-tokens-1",
            "training": {"windows": int(len(targets)) // 2, "C": c, "modality_dropout": drop_window},
            # A small Gemm (36x8 for two modalities): INT8 would save nothing and cost accuracy; the graph stays float.
            "quantization": "none (tiny Gemm)",
        },
    )
    return out_dir


def choose_c(features: np.ndarray, targets: np.ndarray, groups: np.ndarray, seed: int,
             candidates: tuple[float, ...] = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)) -> float:
    """The regularisation with the best balanced accuracy over session-grouped folds (ties: the stronger)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    n_folds = min(4, len(np.unique(groups)))
    if n_folds < 2:
        return 0.1
    best_c, best_score = candidates[0], -1.0
    for c in candidates:
        predicted = np.zeros_like(targets)
        for train, test in GroupKFold(n_splits=n_folds).split(features, targets, groups):
            model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)
            predicted[test] = model.fit(features[train], targets[train]).predict(features[test])
        score = prediction_metrics(targets, predicted, len(CANONICAL_LABELS))["ua"]
        if score > best_score + 1e-9:
            best_c, best_score = c, score
    return best_c


# --- attention ------------------------------------------------------------------------------------------


def _attention_module(n_modalities: int, dim: int, context_windows: int):
    import torch
    from torch import nn

    class CrossModalTemporal(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Linear(TOKEN_FEATURES, dim)
            self.modality = nn.Parameter(torch.zeros(n_modalities, dim))
            self.query = nn.Parameter(torch.randn(dim) * 0.1)
            self.key = nn.Linear(dim, dim)
            self.value = nn.Linear(dim, dim)
            self.t_query = nn.Linear(dim, dim)
            self.t_key = nn.Linear(dim, dim)
            self.t_value = nn.Linear(dim, dim)
            self.norm1 = nn.LayerNorm(dim)
            self.norm2 = nn.LayerNorm(dim)
            self.ffn = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
            self.head = nn.Linear(dim, len(CANONICAL_LABELS))
            # A product-of-experts shortcut: the model starts from summed log-probabilities, learns the rest.
            self.skip = nn.Parameter(torch.full((n_modalities, 1), 0.5))
            self.scale = dim**-0.5

        def forward(self, tokens):  # (B, T, M, F)
            present = tokens[..., TOKEN_FEATURES - 1]  # (B, T, M)
            h = torch.relu(self.embed(tokens) + self.modality)  # (B, T, M, D)
            # Cross-modal attention: a learned query attends over the modalities present in the window.
            scores = (self.key(h) * self.query).sum(-1) * self.scale + (present - 1.0) * 1e4
            weights = torch.softmax(scores, dim=-1)
            window = (weights.unsqueeze(-1) * self.value(h)).sum(2)  # (B, T, D)
            window = window * (present.sum(-1, keepdim=True) > 0).float()
            x = self.norm1(window)
            # Causal attention over the last `context_windows` windows: works live, window by window.
            steps = torch.arange(x.shape[1], device=x.device)
            lag = steps.unsqueeze(1) - steps.unsqueeze(0)
            allowed = (lag >= 0) & (lag < context_windows)
            t_scores = torch.matmul(self.t_query(x), self.t_key(x).transpose(1, 2)) * self.scale
            t_scores = t_scores + (~allowed).float() * -1e4
            x = x + torch.matmul(torch.softmax(t_scores, dim=-1), self.t_value(x))
            x = x + self.ffn(self.norm2(x))
            poe = (tokens[..., : len(CANONICAL_LABELS)] * self.skip).sum(2)
            return torch.softmax(self.head(x) + poe, dim=-1)

    return CrossModalTemporal()


def _random_crops(tokens: np.ndarray, targets: np.ndarray, sequence: np.ndarray, length: int, batch: int,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``batch`` crops of ``length`` windows from random sessions at random starts (short ones padded with
    absent windows, target -1)."""
    parts = sequence_slices(sequence)
    xs, ys = [], []
    for index in rng.integers(0, len(parts), batch):
        x, y = tokens[parts[index]], targets[parts[index]]
        start = int(rng.integers(0, max(len(y) - length, 0) + 1))
        cx, cy = x[start : start + length], y[start : start + length]
        pad = length - len(cy)
        xs.append(np.concatenate([cx, np.zeros((pad, *x.shape[1:]), np.float32)]))
        ys.append(np.concatenate([cy, np.full(pad, -1)]))
    return np.stack(xs), np.stack(ys)


def _padded_sessions(tokens: np.ndarray, targets: np.ndarray,
                     sequence: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Whole sessions stacked into one batch, padded with absent windows (target -1)."""
    parts = sequence_slices(sequence)
    if not parts:
        return None
    length = max(p.stop - p.start for p in parts)
    xs = np.zeros((len(parts), length, *tokens.shape[1:]), np.float32)
    ys = np.full((len(parts), length), -1)
    for i, p in enumerate(parts):
        xs[i, : p.stop - p.start], ys[i, : p.stop - p.start] = tokens[p], targets[p]
    return xs, ys


def modality_dropout(tokens, drop_window: float, drop_sequence: float, generator):
    """Blank modalities at random: per window (``drop_window``) and for whole sequences (``drop_sequence``).
    """
    import torch

    b, t, m, _ = tokens.shape
    keep = torch.rand(b, t, m, generator=generator) >= drop_window
    keep &= torch.rand(b, 1, m, generator=generator) >= drop_sequence
    return tokens * keep.unsqueeze(-1).float()


def train_attention(
    data: FusionInput,
    targets: np.ndarray,
    out_dir: Path,
    dim: int = 32,
    context_windows: int = 8,
    sequence_length: int = 16,
    steps: int = 800,
    batch: int = 32,
    drop_window: float = 0.3,
    drop_sequence: float = 0.15,
    learning_rate: float = 3e-3,
    validation_share: float = 0.2,
    seed: int = 0,
    quantize: bool = True,
) -> Path:
    """Train, export ``attention.onnx`` (and ``attention.int8.onnx``) with ``card.json`` into ``out_dir``."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: more threads only contend on a shared host
    try:
        return _train_attention(data, targets, Path(out_dir), dim, context_windows, sequence_length, steps,
                                batch, drop_window, drop_sequence, learning_rate, validation_share, seed,
                                quantize)
    finally:
        torch.set_num_threads(threads)


def _train_attention(data: FusionInput, targets: np.ndarray, out_dir: Path, dim: int, context_windows: int,
                     sequence_length: int, steps: int, batch: int, drop_window: float, drop_sequence: float,
                     learning_rate: float, validation_share: float, seed: int, quantize: bool) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    tokens = modality_tokens(data)
    model, training = _fit_attention(data, tokens, targets, dim, context_windows, sequence_length, steps, batch,
                                     drop_window, drop_sequence, learning_rate, validation_share, seed)
    files = _export_attention(model, tokens[: min(sequence_length, len(tokens))], out_dir, quantize)
    write_card(
        out_dir,
        {
            "id": "fusion-attention",
            "version": model_version(file_sha256(out_dir / files["float"])),  # the INT8 graph is made from it
            "task": FUSION_TASK,
            "labels": list(CANONICAL_LABELS),
            "files": files,
            "modalities": list(data.modalities),
            "input": "tokens",
            "output": "probs",
            "feature_set": "emotrace-fusion-tokens-1",
            "architecture": {"dim": dim, "context_windows": context_windows, "causal": True},
            "training": {
                "windows": int(len(targets)),
                "steps": steps,
                "batch": batch,
                "sequence_length": sequence_length,
                "modality_dropout": {"window": drop_window, "sequence": drop_sequence},
                "seed": seed,
                **training,
            },
        },
    )
    return out_dir


def _fit_attention(data: FusionInput, tokens: np.ndarray, targets: np.ndarray, dim: int, context_windows: int,
                   sequence_length: int, steps: int, batch: int, drop_window: float, drop_sequence: float,
                   learning_rate: float, validation_share: float, seed: int) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The attention module trained on random crops of the training sessions, at its best step on the held-out
    ones, in eval mode; and what the card records of the run (``train_s``, ``early_stopping``)."""
    import torch

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    # Early stopping on a share of the training sessions (never the test people): small data overfits fast.
    sessions = np.unique(data.sequence)
    held = set(rng.permutation(sessions)[: max(1, int(len(sessions) * validation_share))].tolist())
    is_val = np.isin(data.sequence, list(held)) if len(sessions) > 1 else np.zeros(len(targets), dtype=bool)
    fit_rows = np.flatnonzero(~is_val)
    val_tokens = _padded_sessions(tokens[is_val], targets[is_val], data.sequence[is_val])
    model = _attention_module(len(data.modalities), dim, context_windows)
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=1e-2)
    class_counts = np.bincount(targets, minlength=len(CANONICAL_LABELS)).astype(float)
    class_weight = torch.tensor(
        np.where(class_counts > 0, class_counts.sum() / np.maximum(class_counts, 1) / 8, 0),
        dtype=torch.float32,
    )
    loss_fn = torch.nn.NLLLoss(weight=class_weight, ignore_index=-1)
    started = time.perf_counter()
    best_loss, best_state, best_step = np.inf, None, 0
    for step in range(1, steps + 1):
        x_np, y_np = _random_crops(tokens[fit_rows], targets[fit_rows], data.sequence[fit_rows],
                                   sequence_length,
                                   batch, rng)
        x = modality_dropout(torch.from_numpy(x_np), drop_window, drop_sequence, generator)
        y = torch.from_numpy(y_np).long()
        probs = model(x)
        loss = loss_fn(torch.log(probs.clamp_min(1e-7)).reshape(-1, probs.shape[-1]), y.reshape(-1))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if val_tokens is not None and (step % 25 == 0 or step == steps):
            with torch.no_grad():
                x_val = modality_dropout(torch.from_numpy(val_tokens[0]), drop_window, 0.0,
                                         torch.Generator().manual_seed(seed))
                p_val = model(x_val)
                val_loss = float(loss_fn(torch.log(p_val.clamp_min(1e-7)).reshape(-1, p_val.shape[-1]),
                                         torch.from_numpy(val_tokens[1]).long().reshape(-1)))
            if val_loss < best_loss:
                best_loss, best_step = val_loss, step
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
    if best_state is not None:
        model.load_state_dict(best_state)
    train_s = time.perf_counter() - started
    model.eval()
    return model, {"train_s": round(train_s, 1),
                   "early_stopping": {"validation_sessions": len(held), "best_step": best_step}}


def _export_attention(model: torch.nn.Module, example_tokens: np.ndarray, out_dir: Path,
                      quantize: bool) -> dict[str, str]:
    """``attention.onnx`` (windows a dynamic axis), and ``attention.int8.onnx`` when ``quantize``, written into
    ``out_dir``: the card's ``files``."""
    import torch

    float_path = out_dir / "attention.onnx"
    torch.onnx.export(
        model,
        (torch.from_numpy(example_tokens[None]),),
        str(float_path),
        input_names=["tokens"],
        output_names=["probs"],
        dynamic_axes={"tokens": {1: "windows"}, "probs": {1: "windows"}},
        opset_version=OPSET,
        dynamo=False,
    )
    files = {"float": "attention.onnx", "default": "attention.onnx"}
    if quantize:
        quantize_weights_dynamic(float_path, out_dir / "attention.int8.onnx")
        files["int8"] = "attention.int8.onnx"
    return files
