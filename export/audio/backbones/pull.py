"""`emotrace models pull NAME` / `models list`, and finding a pretrained model on disk without downloading.

Models live in the standard Hugging Face cache (``HF_HUB_CACHE``/``HF_HOME``), so every tool on the training
host shares them. Only ``pull_model`` touches the network, and only when asked; ``HF_HUB_OFFLINE`` (or
``TRANSFORMERS_OFFLINE``) forbids even that. Everything else resolves names from disk, and a model that is not
there is an ``InputError`` that names the pull command.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from export.audio.backbones.catalog import CATALOG, catalog_entry
from runtime.errors import InputError

# Weights in one format are enough; these are never needed here.
_SKIPPED_WEIGHTS = ("*.h5", "*.msgpack", "*.ot", "*.onnx", "*.tflite", "flax_model*", "tf_model*")
_TRUTHY = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class ModelListing:
    name: str
    repo_id: str
    kind: str
    licence: str
    languages: str
    cached_path: Path | None


def offline() -> bool:
    """Whether downloads are forbidden (read at call time, so a test or a shell can set it late)."""
    return any(
        os.environ.get(var, "").strip().lower() in _TRUTHY
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def require_hub() -> None:
    """Pretrained models are a training-host feature: say how to get it instead of a traceback."""
    try:
        import huggingface_hub  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        raise InputError(
            "transformers",
            "not installed: pretrained speech models need pip install 'emotrace[train]' (the training host)",
        ) from None


def _cache_dir(cache_dir: str | Path | None) -> str | Path | None:
    # huggingface_hub reads HF_HUB_CACHE once at import; read it at call time so a shell or test can set it.
    return cache_dir or os.environ.get("HF_HUB_CACHE") or None


def repo_id_for(name: str) -> str:
    entry = catalog_entry(name)
    return entry.repo_id if entry else name


def pull_command(name: str) -> str:
    return f"emotrace models pull {name}"


def _looks_like_path(name: str) -> bool:
    # A hub id is "owner/name" (one slash); anything else with a separator is meant as a folder.
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def cached_snapshot(name: str, cache_dir: str | Path | None = None) -> Path | None:
    """The local snapshot folder of a short name or hub id, or None when it is not in the cache."""
    require_hub()
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(
            snapshot_download(repo_id_for(name), cache_dir=_cache_dir(cache_dir), local_files_only=True)
        )
    except (LocalEntryNotFoundError, ValueError, OSError):
        return None


def resolve_model(name_or_path: str | Path, cache_dir: str | Path | None = None) -> Path:
    """A local folder holding the model: the folder itself, or its snapshot in the cache. Never downloads."""
    text = str(name_or_path)
    path = Path(text).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise InputError(text, "is a file; give the model's folder")
    if _looks_like_path(text) and catalog_entry(text) is None:
        raise InputError(text, "no such model folder")
    snapshot = cached_snapshot(text, cache_dir)
    if snapshot is None:
        raise InputError(
            text,
            f"model not in the local cache; fetch it once with `{pull_command(text)}` "
            "(needs the internet) or give a local folder",
        )
    return snapshot


def pull_model(name: str, cache_dir: str | Path | None = None, revision: str | None = None) -> Path:
    """Download a model into the standard cache (the one network call in the project); returns its folder."""
    if offline():
        raise InputError(
            name,
            "HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE is set, so nothing is downloaded; "
            "unset it to pull, or copy the model folder here and give its path",
        )
    require_hub()
    from huggingface_hub import HfApi, snapshot_download

    repo_id = repo_id_for(name)
    try:
        files = HfApi().list_repo_files(repo_id, revision=revision)
        ignore = list(_SKIPPED_WEIGHTS)
        if any(f.endswith(".safetensors") for f in files):
            ignore.append("*.bin")  # the same weights twice otherwise
        folder = snapshot_download(
            repo_id, cache_dir=_cache_dir(cache_dir), revision=revision, ignore_patterns=ignore
        )
    except Exception as error:  # hub and network errors have many types; each is one line for the user
        raise InputError(
            name,
            f"could not download {repo_id} ({type(error).__name__}: "
            f"{str(error).splitlines()[0][:160] if str(error) else 'no detail'})",
        ) from None
    return Path(folder)


def model_licence(name: str, folder: str | Path | None = None) -> str:
    """The licence a model comes under: from the catalog, else from its hub card's front matter."""
    entry = catalog_entry(name)
    if entry is not None:
        return entry.licence
    readme = Path(folder) / "README.md" if folder is not None else None
    if readme is not None and readme.is_file():
        match = re.search(r"^licen[sc]e:\s*(\S.*)$", readme.read_text(errors="replace"), flags=re.MULTILINE)
        if match:
            return match.group(1).strip().strip("'\"")
    return "unknown: read the model's card before using it"


def list_models(cache_dir: str | Path | None = None) -> list[ModelListing]:
    """Every catalog model with its licence and, when cached, where it lies."""
    return [
        ModelListing(e.name, e.repo_id, e.kind, e.licence, e.languages, cached_snapshot(e.name, cache_dir))
        for e in CATALOG.values()
    ]


def format_listing(rows: list[ModelListing]) -> str:
    lines = [f"{'NAME':24} {'KIND':12} {'CACHED':7} LICENCE  (hub id)"]
    lines += [
        f"{r.name:24} {r.kind:12} {'yes' if r.cached_path else 'no':7} {r.licence}  ({r.repo_id})"
        for r in rows
    ]
    return "\n".join(lines)
