"""Which stretches of a recording the audio arm judges: regular windows, each with its share of speech.

Training (``export/audio``) and the device call the same functions, so a window means the same thing on both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from runtime.arms.audio.vad import detect_speech, speech_fraction
from runtime.track import window_grid


@dataclass(frozen=True)
class AudioWindow:
    start_s: float
    end_s: float
    speech_fraction: float


def audio_windows(speech: np.ndarray, duration_s: float, window_s: float, hop_s: float) -> list[AudioWindow]:
    """Every window of the regular grid over ``duration_s`` with the share of VAD speech frames in it."""
    return [AudioWindow(start, end, speech_fraction(speech, start, end))
            for start, end in window_grid(duration_s, window_s, hop_s)]


def speech_windows(samples: np.ndarray, sample_rate_hz: int, window_s: float, hop_s: float,
                   min_speech_fraction: float) -> list[AudioWindow]:
    """The windows of a 16 kHz recording that hold at least ``min_speech_fraction`` speech.

    A recording whose speech is shorter than one window still yields its single best window, so that a
    short clip (a 3 s corpus utterance) is judged rather than skipped.
    """
    return judged_windows(detect_speech(samples), samples.size / sample_rate_hz, window_s, hop_s, min_speech_fraction)


def judged_windows(speech: np.ndarray, duration_s: float, window_s: float, hop_s: float,
                   min_speech_fraction: float) -> list[AudioWindow]:
    """``speech_windows`` from the VAD's speech decision per frame, for a caller that reads that decision too."""
    windows = audio_windows(speech, duration_s, window_s, hop_s)
    kept = [w for w in windows if w.speech_fraction >= min_speech_fraction]
    if not kept and windows:
        best = max(windows, key=lambda w: w.speech_fraction)
        kept = [best] if best.speech_fraction > 0 else []
    return kept
