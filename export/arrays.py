"""Arrays the training host keeps on disk (trained weights, feature caches), written whole or not at all."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from runtime.timeline import write_atomically


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """``arrays`` as .npz at ``path`` (its folder made): a run killed mid-write leaves no truncated file that the
    next run would read as a cache."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_atomically(Path(path), buffer.getvalue())
