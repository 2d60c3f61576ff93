"""Model cards: what a shipped model is, what it needs and how well it did on people it never saw.

A model lives in its own folder under ``models/``: ``card.json`` (machine-readable, read here),
``MODEL_CARD.md`` (for people) and the model file(s). The card, not code, says the inputs, labels,
feature set and checksum.

A model is named either by its id, a bare name such as ``audio-emotion`` that always means the shipped folder
``models/<id>``, or by a path (one with a ``/``, or starting with ``.``: ``./my-model``, ``runs/voice``,
``/abs/folder``, ``folder/card.json``), which means that folder or card wherever it is. A ``Path`` object is
always a path. A folder in the working directory therefore never stands in for a shipped model.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.errors import InputError
from runtime.files import missing_input, read_json_object
from runtime.track import json_kind

REPO_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


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

    def require_task(self, tasks: tuple[str, ...], kind: str) -> None:
        """An ``InputError`` naming the folder where this card's task is none of ``tasks``: another kind's graph
        would fail on the inputs given it with no clear word. ``kind`` says what was wanted ("a ... model")."""
        if self.task not in tasks:
            raise InputError(self.folder, f"not {kind} (task {self.task!r})")

    def identity(self, variant: str = "default") -> dict[str, str]:
        return {"id": self.id, "version": self.version, "variant": variant,
                "sha256": self.sha256.get(variant, "")}

    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in ("id", "version", "task", "labels", "files", "sha256",
                                               "feature_set", "metrics", "licence")}
        data.update(self.extra)
        return data


@contextmanager
def reading_settings(card: ModelCard) -> Iterator[None]:
    """Around the reading of a card's own settings (``card.extra``) by the code that runs its model: one missing
    or of the wrong kind is one line naming the card, not an internal KeyError or ValueError."""
    try:
        yield
    except KeyError as error:
        raise InputError(card.folder / "card.json", f"card lacks {error.args[0]!r}, which its model needs here") \
            from None
    except (TypeError, ValueError) as error:
        raise InputError(card.folder / "card.json", f"card holds a setting of the wrong kind ({error})") from None


def is_model_id(location: str | Path) -> bool:
    """True for a bare model id (a name under ``models/``), False for a path to a folder or card."""
    if not isinstance(location, str) or location.startswith("."):
        return False
    return not any(sep and sep in location for sep in ("/", os.sep, os.altsep))


def card_location(location: str | Path) -> Path:
    """The card file a model id, folder or card path names (not checked to exist)."""
    path = REPO_MODELS_DIR / location if is_model_id(location) else Path(location)
    return path / "card.json" if path.is_dir() else path


def load_card(location: str | Path) -> ModelCard:
    """Load ``card.json`` from a model id (under ``models/``), a model folder or a card path."""
    path = card_location(location)
    if not path.is_file():
        if is_model_id(location):
            raise InputError(location, f"no shipped model of that id in {REPO_MODELS_DIR} "
                                       f"(a model folder is named by a path, e.g. ./{location})")
        raise InputError(location, "no model card (card.json) there" + _why_no_card(Path(location), path))
    data = read_json_object(path, ("id", "version", "task", "labels", "files"), "model card")
    known = {"id", "version", "task", "labels", "files", "sha256", "feature_set", "metrics", "licence"}
    _check_fields(data, path)
    card = ModelCard(**{k: data[k] for k in known if k in data},
                     extra={k: v for k, v in data.items() if k not in known}, folder=path.parent)
    return card


def _why_no_card(given: Path, card: Path) -> str:
    """What the path ``given`` as a model (a folder, or ``card`` in it) is instead, where that can be told: a link
    to nothing, no such folder, or a training run (its report) that has not been exported; "" otherwise (a folder
    without a card, a card file misspelt)."""
    if given.is_symlink() and not given.exists():
        return f": it {missing_input(given).problem}"
    # the folder meant: the path itself, or the card's where the path names card.json; a misspelt card file
    # ('card.jsn') in a folder that is there says no more
    folder = given if given.is_dir() or not given.suffix else card.parent if given.name == "card.json" else None
    if folder is None:
        return ""
    if not folder.exists():
        return ": the folder does not exist"
    if (folder / "report.json").is_file():
        return (": a training run's folder (its report.json), not a model; export it (emotrace export "
                "audio|face|physio RUN) and name the model folder that writes")
    return ""


def _check_fields(data: dict[str, Any], path: Path) -> None:
    """The card fields the runtime reads have the JSON types it reads them as; else one line naming the card.

    Every model file the card lists needs its SHA-256: the file is checked against it at load.
    """
    for key in ("id", "version", "task"):
        if not isinstance(data[key], str) or not data[key]:
            raise InputError(path, f"card field {key!r} must be a non-empty string, not {json_kind(data[key])}")
    labels = data["labels"]
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x for x in labels):
        raise InputError(path, f"card field 'labels' must be a non-empty list of label names, not {json_kind(labels)}")
    repeated = sorted({x for x in labels if labels.count(x) > 1})
    if repeated:
        raise InputError(path, f"card field 'labels' names {', '.join(repeated)} more than once")
    files = data["files"]
    if not isinstance(files, dict) or not all(isinstance(v, str) and v for v in files.values()):
        raise InputError(path, "card field 'files' must map each variant to a file name, "
                               f"not {json_kind(files)}")
    sha256 = data.get("sha256", {})
    if not isinstance(sha256, dict) or not all(isinstance(v, str) and _SHA256.fullmatch(v) for v in sha256.values()):
        raise InputError(path, "card field 'sha256' must map each variant to its file's SHA-256 "
                               f"(64 hex digits), not {json_kind(sha256)}")
    unchecked = [variant for variant in files if variant not in sha256]
    if unchecked:
        raise InputError(path, f"card gives no sha256 for model variant(s) {', '.join(unchecked)}: every model "
                               "file is checked at load (sha256sum FILE gives it)")
    if data.get("feature_set") is not None and not isinstance(data["feature_set"], str):
        raise InputError(path, "card field 'feature_set' must be a string or null, "
                               f"not {json_kind(data['feature_set'])}")
    for key in ("metrics", "licence"):
        if key in data and not isinstance(data[key], dict):
            raise InputError(path, f"card field {key!r} must be an object, not {json_kind(data[key])}")


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
    if not expected:
        raise InputError(card.folder / "card.json", f"card gives no sha256 for model variant {variant!r}")
    try:
        actual = file_sha256(path)
    except OSError as error:  # a file the service's user may not read, a disk that fails
        raise InputError(path, f"model file cannot be read ({error.strerror or error})") from None
    if actual != expected.lower():
        raise InputError(path, "model file does not match the checksum in its card")


def windows_not_as_trained(model_id: str, figures: str, windows_s: tuple[float, float | None],
                           trained_s: tuple[float, float | None]) -> str:
    """The line an arm logs when its windows (``windows_s``: length, hop) are not those the model was trained on
    (``trained_s``): "60 s windows every 5 s, but physio-stress was trained on 30 s every 5 s; its stress figures
    are not measured for these settings". A hop of None is not said: for a model that reads each window alone."""
    (window_s, hop_s), (trained_window_s, trained_hop_s) = windows_s, trained_s
    used = f"{window_s:g} s windows" + (f" every {hop_s:g} s" if hop_s is not None else "")
    trained = f"{trained_window_s:g} s" + (f" every {trained_hop_s:g} s" if trained_hop_s is not None else " windows")
    return f"{used}, but {model_id} was trained on {trained}; its {figures} are not measured for these settings"
