"""How far a face model's accuracy on a labelled folder could move by chance: bootstrap intervals.

    emotrace face classify ../shared/data/images/fer2013/PublicTest --cropped --csv /tmp/face_publictest.csv
    python benchmarks/face_interval.py /tmp/face_publictest.csv [--target 0.70] [--resamples 2000]

The CSV is ``emotrace face classify``'s output over a FER-2013 split, whose folder names are the labels. Faces are
resampled with replacement; the table gives accuracy and UA with their 2.5–97.5 % bootstrap interval and the share
of resamples at or above ``--target``. It measures sampling error only, not the optimism of choices made on the
same faces.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sklearn.metrics import balanced_accuracy_score  # noqa: E402

from export.face.data import FER_CLASS_TO_LABEL  # noqa: E402


def read_predictions(csv_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """True labels (from each image's folder name) and predicted labels; bad input ends in one line."""
    try:
        with open(csv_path, newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise SystemExit(f"{csv_path}: cannot be read ({error.strerror})") from None
    if not rows or not {"path", "emotion"} <= set(rows[0]):
        raise SystemExit(f"{csv_path}: not an 'emotrace face classify' CSV (needs rows with path and emotion)")
    unknown = next((row["path"] for row in rows if Path(row["path"]).parent.name not in FER_CLASS_TO_LABEL), None)
    if unknown is not None:
        raise SystemExit(f"{csv_path}: {unknown} is not in a FER-2013 class folder ({', '.join(FER_CLASS_TO_LABEL)})")
    truth = np.array([FER_CLASS_TO_LABEL[Path(row["path"]).parent.name] for row in rows])
    return truth, np.array([row["emotion"] for row in rows])


def bootstrap(truth: np.ndarray, predicted: np.ndarray, resamples: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    accuracy, ua = [], []
    for _ in range(resamples):
        pick = rng.integers(0, len(truth), len(truth))
        accuracy.append(float(np.mean(truth[pick] == predicted[pick])))
        ua.append(balanced_accuracy_score(truth[pick], predicted[pick]))
    return {"accuracy": np.array(accuracy), "UA": np.array(ua)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path, help="emotrace face classify output over a FER-2013 split")
    parser.add_argument("--target", type=float, default=0.70, help="accuracy to compare with (default 0.70)")
    parser.add_argument("--resamples", type=int, default=2000)
    args = parser.parse_args()
    truth, predicted = read_predictions(args.csv)
    point = {"accuracy": float(np.mean(truth == predicted)), "UA": balanced_accuracy_score(truth, predicted)}
    draws = bootstrap(truth, predicted, args.resamples)
    print(f"{args.csv}: {len(truth)} faces, {args.resamples} resamples")
    print("| metric | value | 95 % interval |\n|---|---|---|")
    for name, values in draws.items():
        low, high = np.percentile(values, [2.5, 97.5])
        print(f"| {name} | {point[name]:.3f} | {low:.3f}–{high:.3f} |")
    print(f"share of resamples with accuracy ≥ {args.target}: {np.mean(draws['accuracy'] >= args.target):.2f}")


if __name__ == "__main__":
    main()
