"""Audio sources: a recorded file (as fast as possible, or paced at real time) and a live microphone.

Both yield ``AudioChunk``s of 16 kHz mono float32 samples stamped with their start on the session clock.
"""

from __future__ import annotations

import math
import os
import queue
import threading
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from runtime.audio_rate import AUDIO_RATE_HZ
from runtime.clock import SessionClock
from runtime.errors import InputError
from runtime.media import MISSING_AUDIO_S, MonoDownmix, Resampler, iter_audio
from runtime.native import native_stderr


@dataclass(frozen=True)
class AudioChunk:
    start_s: float
    samples: np.ndarray
    sample_rate_hz: int

    @property
    def end_s(self) -> float:
        return self.start_s + self.samples.size / self.sample_rate_hz


class FileAudioSource:
    """A recorded file. With a clock, each chunk is released only when the clock reaches its end (real-time pace)."""

    def __init__(self, path: str | Path, sample_rate_hz: int = AUDIO_RATE_HZ, chunk_s: float = 0.1,
                 clock: SessionClock | None = None, audio_stream: int = 1,
                 missing: Callable[[tuple[float, float]], None] | None = None, checks_stop: bool = True):
        self.path = Path(path)
        self.checks_stop = checks_stop  # False: the caller asks at each chunk (``iter_audio``'s)
        self.missing = missing  # told each stretch of missing audio the reader fills (``iter_audio``'s)
        self.sample_rate_hz = sample_rate_hz
        self.audio_stream = audio_stream  # which of the file's audio streams, from 1
        self.chunk_samples = max(1, int(round(chunk_s * sample_rate_hz)))
        self.clock = clock

    def close(self) -> None:
        """Nothing is held before ``chunks`` reads the file."""

    def chunks(self) -> Iterator[AudioChunk]:
        """The file's chunks; one whose audio ends early (cut short) raises ``InputError`` after its last chunk,
        as a microphone that stops does, so that the track says why it ends there."""
        pending = np.zeros(0, dtype=np.float32)
        emitted = 0
        ended_early: list[str] = []
        for block in iter_audio(self.path, self.sample_rate_hz, ended_early.append, self.audio_stream, self.missing,
                                checks_stop=self.checks_stop):
            pending = np.concatenate([pending, block])
            while pending.size >= self.chunk_samples:
                chunk, pending = pending[:self.chunk_samples], pending[self.chunk_samples:]
                yield self._release(emitted, chunk)
                emitted += chunk.size
        if pending.size:
            yield self._release(emitted, pending)
        if ended_early:
            raise InputError(self.path, ended_early[0])

    def _release(self, first_sample: int, samples: np.ndarray) -> AudioChunk:
        chunk = AudioChunk(first_sample / self.sample_rate_hz, samples, self.sample_rate_hz)
        if self.clock is not None:
            self.clock.wait_until(chunk.end_s)
        return chunk


# PyAV's wheels carry an alsa-lib built to read its configuration from a folder of their build machine
# (/tmp/vendor/share/alsa): without it ALSA knows no device name, not even "default", and every microphone
# fails to open with "Input/output error". The system's configuration (Debian's libasound2-data) is used instead.
SYSTEM_ALSA_CONFIG_DIRS = ("/usr/share/alsa", "/usr/local/share/alsa")


def use_system_alsa_config(environ: MutableMapping[str, str] = os.environ,
                           folders: Sequence[str] = SYSTEM_ALSA_CONFIG_DIRS) -> str | None:
    """Point alsa-lib at the system's configuration folder (``ALSA_CONFIG_DIR``), unless one is set already.
    Returns the folder alsa-lib will read, None when no system folder holds an ``alsa.conf``. alsa-lib reads the
    variable once, at the first device a process opens, so this comes before it."""
    if environ.get("ALSA_CONFIG_DIR"):
        return environ["ALSA_CONFIG_DIR"]
    for folder in folders:
        if Path(folder, "alsa.conf").is_file():
            environ["ALSA_CONFIG_DIR"] = folder
            return folder
    return None


# The kernel's list of sound cards. alsa-lib fails alike ("Input/output error") for a machine without a sound card
# and for a device name it does not know: the list tells the two apart for the hint.
SOUND_CARDS_FILE = Path("/proc/asound/cards")


def alsa_open_hint(cards_file: Path = SOUND_CARDS_FILE) -> str:
    """What to try when an ALSA capture device will not open: a machine without a sound card needs one (or a
    session without the microphone); one with a card, the name of its capture device."""
    try:
        cards = cards_file.read_text(errors="replace")
        listed = f"{cards_file} lists none"
    except OSError:  # no ALSA in the kernel (or the container): no card either
        cards, listed = "", f"no {cards_file}"
    if not cards.strip() or "no soundcards" in cards:
        return f"no sound card here ({listed}): connect a microphone, or --no-mic for a session without one"
    return "`arecord -L` lists the names --mic takes; --no-mic for a session without one"


# A capture device that delivers nothing this long is gone, though its read has not failed (a stalled sound
# server, a USB device hung): an ALSA period is 10-100 ms.
STALL_S = 5.0
WALL_CLOCK_TOLERANCE_S = 3600.0  # a device time this close to the wall clock is one (ALSA stamps capture so)


class MicrophoneSource:
    """A live capture device through PyAV (ALSA on Linux: ``device="default"``, ``input_format="alsa"``).

    A reader thread keeps draining the device while the session judges windows, so the device's buffer never
    overruns for want of a read, and a device that stalls inside its read cannot hold the session: after
    ``STALL_S`` without sound it is said to have stalled. Chunks are placed on the session clock by the device's
    own capture times where it gives them (ALSA stamps each read with the wall-clock time of its first sample):
    samples the device lost leave a gap in the stamps, never a shift of what follows. A device that cannot be
    opened, or that disappears or stalls mid-session, raises ``InputError`` naming it; what was captured is kept.
    """

    def __init__(self, device: str = "default", input_format: str = "alsa", sample_rate_hz: int = AUDIO_RATE_HZ,
                 clock: SessionClock | None = None, stall_s: float = STALL_S):
        self.device = device
        self.input_format = input_format
        self.sample_rate_hz = sample_rate_hz
        self.clock = clock or SessionClock()
        self.stall_s = stall_s
        self._container = None
        self._opened_s = 0.0

    @property
    def name(self) -> str:
        return f"{self.input_format}:{self.device}"

    def open(self) -> None:
        """Open the device now, so a missing one is an error before the session starts (else ``chunks`` does)."""
        if self._container is None:
            config_dir = use_system_alsa_config() if self.input_format == "alsa" else ""
            try:
                with native_stderr(keep=lambda line: not line.startswith("ALSA lib ")):  # its reason is in ours
                    self._container = av.open(self.device, format=self.input_format)
            except (av.error.FFmpegError, ValueError, OSError) as error:
                raise InputError(self.name, f"cannot open audio device ({error}{self._open_hint(config_dir)})") \
                    from None
            if not self._container.streams.audio:  # a camera given as the microphone
                self.close()
                raise InputError(self.name, "has no audio stream")
            self._opened_s = self.clock.now_s()

    def _open_hint(self, config_dir: str | None) -> str:
        """The hint after a device's open error: ALSA's configuration first, as without it no name opens."""
        if config_dir is None:
            return "; no ALSA configuration found: set ALSA_CONFIG_DIR"
        return f"; {alsa_open_hint()}" if self.input_format == "alsa" else ""

    def close(self) -> None:
        """Let go of a device opened but never read (the session could not start)."""
        if self._container is not None:
            self._container.close()
            self._container = None

    def chunks(self) -> Iterator[AudioChunk]:
        """The device's sound, chunk by chunk, until it fails, ends or stalls (``InputError`` after the last
        chunk) or the caller stops asking; asks for the session's stop while it waits."""
        from runtime.stopping import raise_if_stop_asked

        self.open()
        container, self._container = self._container, None
        arrived: queue.Queue = queue.Queue()
        stop = threading.Event()
        reader = threading.Thread(target=self._read, args=(container, arrived, stop), name="live-microphone",
                                  daemon=True)
        reader.start()
        placed = CapturePlacement(self.sample_rate_hz, self._opened_s, self.clock.started_at_utc.timestamp())
        waited_s = 0.0
        try:
            while True:
                try:
                    item = arrived.get(timeout=0.2)
                except queue.Empty:
                    raise_if_stop_asked()  # a stop reaches the session while the device says nothing
                    waited_s += 0.2
                    if waited_s >= self.stall_s:
                        raise InputError(self.name, f"audio device stalled: no sound for {self.stall_s:g} s "
                                                    f"after {placed.captured_s:.1f} s") from None
                    continue
                waited_s = 0.0
                if isinstance(item, InputError):
                    raise item
                samples, device_time_s, arrival_s = item
                yield AudioChunk(placed.start_s(samples.size, device_time_s, arrival_s), samples,
                                 self.sample_rate_hz)
        finally:
            stop.set()  # a reader blocked inside the device's read is left to end with the process (a daemon)

    def _read(self, container: av.container.InputContainer, arrived: queue.Queue, stop: threading.Event) -> None:
        """The reader thread: each resampled block with the capture time of its input frame (None where the
        device gives none) and the session time it was read at, then the reason it ended as an ``InputError``."""
        resampler, mono = Resampler(self.sample_rate_hz), MonoDownmix()
        captured = 0
        try:
            with container:
                for frame in container.decode(audio=0):
                    if stop.is_set():
                        return
                    device_time_s, arrival_s = frame.time, self.clock.now_s()
                    for out in resampler.resample(frame):
                        samples = mono(out)  # as a recorded file's are, not FFmpeg's louder downmix
                        captured += samples.size
                        arrived.put((samples, device_time_s, arrival_s))
                        device_time_s = None  # a frame's later blocks follow its first without a stamp
        except av.error.FFmpegError as error:
            arrived.put(InputError(self.name, f"audio device stopped ({error})"))
            return
        except Exception as error:  # the reader's own failure: said as the device's, never lost in the thread
            arrived.put(InputError(self.name, f"audio device stopped ({type(error).__name__}: {error})"))
            return
        # A microphone does not end: a stream that does (a driver letting go, a sound server stopping) is said as
        # a failure is, so that the session's audio track does not read "complete".
        arrived.put(InputError(self.name, f"audio stream ended after {captured / self.sample_rate_hz:.1f} s"))


class CapturePlacement:
    """Where a capture device's chunks lie on the session clock.

    The first chunk starts at its capture time where the device stamps it on the wall clock (ALSA does), else
    where the device was opened; each later one follows the samples before it, unless the device's stamps run
    ahead of them by ``MISSING_AUDIO_S`` or more: samples it lost, placed as a gap. A stamp later than the chunk's
    arrival allows (its arrival less its length), or behind the samples by ``MISSING_AUDIO_S``, is the device's clock
    moving, not sound lost (the wall clock set by hand or by a time server): the chunk follows the samples and
    later stamps are measured from there. A chunk never moves back over one before it. Not told apart: sound
    lost in the very chunk whose stamp moved, and a sample clock running fast (followed: 0.07 s an hour at
    20 ppm); one running slow is kept in step by a short gap about every MISSING_AUDIO_S of drift.
    """

    def __init__(self, sample_rate_hz: int, opened_s: float, wall_clock_start_s: float):
        self.sample_rate_hz = sample_rate_hz
        self.opened_s = opened_s
        self.wall_clock_start_s = wall_clock_start_s
        self._next_s: float | None = None  # where the next chunk starts if nothing is lost
        self._device_origin_s: float | None = None  # device time minus session time
        self.captured_s = 0.0  # sound received, in seconds

    def start_s(self, n_samples: int, device_time_s: float | None, arrival_s: float | None = None) -> float:
        """Where a chunk of ``n_samples`` starts, from its device stamp and the session time it was read at."""
        length_s = n_samples / self.sample_rate_hz
        if self._next_s is None:  # a start within MISSING_AUDIO_S of the session's is its start, as later jitter is
            first_s = self._first_start_s(device_time_s)
            self._next_s = first_s if first_s >= MISSING_AUDIO_S else 0.0
        if device_time_s is not None:
            if self._device_origin_s is None:
                self._device_origin_s = device_time_s - self._next_s
            stamped_s = device_time_s - self._device_origin_s
            latest_s = math.inf if arrival_s is None else arrival_s - length_s  # captured before it was read
            if not self._next_s - MISSING_AUDIO_S < stamped_s <= latest_s + MISSING_AUDIO_S:
                self._device_origin_s = device_time_s - self._next_s  # the device's clock moved: no sound lost
            elif stamped_s - self._next_s >= MISSING_AUDIO_S:
                self._next_s = stamped_s
        start_s = self._next_s
        self._next_s = start_s + length_s
        self.captured_s += length_s
        return start_s

    def _first_start_s(self, device_time_s: float | None) -> float:
        if device_time_s is not None and abs(device_time_s - self.wall_clock_start_s) < WALL_CLOCK_TOLERANCE_S:
            return max(0.0, device_time_s - self.wall_clock_start_s)
        return self.opened_s
