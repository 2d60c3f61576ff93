"""Waveform windows of a corpus, cut exactly where the device cuts them (``speech_windows``, device settings).

A pretrained encoder takes raw samples, so a training example is the 2 s of audio itself; a window shorter
than the rest (the end of a short clip) is zero-padded to the common length, as the device pads its last one.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from export.audio.datasets import Clip
from export.audio.extract import MIN_SPEECH_FRACTION, WINDOW_HOP_S, WINDOW_S
from runtime.arms.audio.arm import judged_samples
from runtime.arms.audio.windows import AudioWindow, speech_windows
from runtime.audio_rate import AUDIO_RATE_HZ
from runtime.errors import InputError

WINDOWS_FILE = (
    "windows.csv"  # written by training: one row per window (file, speaker, start/end, label, fold)
)


@dataclass
class WaveformWindows:
    """Row i of ``waveforms`` is window ``windows[i]`` of clip ``clips[clip_index[i]]``."""

    waveforms: np.ndarray  # (n_windows, window samples) float32
    clip_index: np.ndarray  # (n_windows,) int
    windows: list[AudioWindow]
    clips: list[Clip]
    no_speech: list[str]


def window_samples(window_s: float = WINDOW_S, sample_rate_hz: int = AUDIO_RATE_HZ) -> int:
    return int(round(window_s * sample_rate_hz))


def cut_windows(
    samples: np.ndarray,
    windows: list[AudioWindow],
    window_s: float = WINDOW_S,
    sample_rate_hz: int = AUDIO_RATE_HZ,
) -> np.ndarray:
    """(len(windows), window samples) float32: each window's samples, zero-padded at the end when short."""
    length = window_samples(window_s, sample_rate_hz)
    out = np.zeros((len(windows), length), dtype=np.float32)
    for row, window in enumerate(windows):
        first = int(round(window.start_s * sample_rate_hz))
        piece = samples[first : first + length]
        out[row, : piece.size] = piece
    return out


def clip_waveform_windows(
    path: Path,
    window_s: float = WINDOW_S,
    hop_s: float = WINDOW_HOP_S,
    min_speech_fraction: float = MIN_SPEECH_FRACTION,
) -> tuple[list[AudioWindow], np.ndarray]:
    """The speech windows of one file and their samples, as the device's arm judges them (``judged_samples``)."""
    samples = judged_samples(path, AUDIO_RATE_HZ, alone=True)
    windows = speech_windows(
        samples, AUDIO_RATE_HZ, window_s=window_s, hop_s=hop_s, min_speech_fraction=min_speech_fraction
    )
    return windows, cut_windows(samples, windows, window_s)


def corpus_windows(
    clips: list[Clip], window_s: float = WINDOW_S, hop_s: float = WINDOW_HOP_S, progress: bool = False
) -> WaveformWindows:
    """Every speech window of every clip; clips without speech are listed, not kept."""
    rows, index, windows, no_speech = [], [], [], []
    for i, clip in enumerate(clips):
        clip_windows, waveforms = clip_waveform_windows(clip.path, window_s, hop_s)
        if not clip_windows:
            no_speech.append(str(clip.path))
        rows.append(waveforms)
        index.append(np.full(len(clip_windows), i))
        windows.extend(clip_windows)
        if progress and (i + 1) % 100 == 0:
            print(f"  windows: {i + 1}/{len(clips)} clips", file=sys.stderr, flush=True)
    length = window_samples(window_s)
    waveforms = np.concatenate(rows) if rows else np.zeros((0, length), dtype=np.float32)
    clip_index = np.concatenate(index).astype(int) if index else np.zeros(0, dtype=int)
    return WaveformWindows(waveforms, clip_index, windows, clips, no_speech)


_WINDOW_COLUMNS = ("path", "speaker", "start_s", "end_s", "emotion", "held_out")


def read_window_table(trained: Path, labels: list[str] | None = None) -> list[dict]:
    """The rows of a run's windows.csv, each complete, with numeric times and (given ``labels``) a known label."""
    path = trained / WINDOWS_FILE
    if not path.is_file():
        raise InputError(trained, f"no {WINDOWS_FILE}; run `emotrace train audio --audio-backbone ...` first")
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(path, f"unreadable ({error})") from None
    if not rows:
        raise InputError(path, "lists no window")
    for line, row in enumerate(rows, start=2):
        # a truncated file ends in a short row; a bad one would otherwise surface as a missing audio file
        if any(row.get(column) in (None, "") for column in _WINDOW_COLUMNS):
            raise InputError(path, f"line {line} is incomplete (needs {', '.join(_WINDOW_COLUMNS)})")
        try:
            float(row["start_s"]), float(row["end_s"])
        except ValueError:
            raise InputError(path, f"line {line}: start_s and end_s must be numbers") from None
        if labels is not None and row["emotion"] not in labels:
            raise InputError(path, f"line {line}: label {row['emotion']!r} is not one the head was trained on")
    return rows


def waveforms_of(rows: list[dict]) -> np.ndarray:
    """The samples of each listed window, reading each file once."""
    by_path: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_path.setdefault(row["path"], []).append(i)
    result: list[np.ndarray | None] = [None] * len(rows)
    for path, indices in by_path.items():
        samples = judged_samples(path, AUDIO_RATE_HZ, alone=True)
        windows = [AudioWindow(float(rows[i]["start_s"]), float(rows[i]["end_s"]), 1.0) for i in indices]
        for i, waveform in zip(indices, cut_windows(samples, windows), strict=True):
            result[i] = waveform
    out = np.stack(result) if result else np.zeros((0, 0), dtype=np.float32)
    return out.astype(np.float32)
