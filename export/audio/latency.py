"""How long one window takes through the device's ONNX Runtime backend on this CPU, as model cards report it."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from runtime.models.runner import OnnxRuntimeBackend


def onnx_run_times_ms(path: str | Path, inputs: dict[str, np.ndarray], repeats: int, threads: int = 1) -> list[float]:
    """Wall time of each of ``repeats`` runs of ``inputs`` through the model at ``path``, in ms, with ``threads``
    intra-op threads; after one untimed run, as the first allocates and a stream never sees that."""
    backend = OnnxRuntimeBackend(Path(path), threads=threads)
    backend.run(inputs)
    times_ms = []
    for _ in range(repeats):
        started = time.perf_counter()
        backend.run(inputs)
        times_ms.append((time.perf_counter() - started) * 1000.0)
    return times_ms
