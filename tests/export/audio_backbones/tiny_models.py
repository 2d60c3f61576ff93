"""Tiny random models of each architecture, built from configs and saved like a downloaded checkpoint."""

from __future__ import annotations

from pathlib import Path

import torch

TINY = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    conv_dim=(32,) * 7,
    num_conv_pos_embeddings=16,
    num_conv_pos_embedding_groups=2,
)
ARCHITECTURES = ("wavlm", "wav2vec2", "hubert", "data2vec-audio")


def tiny_config(model_type: str, **extra):
    from transformers import AutoConfig

    return AutoConfig.for_model(model_type, **TINY, **extra)


def save_tiny_encoder(folder: Path, model_type: str, seed: int = 0) -> Path:
    from transformers import AutoModel

    torch.manual_seed(seed)
    AutoModel.from_config(tiny_config(model_type)).save_pretrained(folder)
    return folder


def save_tiny_classifier(folder: Path, id2label: dict[int, str], model_type: str = "wav2vec2") -> Path:
    from transformers import AutoModelForAudioClassification

    torch.manual_seed(0)
    config = tiny_config(
        model_type, id2label=id2label, label2id={v: k for k, v in id2label.items()}, classifier_proj_size=16
    )
    AutoModelForAudioClassification.from_config(config).save_pretrained(folder)
    return folder
