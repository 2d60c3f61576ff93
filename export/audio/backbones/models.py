"""Pretrained speech models loaded from a local folder, each behind the small interface training needs.

- ``EncoderBackbone``: a self-supervised encoder (WavLM, wav2vec 2.0 / XLS-R, HuBERT, data2vec-audio) whose
  hidden states, mean-pooled over time, feed ``LayerWeightedHead`` (learned softmax weights over layers).
- ``FineTunedClassifier``: a fine-tuned emotion checkpoint with its own head, its labels mapped onto the
  canonical set (unmapped ones reported).
- ``DimensionalEmotionModel``: audEERING's arousal/dominance/valence model (wav2vec 2.0 + ``RegressionHead``),
  laid out exactly as its checkpoint so that ``from_pretrained`` fills every weight.
- ``Emotion2vecClassifier``: emotion2vec(+) through FunASR, when FunASR is installed.

Every model takes 16 kHz mono float waveforms shaped (batch, samples): the device's windows.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from export.audio.backbones.catalog import (
    KIND_CLASSIFIER,
    KIND_DIMENSIONAL,
    KIND_EMOTION2VEC,
    KIND_ENCODER,
    catalog_entry,
)
from export.audio.backbones.labels import LabelMapping, map_labels
from export.audio.backbones.store import resolve_model
from runtime.errors import InputError, first_line
from runtime.files import read_json_object
from runtime.models.card import file_sha256

DIMENSIONS = ("arousal", "dominance", "valence")
_DIMENSIONAL_ARCHITECTURES = {"Wav2Vec2ForSpeechClassification", "EmotionModel", "DimensionalEmotionModel"}


def _quiet_transformers() -> None:
    from export.audio.backbones.store import require_transformers

    require_transformers()
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


class WaveformNormalizer(nn.Module):
    """Zero mean, unit variance per window, as the checkpoints' feature extractors do when ``do_normalize``.

    Inside the graph, so that the exported model takes raw samples and the device needs no preprocessing.
    """

    def __init__(self, enabled: bool):
        super().__init__()
        self.enabled = enabled

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        if not self.enabled:
            return waveform
        mean = waveform.mean(dim=-1, keepdim=True)
        var = ((waveform - mean) ** 2).mean(dim=-1, keepdim=True)
        return (waveform - mean) / torch.sqrt(var + 1e-7)


class PooledLayers(nn.Module):
    """Encoder hidden states of every layer (the CNN projection and each transformer layer), time-averaged.

    (batch, samples) → (batch, n_layers, hidden). Mean pooling commutes with the head's weighted layer sum,
    so training caches this output once per window and never runs the encoder again.
    """

    def __init__(self, encoder: nn.Module, normalize: bool):
        super().__init__()
        self.normalizer = WaveformNormalizer(normalize)
        self.encoder = encoder

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        outputs = self.encoder(self.normalizer(waveform), output_hidden_states=True)
        return torch.stack(outputs.hidden_states, dim=1).mean(dim=2)


class LayerWeightedHead(nn.Module):
    """Softmax-weighted sum over layers of standardised pooled states, then a small MLP to class logits."""

    def __init__(
        self, n_layers: int, hidden_size: int, n_classes: int, head_hidden: int = 256, dropout: float = 0.2
    ):
        super().__init__()
        self.layer_logits = nn.Parameter(torch.zeros(n_layers))
        # Per-layer standardisation from the training windows: layers differ in scale by orders of magnitude.
        self.register_buffer("feature_mean", torch.zeros(n_layers, hidden_size))
        self.register_buffer("feature_std", torch.ones(n_layers, hidden_size))
        self.mlp = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(hidden_size, head_hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(head_hidden, n_classes),
        )

    def set_standardisation(self, pooled: np.ndarray) -> None:
        self.feature_mean.copy_(torch.as_tensor(pooled.mean(axis=0), dtype=torch.float32))
        self.feature_std.copy_(torch.as_tensor(pooled.std(axis=0) + 1e-5, dtype=torch.float32))

    @property
    def layer_weights(self) -> np.ndarray:
        return torch.softmax(self.layer_logits.detach(), dim=0).cpu().numpy()

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        standard = (pooled - self.feature_mean) / self.feature_std
        weights = torch.softmax(self.layer_logits, dim=0)
        return self.mlp((standard * weights[None, :, None]).sum(dim=1))


class BackboneEmotionModel(nn.Module):
    """Waveform → canonical probabilities: encoder, pooled layers, trained head (the exported graph)."""

    def __init__(self, pooled_layers: PooledLayers, head: LayerWeightedHead):
        super().__init__()
        self.pooled_layers = pooled_layers
        self.head = head

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.head(self.pooled_layers(waveform)), dim=-1)


class MappedClassifier(nn.Module):
    """A fine-tuned checkpoint's probabilities summed onto its supported canonical labels, renormalised."""

    def __init__(self, model: nn.Module, mapping: LabelMapping, normalize: bool):
        super().__init__()
        self.normalizer = WaveformNormalizer(normalize)
        self.model = model
        self.register_buffer("mapping_matrix", torch.as_tensor(mapping.matrix(), dtype=torch.float32))

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        probs = torch.softmax(self.model(self.normalizer(waveform)).logits, dim=-1)
        canonical = probs @ self.mapping_matrix
        return canonical / canonical.sum(dim=-1, keepdim=True).clamp_min(1e-12)


class RegressionHead(nn.Module):
    """audEERING's head for arousal, dominance and valence (names match the checkpoint's weights)."""

    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.final_dropout)
        self.out_proj = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = self.dropout(features)
        x = torch.tanh(self.dense(x))
        return self.out_proj(self.dropout(x))


def _dimensional_model_class():
    # Defined on first use: transformers is imported lazily so that the package imports fast.
    from transformers.models.wav2vec2.modeling_wav2vec2 import Wav2Vec2Model, Wav2Vec2PreTrainedModel

    class DimensionalEmotionModel(Wav2Vec2PreTrainedModel):
        """wav2vec 2.0 trunk, mean over time, ``RegressionHead`` → (arousal, dominance, valence) ≈ [0, 1]."""

        def __init__(self, config):
            super().__init__(config)
            self.wav2vec2 = Wav2Vec2Model(config)
            self.classifier = RegressionHead(config)
            self.post_init()

        def forward(self, input_values: torch.Tensor, output_hidden_states: bool = False):
            outputs = self.wav2vec2(input_values, output_hidden_states=output_hidden_states)
            pooled = outputs[0].mean(dim=1)
            return pooled, self.classifier(pooled)

    return DimensionalEmotionModel


class DimensionalOutputs(nn.Module):
    """Waveform → (batch, 3) arousal, dominance, valence; the exportable graph of the dimensional model."""

    def __init__(self, model: nn.Module, normalize: bool):
        super().__init__()
        self.normalizer = WaveformNormalizer(normalize)
        self.model = model

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return self.model(self.normalizer(waveform))[1]


# --- loading ------------------------------------------------------------------------------------------


@dataclass
class LoadedModel:
    """What ``load_pretrained`` found: the kind, the folder, and the torch modules for that kind."""

    name: str
    folder: Path
    kind: str
    licence: str
    module: nn.Module | None = None  # waveform → canonical probs (classifier) / A,D,V (dimensional)
    pooled_layers: PooledLayers | None = None  # encoders (and the dimensional model's trunk)
    mapping: LabelMapping | None = None
    extra: dict = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        if self.kind == KIND_DIMENSIONAL:
            return list(DIMENSIONS)
        return self.mapping.supported if self.mapping else []

    @property
    def n_layers(self) -> int:
        return int(self.pooled_layers.encoder.config.num_hidden_layers) + 1

    @property
    def hidden_size(self) -> int:
        return int(self.pooled_layers.encoder.config.hidden_size)

    def predict(self, waveforms: np.ndarray, batch_size: int = 8) -> np.ndarray:
        """Canonical probabilities (classifiers, emotion2vec) or A/D/V (dimensional) for each window."""
        if self.kind == KIND_EMOTION2VEC:
            return self.extra["predict"](waveforms)
        if self.module is None:
            raise InputError(
                self.name, f"a {self.kind} has no head of its own; train one with --audio-backbone"
            )
        return run_batched(self.module, waveforms, batch_size)

    def pooled(self, waveforms: np.ndarray, batch_size: int = 8) -> np.ndarray:
        """(n, n_layers, hidden) time-averaged hidden states of every layer, for the head."""
        if self.pooled_layers is None:
            raise InputError(self.name, f"a {self.kind} model exposes no encoder layers here")
        return run_batched(self.pooled_layers, waveforms, batch_size)


def run_batched(module: nn.Module, waveforms: np.ndarray, batch_size: int = 8) -> np.ndarray:
    module.eval()
    outputs = []
    with torch.inference_mode():
        for first in range(0, len(waveforms), batch_size):
            batch = torch.as_tensor(np.asarray(waveforms[first : first + batch_size], dtype=np.float32))
            outputs.append(module(batch).float().numpy())
    return np.concatenate(outputs) if outputs else np.zeros((0,), dtype=np.float32)


# What a corrupt or truncated checkpoint raises inside ``from_pretrained`` (safetensors' own error, torch's
# unpickler, a size mismatch against the config): bad input of the model folder, not a bug.
_CHECKPOINT_ERRORS = (OSError, ValueError, KeyError, EOFError, RuntimeError, pickle.UnpicklingError)
# Used only to mask frames in pre-training; a checkpoint may leave it out without changing any output.
_IGNORABLE_MISSING = ("masked_spec_embed",)
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


def from_pretrained(model_class, folder: Path) -> nn.Module:
    """``model_class.from_pretrained(folder)``, every weight from the checkpoint and taking raw audio, or an
    ``InputError`` naming the folder: transformers quietly fills weights the checkpoint lacks with random
    numbers, and a config that names another model's architecture loads weights that fit nothing."""
    from safetensors import SafetensorError

    try:
        model, info = model_class.from_pretrained(folder, output_loading_info=True)
    except (*_CHECKPOINT_ERRORS, SafetensorError) as error:
        raise InputError(folder, f"could not load the model ({first_line(error, 160)})") from None
    missing = sorted(k for k in info.get("missing_keys", ()) if not k.endswith(_IGNORABLE_MISSING))
    if missing:
        raise InputError(folder, f"its weights file lacks {len(missing)} of the model's weights (e.g. {missing[0]}); "
                                 "a checkpoint of another architecture or an incomplete copy")
    if getattr(model, "main_input_name", None) != "input_values":
        raise InputError(folder, f"a {model.config.model_type} model does not take raw audio; give a speech "
                                 "model (WavLM, wav2vec 2.0 / XLS-R, HuBERT, data2vec-audio)")
    return model


def model_fingerprint(folder: Path) -> str:
    """sha256 over the folder's config and weight files: ties a trained head (and its cache) to the exact encoder
    it was trained on, so that a model re-added under the same name is never silently used in its place."""
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.is_file() and (path.name == "config.json" or path.suffix in _WEIGHT_SUFFIXES):
            digest.update(f"{path.name}|{file_sha256(path)}|".encode())
    return digest.hexdigest()


def detect_kind(folder: Path, name: str = "") -> str:
    """Which of the four kinds a model folder holds, from the catalog or from its files (a config.json that is
    there is read either way: a spoilt one is said the same whatever the model is called)."""
    config = read_json_object(folder / "config.json", what="model config") if (folder / "config.json").is_file() \
        else None
    entry = catalog_entry(name)
    if entry is not None:
        return entry.kind
    if config is None:
        if (folder / "model.pt").is_file() and (folder / "config.yaml").is_file():
            return KIND_EMOTION2VEC
        raise InputError(folder, "not a transformers model folder (no config.json) nor an emotion2vec one")
    architectures = set(config.get("architectures") or [])
    if architectures & _DIMENSIONAL_ARCHITECTURES or config.get("problem_type") == "regression":
        return KIND_DIMENSIONAL
    if any(a.endswith(("ForSequenceClassification", "ForAudioClassification")) for a in architectures):
        return KIND_CLASSIFIER
    return KIND_ENCODER


def _do_normalize(folder: Path) -> bool:
    path = folder / "preprocessor_config.json"
    # transformers' Wav2Vec2FeatureExtractor normalises unless told otherwise.
    if not path.is_file():
        return True
    return bool(read_json_object(path, what="preprocessor config").get("do_normalize", True))


def load_pretrained(
    name_or_path: str | Path, cache_dir: str | Path | None = None, as_encoder: bool = False
) -> LoadedModel:
    """Load a model by short name, hub id (from the local cache) or folder. Never downloads.

    ``as_encoder``: use a classifier's or the dimensional model's transformer trunk as an encoder for a new
    head (layer weights + MLP) instead of its own head.
    """
    name = str(name_or_path)
    return load_folder(name, resolve_model(name, cache_dir), as_encoder)


def load_folder(name: str, folder: Path, as_encoder: bool = False) -> LoadedModel:
    """Load the model in ``folder``, known as ``name`` (a catalog name decides its kind and licence); an
    ``InputError`` naming the folder when it cannot be used."""
    from export.audio.backbones.store import model_licence

    _quiet_transformers()
    kind = detect_kind(folder, name)
    licence = model_licence(name, folder)
    normalize = _do_normalize(folder)
    if kind == KIND_EMOTION2VEC:
        if as_encoder:
            raise InputError(
                name, "emotion2vec runs through FunASR here; use it as a teacher, not an encoder"
            )
        return _load_emotion2vec(name, folder, licence)
    if kind == KIND_DIMENSIONAL:
        model = from_pretrained(_dimensional_model_class(), folder)
        loaded = LoadedModel(
            name,
            folder,
            kind,
            licence,
            module=DimensionalOutputs(model, normalize),
            pooled_layers=PooledLayers(model.wav2vec2, normalize),
        )
    elif kind == KIND_CLASSIFIER and not as_encoder:
        from transformers import AutoModelForAudioClassification

        model = from_pretrained(AutoModelForAudioClassification, folder)
        mapping = map_labels(model.config.id2label)
        if not mapping.supported:
            raise InputError(
                folder, f"none of its labels {list(mapping.model_labels)} maps onto the canonical set"
            )
        loaded = LoadedModel(
            name,
            folder,
            kind,
            licence,
            module=MappedClassifier(model, mapping, normalize),
            mapping=mapping,
        )
    else:
        from transformers import AutoModel

        encoder = from_pretrained(AutoModel, folder)
        loaded = LoadedModel(
            name, folder, KIND_ENCODER, licence, pooled_layers=PooledLayers(encoder, normalize)
        )
    for module in (loaded.module, loaded.pooled_layers):
        if module is not None:
            module.eval()
    return loaded


def _load_emotion2vec(name: str, folder: Path, licence: str) -> LoadedModel:
    """emotion2vec(+) through FunASR, whose model class is the faithful implementation of the checkpoint."""
    tokens_path = folder / "tokens.txt"
    if not tokens_path.is_file():
        raise InputError(folder, "emotion2vec folder has no tokens.txt (its class names)")
    mapping = map_labels(tokens_path.read_text(encoding="utf-8").split())
    try:
        from funasr import AutoModel as FunasrModel
    except ImportError:
        raise InputError(name, "emotion2vec needs FunASR on the training host: pip install funasr") from None
    model = FunasrModel(model=str(folder), disable_update=True, disable_pbar=True)

    def predict(waveforms: np.ndarray) -> np.ndarray:
        """Canonical probabilities over ``mapping.supported`` for each window, one FunASR call each."""
        rows = [np.zeros((0, len(mapping.supported)))]
        for waveform in waveforms:
            result = model.generate(
                np.asarray(waveform, dtype=np.float32), granularity="utterance", extract_embedding=False
            )[0]
            scores = np.asarray(result["scores"], dtype=np.float64)[None, :]
            rows.append(map_labels(result["labels"]).to_canonical_over(scores, mapping.supported))
        return np.concatenate(rows)

    return LoadedModel(name, folder, KIND_EMOTION2VEC, licence, mapping=mapping, extra={"predict": predict})


__all__ = [
    "BackboneEmotionModel",
    "DimensionalOutputs",
    "KIND_CLASSIFIER",
    "KIND_DIMENSIONAL",
    "KIND_EMOTION2VEC",
    "KIND_ENCODER",
    "LayerWeightedHead",
    "LoadedModel",
    "MappedClassifier",
    "PooledLayers",
    "RegressionHead",
    "detect_kind",
    "from_pretrained",
    "model_fingerprint",
    "load_folder",
    "load_pretrained",
    "run_batched",
]
