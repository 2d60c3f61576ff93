"""Small media files made on the spot with PyAV, for tests: tones, speech slices, videos with or without audio,
and the same damaged (a corrupt packet, a lost run of transport-stream packets) or cut short."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def tone(duration_s: float, sample_rate_hz: int = 48000, frequency_hz: float = 220.0) -> np.ndarray:
    t = np.arange(int(round(duration_s * sample_rate_hz))) / sample_rate_hz
    return (0.3 * np.sin(2 * np.pi * frequency_hz * t)).astype(np.float32)


LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1"}


def write_media(path: Path, samples: np.ndarray | None, sample_rate_hz: int = 48000, audio_codec: str = "aac",
                video_codec: str | None = None, video_s: float = 0.0, fps: int = 10,
                audio_start_s: float = 0.0, lost_s: tuple[float, float] | None = None, lost_every: int = 0,
                audio_stamp_scale: float = 1.0, audio_bit_rate: int | None = None, gop: int | None = None,
                detailed_px: tuple[int, int] | None = None, b_frames: int = 0,
                audio_stamp_error_s: Callable[[int], float] | None = None, dtx: bool = False) -> Path:
    """Write a container with an optional audio stream and an optional grey test-pattern video stream.

    ``samples``: (n,) for mono, (n, channels) for more. ``audio_start_s`` may be negative (audio stamped before
    the file's start). ``lost_s``: the audio frames starting in that [start, end) stretch are left out, as packets
    lost in a recording; ``lost_every``: every ``lost_every``-th audio frame is left out too (0: none), as single
    packets lost by a call's recorder. ``audio_stamp_scale``: the audio's stamps advance that many times its
    samples' own time (a recorder stamping by a clock other than the sound card's). ``audio_stamp_error_s``: the
    seconds added to the stamp of the audio frame of each index (a recorder's jitter), never before the one before.
    ``gop``: frames from one keyframe to the next (the encoder's own choice when None). ``dtx``: Opus's
    discontinuous transmission, a packet of a few bytes a frame in silence (``as_webrtc_dtx`` thins them out).
    ``detailed_px`` (width, height): frames of that size holding a fixed random picture moving sideways, each
    many transport packets in an MPEG-TS file, instead of small flat grey ones. ``b_frames``: with ``gop``, the
    B-frames between references (0: none, as a camera streams; a camcorder's .mts has 2).
    """
    channels = 1 if samples is None or samples.ndim == 1 else samples.shape[1]
    options = {"avoid_negative_ts": "disabled"} if audio_start_s < 0 else {}
    with av.open(str(path), "w", options=options) as container:
        video = None
        if video_codec:
            video = container.add_stream(video_codec, rate=fps)
            width, height = detailed_px or (64, 48)
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            if gop and video_codec == "libx264":  # no cut at a scene change
                video.options = {"g": str(gop), "keyint_min": str(gop), "sc_threshold": "0", "bf": str(b_frames)}
            elif gop:
                video.codec_context.gop_size = gop
        audio = None
        if samples is not None:
            audio = container.add_stream(audio_codec, rate=sample_rate_hz, layout=LAYOUTS[channels])
            if audio_bit_rate:
                audio.codec_context.bit_rate = audio_bit_rate
            if dtx:
                audio.codec_context.options = {"dtx": "1"}
        if video is not None:
            detail = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
            for i in range(int(round(video_s * fps))):
                image = np.roll(detail, 3 * i, axis=1) if detailed_px else np.full((48, 64, 3), (i * 7) % 255, np.uint8)
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                for packet in video.encode(frame):
                    container.mux(packet)
            for packet in video.encode():
                container.mux(packet)
        if audio is not None:
            fmt = audio.codec_context.format.name
            frame_size = audio.codec_context.frame_size or 1024
            pts = int(round(audio_start_s * sample_rate_hz))
            lost = [int(round(t * sample_rate_hz)) for t in lost_s] if lost_s else [0, 0]
            last_pts = pts - 1
            for index, start in enumerate(range(0, len(samples), frame_size)):
                if lost[0] <= start < lost[1] or (lost_every and index % lost_every == lost_every - 1):
                    continue
                frame = _audio_frame(samples[start:start + frame_size], fmt, sample_rate_hz, LAYOUTS[channels])
                error_s = audio_stamp_error_s(index) if audio_stamp_error_s else 0.0
                # a muxer takes no stamp going back: one past its next is held just after the one before it
                frame.pts = last_pts = max(last_pts + 1, pts + int(round(start * audio_stamp_scale
                                                                           + error_s * sample_rate_hz)))
                frame.time_base = Fraction(1, sample_rate_hz)
                for packet in audio.encode(frame):
                    container.mux(packet)
            for packet in audio.encode():
                container.mux(packet)
    return path


DTX_PACKET_BYTES = 3  # libopus's packets in silence with DTX on


def as_webrtc_dtx(path: Path, out: Path, every: int = 20) -> Path:
    """The Opus stream of ``path`` (written with ``dtx``) as a WebRTC recorder writes it: of each run of DTX packets
    only the first and every ``every``-th after it (400 ms of 20 ms frames) is kept, the ones between left out."""
    with av.open(str(path)) as source, av.open(str(out), "w") as target:
        audio = target.add_stream_from_template(source.streams.audio[0])
        run = 0
        for packet in source.demux(audio=0):
            if packet.dts is None:
                continue
            run = run + 1 if packet.size <= DTX_PACKET_BYTES else 0
            if run and run % every != 1:
                continue
            packet.stream = audio
            target.mux(packet)
    return out


def write_audio_streams(path: Path, streams: list[np.ndarray], sample_rate_hz: int = 48000,
                        audio_codec: str = "aac") -> Path:
    """A container of one mono audio stream per array of ``streams`` (two microphones recorded apart)."""
    with av.open(str(path), "w") as container:
        outputs = [container.add_stream(audio_codec, rate=sample_rate_hz, layout="mono") for _ in streams]
        for output, samples in zip(outputs, streams, strict=True):
            fmt = output.codec_context.format.name
            frame_size = output.codec_context.frame_size or 1024
            for start in range(0, len(samples), frame_size):
                frame = _audio_frame(samples[start:start + frame_size], fmt, sample_rate_hz)
                frame.pts, frame.time_base = start, Fraction(1, sample_rate_hz)
                for packet in output.encode(frame):
                    container.mux(packet)
            for packet in output.encode():
                container.mux(packet)
    return path


def with_cover_art(path: Path, samples: np.ndarray) -> Path:
    """An MP3 of mono ``samples`` at 16 kHz carrying a cover picture, as a music player's tags store it: a video
    stream of one JPEG frame marked as an attached picture."""
    with av.open(str(path), "w", format="mp3") as container:
        audio = container.add_stream("libmp3lame", rate=16000, layout="mono")
        cover = container.add_stream("mjpeg", rate=1)
        cover.width, cover.height, cover.pix_fmt = 64, 64, "yuvj420p"
        cover.disposition = av.stream.Disposition.attached_pic
        for packet in cover.encode(av.VideoFrame.from_ndarray(np.full((64, 64, 3), 200, np.uint8), format="rgb24")):
            container.mux(packet)
        for packet in cover.encode():
            container.mux(packet)
        for start in range(0, len(samples), 1152):
            frame = _audio_frame(samples[start:start + 1152], audio.codec_context.format.name, 16000)
            frame.pts, frame.time_base = start, Fraction(1, 16000)
            for packet in audio.encode(frame):
                container.mux(packet)
        for packet in audio.encode():
            container.mux(packet)
    return path


def _audio_frame(block: np.ndarray, fmt: str, sample_rate_hz: int, layout: str = "mono") -> av.AudioFrame:
    """(n,) or (n, channels) float samples as one frame: interleaved for a packed format, a row a channel for a
    planar one."""
    if fmt.startswith("u8"):  # silent at 128
        data = (np.round(block * 127) + 128).astype(np.uint8)
    elif fmt.startswith("s16"):
        data = np.round(block * 32767).astype(np.int16)
    elif fmt.startswith("s32"):
        data = np.round(block.astype(np.float64) * 2147483647).astype(np.int32)  # float32 rounds 1.0 past int32
    else:
        data = block.astype(np.float32)
    data = data.reshape(len(block), -1)  # (n, channels)
    data = data.T if fmt.endswith("p") else data.reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format=fmt, layout=layout)
    frame.sample_rate = sample_rate_hz
    return frame


def damage(path: Path, kind: str, at_s: float | None = None) -> list[float]:
    """Zero the bytes of the ``kind`` ("audio" or "video") packet nearest ``at_s`` (every one when None), as a
    recording damaged there; returns the times of the packets damaged. Only payloads are touched, so the container
    stays readable: what fails is decoding (check it with ``undecodable_s``)."""
    with av.open(str(path)) as container:
        packets = [(float(p.pts * p.time_base), p.pos, bytes(p)) for p in container.demux(**{kind: 0})
                   if p.size and p.pts is not None]
    if at_s is not None:
        packets = [min(packets, key=lambda p: abs(p[0] - at_s))]
    data = bytearray(path.read_bytes())
    for _, pos, payload in packets:
        start = data.find(payload, pos)  # Matroska's pos is its block's, a few header bytes before the payload
        assert 0 <= start - pos < 32, "payload not found where the packet lies"
        data[start:start + len(payload)] = bytes(len(payload))
    path.write_bytes(bytes(data))
    return [t_s for t_s, _, _ in packets]


TS_PACKET_BYTES = 188


def drop_transport_packets(path: Path, from_s: float, to_s: float) -> None:
    """Remove from an MPEG-TS file the transport packets carrying the video frames of [from_s, to_s), as a network
    glitch loses them: the stamps jump and the continuity counters break there."""
    with av.open(str(path)) as container:  # a video alone, without B-frames: file order is time order
        starts = [(float(p.pts * p.time_base), p.pos) for p in container.demux(video=0) if p.size]
    origin_s = starts[0][0]
    lost = [i for i, (t_s, _) in enumerate(starts) if from_s <= t_s - origin_s < to_s]
    first, after = starts[lost[0]][1], starts[lost[-1] + 1][1]
    assert first % TS_PACKET_BYTES == 0, "the frames do not start where a transport packet does"
    data = path.read_bytes()
    path.write_bytes(data[:first] + data[after:])


def drop_transport_packets_inside(path: Path, at_s: float, share: float, count: int) -> None:
    """Remove ``count`` of the transport packets carrying the video frame at ``at_s``, from ``share`` of the way
    into them: a glitch cutting into one frame's picture, as a lost packet usually does (a frame spans many)."""
    with av.open(str(path)) as container:  # a video alone, without B-frames: file order is time order
        starts = [(float(p.pts * p.time_base), p.pos) for p in container.demux(video=0) if p.size]
    origin_s = starts[0][0]
    index = next(i for i, (t_s, _) in enumerate(starts) if abs(t_s - origin_s - at_s) < 1e-3)
    data = path.read_bytes()
    pid = data[starts[index][1] + 1:starts[index][1] + 3]
    end = starts[index + 1][1] if index + 1 < len(starts) else len(data)
    own = [pos for pos in range(starts[index][1], end, TS_PACKET_BYTES)
           if (data[pos + 1] & 0x1F, data[pos + 2]) == (pid[0] & 0x1F, pid[1])]
    first = int(len(own) * share)
    lost = set(own[first:first + count])
    path.write_bytes(b"".join(data[pos:pos + TS_PACKET_BYTES] for pos in range(0, len(data), TS_PACKET_BYTES)
                              if pos not in lost))


def undecodable_s(path: Path, kind: str) -> list[float]:
    """The times of the ``kind`` packets that PyAV alone fails to decode."""
    failed = []
    with av.open(str(path)) as container:
        for packet in container.demux(**{kind: 0}):
            try:
                packet.decode()
            except av.error.FFmpegError:
                failed.append(float(packet.pts * packet.time_base))
    return failed


def cut_short(path: Path, fraction: float) -> Path:
    """Keep the first ``fraction`` of the file's bytes, as a copy or an upload that stopped."""
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * fraction)])
    return path
