"""What the stress track is worth when a session brings fewer channels than the E4 records.

    emotrace train physio ../shared/data/physio/stress_predict --out runs/physio --cache runs/physio-cache
    python benchmarks/physio_channels.py ../shared/data/physio/stress_predict --cache runs/physio-cache

Each source is simulated on the Stress-Predict recordings (``export.physio.train.SOURCES``):

- the serial board (the reference firmware): a pulse wave, EDA and skin temperature, no accelerometer, and no
  heart-rate or beat channel of its own, so the E4's HR and IBI files and its ACC are left out and the features
  are computed again (heart rate and beats then come from the pulse wave);
- the same board with no heart statistics at all (as before the device made them from the pulse wave);
- a BLE chest strap: heart rate and beat intervals only (the model's other statistics missing);
- EDA alone.

A missing statistic sits at the session's centre (0), as on the device. Three models, each judged on every
source:

- trained on the E4 sessions alone (2.3.0's recipe);
- the shipped recipe (2.4.0): each training session entered once per source in ``SOURCES``;
- per source, a model trained on that source's sessions and statistics alone (what a model per source would give);
- the shipped recipe with the board's copies made by hiding the E4's accelerometer instead (not taken).

``--only TEXT`` runs the models whose name contains TEXT (the first, the reference of the gain column, always runs).

Each is trained on the 20 development subjects and scored on the 7 held-out subjects, and by
leave-one-subject-out on the development subjects. The choice of 2.4.0's recipe was made on the development
column; the held-out column was read after it.
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

BOARD_WITHOUT_HEART = shipped.Source(
    "the serial board without heart statistics (before they were made from the pulse wave)",
    shipped.SERIAL_BOARD.without, shipped.EDA_FEATURES + ("temp_c",))  # fmt: skip
SOURCES = shipped.SOURCES[:2] + (BOARD_WITHOUT_HEART,) + shipped.SOURCES[2:]
# A cheaper way to train for the board, not taken: its copy of each session made from the E4's windows with the
# accelerometer hidden, instead of features computed again from the board's own channels.
E4_WITHOUT_ACCELEROMETER = shipped.Source("the E4 without its accelerometer", (), shipped.SERIAL_BOARD.available)


class OwnStatistics:
    """A model trained on one source's own statistics: the shipped classifier over their input columns only.

    Every statistic is scaled and filtered over the session on its own, so the inputs of a subset of statistics
    are those columns of the full inputs (``model_inputs`` lays out blocks of len(MODEL_FEATURES) columns).
    """

    def __init__(self, source: shipped.Source) -> None:
        d = len(shipped.MODEL_FEATURES)
        kept = [shipped.MODEL_FEATURES.index(name) for name in source.available]
        self.source = source
        self.columns = [block * d + j for block in range(3) for j in kept]

    def fit(self, windows: shipped.Windows, subjects: list[str]) -> OwnStatistics:
        pairs = [shipped.source_xy(windows, s, self.source, for_training=True) for s in subjects]
        x, y = np.vstack([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])
        self.model = shipped.fit_xy(x[:, self.columns], y)
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(x[:, self.columns])


def scores(windows: shipped.Windows, fit, sources: tuple[shipped.Source, ...]) -> dict[str, tuple[dict, dict]]:
    """Source name -> (development leave-one-subject-out, held-out) metrics of ``fit(subjects)``'s models."""
    subjects = list(windows[shipped.E4.without])
    development = [s for s in subjects if s not in shipped.HELD_OUT_SUBJECTS]
    held_out = [s for s in subjects if s in shipped.HELD_OUT_SUBJECTS]
    loso: dict[str, dict] = {source.name: {} for source in sources}
    for subject in development:
        model = fit([t for t in development if t != subject])
        for name, by_subject in shipped.predictions_by_source(model, windows, [subject], sources).items():
            loso[name].update(by_subject)
    held = shipped.predictions_by_source(fit(development), windows, held_out, sources)
    return {name: (shipped.evaluate(loso[name]), shipped.evaluate(held[name])) for name in loso}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the Stress-Predict folder")
    parser.add_argument("--cache", type=Path, help="the feature cache of 'emotrace train physio --cache'")
    parser.add_argument("--only", default="", help="run only the models whose name contains this text")
    args = parser.parse_args()
    if not (args.data / "raw").is_dir():
        raise SystemExit(f"{args.data}: not a Stress-Predict folder (no raw/ with SXX.zip)")
    try:
        windows = shipped.load_sources(args.data, SOURCES, cache_dir=args.cache)
    except InputError as error:
        raise SystemExit(str(error)) from None

    development = len(windows[shipped.E4.without]) - len(shipped.HELD_OUT_SUBJECTS)
    print(f"trained on {development} development subjects, scored on {len(shipped.HELD_OUT_SUBJECTS)} held out "
          "(and leave-one-subject-out on the development subjects)")
    print("| source | model | dev BA | dev gain per subject over the first model | held-out BA | held-out macro-F1 | "
          "held-out ECE |\n|---|---|---|---|---|---|---|")
    models = [
        ("trained on the E4 sessions alone (2.3.0)", lambda ids: shipped.fit(windows, ids, (shipped.E4,)), SOURCES),
        ("shipped: each session as every source records it (2.4.0)", lambda ids: shipped.fit(windows, ids), SOURCES),
    ] + [
        ("trained on what it delivers", lambda ids, s=source: OwnStatistics(s).fit(windows, ids), (source,))
        for source in SOURCES[1:]
    ] + [
        ("each session as every source records it, the board's copy the E4's with the accelerometer hidden",
         lambda ids: shipped.fit(windows, ids, (shipped.E4, E4_WITHOUT_ACCELEROMETER) + shipped.SOURCES[2:]),
         SOURCES),
    ]  # fmt: skip
    reference: dict[str, dict[str, float]] = {}  # source -> the first model's development per-subject BA
    for model, fit, judged_on in models[:1] + [m for m in models[1:] if args.only in m[0]]:
        for name, (dev, held) in scores(windows, fit, judged_on).items():
            gain = paired_gain(dev["per_subject_ba"], reference[name]) if name in reference else "reference"
            reference.setdefault(name, dev["per_subject_ba"])
            print(f"| {name} | {model} | {dev['balanced_accuracy']:.3f} | {gain} | {held['balanced_accuracy']:.3f} | "
                  f"{held['macro_f1']:.3f} | {held['ece']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
