"""Voice measurements per window: pitch, jitter, shimmer, HNR, loudness, voicing, speech rate, pauses, tremor.

Praat (through praat-parselmouth, GPLv3) analyses the whole recording once — pitch, glottal pulses and
intensity — and each window then only reads its stretch of those contours, so a 5-minute session costs a
couple of seconds in all. Praat's own definitions are kept where clinicians know them (jitter, shimmer,
HNR); docs/voice-quality.md defines every measurement.

All contours share one 10 ms frame grid (the pitch analysis' frames). A frame "counts as speech" when the
VAD mask (``runtime.arms.audio.vad.speech_frames``, 32 ms frames) says so, or, with no mask, when it is not
digital silence. A measurement that the window holds no evidence for is NaN.
"""

from __future__ import annotations

import math

import numpy as np
import parselmouth
from parselmouth.praat import call
from scipy.signal import find_peaks

from runtime.arms.audio.vad import VAD_FRAME_S
from runtime.errors import InputError

VOICE_MEASUREMENTS: tuple[str, ...] = ("f0_median_hz", "f0_variability_st", "jitter_local", "shimmer_local",
                                       "hnr_db", "loudness_db", "voiced_ratio", "speech_rate_hz", "pause_s",
                                       "tremor_index")

FRAME_STEP_S = 0.01
# Praat's standard pitch range for speech; 600 Hz keeps high-arousal female and child voices.
PITCH_FLOOR_HZ = 75.0
PITCH_CEILING_HZ = 600.0
# Praat's standard jitter and shimmer arguments: shortest/longest period, largest period/amplitude factor.
PERIOD_FLOOR_S = 0.0001
PERIOD_CEILING_S = 0.02
MAX_PERIOD_FACTOR = 1.3
MAX_AMPLITUDE_FACTOR = 1.6
# Intensity is Praat's dB re 2e-5 "Pa" with samples read as Pa; this offset turns it into dBFS.
PRAAT_DB_TO_DBFS = 20.0 * math.log10(2e-5)
# Without a speech mask, frames quieter than this (below one 16-bit step) are digital silence, not speech.
SILENCE_DBFS = -90.0
# Syllable nuclei as de Jong & Wempe (2009): intensity peaks at least 2 dB above the dips around them,
# no lower than 25 dB under the recording's 99th-percentile intensity, at voiced frames.
NUCLEUS_MIN_DIP_DB = 2.0
NUCLEUS_BELOW_TOP_DB = 25.0
MIN_VOICED_FRAMES = 5
MIN_RATE_SPEECH_S = 0.25
# Tremor: how far F0 (semitones) and loudness (dB) swing about their own 0.2 s running mean within voiced runs
# of at least 0.25 s. The running mean follows intonation and syllables' slower moves and misses a 4-8 Hz swing
# (a 4 Hz cycle is 0.25 s); the median absolute swing ignores the pitch tracker's odd jumps at run edges. Each
# contour's swing m scores m**2 / (m**2 + floor**2); the floors, the smoother and F0's weight were chosen on
# RAVDESS actors 01-10 with synthetic tremor added (benchmarks/voice_tremor.py). F0 weighs twice loudness:
# syllables swing loudness by about 1.7 dB in these terms, F0 by about 0.3 semitone.
MIN_TREMOR_RUN_S = 0.25
MIN_TREMOR_VOICED_S = 0.5
TREMOR_SMOOTHER_S = 0.2
F0_TREMOR_FLOOR_ST = 0.45
LOUDNESS_TREMOR_FLOOR_DB = 2.5
F0_TREMOR_WEIGHT = 2.0 / 3.0


class VoiceAnalysis:
    """Voice measurements of one mono recording, computed once and read per window.

    ``speech``: optional per-frame booleans from ``runtime.arms.audio.vad.speech_frames`` (frame ``i``
    covers ``i * VAD_FRAME_S`` to ``(i + 1) * VAD_FRAME_S`` seconds of ``samples``).
    """

    def __init__(self, samples: np.ndarray, sample_rate_hz: int, speech: np.ndarray | None = None):
        samples = np.asarray(samples)
        if samples.ndim != 1:
            raise InputError("audio samples", f"must be one channel (1-D), got shape {samples.shape}")
        if sample_rate_hz < 2 * PITCH_CEILING_HZ:
            raise InputError("audio samples", f"sample rate {sample_rate_hz} Hz is too low to measure voice")
        if not np.all(np.isfinite(samples)):
            raise InputError("audio samples", "hold NaN or infinite values")
        self._mask = None if speech is None else np.asarray(speech, dtype=bool).reshape(-1)
        self._nuclei_s = np.zeros(0)
        # Praat keeps its own copy: the float64 one made for it is not held (8 MB per minute of recording)
        self._sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=float(sample_rate_hz))
        try:
            pitch = self._sound.to_pitch_ac(time_step=FRAME_STEP_S, pitch_floor=PITCH_FLOOR_HZ,
                                            pitch_ceiling=PITCH_CEILING_HZ)
            intensity = self._sound.to_intensity(minimum_pitch=PITCH_FLOOR_HZ, time_step=FRAME_STEP_S)
        except parselmouth.PraatError:
            # Shorter than Praat's analysis window: nothing in it is measurable.
            self._times_s = np.zeros(0)
            self._pulses = None
            return
        self._pulses = call([self._sound, pitch], "To PointProcess (cc)")
        if self._mask is not None:
            # Jitter and shimmer describe the speaker: drop pulses of voiced sound outside the speech mask.
            # A removed stretch leaves a period longer than PERIOD_CEILING_S, which Praat then skips.
            for gap_start_s, gap_end_s in false_runs_s(self._mask, VAD_FRAME_S, self._sound.xmax):
                call(self._pulses, "Remove points between", gap_start_s, gap_end_s)
        self._times_s = pitch.xs()
        frames = pitch.selected_array
        self._f0_hz = frames["frequency"]
        self._hnr_db = hnr_db_from_strength(frames["strength"])
        intensity_db = np.interp(self._times_s, intensity.xs(), intensity.values[0])
        self._intensity_dbfs = intensity_db + PRAAT_DB_TO_DBFS
        if self._mask is None:
            self._speech = self._intensity_dbfs > SILENCE_DBFS
        else:
            self._speech = mask_at(self._mask, VAD_FRAME_S, self._times_s)
        self._voiced = (self._f0_hz > 0) & self._speech
        self._nuclei_s = self._times_s[syllable_nuclei(self._intensity_dbfs, self._voiced)]

    def window(self, start_s: float, end_s: float) -> dict[str, float]:
        """The measurements of the stretch from ``start_s`` to ``end_s`` (NaN where not measurable)."""
        out = dict.fromkeys(VOICE_MEASUREMENTS, math.nan)
        if self._mask is not None:
            out["pause_s"] = (end_s - start_s) - mask_seconds(self._mask, VAD_FRAME_S, start_s, end_s)
        first, last = np.searchsorted(self._times_s, [start_s, end_s])
        if last <= first:
            return out
        speech = self._speech[first:last]
        voiced = self._voiced[first:last]
        n_speech, n_voiced = int(speech.sum()), int(voiced.sum())
        if n_speech:
            out["voiced_ratio"] = n_voiced / n_speech
            out["loudness_db"] = power_mean_db(self._intensity_dbfs[first:last][speech])
        speech_s = n_speech * FRAME_STEP_S
        if speech_s >= MIN_RATE_SPEECH_S:
            n_nuclei = np.count_nonzero((self._nuclei_s >= start_s) & (self._nuclei_s < end_s))
            out["speech_rate_hz"] = float(n_nuclei / speech_s)
        if n_voiced < MIN_VOICED_FRAMES:
            return out
        f0_st = semitones(self._f0_hz[first:last][voiced])
        out["f0_median_hz"] = float(np.median(self._f0_hz[first:last][voiced]))
        out["f0_variability_st"] = float(np.std(f0_st))
        out["hnr_db"] = float(np.mean(self._hnr_db[first:last][voiced]))
        out["jitter_local"] = _finite(call(self._pulses, "Get jitter (local)", start_s, end_s,
                                           PERIOD_FLOOR_S, PERIOD_CEILING_S, MAX_PERIOD_FACTOR))
        out["shimmer_local"] = _finite(call([self._sound, self._pulses], "Get shimmer (local)", start_s,
                                            end_s, PERIOD_FLOOR_S, PERIOD_CEILING_S, MAX_PERIOD_FACTOR,
                                            MAX_AMPLITUDE_FACTOR))
        out["tremor_index"] = tremor_index(semitones(self._f0_hz[first:last]), self._intensity_dbfs[first:last],
                                           voiced)
        return out


def semitones(f0_hz: np.ndarray) -> np.ndarray:
    """F0 in semitones re 1 Hz (0 Hz, unvoiced, maps to NaN)."""
    f0_hz = np.asarray(f0_hz, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(f0_hz > 0, 12.0 * np.log2(f0_hz), np.nan)


def hnr_db_from_strength(strength: np.ndarray) -> np.ndarray:
    """Harmonics-to-noise ratio from Praat's normalised autocorrelation peak r: 10 log10(r / (1 - r)).

    This is how Praat's Harmonicity objects turn the same autocorrelation into dB (Boersma 1993), clipped
    as Praat clips it.
    """
    r = np.clip(np.asarray(strength, dtype=np.float64), 1e-15, 1.0 - 1e-15)
    return 10.0 * np.log10(r / (1.0 - r))


def power_mean_db(levels_db: np.ndarray) -> float:
    """The level of the mean power of frames given in dB (NaN for none, or for digital silence)."""
    if levels_db.size == 0:
        return math.nan
    level = 10.0 * math.log10(float(np.mean(10.0 ** (levels_db / 10.0))) + 1e-300)
    return level if level > SILENCE_DBFS else math.nan


def mask_at(mask: np.ndarray, frame_s: float, times_s: np.ndarray) -> np.ndarray:
    """The mask's value at each time (frame ``i`` covers ``[i, i + 1) * frame_s``; beyond its end: False)."""
    index = np.floor(np.asarray(times_s) / frame_s).astype(np.int64)
    inside = (index >= 0) & (index < mask.size)
    out = np.zeros(index.size, dtype=bool)
    out[inside] = mask[index[inside]]
    return out


def mask_seconds(mask: np.ndarray, frame_s: float, start_s: float, end_s: float) -> float:
    """Seconds of True in the mask between ``start_s`` and ``end_s``, partial frames counted in part."""
    if end_s <= start_s or mask.size == 0:
        return 0.0
    first = max(0, int(np.floor(start_s / frame_s)))
    last = min(mask.size, int(np.ceil(end_s / frame_s)))
    if last <= first:
        return 0.0
    edges_s = np.arange(first, last + 1) * frame_s
    overlap_s = np.clip(np.minimum(edges_s[1:], end_s) - np.maximum(edges_s[:-1], start_s), 0.0, None)
    return float(np.sum(overlap_s[mask[first:last]]))


def false_runs_s(mask: np.ndarray, frame_s: float, end_s: float) -> list[tuple[float, float]]:
    """``(start_s, stop_s)`` of each False stretch of a frame mask, up to ``end_s`` (past the mask: False)."""
    padded = np.r_[True, mask.astype(bool), False]
    starts = np.flatnonzero(padded[:-1] & ~padded[1:])
    stops = np.flatnonzero(~padded[:-1] & padded[1:])
    stops = np.r_[stops, padded.size - 1]
    runs = [(a * frame_s, min(b * frame_s, end_s)) for a, b in zip(starts, stops, strict=True)]
    runs[-1] = (runs[-1][0], end_s)
    return [(float(a), float(b)) for a, b in runs if b > a]


def syllable_nuclei(intensity_db: np.ndarray, voiced: np.ndarray) -> np.ndarray:
    """Frame indices of syllable nuclei: voiced intensity peaks standing out from the dips around them."""
    audible = intensity_db[voiced]
    if audible.size == 0:
        return np.zeros(0, dtype=np.int64)
    threshold_db = float(np.percentile(audible, 99)) - NUCLEUS_BELOW_TOP_DB
    peaks, _ = find_peaks(intensity_db, height=threshold_db, prominence=NUCLEUS_MIN_DIP_DB)
    return peaks[voiced[peaks]]


def tremor_index(f0_st: np.ndarray, loudness_db: np.ndarray, voiced: np.ndarray) -> float:
    """Vocal-tremor index in [0, 1): F0's and loudness' tremor scores, F0 weighted ``F0_TREMOR_WEIGHT``."""
    runs = voiced_runs(voiced, int(round(MIN_TREMOR_RUN_S / FRAME_STEP_S)))
    if sum(stop - start for start, stop in runs) * FRAME_STEP_S < MIN_TREMOR_VOICED_S:
        return math.nan
    smoother_frames = int(round(TREMOR_SMOOTHER_S / FRAME_STEP_S))
    f0_score = tremor_score(tremor_swing(f0_st, runs, smoother_frames), F0_TREMOR_FLOOR_ST)
    loudness_score = tremor_score(tremor_swing(loudness_db, runs, smoother_frames), LOUDNESS_TREMOR_FLOOR_DB)
    return F0_TREMOR_WEIGHT * f0_score + (1.0 - F0_TREMOR_WEIGHT) * loudness_score


def voiced_runs(voiced: np.ndarray, min_frames: int) -> list[tuple[int, int]]:
    """``(start, stop)`` index pairs of the runs of True at least ``min_frames`` long."""
    edges = np.flatnonzero(np.diff(np.r_[0, voiced.astype(np.int8), 0]))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True) if b - a >= min_frames]


def running_mean(values: np.ndarray, frames: int) -> np.ndarray:
    """Centred mean over ``frames`` frames; near the ends, over the frames that exist."""
    kernel = np.ones(frames)
    return np.convolve(values, kernel, "same") / np.convolve(np.ones(values.size), kernel, "same")


def tremor_swing(contour: np.ndarray, runs: list[tuple[int, int]], smoother_frames: int) -> float:
    """Median absolute departure of a contour from its running mean, over the given runs (contour units).

    Each run is smoothed on its own, so a gap between runs never reads as a swing.
    """
    departures = [contour[a:b] - running_mean(contour[a:b], smoother_frames) for a, b in runs]
    return float(np.median(np.abs(np.concatenate(departures))))


def tremor_score(swing: float, floor: float) -> float:
    """``swing**2 / (swing**2 + floor**2)``: near 0 well under the floor, 0.5 at it, towards 1 above."""
    return swing**2 / (swing**2 + floor**2) if swing > 0.0 else 0.0


def _finite(value: float) -> float:
    return float(value) if value is not None and math.isfinite(value) else math.nan
