"""Lines a job would say again and again (each read of a file, each hop of a live session), said once.

One filter for them all: ``said_once`` puts it on the loggers for the length of a ``with`` block. ``muted`` drops
a job's lines, and ``held`` holds them until the job is known not to be refused. ``first_time`` is its test of a
line, for lines said other than through logging too (a live session's printed lines).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager


def _never(record: logging.LogRecord) -> bool:
    return False


def first_time(said: set[str], key: str, *also: str) -> bool:
    """Whether a line whose key is ``key`` is said for the first time: ``key`` is not in ``said`` (the keys of the
    lines said so far). If so, ``key`` is added, and ``also``: keys of the same line that later lines are checked by
    (its words as said, where ``key`` is them numbers aside, say)."""
    if key in said:
        return False
    said.update((key, *also))
    return True


@contextmanager
def said_once(loggers: Iterable[logging.Logger], said: set[str] | None = None, key: Callable[[str], str] = str,
              unsaid: Callable[[logging.LogRecord], bool] = _never) -> Iterator[None]:
    """Within this, each line the calling thread logs to ``loggers`` is let through once: one whose ``key`` (of its
    message; the message itself by default) is in ``said`` is dropped, else its key is added. ``said``: the keys
    said before (kept across blocks, a session's), else a new set; ``unsaid``: lines dropped outright, the job
    having said them its own way. Other threads' lines all pass: they are not this job's repeats."""
    said = set() if said is None else said
    thread = threading.get_ident()
    loggers = tuple(loggers)

    def once(record: logging.LogRecord) -> bool:
        if record.thread != thread:
            return True
        if unsaid(record):
            return False
        return first_time(said, key(record.getMessage()))

    for logger in loggers:
        logger.addFilter(once)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(once)


def _always(record: logging.LogRecord) -> bool:
    return True


def muted(loggers: Iterable[logging.Logger]) -> AbstractContextManager[None]:
    """Within this, the lines the calling thread logs to ``loggers`` are dropped (other threads' pass): what a job
    leaves to be said elsewhere, as a live checkpoint leaves the physio arm's to the session's end."""
    return said_once(loggers, unsaid=_always)


@contextmanager
def held(loggers: Iterable[logging.Logger]) -> Iterator[None]:
    """Within this, the lines the calling thread logs to ``loggers`` are held back (other threads' pass), and said
    in order once the block ends without an error; where it raises they are dropped: a job that may yet be refused
    says nothing of its inputs before its one refusal line."""
    records: list[logging.LogRecord] = []

    def hold(record: logging.LogRecord) -> bool:
        records.append(record)
        return True

    with said_once(loggers, unsaid=hold):
        yield
    for record in records:
        # to the handlers alone: the logger's filters saw the line when it was held (a said_once around this
        # block took its key then, and would drop it now as a repeat)
        logging.getLogger(record.name).callHandlers(record)
