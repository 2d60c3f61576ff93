"""What the stress track is worth when a session brings fewer channels than the E4 the model learnt from.

    emotrace train physio ../shared/data/physio/stress_predict --out runs/physio --cache runs/physio-cache
    python benchmarks/physio_channels.py ../shared/data/physio/stress_predict --cache runs/physio-cache

A BLE chest strap gives heart rate and beat intervals only; the serial board gives EDA, a pulse wave and skin
temperature but no acceleration. Each scenario keeps the model's statistics that such a source delivers and
marks the others missing, as the device does (a missing statistic sits at the session's centre, 0). Two
models per scenario: the shipped one (trained on every statistic) and one trained on the available
statistics only. Both are trained on the development subjects and scored on the seven held-out subjects
(and by leave-one-subject-out on the development subjects). Nothing is chosen from these figures: they
describe the shipped model's inputs, so the held-out subjects may be used.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from export.physio import train as shipped  # noqa: E402
from export.physio.dataset import load_dataset  # noqa: E402
from runtime.arms.physio.features import MEASUREMENTS  # noqa: E402
from runtime.arms.physio.model import model_inputs  # noqa: E402
from runtime.errors import InputError  # noqa: E402

HEART = ("hr_channel_bpm", "hr_min_bpm", "ibi_mean_s", "ibi_sd_s", "ibi_rmssd_s")
EDA = ("eda_mean_us", "eda_sd_us", "eda_slope_us_per_min", "eda_highpass_tonic_us", "eda_phasic_sd_us",
       "eda_phasic_max_us", "scr_amplitude_sum_us")  # fmt: skip
SCENARIOS: dict[str, tuple[str, ...]] = {
    "every channel (E4)": shipped.MODEL_FEATURES,
    "heart rate and beat intervals (BLE strap)": HEART,
    "heart, EDA, skin temperature (serial board, no accelerometer)": HEART + EDA + ("temp_c",),
    "EDA only": EDA,
}


def subject_xy(subject, columns: tuple[str, ...], available: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs over ``columns`` (those not ``available`` missing) and labels of the usable labelled windows."""
    features = subject.features[:, [MEASUREMENTS.index(n) for n in columns]].copy()
    for j, name in enumerate(columns):
        if name not in available:
            features[:, j] = np.nan  # the channel is absent: the device scales a missing value to 0
    x = model_inputs(features, subject.quality, shipped.CONTEXT_WINDOWS, shipped.SCALING,
                     shipped.LOCAL_BASELINE_WINDOWS)
    keep = np.isfinite(subject.stress_fraction) & (subject.quality > 0)
    return x[keep], (subject.stress_fraction[keep] >= 0.5).astype(int)


def fit(subjects: list, columns: tuple[str, ...]):
    from sklearn.linear_model import LogisticRegression

    pairs = [subject_xy(s, columns, columns) for s in subjects]
    return LogisticRegression(C=shipped.REGULARISATION_C, solver="liblinear", class_weight="balanced").fit(
        np.vstack([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])
    )


def scores(development: list, held_out: list, columns: tuple[str, ...], available: tuple[str, ...]) -> tuple:
    """(development leave-one-subject-out, held-out) metrics of a model over ``columns`` trained with all of them
    present and judged with only ``available`` present."""
    loso = {}
    for s in development:
        model = fit([t for t in development if t is not s], columns)
        loso[s.subject] = (model.predict_proba(subject_xy(s, columns, available)[0])[:, 1],
                           subject_xy(s, columns, available)[1])
    model = fit(development, columns)
    held = {}
    for s in held_out:
        x, y = subject_xy(s, columns, available)
        held[s.subject] = (model.predict_proba(x)[:, 1], y)
    return shipped.evaluate(loso), shipped.evaluate(held)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the Stress-Predict folder")
    parser.add_argument("--cache", type=Path, help="the feature cache of 'emotrace train physio --cache'")
    args = parser.parse_args()
    if not (args.data / "raw").is_dir():
        raise SystemExit(f"{args.data}: not a Stress-Predict folder (no raw/ with SXX.zip)")
    try:
        subjects = load_dataset(args.data, shipped.WINDOW_S, shipped.HOP_S, cache_dir=args.cache)
    except InputError as error:
        raise SystemExit(str(error)) from None
    development = [s for s in subjects if s.subject not in shipped.HELD_OUT_SUBJECTS]
    held_out = [s for s in subjects if s.subject in shipped.HELD_OUT_SUBJECTS]
    print(f"{len(development)} development subjects (leave-one-subject-out), {len(held_out)} held out")
    print("| channels | model | dev BA | held-out BA | held-out macro-F1 | held-out ECE |\n|---|---|---|---|---|---|")
    for scenario, available in SCENARIOS.items():
        for columns in (shipped.MODEL_FEATURES, available) if available != shipped.MODEL_FEATURES else (available,):
            dev, held = scores(development, held_out, columns, available)
            model = "trained on these only" if columns != shipped.MODEL_FEATURES else (
                "shipped" if available == columns else "shipped, the others missing")
            print(f"| {scenario} | {model} | {dev['balanced_accuracy']:.3f} | {held['balanced_accuracy']:.3f} | "
                  f"{held['macro_f1']:.3f} | {held['ece']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
