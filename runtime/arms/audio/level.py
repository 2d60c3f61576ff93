"""The speech's level against the voice model's training speech: the population variant reads it as emotion.

The population ("none") variant reads absolute levels (log-mel, MFCC c0, log energy): it learnt RAVDESS's studio
levels as emotion cues (calm and sad clips are quiet, angry ones loud), so the same voice recorded with the
microphone's gain 20 dB lower reads sad far more often. A session baseline z-scores the levels away; without one, a
recording whose speech lies far outside the levels the model was trained on is flagged, naming the gain.
"""

from __future__ import annotations

import math

import numpy as np

from runtime.arms.audio.vad import frame_levels_db

# The 5-95 % range over the training clips of their speech level (``speech_level_dbfs``): RAVDESS actors 01-20 read
# as the arm reads them (16 kHz, DC removed), median -40.5 dBFS (benchmarks/audio_speech_level.py, 2026-12-06).
TRAINED_SPEECH_LEVEL_DBFS = (-54.9, -24.7)
# How far outside that range speech may lie before it is flagged. The range's 5 % tails are levels the model was
# trained on: the 1-99 % range (-59.8 to -20.1 dBFS) lies within the range widened by 5 dB, so with 6 dB 1 of the
# 1,200 training clips is flagged. It stays under the gain change that moved a fifth of the emotions (RAVDESS clips
# scaled by a constant gain, the population variant: -10 dB changed 21 % of the labels, -20 dB 50 %).
LEVEL_MARGIN_DB = 6.0
SPEECH_LEVEL = "speech_level_dbfs"  # a voice track's setting: its speech's level
GAIN_NOTE = "gain"  # a voice track's setting: the note when that level is outside the trained range


def speech_level_dbfs(samples: np.ndarray, speech: np.ndarray) -> float | None:
    """The speech's level: the median RMS level (dBFS) of the 32 ms frames ``speech`` (the VAD's decision per frame)
    holds speech in; None without speech."""
    levels_db = frame_levels_db(samples)
    n = min(levels_db.size, np.asarray(speech).size)
    spoken = levels_db[:n][np.asarray(speech[:n], dtype=bool)]
    return float(np.median(spoken)) if spoken.size else None


def gain_note(level_dbfs: float | None) -> str | None:
    """Why emotions judged without a speaker baseline may be the microphone's gain, for speech at ``level_dbfs``
    (``speech_level_dbfs``) more than ``LEVEL_MARGIN_DB`` outside the trained range; None inside it or without a
    level."""
    if level_dbfs is None or not math.isfinite(level_dbfs):
        return None
    low_dbfs, high_dbfs = TRAINED_SPEECH_LEVEL_DBFS
    shown = round(level_dbfs, 1)  # judged as shown, as the quiet note is
    if low_dbfs - LEVEL_MARGIN_DB <= shown <= high_dbfs + LEVEL_MARGIN_DB:
        return None
    # quiet speech's drift was measured (towards sad); loud speech's was not
    side, drift = ("quieter", ": quiet speech reads sad") if shown < low_dbfs else ("louder", "")
    return (f"speech at {shown:.1f} dBFS (its median level), far {side} than the {low_dbfs:g} to {high_dbfs:g} dBFS "
            f"the voice model was trained on: without a speaker baseline its emotions move with the microphone's gain"
            f"{drift}; set the gain so that speech lies in that range, or judge against the speaker's own baseline "
            "(20 s of their speech or more)")


def gain_settings(level_dbfs: float | None, variant: str) -> dict[str, float | str | None]:
    """What a voice track's settings say of its speech's level: the level (None without speech) and, where the
    population variant judged it (``variant`` "none"), the ``gain_note``: a session baseline z-scores the level
    away, and a waveform model's ("default") dependence on it was not measured."""
    note = gain_note(level_dbfs) if variant == "none" else None
    level = round(level_dbfs, 1) if level_dbfs is not None else None
    return {SPEECH_LEVEL: level, **({GAIN_NOTE: note} if note else {})}
