"""Does the vocal-tremor index see a tremor in running speech? RAVDESS windows with and without one added.

    python benchmarks/voice_tremor.py ../shared/data/speech/ravdess --actors 11-20

Every neutral and calm clip of the chosen actors (12 each) is cut into the arm's windows (2 s every 0.5 s, at
least 30 % speech by the VAD on the clip as recorded). Each clip is measured as recorded and with a synthetic
tremor added by ``export.audio.backbones.tremor_probe.add_tremor`` (random phase per clip): pitch alone (a
delay line swinging F0 by ±3 % or ±6 %; it moves the formants with it) or loudness alone (±15 % or ±30 %
amplitude), at 4, 6 and 8 Hz. The speech mask of the clip as recorded is used for every copy, so the windows
and their speech frames stay the same.

Per condition it prints each index's median and 5th-95th percentile over the windows where it is measurable,
and the AUC of 'tremor added' against 'as recorded' (0.5: a threshold cannot tell them apart; 1: it always can).
``tremor_index`` is the arm's measurement; ``band_share`` is its earlier definition (the 4-8 Hz share of the
detrended contours' Lomb-Scargle spectrum), kept here for comparison.

Speaker-independent: the index's smoother, floors and F0 weight were chosen on actors 01-10; actors 11-20 are
the report.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
from scipy.signal import lombscargle
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.ravdess_clips import actors_named, ravdess_clips  # noqa: E402
from export.audio.backbones.tremor_probe import add_tremor  # noqa: E402
from runtime.arms.audio.vad import detect_speech  # noqa: E402
from runtime.arms.audio.voice_quality import (  # noqa: E402
    FRAME_STEP_S,
    MIN_TREMOR_RUN_S,
    MIN_TREMOR_VOICED_S,
    VoiceAnalysis,
    semitones,
    voiced_runs,
)
from runtime.arms.audio.windows import judged_windows  # noqa: E402
from runtime.media import read_audio  # noqa: E402

RATE_HZ = 16000
NEUTRAL_AND_CALM = ("neutral", "calm")
TREMOR_RATES_HZ = (4.0, 6.0, 8.0)
F0_DEPTHS = (0.03, 0.06)
AMPLITUDE_DEPTHS = (0.15, 0.30)


def conditions() -> list[tuple[str, float, float, float]]:
    """``(name, rate_hz, f0_depth, amplitude_depth)``; the first is the recording as it is."""
    out = [("as recorded", 0.0, 0.0, 0.0)]
    out += [(f"F0 ±{d:.0%} {r:g} Hz", r, d, 0.0) for d in F0_DEPTHS for r in TREMOR_RATES_HZ]
    out += [(f"loudness ±{d:.0%} {r:g} Hz", r, 0.0, d) for d in AMPLITUDE_DEPTHS for r in TREMOR_RATES_HZ]
    return out


def band_share(times_s: np.ndarray, f0_st: np.ndarray, loudness_db: np.ndarray, voiced: np.ndarray) -> float:
    """The index's earlier definition: mean over F0 and loudness of the 4-8 Hz share of 1-15 Hz, floor-shrunk."""
    runs = voiced_runs(voiced, int(round(MIN_TREMOR_RUN_S / FRAME_STEP_S)))
    if sum(b - a for a, b in runs) * FRAME_STEP_S < MIN_TREMOR_VOICED_S:
        return math.nan
    return 0.5 * (_band_share_one(times_s, f0_st, runs, 0.1) + _band_share_one(times_s, loudness_db, runs, 0.4))


def _band_share_one(times_s: np.ndarray, contour: np.ndarray, runs: list[tuple[int, int]], floor_rms: float) -> float:
    parts_t, parts_y = [], []
    for a, b in runs:
        t, y = times_s[a:b], contour[a:b]
        slope, intercept = np.polyfit(t - t[0], y, 1)
        parts_t.append(t)
        parts_y.append(y - (intercept + slope * (t - t[0])))
    t, y = np.concatenate(parts_t), np.concatenate(parts_y)
    freqs_hz = np.arange(1.0, 15.125, 0.25)
    power = lombscargle(t, y, 2.0 * np.pi * freqs_hz)
    total = float(np.sum(power))
    if total <= 0.0:
        return 0.0
    share = float(np.sum(power[(freqs_hz >= 4.0) & (freqs_hz <= 8.0)])) / total
    band_var = (float(t[-1] - t[0]) + FRAME_STEP_S) * 0.25 * 2.0 * total / y.size
    return share * band_var / (band_var + floor_rms**2)


def clip_indices(samples: np.ndarray, rng: np.random.Generator) -> dict[str, list[tuple[float, float]]]:
    """Per condition, ``(tremor_index, band_share)`` of each of the clip's windows."""
    speech = detect_speech(samples)
    windows = judged_windows(speech, samples.size / RATE_HZ, 2.0, 0.5, 0.3)
    out = {}
    for name, rate_hz, f0_depth, amplitude_depth in conditions():
        shaken = samples if rate_hz == 0.0 else add_tremor(samples, RATE_HZ, rate_hz, f0_depth, amplitude_depth,
                                                           rng.uniform(0.0, 2.0 * np.pi))
        voice = VoiceAnalysis(shaken, RATE_HZ, speech)
        f0_st = semitones(voice._f0_hz)
        rows = []
        for w in windows:
            first, last = np.searchsorted(voice._times_s, [w.start_s, w.end_s])
            earlier = band_share(voice._times_s[first:last], f0_st[first:last],
                                 voice._intensity_dbfs[first:last], voice._voiced[first:last])
            rows.append((voice.window(w.start_s, w.end_s)["tremor_index"], earlier))
        out[name] = rows
    return out


def separation_auc(with_tremor: np.ndarray, without: np.ndarray) -> float:
    """ROC AUC of 'tremor added' over the measurable windows of each set."""
    a, b = with_tremor[np.isfinite(with_tremor)], without[np.isfinite(without)]
    return float(roc_auc_score(np.r_[np.ones(a.size), np.zeros(b.size)], np.r_[a, b]))


def actor_range(text: str) -> range:
    """``--actors``'s range ("11-20", "03"); one that names none ends the run in one line."""
    first, _, last = text.partition("-")
    try:
        actors = range(int(first), int(last or first) + 1)
    except ValueError:
        actors = range(0)
    if not actors:
        raise SystemExit(f"--actors {text}: give one actor or a range, first to last: 03, 11-20")
    return actors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="RAVDESS's folder (its clips in any audio format train audio reads)")
    parser.add_argument("--actors", default="11-20", help="e.g. 11-20 (the report) or 01-10 (where it was tuned)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    per_condition: dict[str, list[tuple[float, float]]] = {}
    actors = actor_range(args.actors)
    clips = [clip.path for clip in ravdess_clips(args.corpus, actors) if clip.emotion in NEUTRAL_AND_CALM]
    if not clips:
        raise SystemExit(f"{args.corpus}: no neutral or calm clip of {actors_named(actors)}")
    for path in clips:
        for name, rows in clip_indices(read_audio(path), rng).items():
            per_condition.setdefault(name, []).extend(rows)
    baseline = np.array(per_condition["as recorded"], dtype=float)
    print(f"actors {args.actors}, {len(baseline)} windows; median (5th-95th percentile) and AUC vs as recorded")
    print(f"{'condition':22s} {'tremor_index':>30s} {'band_share (earlier)':>30s}")
    for name, rows in per_condition.items():
        values = np.array(rows, dtype=float)
        cells = []
        for k in range(2):
            v = values[:, k][np.isfinite(values[:, k])]
            auc = "" if name == "as recorded" else f" AUC {separation_auc(values[:, k], baseline[:, k]):.2f}"
            cells.append(f"{np.median(v):.2f} ({np.percentile(v, 5):.2f}-{np.percentile(v, 95):.2f}){auc}")
        print(f"{name:22s} {cells[0]:>30s} {cells[1]:>30s}")
    measurable = np.isfinite(baseline).mean(axis=0)
    print(f"measurable windows: tremor_index {measurable[0]:.0%}, band_share {measurable[1]:.0%}")


if __name__ == "__main__":
    main()
