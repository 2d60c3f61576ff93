"""Voice features for the emotion model: frame descriptors once per recording, functionals per window.

The same functions run on the training host and on the device, so a feature means the same on both.
Frames are 25 ms long every 10 ms. Descriptors per frame: log-mel bands, MFCCs and their deltas, log
energy, spectral shape (centroid, bandwidth, roll-off, flatness, flux), zero-crossing rate, and F0 (in
semitones) with Praat's voicing strength. A window's feature vector summarises its frames with
functionals (mean, spread, percentiles, slope); F0 functionals use the voiced frames only.

Licences: librosa (ISC), numpy/scipy (BSD); F0 comes from Praat through praat-parselmouth (GPLv3).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import librosa
import numpy as np
import parselmouth

# Bump whenever a descriptor, a functional or a parameter below changes: model cards store it.
FEATURE_SET = "emotrace-voice-functionals-2"

DESCRIPTOR_FRAME_S = 0.025
DESCRIPTOR_HOP_S = 0.010
N_MELS = 40
N_MFCC = 13
F0_FLOOR_HZ = 60.0
F0_CEILING_HZ = 600.0
VOICING_THRESHOLD = 0.45  # Praat's default voicing threshold
# Praat's silence threshold is relative to the loudest sample of the whole recording; its default (0.03)
# turns quiet speech unvoiced in a session that also holds a loud moment.
SILENCE_THRESHOLD = 0.005
_EPS = 1e-10
TOP_DB = 80.0  # librosa.power_to_db's floor below the loudest band, for spectral flux
BLOCK_S = 60.0  # a long recording is described a minute at a time (memory), with context either side:
MARGIN_S = 5.0  # STFT, deltas and Praat's pitch path settle well within it
# Functionals are taken over the frames within this many dB of the window's loudest frame: a window that
# overlaps silence would otherwise average the silence in. Chosen by leave-actors-out CV on RAVDESS 01-20
# (clip UA 0.634 ungated, 0.661 at 30 dB, 0.656 at 40 dB, 0.624 at 20 dB with logistic regression).
GATE_DB = 30.0
_MIN_GATED_FRAMES = 5
STD_FLOOR = 1e-3

# Descriptors summarised with a short set of functionals (many, highly correlated bands).
MEL_NAMES = [f"logmel{i:02d}" for i in range(N_MELS)]
# Descriptors summarised with the full set of functionals.
CORE_NAMES = (
    [f"mfcc{i:02d}" for i in range(N_MFCC)]
    + [f"dmfcc{i:02d}" for i in range(N_MFCC)]
    + ["log_energy", "d_log_energy", "centroid_hz", "bandwidth_hz", "rolloff_hz", "flatness_db", "flux",
       "zcr"]
)
PITCH_NAMES = ["f0_st", "voicing"]
DESCRIPTOR_NAMES = MEL_NAMES + CORE_NAMES + PITCH_NAMES

MEL_FUNCTIONALS = ("mean", "std", "p10", "p90", "d_abs_mean")
CORE_FUNCTIONALS = ("mean", "std", "p10", "p50", "p90", "range", "slope")
F0_FUNCTIONALS = ("mean", "std", "p10", "p50", "p90", "range", "slope", "d_abs_mean")


@dataclass
class FrameDescriptors:
    """Per-frame descriptors of one recording: ``values[i]`` describes the frame centred at ``times_s[i]``."""

    times_s: np.ndarray  # (n_frames,)
    values: np.ndarray  # (n_frames, n_lld) float32
    names: list[str]


def frame_descriptors(samples: np.ndarray, sample_rate_hz: int) -> FrameDescriptors:
    """Descriptors for every 10 ms frame of a mono recording (float samples in [-1, 1]).

    A long recording is described a block at a time (``BLOCK_S``, each with ``MARGIN_S`` of context either
    side), so memory does not grow with the session beyond the descriptors themselves: described whole, a
    10-minute recording took about 1 GB. A recording of up to ``BLOCK_S + MARGIN_S`` is described whole.
    """
    y = np.ascontiguousarray(np.asarray(samples, dtype=np.float32).reshape(-1))
    if y.size < 2:
        y = np.zeros(2, dtype=np.float32)
    hop_length = int(round(DESCRIPTOR_HOP_S * sample_rate_hz))
    n_frames = 1 + y.size // hop_length  # as a centred STFT frames it
    block_frames = int(round(BLOCK_S / DESCRIPTOR_HOP_S))
    if y.size <= (BLOCK_S + MARGIN_S) * sample_rate_hz:  # a clip, or a short recording: described whole
        block_frames = n_frames
    margin_samples = int(round(MARGIN_S / DESCRIPTOR_HOP_S)) * hop_length
    # Praat's silence threshold is relative to the loudest sample of the whole recording, not of a block
    peak = _praat_peak(y)
    # blocks read Praat's pitch at the whole recording's frames (None: the recording is one block)
    pitch_grid_s = None if block_frames == n_frames else _praat_first_frame_s(y.size, sample_rate_hz)
    values = np.empty((n_frames, len(DESCRIPTOR_NAMES)), dtype=np.float32)
    mel_db = np.empty((N_MELS, n_frames), dtype=np.float32)
    flux = DESCRIPTOR_NAMES.index("flux")
    for first in range(0, n_frames, block_frames):
        last = min(first + block_frames, n_frames)
        start = max(0, first * hop_length - margin_samples)
        stop = min(y.size, last * hop_length + margin_samples)
        block = _block_descriptors(y, start, stop, sample_rate_hz, peak, pitch_grid_s)
        offset = (first * hop_length - start) // hop_length
        values[first:last] = block.values[offset:offset + last - first]
        mel_db[:, first:last] = block.mel_db[:, offset:offset + last - first]
    # spectral flux compares each frame with the one before on a dB scale floored TOP_DB below the recording's
    # loudest band, as librosa.power_to_db floors a whole spectrogram
    np.maximum(mel_db, mel_db.max() - TOP_DB, out=mel_db)
    for first in range(0, n_frames, block_frames):
        last = min(first + block_frames, n_frames)
        before = min(first, 1)  # the frame before the block, for the first frame's difference
        onset = librosa.onset.onset_strength(S=mel_db[:, first - before:last], sr=sample_rate_hz,
                                             hop_length=hop_length, center=False)
        values[first:last, flux] = onset[before:]
    times_s = np.arange(n_frames) * (hop_length / sample_rate_hz)
    return FrameDescriptors(times_s=times_s, values=values, names=list(DESCRIPTOR_NAMES))


def _pitch_span(start: int, stop: int, n_samples: int, sample_rate_hz: int, grid_s: float) -> tuple[int, int]:
    """The stretch around ``start:stop`` whose Praat pitch frames fall nearest the recording's (first at
    ``grid_s``), widened by under two hops. Praat centres its frames on the sound, so where they fall depends on
    the sound's length; a whole recording a whole number of hops long sits on a rounding tie that a block of
    another length can only come within 1/32 ms of."""
    hop = int(round(DESCRIPTOR_HOP_S * sample_rate_hz))

    def misalignment_s(first: int, last: int) -> float:
        off = (first / sample_rate_hz + _praat_first_frame_s(last - first, sample_rate_hz) - grid_s) % DESCRIPTOR_HOP_S
        return min(off, DESCRIPTOR_HOP_S - off)

    spans = [(start - widen, stop) for widen in range(2 * hop) if start - widen >= 0]
    spans += [(start, stop + widen) for widen in range(2 * hop) if stop + widen <= n_samples]
    return min(spans, key=lambda span: misalignment_s(*span))


def _praat_first_frame_s(n_samples: int, sample_rate_hz: int) -> float:
    """Time of the first pitch frame Praat's ``to_pitch_ac`` gives a sound of ``n_samples`` starting at 0, in
    Praat's own double arithmetic (Sampled_shortTermAnalysis; window 3 periods of ``F0_FLOOR_HZ``)."""
    dx = 1.0 / sample_rate_hz
    duration = dx * n_samples
    window_s = 3.0 / F0_FLOOR_HZ
    n_frames = math.floor((duration - window_s) / DESCRIPTOR_HOP_S) + 1
    return 0.5 * duration - 0.5 * (n_frames * DESCRIPTOR_HOP_S) + 0.5 * DESCRIPTOR_HOP_S


@dataclass
class _Block:
    values: np.ndarray  # (n_frames, n_lld) float32; the flux column is filled in by frame_descriptors
    mel_db: np.ndarray  # (N_MELS, n_frames) float32 mel power in dB, not yet floored


def _block_descriptors(recording: np.ndarray, start: int, stop: int, sample_rate_hz: int, recording_peak: float,
                       pitch_grid_s: float | None) -> _Block:
    """Descriptors of every frame of ``recording[start:stop]`` (``start`` on the hop grid), for a recording whose
    loudest sample is ``recording_peak`` and whose first Praat pitch frame is at ``pitch_grid_s`` (None: the
    stretch is the whole recording)."""
    y = recording[start:stop]
    frame_length = int(round(DESCRIPTOR_FRAME_S * sample_rate_hz))
    hop_length = int(round(DESCRIPTOR_HOP_S * sample_rate_hz))
    n_fft = int(2 ** np.ceil(np.log2(frame_length)))

    magnitude = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length, win_length=frame_length,
                                    center=True))
    power = magnitude**2
    n_frames = magnitude.shape[1]
    mel = librosa.feature.melspectrogram(S=power, sr=sample_rate_hz, n_mels=N_MELS,
                                         fmax=min(8000.0, sample_rate_hz / 2))
    log_mel = np.log(mel + _EPS)
    mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=N_MFCC)
    width = min(9, n_frames if n_frames % 2 else n_frames - 1)
    d_mfcc = librosa.feature.delta(mfcc, width=width) if width >= 3 else np.zeros_like(mfcc)
    log_energy = np.log(power.sum(axis=0) / n_fft + _EPS)[None, :]
    d_log_energy = librosa.feature.delta(log_energy, width=width) if width >= 3 else np.zeros_like(log_energy)
    centroid = librosa.feature.spectral_centroid(S=magnitude, sr=sample_rate_hz, n_fft=n_fft)
    bandwidth = librosa.feature.spectral_bandwidth(S=magnitude, sr=sample_rate_hz, n_fft=n_fft)
    rolloff = librosa.feature.spectral_rolloff(S=magnitude, sr=sample_rate_hz, n_fft=n_fft, roll_percent=0.85)
    flatness_db = 10 * np.log10(librosa.feature.spectral_flatness(S=magnitude) + _EPS)
    zcr = librosa.feature.zero_crossing_rate(y, frame_length=frame_length, hop_length=hop_length,
                                             center=True)[:, :n_frames]
    # the frames' times on the recording's clock, computed as frame_descriptors computes them
    times_s = (start // hop_length + np.arange(n_frames)) * (hop_length / sample_rate_hz)
    first, last = (start, stop) if pitch_grid_s is None else _pitch_span(start, stop, recording.size,
                                                                        sample_rate_hz, pitch_grid_s)
    sound = recording[first:last]
    sound_peak = _praat_peak(sound)
    silence_threshold = SILENCE_THRESHOLD * recording_peak / sound_peak if sound_peak > 0 else SILENCE_THRESHOLD
    f0_st, voicing = _pitch(sound, sample_rate_hz, times_s, silence_threshold, first / sample_rate_hz,
                            pitch_grid_s)

    no_flux = np.zeros((1, n_frames))
    values = np.vstack([log_mel, mfcc, d_mfcc, log_energy, d_log_energy, centroid, bandwidth, rolloff,
                        flatness_db, no_flux, _fit(zcr, n_frames), f0_st[None], voicing[None]]).T
    values = np.nan_to_num(values.astype(np.float32), nan=np.nan, posinf=0.0, neginf=0.0)
    return _Block(values=values, mel_db=librosa.power_to_db(mel, top_db=None).astype(np.float32))


def _praat_peak(y: np.ndarray) -> float:
    """The loudest sample as Praat's pitch analysis measures it (about the sound's mean), without a copy."""
    mean = float(np.mean(y, dtype=np.float64))
    return max(float(y.max()) - mean, mean - float(y.min()))


def _fit(row: np.ndarray, n_frames: int) -> np.ndarray:
    """A (1, n) descriptor padded with its last value or cut to ``n_frames`` columns."""
    if row.shape[1] >= n_frames:
        return row[:, :n_frames]
    return np.pad(row, ((0, 0), (0, n_frames - row.shape[1])), mode="edge")


def _pitch(y: np.ndarray, sample_rate_hz: int, times_s: np.ndarray, silence_threshold: float = SILENCE_THRESHOLD,
           start_s: float = 0.0, grid_s: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """F0 in semitones re 55 Hz (NaN where unvoiced) and voicing strength at ``times_s``, for a sound that
    starts at ``start_s`` in a recording whose first pitch frame is at ``grid_s`` (None: this sound's own).

    Each time takes the nearest frame, counted on the recording's grid: a time halfway between two frames (the
    grid of a recording a whole number of hops long) then takes the same one in a block as in the whole."""
    sound = parselmouth.Sound(y.astype(np.float64), sampling_frequency=float(sample_rate_hz))
    try:
        pitch = sound.to_pitch_ac(time_step=DESCRIPTOR_HOP_S, pitch_floor=F0_FLOOR_HZ, pitch_ceiling=F0_CEILING_HZ,
                                  voicing_threshold=VOICING_THRESHOLD,
                                  silence_threshold=silence_threshold)
    except parselmouth.PraatError:  # too short for one pitch frame
        return np.full(times_s.size, np.nan), np.zeros(times_s.size)
    frames = pitch.selected_array
    if frames.size == 0:
        return np.full(times_s.size, np.nan), np.zeros(times_s.size)
    grid_s = pitch.x1 if grid_s is None else grid_s
    first_frame = int(round((start_s + pitch.x1 - grid_s) / pitch.dx))  # this sound's first frame on that grid
    index = np.clip(np.round((times_s - grid_s) / pitch.dx).astype(int) - first_frame, 0, frames.size - 1)
    hz = frames["frequency"][index]
    strength = frames["strength"][index]
    with np.errstate(divide="ignore", invalid="ignore"):
        f0_st = np.where(hz > 0, 12 * np.log2(hz / 55.0), np.nan)
    return f0_st, np.where(hz > 0, strength, 0.0)


def feature_names() -> list[str]:
    """Names of the window feature vector's entries, in order."""
    names = [f"{d}_{f}" for d in MEL_NAMES for f in MEL_FUNCTIONALS]
    names += [f"{d}_{f}" for d in CORE_NAMES for f in CORE_FUNCTIONALS]
    names += [f"f0_st_{f}" for f in F0_FUNCTIONALS]
    names += ["voiced_ratio", "voicing_mean", "log_energy_voiced_mean"]
    return names


def window_features(descriptors: FrameDescriptors, start_s: float, end_s: float) -> np.ndarray:
    """Functionals of the frames centred in [start_s, end_s): a finite float32 vector of ``feature_names()``.

    A window with no frames (beyond the recording) gets the recording's last frame.
    """
    times = descriptors.times_s
    first, last = np.searchsorted(times, [start_s, end_s])
    if last <= first:
        first = min(first, times.size - 1)
        last = first + 1
    frames = descriptors.values[first:last].astype(np.float64)
    frame_times_s = times[first:last]
    n_mel, n_core = len(MEL_NAMES), len(CORE_NAMES)
    energy_all = frames[:, n_mel + CORE_NAMES.index("log_energy")]
    loud = energy_all >= energy_all.max() - GATE_DB / 10 * np.log(10)  # log_energy is a natural log of power
    if loud.sum() >= _MIN_GATED_FRAMES:
        frames, frame_times_s = frames[loud], frame_times_s[loud]
    mel = frames[:, :n_mel]
    core = frames[:, n_mel:n_mel + n_core]
    f0 = frames[:, n_mel + n_core]
    voicing = frames[:, n_mel + n_core + 1]

    mel_p10, mel_p90 = np.percentile(mel, [10, 90], axis=0)
    mel_d = np.abs(np.diff(mel, axis=0)).mean(axis=0) if len(mel) > 1 else np.zeros(n_mel)
    parts = [np.column_stack([mel.mean(axis=0), mel.std(axis=0), mel_p10, mel_p90, mel_d]).reshape(-1)]
    parts.append(_functionals(core, frame_times_s).reshape(-1))
    voiced = np.isfinite(f0)
    if voiced.sum() >= 2:
        f0_voiced = f0[voiced]
        f0_part = _functionals(f0_voiced[:, None], frame_times_s[voiced])[0]
        f0_part = np.r_[f0_part, np.abs(np.diff(f0_voiced)).mean()]
    else:  # no pitch here: the recording's typical pitch, no movement, so z-scores stay sane
        f0_part = np.r_[np.full(5, _recording_f0_median(descriptors)), np.zeros(3)]
    parts.append(f0_part)
    energy = core[:, CORE_NAMES.index("log_energy")]
    energy_voiced = energy[voiced].mean() if voiced.any() else energy.mean()
    parts.append(np.array([voiced.mean(), voicing.mean(), energy_voiced]))
    out = np.concatenate(parts).astype(np.float32)
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


def _functionals(values: np.ndarray, times_s: np.ndarray) -> np.ndarray:
    """(n_descriptors, len(CORE_FUNCTIONALS)): mean, std, p10, p50, p90, p90-p10, slope per second."""
    p10, p50, p90 = np.percentile(values, [10, 50, 90], axis=0)
    centred_t = times_s - times_s.mean()
    denominator = float((centred_t**2).sum())
    slope = (centred_t @ (values - values.mean(axis=0))) / denominator if denominator > 0 else 0 * p50
    return np.column_stack([values.mean(axis=0), values.std(axis=0), p10, p50, p90, p90 - p10, slope])


def _recording_f0_median(descriptors: FrameDescriptors) -> float:
    f0 = descriptors.values[:, DESCRIPTOR_NAMES.index("f0_st")]
    f0 = f0[np.isfinite(f0)]
    return float(np.median(f0)) if f0.size else 0.0


def zscore_by_group(features: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each group's rows z-scored by that group's own mean and standard deviation (floored, so no /0).

    Training passes the speaker as the group; the device passes one group, the session.
    """
    features = np.asarray(features, dtype=np.float64)
    groups = np.asarray(groups)
    if features.ndim != 2 or groups.shape != (features.shape[0],):
        raise ValueError("features must be (n, d) and groups (n,)")
    out = np.empty_like(features)
    for group in np.unique(groups):
        rows = groups == group
        out[rows] = zscore_against(features[rows], features[rows])
    return out.astype(np.float32)


def zscore_against(features: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``features`` z-scored by the mean and standard deviation (floored) of the ``reference`` rows."""
    reference = np.asarray(reference, dtype=np.float64)
    return (np.asarray(features, dtype=np.float64) - reference.mean(axis=0)) / np.maximum(reference.std(axis=0),
                                                                                          STD_FLOOR)


def clip_probabilities(window_probs: np.ndarray) -> np.ndarray:
    """A clip's probabilities: the mean of its windows' probability rows, renormalised to sum to 1."""
    window_probs = np.asarray(window_probs, dtype=np.float64)
    if window_probs.ndim != 2 or window_probs.shape[0] == 0:
        raise ValueError("window_probs must be (n_windows >= 1, n_labels)")
    mean = window_probs.mean(axis=0)
    return (mean / mean.sum()).astype(np.float32)


class RunningBaseline:
    """The session baseline over the last ``max_rows`` windows, at a constant cost per window.

    ``push`` returns the newest row z-scored exactly as ``zscore_by_group`` would over the rows kept (population
    std, floored at ``STD_FLOOR``) without rereading them: in the live stream, re-z-scoring two hours of windows
    cost about 0.14 s a window against a 0.5 s hop. Welford's running mean and sum of squared deviations, in
    float64, with the row that drops out removed the same way: sums of raw values and squares would cancel
    catastrophically for a feature with a large offset and a small spread.
    """

    def __init__(self, max_rows: int):
        if max_rows < 1:
            raise ValueError("max_rows must be at least 1")
        self.max_rows = max_rows
        self._rows: deque[np.ndarray] = deque()  # kept only to subtract each row when it drops out
        self._mean = np.zeros(0)
        self._m2 = np.zeros(0)  # sum of squared deviations from the mean

    def __len__(self) -> int:
        return len(self._rows)

    def push(self, row: np.ndarray) -> np.ndarray:
        """Add one window's features (dropping the oldest beyond ``max_rows``); that row z-scored, float32."""
        kept = np.array(row).reshape(-1)  # a copy, as given (float32 from the stream: half the memory of float64)
        if not np.all(np.isfinite(kept)):  # it would stay in the running mean for good
            raise ValueError("a window's features must be finite")
        self._rows.append(kept)
        row = kept.astype(np.float64)
        n = len(self._rows)
        if n == 1:
            self._mean, self._m2 = row.copy(), np.zeros_like(row)
        else:
            delta = row - self._mean
            self._mean += delta / n
            self._m2 += delta * (row - self._mean)
        if n > self.max_rows:  # added first, so at least one row remains to divide by
            old = self._rows.popleft().astype(np.float64)
            n -= 1
            delta = old - self._mean
            self._mean -= delta / n
            self._m2 -= delta * (old - self._mean)
            np.maximum(self._m2, 0.0, out=self._m2)  # rounding must not leave a negative variance
        std = np.maximum(np.sqrt(self._m2 / n), STD_FLOOR)
        return ((row - self._mean) / std).astype(np.float32)
