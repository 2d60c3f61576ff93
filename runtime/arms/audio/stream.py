"""The audio arm, window by window: for a live microphone, or a recording replayed at real-time pace.

Each window is judged as soon as its last sample has arrived. Descriptors are computed over the window plus
a short context before it (not over the whole recording, which a live session does not have yet), and the
session baseline is the speaker's speech so far: until enough speech has been heard, windows are judged by
the population ("none") variant. The stream keeps each judged window's features, so that the track made of
the windows (a checkpoint's, the session's at its end) judges them all again against the baseline of them all,
as file mode judges a recording's.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np

from runtime.arms.audio.arm import (
    MISSING_SOURCE,
    STOPPED_EARLY,
    WAVEFORM_BASELINE_NOTE,
    AudioSettings,
    _track_window,
    against_baseline,
    band_settings,
    baseline_variant,
    level_settings,
    without_lost_audio,
)
from runtime.arms.audio.band import (
    BAND_MEASUREMENT,
    frame_band_powers,
    high_band_db,
    speech_band_powers,
    window_high_band_db,
)
from runtime.arms.audio.features import RunningBaseline, feature_names, frame_descriptors, window_features
from runtime.arms.audio.level import (
    LIVE_GAIN_NOTE,
    SESSION_BASELINE_HINT,
    frame_clipped_counts,
    gain_note,
    gain_settings,
    is_clipped,
    trained_range_dbfs,
)
from runtime.arms.audio.model import AudioEmotionModel, WaveformEmotionModel
from runtime.arms.audio.vad import (
    FRAME_SAMPLES,
    NOISE_FLOOR_PERCENTILE,
    VAD_FRAME_S,
    RunningPercentile,
    VoiceActivityDetector,
    amplitude_dbfs,
    frame_levels_db,
    speech_frames,
    with_loud_frames,
)
from runtime.arms.audio.voice_quality import VoiceAnalysis
from runtime.arms.audio.windows import AudioWindow
from runtime.clock import SessionClock
from runtime.errors import InputError, first_line
from runtime.media import MISSING_AUDIO_S, finite_samples
from runtime.sources.audio import AudioChunk, FileAudioSource
from runtime.stopping import STOPPED_BY_USER
from runtime.track import CANONICAL_LABELS, Track, Window, window_grid

log = logging.getLogger(__name__)

CONTEXT_S = 1.0  # audio kept before a window so that pitch and VAD settle before it starts
# A frame's speech decision near a window's end is provisional: a burst cut short there is dropped as too short
# (speech_frames keeps bursts of 0.25 s, closes gaps of 0.1 s). Speech is counted for the baseline once its
# frames are this far behind the newest window's end, as a later window will also see them.
SETTLE_S = 0.5
# The session baseline keeps the windows with speech of this much continuous speech (two hours: 14,400 at a 0.5 s
# hop), counted in windows at the hop in use; with pauses they reach further back, the oldest dropping out first.
MAX_BASELINE_S = 7200.0


class _Frames:
    """One value (or a row of ``width``) per VAD frame or window of everything heard, appended a push at a time.
    The storage doubles when full, so a push copies only what it adds: concatenating copied every frame so far
    each push (1.4 ms a 0.1 s chunk after two hours, growing with the session). What is there is never written
    again (growing writes a new store), so a slice read stays as it was while more is appended."""

    def __init__(self, dtype: type, width: int | None = None):
        self._data = np.zeros((1024,) if width is None else (1024, width), dtype=dtype)
        self.size = 0

    def extend(self, values: np.ndarray) -> None:
        end = self.size + len(values)
        if end > len(self._data):
            grown = np.zeros((max(end, 2 * len(self._data)), *self._data.shape[1:]), dtype=self._data.dtype)
            grown[:self.size] = self._data[:self.size]
            self._data = grown
        self._data[self.size:end] = values
        self.size = end

    def __getitem__(self, key: slice) -> np.ndarray:
        return self._data[:self.size][key]


class AudioStream:
    """Push samples in, get finished windows out."""

    def __init__(self, model: AudioEmotionModel | WaveformEmotionModel, settings: AudioSettings):
        self.model = model
        self.settings = settings
        self.rate = settings.sample_rate_hz
        self._vad = VoiceActivityDetector()
        self._probs = _Frames(np.float32)  # the VAD's speech probability per frame
        self._levels_db = _Frames(np.float64)
        self._band_powers = (_Frames(np.float64), _Frames(np.float64))  # telephone band, high band, a VAD frame
        self._speech_band_powers = np.zeros(3)  # over the speech counted so far: said of the session's band
        self._noise_floor = RunningPercentile(NOISE_FLOOR_PERCENTILE)  # over the frames judged so far
        self._speech_level = RunningPercentile(50.0)  # the speech frames' levels, each counted once (speech_level_dbfs)
        self.gain_said = ""  # the population variant's gain note, said once as windows are judged
        self._buffer = np.zeros(0, dtype=np.float32)
        self._buffer_start_s = 0.0
        self.received_s = 0.0
        self._next_start_s = 0.0
        self._last_end_s = 0.0
        self._baseline = RunningBaseline(max(1, round(MAX_BASELINE_S / settings.hop_s)))  # a window every hop
        self._speech_s = 0.0  # speech heard so far, each VAD frame counted once, as file mode counts it
        self._speech_counted_frames = 0
        self._sum, self._count = 0.0, 0  # of every sample received: their mean is the DC offset removed
        self.peak_amplitude = 0.0  # the loudest sample so far, DC removed: too quiet a voice is named
        # per VAD frame, its samples at full scale as received (``frame_clipped_counts``: before the DC offset is
        # removed); the samples of the frame still incomplete; over the speech counted, clipped samples and frames
        self._clipped = _Frames(np.int64)
        self._unframed = np.zeros(0, dtype=np.float32)
        self._speech_clipped = 0
        self._speech_frames = 0
        self.variants_used: set[str] = set()
        # the end of the last window the population variant judged while the speaker's baseline asked for was
        # forming (``before_baseline``): the variant only moves on to the baseline as speech and windows add up,
        # never back, so those windows are the claiming ones up to this end
        self._before_baseline_until_s = -math.inf
        # each window the feature model judged: its start and features (1.8 kB, 13 MB an hour of speech at a 0.5 s
        # hop), for judging them all again against the baseline of them all (``judged_features``)
        self._feature_starts_s = _Frames(np.float64)
        self._features = _Frames(np.float32, len(feature_names()))

    def push(self, samples: np.ndarray) -> list[Window]:
        samples = np.asarray(samples, dtype=np.float32)
        finite_samples(samples, f"audio input at {self.received_s:.1f} s")
        self._count_clipped(samples)
        self._sum += float(np.sum(samples, dtype=np.float64))
        self._count += samples.size
        if samples.size:  # the DC offset heard so far (file mode removes the whole recording's mean)
            samples = samples - np.float32(self._sum / self._count)
            self.peak_amplitude = max(self.peak_amplitude, float(np.max(np.abs(samples))))
        self._buffer = np.concatenate([self._buffer, samples])
        self.received_s = self._count / self.rate  # as file mode computes a duration: no sum of chunk lengths
        new_probs = self._vad.process(samples)
        self._probs.extend(new_probs)
        self._append_levels(new_probs.size)
        done = []
        while self._next_start_s + self.settings.window_s <= self.received_s + 1e-9:
            self._last_end_s = round(self._next_start_s + self.settings.window_s, 6)  # on file mode's grid
            done.append(self._judge(self._next_start_s, self._last_end_s))
            self._next_start_s = round(self._next_start_s + self.settings.hop_s, 6)
        self._trim()
        return done

    def finish(self) -> list[Window]:
        """The last, shorter window at the end of a recording (as in file mode)."""
        last = self._vad.flush()
        self._count_clipped(np.zeros(0, dtype=np.float32), last_frame=True)
        self._probs.extend(last)
        self._append_levels(last.size)
        last_window = []
        grid = window_grid(self.received_s, self.settings.window_s, self.settings.hop_s)  # file mode's, to agree
        if grid and grid[-1][1] > self._last_end_s:
            last_window = [self._judge(*grid[-1])]
        # nothing comes after: the frames still settling are counted as they stand, so speech_s is the session's
        end_frame = self._probs.size
        first_frame = max(0, end_frame - int(np.ceil((CONTEXT_S + self.settings.window_s) / VAD_FRAME_S)))
        self._count_speech(first_frame, self._speech(first_frame, end_frame), settle_frames=0)
        return last_window

    def _judge(self, start_s: float, end_s: float) -> Window:
        seg_start_s = max(self._buffer_start_s, start_s - CONTEXT_S)
        first = int(round((seg_start_s - self._buffer_start_s) * self.rate))
        last = int(round((end_s - self._buffer_start_s) * self.rate))
        segment = self._buffer[first:last]
        frame0 = int(np.floor(seg_start_s / VAD_FRAME_S))
        last_frame = int(np.ceil(end_s / VAD_FRAME_S))
        speech = self._speech(frame0, last_frame)
        # a hop longer than the window leaves frames between windows: counted from the first not counted yet
        count_from = min(frame0, self._speech_counted_frames)
        self._count_speech(count_from, speech if count_from == frame0 else self._speech(count_from, last_frame),
                           settle_frames=int(np.ceil(SETTLE_S / VAD_FRAME_S)))
        local_start_s, local_end_s = start_s - frame0 * VAD_FRAME_S, end_s - frame0 * VAD_FRAME_S
        a, b = int(np.floor(local_start_s / VAD_FRAME_S)), max(int(np.ceil(local_end_s / VAD_FRAME_S)), 1)
        fraction = float(speech[a:b].mean()) if speech[a:b].size else 0.0
        offset_s = seg_start_s - frame0 * VAD_FRAME_S  # segment start on the local frame grid
        pad = np.zeros(int(round(offset_s * self.rate)), dtype=np.float32)
        local = np.concatenate([pad, segment])
        window = AudioWindow(start_s, end_s, fraction)
        measurements = VoiceAnalysis(local, self.rate, speech).window(local_start_s, local_end_s)
        measurements[BAND_MEASUREMENT] = window_high_band_db(self._frame_band_powers(frame0, frame0 + speech.size),
                                                             speech, local_start_s, local_end_s)
        probs = None
        if fraction >= self.settings.min_speech_fraction and isinstance(self.model, WaveformEmotionModel):
            segment = local[int(round(local_start_s * self.rate)):int(round(local_end_s * self.rate))]
            probs = self.model.predict_segments([segment])[0]
            self.variants_used.add("default")
        elif fraction >= self.settings.min_speech_fraction:
            features = window_features(frame_descriptors(local, self.rate), local_start_s, local_end_s)
            probs, variant = self._classify(features.astype(np.float32))
            if variant == "none" and self.settings.speaker_baseline != "none":
                self._before_baseline_until_s = end_s
            self._feature_starts_s.extend(np.array([start_s]))
            self._features.extend(features[None, :])
        return _track_window(window, probs, measurements)

    def judged_features(self) -> tuple[np.ndarray, np.ndarray]:
        """The start (s) and features of every window the feature model has judged, in order (none for a waveform
        model): as they are now, whatever the stream judges after."""
        return self._feature_starts_s[:], self._features[:]

    def _speech(self, first_frame: int, end_frame: int) -> np.ndarray:
        """Speech decision of frames [first_frame, end_frame), the loud-voice rescue measuring the noise floor
        over every frame before end_frame. Windows end in order, so the floor only takes in new frames; it holds
        every frame before the latest window's end, never one after it."""
        if end_frame < self._noise_floor.count:
            raise RuntimeError(f"audio window ending at frame {end_frame} judged after one ending at "
                               f"{self._noise_floor.count}")
        self._noise_floor.extend(self._levels_db[self._noise_floor.count:end_frame])
        return speech_frames(with_loud_frames(self._probs[first_frame:end_frame],
                                              self._levels_db[first_frame:end_frame],
                                              floor_db=self._noise_floor.value()))

    def _count_speech(self, first_frame: int, speech: np.ndarray, settle_frames: int) -> None:
        """Add the speech of the frames not counted yet that lie ``settle_frames`` or more before this window's
        end: windows overlap (a 2 s window every 0.5 s), so each frame is counted once, and late enough that
        its decision is the one file mode makes of it."""
        settled = max(speech.size - settle_frames, 0)
        new = max(self._speech_counted_frames - first_frame, 0)
        if new < settled:
            self._speech_s += float(np.sum(speech[new:settled])) * VAD_FRAME_S
            powers = self._frame_band_powers(first_frame + new, first_frame + settled)
            self._speech_band_powers += speech_band_powers(powers, speech[new:settled])
            levels_db = self._levels_db[first_frame + new:first_frame + settled]
            self._speech_level.extend(levels_db[speech[new:settled]])
            clipped = self._clipped[first_frame + new:first_frame + settled]
            self._speech_clipped += int(np.sum(clipped[speech[new:settled]]))
            self._speech_frames += int(np.sum(speech[new:settled]))
            self._speech_counted_frames = first_frame + settled

    def _frame_band_powers(self, first_frame: int, end_frame: int) -> np.ndarray:
        """(n, 2): the telephone and high band powers of frames [first_frame, end_frame) (``frame_band_powers``)."""
        return np.stack([band[first_frame:end_frame] for band in self._band_powers], axis=1)

    @property
    def speech_s(self) -> float:
        """The speech counted so far for the session baseline (each 32 ms frame once)."""
        return self._speech_s

    @property
    def speech_level_dbfs(self) -> float | None:
        """The speech's level over the speech counted so far (``level.speech_level_dbfs``); None before any."""
        return self._speech_level.value() if self._speech_level.count else None

    @property
    def clipped_speech_percent(self) -> float | None:
        """The share (%) of the speech's samples at full scale, over the speech counted so far
        (``level.clipped_speech_percent``); None before any."""
        return 100.0 * self._speech_clipped / (self._speech_frames * FRAME_SAMPLES) if self._speech_frames else None

    @property
    def speech_high_band_db(self) -> float | None:
        """The speech's power above about 4 kHz against its telephone band, over the speech counted so far."""
        return high_band_db(self._speech_band_powers)

    def before_baseline(self, window: Window) -> bool:
        """Whether ``window`` was judged without the speaker's baseline that the settings ask for: by the population
        variant, too little speech heard so far (the track judges it again against the session's speech)."""
        return window.has_claim and window.end_s <= self._before_baseline_until_s

    def _classify(self, features: np.ndarray) -> tuple[np.ndarray, str]:
        """A window's probabilities against the baseline so far, and the variant that judged them."""
        z = self._baseline.push(features)
        variant, _ = baseline_variant(self.settings.speaker_baseline, self._speech_s, len(self._baseline),
                                      self.settings.min_baseline_speech_s)
        row = z[None, :] if variant == "session" else features[None, :]
        self.variants_used.add(variant)
        if variant == "none" and not self.gain_said and self._speech_s >= self.settings.window_s:
            # a window's worth of speech settles the level; said once, as the lines it may move are printed
            asked = self.settings.speaker_baseline != "none"  # the speech falls short of it so far
            note = gain_note(self.speech_level_dbfs, trained_range_dbfs(self.model.card.extra),
                             self.settings.min_baseline_speech_s, None if asked else SESSION_BASELINE_HINT,
                             is_clipped(self.clipped_speech_percent))
            if note:
                log.warning("audio input: %s", note)
                self.gain_said = note
        return self.model.predict(row, variant)[0], variant

    def _count_clipped(self, samples: np.ndarray, last_frame: bool = False) -> None:
        """Count the clipped samples of each VAD frame ``samples`` complete, as received; ``last_frame``: the
        recording has ended, its last partial frame zero-padded as the VAD pads it."""
        received = np.concatenate([self._unframed, samples])
        framed = received.size if last_frame else received.size // FRAME_SAMPLES * FRAME_SAMPLES
        self._clipped.extend(frame_clipped_counts(received[:framed]))
        self._unframed = received[framed:]

    def _append_levels(self, n_frames: int) -> None:
        """Levels of the frames the VAD just scored (their samples are still in the buffer)."""
        if n_frames == 0:
            return
        first_frame = self._levels_db.size
        start = int(round((first_frame * VAD_FRAME_S - self._buffer_start_s) * self.rate))
        frames = self._buffer[start:start + n_frames * int(round(VAD_FRAME_S * self.rate))]
        self._levels_db.extend(frame_levels_db(frames)[:n_frames])
        powers = frame_band_powers(frames, self.rate)[:n_frames]
        for band, column in zip(self._band_powers, powers.T, strict=True):
            band.extend(column)

    def _trim(self) -> None:
        # Never the samples of frames whose levels are not taken yet, nor past the buffer's end: with a hop longer
        # than the window, the next window's context starts after samples not scored yet (or not yet received),
        # and dropping them had put the levels behind the VAD's frames for good (no speech after the first window).
        keep_from_s = max(0.0, min(self._next_start_s - CONTEXT_S, self._levels_db.size * VAD_FRAME_S))
        drop = min(int(round((keep_from_s - self._buffer_start_s) * self.rate)), self._buffer.size)
        if drop > 0:
            self._buffer = self._buffer[drop:]
            self._buffer_start_s += drop / self.rate


class VoiceSoFar:
    """The streaming arm's voice track in the making: the stream, the windows kept from it, the gaps and latencies.
    ``track`` builds the track of what is there, at the end (``stream_track``) and, from another thread, for a live
    session's checkpoints: one builder, so that a checkpoint says what the final track says of the windows so far.
    ``file_missing_s``: the stretches a replayed file's reader finds its audio missing, filled as it reads them (its
    ``missing`` is ``file_missing``): a window half in them makes no claim, as in file mode, and they are listed with
    the gaps. ``source_rate_hz``: the rate a replayed file was recorded at (``band_settings``; None for a
    microphone); ``input_notes``: what the track keeps of a replayed file (``voice_input_notes``)."""

    def __init__(self, model: AudioEmotionModel | WaveformEmotionModel, settings: AudioSettings, mode: str,
                 file_missing_s: list[tuple[float, float]] | None = None, source_rate_hz: int | None = None,
                 input_notes: dict[str, str] | None = None):
        self.model, self.settings, self.mode = model, settings, mode
        self.source_rate_hz = source_rate_hz
        self.input_notes = dict(input_notes or {})
        self.stream = AudioStream(model, settings)
        self.file_missing_s = file_missing_s
        self.windows: list[Window] = []
        self.latencies_s: list[float] = []
        self.gaps_s: list[tuple[float, float]] = []  # the device's own (lost samples, its late start)
        self.status = "recording"  # the input's, until it has ended (``stream_track`` sets how)
        # a session replays a file (its reader tells what it finds missing) or hears a microphone: what lost audio
        # is named by that, whichever list a window's loss is in
        self._lost_by = MISSING_SOURCE if file_missing_s is not None else "microphone"
        # held while what a track is built from changes (the stream, its windows, the gaps, the file's missing
        # stretches, the status), and while a track is built
        self.lock = threading.Lock()

    def file_missing(self, stretch_s: tuple[float, float]) -> None:
        """A stretch of audio the replayed file's reader found missing (its ``missing``; ``file_missing_s`` given as a
        list), kept with the lock held."""
        with self.lock:
            self.file_missing_s.append(stretch_s)

    def keep(self, windows: list[Window], now_s: float) -> list[Window]:
        """The stream's finished ``windows`` kept (with the lock held), each with its latency at ``now_s``."""
        kept = []
        for window in windows:
            self.latencies_s.append(now_s - window.end_s)
            # one list, so that a window half lost between the two makes no claim
            kept.append(without_lost_audio(window, self.gaps_s + list(self.file_missing_s or []), self._lost_by))
        self.windows += kept
        return kept

    def track(self) -> Track:
        """The voice track of the windows kept so far, its input's status said: what the track at the end says of
        them, from its input's notes to whether that input is still recording. Each window the feature model
        judged is judged again (``judged_again``) against the baseline of all of them: the lines said as the
        session went judged each against the speech until then."""
        model, settings = self.model, self.settings
        with self.lock:
            stream, windows = self.stream, list(self.windows)
            starts_s, features = stream.judged_features()
            speech_s, judged_live = stream.speech_s, sorted(stream.variants_used)
            level_dbfs, live_gain = stream.speech_level_dbfs, stream.gain_said
            clipped_percent = stream.clipped_speech_percent
            latency = np.asarray(self.latencies_s) if self.latencies_s else np.zeros(1)
            track_settings = {
                "window_s": settings.window_s, "hop_s": settings.hop_s,
                "sample_rate_hz": settings.sample_rate_hz, "mode": self.mode, "status": self.status,
                "speaker_baseline": settings.speaker_baseline, "speech_s": round(speech_s, 3),
                "min_speech_fraction": settings.min_speech_fraction, "feature_set": model.feature_set,
                "gaps": [list(gap) for gap in sorted(self.gaps_s + list(self.file_missing_s or []))],
                "latency_s_max": round(float(latency.max()), 4),
                "latency_s_p95": round(float(np.percentile(latency, 95)), 4),
                **level_settings(amplitude_dbfs(stream.peak_amplitude), clipped_percent),
                **band_settings(stream.speech_high_band_db, windows, self.source_rate_hz),
                **self.input_notes,
            }
        windows, variant, note = self.judged_again(windows, starts_s, features, speech_s)
        if variant != "default" and settings.speaker_baseline == "session":  # said live, each was judged otherwise
            judged_by = "against it" if variant == "session" else "by the population model"
            note += (f"; every window judged {judged_by} as the track was made, as file mode judges a recording's "
                     f"(as each ended: against the speech until then, by the population model until "
                     f"{settings.min_baseline_speech_s:.0f} s of it: live_variants_used)")
        return Track(
            name="audio",
            labels=list(model.labels),
            unsupported_labels=[label for label in CANONICAL_LABELS if label not in model.labels],
            windows=windows,
            model=model.identity(variant),
            settings={**track_settings,
                      **gain_settings(level_dbfs, variant, trained_range_dbfs(model.card.extra),
                                      settings.min_baseline_speech_s, settings.speaker_baseline != "none",
                                      is_clipped(clipped_percent)),
                      # said as the windows were judged: not said again as the track's notes are
                      **({LIVE_GAIN_NOTE: live_gain} if live_gain else {}),
                      "variants_used": [variant] if judged_live else [],
                      "live_variants_used": judged_live, "speaker_baseline_note": note},
        )

    def judged_again(self, windows: list[Window], starts_s: np.ndarray, features: np.ndarray,
                     speech_s: float) -> tuple[list[Window], str, str]:
        """``windows`` with those the feature model judged (starting at ``starts_s``, of ``features``) judged again
        as file mode judges a recording's, by one variant, with the variant and why: all against the baseline of
        them all where ``speech_s`` of speech is enough for one, else all by the population model. A waveform
        model's windows as they were judged: it reads no baseline."""
        if isinstance(self.model, WaveformEmotionModel):
            return windows, "default", WAVEFORM_BASELINE_NOTE
        # outside the lock: about 0.3 s an hour into a session, while the voice goes on
        rows, variant, note = against_baseline(features, speech_s, self.settings)
        with self.lock:  # the voice's thread runs the model too: one run at a time (TFLite's interpreter needs it)
            probs = self.model.predict(rows, variant)
        by_start = dict(zip(starts_s.tolist(), probs, strict=True))
        # a window lost to a gap keeps no claim; its features are in the baseline, as file mode's are
        return [replace(w, probs=[float(p) for p in by_start[w.start_s]]) if w.probs is not None else w
                for w in windows], variant, note


def stream_track(chunks: Iterable[AudioChunk], voice: VoiceSoFar, clock: SessionClock,
                 on_window: Callable[[Window], None] | None = None) -> Track:
    """Run the streaming arm over timestamped chunks into ``voice``, recording each window's latency on the
    session clock; ``on_window`` is told each window as it is kept. Returns ``voice``'s track.

    A source that fails mid-session (a microphone unplugged) ends the track where it stopped: the windows
    judged so far are kept and the failure is recorded in the track's settings as its status.
    """
    stream = voice.stream
    status = "complete"

    def push(samples: np.ndarray) -> None:
        with voice.lock:
            kept = voice.keep(stream.push(samples), clock.now_s())
        for window in kept if on_window is not None else ():  # outside the lock: a line may wait on its reader
            on_window(window)

    try:
        for chunk in chunks:
            missing_s = chunk.start_s - stream.received_s
            if missing_s >= MISSING_AUDIO_S:  # samples the device lost (or its late start): silence, recorded as a gap
                with voice.lock:
                    voice.gaps_s.append((round(stream.received_s, 3), round(chunk.start_s, 3)))
                log.warning("audio input: no sound from %.1f to %.1f s of the session (a gap in the voice track)",
                            *voice.gaps_s[-1])
                push(np.zeros(int(round(missing_s * stream.rate)), dtype=np.float32))
            push(chunk.samples)
    except InputError as error:
        status = f"{STOPPED_EARLY}{error}"
    except KeyboardInterrupt:  # the clinician ended a live session: what was judged is kept
        status = STOPPED_BY_USER
    except Exception as error:  # the input failed in a way of its own: the windows so far are kept all the same
        status = f"{STOPPED_EARLY}the audio input failed ({type(error).__name__}: {error})"
    try:
        with voice.lock:
            kept = voice.keep(stream.finish(), clock.now_s())
        for window in kept if on_window is not None else ():
            on_window(window)
    except Exception as error:  # a defect judging the last, short window: the windows judged before it are kept
        status = f"{STOPPED_EARLY}the last window could not be judged ({type(error).__name__}: {first_line(error)})"
        log.warning("audio input: %s", status.removeprefix(STOPPED_EARLY))
    with voice.lock:  # from now on a checkpoint says how the input ended, as the track does
        voice.status = status
    return voice.track()


def warm_up(model: AudioEmotionModel | WaveformEmotionModel, settings: AudioSettings) -> None:
    """Load every model variant and run each step once, so the first live window is not the slow one."""
    rng = np.random.default_rng(0)
    noise = (rng.normal(0, 0.05, int(settings.window_s * settings.sample_rate_hz))).astype(np.float32)
    speech = np.ones(int(np.ceil(settings.window_s / VAD_FRAME_S)), dtype=bool)
    VoiceAnalysis(noise, settings.sample_rate_hz, speech).window(0.0, settings.window_s)
    VoiceActivityDetector().process(noise)
    if isinstance(model, WaveformEmotionModel):
        model.predict_segments([noise])
        return
    features = window_features(frame_descriptors(noise, settings.sample_rate_hz), 0.0, settings.window_s)
    for variant in ("session", "none"):
        model.predict(features[None, :].astype(np.float32), variant)


def analyze_audio_paced(path: str | Path, model: AudioEmotionModel | WaveformEmotionModel, settings: AudioSettings,
                        clock: SessionClock | None = None, source_rate_hz: int | None = None) -> Track:
    """Replay a recording at real-time pace through the streaming arm, as a live device would deliver it
    (``source_rate_hz``: the rate it was recorded at, ``band_settings``)."""
    warm_up(model, settings)
    clock = clock or SessionClock()
    voice = VoiceSoFar(model, settings, "paced", [], source_rate_hz)
    chunks = FileAudioSource(path, settings.sample_rate_hz, clock=clock, audio_stream=settings.stream,
                             missing=voice.file_missing).chunks()
    # a file that fails before its first chunk (a sound stream holding nothing) fails as the file read does (the
    # caller loses the voice, or says why), not as a track stopped at 0 s
    first = next(chunks, None)
    return stream_track(itertools.chain([] if first is None else [first], chunks), voice, clock)
