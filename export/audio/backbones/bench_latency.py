"""CPU latency per 2 s window of each candidate architecture, float and INT8, through ONNX Runtime.

Latency depends on the architecture (layer count, width, convolution front end), not on the weight
values, so models built from each architecture's configuration with random weights stand in for the
real checkpoints, which cannot be downloaded here. Every model is the full exported graph: waveform
normalisation, encoder, every layer pooled, layer-weighted head, softmax.

    python -m export.audio.backbones.bench_latency --out /tmp/backbones/latency.json
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
from pathlib import Path

import torch

from export.audio.backbones.distill import StudentNet
from export.audio.backbones.models import (
    BackboneEmotionModel,
    LayerWeightedHead,
    PooledLayers,
    _quiet_transformers,
)
from export.audio.backbones.onnx_export import export_onnx, latency_per_window_summary, quantize_int8

LARGE = dict(
    hidden_size=1024,
    num_hidden_layers=24,
    num_attention_heads=16,
    intermediate_size=4096,
    feat_extract_norm="layer",
    do_stable_layer_norm=True,
    conv_bias=True,
)

# name → (model_type, config overrides); the base configurations are transformers' defaults.
ARCHITECTURES: dict[str, tuple[str, dict]] = {
    "wav2vec2-base": ("wav2vec2", {}),
    "hubert-base": ("hubert", {}),
    "wavlm-base-plus": ("wavlm", {}),
    "data2vec-audio-base": ("data2vec-audio", {}),
    "audeering-dim (wav2vec2-large, 12 layers)": ("wav2vec2", {**LARGE, "num_hidden_layers": 12}),
    "wav2vec2-large-robust / xls-r-300m": ("wav2vec2", LARGE),
    "hubert-large": ("hubert", LARGE),
    "wavlm-large": ("wavlm", LARGE),
}


def build(name: str) -> torch.nn.Module:
    if name == "student":
        return StudentNet(8).eval()
    from transformers import AutoConfig, AutoModel

    model_type, overrides = ARCHITECTURES[name]
    encoder = AutoModel.from_config(AutoConfig.for_model(model_type, **overrides))
    config = encoder.config
    head = LayerWeightedHead(config.num_hidden_layers + 1, config.hidden_size, 8)
    return BackboneEmotionModel(PooledLayers(encoder, normalize=True), head).eval()


def measure(name: str, folder: Path, repeats: int) -> dict:
    model = build(name)
    params_m = sum(p.numel() for p in model.parameters()) / 1e6
    float_path = export_onnx(model, folder / "model.onnx")
    int8_path = quantize_int8(float_path, folder / "model.int8.onnx")
    row = {
        "name": name,
        "params_m": round(params_m, 1),
        "size_mb": {
            "float": round(float_path.stat().st_size / 1e6, 1),
            "int8": round(int8_path.stat().st_size / 1e6, 1),
        },
        "float": latency_per_window_summary(float_path, repeats=repeats),
        "int8": latency_per_window_summary(int8_path, repeats=repeats),
    }
    float_path.unlink()
    int8_path.unlink()
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON file for the results")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--only", nargs="*", help="architecture names (default: all, then the student)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    _quiet_transformers()
    names = args.only or [*ARCHITECTURES, "student"]
    rows = []
    for name in names:
        with tempfile.TemporaryDirectory() as folder:
            rows.append(measure(name, Path(folder), args.repeats))
        print(json.dumps(rows[-1]), flush=True)
        result = {
            "machine": {
                "processor": platform.processor() or platform.machine(),
                "python": platform.python_version(),
                "threads": 1,
            },
            "rows": rows,
        }
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
