"""Voices the audio-arm tests make: a sustained vowel through formant resonators (with tremor and
perturbations at will), a mask calling all of it speech, and samples cut into chunks as a microphone delivers them."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from runtime.arms.audio.vad import VAD_FRAME_S
from runtime.sources.audio import AudioChunk

RATE_HZ = 16000
# /a/-like formants (frequency, bandwidth) in Hz.
FORMANTS_HZ = ((700.0, 80.0), (1220.0, 90.0), (2600.0, 120.0))


def glottal_flow_derivative(phase: np.ndarray) -> np.ndarray:
    """Rosenberg's glottal pulse over one cycle (phase in [0, 1)), differentiated: the voice source."""
    opening, closing = 0.4, 0.56
    closing_flow = np.cos(0.5 * np.pi * (phase - opening) / (closing - opening))
    flow = np.where(phase < opening, 0.5 * (1.0 - np.cos(np.pi * phase / opening)),
                    np.where(phase < closing, closing_flow, 0.0))
    return np.diff(flow, prepend=flow[0])


def vowel(duration_s: float = 3.0, f0_hz: float = 120.0, tremor_hz: float = 6.0, f0_depth: float = 0.0,
          am_depth: float = 0.0, period_jitter: float = 0.0, cycle_shimmer: float = 0.0,
          snr_db: float | None = None, seed: int = 0) -> np.ndarray:
    """A sustained vowel: glottal pulses through formant resonators, with optional tremor and perturbations.

    ``f0_depth``/``am_depth``: relative F0/amplitude modulation at ``tremor_hz``; ``period_jitter``/
    ``cycle_shimmer``: relative standard deviation of random per-cycle period/amplitude changes.
    """
    rng = np.random.default_rng(seed)
    cycle_starts_s = [0.0]
    while cycle_starts_s[-1] < duration_s + 0.05:
        t = cycle_starts_s[-1]
        f_hz = f0_hz * (1.0 + f0_depth * np.sin(2.0 * np.pi * tremor_hz * t))
        cycle_starts_s.append(t + (1.0 + period_jitter * rng.standard_normal()) / f_hz)
    starts_s = np.array(cycle_starts_s)
    t = np.arange(int(round(duration_s * RATE_HZ))) / RATE_HZ
    cycle = np.searchsorted(starts_s, t, side="right") - 1
    phase = (t - starts_s[cycle]) / (starts_s[cycle + 1] - starts_s[cycle])
    cycle_gain = 1.0 + cycle_shimmer * rng.standard_normal(starts_s.size)
    tremor_gain = 1.0 + am_depth * np.sin(2.0 * np.pi * tremor_hz * t)
    x = glottal_flow_derivative(phase) * cycle_gain[cycle] * tremor_gain
    for centre_hz, bandwidth_hz in FORMANTS_HZ:
        radius = np.exp(-np.pi * bandwidth_hz / RATE_HZ)
        angle = 2.0 * np.pi * centre_hz / RATE_HZ
        x = lfilter([1.0 - radius], [1.0, -2.0 * radius * np.cos(angle), radius**2], x)
    x = 0.3 * x / np.max(np.abs(x))
    if snr_db is not None:
        x = x + rng.standard_normal(x.size) * np.sqrt(np.mean(x**2) / 10.0 ** (snr_db / 10.0))
    return x


def all_speech(duration_s: float) -> np.ndarray:
    return np.ones(int(np.ceil(duration_s / VAD_FRAME_S)), dtype=bool)


def chunks_of(samples: np.ndarray, rate: int = 16000, skip: range = range(0)) -> list[AudioChunk]:
    """The samples as a microphone delivers them, 0.1 s at a time, stamped at their place on the session clock;
    those numbered in ``skip`` lost."""
    step = rate // 10
    return [AudioChunk(first / rate, samples[first:first + step], rate) for first in range(0, samples.size, step)
            if first // step not in skip]
