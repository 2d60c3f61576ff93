"""Memory a call takes, for tests that a long input does not cost what its length would suggest."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any


def peak_traced_bytes(function: Callable[..., Any], *args: Any) -> int:
    """The most memory Python and numpy held at once during ``function(*args)``, beyond what was held before.

    Libraries that allocate outside Python's allocator (Praat, ONNX Runtime) are not seen.
    """
    tracemalloc.start()
    try:
        function(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
