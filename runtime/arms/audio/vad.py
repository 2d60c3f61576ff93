"""Voice activity with Silero VAD's sequence ONNX model (MIT), run by ONNX Runtime without torch.

The model scores 32 ms frames (512 samples at 16 kHz), each preceded by the previous frame's last 64
samples; its LSTM state carries across calls, so the same detector serves a whole file or a live stream.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from runtime.audio_rate import AUDIO_RATE_HZ
from runtime.models.card import REPO_MODELS_DIR

FRAME_SAMPLES = 512
CONTEXT_SAMPLES = 64
VAD_FRAME_S = FRAME_SAMPLES / AUDIO_RATE_HZ
VAD_MODEL_PATH = REPO_MODELS_DIR / "silero-vad" / "silero_vad_16k_sequence.onnx"
_MAX_FRAMES_PER_CALL = 512
# A whole recording is fed in blocks of whole model calls (about a minute), so that no copy of it is made and
# the detector sees the same calls as in one piece.
_BLOCK_SAMPLES = 4 * _MAX_FRAMES_PER_CALL * FRAME_SAMPLES


class VoiceActivityDetector:
    """Streaming speech probabilities: feed samples in any block sizes, get one probability per full frame."""

    def __init__(self, model_path: str | Path = VAD_MODEL_PATH) -> None:
        import onnxruntime as ort

        from runtime.models.card import load_card, verify_checksum

        verify_checksum(load_card(Path(model_path).parent))

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Speech probability for each complete 32 ms frame now available (16 kHz mono float input)."""
        audio = np.concatenate([self._pending, np.asarray(samples, dtype=np.float32).reshape(-1)])
        n_frames = audio.size // FRAME_SAMPLES
        self._pending = audio[n_frames * FRAME_SAMPLES:]
        probs = []
        for first in range(0, n_frames, _MAX_FRAMES_PER_CALL):
            count = min(_MAX_FRAMES_PER_CALL, n_frames - first)
            frames = audio[first * FRAME_SAMPLES:(first + count) * FRAME_SAMPLES].reshape(count, FRAME_SAMPLES)
            contexts = np.empty((count, CONTEXT_SAMPLES), dtype=np.float32)
            contexts[0] = self._context
            contexts[1:] = frames[:-1, -CONTEXT_SAMPLES:]
            self._context = frames[-1, -CONTEXT_SAMPLES:].copy()
            block = np.concatenate([contexts, frames], axis=1)
            out, self._h, self._c = self._session.run(None, {"input": block, "h": self._h, "c": self._c})
            probs.append(out)
        return np.concatenate(probs).astype(np.float32) if probs else np.zeros(0, dtype=np.float32)

    def flush(self) -> np.ndarray:
        """Score the last partial frame (zero-padded) at the end of a recording."""
        if self._pending.size == 0:
            return np.zeros(0, dtype=np.float32)
        padding = np.zeros(FRAME_SAMPLES - self._pending.size, dtype=np.float32)
        return self.process(padding)


def speech_probabilities(samples: np.ndarray) -> np.ndarray:
    """Per-frame (32 ms) speech probabilities for a whole 16 kHz recording."""
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    detector = VoiceActivityDetector()
    blocks = [detector.process(samples[first:first + _BLOCK_SAMPLES])
              for first in range(0, samples.size, _BLOCK_SAMPLES)]
    return np.concatenate([*blocks, detector.flush()])


# Silero scores some very intense voices (screaming, sobbing) as non-speech: on RAVDESS actors 01-20 it found
# no speech at all in 15 of 1,200 clips, all strong-intensity emotions. Frames this far above the recording's
# noise floor count as speech evidence too (with 40 dB none is missed; benchmarks/vad_rescue.py says how much
# earlier than Silero's the speech of some clips then starts).
LOUD_MARGIN_DB = 40.0
NOISE_FLOOR_PERCENTILE = 10.0  # the level the quietest tenth of the frames lies under
NOISE_FLOOR_MIN_DBFS = -80.0  # digital silence must not make ordinary speech count as "loud"


def frame_blocks(samples: np.ndarray, block_frames: int = _BLOCK_SAMPLES // FRAME_SAMPLES
                 ) -> Iterator[tuple[int, np.ndarray]]:
    """The 32 ms VAD frames of ``samples`` a block at a time (no copy of a whole recording in frames): (the index
    of the block's first frame, its frames as rows), the last partial frame zero-padded, as the VAD pads it."""
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    n_frames = -(-samples.size // FRAME_SAMPLES)
    for first in range(0, n_frames, block_frames):
        block = samples[first * FRAME_SAMPLES:(first + block_frames) * FRAME_SAMPLES]
        frames = -(-block.size // FRAME_SAMPLES)
        padded = np.zeros(frames * FRAME_SAMPLES, dtype=np.float32)
        padded[:block.size] = block
        yield first, padded.reshape(frames, FRAME_SAMPLES)


def frame_levels_db(samples: np.ndarray) -> np.ndarray:
    """RMS level (dBFS) of each 32 ms VAD frame; the last partial frame is zero-padded, as the VAD does."""
    power = np.empty(-(-np.asarray(samples).size // FRAME_SAMPLES), dtype=np.float64)
    for first, frames in frame_blocks(samples):
        power[first:first + len(frames)] = np.mean(frames.astype(np.float64) ** 2, axis=1)
    return 10 * np.log10(power + 1e-12)


def with_loud_frames(probs: np.ndarray, levels_db: np.ndarray, threshold: float = 0.5,
                     margin_db: float = LOUD_MARGIN_DB, floor_db: float | None = None) -> np.ndarray:
    """Speech probabilities raised to ``threshold`` where a frame is ``margin_db`` above the noise floor.

    ``floor_db``: the ``NOISE_FLOOR_PERCENTILE`` of the frames' levels over a longer stretch than these frames
    (a live stream's everything heard so far, from ``RunningPercentile``); by default these frames' own."""
    n = min(probs.size, levels_db.size)
    out = probs[:n].astype(np.float32, copy=True)
    if n == 0:
        return out
    if floor_db is None:
        floor_db = float(np.percentile(levels_db[:n], NOISE_FLOOR_PERCENTILE))
    loud = levels_db[:n] > max(floor_db, NOISE_FLOOR_MIN_DBFS) + margin_db
    out[loud] = np.maximum(out[loud], threshold)
    return out


class RunningPercentile:
    """``np.percentile(values, percent)`` (its default, linear method) of every finite value added so far, to the
    bit, at O(log n) an added value: a live stream's noise floor over everything heard would otherwise partition
    hours of frames at every window (3.3 / 5.5 ms a window after two / three hours, growing; benchmarks/live_long.py).
    NaN would break the heaps' order: frame levels are finite (``frame_levels_db``).

    Two heaps split the values at the order statistic the percentile reads: the lower (a max-heap, values
    negated) holds the smallest ``floor((n - 1) q) + 1``, the upper the rest.
    """

    def __init__(self, percent: float):
        self.quantile = percent / 100
        self.count = 0
        self._lower: list[float] = []  # negated
        self._upper: list[float] = []

    def extend(self, values: np.ndarray) -> None:
        for value in np.asarray(values, dtype=np.float64).ravel().tolist():
            if self._lower and value <= -self._lower[0]:
                heapq.heappush(self._lower, -value)
            else:
                heapq.heappush(self._upper, value)
            self.count += 1
            wanted = int((self.count - 1) * self.quantile) + 1
            while len(self._lower) > wanted:
                heapq.heappush(self._upper, -heapq.heappop(self._lower))
            while len(self._lower) < wanted:
                heapq.heappush(self._lower, -heapq.heappop(self._upper))

    def value(self) -> float:
        """The percentile of the values so far; NaN before any."""
        if self.count == 0:
            return math.nan
        virtual_index = (self.count - 1) * self.quantile
        gamma = virtual_index - math.floor(virtual_index)
        below = -self._lower[0]
        above = self._upper[0] if self._upper else below
        # numpy's interpolation, written as it writes it so that the result is the same to the bit
        return above - (above - below) * (1 - gamma) if gamma >= 0.5 else below + (above - below) * gamma


# Silero needs a voice loud enough in absolute terms: with the loudest sample at -40 dBFS it misses 6 % of the
# speech frames it finds at the clips' own level, at -50 dBFS 36 % (benchmarks/vad_levels.py, 40 RAVDESS clips),
# so a recording that quiet is flagged and the microphone's gain named.
QUIET_PEAK_DBFS = -40.0
NO_SPEECH_FOUND = "no speech found: the recording is silent or holds no voice"
MIN_SPEECH_S = 0.25  # a shorter burst of speech is dropped (``speech_frames``)
SHORTEST_SPEECH_S = round(MIN_SPEECH_S / VAD_FRAME_S) * VAD_FRAME_S  # the shortest kept, in whole frames: 0.256 s
# Speech cut short is often missed: of 40 RAVDESS clips, pieces of 0.3 s from the middle of their speech had speech
# found in 23, of 0.5 s in 39, of 0.6 s or more in all (benchmarks/vad_short.py). A recording shorter than this
# without speech is said to be maybe too short, not silent.
RELIABLE_SPEECH_S = 0.6


def peak_dbfs(samples: np.ndarray) -> float:
    """The loudest sample's level in dBFS (-inf for silence or no samples)."""
    samples = np.asarray(samples, dtype=np.float32)
    return amplitude_dbfs(float(np.max(np.abs(samples))) if samples.size else 0.0)


def amplitude_dbfs(amplitude: float) -> float:
    """An amplitude (1.0 = full scale) in dBFS; -inf for 0."""
    return 20 * math.log10(amplitude) if amplitude > 0 else -math.inf


def quiet_note(level_dbfs: float) -> str | None:
    """Why speech may be missed in a recording whose loudest sample is at ``level_dbfs``, or None."""
    # judged as shown (to 0.1 dB), so that the note never reads "-40.0 dBFS; under -40 dBFS"; digital silence is
    # silence, not a gain problem
    if level_dbfs == -math.inf or round(level_dbfs, 1) >= QUIET_PEAK_DBFS:
        return None
    return (f"very quiet audio (loudest {level_dbfs:.1f} dBFS; under {QUIET_PEAK_DBFS:g} dBFS the voice activity "
            "detector misses more and more speech): raise the microphone's gain")


def no_speech_reason(level_note: str | None, duration_s: float = math.inf) -> str:
    """The error for a recording ``duration_s`` long in which no speech was found: too short to hold any under
    ``SHORTEST_SPEECH_S``, maybe too short under ``RELIABLE_SPEECH_S``, and naming the gain when ``quiet_note``
    blamed it."""
    if duration_s < SHORTEST_SPEECH_S:
        # in ms: a sample at 16 kHz is 0.0625 ms
        return (f"too short to hold speech: {round(duration_s * 1000, 2):g} ms of audio, and the voice activity "
                f"detector finds speech in {round(SHORTEST_SPEECH_S * 1000):g} ms or more")
    said = [level_note] if level_note else []
    if duration_s < RELIABLE_SPEECH_S:
        said.insert(0, f"maybe too short: {duration_s:.2f} s of audio, and the voice activity detector misses "
                       f"some speech under {RELIABLE_SPEECH_S:g} s")
    return f"no speech found: {'; '.join(said)}" if said else NO_SPEECH_FOUND


def too_little_speech_reason(speech_s: float, window_s: float, min_speech_fraction: float,
                             level_note: str | None = None) -> str:
    """The error for a recording in which the VAD found ``speech_s`` of speech but no window of ``window_s`` holds
    ``min_speech_fraction`` of it: speech was heard, so it is not said to be silent."""
    said = (f"too little speech for a window: {speech_s:.1f} s found; a window needs "
            f"{min_speech_fraction * 100:g} % of its {window_s:g} s")
    return f"{said}; {level_note}" if level_note else said


def detect_speech(samples: np.ndarray) -> np.ndarray:
    """Speech decision per 32 ms frame of a whole 16 kHz recording: Silero VAD plus the loud-voice rescue."""
    return speech_frames(with_loud_frames(speech_probabilities(samples), frame_levels_db(samples)))


def speech_frames(probs: np.ndarray, threshold: float = 0.5, release: float = 0.35,
                  min_silence_s: float = 0.1, min_speech_s: float = MIN_SPEECH_S) -> np.ndarray:
    """Boolean speech decision per frame: hysteresis, then short gaps closed and short bursts dropped."""
    speech = np.zeros(probs.size, dtype=bool)
    active = False
    for i, p in enumerate(probs):
        active = p >= threshold if not active else p >= release
        speech[i] = active
    speech = _fill_runs(speech, value=False, max_len=int(round(min_silence_s / VAD_FRAME_S)))
    return _fill_runs(speech, value=True, max_len=int(round(min_speech_s / VAD_FRAME_S)) - 1)


def speech_fraction(speech: np.ndarray, start_s: float, end_s: float) -> float:
    """Share of the frames between ``start_s`` and ``end_s`` that hold speech."""
    first = int(np.floor(start_s / VAD_FRAME_S))
    last = max(first + 1, int(np.ceil(end_s / VAD_FRAME_S)))
    part = speech[first:last]
    return float(part.mean()) if part.size else 0.0


def _fill_runs(mask: np.ndarray, value: bool, max_len: int) -> np.ndarray:
    """Flip runs of ``value`` no longer than ``max_len`` frames (gaps only between two stretches of speech)."""
    if max_len <= 0 or mask.size == 0:
        return mask
    out = mask.copy()
    is_value = (mask == value).astype(np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], is_value, [0]])))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        if not value and (start == 0 or stop == mask.size):
            continue
        if stop - start <= max_len:
            out[start:stop] = not value
    return out
