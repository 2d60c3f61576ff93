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

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from runtime.fusion.align import FusionInput
from runtime.fusion.learned import TOKEN_FEATURES, modality_tokens, sequence_slices, stacking_features
from runtime.models.card import file_sha256
from runtime.track import CANONICAL_LABELS

OPSET = 17


def write_card(folder: Path, card: dict[str, Any]) -> None:
    from runtime.timeline import write_atomically

    card["sha256"] = {variant: file_sha256(folder / name) for variant, name in card["files"].items()}
    write_atomically(folder / "card.json", (json.dumps(card, indent=1) + "\n").encode())


# --- stacking -------------------------------------------------------------------------------------------


def train_stacking(
    data: FusionInput,
    targets: np.ndarray,
    out_dir: Path,
    c: float = 1.0,
    drop_window: float = 0.3,
    seed: int = 0,
) -> Path:
    """Fit the meta-learner on training windows and write ``stacking.onnx`` + ``card.json`` into ``out_dir``.

    The windows are used twice: as they are, and with each modality blanked in a random ``drop_window`` share
    (modality dropout), so the learner sees absent modalities and learns to lean on the rest.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from sklearn.linear_model import LogisticRegression

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    dropped = np.where(rng.random(data.quality.shape) < drop_window, 0.0, data.quality)
    blanked = FusionInput(
        list(data.modalities), data.probs, dropped, data.supported, data.sequence, data.labels
    )
    features = np.concatenate([stacking_features(data), stacking_features(blanked)])
    targets = np.concatenate([targets, targets])
    classes = np.unique(targets)
    model = LogisticRegression(C=c, max_iter=3000, random_state=seed).fit(features, targets)
    # Classes never seen in training get a very low bias, so the graph still outputs all 8 labels.
    weight = np.zeros((features.shape[1], len(CANONICAL_LABELS)), dtype=np.float32)
    bias = np.full(len(CANONICAL_LABELS), -30.0, dtype=np.float32)
    weight[:, classes] = model.coef_.T if len(classes) > 2 else np.c_[-model.coef_.T, model.coef_.T]
    bias[classes] = model.intercept_ if len(classes) > 2 else [-model.intercept_[0], model.intercept_[0]]
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
            "version": time.strftime("%Y%m%d"),
            "task": "emotion-fusion",
            "labels": list(CANONICAL_LABELS),
            "files": {"default": "stacking.onnx"},
            "modalities": list(data.modalities),
            "input": "features",
            "output": "probs",
            "feature_set": "emotrace-fusion-tokens-1",
            "training": {"windows": int(len(targets)) // 2, "C": c, "modality_dropout": drop_window},
            # A 20x8 Gemm: INT8 would save nothing and cost accuracy, so the graph stays float.
            "quantization": "none (tiny Gemm)",
        },
    )
    return out_dir


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
            return torch.softmax(self.head(x), dim=-1)

    return CrossModalTemporal()


def _sequence_batches(
    tokens: np.ndarray, targets: np.ndarray, sequence: np.ndarray, length: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-length crops of every session (shorter sessions padded with absent windows, target -1)."""
    xs, ys = [], []
    for part in sequence_slices(sequence):
        x, y = tokens[part], targets[part]
        starts = range(0, max(len(y) - length, 0) + 1, max(length // 2, 1))
        for start in starts:
            cx, cy = x[start : start + length], y[start : start + length]
            pad = length - len(cy)
            xs.append(np.concatenate([cx, np.zeros((pad, *x.shape[1:]), np.float32)]))
            ys.append(np.concatenate([cy, np.full(pad, -1)]))
    order = rng.permutation(len(xs))
    return np.stack(xs)[order], np.stack(ys)[order]


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
    sequence_length: int = 24,
    epochs: int = 40,
    drop_window: float = 0.3,
    drop_sequence: float = 0.15,
    learning_rate: float = 3e-3,
    seed: int = 0,
    quantize: bool = True,
) -> Path:
    """Train, export ``attention.onnx`` (and ``attention.int8.onnx``) with ``card.json`` into ``out_dir``."""
    import torch

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokens = modality_tokens(data)
    model = _attention_module(len(data.modalities), dim, context_windows)
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=1e-3)
    class_counts = np.bincount(targets, minlength=len(CANONICAL_LABELS)).astype(float)
    class_weight = torch.tensor(
        np.where(class_counts > 0, class_counts.sum() / np.maximum(class_counts, 1) / 8, 0),
        dtype=torch.float32,
    )
    loss_fn = torch.nn.NLLLoss(weight=class_weight, ignore_index=-1)
    started = time.perf_counter()
    for _ in range(epochs):
        x_all, y_all = _sequence_batches(tokens, targets, data.sequence, sequence_length, rng)
        for start in range(0, len(x_all), 16):
            x = modality_dropout(
                torch.from_numpy(x_all[start : start + 16]), drop_window, drop_sequence, generator
            )
            y = torch.from_numpy(y_all[start : start + 16]).long()
            probs = model(x)
            loss = loss_fn(torch.log(probs.clamp_min(1e-7)).reshape(-1, probs.shape[-1]), y.reshape(-1))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    train_s = time.perf_counter() - started
    model.eval()
    example = torch.from_numpy(tokens[: min(sequence_length, len(tokens))][None])
    float_path = out_dir / "attention.onnx"
    torch.onnx.export(
        model,
        (example,),
        str(float_path),
        input_names=["tokens"],
        output_names=["probs"],
        dynamic_axes={"tokens": {1: "windows"}, "probs": {1: "windows"}},
        opset_version=OPSET,
        dynamo=False,
    )
    files = {"float": "attention.onnx", "default": "attention.onnx"}
    if quantize:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(float_path), str(out_dir / "attention.int8.onnx"), weight_type=QuantType.QInt8)
        files["int8"] = "attention.int8.onnx"
    write_card(
        out_dir,
        {
            "id": "fusion-attention",
            "version": time.strftime("%Y%m%d"),
            "task": "emotion-fusion",
            "labels": list(CANONICAL_LABELS),
            "files": files,
            "modalities": list(data.modalities),
            "input": "tokens",
            "output": "probs",
            "feature_set": "emotrace-fusion-tokens-1",
            "architecture": {"dim": dim, "context_windows": context_windows, "causal": True},
            "training": {
                "windows": int(len(targets)),
                "epochs": epochs,
                "sequence_length": sequence_length,
                "modality_dropout": {"window": drop_window, "sequence": drop_sequence},
                "seed": seed,
                "train_s": round(train_s, 1),
            },
        },
    )
    return out_dir
