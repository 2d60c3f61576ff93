"""The serial sensor board: a versioned, checksummed framing over pyserial (docs/serial-protocol.md).

Frame (little-endian), protocol version 1::

    0xA5 0x5A | version u8 | type u8 | seq u16 | board_ms u32 | length u8 | payload[length] | crc u16

``crc`` is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection; check value 0x29B1 for
"123456789") over version..payload. A DATA frame's payload is one instant's readings: repeated
(channel id u8, value float32). A HELLO frame's payload is the board's name in ASCII.

The decoder resynchronises after a corrupt frame by searching for the next sync pair after the bad one's
first byte. Board time (``board_ms``) is mapped onto the session clock by the smallest (arrival - latency -
board time) of the last ``OFFSET_WINDOW_MS`` of board time: the least-delayed frame is the best estimate of the
offset, and the window lets it follow a board clock that drifts; a clock that stood still and resumed behind is
followed after ``CLOCK_STEP_FRAMES``, with a gap. No sample is stamped after it was read or before the last one:
frames mapped before the last sample take its stamp, and when the offset came down by more than a read's wait (a
link's delay fell) they are dropped and their stretch is a gap.
Board time that runs backwards (a reset, or the 49.7-day wrap) anchors the mapping again, as does a jump in seq
of more frames than the board time since could carry (a reset early in the board's life, its clock still ahead of
the old one). Sequence numbers that jump leave a gap on every channel of the board (a loss of whole 2^16 cycles is
told by board time); a frame equal to one of the last ``REPEAT_MEMORY_FRAMES`` is a repeat, and one a little behind
the newest that fits between its neighbours is late (reordered by a bridge): both dropped.
"""

from __future__ import annotations

import binascii
import math
import struct
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from firmware_bridge.link import Gap, Sample, SensorLink, Sink
from runtime.arms.physio.recording import plausible_readings
from runtime.clock import SessionClock
from runtime.errors import InputError

if TYPE_CHECKING:  # pyserial is imported where a port is opened
    import serial

SYNC = b"\xa5\x5a"
PROTOCOL_VERSION = 1
TYPE_DATA = 0x01
TYPE_HELLO = 0x02
CLOCKED_TYPES = (TYPE_DATA, TYPE_HELLO)  # the frames whose board_ms the clock mapping reads
HEADER = struct.Struct("<BBHIB")  # version, type, seq, board_ms, length (after the sync pair)
CRC = struct.Struct("<H")
MAX_PAYLOAD_BYTES = 255
CHANNELS: dict[int, str] = {1: "eda", 2: "bvp", 3: "temp", 4: "acc_x", 5: "acc_y", 6: "acc_z", 7: "resp"}
CHANNEL_IDS = {name: number for number, name in CHANNELS.items()}
READING = struct.Struct("<Bf")
READ_TIMEOUT_S = 0.05  # a read of an opened port waits this long for bytes: it paces the polling loop
# The clock offset is the least delay seen over this much board time, so that it follows a board clock that runs
# slow (a ceramic resonator's 0.5 % is 18 s an hour) instead of keeping the first minimum for the whole session.
OFFSET_WINDOW_MS = 10_000
# No frame for this long is said once (a board unplugged from its sensors' power, a wrong port or baud rate): a
# second over the reference firmware's HELLO period, so a board heard by its HELLOs alone is not said silent between.
SILENCE_S = 6.0
# A stretch without samples (or a channel's readings) longer than this, and over twice the usual step between
# them (``Cadence``), is a dropout recorded as a gap once the board's cadence is known, however short for a status
# line: the readers of files record a hole of two sample periods. The floor keeps a bridge that holds frames for a
# second from making one.
DROPOUT_MIN_S = 2.0
# A board's (or a channel's) usual step is the 75th percentile of its last this many steps between readings: two
# frames sent together once, or a timer that jitters between 2 and 4.5 s, moves it little (the least step did: one
# short step made every later step of a board sending every 3 s a gap), and so do dropouts under a quarter of the
# steps. Until half as many steps are known, a dropout is judged by SILENCE_S, not DROPOUT_MIN_S.
CADENCE_STEPS = 16
# Dropped frames are counted in one status line at most this often at first, and half as often each time the same
# kinds are said again: a board with a bug, or a noisy cable, would otherwise print a line for every frame, 64 a
# second, and then one every 10 s for the whole session. The counts at the session's end are said in a last line.
CORRUPTION_REPORT_S = 10.0
# A frame equal to one of the last this many is a repeat (a radio bridge's retry may bring one back out of order),
# dropped before it could be taken for a board restart; one second of frames at 64 Hz.
REPEAT_MEMORY_FRAMES = 64
SEQ_MODULUS = 1 << 16  # seq wraps here
# A frame at most this many behind the newest in seq, not seen yet, whose board time lies between those of its
# neighbours in seq, was reordered on the way (a USB or BLE bridge): late, not a board restart (a restarted board
# repeats seq numbers already seen, or goes back further, or its board time does not fit). One second at 64 Hz.
REORDER_WINDOW_FRAMES = 64
# When the last CLOCK_STEP_FRAMES frames all arrived more than CLOCK_STEP_S later than the least delay just before
# them, the board's clock stood still and resumed behind real time: the window starts again from them at once
# instead of after OFFSET_WINDOW_MS. Link jitter does not do that: the host reads every 50 ms, so the newest frame of
# each read is fresh; nor does a drift, which moves the least delay by 5 ms a second at 0.5 %. A quarter of a
# second at 64 Hz. Counted in frames, not board time: a slow board's frames each come in a read of their own, and
# a bridge whose delay varies by up to half a second lifts a few in a row (with 3 frames over a quarter second, a
# board sending 2 or 4 frames a second was said again and again to have fallen behind, each a false gap:
# test_a_slow_board_behind_a_jittering_bridge_is_never_taken_for_a_clock_that_fell_behind).
CLOCK_STEP_S = 0.25
CLOCK_STEP_FRAMES = 16
# A frame mapped at most this much before the last sample takes the last stamp: the newest frame of a read may be
# a read's wait old, so the stamps are no more exact than that. Beyond it the samples before were stamped late (the
# link's delay fell) and the frame cannot be placed: dropped, its stretch a gap.
STAMP_WAIT_S = READ_TIMEOUT_S
REPEAT, LATE = "repeat", "late"  # why BoardSequence.take drops a frame
# The most frames a board sends in a second over a UART: 115,200 baud of 8N1 carry 11,520 bytes, and the shortest
# frame (no payload) is 13. A jump in seq beyond that many over the board time since the newest frame (and beyond the
# reorder window) is no loss: seq started again at a restart whose board time is still ahead of the old one.
MAX_FRAMES_PER_S = 115_200 / 10 / (len(SYNC) + HEADER.size + CRC.size)
# Over native USB CDC the baud rate is nominal and a board may send more (1 kHz): the bound is then this many times
# the rate its remembered frames were sent at, so that a loss at its own rate is a loss, while a restart's seq, some
# 65,000 back, is still a jump no few seconds carry.
SENT_RATE_MARGIN = 4.0


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT-FALSE, as the board computes it (the standard library's CRC-CCITT with init 0xFFFF)."""
    return binascii.crc_hqx(data, 0xFFFF)


@dataclass(frozen=True)
class Frame:
    type: int
    seq: int
    board_ms: int
    payload: bytes
    version: int = PROTOCOL_VERSION

    def readings(self) -> list[tuple[str, float]]:
        """(channel, value) pairs of a DATA frame; unknown channel ids are named ``ch<id>``."""
        if len(self.payload) % READING.size:
            raise ValueError(f"DATA payload of {len(self.payload)} bytes is not whole readings")
        return [(CHANNELS.get(cid, f"ch{cid}"), value) for cid, value in READING.iter_unpack(self.payload)]


def encode_frame(
    frame_type: int, seq: int, board_ms: int, payload: bytes = b"", version: int = PROTOCOL_VERSION
) -> bytes:
    """One frame's bytes as a board sends them (sync pair to CRC)."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    body = HEADER.pack(version, frame_type, seq & 0xFFFF, board_ms & 0xFFFFFFFF, len(payload)) + payload
    return SYNC + body + CRC.pack(crc16_ccitt(body))


def data_payload(readings: Iterable[tuple[str, float]]) -> bytes:
    """A DATA frame's payload: (channel name, value) pairs as (channel id u8, float32)."""
    return b"".join(READING.pack(CHANNEL_IDS[name], value) for name, value in readings)


class FrameDecoder:
    """Bytes in, whole valid frames out; counts what it had to throw away."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.crc_errors = 0  # corrupt frames: a bad checksum, or a version byte no good frame carries
        self.version_errors = 0  # whole frames of another protocol version (their checksum good), skipped
        self.other_versions: dict[int, int] = {}  # version -> frames of it skipped
        self.bytes_skipped = 0  # bytes in no frame: noise between frames (a corrupt frame's own are not counted)
        self.leading_bytes_skipped: int | None = None  # of those, the ones before the first good frame
        self._corrupt_left = 0  # bytes of the last corrupt frame not skipped yet: not counted as noise
        self._last_seq: int | None = None  # the last good frame's seq

    def feed(self, data: bytes) -> list[Frame]:
        self.buffer.extend(data)
        frames = []
        while True:
            start = self.buffer.find(SYNC)
            if start < 0:
                keep = 1 if self.buffer.endswith(SYNC[:1]) else 0  # a sync pair may straddle two reads
                self._skip(len(self.buffer) - keep)
                return frames
            if start:
                self._skip(start)
            if len(self.buffer) < 2 + HEADER.size:
                return frames
            version, frame_type, seq, board_ms, length = HEADER.unpack_from(self.buffer, 2)
            total = 2 + HEADER.size + length + CRC.size
            if len(self.buffer) < total:
                # Noise holding a sync pair and a large length byte would hold the good frames after it until its
                # claimed length came (seconds from a slow board): a good frame begun inside the claimed span that
                # could not be a payload's bytes (``_next_good_frame``) shows it false now.
                later = self._next_good_frame(1)
                if later is None:
                    return frames
                self.crc_errors += 1
                self._corrupt_left = later
                self._skip(later)
                continue
            body = bytes(self.buffer[2 : total - CRC.size])
            (crc,) = CRC.unpack_from(self.buffer, total - CRC.size)
            if crc != crc16_ccitt(body):
                self.crc_errors += 1
                self._corrupt_left = total  # its bytes are the bad checksum's, not noise between frames
                self._skip(1)
                continue
            if version != PROTOCOL_VERSION:  # a good frame of another version: skipped whole, never misread
                self.version_errors += 1
                self.other_versions[version] = self.other_versions.get(version, 0) + 1
            else:
                frames.append(Frame(frame_type, seq, board_ms, body[HEADER.size :], version))
                if self.leading_bytes_skipped is None:  # a port opened in the middle of a frame
                    self.leading_bytes_skipped = self.bytes_skipped
            self._corrupt_left = 0  # a whole frame inside a corrupt one's span (a resync) ends it
            self._last_seq = seq
            del self.buffer[:total]

    def _good_frame_end(self, start: int) -> int | None:
        """Where a whole frame with a good checksum starting at ``start`` ends, None where there is none."""
        if self.buffer[start : start + 2] != SYNC or len(self.buffer) < start + 2 + HEADER.size:
            return None
        length = HEADER.unpack_from(self.buffer, start + 2)[-1]
        end = start + 2 + HEADER.size + length + CRC.size
        if len(self.buffer) < end:
            return None
        (crc,) = CRC.unpack_from(self.buffer, end - CRC.size)
        return end if crc == crc16_ccitt(bytes(self.buffer[start + 2 : end - CRC.size])) else None

    def _next_good_frame(self, after: int) -> int | None:
        """Where the buffer's first whole good frame from ``after`` on starts that shows the frame begun before it
        false: one that is the board's next (the seq after the last good frame's) or that a second good frame
        follows at once (bytes inside a payload still coming may form one good frame, hardly two in a row);
        None without one."""
        start = self.buffer.find(SYNC, after)
        while start >= 0:
            end = self._good_frame_end(start)
            if end is not None:
                seq = HEADER.unpack_from(self.buffer, start + 2)[2]
                if (self._last_seq is not None and seq == (self._last_seq + 1) % SEQ_MODULUS) or \
                        self._good_frame_end(end) is not None:
                    return start
            start = self.buffer.find(SYNC, start + 1)
        return None

    def bytes_skipped_between_frames(self) -> int:
        """Bytes skipped after the first good frame: those before it are most likely the end of a frame sent
        before the port was opened."""
        if self.leading_bytes_skipped is None:
            return 0
        return self.bytes_skipped - self.leading_bytes_skipped

    def _skip(self, count: int) -> None:
        """The first ``count`` bytes of the buffer thrown away: a corrupt frame's own, then noise."""
        own = min(count, self._corrupt_left)
        self._corrupt_left -= own
        self.bytes_skipped += count - own
        del self.buffer[:count]


@dataclass(frozen=True)
class InOrder:
    """A frame taken in the board's order: the frames lost just before it, and the newest clocked frame before it
    when the board restarted at it."""

    frame: Frame
    lost: int = 0
    restarted_after: Frame | None = None

    def restart_text(self) -> str:
        """What shows the restart, for its status line."""
        before, frame = self.restarted_after, self.frame
        if frame.board_ms < before.board_ms:
            return f"board_ms {before.board_ms} then {frame.board_ms}: a reset or a wrap"
        return (f"seq {before.seq} then {frame.seq} at board_ms {before.board_ms} then {frame.board_ms}, more frames "
                "than that board time carries: a reset")


class BoardSequence:
    """Frames in arrival order put in the board's order: repeats and late frames dropped, restarts found (board
    time running backwards, or seq jumping further than board time carries) and losses counted, by ``seq`` and, for
    whole cycles of 2^16 frames, by board time."""

    def __init__(self) -> None:
        self.recent: deque[Frame] = deque(maxlen=REPEAT_MEMORY_FRAMES)  # the last frames read, to know a repeat
        # the clocked frames taken since the last restart: enough for a frame REORDER_WINDOW_FRAMES late and the
        # one before it
        self.clocked: deque[Frame] = deque(maxlen=REORDER_WINDOW_FRAMES + 1)
        self.last_seq: int | None = None
        self._before_restart: Frame | None = None  # the newest clocked frame before the last restart

    def take(self, frame: Frame) -> InOrder | str:
        """The frame in order, or why it is dropped (REPEAT or LATE)."""
        if frame in self.recent:
            return REPEAT
        self.recent.append(frame)
        clocked = frame.type in CLOCKED_TYPES  # a frame type of a later protocol minor may carry another time
        if clocked and self._late(frame):
            return LATE
        if clocked and self.clocked and self._restarted(frame):
            restarted_after = self._before_restart = self.clocked[-1]
            self.clocked.clear()
            self.clocked.append(frame)
            self.last_seq = frame.seq  # a reset restarts seq too: nothing is counted lost across it
            return InOrder(frame, restarted_after=restarted_after)
        if frame.seq == self.last_seq:
            return REPEAT  # the same seq with other contents: a board that did not count
        lost = 0 if self.last_seq is None else (frame.seq - self.last_seq - 1) % SEQ_MODULUS
        if clocked:
            lost += self._cycles_lost(frame, lost) * SEQ_MODULUS
            self.clocked.append(frame)
        self.last_seq = frame.seq
        return InOrder(frame, lost)

    def _restarted(self, frame: Frame) -> bool:
        """Board time ran backwards from the newest clocked frame, or seq ran further ahead of it than the board time
        between them carries: a board reset within its first seconds, its clock still ahead of the old one, starts
        seq again, which read as a loss was some 65,500 frames lost and its clock mapping kept."""
        newest = self.clocked[-1]
        if frame.board_ms < newest.board_ms:
            return True
        frames_between = (frame.seq - newest.seq) % SEQ_MODULUS - 1  # -1: the same seq, a repeat
        period_ms = self._period_ms()
        frames_per_s = MAX_FRAMES_PER_S if period_ms is None else max(MAX_FRAMES_PER_S,
                                                                      SENT_RATE_MARGIN * 1000 / period_ms)
        return frames_between > REORDER_WINDOW_FRAMES + (frame.board_ms - newest.board_ms) / 1000 * frames_per_s

    def _late(self, frame: Frame) -> bool:
        """A little behind the newest in seq, not seen yet, and in board time between its neighbours in seq."""
        if not self.clocked:
            return False
        newest_seq = self.clocked[-1].seq

        def behind(seq: int) -> int:
            return (newest_seq - seq) % SEQ_MODULUS

        late_by = behind(frame.seq)
        if not 0 < late_by <= REORDER_WINDOW_FRAMES or any(f.seq == frame.seq for f in self.clocked):
            return False
        before = [f for f in self.clocked if behind(f.seq) > late_by]
        after = [f for f in self.clocked if behind(f.seq) < late_by]
        if not before:  # the restart's frames alone remembered: late if it follows the old clock's newest frame
            old = self._before_restart  # (a bridge's reordering across a wrap of board_ms, or a reset)
            return old is not None and behind(old.seq) > late_by and frame.board_ms >= old.board_ms
        previous = min(before, key=lambda f: behind(f.seq))
        following = max(after, key=lambda f: behind(f.seq))
        return previous.board_ms <= frame.board_ms <= following.board_ms

    def _cycles_lost(self, frame: Frame, lost_by_seq: int) -> int:
        """Whole cycles of 2^16 frames lost before ``frame``, which ``seq`` cannot show: how many frames board time
        says were lost beyond ``lost_by_seq``, at the frame period of the remembered frames (half a cycle counts)."""
        period_ms = self._period_ms()
        if period_ms is None:
            return 0
        lost_by_time = (frame.board_ms - self.clocked[-1].board_ms) / period_ms - 1
        return max(0, round((lost_by_time - lost_by_seq) / SEQ_MODULUS))

    def _period_ms(self) -> float | None:
        """The board time between frames sent (by seq, lost ones counted) over the remembered frames; None for too
        few yet (a HELLO comes within a millisecond of a DATA frame) or no board time between them."""
        if len(self.clocked) < REORDER_WINDOW_FRAMES:
            return None
        first, newest = self.clocked[0], self.clocked[-1]
        steps = (newest.seq - first.seq) % SEQ_MODULUS
        if not steps or newest.board_ms <= first.board_ms:
            return None
        return (newest.board_ms - first.board_ms) / steps


class Cadence:
    """The usual step between one source's readings (``CADENCE_STEPS``): inf before a step is known."""

    def __init__(self) -> None:
        self._steps_s: deque[float] = deque(maxlen=CADENCE_STEPS)

    @property
    def step_s(self) -> float:
        return float(np.percentile(self._steps_s, 75)) if self._steps_s else math.inf

    def least_dropout_s(self, floor_s: float) -> float:
        """The least stretch that is a dropout: ``floor_s``, but SILENCE_S until half of CADENCE_STEPS are known (a
        board's first steps may be a start-up's, not its cadence)."""
        return floor_s if len(self._steps_s) >= CADENCE_STEPS // 2 else max(floor_s, SILENCE_S)

    def learn(self, step_s: float) -> None:
        """Take a step between readings (one of 0, a single stamp, says nothing of the cadence)."""
        if step_s > 0:
            self._steps_s.append(step_s)


def stretch_missing(
    step_s: float,
    cadence: Cadence,
    unknown_missing: bool,
    silence_said: bool = False,
    floor_s: float = DROPOUT_MIN_S,
) -> bool:
    """The one rule for a stretch without readings (``step_s`` long) being a dropout: over ``floor_s`` and over
    twice the usual step between readings (``cadence``; SILENCE_S until it is settled); or, over SILENCE_S, before
    a second reading (a dropout then where ``unknown_missing``) or where a silence was said meanwhile.
    ``floor_s``: DROPOUT_MIN_S for a gap recorded, SILENCE_S for a status line (a short stall is recorded, not
    said)."""
    if step_s <= floor_s:  # every rule below asks more (the percentile is read only then: 64 times a second)
        return False
    if step_s > SILENCE_S and (silence_said or (unknown_missing and math.isinf(cadence.step_s))):
        return True
    return step_s > max(cadence.least_dropout_s(floor_s), 2 * cadence.step_s)


def board_clock_runs(taken: list[InOrder]) -> list[list[InOrder]]:
    """``taken`` split where the board restarted: each run on one board clock."""
    runs: list[list[InOrder]] = []
    for item in taken:
        if not runs or item.restarted_after is not None:
            runs.append([])
        runs[-1].append(item)
    return runs


class SerialBoardLink(SensorLink):
    """A sensor board on a serial port (or any pyserial URL, e.g. ``loop://`` in tests)."""

    def __init__(
        self,
        port: str,
        clock: SessionClock,
        baudrate: int = 115200,
        latency_s: float = 0.005,
        name: str = "serial-board",
        serial_port: serial.SerialBase | None = None,
    ) -> None:
        super().__init__(name, clock, latency_s)
        self.port_name = port
        if serial_port is None:
            import serial

            try:
                serial_port = serial.serial_for_url(port, baudrate=baudrate, timeout=READ_TIMEOUT_S)
            except (serial.SerialException, ValueError) as error:
                raise InputError(port, f"cannot open serial port ({error})") from None
        self.port = serial_port
        self.decoder = FrameDecoder()
        self.board_name: str | None = None
        self._offset_s: float | None = None  # the offset the stamps use
        self._offset_lows: deque[tuple[int, float]] = deque()  # (board_ms, arrival - board time): a sliding minimum
        self._recent_bounds: deque[float] = deque(maxlen=CLOCK_STEP_FRAMES)  # the last frames' arrival - board time
        self._offset_board_ms: int | None = None  # board time of the last stamp
        self.sequence = BoardSequence()
        self._last_t_s: float | None = None
        self._cadence = Cadence()  # the board's usual step between samples
        self._lost_frames = 0  # lost before a frame that carries no readings, so not yet given a gap
        self._unplaced_frames = 0  # DATA frames dropped since the last sample: stamped before it
        self._unplaced_from_s: float | None = None  # the earliest stamp of those, where their gap starts
        self._unplaced_fall_s = 0.0  # how far the offset fell below the last sample's while they were dropped
        self._sample_offset_s: float | None = None  # the offset the last sample was stamped with
        self._restarted = False  # the board restarted and the interval is not yet recorded as a gap
        self.late_frames = 0
        self.repeated_frames = 0
        self.malformed_frames = 0  # a good checksum around a DATA payload that is not whole readings
        self.implausible_readings = 0  # readings outside their channel's range, delivered as missing
        self._reported = (0, 0, 0, 0, 0, 0, 0)
        self._reported_at_s: float | None = None
        self._report_every_s = CORRUPTION_REPORT_S  # doubled each time the same kinds are said again
        self._versions_said: set[int] = set()
        self._opened_s = clock.now_s()  # session time of opening the port
        self._last_frame_s = self._opened_s  # session time of the last frame read (or of opening the port)
        self._garbled_at_last_frame = 0  # the decoder's bad frames and stray bytes when that frame was read
        self._silent = False
        self._silence_said = False  # a silence was said since the last sample: the next one records it as a gap
        self._lost_for_good = False  # the port went, or the link failed: no sample comes before the stop
        self._loop_ended = False  # the stop's gaps are recorded
        # Each channel's readings (a NaN is none): one that stops while frames come (a sensor unplugged: the
        # reference firmware leaves EDA out of its frames) is a gap on it, by the rule samples have
        self._channel_last_s: dict[str, float] = {}  # session time of each channel's last reading
        self._channel_cadence: dict[str, Cadence] = {}  # each channel's usual step between readings
        self._quiet_channels: set[str] = set()  # said to have stopped, not back yet
        self._resumed_channels: set[str] = set()  # their last reading moved to a board gap's end: no step learnt
        self._no_samples_said = False  # frames heard, no sample for a while: said once until samples come

    def observe_arrival(self, board_ms: int, received_s: float) -> None:
        """A frame taken at ``board_ms`` arrived by ``received_s``: a bound on the clock offset, kept while it is
        the least one of the last OFFSET_WINDOW_MS of board time."""
        candidate_s = self.stamp(received_s) - board_ms / 1000.0
        lows = self._offset_lows
        if lows and lows[-1][0] == board_ms and lows[-1][1] <= candidate_s:
            return  # a board clock standing still: the first frame at this board time is the better bound
        self._recent_bounds.append(candidate_s)
        while lows and lows[-1][1] >= candidate_s:
            lows.pop()
        lows.append((board_ms, candidate_s))
        while lows[0][0] < board_ms - OFFSET_WINDOW_MS:
            lows.popleft()

    def _follow_clock_step(self) -> None:
        """After a read is observed (its newest frame tells a stalled read from a late board): when the last
        CLOCK_STEP_FRAMES frames all arrived CLOCK_STEP_S later than the least bound just before them, the board's
        clock stood still and resumed behind, and the older bounds no longer hold. (A drift moves the bounds that
        little over a few frames. A link whose delay rose for good looks the same, and the window would take it
        too, after OFFSET_WINDOW_MS.)"""
        if len(self._recent_bounds) < CLOCK_STEP_FRAMES:
            return
        least_s, lows = min(self._recent_bounds), self._offset_lows
        before = [low_s for _, low_s in lows if low_s < least_s]  # the sliding minimum rises with board time
        if before and least_s - before[-1] > CLOCK_STEP_S:
            while lows[0][1] < least_s:
                lows.popleft()

    def _move_offset(self, board_ms: int, received_s: float, sink: Sink) -> bool:
        """The offset moved towards the window's least bound for a frame at ``board_ms``; True when it jumped up
        (the board's clock fell behind), which is said in a status line."""
        # Never above this frame's own bound, so never stamped after it was read, even when the bounds it was
        # observed with are gone (a clock step found later in the same read).
        target_s = min(self._offset_lows[0][1], self.stamp(received_s) - board_ms / 1000.0)
        jumped = False
        if self._offset_s is None or target_s < self._offset_s:
            # Down at once: a sample is never stamped after it was read (the first frames were read late, or
            # the board's clock jumped ahead).
            self._offset_s = target_s
        else:
            # Up slowly (a board clock that runs slow): by at most half the board time since the last stamp. A
            # rise beyond that and CLOCK_STEP_S is no drift but a clock that fell behind: followed at once, said.
            step_s = max(0.0, (board_ms - self._offset_board_ms) / 1000.0) / 2
            jumped = target_s - self._offset_s > max(step_s, CLOCK_STEP_S)
            if jumped:
                self.status(sink, "error", f"board clock fell {target_s - self._offset_s:.2f} s behind (it stood "
                            "still?); the clock mapping follows it at once and the interval is a gap")
            self._offset_s = target_s if jumped else min(target_s, self._offset_s + step_s)
        self._offset_board_ms = board_ms
        return jumped

    def board_to_session_s(self, board_ms: int) -> float:
        return board_ms / 1000.0 + self._offset_s

    def poll(self, sink: Sink) -> int:
        """Read what has arrived, hand on its samples and gaps; returns the number of frames decoded."""
        import serial

        try:
            data = self.port.read(self.port.in_waiting or 1)
        except (serial.SerialException, OSError) as error:
            self.status(sink, "disconnected", f"serial port {self.port_name} gone ({error})")
            raise InputError(self.port_name, f"serial port gone ({error})") from None
        received_s = self.clock.now_s()
        other_version_frames = self.decoder.version_errors
        frames = self.decoder.feed(data)
        taken = [item for item in map(self._take, frames) if item is not None]
        self._say_other_versions(sink)
        # a board speaking another version is heard: not said as silent (power, port, baud rate)
        self._watch_silence(sink, received_s, bool(frames) or self.decoder.version_errors > other_version_frames)
        if frames:
            self._garbled_at_last_frame = self._garbled()
        # Frames read together arrived together: the offset comes from the latest of them, and the earlier
        # ones keep their board-time spacing instead of all taking the arrival instant. A board restart
        # within the batch starts a new run with an offset of its own.
        runs = board_clock_runs(taken)
        for run in runs:
            if run[0].restarted_after is not None:
                self._restart_board_clock(run[0], sink)
            for item in run:
                if item.frame.type == TYPE_DATA:
                    self.observe_arrival(item.frame.board_ms, received_s)
            if run is runs[-1]:  # with the read's newest frame, so that a stalled read is no clock step
                self._follow_clock_step()
            for item in run:
                self.handle_frame(item, received_s, sink)
        if frames:
            self._watch_samples(sink, received_s)
        self._report_drops(sink, received_s)  # after the frames: their malformed payloads and readings count too
        return len(frames)

    def _watch_samples(self, sink: Sink, received_s: float) -> None:
        """After a read that brought frames: one status when they bring no sample for a stretch
        ``_samples_missing`` calls a dropout (a board heard by its HELLOs alone, its sensors gone); the next
        sample says they are back."""
        since_s = self._opened_s if self._last_t_s is None else self._last_t_s
        quiet_s = self.stamp(received_s) - since_s
        if not self._no_samples_said and self._samples_missing(quiet_s, floor_s=SILENCE_S):
            self._no_samples_said = True
            self.status(sink, "error", f"the board is heard, but no sample from it for {quiet_s:.0f} s (its "
                        "sensors?); a gap until samples come")

    def _take(self, frame: Frame) -> InOrder | None:
        """The frame in the board's order, or None for one dropped. Repeats and late frames are counted in the
        line of dropped frames (a board whose counter is stuck repeats every frame; a late frame's seq was most
        likely counted lost already: the gap stays)."""
        item = self.sequence.take(frame)
        if item == REPEAT:
            self.repeated_frames += 1
        elif item == LATE:
            self.late_frames += 1
        return item if isinstance(item, InOrder) else None

    def _restart_board_clock(self, item: InOrder, sink: Sink) -> None:
        """The board reset (its ``seq`` restarts too) or its clock wrapped."""
        self.status(sink, "error", f"board clock restarted ({item.restart_text()}); the clock mapping starts again "
                    "and the interval is a gap")
        self._restarted = True
        self._offset_s = None
        self._offset_lows.clear()
        self._recent_bounds.clear()
        self._offset_board_ms = None
        self._lost_frames = 0

    def handle_frame(self, item: InOrder, received_s: float, sink: Sink) -> None:
        # Every frame counts in the sequence, so a HELLO or an unknown type is not taken for a loss, and one
        # lost just before it is still counted.
        frame = item.frame
        self._lost_frames += item.lost
        if frame.type != TYPE_DATA:
            if frame.type == TYPE_HELLO:
                name = frame.payload.decode("ascii", "replace")
                if name != self.board_name:  # the board repeats HELLO every few seconds: say it once
                    self.board_name = name
                    self.status(sink, "connected", f"board {name!r}, protocol v{frame.version}")
            return
        try:
            readings = frame.readings()
        except ValueError:  # the board's bug, not the link's: counted like a corrupt frame, its time a gap
            self.malformed_frames += 1
            self._lost_frames += 1
            return
        readings = [(channel, self._plausible(channel, value)) for channel, value in readings]
        if not any(math.isfinite(value) for _, value in readings):
            # no reading at all (every channel left out, NaN, or no body's): no sample, as a HELLO is none; a
            # stretch of them is the whole board's gap, not each channel's 'while its other readings come'
            return
        if self._last_t_s is None and self.board_name is None:
            self.status(sink, "connected", "data frames arriving; the board has not said its name yet")
        fell_behind = self._move_offset(frame.board_ms, received_s, sink)
        t_s = self.board_to_session_s(frame.board_ms)
        if self._last_t_s is not None and t_s < self._last_t_s:
            if self._unplaced_from_s is not None or self._last_t_s - t_s > STAMP_WAIT_S:
                self._drop_unplaced(t_s, sink)
                return
            t_s = self._last_t_s  # within a read's wait: the stamps are no more exact than that
        reason = self._gap_reason(fell_behind, t_s - self._last_t_s if self._last_t_s is not None else 0.0)
        if self._no_samples_said:
            self._no_samples_said = False
            self.status(sink, "connected", "samples arriving" if self._last_t_s is None else "samples arriving again")
        if self._last_t_s is not None and reason:
            self._record_gap(sink, t_s, reason)
        elif self._last_t_s is None and t_s - self._opened_s > SILENCE_S:  # a board powered late (one booting is not)
            sink(Gap("*", self._opened_s, t_s, f"no sample from the board in the {t_s - self._opened_s:.1f} s after "
                     "its port opened", self.name))
        if self._restarted:  # its restart's status line is not the link's state for the rest of the session
            self.status(sink, "connected", "samples arriving after the board restarted")
        self._restarted = self._silence_said = False
        self._lost_frames = self._unplaced_frames = 0
        self._unplaced_from_s, self._unplaced_fall_s = None, 0.0
        if self._last_t_s is not None:
            self._cadence.learn(t_s - self._last_t_s)
        self._last_t_s, self._sample_offset_s = t_s, self._offset_s
        for channel, value in readings:
            sink(Sample(channel, t_s, float(value), self.name))
        self._watch_channels(readings, t_s, sink, board_gap=bool(reason))

    def _plausible(self, channel: str, value: float) -> float:
        """``value``, or NaN (counted) for one no body gives: a board's wild value (3e38 fits a frame) is a missing
        sample."""
        if not math.isnan(value) and not plausible_readings(channel, np.array([value]))[0]:
            self.implausible_readings += 1
            return math.nan
        return value

    def _watch_channels(self, readings: list[tuple[str, float]], t_s: float, sink: Sink, board_gap: bool) -> None:
        """A channel's reading after a stretch without (``_channel_missing``) records that stretch as a gap on it;
        one without readings for such a stretch while frames come is said once, and again when it is back.
        ``board_gap``: the stretch before this sample is the whole board's gap, which covers every channel still
        reading before it (their silence starts again here, not at their last reading before it)."""
        if board_gap:
            for channel in self._channel_last_s.keys() - self._quiet_channels:
                self._channel_last_s[channel] = t_s
                self._resumed_channels.add(channel)
        for channel, value in readings:
            if math.isnan(value):
                continue  # a missing reading (NaN, or no body's)
            last_s = self._channel_last_s.get(channel)
            if last_s is not None and t_s > last_s:
                if self._channel_missing(channel, t_s - last_s):
                    sink(Gap(channel, last_s, t_s, f"no {channel} reading from the board for {t_s - last_s:.1f} s",
                             self.name))
                if channel not in self._resumed_channels:  # a step from a board gap's end is none of its cadence
                    self._channel_cadence.setdefault(channel, Cadence()).learn(t_s - last_s)
            self._resumed_channels.discard(channel)
            if channel in self._quiet_channels:
                self._quiet_channels.discard(channel)
                self.status(sink, "connected", f"{channel} readings back")
            self._channel_last_s[channel] = t_s
        for channel in sorted(self._channel_last_s.keys() - self._quiet_channels):
            step_s = t_s - self._channel_last_s[channel]
            if self._channel_missing(channel, step_s, floor_s=SILENCE_S):
                self._quiet_channels.add(channel)
                self.status(sink, "error", f"no {channel} reading from the board for {step_s:.0f} s while its other "
                            "readings come (a sensor unplugged?); a gap on it until its readings are back")

    def _channel_missing(self, channel: str, step_s: float, floor_s: float = DROPOUT_MIN_S) -> bool:
        """``_samples_missing``'s rule for one channel's readings (``stretch_missing``), but none before its cadence
        is known: a channel sent every 10 s beside a 4 Hz one is slow, not missing (the whole board's gaps are the
        board's rule)."""
        return stretch_missing(step_s, self._channel_cadence.get(channel, Cadence()), unknown_missing=False,
                               floor_s=floor_s)

    def _record_quiet_channels(self, sink: Sink) -> None:
        """At the stop, however the loop ended: each channel said to have stopped, a gap to the stop."""
        for gap in self._quiet_channel_gaps(self.stamp(), "no reading on this channel until the session stopped"):
            sink(gap)

    def _quiet_channel_gaps(self, end_s: float, reason: str) -> list[Gap]:
        """Each channel said to have stopped, from its last reading to ``end_s`` (the stop, or a checkpoint)."""
        return [Gap(channel, self._channel_last_s[channel], max(end_s, self._channel_last_s[channel]), reason,
                    self.name) for channel in sorted(self._quiet_channels)]

    def _drop_unplaced(self, t_s: float, sink: Sink) -> None:
        """A frame whose stamp falls before the last sample's: the offset came down (the link's delay fell: a
        bridge that held frames let them go), so the samples before were stamped late by as much. Its readings are
        dropped, not stacked on the last stamp, and its stretch becomes a gap from its stamp with the next sample
        (or at the session's stop)."""
        self._unplaced_frames += 1
        self._unplaced_from_s = t_s if self._unplaced_from_s is None else min(t_s, self._unplaced_from_s)
        # the fall is the offset's, not this frame's distance before the last stamp: frames lost just before it
        # shorten that distance, and a fall that goes on in a later read deepens it
        self._unplaced_fall_s = max(self._unplaced_fall_s, self._sample_offset_s - self._offset_s)

    def _record_gap(self, sink: Sink, end_s: float, reason: str) -> None:
        """The gap before ``end_s`` (the next sample, or the session's stop); an offset that fell by more than
        CLOCK_STEP_S while frames were dropped as stamped before the last sample is said, as a clock that fell behind
        is (a shorter fall is a late first read, the gap alone)."""
        if self._unplaced_frames and self._unplaced_fall_s > CLOCK_STEP_S:
            self.status(sink, "error", f"board frames came {self._unplaced_fall_s:.2f} s sooner than before (a link "
                        "or bridge that held them let go?): the samples before were stamped up to that late; the "
                        "frames that would be stamped before the last one are dropped and their stretch is a gap")
        sink(Gap("*", self._gap_start_s(), end_s, reason, self.name))

    def _gap_start_s(self) -> float:
        """Where a gap before the next sample starts: the last sample, or the earliest stamp of the frames dropped
        as stamped before it."""
        unplaced_from_s = self._unplaced_from_s  # read once: a checkpoint's thread asks too (dropout_under_way)
        return self._last_t_s if unplaced_from_s is None else min(self._last_t_s, unplaced_from_s)

    def _gap_reason(self, fell_behind: bool, step_s: float = 0.0) -> str:
        """Why the stretch before the next sample, ``step_s`` after the last, is a gap; empty when it is none."""
        why = ["board restarted"] if self._restarted else []
        if self._lost_frames:  # after a restart, those lost since
            why.append(f"{self._lost_frames} frame(s) lost or corrupt")
        if not why and fell_behind:  # a restart or a loss explains the board time since
            why.append("board clock fell behind")
        elif not why and self._samples_missing(step_s):
            # a board that stalled, or whose sensors went, and went on counting its frames (a frozen board's clock
            # resumes where it stood: its first sample is near the last, the clock's step gap follows)
            why.append(f"no {'frame' if self._silence_said else 'sample'} from the board for {step_s:.1f} s")
        if self._unplaced_frames:
            why.append(f"{self._unplaced_frames} frame(s) dropped, stamped before the last sample (the link's "
                       "delay fell)")
        return "; ".join(why)

    def _samples_missing(self, step_s: float, floor_s: float = DROPOUT_MIN_S) -> bool:
        """Whether ``step_s`` without a sample (to the next sample, the stop or a checkpoint: one rule) is a
        dropout: over ``floor_s`` (DROPOUT_MIN_S to record it, SILENCE_S to say it) and over twice the usual step
        between its samples (a board whose sensors went is missing samples, one sending DATA every 10 s is
        not), or over SILENCE_S with the board said silent meanwhile; before a second sample its cadence is
        unknown, and any step over SILENCE_S is one."""
        return stretch_missing(step_s, self._cadence, unknown_missing=True, silence_said=self._silence_said,
                               floor_s=floor_s)

    def _say_other_versions(self, sink: Sink) -> None:
        """Once for each protocol version other than this host's that whole frames arrived in."""
        for version in sorted(set(self.decoder.other_versions) - self._versions_said):
            self.status(sink, "error", f"the board speaks protocol v{version}; this host reads v{PROTOCOL_VERSION} "
                        "only: its frames are skipped (flash the board with firmware of protocol "
                        f"v{PROTOCOL_VERSION}, or update the host)")
            self._versions_said.add(version)

    def _report_drops(self, sink: Sink, now_s: float, final: bool = False) -> None:
        """The counts of what was dropped, in one line: when a kind first appears, and while the same kinds go
        on, once the interval since the last line has passed (doubled at each such line); ``final``: at the
        session's end, whatever is not said yet."""
        counts = (self.decoder.crc_errors, self.decoder.version_errors, self.late_frames, self.malformed_frames,
                  self.implausible_readings, self.repeated_frames, self.decoder.bytes_skipped_between_frames())
        if counts == self._reported:
            return
        new_kind = any(count and not said for count, said in zip(counts, self._reported, strict=True))
        due = self._reported_at_s is None or now_s - self._reported_at_s >= self._report_every_s
        if not (new_kind or due or final):
            return
        if self._reported_at_s is not None and not new_kind and not final:
            self._report_every_s *= 2
        self.status(
            sink,
            "error",
            f"frame(s) dropped {'in the session' if final else 'so far'}: {counts[0]} bad checksum, {counts[1]} of "
            f"another protocol version, {counts[2]} late (out of order; their loss stays a gap), {counts[3]} with a "
            f"DATA payload that is not whole readings, {counts[5]} repeated (a seq already taken), {counts[6]} "
            f"byte(s) between frames skipped; {counts[4]} reading(s) no body could give (outside their channel's "
            "range, or infinite), read as missing",
            count=True,
        )
        self._reported, self._reported_at_s = counts, now_s

    def _watch_silence(self, sink: Sink, now_s: float, got_frames: bool) -> None:
        """One status when no frame has come for SILENCE_S, one when frames come again."""
        if got_frames:
            if self._silent:
                self.status(sink, "connected", f"frames again after {now_s - self._last_frame_s:.1f} s without")
            self._last_frame_s, self._silent = now_s, False
        elif not self._silent and now_s - self._last_frame_s > SILENCE_S:
            skipped = self.decoder.bytes_skipped  # bytes in no frame: a wrong baud rate gives those
            heard = f"; {skipped} byte(s) came, in no frame" if skipped else ""
            self.status(sink, "error", f"no frame from the board on {self.port_name} for {SILENCE_S:g} s{heard} "
                        "(is it powered, on this port, at this baud rate?)")
            self._silent = self._silence_said = True

    def end_of_session_gap(self, sink: Sink, reason: str) -> None:
        """The stretch from the last sample to now, when the board is gone for the rest of the session; its reason
        names the frames lost or dropped since that sample too (they would have been told with the next one)."""
        if self._last_t_s is not None:
            why = "; ".join(filter(None, (reason, self._gap_reason(fell_behind=False))))
            self._record_gap(sink, max(self.stamp(), self._last_t_s), why)

    def gap_at_the_stop(self, sink: Sink) -> None:
        """At the session's stop: a board that has sent only corrupt frames or stray bytes since its last whole
        frame, or no sample for a stretch ``_samples_missing`` calls a dropout (hung, its sensors unpowered, the
        port open; one sending DATA every 10 s is missing none 7 s after its last), leaves that stretch as a gap to
        the stop, as a board whose port went does.
        Otherwise frames lost, dropped as stamped before the last sample, or a restart since the last sample, which
        the next sample would have recorded, are recorded up to the last frame read."""
        if self._last_t_s is None:
            return
        self._record_quiet_channels(sink)
        if garbled := self._garbled() - self._garbled_at_last_frame:
            # the board went on sending, but nothing whole came after its last frame: that stretch, however short
            self.end_of_session_gap(sink, f"frames corrupt after the last whole one ({garbled} bad frame(s) or "
                                          "stray byte(s)) until the session stopped")
        elif self._samples_missing(self.stamp() - self._last_t_s):
            self.end_of_session_gap(sink, "no samples from the board until the session stopped")
        elif reason := self._gap_reason(fell_behind=False):
            self._record_gap(sink, max(self.stamp(self._last_frame_s), self._last_t_s), reason)

    def dropout_under_way(self) -> list[Gap]:
        """The stretch since the last sample, where the next sample would record it, or the stop (the port gone or
        the link failed); frames lost since, or a restart, which the next sample records, are left to it."""
        last_t_s = self._last_t_s
        if self._loop_ended or last_t_s is None:
            return []
        now_s = self.stamp()
        quiet = self._quiet_channel_gaps(now_s, "no reading on this channel so far")
        if not (self._lost_for_good or self._samples_missing(now_s - last_t_s)):
            return quiet
        return [*quiet, Gap("*", self._gap_start_s(), max(now_s, last_t_s), "no samples from the board so far",
                            self.name)]

    def _garbled(self) -> int:
        """Bad frames and stray bytes the decoder has met so far: what a board sending nothing whole leaves."""
        return self.decoder.crc_errors + self.decoder.bytes_skipped_between_frames()

    def run_until_stopped(self, sink: Sink, stop: threading.Event) -> None:
        """Read frames until ``stop``. A port that disappears (``poll`` has said so) is gone for the rest of the
        session: its silence up to the stop is a gap."""
        self.status(sink, "connecting", f"{self.port_name} open; waiting for the board's frames")
        try:
            while not stop.is_set():
                self.poll(sink)  # the port's read timeout (READ_TIMEOUT_S) paces the loop
            self.gap_at_the_stop(sink)
        except InputError:
            self._lost_for_good = True
            stop.wait()
            self._record_quiet_channels(sink)
            self.end_of_session_gap(sink, "serial port gone until the session stopped")
        except Exception as error:  # a defect, not the port: said, its silence a gap, the session goes on
            self._lost_for_good = True
            self.failed(sink, error)
            stop.wait()
            self._record_quiet_channels(sink)
            self.end_of_session_gap(sink, "link failed until the session stopped")
        self._loop_ended = True
        self._report_drops(sink, self.clock.now_s(), final=True)  # the counts since the last line

    def close(self) -> None:
        self.port.close()
