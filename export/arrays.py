"""Arrays the training host keeps on disk (trained weights, feature caches), written whole or not at all."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np

from runtime.files import write_atomically

log = logging.getLogger(__name__)


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """``arrays`` as .npz at ``path`` (its folder made): a run killed mid-write leaves no truncated file that the
    next run would read as a cache."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_atomically(Path(path), buffer.getvalue())


def read_cache(path: Path, names: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """The arrays ``names`` of a cache written by ``save_npz``, read whole; None, said in a warning, when the file
    cannot be read or lacks one of them (a run stopped by power loss or a full disk, a cache of an older kind, a
    file not ours): the caller computes it again."""
    try:
        stored = np.load(path, allow_pickle=False)
        if not isinstance(stored, np.lib.npyio.NpzFile):  # a bare .npy array
            problem = "not an .npz archive"
        else:
            with stored:
                missing = [name for name in names if name not in stored]
                if not missing:
                    return {name: stored[name] for name in names}
                problem = f"no {', '.join(missing)}"
    except Exception as error:  # noqa: BLE001 -- whatever a damaged or foreign file raises, it is computed again
        problem = (str(error) or type(error).__name__)[:200]
    log.warning("%s: unreadable cache (%s); computed again", path, problem)
    return None
