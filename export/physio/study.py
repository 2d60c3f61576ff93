"""Stress-Predict study: the published-style reference and the best candidate found, on raw E4 signals.

Not the shipped model (that one is ``export/physio/train.py`` over the device's own features); this module
measures what the E4's own channels can do, to explain the gap to the reference and to pick the next model.

Per 60 s window (on the same 5 s grid and with the same labelling rule as ``train.py``) it reads the E4 files
directly: the E4's HR.csv (mean, sd, min, max), IBI.csv (mean, sd, RMSSD), raw EDA (mean, sd, slope),
neurokit2's tonic/phasic split (high-pass) and SCR peaks, TEMP (mean, sd, slope) and ACC (magnitude mean
and sd, x and z means). Every feature is z-scored over the subject's whole recording.

- ``reference``: 11 features (HR, IBI, EDA, TEMP, ACC mean+sd), logistic regression, 60 s windows without
  overlap (every 12th window of the grid) and, for comparison, the full 5 s hop.
- ``candidate``: 22 features, each also minus its centred 15-minute moving mean (the local baseline, which
  removes the slow drift of EDA and skin temperature over a session) and that difference averaged over a
  two-minute neighbourhood; L2 logistic regression, C = 0.1.

Split as in ``train.py``: leave-one-subject-out on the 20 development subjects (every choice made there),
then one model on the 20 scored on the 7 held-out subjects, plus LOSO over all 27.

Its statistics are computed here, from the files, apart from the device's ``features.py`` on purpose: the
reference pipeline is the published kind, and must not move when the device's features do. The constants it
shares with the device's pipeline (labelling, SCR floor, clip, context) are imported, not copied.

Run: ``python -m export.physio.study DATA --cache /tmp/physio2/study --out /tmp/physio2/study.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
from scipy.ndimage import uniform_filter1d

from export.arrays import read_cache, save_npz
from export.physio.dataset import (
    CACHE_SUFFIX,
    MIN_LABELLED_FRACTION,
    load_labels,
    stress_label,
    window_stress_fraction,
    windows_key,
)
from export.physio.train import CONTEXT_WINDOWS, HELD_OUT_SUBJECTS, HOP_S, evaluate, per_subject_text
from runtime.arms.physio.features import SCR_MIN_SHARE_OF_LARGEST
from runtime.arms.physio.model import Z_CLIP
from runtime.arms.physio.readers.e4 import read_e4
from runtime.errors import InputError
from runtime.models.card import file_sha256
from runtime.track import window_grid

RAW_FEATURES: tuple[str, ...] = (
    "hr_mean_bpm", "hr_sd_bpm", "hr_min_bpm", "hr_max_bpm",
    "ibi_mean_s", "ibi_sd_s", "ibi_rmssd_s",
    "eda_mean_us", "eda_sd_us", "eda_slope_us_per_min", "eda_tonic_us", "eda_phasic_sd_us", "eda_phasic_max_us",
    "scr_count", "scr_amplitude_sum_us",
    "temp_mean_c", "temp_sd_c", "temp_slope_c_per_min",
    "acc_magnitude_mean_g", "acc_magnitude_sd_g", "acc_x_mean_g", "acc_z_mean_g",
)  # fmt: skip
REFERENCE_FEATURES: tuple[str, ...] = (
    "hr_mean_bpm", "hr_sd_bpm", "eda_mean_us", "eda_sd_us", "temp_mean_c", "temp_sd_c",
    "acc_magnitude_mean_g", "acc_magnitude_sd_g", "ibi_mean_s", "ibi_sd_s", "ibi_rmssd_s",
)  # fmt: skip
RAW_ARRAYS = ("features", "stress_fraction")  # what ``subject_raw_windows`` gives, as cached
LOCAL_BASELINE_WINDOWS = 181  # 15 min at a 5 s hop
WINDOW_S = 60.0  # the reference pipeline's windows, whatever the shipped model uses
REFERENCE_STEP = 12  # every 12th window of the 5 s grid: 60 s windows without overlap


def _stats(times_s: np.ndarray, values: np.ndarray, start_s: float, end_s: float) -> tuple[float, ...]:
    """(mean, sd, min, max, slope per minute) of the finite samples in [start_s, end_s)."""
    inside = (times_s >= start_s) & (times_s < end_s) & np.isfinite(values)
    x, t = values[inside], times_s[inside]
    if x.size < 3:
        return (np.nan,) * 5
    slope_per_min = 60.0 * float(np.polyfit(t - t[0], x, 1)[0])
    return float(x.mean()), float(x.std()), float(x.min()), float(x.max()), slope_per_min


def subject_raw_windows(data_dir: Path, subject: str, labels: tuple[np.ndarray, np.ndarray]) -> dict:
    """RAW_FEATURES per window of the 5 s grid and the stress share of its labelled seconds (NaN: unlabelled)."""
    import neurokit2 as nk

    recording = read_e4(Path(data_dir) / "raw" / f"{subject}.zip")
    ch = recording.channels
    eda_t, eda_v = ch["eda"].times_s, ch["eda"].values.astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # neurokit2 warns that 4 Hz is slow for filtering; expected for the E4
        split = nk.eda_phasic(nk.eda_clean(eda_v, sampling_rate=ch["eda"].rate_hz), ch["eda"].rate_hz, "highpass")
        tonic, phasic = split["EDA_Tonic"].to_numpy(), split["EDA_Phasic"].to_numpy()
        _, info = nk.eda_peaks(phasic, sampling_rate=ch["eda"].rate_hz, amplitude_min=SCR_MIN_SHARE_OF_LARGEST)
    peaks = np.asarray(info["SCR_Peaks"], dtype=int)
    scr_t, scr_amp = eda_t[peaks], np.asarray(info["SCR_Amplitude"], dtype=float)[: peaks.size]
    acc = ch["acc"]
    magnitude = np.linalg.norm(acc.values, axis=1)
    ibi = ch.get("ibi")
    rows, fractions = [], []
    for start_s, end_s in window_grid(recording.end_s, WINDOW_S, HOP_S):
        covered, fraction = window_stress_fraction(
            *labels, recording.start_unix_s + start_s, recording.start_unix_s + end_s
        )
        full = end_s - start_s >= WINDOW_S - 1e-6
        fractions.append(fraction if full and covered >= MIN_LABELLED_FRACTION else np.nan)
        hr = _stats(ch["hr"].times_s, ch["hr"].values.astype(float), start_s, end_s)
        beats = np.zeros(0)
        if ibi is not None:
            beats = ibi.values[(ibi.times_s >= start_s) & (ibi.times_s < end_s)].astype(float)
        ibi_feats = (
            (beats.mean(), beats.std(), float(np.sqrt(np.mean(np.diff(beats) ** 2))))
            if beats.size >= 5
            else (np.nan,) * 3
        )
        eda = _stats(eda_t, eda_v, start_s, end_s)
        ph = _stats(eda_t, phasic, start_s, end_s)
        in_scr = (scr_t >= start_s) & (scr_t < end_s)
        temp = _stats(ch["temp"].times_s, ch["temp"].values.astype(float), start_s, end_s)
        inside_acc = (acc.times_s >= start_s) & (acc.times_s < end_s)
        mag = _stats(acc.times_s, magnitude, start_s, end_s)
        axes = acc.values[inside_acc].mean(axis=0) if inside_acc.any() else np.full(3, np.nan)
        rows.append(
            [*hr[:4], *ibi_feats, eda[0], eda[1], eda[4], _stats(eda_t, tonic, start_s, end_s)[0], ph[1], ph[3],
             float(in_scr.sum()), float(scr_amp[in_scr].sum()), temp[0], temp[1], temp[4], mag[0], mag[1],
             float(axes[0]), float(axes[2])]
        )  # fmt: skip
    return {"features": np.array(rows, dtype=float), "stress_fraction": np.array(fractions)}


def zscore_session(x: np.ndarray) -> np.ndarray:
    """Each column z-scored over the whole recording; missing values at the mean, beyond ±Z_CLIP sd clipped."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        mean, sd = np.nanmean(x, axis=0), np.nanstd(x, axis=0)
    mean = np.where(np.isfinite(mean), mean, 0.0)
    sd = np.where(np.isfinite(sd) & (sd > 1e-9), sd, 1.0)
    return np.nan_to_num(np.clip((x - mean) / sd, -Z_CLIP, Z_CLIP))


def candidate_inputs(z: np.ndarray) -> np.ndarray:
    """[local-baseline difference, session z-score, two-minute mean of the difference]."""
    local = z - uniform_filter1d(z, size=LOCAL_BASELINE_WINDOWS, axis=0, mode="nearest")
    return np.hstack([local, z, uniform_filter1d(local, size=CONTEXT_WINDOWS, axis=0, mode="nearest")])


SETUPS = {
    "reference_60s_no_overlap": (REFERENCE_FEATURES, False, REFERENCE_STEP, 1.0),
    "reference_5s_hop": (REFERENCE_FEATURES, False, 1, 1.0),
    "candidate_local_baseline_context": (RAW_FEATURES, True, 1, 0.1),
}


def run_setup(data: dict[str, dict], setup: str) -> dict:
    from sklearn.linear_model import LogisticRegression

    names, local_baseline, step, c = SETUPS[setup]
    columns = [RAW_FEATURES.index(n) for n in names]
    xy = {}
    for subject, d in data.items():
        z = zscore_session(d["features"][:, columns])
        x = candidate_inputs(z) if local_baseline else z
        index = np.arange(0, len(x), step)
        index = index[np.isfinite(d["stress_fraction"][index])]
        xy[subject] = (x[index], stress_label(d["stress_fraction"][index]))
        if not index.size:  # scored on nothing: its leave-one-out fold would end in the fitting library
            raise InputError(f"raw/{subject}.zip", f"no labelled window in the {setup} windows: mend the recording "
                             "or leave the subject out of the labels")

    def fit(train: list[str]):
        x = np.vstack([xy[s][0] for s in train])
        y = np.concatenate([xy[s][1] for s in train])
        return LogisticRegression(C=c, class_weight="balanced", solver="liblinear").fit(x, y)

    def loso(subjects: list[str]) -> dict:
        return {s: (fit([t for t in subjects if t != s]).predict_proba(xy[s][0])[:, 1], xy[s][1]) for s in subjects}

    everyone = sorted(data)
    development = [s for s in everyone if s not in HELD_OUT_SUBJECTS]
    dev_model = fit(development)
    held = {s: (dev_model.predict_proba(xy[s][0])[:, 1], xy[s][1]) for s in HELD_OUT_SUBJECTS if s in xy}
    return {
        "development_loso": evaluate(loso(development)),
        "held_out": evaluate(held),
        "all_subjects_loso": evaluate(loso(everyone)),
    }


def load_raw(data_dir: Path, cache_dir: Path | None) -> dict[str, dict]:
    """Every labelled subject's RAW_FEATURES windows; cached per subject as training's windows are, read back only
    when computed from the same recording, labels, code (this module's too) and library versions."""
    table = load_labels(data_dir)
    out = {}
    for subject in sorted(table):
        if cache_dir is None:
            out[subject] = subject_raw_windows(data_dir, subject, table[subject])
            continue
        cache = Path(cache_dir) / f"{subject}_raw_w{WINDOW_S:g}_h{HOP_S:g}{CACHE_SUFFIX}"
        key = raw_windows_key(Path(data_dir) / "raw" / f"{subject}.zip", table[subject])
        cached = read_cache(cache, ("key", *RAW_ARRAYS)) if cache.is_file() else None
        if cached is not None and str(cached["key"]) == key:
            out[subject] = {name: cached[name] for name in RAW_ARRAYS}
            continue
        out[subject] = subject_raw_windows(data_dir, subject, table[subject])
        save_npz(cache, key=np.array(key), **out[subject])  # whole or not at all
    return out


def raw_windows_key(zip_path: Path, labels: tuple[np.ndarray, np.ndarray]) -> str:
    """``windows_key`` of training's cache, with this module's own code: a change to the study's statistics makes
    its cached windows stale."""
    shared = windows_key(zip_path, labels, WINDOW_S, HOP_S, ())
    return hashlib.sha256(f"{shared}|{file_sha256(Path(__file__))}".encode()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    data = load_raw(args.data, args.cache)
    results = {name: run_setup(data, name) for name in SETUPS}
    for name, result in results.items():
        for split, m in result.items():
            print(
                f"{name:34s} {split:18s} BA {m['balanced_accuracy']:.3f} F1 {m['macro_f1']:.3f} ECE {m['ece']:.3f} "
                f"subject BA {per_subject_text(m)} windows {m['windows']}"
            )
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
