"""BLE sensors through bleak: the standard Heart Rate Service (0x180D), Health Thermometer Service (0x1809)
and Battery Service (0x180F).

Heart Rate Measurement (0x2A37) is parsed per the Bluetooth specification: a flags byte, then the heart rate
(uint8 or uint16), energy expended (uint16, kJ) when flagged, and RR intervals (uint16 each, in 1/1024 s) when
flagged, to the value's end; an odd byte left after the whole intervals (some straps send one) is no interval
and is ignored, as bytes after the heart rate are when no intervals are flagged. Temperature Measurement
(0x2A1C): a flags byte, an IEEE-11073 32-bit FLOAT in Celsius or Fahrenheit, then an optional time stamp and
temperature type. Discovery is by name or address; a vanished sensor is reconnected with back-off and the
silence becomes a gap. ``BleNotifyLink`` does that for any notifying characteristic; a sensor type is a subclass
saying which characteristic, which channels, and how its bytes become samples (``BleHeartRateLink``,
``BleThermometerLink``). The GATT client sits behind a small interface (``GattClient``), so a simulated
peripheral can stand in for a real one in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from firmware_bridge.link import Gap, LinkEvent, Sample, SensorLink, Sink, log
from runtime.arms.physio.recording import HEART_RATE_RANGE_BPM, TEMPERATURE_RANGE_C, plausible_readings
from runtime.clock import SessionClock


def uuid16(short: int) -> str:
    """The full 128-bit UUID of a 16-bit Bluetooth SIG number."""
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


# The characteristics read, looked up by UUID whatever service holds them; the services (0x180D, 0x180F, 0x1809)
# are named in the docstrings only.
HEART_RATE_MEASUREMENT = uuid16(0x2A37)
BATTERY_LEVEL = uuid16(0x2A19)
TEMPERATURE_MEASUREMENT = uuid16(0x2A1C)

# Flags byte of the Heart Rate Measurement characteristic.
FLAG_HR_UINT16 = 0x01
FLAG_CONTACT_DETECTED = 0x02
FLAG_CONTACT_SUPPORTED = 0x04
FLAG_ENERGY_EXPENDED = 0x08
FLAG_RR_INTERVALS = 0x10
RR_UNIT_S = 1.0 / 1024.0
# A strap sends the beats since its last notification about once a second, so its last beat is at most about one
# beat interval old on arrival; a chain of beats further behind than this has lost beats and starts again.
BEAT_CHAIN_MAX_LAG_S = 2.0
DISCONNECT_WAIT_S = 2.0  # within the 5 s a session gives its link threads to end
# A battery level at or below this is said as a warning: a strap's coin cell at 20 % lasts days to weeks, enough to
# finish the session and change it before the next.
BATTERY_LOW_PCT = 20
# What an attempt to reach a sensor says each time: while the link retries, these are not said again (see _say).
RETRY_CYCLE_STATES = ("connecting", "connected", "retrying")
# What a link retries on: bleak's own errors arrive as ConnectionError (BleakGattClient); asyncio.TimeoutError is no
# OSError before Python 3.11.
LINK_ERRORS = (ConnectionError, OSError, asyncio.TimeoutError)
# Flags byte of the Temperature Measurement characteristic.
FLAG_FAHRENHEIT = 0x01
FLAG_TIME_STAMP = 0x02
FLAG_TEMPERATURE_TYPE = 0x04
THERMOMETER_SLOWEST_INTERVAL_S = 60.0  # the least often a thermometer the link reads reports: once a minute
FLOAT_RESERVED_MANTISSAS = {0x7FFFFF, 0x800000, 0x7FFFFE, 0x800002, 0x800001}  # NaN, NRes, +INF, -INF, reserved


class BleFormatError(ValueError):
    """A characteristic value that does not follow the specification."""


@dataclass(frozen=True)
class HeartRateMeasurement:
    heart_rate_bpm: int
    sensor_contact: bool | None  # None: the sensor does not report contact
    energy_expended_kj: int | None
    rr_intervals_s: tuple[float, ...]
    rr_stray_byte: bool = False  # an odd byte after the whole RR intervals, ignored


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
    stray_byte = False
    if flags & FLAG_RR_INTERVALS:
        # A strap's stray trailing byte costs nothing: the heart rate and the whole intervals before it are read.
        rest = data[offset:]
        stray_byte = len(rest) % 2 == 1
        rr = [int.from_bytes(rest[i : i + 2], "little") * RR_UNIT_S for i in range(0, len(rest) - 1, 2)]
    return HeartRateMeasurement(heart_rate, contact, energy, tuple(rr), stray_byte)


def parse_temperature_measurement(data: bytes | bytearray) -> float:
    """Decode one Temperature Measurement (Health Thermometer Service, 0x2A1C) into degrees Celsius.

    The value is an IEEE-11073 32-bit FLOAT: a signed 24-bit mantissa and a signed 8-bit base-10 exponent;
    its reserved mantissas (NaN, not at this resolution, +/-infinity) are no temperature.
    """
    data = bytes(data)
    if len(data) < 5:
        raise BleFormatError(f"temperature measurement of {len(data)} bytes lacks its value")
    flags = data[0]
    needed = 5 + (7 if flags & FLAG_TIME_STAMP else 0) + (1 if flags & FLAG_TEMPERATURE_TYPE else 0)
    if len(data) < needed:
        raise BleFormatError(f"temperature measurement of {len(data)} bytes, its flags need {needed}")
    if int.from_bytes(data[1:4], "little") in FLOAT_RESERVED_MANTISSAS:
        raise BleFormatError(f"temperature measurement holds no value (reserved mantissa {data[1:4][::-1].hex()})")
    mantissa = int.from_bytes(data[1:4], "little", signed=True)
    exponent = int.from_bytes(data[4:5], "little", signed=True)
    value = mantissa * 10.0**exponent
    return (value - 32.0) * 5.0 / 9.0 if flags & FLAG_FAHRENHEIT else value


def battery_low_news(battery_pct: int, warned_pct: int | None) -> bool:
    """Whether a battery level read is a low one not warned of yet: at or below BATTERY_LOW_PCT, and below
    ``warned_pct``, the level last warned of (None: none yet)."""
    return battery_pct <= BATTERY_LOW_PCT and (warned_pct is None or battery_pct < warned_pct)


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
    ) -> None:
        if not (name or address):
            raise ValueError("give a device name or address")
        self.name, self.address, self.scan_timeout_s = name, address, scan_timeout_s
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
            self._client = BleakClient(device)  # a drop is found by the link's watch: is_connected, or silence
            await self._client.connect()

    @contextlib.contextmanager
    def _as_connection_error(self):
        """bleak's own errors (adapter off, BlueZ busy, device gone) and a machine without Bluetooth at all
        (no D-Bus socket: FileNotFoundError) as the ConnectionError the link retries on, naming the device."""
        from bleak.exc import BleakError

        try:
            yield
        except FileNotFoundError as error:
            raise ConnectionError(f"{self.name or self.address}: {not_available(str(error))}") from None
        except BleakError as error:
            raise ConnectionError(f"{self.name or self.address}: {error}") from None

    async def disconnect(self) -> None:
        if self._client is not None:
            with self._as_connection_error():
                await self._client.disconnect()

    @property
    def is_connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    def has_characteristic(self, uuid: str) -> bool:
        # a sensor gone since connecting has no services: bleak says so with a BleakError, a dropped link
        with self._as_connection_error():
            return self._client is not None and self._client.services.get_characteristic(uuid) is not None

    async def read(self, uuid: str) -> bytes:
        with self._as_connection_error():
            return bytes(await self._client.read_gatt_char(uuid))

    async def start_notify(self, uuid: str, callback: Callable[[bytes], None]) -> None:
        with self._as_connection_error():
            await self._client.start_notify(uuid, lambda _char, data: callback(bytes(data)))


BLUETOOTH_CHECK_S = 0.5  # a short scan: enough for the adapter to answer, not to find any sensor


def bluetooth_problem() -> str:
    """Why this machine cannot use Bluetooth at all ("" when it can, or when it cannot tell): no D-Bus socket, D-Bus
    without BlueZ, no adapter, an adapter off, access denied. A sensor out of reach is not such a problem, nor is
    any other failure of this short scan: the link waits and retries for those, as it always has."""
    from bleak import BleakScanner
    from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError

    try:
        asyncio.run(BleakScanner.discover(timeout=BLUETOOTH_CHECK_S))
    except FileNotFoundError as error:  # no D-Bus socket at all
        return not_available(str(error))
    except BleakBluetoothNotAvailableError as error:
        return not_available(str(error.args[0]).rstrip("."))  # its second argument is an enum member
    except BleakDBusError as error:
        if error.dbus_error == "org.freedesktop.DBus.Error.ServiceUnknown":  # D-Bus runs, BlueZ does not
            return not_available(f"no BlueZ service: {error}")
    except Exception:  # noqa: BLE001 -- only a sure "no Bluetooth" stops a session before it starts
        pass
    return ""


def not_available(detail: str) -> str:
    return f"Bluetooth is not available here ({detail})"


def beat_times_s(
    rr_intervals_s: Sequence[float],
    stamp_s: float,
    last_beat_s: float | None = None,
    max_lag_s: float = BEAT_CHAIN_MAX_LAG_S,
    after_s: float | None = None,
) -> list[tuple[float, float]]:
    """(beat time, interval) of each beat of a notification's RR intervals, oldest first.

    The intervals run back to back, so each beat follows the one before it by its interval, continuing from
    ``last_beat_s`` (the previous notification's last beat): the beats keep their spacing across
    notifications, which successive differences (RMSSD) need. That chain may not end after ``stamp_s`` (a beat
    after the notification that carried it): it is moved back to end there. With no chain yet, or one ending more
    than ``max_lag_s`` before the stamp (beats were lost, or a dropout), the beats are laid out backwards from the
    stamp. A beat that would fall at or before ``last_beat_s`` is left out: stamps never go back; so is one at or
    before ``after_s`` (a refused notification's stamp: these beats came after it, and its gap ends there; or the
    last beat before a dropout).
    """
    if not rr_intervals_s:
        return []
    total_s = float(sum(rr_intervals_s))
    end_s = stamp_s
    if last_beat_s is not None and stamp_s - (last_beat_s + total_s) <= max_lag_s:
        end_s = min(last_beat_s + total_s, stamp_s)
    beats, beat_s = [], end_s
    for rr in reversed(rr_intervals_s):
        beats.append((beat_s, rr))
        beat_s -= rr
    floor_s = max((t for t in (last_beat_s, after_s) if t is not None), default=None)
    return [(t, rr) for t, rr in reversed(beats) if floor_s is None or t > floor_s]


class BleNotifyLink(SensorLink):
    """One notifying GATT characteristic of a BLE sensor, on the session clock: a sensor type is a subclass
    naming its ``characteristic``, its ``channels`` and how one notification becomes events (``decode``).

    Each notification is stamped on arrival minus ``latency_s``. When notifications stop for
    ``silence_timeout_s`` or the link drops, the sensor is reconnected with exponential back-off and the
    silence is recorded as a gap on each of its channels. A notification ``decode`` refuses (malformed)
    neither counts as the sensor being there nor passes on a value. A sensor lost is said once, not at every
    attempt: while the link retries, each attempt's looking, connecting and retrying and an error said already
    are not said again, until the sensor sends a reading, which says it is back (``_say``).
    """

    characteristic: str
    channels: tuple[str, ...]
    what: str  # the measurement, in log lines
    default_name: str
    default_silence_timeout_s: float

    def __init__(
        self,
        client: GattClient,
        clock: SessionClock,
        latency_s: float = 0.05,
        backoff_s: Sequence[float] = (0.5, 1.0, 2.0, 4.0, 8.0),
        silence_timeout_s: float | None = None,
        max_attempts: int | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        name: str | None = None,
    ) -> None:
        super().__init__(name or self.default_name, clock, latency_s)
        self.client = client
        self.backoff_s = tuple(backoff_s)
        self.silence_timeout_s = silence_timeout_s if silence_timeout_s is not None else self.default_silence_timeout_s
        self.max_attempts = max_attempts
        self.sleep = sleep
        self.format_errors = 0
        self.notifications = 0  # valid ones: a connection that brings none has failed
        self._format_errors_reported = 0
        self._last_sample_s: float | None = None
        self._gap_open_s: float | None = None
        self._last_notify_s: float | None = None
        self._retrying = False  # retried since the sensor's last reading: its attempts are not said again
        self._said: set[tuple[str, str]] = set()  # (state, detail) said since the link started or was last back
        self._battery_warned_pct: int | None = None  # the low level last warned of: a reconnection says it no more
        self._started_s: float | None = None  # when the link started: a gap before any reading runs from there
        self._readings_stopped_s: float | None = None  # since when the sensor says it has no reading (no contact)

    def decode(self, data: bytes, t_s: float) -> list[LinkEvent]:
        """The samples (or gaps) one notification stamped ``t_s`` carries; BleFormatError when malformed."""
        raise NotImplementedError

    def refused(self, error: BleFormatError, t_s: float) -> list[LinkEvent]:
        """What a notification ``decode`` refused, stamped ``t_s``, leaves behind: nothing, unless a sensor type
        loses more than the one value with it."""
        return []

    def on_notification(self, data: bytes, sink: Sink) -> None:
        t_s = self.stamp()
        try:
            events = self.decode(data, t_s)
        except BleFormatError as error:
            # Not a sign of life: a sensor sending only garbage goes silent and is reconnected.
            self.format_errors += 1
            if self.format_errors == 1:
                self.status(sink, "error", f"malformed {self.what} notification {data.hex()}: {error}")
            for event in self.refused(error, t_s):
                sink(event)
            return
        self.notifications += 1
        self._last_notify_s = self.clock.now_s()
        if self._retrying:
            self._say_back(t_s, sink)
        # A dropout ends where this notification's data starts, on each channel: the beats at the oldest one, not
        # inside the dropout; the heart rate at this reading (at the oldest beat, a strap's lagging beats had ended
        # its gap before the dropout: no gap at all)
        first_s: dict[str, float] = {}
        for event in events:
            if isinstance(event, Sample):
                first_s[event.channel] = min(event.t_s, first_s.get(event.channel, event.t_s))
        if self._gap_open_s is not None:
            self._gap_ends_without_samples([c for c in self.channels if c not in first_s], t_s)
        self._close_gap(t_s, sink, first_s=first_s)
        self._say_readings(events, t_s, sink)
        for event in events:
            sink(event)
        self._last_sample_s = t_s

    def _say_readings(self, events: list[LinkEvent], t_s: float, sink: Sink) -> None:
        """A notification that brings a gap and no reading (a strap without skin contact) is said once, when the
        readings stop, and the next reading says they are back: the link stays connected meanwhile, so nothing
        else would tell that a strap slipped off for the rest of the session."""
        gaps = [event for event in events if isinstance(event, Gap)]
        if gaps and not any(isinstance(event, Sample) for event in events):
            if self._readings_stopped_s is None:
                self._readings_stopped_s = t_s
                self.status(sink, "error", f"{gaps[0].reason}: no {self.what} reading until it comes back")
        elif self._readings_stopped_s is not None:
            self.status(sink, "connected", f"{self.what} readings back after {t_s - self._readings_stopped_s:.0f} s")
            self._readings_stopped_s = None

    def _say(self, sink: Sink, state: str, detail: str) -> None:
        """A status of reaching the sensor, unless it says nothing new: while the link retries, each attempt's
        connecting and retrying, and an error or a loss said already since the sensor's last reading, go to the
        debug log only. Said at every attempt, a strap gone for good was three lines every 18 s of the session."""
        if self._retrying and (state in RETRY_CYCLE_STATES or (state, detail) in self._said):
            log.debug("%s: %s (%s), said already", self.name, state, detail)
            return
        self._said.add((state, detail))
        self.status(sink, state, detail)

    def _say_back(self, t_s: float, sink: Sink) -> None:
        """The reading that ends the retrying says the sensor is back (its connection was not said): once."""
        self._retrying = False
        self._said.clear()
        since = "" if self._last_sample_s is None else f"back after {t_s - self._last_sample_s:.0f} s; "
        self.status(sink, "connected", f"{since}{self._notifications_on()}")

    def _notifications_on(self) -> str:
        """The detail of a connection's status line: the battery level with it, where the sensor gave one."""
        battery = "" if self.battery_pct is None else f"; battery {self.battery_pct} %"
        return f"{self.what} notifications on{battery}"

    def _gap_ends_without_samples(self, channels: list[str], t_s: float) -> None:
        """The open gap on ``channels`` ends at ``t_s``, a notification without samples of theirs: a sensor type
        whose later samples could be placed before it (beats laid back from a later stamp) keeps them after it."""

    def _close_gap(self, end_s: float, sink: Sink, reason: str = "BLE sensor out of reach",
                   first_s: dict[str, float] | None = None) -> None:
        """The open dropout's gap on each channel, to ``end_s`` or, where given, to the channel's first sample
        after it (``first_s``)."""
        if self._gap_open_s is not None:
            for channel in self.channels:
                channel_end_s = (first_s or {}).get(channel, end_s)
                sink(Gap(channel, self._gap_open_s, max(channel_end_s, self._gap_open_s), reason, self.name))
            self._gap_open_s = None

    def _report_format_errors(self, sink: Sink) -> None:
        if self.format_errors > max(1, self._format_errors_reported):
            self.status(sink, "error", f"{self.format_errors} malformed {self.what} notifications so far", count=True)
        self._format_errors_reported = self.format_errors

    async def run(self, sink: Sink, stop: asyncio.Event) -> None:
        """Connect, stream, reconnect with back-off until ``stop``. Neither the back-off nor a scan holds up a stop.
        A link that ends on its own (``max_attempts`` connections in a row that brought no valid notification, a
        device that never offered this link's characteristic, a failure of the link itself) says why and waits for
        the stop: its silence since the last reading is a gap to the stop, whichever way it ended."""
        self._started_s = max(self.stamp(), 0.0)
        try:
            ended = await self._stream_until_stopped(sink, stop)
        except Exception as error:  # a defect, not the sensor: said once
            self.failed(sink, error)
            ended = f"BLE link failed ({type(error).__name__})"
        finally:
            await self._safe_disconnect()
        if ended:
            self._open_gap()
            await stop.wait()
        self._close_gap(self.stamp(), sink, f"{ended or 'BLE sensor out of reach'} until the session stopped")
        if not ended:
            self.status(sink, "stopped", "stopped by request")

    async def _stream_until_stopped(self, sink: Sink, stop: asyncio.Event) -> str:
        """Connect, stream and reconnect with back-off until ``stop`` (""), or until the link ends on its own, said:
        then what its gap to the stop is."""
        failures = 0
        while not stop.is_set():
            heard_before = self.notifications
            connected = await self._connect_and_stream(sink, stop)
            if connected is None:  # not the kind of sensor this link reads: said, and not retried
                return f"BLE sensor offers no {self.what} measurement"
            # The back-off starts again only once the sensor has sent a reading, not on every connection:
            # a strap taken off still connects, and would otherwise be retried every few seconds for good.
            failures = 0 if self.notifications > heard_before else failures + 1
            self._report_format_errors(sink)
            if stop.is_set():
                break
            self._open_gap()
            if connected:
                await self._safe_disconnect()  # a half-open connection would block the next one
                self._say(sink, "disconnected", "sensor vanished; reconnecting")
            if self.max_attempts is not None and failures >= self.max_attempts:
                self.status(sink, "stopped", f"gave up after {failures} failed attempts")
                return "BLE sensor out of reach (the link gave up)"
            delay_s = self.backoff_s[min(max(failures - 1, 0), len(self.backoff_s) - 1)]
            self._say(sink, "retrying", f"in {delay_s:g} s, and on, at most {max(self.backoff_s):g} s apart, "
                      "until the sensor is back (said then)")
            self._retrying = True
            await self._unless_stopped(self.sleep(delay_s), stop)
        return ""

    def run_until_stopped(self, sink: Sink, stop: threading.Event) -> None:
        """``run`` in an event loop of this thread's own (bleak needs one), until ``stop``."""

        async def session() -> None:
            stopped = asyncio.Event()

            async def watch() -> None:
                while not stop.is_set():
                    await asyncio.sleep(0.1)
                stopped.set()

            watcher = asyncio.create_task(watch())
            try:
                await self.run(sink, stopped)
            finally:
                watcher.cancel()

        try:
            asyncio.run(session())
        except (Exception, asyncio.CancelledError) as error:  # a link's failure is its status, never the session's end
            self.failed(sink, error)

    def close(self) -> None:
        """Nothing to let go of: ``run`` disconnects from the sensor when it ends, and before it no connection is
        open."""

    async def _connect_and_stream(self, sink: Sink, stop: asyncio.Event) -> bool | None:
        """One connection: until the sensor drops or goes silent, or ``stop``. Whether it connected and kept the
        connection to stream; None for a device that has never offered this link's characteristic."""
        self._say(sink, "connecting", "looking for the sensor")
        connected = False
        try:
            if not await self._unless_stopped(self.client.connect(), stop):
                return False
            connected = True
            if not self.client.has_characteristic(self.characteristic):
                if not self.notifications:
                    self.status(sink, "stopped", f"the device offers no {self.what} measurement "
                                f"({self.characteristic}); is it the right sensor?")
                    return None
                # The sensor that delivered is the right one: a stack can list its services incompletely after a
                # reconnection (BlueZ's cache), so this is a failed attempt, retried with the back-off.
                self._say(sink, "error", f"the sensor came back without its {self.what} measurement "
                          f"({self.characteristic}); reconnecting")
                await self._safe_disconnect()
                return False
            battery_pct = await self._read_battery(sink)
            self._say(sink, "connected", self._notifications_on())
            self._warn_if_battery_low(battery_pct)
            self._last_notify_s = self.clock.now_s()
            await self.client.start_notify(self.characteristic, lambda d: self.on_notification(d, sink))
            await self._watch(stop)
        except LINK_ERRORS as error:
            self._say(sink, "error", f"{type(error).__name__}: {error}")
        except asyncio.CancelledError:
            _raise_if_own_cancellation()
            self._say(sink, "error", "the BLE stack cancelled a call")  # the connection is lost, not the link
        return connected

    @staticmethod
    async def _unless_stopped(step: Awaitable[None], stop: asyncio.Event) -> bool:
        """Await ``step`` unless the session stops first, which cancels it: False when it stopped."""
        task = asyncio.ensure_future(step)
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if task.done():
            if task.cancelled():  # by the BLE stack, not by a stop (bleak's BlueZ backend can leak one from connect)
                raise ConnectionError("the BLE stack cancelled the attempt")
            task.result()  # its error, if any, is the caller's
            return True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False

    async def _read_battery(self, sink: Sink) -> int | None:
        """The battery level where the sensor offers it (``battery_pct``, for the connection's status line), None
        where it does not or the read failed. No sample: read once a connection, it is no signal (a channel of it
        had no rate, or a bogus one after a few reconnections). A failed read costs the level, not the heart rate."""
        self.battery_pct = None  # a level from an earlier connection is no level of this one
        if not self.client.has_characteristic(BATTERY_LEVEL):
            return None
        try:
            self.battery_pct = parse_battery_level(await self.client.read(BATTERY_LEVEL))
        except Exception as error:  # whatever the stack raises for an optional value, the measurement goes on
            self._say(sink, "error", f"battery level unreadable ({type(error).__name__}: {error}); "
                      f"the {self.what} goes on")
            return None
        return self.battery_pct

    def _warn_if_battery_low(self, battery_pct: int | None) -> None:
        """A warning, not the link's state (it stays connected), where the level read first reaches
        BATTERY_LOW_PCT or falls below the level last warned of: a strap that reconnects says it once a level."""
        if battery_pct is None or not battery_low_news(battery_pct, self._battery_warned_pct):
            return
        self._battery_warned_pct = battery_pct
        log.warning("%s: battery low (%d %%): change or charge it after the session", self.name, battery_pct)

    async def _watch(self, stop: asyncio.Event) -> None:
        """Return when the link drops or goes silent for ``silence_timeout_s``."""
        while not stop.is_set():
            if not self.client.is_connected:
                return
            if self.clock.now_s() - (self._last_notify_s or 0.0) > self.silence_timeout_s:
                await self._safe_disconnect()
                return
            await self.sleep(min(0.5, self.silence_timeout_s / 4))

    def dropout_under_way(self) -> list[Gap]:
        start_s = self._gap_open_s  # read once: the link's thread may close it meanwhile
        if start_s is None:
            return []
        end_s = max(self.stamp(), start_s)
        return [Gap(channel, start_s, end_s, "BLE sensor out of reach so far", self.name) for channel in self.channels]

    def _open_gap(self) -> None:
        if self._gap_open_s is None:
            # before any reading, from the link's start (its first scan failed), not from before the session's
            self._gap_open_s = self._last_sample_s if self._last_sample_s is not None else (
                self._started_s if self._started_s is not None else max(self.stamp(), 0.0))
        self.link_lost()

    def link_lost(self) -> None:
        """The connection dropped or went silent (a reconnect or the session's stop follows): nothing to forget,
        unless a sensor type carries something from one notification to the next."""

    async def _safe_disconnect(self) -> None:
        """Let go of the sensor, whatever the stack makes of it: a disconnect that fails, or that the stack
        cancels, leaves nothing to undo. bleak may wait 10 s for one; a stopping session waits DISCONNECT_WAIT_S."""
        try:
            await asyncio.wait_for(self.client.disconnect(), DISCONNECT_WAIT_S)
        except Exception:  # noqa: BLE001 -- cleaning up: the link's own state and gaps go on
            pass
        except asyncio.CancelledError:
            _raise_if_own_cancellation()


def _raise_if_own_cancellation() -> None:
    """Inside ``except asyncio.CancelledError``: re-raise when this task itself is being cancelled (a caller
    cancelling ``run``); otherwise the BLE stack leaked the cancellation from a call (bleak's BlueZ backend does),
    which costs that call, not the link.

    Python 3.10 (JetPack 6) cannot tell the two apart (``Task.cancelling`` came in 3.11): there every
    cancellation is taken for the stack's, since the link's own code never cancels its task (a session ends it
    through its stop event; a caller of ``run`` on 3.10 should do the same).
    """
    cancelling = getattr(asyncio.current_task(), "cancelling", None)
    if cancelling is not None and cancelling():
        raise  # the CancelledError being handled


class BleHeartRateLink(BleNotifyLink):
    """Heart rate and RR intervals from any standard BLE heart-rate sensor (Heart Rate Service, 0x180D).

    A notification's RR intervals follow the beats before them, back to back, and end by its stamp
    (``beat_times_s``). No skin contact and 0 bpm are gaps on both channels since the notification before:
    neither the value nor the beats are a heart's. A heart rate outside ``HEART_RATE_RANGE_BPM`` is malformed, and a
    malformed notification is such a gap too (its beats are lost with it). After any of these, and after a dropout
    however short, the beats start again from the next notification's stamp, none at or before the refused one's
    (or the last beat before the dropout): beats are missing from the chain, which would otherwise run on as if
    they were not and place every later beat early.
    """

    characteristic = HEART_RATE_MEASUREMENT
    channels = ("hr", "ibi")
    what = "heart rate"
    default_name = "ble-hr"
    default_silence_timeout_s = 5.0  # a strap notifies about once a second
    _last_beat_s: float | None = None  # the last beat delivered: the next notification's beats follow it
    # No later beat is placed at or before this: a refused notification's stamp, or the last beat before a dropout
    _beats_after_s: float | None = None
    _stray_byte_said = False  # a strap that sends one does so in every notification: said once a link

    def decode(self, data: bytes, t_s: float) -> list[LinkEvent]:
        measurement = parse_heart_rate_measurement(data)
        if measurement.rr_stray_byte:
            self._say_stray_byte(data)
        if measurement.sensor_contact is False or measurement.heart_rate_bpm == 0:
            reason = "no skin contact" if measurement.sensor_contact is False else "sensor reports 0 bpm"
            return self._beats_lost(t_s, reason)
        if not plausible_readings("hr", np.array([measurement.heart_rate_bpm]))[0]:
            raise BleFormatError(f"heart rate {measurement.heart_rate_bpm} bpm is outside "
                                 f"{HEART_RATE_RANGE_BPM[0]:g}..{HEART_RATE_RANGE_BPM[1]:g} bpm")
        intervals_s = [rr for rr in measurement.rr_intervals_s if rr > 0]  # an interval of 0 is no beat
        beats = beat_times_s(intervals_s, t_s, self._last_beat_s, after_s=self._beats_after_s)
        if beats:
            self._last_beat_s = beats[-1][0]
        # Every interval places the beats (they run back to back); one no heart beats at is not delivered.
        plausible = plausible_readings("ibi", np.array([rr for _, rr in beats]))
        return [Sample("hr", t_s, float(measurement.heart_rate_bpm), self.name)] + [
            Sample("ibi", beat_s, rr, self.name) for (beat_s, rr), keep in zip(beats, plausible, strict=True) if keep
        ]

    def _say_stray_byte(self, data: bytes) -> None:
        """One log line, the first time a notification ends in an odd byte after its RR intervals."""
        if self._stray_byte_said:
            return
        self._stray_byte_said = True
        log.warning("%s: heart rate notifications end in an odd byte after their RR intervals (e.g. %s); it is "
                    "ignored, the heart rate and the whole intervals are read", self.name, data.hex())

    def refused(self, error: BleFormatError, t_s: float) -> list[LinkEvent]:
        return self._beats_lost(t_s, f"heart rate notification refused ({error})")

    def link_lost(self) -> None:
        """The beats sent while the link was down are lost, however short the dropout: the chain starts again from
        the next notification's stamp, as after a refused one, none at or before the last beat delivered. Chained
        across a dropout under BEAT_CHAIN_MAX_LAG_S, every later beat was placed early by the beats lost, for good,
        and the dropout's gap ended at the first of them, inside the dropout."""
        if self._last_beat_s is not None:
            self._beats_after_s = max(self._last_beat_s, self._beats_after_s or self._last_beat_s)
        self._last_beat_s = None

    def _gap_ends_without_samples(self, channels: list[str], t_s: float) -> None:
        # a reading back without RR intervals ends the beats' gap too: beats laid back from a later stamp would
        # otherwise fall inside it
        if "ibi" in channels:
            self._beats_after_s = max(t_s, self._beats_after_s if self._beats_after_s is not None else t_s)

    def _beats_lost(self, t_s: float, reason: str) -> list[LinkEvent]:
        """A notification whose beats are no heart's, or unreadable: a gap on both channels since the reading
        before, and the chain of beats starts again after it. Its RR intervals are not trusted to carry the chain
        across (no contact, a rate no heart beats at, or none read at all): starting again places the next beats
        late at worst, which the chain's pull back to each stamp corrects; running on places them early for good."""
        self._last_beat_s, self._beats_after_s = None, t_s
        since_s = t_s - 1.0  # the gap runs back to the last reading, within the silence that counts as gone
        if self._last_sample_s is not None:
            since_s = max(self._last_sample_s, t_s - self.silence_timeout_s)
        return [Gap(channel, since_s, t_s, reason, self.name) for channel in self.channels]


class BleThermometerLink(BleNotifyLink):
    """Skin or body temperature in °C from any standard BLE thermometer (Health Thermometer Service, 0x1809).

    The measurement's own time stamp, when present, is not used: the session clock stamps the arrival, as for
    every other sensor, because a thermometer's calendar clock is not synchronised with the session.
    """

    characteristic = TEMPERATURE_MEASUREMENT
    channels = ("temp",)
    what = "temperature"
    default_name = "ble-temp"
    # Thermometers report every few seconds to once a minute. Silent for the slowest interval itself is no sign
    # of going: a reading by a clock a little slow, or after a radio retry, comes just after it. Half an interval
    # more keeps such a reading, and still finds a sensor gone 30 s after a reading that did not come.
    default_silence_timeout_s = 1.5 * THERMOMETER_SLOWEST_INTERVAL_S

    def decode(self, data: bytes, t_s: float) -> list[LinkEvent]:
        celsius = parse_temperature_measurement(data)
        if not plausible_readings("temp", np.array([celsius]))[0]:
            low_c, high_c = TEMPERATURE_RANGE_C
            raise BleFormatError(f"temperature {celsius:.4g} °C is outside {low_c:g}..{high_c:g} °C")
        return [Sample("temp", t_s, celsius, self.name)]
