"""A named pipe given where a file is wanted: the reader must refuse it, not wait on it for a writer."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

from runtime.errors import InputError


def refusal_of_a_pipe(read: Callable[[Path], object], fifo: Path, wait_s: float = 10.0) -> str:
    """``read(fifo)`` run on a named pipe made at ``fifo``: the InputError's line, "read" where it read without one,
    "waited on the pipe" where it was still waiting after ``wait_s`` (then ended by the pipe's end of file)."""
    os.mkfifo(fifo)
    outcome: list[str] = []

    def run() -> None:
        try:
            read(fifo)
            outcome.append("read")
        except InputError as error:
            outcome.append(str(error))

    reader = threading.Thread(target=run, daemon=True)
    reader.start()
    reader.join(wait_s)
    if reader.is_alive():
        # its end of file ends a read waiting on it; where nothing opened it to read (ENXIO), a blocking open would
        # wait for ever
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(wait_s)
        return "waited on the pipe"
    return outcome[0]
