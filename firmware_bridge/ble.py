"""BLE sensors through bleak: the standard Heart Rate Service (0x180D) and Battery Service (0x180F).

Heart Rate Measurement (0x2A37) is parsed per the Bluetooth specification: a flags byte, then the heart
rate (uint8 or uint16), energy expended (uint16, kJ) when flagged, and RR intervals (uint16 each, in
1/1024 s) when flagged. Discovery is by name or address; a vanished sensor is reconnected with back-off
and the silence becomes a gap. The GATT client sits behind a small interface (``GattClient``), so a
simulated peripheral can stand in for a real one in tests; other GATT sensors plug in the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from firmware_bridge.link import Gap, Sample, SensorLink, Sink
from runtime.clock import SessionClock


def uuid16(short: int) -> str:
    """The full 128-bit UUID of a 16-bit Bluetooth SIG number."""
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


HEART_RATE_SERVICE = uuid16(0x180D)
HEART_RATE_MEASUREMENT = uuid16(0x2A37)
BATTERY_SERVICE = uuid16(0x180F)
BATTERY_LEVEL = uuid16(0x2A19)

# Flags byte of the Heart Rate Measurement characteristic.
FLAG_HR_UINT16 = 0x01
FLAG_CONTACT_DETECTED = 0x02
FLAG_CONTACT_SUPPORTED = 0x04
FLAG_ENERGY_EXPENDED = 0x08
FLAG_RR_INTERVALS = 0x10
RR_UNIT_S = 1.0 / 1024.0


class BleFormatError(ValueError):
    """A characteristic value that does not follow the specification."""


@dataclass(frozen=True)
class HeartRateMeasurement:
    heart_rate_bpm: int
    sensor_contact: bool | None  # None: the sensor does not report contact
    energy_expended_kj: int | None
    rr_intervals_s: tuple[float, ...]


def parse_heart_rate_measurement(data: bytes | bytearray) -> HeartRateMeasurement:
    """Decode one Heart Rate Measurement notification (Bluetooth Heart Rate Service, 0x2A37)."""
    data = bytes(data)
    if not data:
        raise BleFormatError("empty heart rate measurement")
    flags, offset = data[0], 1
    width = 2 if flags & FLAG_HR_UINT16 else 1
    if len(data) < offset + width:
        raise BleFormatError(f"heart rate measurement of {len(data)} bytes lacks its heart rate")
    heart_rate = int.from_bytes(data[offset : offset + width], "little")
    offset += width
    contact = bool(flags & FLAG_CONTACT_DETECTED) if flags & FLAG_CONTACT_SUPPORTED else None
    energy = None
    if flags & FLAG_ENERGY_EXPENDED:
        if len(data) < offset + 2:
            raise BleFormatError("energy expended flagged but missing")
        energy = int.from_bytes(data[offset : offset + 2], "little")
        offset += 2
    rr: list[float] = []
    if flags & FLAG_RR_INTERVALS:
        rest = data[offset:]
        if len(rest) % 2:
            raise BleFormatError("RR intervals are not whole uint16 values")
        rr = [int.from_bytes(rest[i : i + 2], "little") * RR_UNIT_S for i in range(0, len(rest), 2)]
    return HeartRateMeasurement(heart_rate, contact, energy, tuple(rr))


def parse_battery_level(data: bytes | bytearray) -> int:
    """Battery Level (0x2A19): one uint8, percent."""
    if len(data) != 1 or data[0] > 100:
        raise BleFormatError(f"battery level must be one byte 0..100, got {bytes(data).hex()}")
    return int(data[0])


class GattClient(Protocol):
    """What the links need from a GATT connection (bleak's client, or a simulated peripheral)."""

    async def connect(self) -> None: ...
    async def disconnect(self) -> None: ...
    @property
    def is_connected(self) -> bool: ...
    def has_characteristic(self, uuid: str) -> bool: ...
    async def read(self, uuid: str) -> bytes: ...
    async def start_notify(self, uuid: str, callback: Callable[[bytes], None]) -> None: ...


class BleakGattClient:
    """``GattClient`` over bleak, found by name or address."""

    def __init__(
        self,
        name: str | None = None,
        address: str | None = None,
        scan_timeout_s: float = 10.0,
        on_disconnect: Callable[[], None] | None = None,
    ):
        if not (name or address):
            raise ValueError("give a device name or address")
        self.name, self.address, self.scan_timeout_s = name, address, scan_timeout_s
        self.on_disconnect = on_disconnect
        self._client = None

    async def connect(self) -> None:
        from bleak import BleakClient, BleakScanner

        with self._as_connection_error():
            device = await BleakScanner.find_device_by_filter(
                lambda d, adv: (
                    (self.address is not None and d.address.lower() == self.address.lower())
                    or (self.name is not None and (d.name or adv.local_name or "") == self.name)
                ),
                timeout=self.scan_timeout_s,
            )
            if device is None:
                raise ConnectionError(f"no BLE device {self.name or self.address} in range")
            self._client = BleakClient(device, disconnected_callback=lambda _c: self._disconnected())
            await self._client.connect()

    @contextlib.contextmanager
    def _as_connection_error(self):
        """bleak's own errors (adapter off, BlueZ busy, device gone) and a machine without Bluetooth at all
        (no D-Bus socket: FileNotFoundError) as the ConnectionError the link retries on, naming the device."""
        from bleak.exc import BleakError

        try:
            yield
        except FileNotFoundError as error:
            raise ConnectionError(f"{self.name or self.address}: Bluetooth is not available here ({error})") from None
        except BleakError as error:
            raise ConnectionError(f"{self.name or self.address}: {error}") from None

    def _disconnected(self) -> None:
        if self.on_disconnect is not None:
            self.on_disconnect()

    async def disconnect(self) -> None:
        if self._client is not None:
            with self._as_connection_error():
                await self._client.disconnect()

    @property
    def is_connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    def has_characteristic(self, uuid: str) -> bool:
        return self._client is not None and self._client.services.get_characteristic(uuid) is not None

    async def read(self, uuid: str) -> bytes:
        with self._as_connection_error():
            return bytes(await self._client.read_gatt_char(uuid))

    async def start_notify(self, uuid: str, callback: Callable[[bytes], None]) -> None:
        with self._as_connection_error():
            await self._client.start_notify(uuid, lambda _char, data: callback(bytes(data)))


def beat_times_s(rr_intervals_s: Sequence[float], last_beat_s: float) -> list[float]:
    """When each beat of a notification's RR intervals fell, oldest first: the last ends at ``last_beat_s``."""
    times, beat_s = [], last_beat_s
    for rr in reversed(rr_intervals_s):
        times.append(beat_s)
        beat_s -= rr
    return times[::-1]


class BleHeartRateLink(SensorLink):
    """Heart rate and RR intervals from any standard BLE heart-rate sensor, on the session clock.

    Each notification is stamped on arrival minus ``latency_s``. Its RR intervals end at that instant,
    the last one latest, so the beats are laid out backwards from it. When notifications stop for
    ``silence_timeout_s`` or the link drops, the sensor is reconnected with exponential back-off and the
    silence is recorded as a gap on "hr" and "ibi". A notification that is not a heart rate (malformed, no
    skin contact, 0 bpm) neither counts as the sensor being there nor passes on a value.
    """

    def __init__(
        self,
        client: GattClient,
        clock: SessionClock,
        latency_s: float = 0.05,
        backoff_s: Sequence[float] = (0.5, 1.0, 2.0, 4.0, 8.0),
        silence_timeout_s: float = 5.0,
        max_attempts: int | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        name: str = "ble-hr",
    ):
        super().__init__(name, clock, latency_s)
        self.client = client
        self.backoff_s = tuple(backoff_s)
        self.silence_timeout_s = silence_timeout_s
        self.max_attempts = max_attempts
        self.sleep = sleep
        self.format_errors = 0
        self._format_errors_reported = 0
        self._last_sample_s: float | None = None
        self._gap_open_s: float | None = None
        self._last_notify_s: float | None = None

    def on_notification(self, data: bytes, sink: Sink) -> None:
        t_s = self.stamp()
        try:
            measurement = parse_heart_rate_measurement(data)
        except BleFormatError as error:
            # Not a sign of life: a sensor sending only garbage goes silent and is reconnected.
            self.format_errors += 1
            if self.format_errors == 1:
                self.status(sink, "error", f"malformed heart rate notification {data.hex()}: {error}")
            return
        self._last_notify_s = self.clock.now_s()
        self._close_gap(t_s, sink)
        if measurement.sensor_contact is False or measurement.heart_rate_bpm == 0:
            # Strap off the skin, or a sensor with no reading yet: neither the value nor the beats are a heart's.
            reason = "no skin contact" if measurement.sensor_contact is False else "sensor reports 0 bpm"
            for channel in ("hr", "ibi"):
                sink(Gap(channel, t_s - 1.0, t_s, reason, self.name))
        else:
            sink(Sample("hr", t_s, float(measurement.heart_rate_bpm), self.name))
            for beat_s, rr in zip(beat_times_s(measurement.rr_intervals_s, t_s), measurement.rr_intervals_s,
                                  strict=True):
                if rr > 0:  # an interval of 0 is no beat
                    sink(Sample("ibi", beat_s, rr, self.name))
        self._last_sample_s = t_s

    def _close_gap(self, end_s: float, sink: Sink, reason: str = "BLE sensor out of reach") -> None:
        if self._gap_open_s is not None:
            for channel in ("hr", "ibi"):
                sink(Gap(channel, self._gap_open_s, end_s, reason, self.name))
            self._gap_open_s = None

    def _report_format_errors(self, sink: Sink) -> None:
        if self.format_errors > max(1, self._format_errors_reported):
            self.status(sink, "error", f"{self.format_errors} malformed heart rate notifications so far")
        self._format_errors_reported = self.format_errors

    async def run(self, sink: Sink, stop: asyncio.Event) -> None:
        """Connect, stream, reconnect with back-off until ``stop`` (or ``max_attempts`` failures in a row)."""
        failures = 0
        while not stop.is_set():
            self.status(sink, "connecting", "looking for the sensor")
            connected = False
            try:
                await self.client.connect()
                connected = True
                failures = 0
                self.status(sink, "connected", "heart rate notifications on")
                await self._read_battery(sink)
                self._last_notify_s = self.clock.now_s()
                await self.client.start_notify(
                    HEART_RATE_MEASUREMENT, lambda d: self.on_notification(d, sink)
                )
                await self._watch(stop)
            except (ConnectionError, OSError, asyncio.TimeoutError) as error:
                failures += 1
                self.status(sink, "error", f"{type(error).__name__}: {error}")
            self._report_format_errors(sink)
            if stop.is_set():
                break
            self._open_gap()
            if connected:
                await self._safe_disconnect()  # a half-open connection would block the next one
                self.status(sink, "disconnected", "sensor vanished; reconnecting")
            if self.max_attempts is not None and failures >= self.max_attempts:
                self.status(sink, "stopped", f"gave up after {failures} failed attempts")
                return
            delay_s = self.backoff_s[min(max(failures - 1, 0), len(self.backoff_s) - 1)]
            self.status(sink, "retrying", f"in {delay_s:g} s")
            await self.sleep(delay_s)
        await self._safe_disconnect()
        self._close_gap(self.stamp(), sink, "BLE sensor out of reach until the session stopped")
        self.status(sink, "stopped", "stopped by request")

    async def _read_battery(self, sink: Sink) -> None:
        """The battery level where the sensor offers it; a failed read costs the level, not the heart rate."""
        if not self.client.has_characteristic(BATTERY_LEVEL):
            return
        try:
            level = parse_battery_level(await self.client.read(BATTERY_LEVEL))
        except (ConnectionError, OSError, asyncio.TimeoutError, BleFormatError) as error:
            self.status(sink, "error", f"battery level unreadable ({error}); heart rate goes on")
            return
        sink(Sample("battery", self.clock.now_s(), float(level), self.name))

    async def _watch(self, stop: asyncio.Event) -> None:
        """Return when the link drops or goes silent for ``silence_timeout_s``."""
        while not stop.is_set():
            if not self.client.is_connected:
                return
            if self.clock.now_s() - (self._last_notify_s or 0.0) > self.silence_timeout_s:
                await self._safe_disconnect()
                return
            await self.sleep(min(0.5, self.silence_timeout_s / 4))

    def _open_gap(self) -> None:
        if self._gap_open_s is None:
            self._gap_open_s = self._last_sample_s if self._last_sample_s is not None else self.stamp()

    async def _safe_disconnect(self) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            await self.client.disconnect()


class SimulatedPeripheral:
    """A scripted heart-rate sensor behind ``GattClient``: real notification bytes, failures on request.

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
    ):
        self.script = list(script)
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
        return uuid == HEART_RATE_MEASUREMENT or (uuid == BATTERY_LEVEL and self.battery_pct is not None)

    async def read(self, uuid: str) -> bytes:
        if uuid != BATTERY_LEVEL or self.battery_pct is None:
            raise ConnectionError(f"simulated: no readable characteristic {uuid}")
        return bytes([self.battery_pct])

    async def start_notify(self, uuid: str, callback: Callable[[bytes], None]) -> None:
        if uuid != HEART_RATE_MEASUREMENT:
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
