"""How far real wrist signals go from what features.unusable_samples takes for no body's: per E4 export, the
longest run of one value in EDA and the pulse wave, and the pulse wave's sample farthest from its median, in
median absolute deviations (the rules: FLAT_RUN_S, SPIKE_SPREADS).

    python benchmarks/physio_signal_extremes.py ../shared/data/physio/stress_predict

About a minute on 2 cores for the 28 exports.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime.arms.physio.features import FLAT_RUN_S, SPIKE_SPREADS  # noqa: E402
from runtime.arms.physio.readers.e4 import read_e4  # noqa: E402


def longest_run_s(values: np.ndarray, rate_hz: float) -> float:
    """The longest run of one finite value, in seconds."""
    starts = np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))
    lengths = np.diff(np.concatenate([starts, [values.size]]))
    finite = np.isfinite(values[starts])
    return float(lengths[finite].max()) / rate_hz if finite.any() else 0.0


def largest_spread(values: np.ndarray) -> float:
    """The largest distance from the median, in median absolute deviations."""
    values = values[np.isfinite(values)]
    median = np.median(values)
    return float(np.abs(values - median).max() / np.median(np.abs(values - median)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the Stress-Predict folder (raw/S01.zip ...)")
    args = parser.parse_args()
    rows = []
    for path in sorted((args.data / "raw").glob("S*.zip")):
        channels = read_e4(path).channels
        eda, bvp = channels["eda"], channels["bvp"]
        rows.append((longest_run_s(eda.values, eda.rate_hz), longest_run_s(bvp.values, bvp.rate_hz),
                     largest_spread(bvp.values)))
        print(f"{path.stem}: EDA one value {rows[-1][0]:.1f} s at most, pulse wave {rows[-1][1]:.2f} s, "
              f"pulse wave sample {rows[-1][2]:.0f} deviations out at most", flush=True)
    eda_s, bvp_s, spread = np.max(rows, axis=0)
    print(f"all {len(rows)}: EDA {eda_s:.1f} s, pulse wave {bvp_s:.2f} s (rule: {FLAT_RUN_S:g} s); "
          f"{spread:.0f} deviations (rule: {SPIKE_SPREADS:g})")


if __name__ == "__main__":
    main()
