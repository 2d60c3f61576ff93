"""Whether the speech itself is telephone-band, whatever rate its file was recorded at.

A telephone line carries nothing above 4 kHz; a call recorded into a 16, 44.1 or 48 kHz file (a participant who
joined a video call by phone, a call re-encoded into an MP4) keeps that gap although its rate says nothing of it.
The speech frames' power above the line's edge is compared with the band every line carries (0.3-3.4 kHz).
"""

from __future__ import annotations

import numpy as np
from scipy.fft import rfft, rfftfreq

from runtime.arms.audio.vad import FRAME_SAMPLES, VAD_FRAME_S, frame_blocks

TELEPHONE_BAND_HZ = (300.0, 3400.0)
# From 4.5 kHz, not 4: a line's filters (and a resampler's from 8 kHz) roll off over the few hundred Hz above
# 4 kHz, where telephone-band speech keeps some power (with the edge at 4 kHz, band-limited and wideband RAVDESS
# clips overlapped); under 16 kHz's Nyquist.
HIGH_BAND_HZ = (4500.0, 7800.0)
# The high band's power in dB of the telephone band's, under which speech is called narrowband. On RAVDESS
# (benchmarks/audio_narrowband.py): no clip as recorded under -32 dB, none resampled through 8 kHz over -46 dB,
# none low-passed at 3.4 kHz over -40 dB.
NARROWBAND_HIGH_BAND_DB = -36.0
MIN_SPEECH_S = 0.5  # less speech than this says too little of the voice's spectrum to judge its band
BAND_MEASUREMENT = "speech_high_band_db"  # a voice window's measurement: its speech's high band, in dB
# A window's band is measured from this much of its speech: less of it misreads wideband speech far more often.
# With it, 11 of 4,203 RAVDESS windows as recorded read as telephone-band (benchmarks/audio_narrowband.py).
MIN_WINDOW_SPEECH_S = 1.0
# The share of judged windows with telephone-band speech from which a recording wideband as a whole is said to
# hold some: a few windows read so by chance.
NARROWBAND_WINDOW_SHARE = 0.1
_BLOCK_FRAMES = 2048  # frames transformed at a time: a whole recording's spectra at once would take gigabytes


def frame_band_powers(samples: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    """(n_frames, 2): the power in the telephone band and in the high band of each 32 ms VAD frame (Hann
    window; the last partial frame zero-padded, as the VAD pads it)."""
    frame_samples = int(round(VAD_FRAME_S * sample_rate_hz))
    if frame_samples != FRAME_SAMPLES:
        raise ValueError(f"band powers are measured on the VAD's frames, at its rate, not {sample_rate_hz} Hz")
    frequencies_hz = rfftfreq(frame_samples, 1 / sample_rate_hz)
    bands = [(frequencies_hz >= low_hz) & (frequencies_hz < high_hz)
             for low_hz, high_hz in (TELEPHONE_BAND_HZ, HIGH_BAND_HZ)]
    taper = np.hanning(frame_samples).astype(np.float32)  # a rectangular frame would leak the low band upwards
    powers = np.empty((-(-np.asarray(samples).size // frame_samples), 2), dtype=np.float64)
    for first, frames in frame_blocks(samples, _BLOCK_FRAMES):
        spectra = np.abs(rfft(frames * taper, axis=1)) ** 2
        powers[first:first + len(frames)] = np.stack([spectra[:, band].sum(axis=1) for band in bands], axis=1)
    return powers


def speech_band_powers(band_powers: np.ndarray, speech: np.ndarray) -> np.ndarray:
    """The two bands' powers summed over the speech frames, and the number of those frames: (3,)."""
    n = min(band_powers.shape[0], speech.size)
    kept = band_powers[:n][np.asarray(speech[:n], dtype=bool)]
    return np.array([*kept.sum(axis=0), kept.shape[0]], dtype=np.float64)


def high_band_db(speech_powers: np.ndarray, min_speech_s: float = MIN_SPEECH_S) -> float | None:
    """The speech's power above ``HIGH_BAND_HZ[0]`` in dB of its telephone band's (``speech_band_powers``); None
    with too little speech (under ``min_speech_s``), or none in the telephone band, to say."""
    telephone_power, high_power, n_frames = (float(v) for v in speech_powers)
    if n_frames * VAD_FRAME_S < min_speech_s or telephone_power <= 0:
        return None
    return float(10 * np.log10(max(high_power, 1e-30) / telephone_power))


def window_high_band_db(band_powers: np.ndarray, speech: np.ndarray, start_s: float, end_s: float) -> float:
    """``high_band_db`` of the speech frames of one window (``band_powers`` and ``speech`` per VAD frame, frame 0
    at 0 s; NaN under ``MIN_WINDOW_SPEECH_S`` of speech, as the voice measurements are where not measurable): a
    recording can hold wideband speech and a participant on a telephone line, which the whole's figure hides."""
    first, last = int(np.floor(start_s / VAD_FRAME_S + 1e-9)), int(np.ceil(end_s / VAD_FRAME_S - 1e-9))
    measured = high_band_db(speech_band_powers(band_powers[first:last], speech[first:last]), MIN_WINDOW_SPEECH_S)
    return float("nan") if measured is None else measured


def speech_high_band_db(samples: np.ndarray, sample_rate_hz: int, speech: np.ndarray) -> float | None:
    """``high_band_db`` of a whole recording's speech frames (``speech``: the VAD's decision per frame)."""
    return high_band_db(speech_band_powers(frame_band_powers(samples, sample_rate_hz), speech))


def sounds_narrowband(high_band_db: float | None) -> bool:
    """Whether speech with this ``high_band_db`` has essentially nothing above a telephone line's band."""
    return high_band_db is not None and high_band_db < NARROWBAND_HIGH_BAND_DB


def narrowband_count(window_bands_db: list[float]) -> tuple[int, int]:
    """How many windows' speech (``window_high_band_db``, NaN where not measured) is telephone-band, of how many
    were measured."""
    measured = [band for band in window_bands_db if np.isfinite(band)]
    return sum(sounds_narrowband(band) for band in measured), len(measured)


def some_windows_narrowband(counted: tuple[int, int]) -> bool:
    """Whether ``narrowband_count``'s windows are enough to say a recording holds telephone-band speech."""
    return counted[0] > 0 and counted[0] >= NARROWBAND_WINDOW_SHARE * counted[1]
