"""Test doubles shared by the sensor-link tests."""

from __future__ import annotations

import asyncio

from firmware_bridge.link import Recorder
from firmware_bridge.serial_link import TYPE_DATA, SerialBoardLink, data_payload, encode_frame
from runtime.clock import SessionClock


class FakeTime:
    """A monotonic clock (and an asyncio sleep) that moves only when told to."""

    def __init__(self, now: float = 500.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def make_link(time: FakeTime, latency_s: float = 0.01) -> SerialBoardLink:
    """A serial board link on pyserial's ``loop://`` (what is written to its port is what it reads; the queue
    holds 4 KB: a larger write blocks), on a session clock driven by ``time``."""
    link = SerialBoardLink("loop://", SessionClock(monotonic=time), latency_s=latency_s)
    link.port.timeout = 0  # the test's clock is not the wall's: an empty read need not wait its 50 ms
    return link


def board(latency_s: float = 0.01) -> tuple[FakeTime, SerialBoardLink, Recorder]:
    """A board on ``loop://`` with its clock and a recorder for what it delivers."""
    time = FakeTime()
    return time, make_link(time, latency_s), Recorder()


def data_frame(seq: int, board_ms: int, eda_us: float = 2.0, temp_c: float = 33.0) -> bytes:
    """A DATA frame with EDA and skin temperature."""
    return encode_frame(TYPE_DATA, seq, board_ms, data_payload([("eda", eda_us), ("temp", temp_c)]))


def send(link: SerialBoardLink, time: FakeTime, recorder: Recorder, *frames: bytes, after_s: float = 0.25) -> None:
    """``frames`` arriving together ``after_s`` after the last read."""
    link.port.write(b"".join(frames))
    time.now += after_s
    while link.poll(recorder):
        pass
