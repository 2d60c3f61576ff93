"""What native libraries write straight to the process's stderr, past Python's logging and its settings.

LiteRT announces its CPU delegate at every model it loads, and libjpeg complains of a damaged file before
OpenCV returns what it could read: lines a clinician would see on every run, or beside the one line that says
what is wrong. ``native_stderr`` holds file descriptor 2 while such a call runs and writes back only the lines
its caller keeps; the caller may say the rest in its own words.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_HOLDING = threading.RLock()  # fd 2 is the process's: two holders at once would restore each other's file


@contextmanager
def native_stderr(keep: Callable[[str], bool]) -> Iterator[list[str]]:
    """Hold fd 2 meanwhile; then write back the lines ``keep`` accepts, and leave the others (without their line
    ends) in the list yielded, for the caller to read after the block. Without a stderr (closed) nothing is held.
    Another thread's writes meanwhile are held too, and written back unless ``keep`` drops them."""
    dropped: list[str] = []
    with _HOLDING:
        try:
            if sys.stderr is not None:
                sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no stderr to hold: nothing of it can reach anyone
            yield dropped
            return
        try:
            held = tempfile.TemporaryFile()  # noqa: SIM115 -- _held closes it
        except OSError:  # nowhere to hold it (no writable temp folder): the native lines go through as they are
            os.close(saved)
            yield dropped
            return
        yield from _held(held, saved, keep, dropped)


def _held(held, saved: int, keep: Callable[[str], bool], dropped: list[str]) -> Iterator[list[str]]:
    with held:
        os.dup2(held.fileno(), 2)
        try:
            yield dropped
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            kept = []
            for line in held.read().decode(errors="replace").splitlines(keepends=True):
                (kept.append(line) if keep(line.rstrip("\r\n")) else dropped.append(line.rstrip("\r\n")))
            if kept:
                os.write(2, "".join(kept).encode())
