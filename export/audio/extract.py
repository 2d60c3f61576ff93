"""Window features of every clip of a corpus, with the device's own windowing and feature code.

Each clip is read at 16 kHz, its speech windows are picked by ``speech_windows`` (the device's VAD and
window grid) and each window gets ``window_features``. The result is cached in one ``.npz`` keyed by the
feature set, the window settings, the speed factor and the clip list, so that retraining does not re-extract.

Speed perturbation (Ko et al., 2015, "Audio augmentation for speech recognition"): a clip resampled so that
it plays ``speed_factor`` times as fast, which moves tempo, pitch and formants together, as a different
voice saying the same thing would. Training adds such copies of the training speakers only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr

from export.arrays import read_cache, save_npz
from export.audio.datasets import Clip
from runtime.arms.audio.arm import judged_samples
from runtime.arms.audio.features import FEATURE_SET, feature_names, frame_descriptors, window_features
from runtime.arms.audio.level import speech_level_dbfs
from runtime.arms.audio.vad import detect_speech
from runtime.arms.audio.windows import speech_windows
from runtime.audio_rate import AUDIO_RATE_HZ
from runtime.config import DEFAULTS
from runtime.errors import InputError
from runtime.files import unreadable_files
from runtime.stopping import raise_if_stop_asked

log = logging.getLogger(__name__)

# The device's own audio settings: a model trained on other windows would be judged on windows it never saw.
WINDOW_S = float(DEFAULTS["audio"]["window_s"])
WINDOW_HOP_S = float(DEFAULTS["audio"]["hop_s"])
MIN_SPEECH_FRACTION = float(DEFAULTS["audio"]["min_speech_fraction"])
CACHE_ARRAYS = ("features", "clip_index", "no_speech")  # what a window cache holds


@dataclass
class WindowTable:
    """Window features of a corpus: row i belongs to clip ``clip_index[i]``."""

    features: np.ndarray  # (n_windows, n_features) float32
    clip_index: np.ndarray  # (n_windows,) int
    clips: list[Clip]
    no_speech: list[str]  # clips without a single speech window (left out)
    speed_factor: float = 1.0  # the clips were played this many times as fast


def speed_perturbed(samples: np.ndarray, sample_rate_hz: int, speed_factor: float) -> np.ndarray:
    """``samples`` played ``speed_factor`` times as fast (1.1: 10 % faster and higher), at the same rate."""
    if speed_factor == 1.0:
        return samples
    return soxr.resample(samples, sample_rate_hz * speed_factor, sample_rate_hz).astype(np.float32)


def clip_window_features(path: Path, speed_factor: float = 1.0) -> np.ndarray:
    """(n_speech_windows, n_features) for one audio file; zero rows when it holds no speech."""
    # as the device judges them: a float file's NaN would stop the run deep in the features, and a microphone's
    # DC offset, which the device removes, would be learnt and then never seen
    samples = judged_samples(path, AUDIO_RATE_HZ, alone=True)  # no probe here: a late start is said by the read
    return samples_window_features(speed_perturbed(samples, AUDIO_RATE_HZ, speed_factor))


def clip_speech_level_dbfs(path: Path) -> float | None:
    """A clip's speech level read as training and the device read it (``level.speech_level_dbfs``): what a
    model card's training speech range is made of; None without speech."""
    samples = judged_samples(path, AUDIO_RATE_HZ, alone=True)
    return speech_level_dbfs(samples, detect_speech(samples))


def samples_window_features(samples: np.ndarray) -> np.ndarray:
    """(n_speech_windows, n_features) for one clip's 16 kHz samples; zero rows when they hold no speech."""
    windows = speech_windows(samples, AUDIO_RATE_HZ, window_s=WINDOW_S, hop_s=WINDOW_HOP_S,
                             min_speech_fraction=MIN_SPEECH_FRACTION)
    if not windows:
        return np.zeros((0, len(feature_names())), dtype=np.float32)
    descriptors = frame_descriptors(samples, AUDIO_RATE_HZ)
    return np.stack([window_features(descriptors, w.start_s, w.end_s) for w in windows])


def extract_windows(clips: list[Clip], cache_dir: Path | None = None, progress: bool = False,
                    speed_factor: float = 1.0, data: Path | str = "the clips") -> WindowTable:
    """Window features for ``clips``, each played ``speed_factor`` times as fast (from the cache in
    ``cache_dir`` when it holds exactly these). Clips that cannot be read (empty, no audio, corrupt) are refused
    together once every clip is read, in one ``InputError`` naming ``data`` and them, not one a run."""
    key = _cache_key(clips, speed_factor)
    cache = cache_dir / f"windows-{key}.npz" if cache_dir is not None else None
    cached = read_cache(cache, CACHE_ARRAYS) if cache is not None and cache.is_file() else None
    no_speech = _json_list(cached["no_speech"], cache) if cached is not None else None
    if no_speech is not None:
        return WindowTable(cached["features"], cached["clip_index"], clips, no_speech, speed_factor)
    rows, index, no_speech, failed = [], [], [], []
    for i, clip in enumerate(clips):
        raise_if_stop_asked()  # numba's compiler and PyAV can swallow the signal's own KeyboardInterrupt
        try:
            features = clip_window_features(clip.path, speed_factor)
        except InputError as error:
            failed.append(error)
            continue
        if features.shape[0] == 0:
            no_speech.append(str(clip.path))
        rows.append(features)
        index.append(np.full(features.shape[0], i))
        if progress and (i + 1) % 100 == 0:
            print(f"  features: {i + 1}/{len(clips)} clips", file=sys.stderr, flush=True)
    if failed:
        raise unreadable_files(data, failed, len(clips))
    table = WindowTable(np.concatenate(rows).astype(np.float32), np.concatenate(index).astype(int), clips,
                        no_speech, speed_factor)
    if cache is not None:
        save_npz(cache, features=table.features, clip_index=table.clip_index, no_speech=np.array(json.dumps(no_speech)))
    return table


def _json_list(stored: np.ndarray, cache: Path) -> list[str] | None:
    """The clips without speech a cache keeps as JSON text; None (computed again) when it is not such a list."""
    try:
        value = json.loads(str(stored))
    except ValueError:
        value = None
    if not isinstance(value, list):
        log.warning("%s: unreadable cache (no_speech is not a JSON list); computed again", cache)
        return None
    return value


def _cache_key(clips: list[Clip], speed_factor: float = 1.0) -> str:
    digest = hashlib.sha256()
    digest.update(f"{FEATURE_SET}|{WINDOW_S}|{WINDOW_HOP_S}|{MIN_SPEECH_FRACTION}|without dc".encode())
    if speed_factor != 1.0:
        digest.update(f"|speed {speed_factor!r}".encode())
    for clip in clips:
        stat = clip.path.stat()
        digest.update(f"{clip.path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]
