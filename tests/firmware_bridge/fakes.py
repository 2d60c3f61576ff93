"""Test doubles shared by the sensor-link tests: a clock, a board on loop:// and the frames it is sent, a scripted
BLE sensor (and one out of reach), and a BLE heart-rate link run on them."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence

from firmware_bridge.ble import BATTERY_LEVEL, HEART_RATE_MEASUREMENT, BleHeartRateLink
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
    return frame_of(seq, board_ms, eda=eda_us, temp=temp_c)


def send(link: SerialBoardLink, time: FakeTime, recorder: Recorder, *frames: bytes, after_s: float = 0.25) -> None:
    """``frames`` arriving together ``after_s`` after the last read."""
    link.port.write(b"".join(frames))
    time.now += after_s
    while link.poll(recorder):
        pass


class SimulatedPeripheral:
    """A scripted BLE sensor behind ``GattClient`` (a heart-rate strap unless ``characteristic`` names another):
    real notification bytes, failures on request.

    ``script`` is a list of (seconds after the first connection, notification bytes), played when
    ``now()`` reaches each time; what falls due while disconnected is lost, as with a real sensor.
    ``fail_connects`` makes the first connection attempts fail; ``vanish_after`` drops the link after
    that many notifications.
    """

    def __init__(
        self,
        script: Sequence[tuple[float, bytes]],
        now: Callable[[], float] | None = None,
        battery_pct: int | None = 80,
        fail_connects: int = 0,
        vanish_after: int | None = None,
        characteristic: str = HEART_RATE_MEASUREMENT,
    ):
        self.script = list(script)
        self.characteristic = characteristic
        self.now = now
        self.battery_pct = battery_pct
        self.fail_connects = fail_connects
        self.vanish_after = vanish_after
        self.connects = 0
        self.sent = 0
        self._origin: float | None = None
        self._connected = False
        self._task: asyncio.Task | None = None

    def _elapsed_s(self) -> float:
        return math.inf if self.now is None else self.now() - (self._origin or 0.0)

    async def connect(self) -> None:
        self.connects += 1
        if self.connects <= self.fail_connects:
            raise ConnectionError("simulated: device not found")
        if self._origin is None and self.now is not None:
            self._origin = self.now()
        self._connected = True

    async def disconnect(self) -> None:
        self._connected = False

    @property
    def is_connected(self) -> bool:
        return self._connected

    def has_characteristic(self, uuid: str) -> bool:
        return uuid == self.characteristic or (uuid == BATTERY_LEVEL and self.battery_pct is not None)

    async def read(self, uuid: str) -> bytes:
        if uuid != BATTERY_LEVEL or self.battery_pct is None:
            raise ConnectionError(f"simulated: no readable characteristic {uuid}")
        return bytes([self.battery_pct])

    async def start_notify(self, uuid: str, callback: Callable[[bytes], None]) -> None:
        if uuid != self.characteristic:
            raise ConnectionError(f"simulated: cannot notify {uuid}")
        if self.now is not None:  # notifications due while away were never sent
            self.script = [(t, d) for t, d in self.script if t >= self._elapsed_s()]
        self._task = asyncio.get_running_loop().create_task(self._play(callback))

    async def _play(self, callback: Callable[[bytes], None]) -> None:
        while self.script and self._connected:
            if self.vanish_after is not None and self.sent >= self.vanish_after:
                self.vanish_after = None
                self._connected = False
                return
            at_s, data = self.script[0]
            if self._elapsed_s() < at_s:
                await asyncio.sleep(0)
                continue
            self.script.pop(0)
            self.sent += 1
            callback(data)
            await asyncio.sleep(0)


def run_link(peripheral: SimulatedPeripheral, time: FakeTime, stop_after_hr: int, **kwargs) -> Recorder:
    clock = SessionClock(monotonic=time)
    recorder = Recorder()
    stop = asyncio.Event()

    def sink(event):
        recorder(event)
        # a link that ends on its own (gave up, or not the right sensor) waits for the stop: it comes at once
        if len(recorder.series("hr")[0]) >= stop_after_hr or getattr(event, "state", None) == "stopped":
            stop.set()

    link = BleHeartRateLink(peripheral, clock, latency_s=0.1, sleep=time.sleep, **kwargs)

    async def main():
        await asyncio.wait_for(link.run(sink, stop), timeout=10)

    asyncio.run(main())
    return recorder


class OutOfReach(SimulatedPeripheral):
    """A strap no scan finds while ``absent()`` names why (the error each attempt raises), each scan taking
    ``scan_s`` of the fake clock, as bleak's scanner does before it gives up."""

    def __init__(self, script, time: FakeTime, absent, scan_s: float = 10.0, **kwargs):
        super().__init__(script, now=time, **kwargs)
        self.time, self.absent, self.scan_s = time, absent, scan_s

    async def connect(self) -> None:
        why = self.absent() if self._origin is not None else None
        if why:
            self.connects += 1
            self.time.now += self.scan_s
            raise ConnectionError(why)
        await super().connect()


def frame_of(seq: int, board_ms: int, **readings: float) -> bytes:
    """A DATA frame holding ``readings`` (channel=value), in the order given."""
    return encode_frame(TYPE_DATA, seq, board_ms, data_payload(list(readings.items())))
