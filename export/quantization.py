"""ONNX Runtime's quantizer, quietened: it advises pre-processing on the root logger whatever the graph, advice
meant for static quantization of convolutional networks, which reads as a problem in a training run's output.
The one bound an INT8 graph is held to against its float graph, for every model that ships INT8, and the one
way weights are quantized dynamically (7 bits: ``quantize_weights_dynamic``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


def quantize_weights_dynamic(float_path: str | Path, int8_path: str | Path, op_types: list[str] | None = None,
                             per_channel: bool = False) -> Path:
    """INT8 weights for ``op_types`` (all ONNX Runtime quantizes where None), activations scaled as each call
    runs (dynamic quantization), weights kept to 7 bits (``reduce_range``).

    x86 CPUs without VNNI (AVX2, AVX-512 without VNNI) multiply uint8 activations by int8 weights with an
    instruction that adds pairs of products into a saturating 16-bit sum: with full-range weights the shipped voice
    model's session variant changed 4 % of the example's top labels on an AVX2 CPU against exact integer arithmetic
    (``benchmarks/int8_check.py``), where a VNNI CPU changed none; 7-bit weights cannot overflow it. As the face
    export's static graph does (``export.face.export.quantize_int8``)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with quiet_quantizer():
        quantize_dynamic(str(float_path), str(int8_path), weight_type=QuantType.QInt8, per_channel=per_channel,
                         reduce_range=True, op_types_to_quantize=op_types)
    return Path(int8_path)
