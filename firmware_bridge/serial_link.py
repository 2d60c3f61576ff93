"""The serial sensor board: a versioned, checksummed framing over pyserial (docs/serial-protocol.md).

Frame (little-endian), protocol version 1::

    0xA5 0x5A | version u8 | type u8 | seq u16 | board_ms u32 | length u8 | payload[length] | crc u16

``crc`` is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection; check value 0x29B1 for
"123456789") over version..payload. A DATA frame's payload is one instant's readings: repeated
(channel id u8, value float32). A HELLO frame's payload is the board's name in ASCII.

The decoder resynchronises after a corrupt frame by searching for the next sync pair after the bad one's
first byte. Board time (``board_ms``) is mapped onto the session clock by the smallest (arrival - latency -
board time) of the last ``OFFSET_WINDOW_MS`` of board time: the least-delayed frame is the best estimate of the
offset, and the window lets it follow a board clock that drifts. No sample is stamped after it was read or
before the last one. Board time that runs backwards (a reset, or the 49.7-day wrap) anchors the mapping
again. Sequence numbers that jump leave a gap on every channel of the board; a frame equal to one of the last
``REPEAT_MEMORY_FRAMES`` is a repeat, dropped.
"""

from __future__ import annotations

import binascii
import struct
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from firmware_bridge.link import Gap, Sample, SensorLink, Sink
from runtime.clock import SessionClock
from runtime.errors import InputError

SYNC = b"\xa5\x5a"
PROTOCOL_VERSION = 1
TYPE_DATA = 0x01
TYPE_HELLO = 0x02
CLOCKED_TYPES = (TYPE_DATA, TYPE_HELLO)  # the frames whose board_ms the clock mapping reads
HEADER = struct.Struct("<BBHIB")  # version, type, seq, board_ms, length (after the sync pair)
CRC = struct.Struct("<H")
MAX_PAYLOAD = 255
CHANNELS: dict[int, str] = {1: "eda", 2: "bvp", 3: "temp", 4: "acc_x", 5: "acc_y", 6: "acc_z", 7: "resp"}
CHANNEL_IDS = {name: number for number, name in CHANNELS.items()}
READING = struct.Struct("<Bf")
# The clock offset is the least delay seen over this much board time, so that it follows a board clock that runs
# slow (a ceramic resonator's 0.5 % is 18 s an hour) instead of keeping the first minimum for the whole session.
OFFSET_WINDOW_MS = 10_000
# No frame for this long is said once (a board unplugged from its sensors' power, a wrong port or baud rate).
SILENCE_S = 5.0
# Corrupt frames are counted in one status line at most this often: a board speaking another protocol version
# would otherwise print a line for every frame, 64 a second.
CORRUPTION_REPORT_S = 10.0
# A frame equal to one of the last this many is a repeat (a radio bridge's retry may bring one back out of order),
# dropped before it could be taken for a board restart; one second of frames at 64 Hz.
REPEAT_MEMORY_FRAMES = 64


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
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    body = HEADER.pack(version, frame_type, seq & 0xFFFF, board_ms & 0xFFFFFFFF, len(payload)) + payload
    return SYNC + body + CRC.pack(crc16_ccitt(body))


def data_payload(readings: Iterable[tuple[str, float]]) -> bytes:
    return b"".join(READING.pack(CHANNEL_IDS[name], value) for name, value in readings)


class FrameDecoder:
    """Bytes in, whole valid frames out; counts what it had to throw away."""

    def __init__(self):
        self.buffer = bytearray()
        self.crc_errors = 0
        self.version_errors = 0
        self.bytes_skipped = 0

    def feed(self, data: bytes) -> list[Frame]:
        self.buffer.extend(data)
        frames = []
        while True:
            start = self.buffer.find(SYNC)
            if start < 0:
                keep = 1 if self.buffer.endswith(SYNC[:1]) else 0  # a sync pair may straddle two reads
                self.bytes_skipped += len(self.buffer) - keep
                del self.buffer[: len(self.buffer) - keep]
                return frames
            if start:
                self.bytes_skipped += start
                del self.buffer[:start]
            if len(self.buffer) < 2 + HEADER.size:
                return frames
            version, frame_type, seq, board_ms, length = HEADER.unpack_from(self.buffer, 2)
            if version != PROTOCOL_VERSION:
                self.version_errors += 1
                self._drop_first_byte()
                continue
            total = 2 + HEADER.size + length + CRC.size
            if len(self.buffer) < total:
                return frames
            body = bytes(self.buffer[2 : total - CRC.size])
            (crc,) = CRC.unpack_from(self.buffer, total - CRC.size)
            if crc != crc16_ccitt(body):
                self.crc_errors += 1
                self._drop_first_byte()
                continue
            frames.append(Frame(frame_type, seq, board_ms, body[HEADER.size :], version))
            del self.buffer[:total]

    def _drop_first_byte(self) -> None:
        self.bytes_skipped += 1
        del self.buffer[:1]


def board_clock_runs(frames: list[Frame], last_board_ms: int | None) -> list[tuple[bool, list[Frame]]]:
    """``frames`` split where board time runs backwards (a reset or a wrap): each run on one board clock, and
    whether it starts with such a restart (``last_board_ms``: the board time of the frame before them)."""
    runs: list[tuple[bool, list[Frame]]] = []
    for frame in frames:
        clocked = frame.type in CLOCKED_TYPES  # a frame type of a later protocol minor may carry another time
        restarted = clocked and last_board_ms is not None and frame.board_ms < last_board_ms
        if not runs or restarted:
            runs.append((restarted, []))
        runs[-1][1].append(frame)
        if clocked:
            last_board_ms = frame.board_ms
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
        serial_port=None,
    ):
        super().__init__(name, clock, latency_s)
        self.port_name = port
        if serial_port is None:
            import serial

            try:
                serial_port = serial.serial_for_url(port, baudrate=baudrate, timeout=0.05)
            except (serial.SerialException, ValueError) as error:
                raise InputError(port, f"cannot open serial port ({error})") from None
        self.port = serial_port
        self.decoder = FrameDecoder()
        self.board_name: str | None = None
        self._offset_s: float | None = None  # the offset the stamps use
        self._offset_lows: deque[tuple[int, float]] = deque()  # (board_ms, arrival - board time): a sliding minimum
        self._offset_board_ms: int | None = None  # board time of the last stamp
        self._recent_frames: deque[Frame] = deque(maxlen=REPEAT_MEMORY_FRAMES)
        self._last_seq: int | None = None
        self._last_board_ms: int | None = None
        self._last_t_s: float | None = None
        self._lost_frames = 0  # lost before a frame that carries no readings, so not yet given a gap
        self._restarted = False  # the board restarted and the interval is not yet recorded as a gap
        self._reported = (0, 0)
        self._reported_at_s: float | None = None
        self._last_frame_s = clock.now_s()  # session time of the last frame read (or of opening the port)
        self._silent = False

    def observe_arrival(self, board_ms: int, received_s: float) -> None:
        """A frame taken at ``board_ms`` arrived by ``received_s``: a bound on the clock offset, kept while it is
        the least one of the last OFFSET_WINDOW_MS of board time."""
        candidate_s = self.stamp(received_s) - board_ms / 1000.0
        lows = self._offset_lows
        while lows and lows[-1][1] >= candidate_s:
            lows.pop()
        lows.append((board_ms, candidate_s))
        while lows[0][0] < board_ms - OFFSET_WINDOW_MS:
            lows.popleft()

    def board_to_session_s(self, board_ms: int, received_s: float) -> float:
        self.observe_arrival(board_ms, received_s)
        target_s = self._offset_lows[0][1]
        if self._offset_s is None or target_s < self._offset_s:
            # Down at once: a sample is never stamped after it was read (the first frames were read late, or
            # the board's clock jumped ahead).
            self._offset_s = target_s
        else:
            # Up slowly (a board clock that runs slow): by at most half the board time since the last stamp.
            step_s = max(0.0, (board_ms - self._offset_board_ms) / 1000.0) / 2
            self._offset_s = min(target_s, self._offset_s + step_s)
        self._offset_board_ms = board_ms
        t_s = board_ms / 1000.0 + self._offset_s
        # Nor before the last sample: after the offset came down, the next stamps repeat the last one until the
        # board time has caught up, instead of going back by the first read's delay.
        return t_s if self._last_t_s is None else max(t_s, self._last_t_s)

    def poll(self, sink: Sink) -> int:
        """Read what has arrived, hand on its samples and gaps; returns the number of frames decoded."""
        import serial

        try:
            data = self.port.read(self.port.in_waiting or 1)
        except (serial.SerialException, OSError) as error:
            self.status(sink, "disconnected", f"serial port {self.port_name} gone ({error})")
            raise InputError(self.port_name, f"serial port gone ({error})") from None
        received_s = self.clock.now_s()
        frames = [frame for frame in self.decoder.feed(data) if self._first_copy(frame, sink)]
        self._report_corruption(sink, received_s)
        self._watch_silence(sink, received_s, bool(frames))
        # Frames read together arrived together: the offset comes from the latest of them, and the earlier
        # ones keep their board-time spacing instead of all taking the arrival instant. A board restart
        # within the batch starts a new run with an offset of its own.
        for restarted, run in board_clock_runs(frames, self._last_board_ms):
            if restarted:
                self._restart_board_clock(run[0], sink)
            for frame in run:
                if frame.type == TYPE_DATA:
                    self.observe_arrival(frame.board_ms, received_s)
            for frame in run:
                self.handle_frame(frame, received_s, sink)
        return len(frames)

    def _first_copy(self, frame: Frame, sink: Sink) -> bool:
        """False for a frame equal to a recent one (a repeat to drop, also when others came between)."""
        if frame in self._recent_frames:
            return self._drop_repeat(frame, sink)
        self._recent_frames.append(frame)
        return True

    def _drop_repeat(self, frame: Frame, sink: Sink) -> bool:
        self.status(sink, "error", f"frame {frame.seq} received twice; the repeat is dropped")
        return False

    def _restart_board_clock(self, frame: Frame, sink: Sink) -> None:
        """Board time ran backwards: the board reset (its ``seq`` restarts too) or its clock wrapped."""
        self.status(sink, "error", f"board clock restarted (board_ms {self._last_board_ms} then {frame.board_ms}): "
                    "a reset or a wrap; the clock mapping starts again and the interval is a gap")
        self._restarted = True
        self._offset_s = None
        self._offset_lows.clear()
        self._offset_board_ms = None
        self._last_seq = None
        self._lost_frames = 0

    def _count_sequence(self, frame: Frame, sink: Sink) -> bool:
        """Note frames lost before this one; False for a frame that repeats the last one's ``seq`` with other
        contents (a board that did not count: dropped as a repeat)."""
        if self._last_seq is not None:
            if frame.seq == self._last_seq:
                return self._drop_repeat(frame, sink)
            self._lost_frames += (frame.seq - self._last_seq - 1) & 0xFFFF
        self._last_seq = frame.seq
        if frame.type in CLOCKED_TYPES:
            self._last_board_ms = frame.board_ms
        return True

    def handle_frame(self, frame: Frame, received_s: float, sink: Sink) -> None:
        # Every frame counts in the sequence, so a HELLO or an unknown type is not taken for a loss, and one
        # lost just before it is still counted.
        if not self._count_sequence(frame, sink):
            return
        if frame.type != TYPE_DATA:
            if frame.type == TYPE_HELLO:
                name = frame.payload.decode("ascii", "replace")
                if name != self.board_name:  # the board repeats HELLO every few seconds: say it once
                    self.board_name = name
                    self.status(sink, "connected", f"board {name!r}, protocol v{frame.version}")
            return
        if self._last_t_s is None and self.board_name is None:
            self.status(sink, "connected", "data frames arriving; the board has not said its name yet")
        t_s = self.board_to_session_s(frame.board_ms, received_s)
        if self._last_t_s is not None and self._restarted:
            sink(Gap("*", self._last_t_s, t_s, "board restarted", self.name))
        elif self._last_t_s is not None and self._lost_frames:
            sink(Gap("*", self._last_t_s, t_s, f"{self._lost_frames} frame(s) lost or corrupt", self.name))
        self._restarted = False
        self._lost_frames = 0
        self._last_t_s = t_s
        try:
            readings = frame.readings()
        except ValueError as error:
            self.status(sink, "error", str(error))
            return
        for channel, value in readings:
            sink(Sample(channel, t_s, float(value), self.name))

    def _report_corruption(self, sink: Sink, now_s: float) -> None:
        counts = (self.decoder.crc_errors, self.decoder.version_errors)
        recently = self._reported_at_s is not None and now_s - self._reported_at_s < CORRUPTION_REPORT_S
        if counts != self._reported and not recently:
            self.status(
                sink,
                "error",
                f"corrupt frame(s) dropped: {counts[0]} bad checksum, "
                f"{counts[1]} unknown version so far; resynchronised",
            )
            self._reported, self._reported_at_s = counts, now_s

    def _watch_silence(self, sink: Sink, now_s: float, got_frames: bool) -> None:
        """One status when no frame has come for SILENCE_S, one when frames come again."""
        if got_frames:
            if self._silent:
                self.status(sink, "connected", f"frames again after {now_s - self._last_frame_s:.1f} s without")
            self._last_frame_s, self._silent = now_s, False
        elif not self._silent and now_s - self._last_frame_s > SILENCE_S:
            self.status(sink, "error", f"no frame from the board on {self.port_name} for {SILENCE_S:g} s "
                        "(is it powered, on this port, at this baud rate?)")
            self._silent = True

    def end_of_session_gap(self, sink: Sink, reason: str) -> None:
        """The stretch from the last sample to now, when the board is gone for the rest of the session."""
        if self._last_t_s is not None:
            sink(Gap("*", self._last_t_s, max(self.stamp(), self._last_t_s), reason, self.name))

    def close(self) -> None:
        self.port.close()
