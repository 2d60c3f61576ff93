"""The one error type for bad input: it names the input and the problem, in one line."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input (missing, empty, corrupt, wrong format, ...): shown to the user as one line.

    The CLI prints ``str(error)`` and exits non-zero; the live service records it as a status.
    """

    def __init__(self, source: str | Path, problem: str):
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")


def first_line(error: BaseException, max_chars: int | None = 120) -> str:
    """The first line of ``error``'s message, cut to ``max_chars``; its type's name when the message is empty.

    For quoting a library's error inside a one-line ``InputError``: its messages often run to many lines.
    """
    lines = str(error).strip().splitlines()
    return (lines[0] if lines else type(error).__name__)[:max_chars]
