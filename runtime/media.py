"""Media files through PyAV's bundled FFmpeg: probing, decoding audio, extracting it to WAV.

Every failure becomes an ``InputError`` that names the file and the problem. Damage inside a readable file is
not one: ``StreamDecoder`` skips a corrupt packet (its time becomes a gap) and says that a file was cut short.
"""

from __future__ import annotations

import logging
import math
import statistics
import wave
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import av
import numpy as np

from runtime.audio_rate import AUDIO_RATE_HZ, EXTRACT_RATES_HZ
from runtime.errors import InputError
from runtime.files import check_output_file, nonempty_file, write_atomically
from runtime.stopping import raise_if_stop_asked

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MediaInfo:
    path: str
    container: str
    end_s: float  # where the file's stamps end on its own clock, as its header says (0.0 when it does not say)
    has_audio: bool  # the audio stream asked for (the first, unless ``audio_stream`` said another) is there
    has_video: bool
    audio_streams: int = 0  # how many audio streams the file holds (two microphones recorded apart: two)
    audio_codec: str | None = None
    audio_sample_rate_hz: int | None = None
    audio_sample_format: str | None = None  # as decoded: "s16", "s32" (PCM, FLAC) hold nothing beyond full scale
    audio_duration_s: float | None = None
    # Why a stream that is present cannot be read here ("" when it can): refused only where an arm reads it.
    audio_problem: str = ""
    video_problem: str = ""
    still_image: bool = False  # a photograph (JPEG, PNG, ...): one frame, no time to analyse
    start_s: float = 0.0  # where the file's stamps start on its own clock (0.0 where it is not known)
    video_end_s: float | None = None  # where its picture stream says it ends on that clock (None: it does not say)

    def refuse_still_image(self) -> None:
        """One line for a photograph given where a recording is analysed."""
        if self.still_image:
            raise InputError(self.path, "a still image, not a recording (emotrace face classify reads photographs)")


def probe(path: str | Path, audio_stream: int = 1) -> MediaInfo:
    """What a media file holds, its audio as the ``audio_stream``-th audio stream (from 1) has it; raises
    ``InputError`` for a missing, empty or unreadable file. A stream that cannot be decoded here is said in
    ``audio_problem`` / ``video_problem``: an analysis that does not read it still runs."""
    path = nonempty_file(path)
    with _open(path) as container:
        late_note = late_first_stamp_note(container)
        if late_note:
            log.warning("%s: %s", path, late_note)
        streams = container.streams.audio
        audio = streams[audio_stream - 1] if 1 <= audio_stream <= len(streams) else None
        video = picture_stream(container)
        context = audio.codec_context if audio is not None else None
        audio_duration_s = None
        if audio is not None and audio.duration is not None and audio.time_base is not None:
            audio_duration_s = float(audio.duration * audio.time_base)
        return MediaInfo(
            path=str(path),
            container=container.format.name,
            end_s=declared_end_s(container),
            has_audio=audio is not None,
            has_video=video is not None,
            audio_streams=len(streams),
            audio_codec=context.name if context is not None else None,
            audio_sample_rate_hz=context.sample_rate if context is not None else None,
            audio_sample_format=context.format.name if context is not None and context.format is not None else None,
            audio_duration_s=audio_duration_s,
            audio_problem=stream_problem(audio) if audio is not None else "",
            video_problem=stream_problem(video) if video is not None else "",
            still_image=_is_still_image(container.format.name, video),
            start_s=file_start_s(container),
            video_end_s=_declared_stream_end_s(container, video),
        )


def picture_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream | None:
    """The first video stream that is a picture in time; None where there is none. An audio file's artwork
    (an MP3's or M4A's cover) is a video stream of one frame marked as attached: not a picture to analyse."""
    return next((stream for stream in container.streams.video
                 if not _disposition(stream) & ATTACHED_PICTURE), None)


ATTACHED_PICTURE = 0x0400  # FFmpeg's AV_DISPOSITION_ATTACHED_PIC


def _disposition(stream: av.stream.Stream) -> int:
    """A stream's FFmpeg disposition flags (PyAV gives an enum, an int, or nothing, by version)."""
    flags = getattr(stream, "disposition", 0)
    return int(getattr(flags, "value", flags) or 0)


def _is_still_image(format_name: str, video: av.video.stream.VideoStream | None) -> bool:
    """FFmpeg reads a photograph through its image demuxers (``image2`` for JPEG, ``png_pipe``, ``bmp_pipe``...),
    and a GIF of one frame through the GIF demuxer that also reads animations."""
    # split here, not by _format_in: the pipe demuxers are a family of names (one per codec), no set to name
    names = format_name.split(",")
    if any(name == "image2" or name.endswith("_pipe") for name in names):
        return True
    return "gif" in names and video is not None and video.frames <= 1


def audio_stream_of(path: Path, container: av.container.InputContainer, audio_stream: int) -> av.audio.AudioStream:
    """The ``audio_stream``-th audio stream (from 1) of an open file; ``InputError`` where it has none, or fewer."""
    streams = container.streams.audio
    if not streams:
        raise InputError(path, "has no audio stream")
    if not 1 <= audio_stream <= len(streams):
        raise InputError(path, f"has {len(streams)} audio stream(s), no stream {audio_stream}")
    return streams[audio_stream - 1]


def other_audio_streams_note(media: MediaInfo, audio_stream: int) -> str:
    """One line for a file of several audio streams (two microphones recorded apart, a call's participants):
    which one the voice is read from, since speech on another is not heard; "" for a file of one."""
    return audio_streams_note(media.audio_streams, audio_stream)


def audio_streams_note(stream_count: int, audio_stream: int) -> str:
    """``other_audio_streams_note`` for a file of ``stream_count`` audio streams."""
    if stream_count < 2:
        return ""
    return (f"{stream_count} audio streams; the voice is read from stream {audio_stream} only "
            "(audio.stream, or --audio-stream, chooses another)")


# The running sample position of an audio stream may stray this far from its packets' stamps before it is put back
# on them (silence added, or the overlap dropped): a container's rounding of its stamps (a millisecond in Matroska)
# stays well under it; a stamp clock that runs apart from the sound card's (a recorder stamping from the wall clock)
# is followed, never drifting much further.
AUDIO_STAMP_TOLERANCE_S = 0.02
# Silence filled in this long or longer is audio missing (packets lost, or the stream starting after the file's
# clock), told to the caller and said; a live device's capture stamps running this far ahead of its samples are
# samples it lost (an overrun), recorded as a gap. Shorter holes are single packets or a stamp's jitter.
MISSING_AUDIO_S = 0.1
# The stamps' offsets from the samples' position are weighed over this many frames (their median) before the
# samples are moved: a recorder's jitter of single stamps (a phone's AAC stamps +-15 ms) moves nothing, a clock
# running apart does; it is corrected by its excess past half the tolerance, so that the jitter around it does not
# step it back and forth.
STAMP_MEDIAN_FRAMES = 9
# Offsets that stay this close together over at least STEADY_FRAMES frames are steady stamps (stamps rounded to
# the millisecond, each frame's too): a hole this close to whole frames after them is packets lost, filled at once.
STEADY_STAMPS_S = 0.003
STEADY_FRAMES = 3
# A median offset this far out is a step of the stamps themselves (their clock set back or on), said as such: a
# clock running apart passes the tolerance a little at a time, each step about half of it.
STAMPS_STEP_S = 2 * AUDIO_STAMP_TOLERANCE_S
# A stamp this much before the one before it starts a recording joined on (within a recording, decode stamps and
# decoded frames never go back); less is a muxer's jitter. Once another stream has shown the joint, a step back of
# more than STAMPS_STEP_BACK_S is the joint. A joint's recording is placed after what came before, its sound kept
# whole (JoinedRecordings); a step back under STAMPS_BACK_S is taken for the stamps' clock set back within one
# recording, followed as a clock running apart is: the sound it overlaps is dropped (AudioPlacement), so that the
# sound stays with a picture on that clock. A video's packets come in decode order, and where the container stores
# no decode stamp (PRESENTATION_STAMP_FORMATS, or a packet without one) their presentation stamps, and the decode
# stamps a demuxer guesses from them, go back by a reordering: a frame is held behind at most REORDER_FRAMES
# (H.264's and HEVC's most), so such a packet starts a joint only where its stamp falls that far behind each of its
# stream's last REORDER_FRAMES. Real decode stamps (MPEG-TS, MP4) are compared with the last one alone: a recording
# of REORDER_FRAMES frames or fewer before a joint would hide it from the window.
STAMPS_BACK_S = 0.25
STAMPS_STEP_BACK_S = 0.001
REORDER_FRAMES = 16
PRESENTATION_STAMP_FORMATS = frozenset({"matroska", "webm"})
# Opus with DTX (as WebRTC recorders write it): in silence the encoder sends a packet of a byte or three every
# 400 ms and leaves the ones between out. The hole after such a packet, up to DTX_HOLE_S, is silence the encoder
# left out, filled and not missing; a longer one lost packets too (the next DTX packet at least).
DTX_CODECS = frozenset({"opus", "libopus"})  # the decoders' names
DTX_PACKET_BYTES = 3
DTX_HOLE_S = 0.4 + AUDIO_STAMP_TOLERANCE_S
# Stamps and samples that end this far apart over the whole stream are said: under it the placement moved sound by
# less than a speech frame matters to the windows.
STAMPS_APART_SAID_S = 0.1
# A late start this long after the file's own first stamp is said (it costs the first window of the default 2 s its
# claim); shorter ones (a phone's audio starting a few frames after its video) are told to the caller but not said,
# and a file whose stamps all start late is said once, by ``probe`` (``late_first_stamp_note``).
LATE_AUDIO_SAID_S = 1.0
# Audio stamped this much later than what came before (or than the file's start) is a damaged stamp, not a pause:
# filled with silence, 6 h at 48 kHz would be 4 GB.
MAX_SILENCE_S = 6 * 3600.0


class Move(NamedTuple):
    """Where a frame goes against where the samples before it end."""

    silence_at_frame_rate: int  # samples of silence put before the frame, at the frame's own rate
    drop_at_read_rate: int  # samples dropped from the frame on, at the rate read (``AudioPlacement.rate_hz``)


STAY = Move(0, 0)


class AudioPlacement:
    """Where a stream's decoded samples go on the file's clock: by their stamps, not by counting them.

    The first stamp places the first sample (``start``: a late start is preceded by silence, audio stamped before 0
    is cut); each later frame's stamp is compared with where the samples before it end, kept exactly (a count of
    ticks at a rate every rate seen divides, so that no rounding accumulates). Acted on at once: a hole of
    ``MISSING_AUDIO_S`` or more (silence fills it: a stretch of missing audio, ``missing_s``; one after under
    ``MISSING_AUDIO_S`` of sound is the late start's), a step back of ``STAMPS_BACK_S`` or more (the overlap is
    dropped), a hole after corrupt packets the decoder skipped, a hole after an Opus DTX packet (silence the encoder
    left out, not missing), and a hole of whole frames after steady stamps (packets lost, counted in
    ``lost_packets``). Otherwise the median offset over ``STAMP_MEDIAN_FRAMES`` frames is followed where it passes
    ``AUDIO_STAMP_TOLERANCE_S`` (stamps running faster or slower than the samples, or stepping back under
    ``STAMPS_BACK_S``: the overlap dropped), each such step counted for ``disagreement``. A frame without a stamp
    follows the samples before it.
    """

    def __init__(self, rate_hz: int):
        self.rate_hz = rate_hz  # the rate read at
        self._tick_hz = rate_hz  # a whole multiple of every rate seen: the rate read, each frame's
        self._end_ticks: int | None = None  # where the samples placed so far end, at _tick_hz
        self.missing_s: list[tuple[float, float]] = []
        self.corrupt_s: list[tuple[float, float]] = []  # of them, the holes of corrupt packets (said by the decoder)
        self.ended_s: float | None = None  # where the sound ended before the file's other streams (the last of them)
        self.lost_packets, self.lost_packets_s = 0, 0.0  # holes of whole frames under MISSING_AUDIO_S
        self.added_s, self.dropped_s = 0.0, 0.0  # the steps following the stamps' clock, in all
        self.steps = 0
        self.stamp_steps: list[tuple[float, float, float]] = []  # of them, the stamps' own: (at_s, step_s, moved_s)
        self._first_s = 0.0
        self._frame_s = 0.0  # the last frame's length
        self._offsets_s: deque[float] = deque(maxlen=STAMP_MEDIAN_FRAMES)  # recent stamps less the samples' end

    def start(self, start_s: float | None) -> int:
        """Start the placement at the first frame, stamped ``start_s``: the samples at ``rate_hz`` before it,
        silence (> 0), or cut (< 0)."""
        lead = int(round(start_s * self.rate_hz)) if start_s is not None else 0
        self._end_ticks, self._first_s = lead * (self._tick_hz // self.rate_hz), lead / self.rate_hz
        if lead / self.rate_hz >= MISSING_AUDIO_S:
            self.missing_s.append((0.0, round(lead / self.rate_hz, 3)))
        return lead

    @property
    def started(self) -> bool:
        return self._end_ticks is not None

    @property
    def end_s(self) -> float:
        """Where the samples placed so far end, on the file's clock."""
        return self._end_ticks / self._tick_hz if self._end_ticks is not None else 0.0

    def step(self, start_s: float | None, frame_rate_hz: int, after_skipped: bool = False,
             after_dtx: bool = False) -> Move:
        """Where a frame stamped ``start_s`` goes; ``STAY`` where the samples before it end.
        ``after_skipped``: packets were skipped just before it (corrupt, said already): a hole is theirs.
        ``after_dtx``: the frame before it came of an Opus DTX packet: a hole up to ``DTX_HOLE_S`` is silence."""
        if start_s is None:
            return STAY
        end_s = self.end_s
        apart_s = start_s - end_s
        if after_dtx and not after_skipped and AUDIO_STAMP_TOLERANCE_S < apart_s <= DTX_HOLE_S:
            silence, filled_s = self._fill(apart_s, frame_rate_hz)
            self._offsets_s.append(apart_s - filled_s)
            return Move(silence, 0)
        if apart_s >= MISSING_AUDIO_S or (after_skipped and apart_s > AUDIO_STAMP_TOLERANCE_S):
            # under MISSING_AUDIO_S of sound before the hole (a muxer's lone first packet at 0): the audio starts after
            hole_from_s = 0.0 if end_s < MISSING_AUDIO_S and not self.missing_s else round(end_s, 3)
            silence, filled_s = self._fill(apart_s, frame_rate_hz)
            if filled_s >= MISSING_AUDIO_S:
                self.missing_s.append((hole_from_s, round(self.end_s, 3)))
                if after_skipped:
                    self.corrupt_s.append(self.missing_s[-1])
            self._offsets_s.append(apart_s - filled_s)
            return Move(silence, 0)
        if apart_s <= -STAMPS_BACK_S:  # stamps gone back (a joint the decoder did not place): at once
            self._offsets_s.clear()
            dropped = self._drop(-apart_s)
            self.steps += 1
            self.stamp_steps.append((end_s, apart_s, -dropped / self.rate_hz))
            return Move(0, dropped)
        lost_s = self._lost_frames_s(apart_s)
        if lost_s:
            silence, filled_s = self._fill(lost_s, frame_rate_hz)
            self.lost_packets += int(round(lost_s / self._frame_s))
            self.lost_packets_s += filled_s
            self._offsets_s.append(apart_s - filled_s)
            return Move(silence, 0)
        self._offsets_s.append(apart_s)
        if len(self._offsets_s) < STAMP_MEDIAN_FRAMES:
            return STAY
        offset_s = statistics.median(self._offsets_s)
        if abs(offset_s) <= AUDIO_STAMP_TOLERANCE_S:
            return STAY
        return self._follow(offset_s, end_s, frame_rate_hz)

    def _follow(self, offset_s: float, end_s: float, frame_rate_hz: int) -> Move:
        """Move the samples towards the stamps' median ``offset_s`` from ``end_s``, to half the tolerance."""
        step_s = offset_s - math.copysign(AUDIO_STAMP_TOLERANCE_S / 2, offset_s)
        self.steps += 1
        if step_s > 0:
            silence, moved_s = self._fill(step_s, frame_rate_hz)
            self.added_s += moved_s
            move = Move(silence, 0)
        else:
            dropped = self._drop(-step_s)
            moved_s = -dropped / self.rate_hz
            move = Move(0, dropped)
        if abs(offset_s) >= STAMPS_STEP_S:
            self.stamp_steps.append((self._stepped_at_s(offset_s, end_s), offset_s, moved_s))
        self._offsets_s = deque((o - step_s for o in self._offsets_s), maxlen=STAMP_MEDIAN_FRAMES)
        return move

    def _stepped_at_s(self, offset_s: float, end_s: float) -> float:
        """Where the stamps stepped by ``offset_s``: the first of the last frames past the tolerance that way (the
        median follows a few frames after), the latest starting at ``end_s``."""
        frames = 0
        for recent_s in reversed(self._offsets_s):
            if abs(recent_s) <= AUDIO_STAMP_TOLERANCE_S or (recent_s > 0) != (offset_s > 0):
                break
            frames += 1
        return max(0.0, end_s - max(0, frames - 1) * self._frame_s)

    def _lost_frames_s(self, apart_s: float) -> float:
        """The hole of whole frames (packets lost) ``apart_s`` opens after steady stamps; 0.0 where it is none."""
        recent = self._offsets_s
        if (apart_s <= AUDIO_STAMP_TOLERANCE_S or len(recent) < STEADY_FRAMES
                or max(recent) - min(recent) > STEADY_STAMPS_S):
            return 0.0
        hole_s = apart_s - statistics.median(recent)  # the offset before the hole, which the hole's own would move
        frames = round(hole_s / self._frame_s) if self._frame_s else 0
        return hole_s if frames >= 1 and abs(hole_s - frames * self._frame_s) <= STEADY_STAMPS_S else 0.0

    def _fill(self, length_s: float, frame_rate_hz: int) -> tuple[int, float]:
        """Silence of ``length_s`` at ``frame_rate_hz``: its samples and its length, placed."""
        silence = int(round(length_s * frame_rate_hz))
        ticks = self._ticks(silence, frame_rate_hz)  # first: it may rebase the end
        self._end_ticks += ticks
        return silence, silence / frame_rate_hz

    def _drop(self, length_s: float) -> int:
        """Samples at ``rate_hz`` to drop, ``length_s`` of them, taken back from the samples' end."""
        drop = int(round(length_s * self.rate_hz))
        ticks = self._ticks(drop, self.rate_hz)  # first: it may rebase the end
        self._end_ticks -= ticks
        self.dropped_s += drop / self.rate_hz
        return drop

    def _ticks(self, samples: int, rate_hz: int) -> int:
        """``samples`` at ``rate_hz`` in ticks; a rate the tick rate is no multiple of yet rebases the end on one
        that is (whole integers throughout: a Fraction's arithmetic a frame cost more than the decoding)."""
        if self._tick_hz % rate_hz:
            tick_hz = math.lcm(self._tick_hz, rate_hz)
            self._end_ticks *= tick_hz // self._tick_hz
            self._tick_hz = tick_hz
        return samples * (self._tick_hz // rate_hz)

    def placed(self, samples: int, rate_hz: int) -> None:
        """A frame of ``samples`` at ``rate_hz`` placed where the samples before it end."""
        ticks = self._ticks(samples, rate_hz)  # first: it may rebase the end
        self._end_ticks += ticks
        self._frame_s = samples / rate_hz

    def disagreement(self) -> str:
        """How far the stamps and the samples disagreed, past the audio missing; "" where they ended less than
        ``STAMPS_APART_SAID_S`` apart. Where the stamps' own steps account for it, those steps are said."""
        net_s = self.added_s - self.dropped_s
        if abs(net_s) < STAMPS_APART_SAID_S:
            return ""
        if self.stamp_steps and abs(net_s - sum(moved_s for _, _, moved_s in self.stamp_steps)) < STAMPS_APART_SAID_S:
            steps = [f"{'back' if step_s < 0 else 'forward'} {abs(step_s):.2f} s at {at_s:.1f} s"
                     for at_s, step_s, _ in self.stamp_steps[:STRETCHES_SAID]]
            more = len(self.stamp_steps) - STRETCHES_SAID
            moved = [f"{self.added_s:.2f} s of silence added"] if self.added_s else []
            moved += [f"{self.dropped_s:.2f} s of overlapping sound dropped"] if self.dropped_s else []
            return (f"its audio's timestamps step {', '.join(steps)}{f' and {more} more times' if more > 0 else ''}; "
                    f"the audio was placed by its timestamps ({', '.join(moved)})")
        samples_s = self.end_s - self._first_s - net_s  # the samples' own time, the missing stretches too
        ahead = "ahead of" if net_s >= 0 else "behind"
        why = "stamps taken from a clock other than the sound card's" + (", or packets lost" if net_s >= 0 else "")
        return (f"its audio's timestamps ran {abs(net_s):.2f} s {ahead} its samples over {samples_s:.0f} s "
                f"({100 * abs(net_s) / max(samples_s, 1e-9):.2f} %: {why}); the audio was placed by its timestamps "
                f"({self.added_s:.2f} s of silence added, {self.dropped_s:.2f} s of overlapping sound "
                f"dropped, in {self.steps} step{'s' if self.steps != 1 else ''})")


def iter_audio(path: str | Path, sample_rate_hz: int = AUDIO_RATE_HZ,
               ended_early: Callable[[str], None] | None = None, audio_stream: int = 1,
               missing: Callable[[tuple[float, float]], None] | None = None,
               alone: bool = False, checks_stop: bool = True) -> Iterator[np.ndarray]:
    """Decode the ``audio_stream``-th audio stream (from 1: the first) as mono float32 blocks at
    ``sample_rate_hz``, in order.

    Sample ``i`` sits at ``i / sample_rate_hz`` seconds on the file's clock, each frame where its stamp says
    (``AudioPlacement``): audio that starts late is preceded by silence, audio stamped before 0 is cut, a hole in
    the stream's timestamps (packets lost, or silence an Opus encoder's DTX left out) is silence, never closed up,
    and stamps that run faster or slower than the samples are followed, said in one line. Each stretch of silence
    standing for missing audio (a late start, packets lost) is told to ``missing`` as (start_s, end_s) when it is
    filled, and said in one line at the end.
    Channels are averaged into mono (``MonoDownmix``), so that the level does not grow with their number.
    A stream that ends early (cut short, unreadable past a point) is logged, and told to ``ended_early`` with the
    reason after its last block, so that a track can say it. A file whose stamps all start late says so once:
    ``probe`` says it (``late_first_stamp_note``), so only audio starting later still is said here; ``alone``: the
    file is read with no ``probe`` of it (training's readers), and its own late start is said here.
    A stop asked for ends the reading at the next frame; ``checks_stop`` False leaves that to the caller (a live
    replay, whose blocks due before the stop are the session's however late its voice asks for them).
    """
    path = nonempty_file(path)
    with _open(path) as container:
        stream = _decodable(path, audio_stream_of(path, container, audio_stream))
        resampler, mono = Resampler(sample_rate_hz), MonoDownmix()
        decoder = StreamDecoder(path, container, stream)
        placement = AudioPlacement(sample_rate_hz)
        dtx = stream.codec_context.name in DTX_CODECS
        emitted, skip = 0, 0
        corrupt = 0  # corrupt packets skipped before the last frame: a hole after more is theirs
        after_dtx = False  # the last frame came of a DTX packet: a hole after it is silence the encoder left out
        try:
            for frame in decoder.frames():
                if checks_stop:
                    raise_if_stop_asked()  # the resampler below can swallow the signal's own KeyboardInterrupt
                start_s = decoder.time_s(frame)
                missing_before = len(placement.missing_s)
                frames, lead = [frame], 0
                if start_s is not None:
                    _check_silence(path, start_s - placement.end_s, placement.end_s)
                if not placement.started:
                    lead = placement.start(start_s)
                    skip = max(0, -lead)
                else:
                    move = placement.step(start_s, frame.sample_rate, decoder.corrupt > corrupt, after_dtx)
                    if move.silence_at_frame_rate:
                        frames.insert(0, _silence_like(frame, move.silence_at_frame_rate))
                    skip += move.drop_at_read_rate
                corrupt = decoder.corrupt
                after_dtx = dtx and decoder.packet_bytes <= DTX_PACKET_BYTES
                placement.placed(frame.samples, frame.sample_rate)
                if missing is not None:  # before its silence: a replay judges each block as it comes
                    for stretch in placement.missing_s[missing_before:]:
                        missing(stretch)
                if lead > 0:
                    emitted += lead
                    yield from silence_blocks(lead, sample_rate_hz)
                for block in (mono(out) for f in frames for out in resampler.resample(f)):
                    block, skip = block[skip:], max(0, skip - block.size)
                    emitted += block.size
                    yield block
            for out in resampler.resample(None):
                block = mono(out)
                block, skip = block[skip:], max(0, skip - block.size)
                emitted += block.size
                yield block
        except av.error.FFmpegError as error:  # resampling failed (the decoder skips what it cannot decode)
            raise InputError(path, f"corrupt audio stream ({_short(error)})") from None
        if emitted == 0:  # where others are there, one of them may hold the voice (a first microphone unplugged)
            note = audio_streams_note(len(container.streams.audio), audio_stream)
            raise InputError(path, "audio stream holds no samples" + (f" ({note})" if note else ""))
        after = _missing_after_the_end(decoder, emitted, sample_rate_hz)
        if after is not None:  # the picture goes on: the sound it lacks is missing, as a late start's is
            placement.missing_s.append(after)
            placement.ended_s = after[0]
            if missing is not None:
                missing(after)
            yield from silence_blocks(round(after[1] * sample_rate_hz) - emitted, sample_rate_hz)
        _say_placement(path, placement, 0.0 if alone else late_first_stamp_s(container))
        if decoder.stopped_reason and ended_early is not None:
            ended_early(decoder.stopped_reason)


STRETCHES_SAID = 5  # stretches of time a line names (audio missing, runs of damaged frames); more are counted


def silence_blocks(samples: int, block_samples: int) -> Iterator[np.ndarray]:
    """``samples`` of silence in blocks of at most ``block_samples``: a replay reads a file in short chunks, and an
    hour of it at once is 230 MB."""
    for start in range(0, samples, block_samples):
        yield np.zeros(min(block_samples, samples - start), dtype=np.float32)


def _missing_after_the_end(decoder: StreamDecoder, emitted: int, sample_rate_hz: int) -> tuple[float, float] | None:
    """The stretch from where a sound stream's ``emitted`` samples end to where the file's other streams' packets
    end, where that is ``LATE_AUDIO_SAID_S`` or more (a microphone unplugged while the camera went on: its voice
    track stopped there without a word); None otherwise, and for a file cut short, which ends its tracks where it
    was read to and says so. A sound a few frames shorter than its picture, as phones record, is left as it is."""
    end_s, file_end_s = emitted / sample_rate_hz, decoder.file_end_s
    if decoder.stopped_reason or file_end_s - end_s < LATE_AUDIO_SAID_S:
        return None
    return round(end_s, 3), round(file_end_s, 3)


def stretches_said(stretches_s: list[tuple[float, float]] | list[list[float]]) -> str:
    """Stretches of time as "2.1-3.9 s, 7.0 s" (the first ``STRETCHES_SAID``, then a count)."""
    names = [f"{a:.1f} s" if round(a, 1) == round(b, 1) else f"{a:.1f}-{b:.1f} s"
             for a, b in stretches_s[:STRETCHES_SAID]]
    more = len(stretches_s) - STRETCHES_SAID
    return ", ".join(names) + (f" and {more} more stretches" if more > 0 else "")


def _say_placement(path: Path, placement: AudioPlacement, file_start_s: float = 0.0) -> None:
    """One line for the audio missing (filled with silence), one for stamps and samples that disagreed. The holes
    of corrupt packets are left to the decoder's lines; a late start is said where the audio starts
    ``LATE_AUDIO_SAID_S`` or more after ``file_start_s``, the file's own late start where ``probe`` says it."""
    stretches_s = [stretch for stretch in placement.missing_s if stretch not in placement.corrupt_s]
    late_s = stretches_s.pop(0) if stretches_s and stretches_s[0][0] == 0.0 else None  # only the first starts at 0
    after_s = stretches_s.pop() if stretches_s and stretches_s[-1][0] == placement.ended_s else None
    parts = [f"lost at {stretches_said(stretches_s)}"] if stretches_s else []
    if after_s is not None:
        stretches_s.append(after_s)
        parts.append(f"after the audio ends at {after_s[0]:.1f} s, the file's other streams at {after_s[1]:.1f} s")
    if late_s is not None and late_s[1] - file_start_s >= LATE_AUDIO_SAID_S:
        stretches_s.insert(0, late_s)
        parts.insert(0, f"before the audio starts at {late_s[1]:.1f} s")
    if placement.lost_packets:
        parts.append(f"{placement.lost_packets} packet{'s' if placement.lost_packets != 1 else ''} lost in holes "
                     f"under {MISSING_AUDIO_S:g} s, {placement.lost_packets_s:.2f} s in all")
    if parts:
        total_s = sum(end_s - start_s for start_s, end_s in stretches_s) + placement.lost_packets_s
        log.warning("%s: no audio for %.*f s, filled with silence (%s)", path, 2 if total_s < 0.1 else 1, total_s,
                    "; ".join(parts))
    disagreement = placement.disagreement()
    if disagreement:
        log.warning("%s: %s", path, disagreement)


def _check_silence(path: Path, gap_s: float, at_s: float) -> None:
    if gap_s > MAX_SILENCE_S:
        raise InputError(path, f"its audio's timestamps jump {gap_s:.0f} s forward at {at_s:.1f} s: a damaged "
                         "stamp, not a pause")


# A stream that ends more than this before the duration its container declares was cut short (a truncated file);
# less is the length of the last frame, which some containers leave out.
CUT_SHORT_S = 1.0
CUT_SHORT = "cut short: "  # how a stream's stopped reason begins when its file was cut short: read to its end
# Containers whose header states the duration; elsewhere FFmpeg may guess it from the bitrate, which proves no cut.
DECLARED_DURATION_FORMATS = frozenset({"matroska", "webm", "mov", "mp4", "flac"})


# Of the durations FFmpeg gives, three kinds: a header's (DECLARED_DURATION_FORMATS), trusted to call a file cut
# short; one read from the stamps (MPEG-TS, Ogg, AVI...), good for a recording's length but no proof of a cut;
# and one guessed from the bitrate, for raw streams without an index (AMR, ADTS AAC, MP3, AC-3, H.264...: an AMR
# call of 32.0 s read as 33.05 s), not used at all: the decoded stream says where they end.
BITRATE_DURATION_FORMATS = frozenset({"amr", "amrnb", "amrwb", "aac", "mp3", "ac3", "eac3", "h264", "hevc",
                                      "mpegvideo", "m4v"})


# Files whose stamps have no fixed origin: the file's clock starts at their first stamp. An MPEG transport or
# program stream carries a broadcast or camera clock, hours in. An MP3 stores no stamps: FFmpeg counts its samples
# from 0 and stamps the first one kept past the encoder's delay the LAME tag has the decoder drop (1105 samples,
# 25 ms at 44.1 kHz), where every container with stamps (an MP4's edit list, Ogg's and WebM's pre-skip,
# Matroska's codec delay) stamps the dropped samples before 0, the first one kept at its own time; FFmpeg's
# conversion to WAV starts at that sample too. Elsewhere a late first stamp is the file's own.
FREE_ORIGIN_FORMATS = frozenset({"mpegts", "mpeg", "mp3"})

# Containers whose header declares its end as a duration from time 0 (Matroska's segment, WebM's too: one demuxer);
# MOV/MP4 declare the span after the first stamp.
FROM_ZERO_DURATION_FORMATS = frozenset({"matroska"})


def clock_origin_s(container: av.container.InputContainer) -> float:
    """The stamp that is 0 s on the file's clock: the first one for ``FREE_ORIGIN_FORMATS``, else 0."""
    if not _format_in(container.format.name, FREE_ORIGIN_FORMATS) or container.start_time is None:
        return 0.0
    return float(container.start_time / av.time_base)


def _format_in(format_name: str, formats: frozenset[str]) -> bool:
    """Whether a container of this format (FFmpeg's name, ``MediaInfo.container``: a comma-separated list for a
    demuxer of several, "mov,mp4,m4a,3gp,3g2,mj2") is one of ``formats``."""
    return not formats.isdisjoint(format_name.split(","))


def known_end_s(media: MediaInfo) -> float:
    """Where the whole file ends on its clock, as known before it is read: its header's end (``MediaInfo.end_s``),
    but 0.0 (not known) where the header gives none and for ``FREE_ORIGIN_FORMATS``, whose end FFmpeg reads from
    the last stamps: recordings joined end to end restart them (``JoinedRecordings``), and that end is the last
    recording's alone (whether a file was joined is known only once it is read)."""
    if _format_in(media.container, FREE_ORIGIN_FORMATS):
        return 0.0
    return media.end_s


# A first stamp this late (every stream starting well after 0: a part cut from a longer recording with its stamps
# kept, a recorder stamping by a clock that ran before it) is said: a player starts its clock at the first stamp,
# the timeline keeps the file's own.
LATE_FIRST_STAMP_S = 1.0


def file_start_s(container: av.container.InputContainer) -> float:
    """Where a file's stamps start on its own clock, where the timeline keeps that clock (every format but
    ``FREE_ORIGIN_FORMATS``, whose first stamp is 0 s); 0.0 where it is not known."""
    if _format_in(container.format.name, FREE_ORIGIN_FORMATS) or container.start_time is None:
        return 0.0
    return float(container.start_time / av.time_base)


def late_first_stamp_s(container: av.container.InputContainer) -> float:
    """``file_start_s`` where it is ``LATE_FIRST_STAMP_S`` or more: the late start ``probe`` says; else 0.0."""
    first_s = file_start_s(container)
    return first_s if first_s >= LATE_FIRST_STAMP_S else 0.0


def _declared_stream_end_s(container: av.container.InputContainer, stream: av.stream.Stream | None) -> float | None:
    """Where ``stream`` says it ends on the file's clock (its start and duration, the last frame's lasting
    included); None where it does not say both, or the container's durations are FFmpeg's guesses."""
    if (stream is None or stream.duration is None or stream.start_time is None or stream.time_base is None
            or _format_in(container.format.name, BITRATE_DURATION_FORMATS)):
        return None
    return float((stream.start_time + stream.duration) * stream.time_base) - clock_origin_s(container)


def late_first_stamp_note(container: av.container.InputContainer) -> str:
    """One line for a file whose stamps all start late (``late_first_stamp_s``); "" otherwise."""
    first_s = late_first_stamp_s(container)
    if not first_s:
        return ""
    return (f"its timestamps start at {first_s:.1f} s, not 0: the timeline keeps the file's own clock, so what a "
            f"player starting at its first stamp shows at 0:10 is at {first_s + 10:.1f} s here")


def declared_end_s(container: av.container.InputContainer) -> float:
    """Where the container says its stamps end, on the file's clock; 0.0 when it gives no duration or FFmpeg only
    guessed one (``BITRATE_DURATION_FORMATS``); that duration counts from 0 (``FROM_ZERO_DURATION_FORMATS``) or
    from the first stamp."""
    if not container.duration or _format_in(container.format.name, BITRATE_DURATION_FORMATS):
        return 0.0
    from_zero = _format_in(container.format.name, FROM_ZERO_DURATION_FORMATS)
    start_s = 0.0 if from_zero else float((container.start_time or 0) / av.time_base)
    return float(container.duration / av.time_base) + start_s - clock_origin_s(container)


UNKNOWN_WAV_DATA_BYTES = 0x7FFFFFFF  # and above: a streaming writer's placeholder, not a length


# WAV format tags whose frames are a fixed number of bytes (nBlockAlign): integer PCM and IEEE float, and
# WAVE_FORMAT_EXTENSIBLE, whose sub-format (the first two bytes of its GUID) is one of those two.
WAV_FRAME_FORMATS = frozenset({0x0001, 0x0003})
WAV_EXTENSIBLE = 0xFFFE


def wav_frames(path: str | Path) -> tuple[int, int, int] | None:
    """(frames a PCM or float WAV's header declares, whole frames its data chunk holds, frame rate in Hz): FFmpeg
    reads the frames held, so fewer than declared is a file cut short. Read from the RIFF chunks themselves (the
    standard library's ``wave`` reads neither float nor, before Python 3.12, WAVE_FORMAT_EXTENSIBLE, which most
    recorders of 24-bit or several channels write). None for a compressed WAV, one too damaged to say, and a
    writer's placeholder for a length it did not know (0xFFFFFFFF, or arecord's 0x7FFFFFFF: a data chunk of 2 GiB or
    more is taken for one)."""
    try:
        file_bytes = Path(path).stat().st_size
        with open(path, "rb") as handle:
            riff = handle.read(12)
            if riff[:4] != b"RIFF" or riff[8:] != b"WAVE":  # RIFX (big-endian) and RF64 are not read here
                return None
            fmt = None
            while len(chunk := handle.read(8)) == 8:
                size = int.from_bytes(chunk[4:], "little")
                if chunk[:4] == b"fmt ":
                    fmt = handle.read(min(size, 40))
                    handle.seek(size - len(fmt) + (size & 1), 1)
                elif chunk[:4] == b"data":
                    declared_bytes, held_bytes = size, file_bytes - handle.tell()
                    break
                else:
                    handle.seek(size + (size & 1), 1)
            else:
                return None
    except OSError:
        return None
    if fmt is None or len(fmt) < 16:
        return None
    tag = int.from_bytes(fmt[:2], "little")
    if tag == WAV_EXTENSIBLE and len(fmt) >= 26:
        tag = int.from_bytes(fmt[24:26], "little")  # the sub-format GUID's first two bytes
    rate_hz, frame_bytes = int.from_bytes(fmt[4:8], "little"), int.from_bytes(fmt[12:14], "little")
    if tag not in WAV_FRAME_FORMATS or not frame_bytes or not rate_hz or declared_bytes >= UNKNOWN_WAV_DATA_BYTES:
        return None
    return declared_bytes // frame_bytes, held_bytes // frame_bytes, rate_hz


def _wav_declared_s(path: str | Path) -> float | None:
    """The length a PCM WAV's header declares (``wav_frames``), which FFmpeg clamps to the bytes present."""
    frames = wav_frames(path)
    return None if frames is None else frames[0] / frames[2]


# An MP3's length is declared only by a Xing or Info frame (LAME's and FFmpeg's encoders write it where they can seek
# back to its start: its frame count), read here from the bytes: FFmpeg gives no sign whether its duration came
# from that count or was guessed from the bitrate. Layer III only; per MPEG version (the header's two version bits:
# 3 is MPEG-1, 2 MPEG-2, 0 MPEG-2.5): samples per frame, sample rates, and where the tag sits after the frame's
# 4-byte header (its side information, shorter for one channel).
MP3_FRAME_SAMPLES = {3: 1152, 2: 576, 0: 576}
MP3_RATES_HZ = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
MP3_TAG_OFFSET = {(3, False): 36, (3, True): 21, (2, False): 21, (2, True): 13, (0, False): 21, (0, True): 13}
MP3_HEAD_BYTES = 64 * 1024  # where the first frame is looked for, past an ID3v2 tag


def mp3_declared_s(path: str | Path) -> float | None:
    """The length an MP3's Xing or Info frame declares (its frames times their samples), which FFmpeg does not say
    apart from one guessed from the bitrate; None where the file starts with no such frame or cannot be read."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(10)
            if head[:3] == b"ID3" and len(head) == 10:  # ID3v2: a 28-bit size in four 7-bit bytes, a footer by flag
                size = sum((byte & 0x7F) << (7 * (3 - i)) for i, byte in enumerate(head[6:10]))
                handle.seek(10 + size + (10 if head[5] & 0x10 else 0))
            else:
                handle.seek(0)
            data = handle.read(MP3_HEAD_BYTES)
            file_bytes = handle.seek(0, 2)
    except OSError:
        return None
    # the first Layer III header carrying a Xing or Info tag: bytes before it (junk, a second tag, even bytes that
    # look like a header) are passed over, as FFmpeg resyncs over them
    headers = (i for i in range(len(data) - 3) if data[i] == 0xFF and data[i + 1] & 0xE0 == 0xE0
               and (data[i + 1] >> 3) & 3 in MP3_FRAME_SAMPLES and (data[i + 1] >> 1) & 3 == 1
               and (data[i + 2] >> 2) & 3 != 3)
    for start in headers:
        version = (data[start + 1] >> 3) & 3
        rate_index, mono = (data[start + 2] >> 2) & 3, (data[start + 3] >> 6) == 3
        tag = start + MP3_TAG_OFFSET[(version, mono)]
        if data[tag:tag + 4] in (b"Xing", b"Info") and len(data) >= tag + 12:
            break
    else:
        return None
    flags, frames = int.from_bytes(data[tag + 4:tag + 8], "big"), int.from_bytes(data[tag + 8:tag + 12], "big")
    if not flags & 1 or not frames:  # no frame count given
        return None
    # a frame is its header and side information at least: a count its own byte count cannot hold is damage, as is
    # one of more frames than the file has bytes (every Layer III frame is 48 bytes or more: a file cut short keeps
    # a byte a frame unless cut to under 2 % of its length), where no byte count is given
    if flags & 2 and frames * MP3_TAG_OFFSET[(version, mono)] > int.from_bytes(data[tag + 12:tag + 16], "big"):
        return None
    if frames > file_bytes:
        return None
    samples = frames * MP3_FRAME_SAMPLES[version]
    # the LAME extension after the fields the flags name (byte count 4, table of contents 100, quality 4) gives the
    # encoder's delay and padding, which the decoder drops: 12 bits each, 21 bytes into it
    lame = tag + 12 + (4 if flags & 2 else 0) + (100 if flags & 4 else 0) + (4 if flags & 8 else 0)
    if data[lame:lame + 4] in (b"LAME", b"Lavf", b"Lavc") and len(data) >= lame + 24:
        delay_and_padding = int.from_bytes(data[lame + 21:lame + 24], "big")
        samples = max(samples - (delay_and_padding >> 12) - (delay_and_padding & 0xFFF), 0)
    return samples / MP3_RATES_HZ[version][rate_index]


# A lost run of packets is taken from the demuxer's corrupt flag (an MPEG transport stream's continuity counters
# say where packets went missing), never from a jump in stamps alone: a picture that pauses (a screen recording, a
# call's frozen video) jumps onto a frame that is not a keyframe just as a loss does, and would lose good video up
# to the next keyframe.
# The demuxer flags a packet up to this many before a break in the MPEG-TS continuity counters: two when whole
# frames were lost (as at a joint of files), one when the break falls inside a frame (the usual loss: a frame
# spans many transport packets). The damage is taken to start at the packet after the flagged one: where whole
# frames were lost, one clean frame is skipped with them; no damaged frame is kept.
CORRUPT_FLAG_LEAD = 2
# Damage ends this long after it began even without a keyframe or recovery points (a stream that marks neither
# would otherwise lose the rest of the recording to one lost packet); cameras' keyframes come every 0.5-10 s.
MAX_DAMAGE_S = 10.0


class BrokenReferences:
    """Which decoded video frames are built on damaged or missing references: after a packet that failed to
    decode, a frame the decoder flagged corrupt, or a packet the demuxer flagged corrupt (damaged, or after a
    lost run of packets), until the next keyframe. FFmpeg conceals what is missing and decodes on without a flag
    (smears, grey blocks, pieces of other frames): judged at full quality, they would be evidence that is not the
    person's.

    A decoder's failure shows when the frame it failed would come out (frame threads report it late), so what
    comes out after it is damaged (``break_now``). A packet's sign shows before the frames decoded ahead of it
    are out: the damage starts at its decode stamp (``break_from``), which no frame decoded after it shows before.

    The damage ends at a keyframe fed to the decoder after it began, or at the second random-access point the
    demuxer marks after it began (a stream that refreshes its picture a strip at a time, as video-call encoders
    write, has recovery points instead of keyframes: a refresh begun at the first is whole by the second), or
    MAX_DAMAGE_S on.
    """

    def __init__(self) -> None:
        self.broken = False
        self._since_s: float | None = None  # when the damage began (the first damaged frame's time)
        self._from_s: float | None = None  # a packet's sign: frames shown from here on are damaged
        # the packet a sign points at, until it is fed to the decoder: only random-access points fed after it end
        # the damage (it may be a keyframe the loss cut into; with B-frames, or at a joint of segments whose
        # stamps run on, a keyframe's stamp says nothing of whether it came before or after it)
        self._pointed: av.Packet | None = None
        self._access_pts: list[int | None] = []  # random-access points fed after the damage began
        self.frames = 0  # frames found damaged
        self.runs_s: list[list[float]] = []  # [first, last] time of each run of damaged frames
        self._in_run = False

    def break_now(self) -> None:
        self.broken, self._from_s = True, None

    def fed(self, packet: av.Packet) -> None:
        """Each packet as it goes to the decoder: the one a sign points at, and the random-access points (the
        demuxer's keyframes: keyframes and recovery points) fed after it while the damage lasts or is due."""
        if packet is self._pointed:
            self._pointed = None
        elif packet.is_keyframe and self._pointed is None and (self.broken or self._from_s is not None):
            self._access_pts.append(packet.pts)  # None in a stream without stamps: any keyframe after it then

    def break_from(self, t_s: float | None, pointed: av.Packet) -> None:
        """A packet's sign of damage pointing at ``pointed``, decoded at ``t_s`` on the file's clock."""
        if t_s is None:
            self.break_now()
        elif not self.broken:
            self._from_s = t_s if self._from_s is None else min(self._from_s, t_s)
        self._pointed = pointed

    def damaged(self, frame: av.VideoFrame, t_s: float | None) -> bool:
        """Whether ``frame``, shown at ``t_s`` on the file's clock, is built on broken references; counted."""
        # The frame a packet's sign points at is damaged itself, a keyframe too (the loss may cut into it).
        hit = self._from_s is not None and (t_s is None or t_s >= self._from_s - 1e-6)
        if hit:
            self.break_now()
        at_s = 0.0 if t_s is None else t_s
        if self.broken and self._since_s is None:
            self._since_s = at_s
        # A keyframe refers to nothing before it: the damage ends at one fed after it began (see the class's note
        # for recovery points), or MAX_DAMAGE_S on.
        fed_after = frame.pts in self._access_pts
        recovered = fed_after and (frame.key_frame or frame.pts in self._access_pts[1:])
        if self.broken and not hit and (recovered or at_s - self._since_s >= MAX_DAMAGE_S):
            self.broken = self._in_run = False
            self._since_s, self._access_pts = None, []
        if not self.broken:
            return False
        self.frames += 1
        if self._in_run:
            self.runs_s[-1][1] = at_s
        else:
            self.runs_s.append([at_s, at_s])
            self._in_run = True
        return True

    def where(self) -> str:
        """The runs of damaged frames as "2.1-3.9 s, 7.0 s" (the first ``STRETCHES_SAID``, then a count)."""
        return stretches_said(self.runs_s)


class StreamDecoder:
    """The frames of one stream of an open file, decoded packet by packet so that damage costs only itself.

    A packet that fails to decode is skipped and counted (``corrupt``): its time becomes a gap. The 1st, 10th,
    100th... are logged with the file and the time, and the total at the end, so a file damaged throughout gives a
    few lines, not one a packet. A video frame the decoder flags corrupt is skipped and counted alike; the video
    frames decoded after any damage or a lost run of packets until the next keyframe are skipped too
    (``damaged``, ``BrokenReferences``), said in one line at the end with where they were. A container unreadable
    past a point, or a file that ends well before the duration its header declares (cut short), ends the stream
    with ``stopped_reason`` set and one line logged. A stream of which nothing decodes is an ``InputError``, and so
    is a video stream without a single frame (``NoVideoFrames``).
    """

    def __init__(self, path: Path, container: av.container.InputContainer, stream: av.stream.Stream) -> None:
        self.path = path
        self.container = container
        self.stream = stream
        self.decoded = 0  # frames out of the decoder
        self.usable = 0  # of them, those handed on (a video frame corrupt or damaged is not)
        self.corrupt = 0  # packets (or frames, see ``skip``) left out as corrupt
        self.stopped_reason = ""
        self.packet_bytes = 0  # the size of the packet the latest frame was decoded from (Opus DTX: 1-3 bytes)
        self._last_s = 0.0  # the time of this stream's latest packet
        self._stream_end_s = 0.0  # where this stream's packets end
        self._frames_end_s = 0.0  # where its usable frames end: what was read of it (packets may run on undecoded)
        self._file_end_s = 0.0  # where any stream's packets end (shifted at joints): one stream may be shorter
        self._logged = 0  # corrupt packets counted when the last line was logged
        self._next_line_at = 1  # the count of corrupt packets that is logged next: 1, 10, 100...
        self.origin_s = clock_origin_s(container)  # subtracted from every stamp: times are on the file's clock
        self.joints = JoinedRecordings()
        self._frame_stamp_s: float | None = None  # the last decoded frame's own stamp on the file's clock
        self._frame_joints = 0  # joints this stream's frames have passed
        self._frame_shift_s = 0.0  # the shift of the recording they are in
        self.references = BrokenReferences() if stream.type == "video" else None
        rate = (stream.guessed_rate or stream.average_rate) if stream.type == "video" else None
        self._index_fps = float(rate) if rate else None
        self.assumed_fps = assumed_frame_rate_fps(stream)
        if self.assumed_fps:
            log.warning("%s: the video has no timestamps and states no frame rate FFmpeg takes (a raw stream): its "
                        "frames are placed at FFmpeg's assumed %g fps, right only if the camera ran at that rate", path,
                        self.assumed_fps)

    def time_s(self, frame: av.AudioFrame | av.VideoFrame) -> float | None:
        """A decoded frame's time on the file's clock. A video frame without a timestamp (a raw H.264 stream) is
        placed by its index among the decoded frames at the stream's rate; None where neither is known."""
        stamp_s = _stamp_s(frame.pts, frame.time_base)
        if stamp_s is None:
            return (self.decoded - 1) / self._index_fps if self._index_fps else None
        return stamp_s - self.origin_s + self._frame_shift_s

    def _packet_s(self, packet: av.Packet, decode: bool = False) -> float | None:
        """A packet's presentation time (its decode time with ``decode``; either where the other is missing) on
        the file's clock; None for one without a timestamp, or the flushing one."""
        first, second = (packet.dts, packet.pts) if decode else (packet.pts, packet.dts)
        stamp_s = _stamp_s(first if first is not None else second, packet.time_base)
        return None if stamp_s is None else stamp_s - self.origin_s + self.joints.shift_s(packet.stream.index)

    @property
    def damaged(self) -> int:
        """Video frames skipped as built on broken references (0 for sound)."""
        return self.references.frames if self.references else 0

    def frames(self) -> Iterator[av.AudioFrame | av.VideoFrame]:
        for packet, following, before_joint in self._stream_packets():
            if self.references is not None and packet.size and packet.is_corrupt and not before_joint:
                # The damage starts at the packet after the flagged one (CORRUPT_FLAG_LEAD), not at the flagged
                # one, which may be the keyframe before the break.
                self.references.break_from(self._packet_s(following, decode=True), following)
            if self.references is not None:
                self.references.fed(packet)
            try:
                frames = packet.decode()
            except (av.error.FFmpegError, ValueError) as error:
                self.skip(self._packet_s(packet), _short(error))
                if self.references is not None:
                    self.references.break_now()
                continue
            self.packet_bytes = packet.size
            for frame in frames:
                self.decoded += 1
                self._follow_stamps(frame)
                if self.references is None or self._usable(frame):
                    self.usable += 1
                    self._frames_end_s = max(self._frames_end_s, self._frame_end_s(frame))
                    yield frame
        self._finish()

    def _frame_end_s(self, frame: av.AudioFrame | av.VideoFrame) -> float:
        """Where a decoded frame ends on the file's clock: its samples' end, or a picture's stamp plus the length
        its stream gives it (none given: its stamp); where it has no time, where the packets so far end."""
        start_s = self.time_s(frame)
        if start_s is None:
            return self._stream_end_s
        if isinstance(frame, av.AudioFrame):
            return start_s + frame.samples / frame.sample_rate if frame.sample_rate else start_s
        length_s = float(frame.duration * frame.time_base) if frame.duration and frame.time_base else 0.0
        return start_s + length_s

    def _stream_packets(self) -> Iterator[tuple[av.Packet, av.Packet, bool]]:
        """This stream's packets, each with the next one holding data (itself at the end: the demuxer's last,
        empty packet has no time) and whether a joint comes within the next ``CORRUPT_FLAG_LEAD``: MPEG-TS
        files joined end to end restart their continuity counters there, and the demuxer flags a packet before
        the joint corrupt, though nothing was lost."""
        ahead: deque[tuple[av.Packet, int]] = deque()  # packets read ahead, each with the joints passed at it

        def taken() -> tuple[av.Packet, av.Packet, bool]:
            first, joints = ahead.popleft()
            following = next((packet for packet, _ in ahead if packet.size), first)
            return first, following, self.joints.passed(self.stream.index) > joints

        for packet in self._packets():
            ahead.append((packet, self.joints.passed(self.stream.index)))
            if len(ahead) > CORRUPT_FLAG_LEAD:
                yield taken()
        while ahead:
            yield taken()

    def _usable(self, frame: av.VideoFrame) -> bool:
        """A video frame neither flagged corrupt (skipped, counted) nor built on broken references."""
        if frame.is_corrupt:
            self.skip(self.time_s(frame), "flagged by the decoder", "frame")
            self.references.break_now()  # the frames after it refer to it
            return False
        return not self.references.damaged(frame, self.time_s(frame))

    def _follow_stamps(self, frame: av.AudioFrame | av.VideoFrame) -> None:
        """A frame whose stamp goes back (recordings joined end to end, a recorder's clock reset) starts the next
        recording, placed by the shift the packets gave it (``JoinedRecordings``), said once a joint: a video's
        frames there would be dropped as late, its sound laid under the wrong picture."""
        stamp_s = _stamp_s(frame.pts, frame.time_base)
        if stamp_s is None:
            return
        stamp_s -= self.origin_s
        if self._frame_stamp_s is not None and stamp_s < self._frame_stamp_s - self.joints.back_s(self._frame_joints):
            self._frame_joints += 1
            before_s = self._frame_stamp_s + self._frame_shift_s
            self._frame_shift_s = self.joints.joint_shift_s(self._frame_joints, fallback_s=before_s - stamp_s)
            log.warning("%s: the %s's timestamps go back %.1f s at %.1f s (recordings joined end to end?); what "
                        "follows is placed after what came before", self.path, self.stream.type,
                        self._frame_stamp_s - stamp_s, before_s)
        self._frame_stamp_s = stamp_s

    def skip(self, t_s: float | None, detail: str, what: str = "packet") -> None:
        """Count a corrupt packet (or a decoded frame the caller cannot use) at ``t_s`` on the file's clock."""
        self.corrupt += 1
        if self.corrupt < self._next_line_at:
            return
        so_far = f", {self.corrupt} so far" if self.corrupt > 1 else ""
        # "near": with frame threads a decoder reports a bad packet a few packets later.
        at_s = max(0.0, self._last_s if t_s is None else t_s)
        log.warning("%s: skipped a corrupt %s %s near %.1f s (%s%s)", self.path, self.stream.type, what, at_s,
                    detail, so_far)
        self._logged, self._next_line_at = self.corrupt, self._next_line_at * 10

    def _packets(self) -> Iterator[av.Packet]:
        demuxer = self.container.demux()  # every stream's packets: the file's end is where the longest one ends
        guessed_dts = _format_in(self.container.format.name, PRESENTATION_STAMP_FORMATS)
        while True:
            try:
                packet = next(demuxer)
            except StopIteration:
                return
            except av.error.FFmpegError as error:  # the container is broken past here: what was read is kept
                self.stopped_reason = (f"the {self.stream.type} is unreadable after {self._last_s:.1f} s "
                                       f"({_short(error)})")
                flush = av.Packet()  # an empty packet: the frames the decoder still holds
                flush.stream = self.stream
                yield flush
                return
            decoded_s = _stamp_s(packet.dts if packet.dts is not None else packet.pts, packet.time_base)
            if decoded_s is not None:
                shown_s = _stamp_s(packet.pts, packet.time_base)
                self.joints.follow(packet.stream.index, decoded_s - self.origin_s, self._file_end_s,
                                   reordered=packet.stream.type == "video" and (packet.dts is None or guessed_dts),
                                   shown_s=None if shown_s is None else shown_s - self.origin_s)
            start_s = self._packet_s(packet)
            if start_s is not None:
                end_s = start_s + _packet_length_s(packet)
                self._file_end_s = max(self._file_end_s, end_s)
            if packet.stream.index == self.stream.index:
                if start_s is not None:
                    self._last_s, self._stream_end_s = start_s, max(self._stream_end_s, end_s)
                yield packet

    def _finish(self) -> None:
        self.stopped_reason = self.stopped_reason or self._cut_short()
        if self.decoded == 0 and (self.corrupt or self.stopped_reason):
            problem = self.stopped_reason or f"all {self.corrupt} packets are corrupt"
            raise InputError(self.path, f"no {self.stream.type} could be decoded; {problem}")
        if self.decoded == 0 and self.stream.type == "video":  # a stream declared, no packet in it
            raise NoVideoFrames(self.path)
        if self.decoded and not self.usable:
            raise InputError(self.path, f"no {self.stream.type} could be decoded; all {self.decoded} frames are "
                                        "corrupt or decoded from damaged data")
        if self.corrupt > self._logged:
            log.warning("%s: skipped %d corrupt %s packets in all", self.path, self.corrupt, self.stream.type)
        if self.damaged:
            log.warning("%s: skipped %d video frames decoded from damaged or lost data until the next keyframe, "
                        "at %s", self.path, self.damaged, self.references.where())
        if self.stopped_reason:
            log.warning("%s: %s", self.path, self.stopped_reason)

    @property
    def file_end_s(self) -> float:
        """Where any stream's packets read so far end, on the file's clock (shifted at joints)."""
        return self._file_end_s

    def _cut_short(self) -> str:
        """Where the stream was decoded to (its usable frames), when the file ends well before the duration its header
        declares; else ""."""
        container = self.container
        if _format_in(container.format.name, frozenset({"wav"})):
            end_s = _wav_declared_s(self.path)  # FFmpeg gives a WAV the length of the bytes present
        elif _format_in(container.format.name, frozenset({"mp3"})):
            end_s = mp3_declared_s(self.path)  # FFmpeg does not say whether its duration was declared or guessed
        elif container.duration and _format_in(container.format.name, DECLARED_DURATION_FORMATS):
            end_s = declared_end_s(container)
        else:
            return ""
        if end_s is None:
            return ""
        if self._file_end_s >= end_s - CUT_SHORT_S:
            return ""
        return (f"{CUT_SHORT}the {self.stream.type} ends at {self._frames_end_s:.1f} s of the "
                f"{end_s:.1f} s the file declares")


NO_VIDEO_FRAMES = "video stream holds no frames"  # the sound's like it: "audio stream holds no samples"


class NoVideoFrames(InputError):
    """A video stream declared that holds no frame: the face and body have nothing to read, where the sound may
    still be analysed; known by its type, so that another error of like words is never taken for it."""

    def __init__(self, source: str | Path):
        super().__init__(source, NO_VIDEO_FRAMES)

RAW_VIDEO_TIME_BASE = Fraction(1, 1200000)  # the clock FFmpeg's raw elementary-stream demuxers (H.264, HEVC, MJPEG...)
# give a stream: its frames have no stamps but those the demuxer makes up from its frame rate


def assumed_frame_rate_fps(stream: av.stream.Stream) -> float | None:
    """The frame rate FFmpeg assumed for a raw elementary video stream whose headers state none it takes (its
    demuxer's default, 25 fps, at which the frames are placed); None where the rate is the stream's own, or the
    frames carry their container's stamps."""
    if stream.type != "video" or stream.time_base != RAW_VIDEO_TIME_BASE:
        return None
    rate = stream.guessed_rate
    stated = stream.codec_context.framerate  # the rate the codec's headers state (an H.264 SPS's timing), if any
    if not rate or (stated and stated == rate):
        return None
    return float(rate)


def _stamp_s(stamp: int | None, time_base: Fraction | None) -> float | None:
    # whole numbers divided: the float a Fraction's product gives, correctly rounded, without its cost a packet
    return stamp * time_base.numerator / time_base.denominator if stamp is not None and time_base else None


def _packet_length_s(packet: av.Packet) -> float:
    """A packet's duration, or for a video packet without one (MPEG-TS), the stream's frame period."""
    length_s = _stamp_s(packet.duration, packet.time_base) or 0.0
    rate = packet.stream.guessed_rate if not length_s and packet.stream.type == "video" else None
    return 1.0 / float(rate) if rate else length_s


class JoinedRecordings:
    """Recordings joined end to end in one file (MPEG-TS files concatenated, a recorder's clock reset): at each
    joint every stream's stamps go back, and what follows joint k is shifted by one amount for every stream, the
    end of all that came before less the presentation stamp of the packet where the joint showed first, so that
    sound and picture stay together. Learnt from the packets of every stream in file order (decode stamps, which
    never go back within a recording, or a video's reordered presentation stamps where there are none or they are
    guessed: ``REORDER_FRAMES``), so that each stream's decoder, reading the file on its own, finds the same
    shifts."""

    def __init__(self):
        self.shifts_s: list[float] = []  # joint k (from 1) -> its shift
        self._recent_s: dict[int, deque[float]] = {}  # stream index -> its last packets' stamps in this recording
        self._joints: dict[int, int] = {}  # stream index -> the joints its packets have passed

    def follow(self, stream_index: int, stamp_s: float, end_so_far_s: float, reordered: bool = False,
               shown_s: float | None = None) -> None:
        """Take one packet's decode stamp (on the file's clock, unshifted; a presentation stamp where it has
        none); ``reordered``: the stamp may go back by a reordering (a video's presentation or guessed decode
        stamp), compared with the lowest of the stream's last ``REORDER_FRAMES``, else with the last alone.
        ``end_so_far_s``: where all packets before it end, shifted (the next recording's start, should this packet
        show a joint first); ``shown_s``: its presentation stamp (unshifted; None: the decode stamp's), which is
        placed there: a decode stamp leads its picture by the reordering (two frames with B-frames), and a shift
        taken from it would start the next recording that much late."""
        recent_s = self._recent_s.setdefault(stream_index, deque(maxlen=REORDER_FRAMES))
        if recent_s and stamp_s < (min(recent_s) if reordered else recent_s[-1]) - self.back_s(
                self._joints.get(stream_index, 0)):
            joints = self._joints[stream_index] = self._joints.get(stream_index, 0) + 1
            if joints > len(self.shifts_s):  # this stream shows the joint first: it fixes the shift
                self.shifts_s.append(end_so_far_s - (stamp_s if shown_s is None else shown_s))
            recent_s.clear()  # the next recording's stamps are its own
        recent_s.append(stamp_s)

    def back_s(self, joints_passed: int) -> float:
        """How far back a stream's stamp must go to be its next joint: once another stream has shown that joint,
        any step back (a stream with under STAMPS_BACK_S before the joint still passes it); else STAMPS_BACK_S."""
        return STAMPS_STEP_BACK_S if joints_passed < len(self.shifts_s) else STAMPS_BACK_S

    def passed(self, stream_index: int) -> int:
        """How many joints the stream's packets have passed."""
        return self._joints.get(stream_index, 0)

    def shift_s(self, stream_index: int) -> float:
        """The shift of the recording the stream's packets are in."""
        return self.joint_shift_s(self._joints.get(stream_index, 0))

    def joint_shift_s(self, joint: int, fallback_s: float = 0.0) -> float:
        """The shift after joint ``joint`` (0: none); ``fallback_s`` for a joint the packets did not show."""
        if joint == 0:
            return 0.0
        return self.shifts_s[joint - 1] if joint <= len(self.shifts_s) else fallback_s


class Resampler:
    """PyAV's resampler to interleaved float at ``sample_rate_hz``, the source's channels kept (``MonoDownmix``
    averages them), set up afresh where the stream's sample format, layout or rate changes mid-stream (a video
    call's recording switching from 16 to 48 kHz, a sound server reconfigured): one resampler refuses any frame
    unlike its first. ``resample(None)`` drains it at the end."""

    def __init__(self, sample_rate_hz: int):
        self.sample_rate_hz = sample_rate_hz
        self._resampler: av.AudioResampler | None = None
        self._source: tuple[str, str, int] | None = None

    def resample(self, frame: av.AudioFrame | None) -> list[av.AudioFrame]:
        if frame is None:
            return self._resampler.resample(None) if self._resampler is not None else []
        source = (frame.format.name, frame.layout.name, frame.sample_rate)
        drained = []
        if source != self._source:
            drained = self.resample(None)  # what the earlier setup still holds comes first
            self._resampler, self._source = av.AudioResampler(format="flt", rate=self.sample_rate_hz), source
        return drained + self._resampler.resample(frame)


# A channel mix whose power is under this share of its loudest channel's has lost the sound: channels that cancel
# (a microphone wired the other way round on one side) or one voice among many quiet channels (5.1's centre: the
# mean of six is 15.6 dB under it). Two microphones, one speaking, mix at a quarter of the loud one: kept as mixed.
CANCELLED_SHARE = 1 / 16
SOUND_POWER = 1e-6  # a block whose loudest channel's mean square is under this (-60 dBFS RMS) holds no sound
DOWNMIX_SETTLE_S = 3.0  # seconds of sound after which a channel chosen over the mean is kept for the rest


class MonoDownmix:
    """A stream's channels as mono, the same way from start to end: their mean (FFmpeg's own downmix adds them:
    +3 dB for stereo, clipping), or, where that mean loses the sound (``CANCELLED_SHARE``), one channel: the first
    holding at least half the loudest one's power. The choice is made from the power of every block with sound so
    far, and a channel, once chosen after ``DOWNMIX_SETTLE_S`` of sound, is kept: judged block by block, it would
    switch inside words between a mean and a channel 15 dB apart, and change with the codec's block size. The mean
    is never kept for good, since room noise before anyone speaks mixes well where the voice after it cancels. A
    change in the number of channels (a call's recording switching layout) starts the choice afresh."""

    def __init__(self) -> None:
        self._start(0)

    def _start(self, channels: int) -> None:
        self._channel_power = np.zeros(channels)  # summed over the blocks with sound
        self._mixed_power = 0.0
        self._sound_s = 0.0
        self._kept: int | None = None  # the channel read, -1 for the mean, once settled

    def __call__(self, frame: av.AudioFrame) -> np.ndarray:
        """Interleaved float frames (``Resampler``'s): PyAV reads past the planes of a planar frame of 8 or more
        channels."""
        channels = frame.layout.nb_channels
        samples = frame.to_ndarray().reshape(-1, channels)
        mixed = samples.mean(axis=1, dtype=np.float32)
        if self._channel_power.size != channels:
            self._start(channels)
        if channels == 1 or not samples.size:
            return mixed
        channel = self._kept if self._kept is not None else self._choice(samples, mixed, frame.sample_rate)
        return mixed if channel < 0 else samples[:, channel].astype(np.float32)

    def _choice(self, samples: np.ndarray, mixed: np.ndarray, sample_rate_hz: int) -> int:
        power = np.sum(np.square(samples, dtype=np.float64), axis=0)
        if power.max() >= SOUND_POWER * len(samples):
            self._channel_power += power
            self._mixed_power += float(np.sum(np.square(mixed, dtype=np.float64)))
            self._sound_s += len(samples) / sample_rate_hz
        loudest = float(self._channel_power.max())
        channel = -1
        if loudest > 0 and self._mixed_power < CANCELLED_SHARE * loudest:
            channel = int(np.flatnonzero(self._channel_power >= loudest / 2)[0])
        if channel >= 0 and self._sound_s >= DOWNMIX_SETTLE_S:  # the mean stays open: the hiss before a voice
            self._kept = channel  # mixes well, the voice that follows may cancel
        return channel


# Under this an audio stream's rate is a damaged header's, not a recording's (telephone audio is 8 kHz); believed,
# a rate of 1 Hz would turn a 100 KB file into hours of audio at the analysis rate.
MIN_SOURCE_RATE_HZ = 1000
# MPEG-TS (.ts, .m2ts) declares rate 0 for a stream that got no packet; elsewhere 0 is a damaged header's
NO_RATE_UNTIL_PACKETS_FORMATS = ("mpegts",)


def stream_problem(stream: av.stream.Stream) -> str:
    """Why ``stream`` cannot be read here: no decoder for it, or an implausible sample rate; "" when it can."""
    if stream.codec_context is None:
        return f"its {stream.type} is in a format this device cannot decode (unsupported codec)"
    rate_hz = stream.codec_context.sample_rate if stream.type == "audio" else None
    # 0 from MPEG-TS is no rate found yet: read, a stream without packets is the empty sound it is
    no_rate_yet = rate_hz == 0 and stream.container.format.name in NO_RATE_UNTIL_PACKETS_FORMATS
    if rate_hz is not None and rate_hz < MIN_SOURCE_RATE_HZ and not no_rate_yet:
        return f"its audio declares {rate_hz} samples a second, under {MIN_SOURCE_RATE_HZ}: a damaged header"
    return ""


def _decodable(path: Path, stream: av.stream.Stream) -> av.stream.Stream:
    """``stream``, or an error naming ``path`` with its ``stream_problem``."""
    problem = stream_problem(stream)
    if problem:
        raise InputError(path, problem)
    return stream


def _silence_like(frame: av.AudioFrame, samples: int) -> av.AudioFrame:
    """``samples`` of silence in ``frame``'s format, layout and rate, to stand where packets were lost."""
    silence = av.AudioFrame(format=frame.format.name, layout=frame.layout.name, samples=samples)
    zero = 0x80 if frame.format.name.startswith("u8") else 0  # unsigned 8-bit audio is silent at its midpoint
    for plane in silence.planes:
        plane.update(bytes([zero]) * plane.buffer_size)
    silence.sample_rate = frame.sample_rate
    return silence


def read_audio(path: str | Path, sample_rate_hz: int = AUDIO_RATE_HZ,
               ended_early: Callable[[str], None] | None = None, audio_stream: int = 1,
               missing: Callable[[tuple[float, float]], None] | None = None, alone: bool = False) -> np.ndarray:
    """The whole ``audio_stream``-th audio stream (from 1) as one mono float32 array at ``sample_rate_hz``
    (``ended_early``, ``missing``, ``alone``: as ``iter_audio``'s)."""
    blocks = list(iter_audio(path, sample_rate_hz, ended_early, audio_stream, missing, alone))
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)


def finite_samples(samples: np.ndarray, source: str | Path) -> np.ndarray:
    """The samples, or an error naming ``source`` when any is NaN or infinite (a corrupt float recording)."""
    if not np.all(np.isfinite(samples)):
        raise InputError(source, "holds NaN or infinite audio samples")
    return samples


INTEGER_FORMATS = frozenset({"u8", "s16", "s32", "s64"})  # FFmpeg's integer sample formats ("p": planar)


def beyond_full_scale_note(samples: np.ndarray, resampled_from_hz: int | None = None,
                           integer_source: bool = False) -> str | None:
    """What ``wav_bytes`` clips of float samples: how many lie beyond full scale, and the loudest's level; None
    where none does. A float source above 0 dBFS, a lossy codec's overshoot of a source near full scale, or the
    resampler's (``resampled_from_hz``: the source's rate, where it changed): its filter rings past a source's
    peaks, and an ``integer_source`` (PCM, FLAC) holds nothing beyond full scale, so its own peaks reach it."""
    magnitudes = np.abs(np.asarray(samples, dtype=np.float64))
    beyond = int(np.count_nonzero(magnitudes > 1.0))
    if not beyond:
        return None
    peak_dbfs = 20 * math.log10(float(magnitudes.max()))
    resampled = f" after resampling from {resampled_from_hz} Hz" if resampled_from_hz else ""
    microphone = ("; the source reaches full scale or near it: clipped at the microphone?"
                  if resampled_from_hz and integer_source else "")
    return (f"{beyond} of {magnitudes.size} samples lie beyond full scale (the loudest at +{peak_dbfs:.1f} dBFS)"
            f"{resampled}: clipped to full scale in the 16-bit WAV{microphone}")


def wav_bytes(samples: np.ndarray, sample_rate_hz: int) -> bytes:
    """16-bit PCM mono WAV of float samples in [-1, 1]; beyond it, clipped (``beyond_full_scale_note``)."""
    import io

    pcm = np.clip(np.asarray(samples, dtype=np.float64), -1.0, 1.0)
    pcm16 = np.round(pcm * 32767.0).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(sample_rate_hz)
        handle.writeframes(pcm16.tobytes())
    return buffer.getvalue()


def extract_audio(
    video_path: str | Path, out_path: str | Path, sample_rate_hz: int = AUDIO_RATE_HZ, audio_stream: int = 1
) -> float:
    """Write the ``audio_stream``-th audio stream (from 1) of ``video_path`` as mono 16-bit WAV; returns its
    duration in seconds."""
    low_hz, high_hz = EXTRACT_RATES_HZ
    if not low_hz <= sample_rate_hz <= high_hz:
        raise InputError(f"sample rate {sample_rate_hz} Hz", f"must be between {low_hz} and {high_hz} Hz")
    if Path(out_path).suffix.lower() != ".wav":  # a WAV under an .mp3 name is refused by the player that opens it
        raise InputError(out_path, "the audio is written as WAV: give a name ending in .wav")
    out_path = check_output_file(out_path, [video_path])
    samples = finite_samples(read_audio(video_path, sample_rate_hz, audio_stream=audio_stream),
                             video_path)
    # The file is opened again for its header alone (a millisecond beside the decode): probe and iter_audio each
    # own their open; after the decode, so that a file refused there gets its one line and no note beside it.
    media = probe(video_path, audio_stream)
    note = other_audio_streams_note(media, audio_stream)
    source_rate_hz = media.audio_sample_rate_hz
    resampled_from_hz = source_rate_hz if source_rate_hz and source_rate_hz != sample_rate_hz else None
    integer_source = media.audio_sample_format is not None and media.audio_sample_format.rstrip("p") in INTEGER_FORMATS
    # 16-bit PCM holds no more than full scale: what lies beyond is clipped, said rather than done silently
    for line in (note, beyond_full_scale_note(samples, resampled_from_hz, integer_source)):
        if line:
            log.warning("%s: %s", video_path, line)
    write_atomically(out_path, wav_bytes(samples, sample_rate_hz))
    return samples.size / sample_rate_hz


def file_url(path: Path | str) -> str:
    """``path`` as FFmpeg's file protocol names it: FFmpeg takes a name's text before a colon for a protocol, so a
    relative ``2024-05-01T10:30:00.mp4`` or ``rec:1.wav`` was refused as corrupt; after ``file:`` it never does."""
    return f"file:{path}"


def _open(path: Path):
    try:
        return av.open(file_url(path), metadata_errors="ignore")
    except av.error.FFmpegError as error:
        raise InputError(path, f"not a readable media file: corrupt or unsupported format ({_short(error)})") from None
    except UnicodeDecodeError:
        raise InputError(path, "not a readable media file: corrupt or unsupported format") from None


def _short(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return text.split(":")[0].strip() if ";" in text else text.strip()
