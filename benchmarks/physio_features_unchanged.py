"""Whether the device's feature code still gives every cached training window of Stress-Predict as it was.

    python benchmarks/physio_features_unchanged.py ../shared/data/physio/stress_predict --cache runs/physio-cache

Each subject's windows are computed again with the code as it stands (as the E4 records them, and as the serial
board would, without the E4's HR, IBI and ACC files) and compared, value by value (NaN where NaN), with the
``.npz`` files an earlier ``emotrace train physio --cache`` wrote. Identical windows mean a model fitted on the
cached ones is fitted on what the device computes now. About 1–2 minutes on 2 cores. Exits 1 when a copy
changed or none was compared.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from export.arrays import read_cache  # noqa: E402
from export.physio.dataset import load_labels, subject_windows  # noqa: E402
from export.physio.train import HOP_S, WINDOW_S  # noqa: E402
from runtime.errors import InputError  # noqa: E402

COPIES = {"E4": (), "serial board": ("hr", "ibi", "acc")}


def same(computed, cached: dict) -> bool:
    return (computed.features.shape == cached["features"].shape
            and np.array_equal(computed.starts_s, cached["starts_s"])
            and np.allclose(computed.features, cached["features"], rtol=0, atol=0, equal_nan=True)
            and np.array_equal(computed.quality, cached["quality"])
            and np.allclose(computed.stress_fraction, cached["stress_fraction"], rtol=0, atol=0, equal_nan=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the Stress-Predict folder")
    parser.add_argument("--cache", type=Path, required=True, help="the --cache folder of an earlier train physio")
    args = parser.parse_args()
    if not args.cache.is_dir():
        raise SystemExit(f"{args.cache}: not a folder of cached windows (the --cache of an earlier train physio)")
    try:
        changed, compared = compare(args.data, args.cache)
    except InputError as error:
        raise SystemExit(str(error)) from None
    if changed or not compared:
        raise SystemExit(1)


def compare(data: Path, cache: Path) -> tuple[list[str], int]:
    """The subject copies whose windows changed, and how many were compared; the summary printed."""
    table = load_labels(data)
    changed, missing, compared = [], [], 0
    for copy, without in COPIES.items():
        for subject in sorted(table):
            suffix = "".join(f"_without-{c}" for c in without)
            cached = read_cache(cache / f"{subject}_w{WINDOW_S:g}_h{HOP_S:g}{suffix}.npz",
                                ("starts_s", "features", "quality", "stress_fraction"))
            if cached is None:
                missing.append(f"{subject} ({copy})")
                continue
            compared += 1
            if not same(subject_windows(data, subject, table[subject], WINDOW_S, HOP_S, without), cached):
                changed.append(f"{subject} ({copy})")
    print(f"{compared} cached subject copies compared: {compared - len(changed)} identical, "
          f"{len(changed)} changed{': ' + ', '.join(changed) if changed else ''}"
          + (f"; not cached: {', '.join(missing)}" if missing else ""))
    return changed, compared


if __name__ == "__main__":
    main()
