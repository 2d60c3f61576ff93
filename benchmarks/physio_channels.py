"""What the stress track is worth when a session brings fewer channels than the E4 the model learnt from.

    emotrace train physio ../shared/data/physio/stress_predict --out runs/physio --cache runs/physio-cache
    python benchmarks/physio_channels.py ../shared/data/physio/stress_predict --cache runs/physio-cache

Each source is simulated on the Stress-Predict recordings:

- the serial board (the reference firmware): a pulse wave, EDA and skin temperature, no accelerometer, and no
  heart-rate or beat channel of its own, so the E4's HR and IBI files and its ACC are left out and the features
  are computed again (heart rate and beats then come from the pulse wave);
- a BLE chest strap: heart rate and beat intervals only (the model's other statistics marked missing);
- EDA alone.

A missing statistic sits at the session's centre (0), as on the device. Two models per source: the shipped one
(trained on every E4 statistic) and one trained on what the source delivers. Both are trained on the 20
development subjects and scored on the 7 held-out subjects, and by leave-one-subject-out on the development
subjects. Nothing is chosen from these figures: they describe what the shipped model does with each source, so
the held-out subjects may be used.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from export.physio import train as shipped  # noqa: E402
from export.physio.dataset import load_dataset  # noqa: E402
from runtime.arms.physio.features import MEASUREMENTS  # noqa: E402
from runtime.errors import InputError  # noqa: E402

HEART = ("hr_channel_bpm", "hr_min_bpm", "ibi_mean_s", "ibi_sd_s", "ibi_rmssd_s")
EDA = ("eda_mean_us", "eda_sd_us", "eda_slope_us_per_min", "eda_highpass_tonic_us", "eda_phasic_sd_us",
       "eda_phasic_max_us", "scr_amplitude_sum_us")  # fmt: skip
MOTION = ("acc_magnitude_mean_g", "acc_z_mean_g")


class Source(NamedTuple):
    name: str
    without: tuple[str, ...]  # recording channels the source lacks (features computed again without them)
    available: tuple[str, ...]  # model statistics it delivers


SOURCES: tuple[Source, ...] = (
    Source("every channel (E4)", (), shipped.MODEL_FEATURES),
    Source("pulse wave, EDA, temperature (the serial board)", ("hr", "ibi", "acc"),
           tuple(n for n in shipped.MODEL_FEATURES if n not in MOTION)),
    Source("the serial board without heart statistics (before they were made from the pulse wave)",
           ("hr", "ibi", "acc"), EDA + ("temp_c",)),
    Source("heart rate and beat intervals (a BLE strap)", (), HEART),
    Source("EDA only", (), EDA),
)


def subject_xy(subject, columns: tuple[str, ...], available: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs over ``columns`` (those not ``available`` missing) and labels of the usable labelled windows."""
    features = subject.features[:, [MEASUREMENTS.index(n) for n in columns]].copy()
    for j, name in enumerate(columns):
        if name not in available:
            features[:, j] = np.nan  # the source lacks it: the device scales a missing value to 0
    return shipped.subject_xy(subject, for_training=False, features=features)


def fit(subjects: list, columns: tuple[str, ...]):
    """The shipped classifier (``export.physio.train.fit_xy``) over ``columns``."""
    pairs = [subject_xy(s, columns, columns) for s in subjects]
    return shipped.fit_xy(np.vstack([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs]))


def scores(train: dict, test: dict, columns: tuple[str, ...], available: tuple[str, ...]) -> tuple[dict, dict]:
    """(development leave-one-subject-out, held-out) metrics of a model over ``columns`` fitted on ``train``
    windows (subject id -> windows) and judged on ``test`` windows with only ``available`` present."""
    development = [s for s in train if s not in shipped.HELD_OUT_SUBJECTS]
    loso = {}
    for subject in development:
        model = fit([train[t] for t in development if t != subject], columns)
        x, y = subject_xy(test[subject], columns, available)
        loso[subject] = (model.predict_proba(x)[:, 1], y)
    model = fit([train[t] for t in development], columns)
    held = {}
    for subject in (s for s in test if s in shipped.HELD_OUT_SUBJECTS):
        x, y = subject_xy(test[subject], columns, available)
        held[subject] = (model.predict_proba(x)[:, 1], y)
    return shipped.evaluate(loso), shipped.evaluate(held)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the Stress-Predict folder")
    parser.add_argument("--cache", type=Path, help="the feature cache of 'emotrace train physio --cache'")
    args = parser.parse_args()
    if not (args.data / "raw").is_dir():
        raise SystemExit(f"{args.data}: not a Stress-Predict folder (no raw/ with SXX.zip)")

    def windows(without: tuple[str, ...]) -> dict:
        try:
            loaded = load_dataset(args.data, shipped.WINDOW_S, shipped.HOP_S, cache_dir=args.cache, without=without)
        except InputError as error:
            raise SystemExit(str(error)) from None
        return {s.subject: s for s in loaded}

    e4 = windows(())
    print(f"trained on {len(e4) - len(shipped.HELD_OUT_SUBJECTS)} development subjects, scored on "
          f"{len(shipped.HELD_OUT_SUBJECTS)} held out (and leave-one-subject-out on the development subjects)")
    print("| source | model | dev BA | held-out BA | held-out macro-F1 | held-out ECE |\n|---|---|---|---|---|---|")
    for source in SOURCES:
        own = windows(source.without) if source.without else e4
        candidates = [("shipped", e4, shipped.MODEL_FEATURES)]
        if source.available != shipped.MODEL_FEATURES or source.without:
            candidates.append(("trained on what it delivers", own, source.available))
        for model, train, columns in candidates:
            dev, held = scores(train, own, columns, source.available)
            print(f"| {source.name} | {model} | {dev['balanced_accuracy']:.3f} | {held['balanced_accuracy']:.3f} | "
                  f"{held['macro_f1']:.3f} | {held['ece']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
