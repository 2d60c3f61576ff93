"""Small media files made on the spot with PyAV, for tests: tones, speech slices, videos with or without audio."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def tone(duration_s: float, sample_rate_hz: int = 48000, frequency_hz: float = 220.0) -> np.ndarray:
    t = np.arange(int(round(duration_s * sample_rate_hz))) / sample_rate_hz
    return (0.3 * np.sin(2 * np.pi * frequency_hz * t)).astype(np.float32)


def write_media(path: Path, samples: np.ndarray | None, sample_rate_hz: int = 48000, audio_codec: str = "aac",
                video_codec: str | None = None, video_s: float = 0.0, fps: int = 10,
                audio_start_s: float = 0.0) -> Path:
    """Write a container with an optional mono audio stream and an optional grey test-pattern video stream."""
    with av.open(str(path), "w") as container:
        video = None
        if video_codec:
            video = container.add_stream(video_codec, rate=fps)
            video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = None
        if samples is not None:
            audio = container.add_stream(audio_codec, rate=sample_rate_hz, layout="mono")
        if video is not None:
            for i in range(int(round(video_s * fps))):
                image = np.full((48, 64, 3), (i * 7) % 255, dtype=np.uint8)
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                for packet in video.encode(frame):
                    container.mux(packet)
            for packet in video.encode():
                container.mux(packet)
        if audio is not None:
            fmt = audio.codec_context.format.name
            frame_size = audio.codec_context.frame_size or 1024
            pts = int(round(audio_start_s * sample_rate_hz))
            for start in range(0, samples.size, frame_size):
                block = samples[start:start + frame_size]
                frame = _audio_frame(block, fmt, sample_rate_hz)
                frame.pts = pts + start
                frame.time_base = Fraction(1, sample_rate_hz)
                for packet in audio.encode(frame):
                    container.mux(packet)
            for packet in audio.encode():
                container.mux(packet)
    return path


def _audio_frame(block: np.ndarray, fmt: str, sample_rate_hz: int) -> av.AudioFrame:
    planar = fmt.endswith("p")
    if fmt.startswith("s16"):
        data = np.round(block * 32767).astype(np.int16)
    elif fmt.startswith("s32"):
        data = np.round(block * 2147483647).astype(np.int32)
    else:
        data = block.astype(np.float32)
    frame = av.AudioFrame.from_ndarray(data.reshape(1, -1), format=fmt, layout="mono")
    frame.sample_rate = sample_rate_hz
    _ = planar
    return frame
