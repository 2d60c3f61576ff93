"""Inputs named on a command line: files as given, and files of the right kind under folders."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from runtime.errors import InputError


def check_output_file(path: Path | str, inputs: Iterable[Path | str] = ()) -> Path:
    """The file a command will write, checked before any work: its folder exists, it is not itself a folder,
    and it is none of ``inputs`` (writing it would replace what was read)."""
    path = Path(path)
    if path.is_dir():
        raise InputError(path, "is a folder; give a file name to write")
    if not path.parent.is_dir():
        raise InputError(path, "output folder does not exist")
    if path.exists() and any(Path(p).exists() and path.samefile(p) for p in inputs):
        raise InputError(path, "output would overwrite the input")
    return path


def find_files(paths: Iterable[Path | str], suffixes: set[str], kind: str) -> list[Path]:
    """Each path that is a file, and every file with one of ``suffixes`` under each folder (recursively, sorted).

    A path that does not exist, or nothing of ``kind`` found at all, is an ``InputError``.
    """
    paths = [Path(p) for p in paths]
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(path, "no such file or folder")
    if not found:
        raise InputError(", ".join(str(p) for p in paths), f"no {kind} found")
    return found
