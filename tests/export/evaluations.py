"""What the tests of ``emotrace evaluate audio|face|physio`` share: a run of the command and a stand-in model's
probabilities."""

import json
from pathlib import Path

import numpy as np

from runtime.cli import main


def evaluated(part: str, data: Path, out: Path, *options: str) -> tuple[int, dict | None]:
    """``emotrace evaluate PART DATA --out OUT`` (200 resamples, then ``options``): its exit code and, where it
    succeeded, the report it wrote."""
    code = main(["evaluate", part, str(data), "--out", str(out), "--resamples", "200", *options])
    return code, json.loads((Path(out) / f"{part}_evaluation.json").read_text()) if code == 0 else None


def one_label_probs(rows: int, n_labels: int, says: int) -> np.ndarray:
    """``rows`` probability rows that each give label ``says`` 0.9 and share the rest out."""
    probs = np.full((rows, n_labels), 0.1 / (n_labels - 1))
    probs[:, says] = 0.9
    return probs
