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
