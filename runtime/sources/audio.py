"""Audio sources: a recorded file (as fast as possible, or paced at real time) and a live microphone.

Both yield ``AudioChunk``s of 16 kHz mono float32 samples stamped with their start on the session clock.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from runtime.clock import SessionClock
from runtime.errors import InputError
from runtime.media import iter_audio
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

    def __init__(self, path: str | Path, sample_rate_hz: int = 16000, chunk_s: float = 0.1,
                 clock: SessionClock | None = None):
        self.path = Path(path)
        self.sample_rate_hz = sample_rate_hz
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
        for block in iter_audio(self.path, self.sample_rate_hz, ended_early.append):
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


class MicrophoneSource:
    """A live capture device through PyAV (ALSA on Linux: ``device="default"``, ``input_format="alsa"``).

    Chunks are stamped by arrival: a chunk that arrives at clock time t ends at t. A device that cannot be
    opened, or that disappears mid-session, raises ``InputError`` naming it; what was captured is kept.
    """

    def __init__(self, device: str = "default", input_format: str = "alsa", sample_rate_hz: int = 16000,
                 clock: SessionClock | None = None):
        self.device = device
        self.input_format = input_format
        self.sample_rate_hz = sample_rate_hz
        self.clock = clock or SessionClock()
        self._container = None

    def open(self) -> None:
        """Open the device now, so a missing one is an error before the session starts (else ``chunks`` does)."""
        if self._container is None:
            config_dir = use_system_alsa_config() if self.input_format == "alsa" else ""
            try:
                with native_stderr(keep=lambda line: not line.startswith("ALSA lib ")):  # its reason is in ours
                    self._container = av.open(self.device, format=self.input_format)
            except (av.error.FFmpegError, ValueError, OSError) as error:
                hint = "" if config_dir is not None else "; no ALSA configuration found: set ALSA_CONFIG_DIR"
                raise InputError(f"{self.input_format}:{self.device}",
                                 f"cannot open audio device ({error}{hint})") from None

    def close(self) -> None:
        """Let go of a device opened but never read (the session could not start)."""
        if self._container is not None:
            self._container.close()
            self._container = None

    def chunks(self) -> Iterator[AudioChunk]:
        self.open()
        container, self._container = self._container, None
        resampler = av.AudioResampler(format="flt", layout="mono", rate=self.sample_rate_hz)
        captured = 0
        try:
            with container:
                for frame in container.decode(audio=0):
                    for out in resampler.resample(frame):
                        samples = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                        end_s = self.clock.now_s()
                        captured += samples.size
                        yield AudioChunk(end_s - samples.size / self.sample_rate_hz, samples, self.sample_rate_hz)
        except av.error.FFmpegError as error:
            raise InputError(f"{self.input_format}:{self.device}", f"audio device stopped ({error})") from None
        # A microphone does not end: a stream that does (a driver letting go, a sound server stopping) is said as
        # a failure is, so that the session's audio track does not read "complete".
        raise InputError(f"{self.input_format}:{self.device}",
                         f"audio stream ended after {captured / self.sample_rate_hz:.1f} s")
