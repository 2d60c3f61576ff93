"""The local store of pretrained speech models: `emotrace models add NAME FOLDER` / `models list`.

Nothing here touches the network. A model's files (``config.json`` and weights, as its publisher lays them out)
are fetched by whoever has the rights and a connection, on another machine if need be, and added from that
folder; the store is ``$EMOTRACE_MODEL_STORE`` or ``~/.cache/emotrace/backbones``. A name that is neither a
folder nor in the store is an ``InputError`` that names the add command.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from export.audio.backbones.catalog import CATALOG, catalog_entry
from export.install import installing
from runtime.errors import InputError
from runtime.files import check_output_folder, missing_input, node_kind


@dataclass(frozen=True)
class ModelListing:
    name: str
    repo_id: str
    kind: str
    licence: str
    languages: str
    stored_path: Path | None


def require_transformers() -> None:
    """Pretrained models are a training-host feature: say how to get it instead of a traceback."""
    try:
        import transformers  # noqa: F401
    except ImportError:
        raise InputError(
            "transformers",
            "not installed: pretrained speech models need the training host's packages (pip install -e '.[train]')",
        ) from None


def store_dir(store: str | Path | None = None) -> Path:
    # Read at call time so a shell or a test can point it elsewhere.
    return Path(store or os.environ.get("EMOTRACE_MODEL_STORE") or Path.home() / ".cache" / "emotrace" / "backbones")


def _short_name(name: str) -> str:
    """The catalog's short name for a short name or hub id; otherwise the name, safe as a folder name."""
    entry = catalog_entry(name)
    return entry.name if entry else name.replace("/", "--")


STORE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _store_folder_name(name: str) -> str:
    """The folder a model is stored in, or an error: the store replaces that folder, so ".", ".." or "" (the
    store itself, the folder above it) and names that are paths must never reach it."""
    folder = _short_name(name)
    if name.count("/") > 1 or not STORE_NAME.fullmatch(folder):
        raise InputError(repr(name) if not name.strip() else name,
                         "not a model name: letters, digits, '.', '_' and '-' (a hub id's one '/' aside), "
                         "starting with a letter or digit")
    return folder


def add_command(name: str) -> str:
    return f"emotrace models add {name} FOLDER"


def _looks_like_path(name: str) -> bool:
    # A hub id is "owner/name" (one slash); anything else with a separator is meant as a folder.
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def stored_model(name: str, store: str | Path | None = None) -> Path | None:
    folder = store_dir(store) / _short_name(name)
    return folder if (folder / "config.json").is_file() else None


def resolve_model(name_or_path: str | Path, store: str | Path | None = None) -> Path:
    """A local folder holding the model: the folder itself, or its copy in the store. Never downloads."""
    text = str(name_or_path)
    path = Path(text).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise InputError(text, "is a file; give the model's folder")
    if _looks_like_path(text) and catalog_entry(text) is None:
        raise InputError(text, "no such model folder")
    folder = stored_model(text, store)
    if folder is None:
        raise InputError(
            text,
            f"not in the local model store ({store_dir(store)}); add its folder with `{add_command(text)}` "
            f"(the files of {_repo_hint(text)}, fetched where that is allowed) or give a local folder",
        )
    return folder


def _repo_hint(name: str) -> str:
    entry = catalog_entry(name)
    return f"hub repository {entry.repo_id}" if entry else name


def add_model(name: str, source: str | Path, store: str | Path | None = None) -> Path:
    """Copy a model folder (``config.json`` + weights) into the store under its short name; returns the copy.

    The model is loaded first, as training would load it: a truncated or foreign checkpoint is refused here,
    naming the folder it came from, rather than stored and found out at the first training run."""
    from export.audio.backbones.models import load_folder

    source = Path(source).expanduser()
    if source.exists() and not source.is_dir():  # e.g. one of the model's files: said as what it is
        raise InputError(source, f"is {node_kind(source)}, not a model folder; give the folder holding config.json")
    if not source.is_dir():
        raise missing_input(source, "model folder")
    if not (source / "config.json").is_file():
        raise InputError(source, "holds no config.json: not a model folder as its publisher lays it out")
    folder_name = _store_folder_name(name)
    check_output_folder(store_dir(store))  # a store path that is a file is said before the model is loaded
    load_folder(name, source)  # its errors name the folder (or the library it needs)
    target = store_dir(store) / folder_name
    with installing(target, checked=False) as staging:  # a half-copied model never looks stored
        try:
            shutil.copytree(source, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
                ".git", "*.h5", "*.msgpack", "tf_model*", "flax_model*"))
        except OSError as error:  # a full disk, a file that cannot be read
            raise InputError(source, f"cannot be copied into the store {target.parent} ({_copy_problem(error)}); "
                                     "nothing stored") from None
    return target


def _copy_problem(error: OSError) -> str:
    failed = error.args[0] if isinstance(error, shutil.Error) and error.args else None
    if isinstance(failed, list) and failed and len(failed[0]) == 3:  # copytree's (source, destination, why) each
        return str(failed[0][2])  # why names the file
    return f"{error.filename}: {error.strerror}" if error.filename and error.strerror else str(error)


def model_licence(name: str, folder: str | Path | None = None) -> str:
    """The licence a model comes under: from the catalog, else from its card's front matter."""
    entry = catalog_entry(name)
    if entry is not None:
        return entry.licence
    readme = Path(folder) / "README.md" if folder is not None else None
    if readme is not None and readme.is_file():
        match = re.search(r"^licen[sc]e:\s*(\S.*)$", readme.read_text(errors="replace"), flags=re.MULTILINE)
        if match:
            return match.group(1).strip().strip("'\"")
    return "unknown: read the model's card before using it"


def list_models(store: str | Path | None = None) -> list[ModelListing]:
    """Every catalog model with its licence and, when stored, where it lies; then every other model the store
    holds (added under a name of the user's), with the licence its card states."""
    listed = [
        ModelListing(e.name, e.repo_id, e.kind, e.licence, e.languages, stored_model(e.name, store))
        for e in CATALOG.values()
    ]
    folder = store_dir(store)
    # hidden folders are an install's staging and old copies (export.install.staging_folder), left by one stopped
    others = sorted(p for p in folder.iterdir() if p.name not in CATALOG and not p.name.startswith(".")
                    and (p / "config.json").is_file()) if folder.is_dir() else []
    return listed + [ModelListing(p.name, p.name.replace("--", "/"), "added", model_licence(p.name, p), "", p)
                     for p in others]


def format_listing(rows: list[ModelListing]) -> str:
    lines = [f"{'NAME':24} {'KIND':12} {'STORED':7} LICENCE  (hub id)"]
    lines += [
        f"{r.name:24} {r.kind:12} {'yes' if r.stored_path else 'no':7} {r.licence}  ({r.repo_id})"
        for r in rows
    ]
    return "\n".join(lines)
