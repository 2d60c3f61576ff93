"""ONNX Runtime's quantizer, quietened: it advises pre-processing on the root logger whatever the graph, advice
meant for static quantization of convolutional networks, which reads as a problem in a training run's output."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_quantizer() -> Iterator[None]:
    """The root logger at ERROR while ONNX Runtime quantizes (its advice is logged there, as WARNING)."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)
