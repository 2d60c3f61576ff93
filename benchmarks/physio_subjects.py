"""How the stress model's balanced accuracy on unseen subjects grows with the number of subjects it learns from.

    emotrace train physio ../shared/data/physio/stress_predict --out runs/physio --cache runs/physio-cache
    python benchmarks/physio_subjects.py ../shared/data/physio/stress_predict --cache runs/physio-cache

The shipped recipe (``export.physio.train.fit``: every session as each source records it) is trained on
fewer subjects than it ships with, to say whether more labelled sessions would still pay and what the
shipped model, trained on all 27, may reach on new people:

- development subjects: each of the 20 is scored by models trained on ``k`` of the other 19, drawn at random
  (``--draws`` draws of ``k``; one when ``k`` is 19), for each ``k`` in ``--sizes``; the pooled BA of each draw
  over the 20, then their mean and spread over draws, and the per-subject gain of the largest ``k`` over the
  smallest;
- held-out subjects: each of the 7 scored by a model trained on the 20 development subjects (the figure in the
  report) and by one trained on the 26 other subjects.

Nothing here chooses a setting: the recipe is the shipped one, fixed before this was run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from export.metrics import paired_gain  # noqa: E402
from export.physio import train as shipped  # noqa: E402
from runtime.errors import InputError  # noqa: E402


def scored_with_k_others(
    windows: shipped.Windows, subjects: list[str], k: int, rng: np.random.Generator
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each subject's E4 predictions from a model trained on ``k`` of the other ``subjects`` drawn by ``rng``."""
    predictions = {}
    for s in subjects:
        others = [t for t in subjects if t != s]
        drawn = sorted(rng.choice(others, size=k, replace=False).tolist())
        model = shipped.fit(windows, drawn)
        predictions.update(shipped.predictions_by_source(model, windows, [s], (shipped.E4,))[shipped.E4.name])
    return predictions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the Stress-Predict folder")
    parser.add_argument("--cache", type=Path, help="the feature cache of 'emotrace train physio --cache'")
    parser.add_argument("--sizes", default="5,10,15,19", help="training-set sizes, in subjects (comma-separated)")
    parser.add_argument("--draws", type=int, default=2, help="random draws of each size below the largest")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not (args.data / "raw").is_dir():
        raise SystemExit(f"{args.data}: not a Stress-Predict folder (no raw/ with SXX.zip)")
    try:
        windows = shipped.load_sources(args.data, cache_dir=args.cache)
    except InputError as error:
        raise SystemExit(str(error)) from None
    subjects = list(windows[shipped.E4.without])
    development = [s for s in subjects if s not in shipped.HELD_OUT_SUBJECTS]
    held_out = [s for s in shipped.HELD_OUT_SUBJECTS if s in subjects]
    sizes = sorted(int(k) for k in args.sizes.split(","))
    if not sizes or sizes[0] < 2 or sizes[-1] > len(development) - 1:
        raise SystemExit(f"--sizes: each must be 2..{len(development) - 1}, got {args.sizes}")
    rng = np.random.default_rng(args.seed)

    print(f"development subjects ({len(development)}), each scored by models trained on k of the others")
    print("| k | draws | pooled BA, mean over draws (min-max) | per-subject BA mean | macro-F1 | ECE |\n"
          "|---|---|---|---|---|---|")  # fmt: skip
    per_subject: dict[int, dict[str, float]] = {}
    for k in sizes:
        draws = 1 if k == len(development) - 1 else args.draws
        results = [shipped.evaluate(scored_with_k_others(windows, development, k, rng)) for _ in range(draws)]
        ba = np.array([r["balanced_accuracy"] for r in results])
        per_subject[k] = {s: float(np.mean([r["per_subject_ba"][s] for r in results])) for s in development}
        print(f"| {k} | {draws} | {ba.mean():.3f} ({ba.min():.3f}-{ba.max():.3f}) | "
              f"{np.mean(list(per_subject[k].values())):.3f} | {np.mean([r['macro_f1'] for r in results]):.3f} | "
              f"{np.mean([r['ece'] for r in results]):.3f} |", flush=True)
    gain = paired_gain(per_subject[sizes[-1]], per_subject[sizes[0]])
    print(f"per-subject gain of k={sizes[-1]} over k={sizes[0]}: {gain}")

    print(f"\nheld-out subjects ({len(held_out)})\n| trained on | BA (95 % over subjects) | per-subject BA mean | "
          "macro-F1 | ECE |\n|---|---|---|---|---|")
    twenty = shipped.predictions_by_source(shipped.fit(windows, development), windows, held_out, (shipped.E4,))
    others = {}
    for s in held_out:
        model = shipped.fit(windows, [t for t in subjects if t != s])
        others.update(shipped.predictions_by_source(model, windows, [s], (shipped.E4,))[shipped.E4.name])
    for name, predictions in ((f"the {len(development)} development subjects", twenty[shipped.E4.name]),
                              (f"the {len(subjects) - 1} other subjects", others)):  # fmt: skip
        r = shipped.evaluate(predictions)
        low, high = r["ba_interval_95"]
        print(f"| {name} | {r['balanced_accuracy']:.3f} ({low:.3f}-{high:.3f}) | {r['per_subject_ba_mean']:.3f} | "
              f"{r['macro_f1']:.3f} | {r['ece']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
