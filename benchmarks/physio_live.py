"""The live stress figure against the track of record, on the held-out subjects, by models that never saw them.

    python benchmarks/physio_live.py ../shared/data/physio/stress_predict [--cache runs/physio-cache]

Two models are fitted on the development subjects alone, as ``emotrace train physio`` fits the one it scores on
the held-out subjects (``export.physio.train.fit``, every source): the shipped model's (its inputs look at the
whole session) and the live model's (``train physio --live``: each window against the windows before it). Each
held-out subject's E4 recording is then judged window by window on one grid:

- by the session model on session inputs: the track of record (``stress.session_stress``);
- on running inputs from the whole recording's window statistics (``LiveStress.add``);
- live, as ``emotrace live`` does as each window ends: the statistics from the signal in [start - LEAD_S, end)
  alone (``live_window_features``), then running inputs.

Scored on the labelled windows (stress when half the window's seconds are) that start at or after the live
baseline (300 s) and have a figure in every row: BA, macro-F1 and ECE pooled over subjects, a 95 % interval over
resampled subjects, and the live statistics' cost per window (CPU time, one core).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from export.physio import train as shipped  # noqa: E402
from export.physio.dataset import stress_label  # noqa: E402
from runtime.arms.physio.features import MEASUREMENTS, WindowFeatures  # noqa: E402
from runtime.arms.physio.live import LiveStress, live_window_features  # noqa: E402
from runtime.arms.physio.readers.e4 import read_e4  # noqa: E402
from runtime.arms.physio.stress import MIN_BASELINE_S, PhysioSettings, session_stress  # noqa: E402
from runtime.errors import InputError  # noqa: E402

ROWS = (
    ("session model, session inputs (the track of record)", "session", "whole"),
    ("session model, judged live", "session", "live"),
    ("live model, running inputs from the whole recording's statistics", "running", "whole"),
    ("live model, judged live (emotrace live)", "running", "live"),
)


class FittedModel:
    """A fitted ``StressEnsemble`` behind the runtime model's interface (labels, card, run), so that the arm's
    own code judges with it."""

    labels = ["no_stress", "stress"]

    def __init__(self, ensemble, scope: str):
        self.ensemble = ensemble
        self.card = SimpleNamespace(id=f"fitted ({scope} inputs)", extra={
            "features": list(shipped.MODEL_FEATURES), "context_windows": shipped.CONTEXT_WINDOWS,
            "scaling": shipped.SCALING, "local_baseline_windows": shipped.LOCAL_BASELINE_WINDOWS,
            "window_s": shipped.WINDOW_S, "hop_s": shipped.HOP_S, "scope": scope,
        })

    def run(self, feeds: dict) -> list[np.ndarray]:
        return [self.ensemble.predict_proba(np.asarray(feeds["features"], dtype=float))]


def live_statistics(data_dir: Path, subject, window_s: float) -> tuple[list[WindowFeatures], list[float]]:
    """Each window's statistics as a live session computes them, and the CPU seconds each took."""
    recording = read_e4(data_dir / "raw" / f"{subject.subject}.zip")
    windows, seconds = [], []
    for start_s in subject.starts_s:
        started = time.process_time()
        windows.append(live_window_features(recording, start_s, start_s + window_s))
        seconds.append(time.process_time() - started)
    return windows, seconds


def judged(model: FittedModel, windows: list[WindowFeatures], settings: PhysioSettings) -> np.ndarray:
    live = LiveStress(model, settings)
    return np.array([np.nan if w.stress is None else w.stress for w in map(live.add, windows)])


def subject_rows(data_dir: Path, subject, models: dict, settings: PhysioSettings) -> tuple[list, np.ndarray, list]:
    """Each row's stress probabilities on the subject's windows (NaN: no figure), the 0/1 labels (NaN: unlabelled
    or before the live baseline), and the live statistics' seconds per window."""
    columns = [MEASUREMENTS.index(n) for n in shipped.MODEL_FEATURES]
    whole = [WindowFeatures(start_s, start_s + settings.window_s, dict(zip(MEASUREMENTS, row, strict=True)), q, "")
             for start_s, row, q in zip(subject.starts_s, subject.features, subject.quality, strict=True)]
    live, seconds = live_statistics(data_dir, subject, settings.window_s)
    rows = []
    for _, scope, statistics in ROWS:
        if (scope, statistics) == ("session", "whole"):
            p = session_stress(subject.features[:, columns], subject.quality, models["session"])
            rows.append(np.where(subject.quality > 0, p, np.nan))
        else:
            rows.append(judged(models[scope], whole if statistics == "whole" else live, settings))
    labelled = np.isfinite(subject.stress_fraction)
    labels = np.where(labelled, stress_label(np.where(labelled, subject.stress_fraction, 0.0)), np.nan)
    labels[subject.starts_s < settings.live_baseline_s] = np.nan
    return rows, labels, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the Stress-Predict folder")
    parser.add_argument("--cache", type=Path, help="the feature cache of 'emotrace train physio --cache'")
    args = parser.parse_args()
    settings = PhysioSettings(window_s=shipped.WINDOW_S, hop_s=shipped.HOP_S, live_baseline_s=MIN_BASELINE_S)
    try:
        subjects, development, held_out = shipped.split_subjects(args.data, shipped.HELD_OUT_SUBJECTS)
        windows = shipped.load_sources(args.data, cache_dir=args.cache, subjects=subjects)
    except InputError as error:
        raise SystemExit(str(error)) from None
    models = {scope: FittedModel(shipped.fit(windows, development, scope=scope), scope)
              for scope in ("session", "running")}
    predictions = [{} for _ in ROWS]
    seconds, scored_count = [], 0
    for name in held_out:
        rows, labels, took = subject_rows(args.data, windows[()][name], models, settings)
        seconds += took
        scored = np.isfinite(labels) & np.all([np.isfinite(r) for r in rows], axis=0)
        scored_count += int(scored.sum())
        for by_subject, p in zip(predictions, rows, strict=True):
            by_subject[name] = (p[scored], labels[scored].astype(int))
        print(f"{name}: {scored.sum()} of {np.isfinite(labels).sum()} labelled windows from "
              f"{settings.live_baseline_s:g} s on scored", flush=True)
    print(f"\ntrained on the {len(development)} development subjects; held-out {', '.join(held_out)}; "
          f"{scored_count} windows")
    print("| judged | BA (95 % over subjects) | macro-F1 | ECE | per-subject BA mean (min) |\n|---|---|---|---|---|")
    for (label, _, _), by_subject in zip(ROWS, predictions, strict=True):
        m = shipped.evaluate(by_subject)
        low, high = m["ba_interval_95"]
        print(f"| {label} | {m['balanced_accuracy']:.3f} ({low:.3f}-{high:.3f}) | {m['macro_f1']:.3f} | "
              f"{m['ece']:.3f} | {m['per_subject_ba_mean']:.3f} ({m['per_subject_ba_min']:.2f}) |")
    print(f"\nlive statistics per window: {1000 * np.mean(seconds):.0f} ms mean, "
          f"{1000 * np.percentile(seconds, 95):.0f} ms 95th percentile (CPU time, {len(seconds)} windows)")


if __name__ == "__main__":
    main()
