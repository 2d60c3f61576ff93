"""Variants of the stress model scored by leave-one-subject-out on the development subjects only.

    emotrace train physio ../shared/data/physio/stress_predict --out runs/physio --cache runs/physio-cache
    python benchmarks/physio_variants.py ../shared/data/physio/stress_predict --cache runs/physio-cache

Every variant starts from the shipped model's inputs (``export.physio.train.subject_xy``: 15 statistics,
session rank, 30-minute local baseline, two-minute context) and differs in one thing:

- ``lead``: the inputs of the window k hops later (k > 0) or earlier (k < 0) label window t. The body answers
  a stressor with a delay (heart rate in seconds, skin conductance and its recovery over minutes); a recorded
  session can look ahead, so a lead would re-align the response with the event that caused it.
- ``stack``: the inputs at several offsets side by side, so the classifier learns the response's time course.
- ``boosting`` and ``mean``: gradient boosting alone and averaged with the logistic regression.
- ``respiration``: three more statistics from the wrist pulse wave (BVP), for the hyperventilation windows the
  shipped model misses most: the log power of the BVP's respiration band (0.1-0.7 Hz: breathing moves the pulse
  wave's baseline), that band's share of the pulse band's power, and the log power of the heart rate's
  respiration band (sinus arrhythmia; clean beats interpolated at 4 Hz), ranked and baselined like the others.
- ``20 s windows``, ``60 s windows``: the same statistics over windows shorter or longer than the shipped 30 s
  (the hop, the labelling rule, the context and the baseline, counted in 5 s hops, unchanged): a shorter window
  follows changes sooner, a longer one averages more beats and skin-conductance responses.
- ``running``: what a live session could compute as it goes: each window ranked among the windows so far, a
  trailing 30-minute local baseline and a trailing two-minute context, scored from the sixth minute on (the
  first five have no baseline), against the shipped inputs on the same windows.

The held-out subjects are not scored: a variant that wins here is then measured once by ``train physio``.
"""

from __future__ import annotations

import argparse
import bisect
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy.special import ndtri

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from export.physio import train as shipped  # noqa: E402
from export.physio.dataset import load_dataset, load_labels  # noqa: E402
from runtime.arms.physio.features import MEASUREMENTS, _segments, process_recording  # noqa: E402
from runtime.arms.physio.model import RANK_CLIP, model_inputs  # noqa: E402
from runtime.arms.physio.recording import read_e4  # noqa: E402
from runtime.errors import InputError  # noqa: E402


class Variant(NamedTuple):
    name: str
    offsets_hops: tuple[int, ...] = (0,)  # 12 hops of 5 s = one minute
    classifier: str = "logistic"
    inputs: str = "session"  # "session" (the shipped, whole-session inputs) or "running" (causal)
    first_window: int = 0  # windows before this one are not scored
    respiration: bool = False  # the BVP respiration-band statistics as three more inputs
    window_s: float = shipped.WINDOW_S  # statistics over windows this long (same 5 s hop, same labelling rule)


NO_BASELINE_WINDOWS = 60  # the first 5 minutes at a 5 s hop
RESPIRATION_BAND_HZ = (0.1, 0.7)  # 6-42 breaths a minute: at rest to hyperventilating
PULSE_BAND_HZ = (0.5, 8.0)
HEART_RATE_RESAMPLE_HZ = 4.0
VARIANTS: tuple[Variant, ...] = (
    Variant("shipped"),
    Variant("lead +15 s", (3,)),
    Variant("lead +30 s", (6,)),
    Variant("lead +45 s", (9,)),
    Variant("lead +60 s", (12,)),
    Variant("lag -15 s", (-3,)),
    Variant("stack 0, ±30 s", (0, -6, 6)),
    Variant("stack 0, ±60 s", (0, -12, 12)),
    Variant("stack 0, ±60, ±120 s", (0, -12, 12, -24, 24)),
    Variant("boosting", classifier="boosting"),
    Variant("mean of logistic and boosting", classifier="mean"),
    Variant("respiration band from the BVP", respiration=True),
    Variant("20 s windows", window_s=20.0),
    Variant("60 s windows (physio-stress 2.1.0)", window_s=60.0),
    Variant("shipped, from the sixth minute", first_window=NO_BASELINE_WINDOWS),
    Variant("running (causal), from the sixth minute", inputs="running", first_window=NO_BASELINE_WINDOWS),
)


def running_inputs(features: np.ndarray, quality: np.ndarray, context_windows: int,
                   local_baseline_windows: int) -> np.ndarray:
    """The shipped inputs as a live session could compute them: row t uses rows 0..t only.

    Each window's rank is among the usable windows so far; the local baseline and the context are trailing
    means (up to ``local_baseline_windows`` and ``context_windows`` rows) instead of centred ones.
    """
    n, d = features.shape
    scaled = np.zeros((n, d))
    seen: list[list[float]] = [[] for _ in range(d)]
    for i in range(n):
        for j in range(d):
            value = features[i, j]
            if not np.isfinite(value):
                continue
            if quality[i] > 0:
                bisect.insort(seen[j], value)
            if seen[j]:
                share = (bisect.bisect_left(seen[j], value) + bisect.bisect_right(seen[j], value)) / (2 * len(seen[j]))
                scaled[i, j] = ndtri(np.clip(share, RANK_CLIP, 1.0 - RANK_CLIP))
    local = scaled - _trailing_mean(scaled, local_baseline_windows)
    return np.hstack([local, scaled, _trailing_mean(local, context_windows)]).astype(np.float32)


def _trailing_mean(x: np.ndarray, size: int) -> np.ndarray:
    sums = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    rows = np.arange(len(x))
    first = np.maximum(0, rows - size + 1)
    return (sums[rows + 1] - sums[first]) / (rows + 1 - first)[:, None]


def respiration_statistics(data_dir: Path, subject: str, starts_s: np.ndarray, window_s: float) -> np.ndarray:
    """(n, 3) per window: log BVP respiration-band power, its share of the pulse band, log heart-rate
    respiration-band power; NaN where under half the window has BVP or fewer than 20 clean beats."""
    import neurokit2 as nk

    recording = read_e4(data_dir / "raw" / f"{subject}.zip")
    bvp = recording.channels["bvp"]
    times, breath, pulse = [], [], []
    for start_s, _, values in _segments(bvp):  # filtered per contiguous stretch, never across a gap
        times.append(start_s + np.arange(values.size) / bvp.rate_hz)
        breath.append(nk.signal_filter(values, bvp.rate_hz, *RESPIRATION_BAND_HZ))
        pulse.append(nk.signal_filter(values, bvp.rate_hz, *PULSE_BAND_HZ))
    times_s, breath, pulse = np.concatenate(times), np.concatenate(breath), np.concatenate(pulse)
    beats = process_recording(recording).ibi
    out = np.full((len(starts_s), 3), np.nan)
    for i, start_s in enumerate(starts_s):
        lo, hi = np.searchsorted(times_s, [start_s, start_s + window_s])
        if hi - lo >= 0.5 * window_s * bvp.rate_hz:
            out[i, 0] = np.log(np.var(breath[lo:hi]) + 1e-9)
            out[i, 1] = np.var(breath[lo:hi]) / (np.var(pulse[lo:hi]) + 1e-9)
        first, last = np.searchsorted(beats.times_s, [start_s, start_s + window_s])
        if last - first >= 20:
            grid_s = np.arange(beats.times_s[first], beats.times_s[last - 1], 1.0 / HEART_RATE_RESAMPLE_HZ)
            rate = np.interp(grid_s, beats.times_s[first:last], 60.0 / beats.values[first:last])
            band = nk.signal_filter(rate - rate.mean(), HEART_RATE_RESAMPLE_HZ, *RESPIRATION_BAND_HZ)
            out[i, 2] = np.log(np.var(band) + 1e-9)
    return out


def shifted(x: np.ndarray, offsets: tuple[int, ...]) -> np.ndarray:
    """Row t gets the rows t + k for each offset k side by side; beyond the recording's ends the end row."""
    rows = np.arange(len(x))
    return np.hstack([x[np.clip(rows + k, 0, len(x) - 1)] for k in offsets])


def subject_table(subject, variant: Variant, data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    columns = [MEASUREMENTS.index(name) for name in shipped.MODEL_FEATURES]
    features = subject.features[:, columns]
    if variant.respiration:
        extra = respiration_statistics(data_dir, subject.subject, subject.starts_s, variant.window_s)
        features = np.hstack([features, extra])
    if variant.inputs == "running":
        x = running_inputs(features, subject.quality, shipped.CONTEXT_WINDOWS, shipped.LOCAL_BASELINE_WINDOWS)
    else:
        x = model_inputs(features, subject.quality, shipped.CONTEXT_WINDOWS, shipped.SCALING,
                         shipped.LOCAL_BASELINE_WINDOWS)
    keep = np.isfinite(subject.stress_fraction) & (subject.quality > 0)
    keep &= np.arange(len(keep)) >= variant.first_window
    return shifted(x, variant.offsets_hops)[keep], (subject.stress_fraction[keep] >= 0.5).astype(int)


def classifiers(kind: str, x: np.ndarray, y: np.ndarray) -> list:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    fitted = []
    if kind in ("logistic", "mean"):
        fitted.append(LogisticRegression(C=shipped.REGULARISATION_C, solver="liblinear",
                                         class_weight="balanced").fit(x, y))
    if kind in ("boosting", "mean"):
        fitted.append(HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15,
                                                     min_samples_leaf=100, class_weight="balanced",
                                                     random_state=0).fit(x, y))
    return fitted


def development_loso(subjects: list, variant: Variant, data_dir: Path) -> dict:
    tables = {s.subject: subject_table(s, variant, data_dir) for s in subjects}
    predictions = {}
    for name, (x, y) in tables.items():
        train = [t for t in tables if t != name]
        fitted = classifiers(variant.classifier, np.vstack([tables[t][0] for t in train]),
                             np.concatenate([tables[t][1] for t in train]))
        predictions[name] = (np.mean([m.predict_proba(x)[:, 1] for m in fitted], axis=0), y)
    return shipped.evaluate(predictions)


def development_windows(data_dir: Path, window_s: float, cache_dir: Path | None) -> list:
    try:
        development = [s for s in load_labels(data_dir) if s not in shipped.HELD_OUT_SUBJECTS]
        return load_dataset(data_dir, window_s, shipped.HOP_S, subjects=development, cache_dir=cache_dir)
    except InputError as error:
        raise SystemExit(str(error)) from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the Stress-Predict folder")
    parser.add_argument("--cache", type=Path, help="the feature cache of 'emotrace train physio --cache'")
    parser.add_argument("--only", default="", help="run only the variants whose name contains this text")
    args = parser.parse_args()
    if not (args.data / "raw").is_dir():
        raise SystemExit(f"{args.data}: not a Stress-Predict folder (no raw/ with SXX.zip)")
    development_subjects = {}  # window length -> the development subjects' windows
    print("development subjects, leave-one-subject-out")
    print("| variant | BA | macro-F1 | ECE | per-subject BA mean (min) |\n|---|---|---|---|---|")
    for variant in (v for v in VARIANTS if args.only in v.name):
        if variant.window_s not in development_subjects:
            development_subjects[variant.window_s] = development_windows(args.data, variant.window_s, args.cache)
        development = development_subjects[variant.window_s]
        m = development_loso(development, variant, args.data)
        print(f"| {variant.name} | {m['balanced_accuracy']:.3f} | {m['macro_f1']:.3f} | {m['ece']:.3f} | "
              f"{m['per_subject_ba_mean']:.3f} ({m['per_subject_ba_min']:.2f}) |", flush=True)


if __name__ == "__main__":
    main()
