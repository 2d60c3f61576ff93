"""Windowed physiological features: heart rate and HRV, EDA tonic level and SCRs, skin temperature, motion.

Each signal is processed over the whole recording with neurokit2 (PPG peaks, EDA decomposition and SCR peaks;
the EDA twice, by neurokit2's decomposition and by a high-pass split), one contiguous stretch at a time so that
nothing is bridged across a gap, not once a window; then every window
reads its measurements out of the processed signals. Training (``export/physio``) and the device call
the same functions, so a window means the same thing on both.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from runtime.arms.physio.recording import GAP_PERIODS, Channel, Recording, refuse_too_slow_channels
from runtime.track import window_grid

log = logging.getLogger("emotrace.physio")
# What neurokit2 warns of (an E4's 4 Hz EDA it cannot clean, a stretch too short for a rate or without an SCR
# onset, numpy's lines from within it): the arm says what the readings lack itself, as quality and lines of its own,
# so a library's line naming its own source file is noise to a clinician. Ignored by module, where the physio is
# processed (``ignore_library_warnings``), not around each call: warnings.catch_warnings swaps the process-wide
# filters and is not thread-safe, and a live session processes physio in two threads at once.
LIBRARY_MODULES = r"neurokit2(\.|$)"


def ignore_library_warnings() -> None:
    """Ignore every warning raised from neurokit2's modules, by one process-wide filter kept first: added, or moved
    to the front, where it is not (something reset the filters or put its own before it: a test harness, a
    caller's catch_warnings with "always"); a filter first in the list stays, so the list is rarely touched."""
    action, _, _, module, _ = warnings.filters[0] if warnings.filters else (None, None, None, None, None)
    if not (action == "ignore" and module is not None and module.pattern == LIBRARY_MODULES):
        warnings.filterwarnings("ignore", module=LIBRARY_MODULES)


Processed = TypeVar("Processed")
Unread = dict[tuple[str, float], tuple[float, str]]  # (channel, stretch start s) -> (its seconds, why unread)

# Measurement names (units in the names); the order is the order of feature vectors.
MEASUREMENTS: tuple[str, ...] = (
    "hr_bpm",
    "rmssd_ms",
    "sdnn_ms",
    "eda_tonic_us",
    "eda_tonic_slope_us_per_min",
    "scr_rate_per_min",
    "scr_amplitude_us",
    "temp_c",
    "temp_slope_c_per_min",
    "motion_g",
    "resp_rate_bpm",
    # Statistics of the channels as the device delivers them (E4 HR.csv and IBI.csv, raw EDA, ACC axes):
    # per-subject z-scored, these carry the stress signal better than the cleaned measurements alone.
    "hr_channel_bpm",
    "hr_sd_bpm",
    "hr_min_bpm",
    "hr_max_bpm",
    "ibi_mean_s",
    "ibi_sd_s",
    "ibi_rmssd_s",
    "eda_mean_us",
    "eda_sd_us",
    "eda_slope_us_per_min",
    "eda_highpass_tonic_us",
    "eda_phasic_sd_us",
    "eda_phasic_max_us",
    "scr_count",
    "scr_amplitude_sum_us",
    "temp_sd_c",
    "acc_magnitude_mean_g",
    "acc_magnitude_sd_g",
    "acc_x_mean_g",
    "acc_z_mean_g",
)
IBI_RANGE_S = (0.33, 1.5)  # 40-180 bpm: beats outside it are detection errors at rest or light tasks
IBI_MAX_JUMP = 0.25  # an interval differing from its neighbours' median by more than this fraction is an artefact
PPG_MIN_QUALITY = 0.5  # neurokit2 template-match correlation below which a beat is not trusted
BEAT_HOLE_S = 5.0  # no beat for this long: the heart was not measured there (a BLE strap counts 5 s as gone)
MIN_BEATS_HRV = 10  # fewer clean intervals than this in a window: no heart rate or HRV from its beats
SCR_MIN_AMPLITUDE_US = 0.01  # the usual floor for a skin conductance response; below it is noise
# neurokit2's eda_peaks reads amplitude_min as a share of the stretch's largest response, not in µS: the
# high-pass SCRs the models were trained on keep those of 1 % of it or more (so a gap, which splits a stretch,
# can move the floor of windows far from it; an absolute floor there means refitting the models)
SCR_MIN_SHARE_OF_LARGEST = 0.01
MIN_COVERAGE = 0.5  # a window with less of its key signals than this makes no claim
MOTION_LIMIT_G = 0.15  # wrist acceleration spread above which the PPG and EDA are mostly artefact
SEGMENT_MIN_S = 8.0  # contiguous stretches shorter than this are too short to process
MIN_SLOPE_SPAN_S = 2.0  # a slope per minute read over less time than this is its samples' noise, magnified
HR_AVERAGE_S = 10.0  # a heart rate made from beats averages the last 10 s, as the E4's HR channel does
# Samples no sensor on a body gives, in the waveforms neurokit2 processes: one value held this long (a sensor off
# the skin, shorted electrodes; in the 28 Stress-Predict exports EDA holds one value 4.2 s at most, BVP 0.17 s; a
# 10-bit board reads EDA in steps of about 0.1 uS, which resting skin can stay within for tens of seconds), and a
# sample this many median absolute deviations from the channel's median (a corrupt value; there, 269 at most:
# benchmarks/physio_signal_extremes.py).
FLAT_RUN_S = 60.0
SPIKE_SPREADS = 10_000.0
WAVEFORMS = ("bvp", "eda", "resp")
SPIKE_CHANNELS = ("bvp", "resp")  # the spike rule's: EDA's corrupt values are outside its plausible range


@dataclass
class Series:
    """An event or sample series on the recording clock with the stretches where it is valid."""

    times_s: np.ndarray
    values: np.ndarray
    valid: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class ProcessedSignals:
    cardiac: str | None = None  # "bvp", "ibi" or "hr": where the beats came from
    ibi: Series | None = None  # clean inter-beat intervals (s), stamped at the beat that ends each one
    hr: Series | None = None  # heart rate (bpm) when there are no beats, e.g. a 1 Hz HR channel only
    eda_tonic: Series | None = None
    scr: Series | None = None  # SCR peak times with amplitudes (uS)
    temp: Series | None = None
    motion: Series | None = None  # per-second spread of the acceleration magnitude (g)
    resp_rate: Series | None = None
    ibi_delivered: Series | None = None  # beat intervals as the device delivered them (E4 IBI, BLE RR)
    eda_raw: Series | None = None
    eda_split: Series | None = None  # (n, 2): high-pass tonic and phasic EDA
    scr_highpass: Series | None = None  # SCR peaks of the high-pass phasic EDA, with amplitudes (uS)
    acc: Series | None = None  # (n, 3) acceleration (g)


@dataclass
class WindowFeatures:
    start_s: float
    end_s: float
    measurements: dict[str, float]
    quality: float
    reason: str


def load_signal_library() -> None:
    """Import neurokit2 now, where a wait costs nothing (a live session's start, before any sensor's thread runs):
    its first import, with the pandas, matplotlib and scikit-learn it imports, takes about 1.6 s. Elsewhere it is
    imported where first used, as a command that never reads a signal need not wait for it."""
    import neurokit2  # noqa: F401


def process_recording(recording: Recording) -> ProcessedSignals:
    """Run neurokit2 over each channel's contiguous stretches, for the whole recording at once."""
    refuse_too_slow_channels(recording)  # a file's, read to be processed, were refused as read; a live one's here
    channels = recording.channels
    channels = {name: _without_unusable(channel, recording.source) if name in WAVEFORMS else channel
                for name, channel in channels.items()}
    out = ProcessedSignals()
    unread: Unread = {}
    if "bvp" in channels:
        out.ibi, out.cardiac = _beats_from_ppg(channels["bvp"], unread, recording.source), "bvp"
    elif "ibi" in channels and channels["ibi"].values.size:
        out.ibi, out.cardiac = _clean_ibi_series(channels["ibi"], recording.source), "ibi"
    if "hr" in channels:
        hr = channels["hr"]
        out.hr = Series(hr.times_s, hr.values.astype(float), _valid_stretches(hr))
        out.cardiac = out.cardiac or "hr"
    if "ibi" in channels and channels["ibi"].values.size:
        ibi = channels["ibi"]
        out.ibi_delivered = Series(ibi.times_s.astype(float), ibi.values.astype(float))
        if out.cardiac == "ibi":  # no pulse wave: its beats where no clean beat came follow no heart
            out.ibi_delivered = _intervals_within(out.ibi_delivered, out.ibi.valid)
    # A pulse wave without the wearable's own HR or beat channel (the serial board, a CSV of PPG): the model's
    # heart statistics read those channels, so they are made from the clean PPG beats, as the E4 makes its own.
    if out.cardiac == "bvp" and "ibi" not in channels:
        out.ibi_delivered = out.ibi
    if out.cardiac == "bvp" and "hr" not in channels:
        out.hr = heart_rate_series(out.ibi)
    if "eda" in channels:
        out.eda_tonic, out.scr = _process_eda(channels["eda"], unread)
        eda = channels["eda"]
        out.eda_raw = Series(eda.times_s, eda.values.astype(float), _valid_stretches(eda))
        out.eda_split, out.scr_highpass = _eda_highpass(eda, unread)
    if "temp" in channels:
        temp = channels["temp"]
        out.temp = Series(temp.times_s, temp.values.astype(float), _valid_stretches(temp))
    if "acc" in channels and channels["acc"].values.ndim == 2:
        out.motion = _motion(channels["acc"])
        out.acc = Series(channels["acc"].times_s, channels["acc"].values.astype(float))
    if "resp" in channels:
        out.resp_rate = _process_resp(channels["resp"], unread)
    _say_unread(recording.source, unread)
    return out


def heart_rate_series(beats: Series, average_s: float = HR_AVERAGE_S) -> Series:
    """A 1 Hz heart rate (bpm) from beat intervals: each second, 60 over the mean interval of the beats in the
    preceding ``average_s`` (as wearables report it); missing where fewer than three beats fall there, and at
    the seconds outside the beats' valid stretches (a gap, a hole in the beats: the beats before it are not
    carried into it)."""
    if beats.times_s.size == 0:
        return Series(np.zeros(0), np.zeros(0), list(beats.valid))
    seconds = np.arange(np.ceil(beats.times_s[0]), np.floor(beats.times_s[-1]) + 1.0)
    first = np.searchsorted(beats.times_s, seconds - average_s, side="right")
    last = np.searchsorted(beats.times_s, seconds, side="right")
    sums = np.concatenate([[0.0], np.cumsum(beats.values)])
    counts = last - first
    # a second's rate is of the beats before it: valid from just after a stretch's start to its end
    starts_s, ends_s = (np.array([stretch[i] for stretch in beats.valid], dtype=float) for i in (0, 1))
    stretch = np.searchsorted(starts_s, seconds, side="left") - 1  # the last stretch starting before each second
    followed = (stretch >= 0) & (seconds <= ends_s[np.maximum(stretch, 0)]) if starts_s.size else seconds < 0
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where((counts >= 3) & followed, 60.0 * counts / (sums[last] - sums[first]), np.nan)
    return Series(seconds, rate, list(beats.valid))


def window_features(signals: ProcessedSignals, start_s: float, end_s: float) -> WindowFeatures:
    """The measurements of one window [start_s, end_s), its quality in [0, 1] and the reason when it drops."""
    duration_s = end_s - start_s
    m = dict.fromkeys(MEASUREMENTS, math.nan)
    beats = _slice(signals.ibi, start_s, end_s)
    # Beats found in a pulse wave give a rate, like the HRV, from MIN_BEATS_HRV clean beats or more (one or two stray
    # beats in noise are no heart rate); beats a sensor delivers give one from any (a 10 s window holds 9 at 55 bpm)
    fewest_for_rate = MIN_BEATS_HRV if signals.cardiac == "bvp" else 1
    if beats is not None and beats.size >= fewest_for_rate:
        m["hr_bpm"] = 60.0 / float(np.median(beats))
    if beats is not None and beats.size >= MIN_BEATS_HRV:
        m["sdnn_ms"] = 1000.0 * float(np.std(beats, ddof=1))
        successive = _successive_differences(*_slice(signals.ibi, start_s, end_s, with_times=True))
        if successive.size >= MIN_BEATS_HRV - 1:
            m["rmssd_ms"] = 1000.0 * float(np.sqrt(np.mean(successive**2)))
    # Beats found in a pulse wave judge the heart alone (heart_coverage): a heart rate beside them is the
    # wearable's own over the same bad wave, or the one made from these beats.
    if math.isnan(m["hr_bpm"]) and signals.cardiac != "bvp":
        hr = _slice(signals.hr, start_s, end_s)
        if hr is not None and np.isfinite(hr).any():
            m["hr_bpm"] = float(np.nanmean(hr))
    tonic = _slice(signals.eda_tonic, start_s, end_s, with_times=True)
    if tonic is not None and np.isfinite(tonic[1]).sum() >= 2:
        m["eda_tonic_us"] = float(np.nanmean(tonic[1]))
        m["eda_tonic_slope_us_per_min"] = 60.0 * _slope(*tonic)
    eda_coverage = _coverage(signals.scr.valid, start_s, end_s) if signals.scr is not None else 0.0
    if eda_coverage >= MIN_COVERAGE:  # responses per minute of the EDA there; over less, a count of a few seconds'
        amplitudes = _slice(signals.scr, start_s, end_s)
        m["scr_rate_per_min"] = 60.0 * amplitudes.size / (eda_coverage * duration_s)
        m["scr_amplitude_us"] = float(np.mean(amplitudes)) if amplitudes.size else 0.0
    temp = _slice(signals.temp, start_s, end_s, with_times=True)
    if temp is not None and np.isfinite(temp[1]).sum() >= 2:
        m["temp_c"] = float(np.nanmean(temp[1]))
        m["temp_slope_c_per_min"] = 60.0 * _slope(*temp)
    motion = _slice(signals.motion, start_s, end_s)
    if motion is not None and np.isfinite(motion).any():
        m["motion_g"] = float(np.nanmean(motion))
    resp = _slice(signals.resp_rate, start_s, end_s)
    if resp is not None and np.isfinite(resp).any():
        m["resp_rate_bpm"] = float(np.nanmean(resp))
    m.update(channel_statistics(signals, start_s, end_s))
    quality, reason = window_quality(signals, start_s, end_s, m)
    return WindowFeatures(start_s, end_s, m, quality, reason)


def channel_statistics(signals: ProcessedSignals, start_s: float, end_s: float) -> dict[str, float]:
    """Window statistics of the channels as delivered (NaN where a channel is absent or too sparse)."""
    m: dict[str, float] = {}
    hr = _stats(_slice(signals.hr, start_s, end_s, with_times=True))
    m["hr_channel_bpm"], m["hr_sd_bpm"], m["hr_min_bpm"], m["hr_max_bpm"] = hr[:4]
    beats = _slice(signals.ibi_delivered, start_s, end_s)
    if beats is not None and beats.size >= 5:
        m["ibi_mean_s"], m["ibi_sd_s"] = float(beats.mean()), float(beats.std())
        # across a dropped beat too, as the models were trained (docs/physio.md; rmssd_ms counts neighbours only)
        m["ibi_rmssd_s"] = float(np.sqrt(np.mean(np.diff(beats) ** 2)))
    eda = _stats(_slice(signals.eda_raw, start_s, end_s, with_times=True))
    m["eda_mean_us"], m["eda_sd_us"], m["eda_slope_us_per_min"] = eda[0], eda[1], eda[4]
    split = _slice(signals.eda_split, start_s, end_s, with_times=True)
    if split is not None:
        m["eda_highpass_tonic_us"] = _stats((split[0], split[1][:, 0]))[0]
        phasic = _stats((split[0], split[1][:, 1]))
        m["eda_phasic_sd_us"], m["eda_phasic_max_us"] = phasic[1], phasic[3]
    if signals.scr_highpass is not None and _coverage(signals.scr_highpass.valid, start_s, end_s) > 0:
        amplitudes = _slice(signals.scr_highpass, start_s, end_s)
        m["scr_count"], m["scr_amplitude_sum_us"] = float(amplitudes.size), float(amplitudes.sum())
    m["temp_sd_c"] = _stats(_slice(signals.temp, start_s, end_s, with_times=True))[1]
    acc = _slice(signals.acc, start_s, end_s, with_times=True)
    if acc is not None:
        whole = np.isfinite(acc[1]).all(axis=1)  # a row missing an axis is no sample
        acc = (acc[0][whole], acc[1][whole])
    if acc is not None and acc[1].shape[0] >= 3:
        magnitude = _stats((acc[0], np.linalg.norm(acc[1], axis=1)))
        m["acc_magnitude_mean_g"], m["acc_magnitude_sd_g"] = magnitude[0], magnitude[1]
        m["acc_x_mean_g"], m["acc_z_mean_g"] = float(np.mean(acc[1][:, 0])), float(np.mean(acc[1][:, 2]))
    return {k: float(v) for k, v in m.items()}


def window_quality(
    signals: ProcessedSignals, start_s: float, end_s: float, measurements: dict[str, float]
) -> tuple[float, str]:
    """How much of the window the key signals cover, lowered by motion; 0 with a reason when unusable."""
    coverages = {
        "heart": heart_coverage(signals, start_s, end_s),
        "EDA": _coverage(signals.eda_tonic.valid, start_s, end_s) if signals.eda_tonic is not None else 0.0,
    }
    if all(c < MIN_COVERAGE for c in coverages.values()):
        # the shares rounded down: 49.6 % must not read as the 50 % that would have been enough; a few seconds of
        # a signal still give its statistics (eda_tonic_us), too few to judge the window by
        shares = ", ".join(f"{name} {math.floor(100 * c + 1e-9)} %" for name, c in coverages.items())
        return 0.0, (f"too little heart or EDA signal in this window ({shares} of it; a figure needs "
                     f"one at {100 * MIN_COVERAGE:g} % or more)")
    if math.isnan(measurements["hr_bpm"]) and math.isnan(measurements["eda_tonic_us"]):
        return 0.0, "no usable heartbeats or EDA in this window"
    quality = float(np.mean(list(coverages.values())))
    # every drop says why: a signal under MIN_COVERAGE is missing, one partly there says how much is not
    reasons = [f"{name} missing" if c < MIN_COVERAGE else f"{name} missing over {_percent(1 - c)} of the window"
               for name, c in coverages.items() if round(c, 4) < 1.0]
    motion_g = measurements["motion_g"]
    if math.isfinite(motion_g) and motion_g > MOTION_LIMIT_G:
        quality *= MOTION_LIMIT_G / motion_g
        reasons.append(f"motion {motion_g:.2f} g")
    return round(quality, 4), "; ".join(reasons)


def _percent(share: float) -> str:
    return f"{100 * share:.0f} %" if share >= 0.005 else "less than 1 %"


def heart_coverage(signals: ProcessedSignals, start_s: float, end_s: float) -> float:
    """How much of the window the heart is followed in: where beats come less than ``BEAT_HOLE_S`` apart, or a
    delivered heart rate goes on. Beats found in a pulse wave judge it alone (a wearable's
    own heart rate over a bad pulse wave is its interpolation); beats and a heart rate a sensor delivers (a strap,
    a CSV) each count, as either feeds the heart statistics."""
    series = [signals.ibi] if signals.cardiac == "bvp" else [signals.ibi, signals.hr]
    return max((_coverage(s.valid, start_s, end_s) for s in series if s is not None), default=0.0)


def recording_features(
    recording: Recording, window_s: float, hop_s: float, start_s: float = 0.0, end_s: float | None = None
) -> list[WindowFeatures]:
    """Every window of the regular grid over [start_s, end_s) of the recording clock."""
    signals = process_recording(recording)
    end_s = recording.end_s if end_s is None else end_s
    return [
        window_features(signals, start_s + a, start_s + b) for a, b in window_grid(end_s - start_s, window_s, hop_s)
    ]


def feature_matrix(windows: list[WindowFeatures], names: tuple[str, ...] = MEASUREMENTS) -> np.ndarray:
    return np.array([[w.measurements[n] for n in names] for w in windows], dtype=float).reshape(
        len(windows), len(names)
    )


# --- per-signal processing ------------------------------------------------------------------------------


def _beats_from_ppg(bvp: Channel, unread: Unread, source: str) -> Series:
    import neurokit2 as nk

    def peaks_and_quality(values: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        cleaned = nk.ppg_clean(values, sampling_rate=bvp.rate_hz)
        peaks = np.asarray(nk.ppg_findpeaks(cleaned, sampling_rate=bvp.rate_hz)["PPG_Peaks"], dtype=int)
        if peaks.size < 3:
            return peaks, None
        # Template match: a beat unlike the recording's average beat is motion, not heart.
        return peaks, ppg_template_quality(cleaned, peaks, bvp.rate_hz)

    times, ibis, processed = [], [], []
    for t0, t1, stamps_s, (peaks, quality) in _processed_segments(bvp, peaks_and_quality, unread):
        if quality is None:
            continue
        peak_times_s = stamps_s[peaks]
        good = (quality[1:] >= PPG_MIN_QUALITY) & (quality[:-1] >= PPG_MIN_QUALITY)
        times.append(peak_times_s[1:][good])
        ibis.append(np.diff(peak_times_s)[good])
        processed.append((t0, t1))
    if not times:
        return Series(np.zeros(0), np.zeros(0), [])
    beats = _clean_ibi(np.concatenate(times), np.concatenate(ibis), [])
    # A stretch processed is not a heart followed: noise yields no clean beat, or a stray one. As for beats
    # delivered, the heart is measured where clean beats come less than BEAT_HOLE_S apart.
    holes = [hole for span in processed for hole in beat_holes(*_slice(beats, *span, with_times=True), span)]
    _say_beat_holes(source, bvp.name, holes, "clean beats")
    return Series(beats.times_s, beats.values, _minus_gaps_each(processed, holes))


def ppg_template_quality(cleaned: np.ndarray, peaks: np.ndarray, rate_hz: float) -> np.ndarray:
    """neurokit2's template-match quality (``ppg_quality(..., method="templatematch")``) at each peak, computed
    the same way on one (beats, samples) array.

    neurokit2 makes a pandas DataFrame per beat and pivots them all: about 13 KB and 3.5 ms a beat, 2.7 GB and
    12 minutes for a 48 h recording. The template is the mean beat of the whole stretch, so processing it in
    blocks would change the quality; this keeps neurokit2's steps (window from the mean rate, epochs cut by
    truncation, beats touching the ends dropped, correlation with the template, "previous" interpolation).
    Where the beats' epochs would differ in length (neurokit2 then pivots them onto a union of time grids),
    neurokit2 itself is called.
    """
    import neurokit2 as nk

    peaks = np.asarray(peaks)
    if cleaned.size < rate_hz * 4:  # as nk.signal_cyclesegment
        raise ValueError("The data length is too small to be segmented.")
    mean_rate_bpm = np.mean(nk.signal_rate(peaks, sampling_rate=rate_hz, desired_length=len(cleaned)))
    beat_s = 60 / mean_rate_bpm
    epoch_start_s, epoch_end_s = -(0.5 * beat_s), (1 - 0.5) * beat_s  # a beat's epoch, centred on its peak
    pad_samples = int((epoch_end_s - epoch_start_s) * rate_hz)
    onsets = peaks + pad_samples
    starts = (onsets + epoch_start_s * rate_hz).astype(np.int64)  # int() of positive floats: truncation
    ends = (onsets + epoch_end_s * rate_hz).astype(np.int64)
    if np.unique(ends - starts).size != 1:
        quality = nk.ppg_quality(cleaned, peaks=peaks, sampling_rate=rate_hz, method="templatematch")
        return np.asarray(quality)[peaks]
    padding = np.full(pad_samples, np.nan)
    padded = np.concatenate([padding, np.asarray(cleaned, dtype=float), padding])
    cycles = padded[starts[:, None] + np.arange(ends[0] - starts[0])]
    valid = ~np.isnan(cycles).any(axis=1)
    cycles, cycle_inds = cycles[valid], peaks[valid]
    template = cycles.mean(axis=0)
    cc = np.zeros(len(cycle_inds) - 1)
    for i in range(len(cycle_inds) - 1):
        cc[i] = np.corrcoef(cycles[i], template)[0, 1]
    quality = nk.signal_interpolate(cycle_inds[0:-1], cc, x_new=np.arange(len(cleaned)), method="previous")
    return np.asarray(quality)[peaks]


def _clean_ibi_series(ibi: Channel, source: str) -> Series:
    """Beat intervals as delivered (E4 IBI file, BLE RR intervals, a CSV's column); valid between its gaps and
    between clean beats, except where no clean beat came for ``BEAT_HOLE_S``: beats delivered and all cleaned
    away (beats at 33 bpm) follow no heart, as a pulse wave's stray beats do not."""
    times_s, ibis_s = ibi.times_s.astype(float), ibi.values.astype(float)
    span = (float(times_s[0] - ibis_s[0]), float(times_s[-1]))
    beats = _clean_ibi(times_s, ibis_s, [])
    holes = beat_holes(beats.times_s, beats.values, span)
    _say_beat_holes(source, ibi.name, holes, "clean beats")
    return Series(beats.times_s, beats.values, _minus_gaps(span, list(ibi.gaps) + holes))


def beat_holes(beat_times_s: np.ndarray, ibi_s: np.ndarray, span: tuple[float, float]) -> list[tuple[float, float]]:
    """The stretches of ``span`` with no beat interval for ``BEAT_HOLE_S`` or more: each interval covers the time
    from the beat before to its own beat, so the silences lie between one beat and the next interval's start, and
    at the span's ends."""
    silent_from_s = np.concatenate([[span[0]], beat_times_s])
    silent_to_s = np.concatenate([beat_times_s - ibi_s, [span[1]]])
    return [(float(a), float(b)) for a, b in zip(silent_from_s, silent_to_s, strict=True) if b - a >= BEAT_HOLE_S]


def _say_beat_holes(source: str, name: str, holes: list[tuple[float, float]], what: str) -> None:
    if holes:
        log.warning("%s: %s: no %s for %d stretch(es) of %g s or more (%.1f s in all); windows there lose quality",
                    source, name, what, len(holes), BEAT_HOLE_S, sum(b - a for a, b in holes))


def _minus_gaps_each(spans: list[tuple[float, float]], gaps: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [stretch for span in spans for stretch in _minus_gaps(span, gaps)]


def _minus_gaps(span: tuple[float, float], gaps: list[tuple[float, float]]) -> list[tuple[float, float]]:
    stretches, start = [], span[0]
    for gap_start, gap_end in sorted(gaps):
        if gap_start > start:
            stretches.append((start, min(gap_start, span[1])))
        start = max(start, gap_end)
    if start < span[1]:
        stretches.append((start, span[1]))
    return [(a, b) for a, b in stretches if b > a]


def _clean_ibi(times_s: np.ndarray, ibi_s: np.ndarray, valid: list[tuple[float, float]]) -> Series:
    """Drop intervals outside the physiological range or far from their neighbours' median (artefacts)."""
    keep = (ibi_s >= IBI_RANGE_S[0]) & (ibi_s <= IBI_RANGE_S[1])
    if ibi_s.size >= 5:
        from scipy.ndimage import median_filter

        local = median_filter(ibi_s, size=5, mode="nearest")
        keep &= np.abs(ibi_s - local) <= IBI_MAX_JUMP * local
    return Series(times_s[keep], ibi_s[keep], valid)


def _process_eda(eda: Channel, unread: Unread) -> tuple[Series, Series]:
    import neurokit2 as nk

    def process(values: np.ndarray):
        return _held_eda(values) if _is_held(values) else nk.eda_process(values, eda.rate_hz)

    tonic_t, tonic_v, scr_t, scr_a, valid = [], [], [], [], []
    for t0, t1, stamps_s, (signals, info) in _processed_segments(eda, process, unread):
        tonic_t.append(stamps_s)
        tonic_v.append(signals["EDA_Tonic"].to_numpy(dtype=float))
        peaks = np.asarray(info["SCR_Peaks"], dtype=int)
        peaks = peaks[(peaks >= 0) & (peaks < stamps_s.size)]
        amplitudes = np.asarray(info["SCR_Amplitude"], dtype=float)[: peaks.size]
        ok = np.isfinite(amplitudes) & (amplitudes >= SCR_MIN_AMPLITUDE_US)
        scr_t.append(stamps_s[peaks[ok]])
        scr_a.append(amplitudes[ok])
        valid.append((t0, t1))
    if not valid:
        empty = Series(np.zeros(0), np.zeros(0), [])
        return empty, empty
    return (
        Series(np.concatenate(tonic_t), np.concatenate(tonic_v), valid),
        Series(np.concatenate(scr_t), np.concatenate(scr_a), valid),
    )


def _is_held(values: np.ndarray) -> bool:
    """One value throughout a stretch: neurokit2's EDA processing fails on it or not by numerical chance (it
    normalises the SCR heights by their largest, of none)."""
    return bool(values.size) and np.ptp(values) == 0


def _held_eda(values: np.ndarray):
    """A skin conductance held at one reading (a 10-bit board on still skin; held 60 s or more it is no signal
    at all, ``unusable_samples``): that level, no phasic part, no responses, as neurokit2's EDA results are laid
    out."""
    import pandas as pd

    if values[0] <= 0:  # no conductance at all is no skin on the electrodes (a sensor unplugged), not a level
        raise ValueError("no skin contact")
    split = pd.DataFrame({"EDA_Tonic": values.astype(float), "EDA_Phasic": np.zeros(values.size)})
    return split, {"SCR_Peaks": np.zeros(0, dtype=int), "SCR_Amplitude": np.zeros(0)}


def _eda_highpass(eda: Channel, unread: Unread) -> tuple[Series, Series]:
    """neurokit2's high-pass tonic/phasic split and the SCR peaks of the phasic part, per contiguous stretch."""
    import neurokit2 as nk

    def split_and_peaks(values: np.ndarray):
        if _is_held(values):
            split, info = _held_eda(values)
            return split, split["EDA_Phasic"].to_numpy(dtype=float), info
        cleaned = nk.eda_clean(values, sampling_rate=eda.rate_hz)
        split = nk.eda_phasic(cleaned, sampling_rate=eda.rate_hz, method="highpass")
        phasic = split["EDA_Phasic"].to_numpy(dtype=float)
        _, info = nk.eda_peaks(phasic, sampling_rate=eda.rate_hz, amplitude_min=SCR_MIN_SHARE_OF_LARGEST)
        return split, phasic, info

    times, parts, scr_t, scr_a, valid = [], [], [], [], []
    for t0, t1, stamps_s, (split, phasic, info) in _processed_segments(eda, split_and_peaks, unread):
        peaks = np.asarray(info["SCR_Peaks"], dtype=int)
        peaks = peaks[(peaks >= 0) & (peaks < stamps_s.size)]
        times.append(stamps_s)
        parts.append(np.column_stack([split["EDA_Tonic"].to_numpy(dtype=float), phasic]))
        scr_t.append(stamps_s[peaks])
        scr_a.append(np.asarray(info["SCR_Amplitude"], dtype=float)[: peaks.size])
        valid.append((t0, t1))
    if not valid:
        return Series(np.zeros(0), np.zeros((0, 2)), []), Series(np.zeros(0), np.zeros(0), [])
    return (
        Series(np.concatenate(times), np.vstack(parts), valid),
        Series(np.concatenate(scr_t), np.concatenate(scr_a), valid),
    )


def _process_resp(resp: Channel, unread: Unread) -> Series:
    import neurokit2 as nk

    times, rates, valid = [], [], []
    for t0, t1, stamps_s, (signals, _) in _processed_segments(resp, lambda v: nk.rsp_process(v, resp.rate_hz),
                                                              unread):
        times.append(stamps_s)
        rates.append(signals["RSP_Rate"].to_numpy(dtype=float))
        valid.append((t0, t1))
    if not valid:
        return Series(np.zeros(0), np.zeros(0), [])
    return Series(np.concatenate(times), np.concatenate(rates), valid)


def _motion(acc: Channel) -> Series:
    """Per-second standard deviation of the acceleration magnitude: 0 at rest, large when the arm moves."""
    magnitude = np.linalg.norm(acc.values, axis=1)
    second = np.floor(acc.times_s).astype(int)
    edges = np.flatnonzero(np.diff(second)) + 1
    groups = np.split(magnitude, edges)
    times = second[np.concatenate([[0], edges])].astype(float)
    spread = np.array([np.nanstd(g) if np.isfinite(g).sum() >= 2 else np.nan for g in groups])
    return Series(times, spread, _valid_stretches(acc))


# --- helpers --------------------------------------------------------------------------------------------


def _processed_segments(
    channel: Channel, process: Callable[[np.ndarray], Processed], unread: Unread
) -> Iterator[tuple[float, float, np.ndarray, Processed]]:
    """(start_s, end_s, stamps_s, ``process(values)``) for each stretch of ``_segments`` that ``process``
    (neurokit2) can take; what it finds at sample i is at ``stamps_s[i]``, the sample's own time, so that a
    sample missing within a stretch (a step under ``GAP_PERIODS``) shifts nothing after it. One it cannot take
    (a flat line from an unplugged sensor or shorted electrodes, a lone spike: neurokit2 fails on these in
    several ways) is no signal: left out, so its windows lose quality, and noted in ``unread`` to be said once
    (EDA is processed twice)."""
    ignore_library_warnings()
    for t0, t1, stamps_s, values in _segments(channel, unread):
        try:
            processed = process(values)  # neurokit2's own lines ignored (ignore_library_warnings, above)
        except Exception as error:  # whatever the library raises, the stretch holds no signal
            flat = values.size and np.ptp(values) == 0  # said as such: the library's own words name its internals
            reason = "flat: one value throughout" if flat else f"{type(error).__name__}: {error}"
            unread.setdefault((channel.name, t0), (t1 - t0, reason))
            continue
        yield t0, t1, stamps_s, processed


def _say_unread(source: str, unread: Unread) -> None:
    """One line a channel for the stretches no processing could read."""
    for name in dict.fromkeys(channel for channel, _ in unread):
        failed = [failure for (channel, _), failure in unread.items() if channel == name]
        log.warning("%s: %s: %d stretch(es), %.0f s in all, could not be read as a signal (%s); windows there lose "
                    "quality", source, name, len(failed), sum(d for d, _ in failed), failed[0][1][:120])


def unusable_samples(values: np.ndarray, rate_hz: float, spikes: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the samples of a waveform that no sensor on a body gives: (in runs of one value lasting
    ``FLAT_RUN_S`` or more, ``SPIKE_SPREADS`` median absolute deviations or more from the median of the rest;
    the second all False unless ``spikes``)."""
    values = np.asarray(values, dtype=float)
    starts = np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))  # NaN != NaN: NaN runs are 1
    lengths = np.diff(np.concatenate([starts, [values.size]]))
    flat = np.repeat((lengths / rate_hz >= FLAT_RUN_S) & np.isfinite(values[starts]), lengths)
    spike = np.zeros(values.size, dtype=bool)
    rest = np.isfinite(values) & ~flat
    if spikes and rest.any():
        median = np.median(values[rest])
        spread = np.median(np.abs(values[rest] - median))
        if spread > 0:
            with np.errstate(over="ignore", invalid="ignore"):
                spike = rest & (np.abs(values - median) >= SPIKE_SPREADS * spread)
    return flat, spike


def _without_unusable(channel: Channel, source: str) -> Channel:
    """The channel with ``unusable_samples`` made missing (so its windows lose quality), said in one line."""
    if channel.rate_hz is None or channel.values.ndim != 1 or not channel.values.size:
        return channel
    # EDA has a range no body leaves (recording's plausible readings); a waveform in arbitrary units has none
    flat, spike = unusable_samples(channel.values, channel.rate_hz, spikes=channel.name in SPIKE_CHANNELS)
    if not (flat.any() or spike.any()):
        return channel
    parts = []
    if flat.any():
        parts.append(f"{flat.sum() / channel.rate_hz:.0f} s holding one value for {FLAT_RUN_S:g} s or more (a sensor "
                     "off the skin or shorted)")
    if spike.any():
        parts.append(f"{int(spike.sum())} sample(s) far outside the signal's range (e.g. "
                     f"{float(channel.values[spike][0]):.3g})")
    log.warning("%s: %s: %s left out as missing; windows there lose quality", source, channel.name,
                " and ".join(parts))
    return Channel(channel.name, channel.unit, channel.times_s, np.where(flat | spike, np.nan, channel.values),
                   channel.rate_hz, channel.gaps)


def _runs(channel: Channel) -> Iterator[np.ndarray]:
    """The indices of each run of samples with no gap between them (a step of more than ``GAP_PERIODS`` sample
    periods: the readers' gap, so that a link's jitter splits nothing) and no missing value (the first column's,
    for the accelerometer)."""
    values = channel.values if channel.values.ndim == 1 else channel.values[:, 0]
    breaks = np.flatnonzero(np.diff(channel.times_s) > GAP_PERIODS / channel.rate_hz) + 1
    for idx in np.split(np.arange(channel.times_s.size), breaks):
        finite = np.isfinite(values[idx])
        edges = np.diff(np.concatenate([[0], finite.astype(np.int8), [0]]))
        for s, e in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
            yield idx[s:e]


def _segments(channel: Channel, unread: Unread) -> Iterator[tuple[float, float, np.ndarray, np.ndarray]]:
    """(start_s, end_s, stamps_s, values) for each run of ``_runs`` long enough to process; the shorter ones are
    noted in ``unread``, so that a signal broken into pieces is said, not lost without a word."""
    period_s = 1.0 / channel.rate_hz
    for run in _runs(channel):
        start_s, end_s = float(channel.times_s[run[0]]), float(channel.times_s[run[-1]] + period_s)
        if run.size * period_s >= SEGMENT_MIN_S:
            yield start_s, end_s, np.asarray(channel.times_s[run], dtype=float), np.asarray(channel.values[run],
                                                                                           dtype=float)
        else:  # a channel shorter than that in all (a session stopped within seconds) has no gap to blame
            whole = run[0] == 0 and run[-1] == channel.times_s.size - 1
            why = f"under {SEGMENT_MIN_S:g} s" + (", the channel's whole length" if whole else " between gaps")
            unread.setdefault((channel.name, start_s), (end_s - start_s, why))


def _valid_stretches(channel: Channel) -> list[tuple[float, float]]:
    if channel.rate_hz is None:
        return [(channel.start_s, channel.end_s)]
    period_s = 1.0 / channel.rate_hz
    return [(float(channel.times_s[run[0]]), float(channel.times_s[run[-1]] + period_s)) for run in _runs(channel)]


def _intervals_within(series: Series, stretches: list[tuple[float, float]]) -> Series:
    """The beat intervals of ``series`` lying inside one of ``stretches``: from the beat before (its stamp less its
    interval) to its own stamp, ends included. A stretch starts where an interval starts (the first beat's, or the
    first clean beat's after a hole), computed as here: a beat stamped at that start is the one before, whose
    interval lies outside; or at a link gap's end, where a beat whose interval began in the gap is left out."""
    inside = np.zeros(series.times_s.size, dtype=bool)
    starts_s = series.times_s - series.values
    for start_s, end_s in stretches:
        inside |= (starts_s >= start_s) & (series.times_s <= end_s)
    return Series(series.times_s[inside], series.values[inside], list(stretches))


def _coverage(valid: list[tuple[float, float]], start_s: float, end_s: float) -> float:
    covered = sum(max(0.0, min(b, end_s) - max(a, start_s)) for a, b in valid)
    return min(1.0, covered / (end_s - start_s))


def _slice(series: Series | None, start_s: float, end_s: float, with_times: bool = False):
    if series is None:
        return None
    lo, hi = np.searchsorted(series.times_s, [start_s, end_s], side="left")
    if with_times:
        return series.times_s[lo:hi], series.values[lo:hi]
    return series.values[lo:hi]


def _successive_differences(beat_times_s: np.ndarray, ibi_s: np.ndarray) -> np.ndarray:
    """Differences between intervals of neighbouring beats only: a dropped artefact beat is not bridged."""
    adjacent = np.abs((beat_times_s[1:] - ibi_s[1:]) - beat_times_s[:-1]) < 1e-3
    return np.diff(ibi_s)[adjacent]


def _stats(sliced: tuple[np.ndarray, np.ndarray] | None) -> tuple[float, float, float, float, float]:
    """(mean, sd, min, max, slope per minute) of the finite samples; NaN when fewer than three."""
    if sliced is None:
        return (math.nan,) * 5
    times_s, values = sliced
    ok = np.isfinite(values)
    if ok.sum() < 3:
        return (math.nan,) * 5
    x = values[ok]
    return float(x.mean()), float(x.std()), float(x.min()), float(x.max()), 60.0 * _slope(times_s[ok], x)


def _slope(times_s: np.ndarray, values: np.ndarray) -> float:
    """Least-squares slope per second over the finite samples; NaN where they span under ``MIN_SLOPE_SPAN_S``."""
    ok = np.isfinite(values)
    if ok.sum() < 2 or np.ptp(times_s[ok]) < MIN_SLOPE_SPAN_S:
        return math.nan
    return float(np.polyfit(times_s[ok] - times_s[ok][0], values[ok], 1)[0])
