"""The speech's level against the voice model's training speech: the population variant reads it as emotion.

The population ("none") variant reads absolute levels (log-mel, MFCC c0, log energy): it learnt RAVDESS's studio
levels as emotion cues (calm and sad clips are quiet, angry ones loud), so the same voice recorded with the
microphone's gain 20 dB lower reads sad far more often. A session baseline z-scores the levels away; without one, a
recording whose speech lies far outside the levels the model was trained on is flagged, naming the gain.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from runtime.arms.audio.vad import FRAME_SAMPLES, frame_blocks, frame_levels_db

# The range a card's training speech is given by: the 5-95 % points over the training clips of their speech level
# (``speech_level_dbfs``), stored at export (``training_speech_range``) as the card's SPEECH_LEVEL field.
RANGE_PERCENTILES = (5.0, 95.0)
# How far outside that range speech may lie before it is flagged. The range's 5 % tails are levels the model was
# trained on: for the shipped model the 1-99 % range (-59.8 to -20.1 dBFS) lies within the range widened by 5 dB,
# and with 6 dB 11 of the 1,200 training clips are flagged (benchmarks/audio_speech_level.py: 'flags 0.009').
LEVEL_MARGIN_DB = 6.0
SPEECH_LEVEL = "speech_level_dbfs"  # a voice track's setting: its speech's level; a card's: its training speech's
GAIN_NOTE = "gain"  # a voice track's setting: the note when that level is outside the trained range
LIVE_GAIN_NOTE = "live_gain"  # a streamed voice track's setting: the gain note said as its windows were judged
CLIPPED_SPEECH = "clipped_speech_percent"  # a voice track's setting: the share of its speech's samples at full scale
CLIPPING_NOTE = "clipping"  # a voice track's setting: the note when that share is ``CLIPPED_SPEECH_PERCENT`` or more

# A sample this near full scale (-0.09 dBFS) counts as clipped: 16-bit full scale is 32767/32768, 8-bit's 127/128,
# and a clipped run resampled to 16 kHz rings about full scale rather than sitting on it.
CLIPPED_AMPLITUDE = 0.99
# RAVDESS speech (five emotions of one actor, 79 s) turned up and hard-clipped, file mode with its session baseline
# (benchmarks/audio_clipping.py): at 2.0 % of the speech's samples clipped (x4) the windows judged right barely
# move (96 against 97 unclipped), though 13 of 128 (10 %) change their top label; at 4.7 % (x6) 89 of 131 are
# right, at 21 % (x20) 64 of 132; the most clipped training clip has 0.03 %. So from 3 % a recording is flagged:
# above the share where windows judged right barely move, under where that count falls.
CLIPPED_SPEECH_PERCENT = 3.0


def speech_level_dbfs(samples: np.ndarray, speech: np.ndarray) -> float | None:
    """The speech's level: the median RMS level (dBFS) of the 32 ms frames ``speech`` (the VAD's decision per frame)
    holds speech in; None without speech."""
    levels_db = frame_levels_db(samples)
    n = min(levels_db.size, np.asarray(speech).size)
    spoken = levels_db[:n][np.asarray(speech[:n], dtype=bool)]
    return float(np.median(spoken)) if spoken.size else None


def training_speech_range(levels_dbfs: list[float]) -> dict[str, float | int]:
    """A card's record of its training speech (its SPEECH_LEVEL field): the ``RANGE_PERCENTILES`` points and the
    median over the training clips' speech levels ``levels_dbfs`` (``speech_level_dbfs``, clips with speech)."""
    low, median, high = np.percentile(np.asarray(levels_dbfs, dtype=float), [RANGE_PERCENTILES[0], 50.0,
                                                                             RANGE_PERCENTILES[1]])
    return {"p5": round(float(low), 1), "median": round(float(median), 1), "p95": round(float(high), 1),
            "clips": len(levels_dbfs)}


def trained_range_dbfs(card_extra: dict[str, Any]) -> tuple[float, float] | None:
    """The 5-95 % range of a card's training speech level (``training_speech_range``); None where the card
    does not record it (one exported before it was stored): no range is then claimed."""
    record = card_extra.get(SPEECH_LEVEL)
    if not isinstance(record, dict):
        return None
    low, high = record.get("p5"), record.get("p95")
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (low, high)) or low > high:
        return None
    return float(low), float(high)


def frame_clipped_counts(samples: np.ndarray) -> np.ndarray:
    """How many samples of each 32 ms VAD frame are at or within a hair of full scale (``CLIPPED_AMPLITUDE``); the
    last partial frame zero-padded, as the VAD pads it. Given the samples as read, before the DC offset is
    removed: full scale is the recorder's."""
    counts = np.empty(-(-np.asarray(samples).size // FRAME_SAMPLES), dtype=np.int64)
    for first, frames in frame_blocks(samples):
        counts[first:first + len(frames)] = np.count_nonzero(np.abs(frames) >= CLIPPED_AMPLITUDE, axis=1)
    return counts


def clipped_speech_percent(clipped_counts: np.ndarray, speech: np.ndarray) -> float | None:
    """The share (%) of the speech frames' samples at full scale, from ``frame_clipped_counts`` and the VAD's
    decision per frame; None without speech."""
    n = min(np.asarray(clipped_counts).size, np.asarray(speech).size)
    spoken = np.asarray(speech[:n], dtype=bool)
    if not spoken.any():
        return None
    return 100.0 * float(np.sum(clipped_counts[:n][spoken])) / (int(spoken.sum()) * FRAME_SAMPLES)


def is_clipped(percent: float | None) -> bool:
    """Whether speech with ``percent`` of its samples at full scale (``clipped_speech_percent``) is flagged."""
    return percent is not None and round(percent, 1) >= CLIPPED_SPEECH_PERCENT  # judged as shown


def clipping_note(percent: float | None) -> str | None:
    """Why the voice's emotions may be off in speech with ``percent`` of its samples clipped, or None."""
    if not is_clipped(percent):
        return None
    return (f"clipped audio ({percent:.1f} % of the speech's samples at full scale; from {CLIPPED_SPEECH_PERCENT:g} % "
            "the voice's emotions go astray, with a speaker baseline or without): lower the microphone's gain")


def gain_note(level_dbfs: float | None, trained_dbfs: tuple[float, float] | None,
              min_baseline_speech_s: float, baseline_hint: str | None, clipped: bool = False) -> str | None:
    """Why emotions judged without a speaker baseline may be the microphone's gain, for speech at ``level_dbfs``
    (``speech_level_dbfs``) more than ``LEVEL_MARGIN_DB`` outside ``trained_dbfs``, the model's training speech
    (``trained_range_dbfs``); None inside it, without a level or without a range. ``min_baseline_speech_s``: the
    speech a baseline needs; ``baseline_hint``: how to ask for one where the note is said, None where one was asked
    for and the speech fell short of it. ``clipped``: the speech is clipped (``is_clipped``), which no baseline
    undoes, so none is advised."""
    if level_dbfs is None or not math.isfinite(level_dbfs) or trained_dbfs is None:
        return None
    low_dbfs, high_dbfs = trained_dbfs
    shown = round(level_dbfs, 1)  # judged as shown, as the quiet note is
    if round(low_dbfs - LEVEL_MARGIN_DB, 1) <= shown <= round(high_dbfs + LEVEL_MARGIN_DB, 1):
        return None
    # quiet speech's drift was seen in probes (RAVDESS clips turned down 20 dB read sad more often; no benchmark
    # measures it); loud speech's was not looked at
    side, drift = ("quieter", " (the shipped model reads quiet speech as sad)") if shown < low_dbfs else ("louder", "")
    said = (f"speech at {shown:.1f} dBFS (its median level), far {side} than the {low_dbfs:g} to {high_dbfs:g} dBFS "
            f"the voice model was trained on: without a speaker baseline its emotions move with the microphone's gain"
            f"{drift}; set the gain so that speech lies in that range")
    if clipped:
        return said + " (the speech is clipped too, which a speaker baseline would not undo)"
    return said + (", or judge against the speaker's own baseline "
                   + (f"({baseline_hint}; {min_baseline_speech_s:g} s of their speech or more)" if baseline_hint else
                      f"(asked for, it needs {min_baseline_speech_s:g} s of their speech or more)"))


SESSION_BASELINE_HINT = 'audio.speaker_baseline = "session"'  # analyze and live
FOLDER_BASELINE_HINT = "--speaker-baseline folder"  # audio classify, evaluate audio's is --speaker-baseline speaker


def gain_settings(level_dbfs: float | None, variant: str, trained_dbfs: tuple[float, float] | None,
                  min_baseline_speech_s: float, baseline_asked: bool = False,
                  clipped: bool = False) -> dict[str, float | str | None]:
    """What a voice track's settings say of its speech's level: the level (None without speech) and, where the
    population variant judged it (``variant`` "none"), the ``gain_note`` against ``trained_dbfs``: a session
    baseline z-scores the level away, and a waveform model's ("default") dependence on it was not measured.
    ``baseline_asked``: a session baseline was asked for (the speech fell short of it); ``clipped``: as
    ``gain_note``'s."""
    hint = None if baseline_asked else SESSION_BASELINE_HINT
    note = gain_note(level_dbfs, trained_dbfs, min_baseline_speech_s, hint, clipped) if variant == "none" else None
    level = round(level_dbfs, 1) if level_dbfs is not None else None
    return {SPEECH_LEVEL: level, **({GAIN_NOTE: note} if note else {})}
