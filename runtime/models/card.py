"""Model cards: what a shipped model is, what it needs and how well it did on people it never saw.

A model lives in its own folder under ``models/``: ``card.json`` (machine-readable, read here),
``MODEL_CARD.md`` (for people) and the model file(s). The card, not code, says the inputs, labels,
feature set and checksum.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.errors import InputError

REPO_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"


@dataclass
class ModelCard:
    id: str
    version: str
    task: str
    labels: list[str]
    files: dict[str, str]
    sha256: dict[str, str] = field(default_factory=dict)
    feature_set: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    licence: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    folder: Path = Path(".")

    def path(self, variant: str = "default") -> Path:
        if variant not in self.files:
            raise InputError(self.folder / "card.json", f"has no model variant {variant!r}")
        return self.folder / self.files[variant]

    def identity(self, variant: str = "default") -> dict[str, str]:
        return {"id": self.id, "version": self.version, "variant": variant,
                "sha256": self.sha256.get(variant, "")}

    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in ("id", "version", "task", "labels", "files", "sha256",
                                               "feature_set", "metrics", "licence")}
        data.update(self.extra)
        return data


def load_card(location: str | Path) -> ModelCard:
    """Load ``card.json`` from a model folder, a card path, or a model id under ``models/``."""
    path = Path(location)
    if not path.exists() and (REPO_MODELS_DIR / str(location)).exists():
        path = REPO_MODELS_DIR / str(location)
    if path.is_dir():
        path = path / "card.json"
    if not path.is_file():
        raise InputError(location, "no model card (card.json) there")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(path, f"model card is not valid JSON ({error})") from None
    known = {"id", "version", "task", "labels", "files", "sha256", "feature_set", "metrics", "licence"}
    missing = [k for k in ("id", "version", "task", "labels", "files") if k not in data]
    if missing:
        raise InputError(path, f"model card lacks {', '.join(missing)}")
    card = ModelCard(**{k: data[k] for k in known if k in data},
                     extra={k: v for k, v in data.items() if k not in known}, folder=path.parent)
    return card


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(card: ModelCard, variant: str = "default") -> None:
    expected = card.sha256.get(variant)
    path = card.path(variant)
    if not path.is_file():
        raise InputError(path, "model file is missing")
    if expected and file_sha256(path) != expected:
        raise InputError(path, "model file does not match the checksum in its card")
