"""ONNX Runtime's quantizer, quietened: it advises pre-processing on the root logger whatever the graph, advice
meant for static quantization of convolutional networks, which reads as a problem in a training run's output.
And the one bound an INT8 graph is held to against its float graph, for every model that ships INT8."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

# INT8 may cost at most one point (a fraction, 0.01) of the held-out score a model is judged by: PublicTest accuracy
# for the face model, UA on held-out speakers or people for the voice model and the learned fusers.
MAX_INT8_LOSS = 0.01


def _not_the_quantizers(record: logging.LogRecord) -> bool:
    """Every record but ONNX Runtime's own under ERROR (its errors still say what went wrong)."""
    return record.levelno >= logging.ERROR or "onnxruntime" not in record.pathname.replace("\\", "/").split("/")


@contextmanager
def quiet_quantizer() -> Iterator[None]:
    """The root logger drops ONNX Runtime's own warnings and notes while it quantizes (it logs them there); its
    errors and every other record, from any logger or thread, pass."""
    root = logging.getLogger()
    root.addFilter(_not_the_quantizers)
    try:
        yield
    finally:
        root.removeFilter(_not_the_quantizers)
