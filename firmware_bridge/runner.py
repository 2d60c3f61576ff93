"""Links in background threads for a live session: each delivers into one sink until the session stops.

A serial board is polled in a loop; a BLE link runs its own asyncio loop (bleak needs one) with reconnection
and back-off inside ``BleNotifyLink.run``. Stopping is a ``threading.Event`` set by the session; a link that
fails says so with a ``Status`` event and waits for the stop without taking the session down, its silence
until then recorded as a gap.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from firmware_bridge.ble import BleNotifyLink
from firmware_bridge.link import SensorLink, Sink
from firmware_bridge.serial_link import SerialBoardLink
from runtime.errors import InputError

log = logging.getLogger("emotrace.firmware_bridge")


def poll_serial(link: SerialBoardLink, sink: Sink, stop: threading.Event) -> None:
    """Read frames until ``stop``. A port that disappears (the link has said so) is gone for the rest of the
    session: its silence up to the stop is a gap."""
    link.status(sink, "connecting", f"{link.port_name} open; waiting for the board's frames")
    try:
        while not stop.is_set():
            link.poll(sink)  # the port's read timeout (serial_link.READ_TIMEOUT_S) paces the loop
        link.silence_to_the_stop(sink)
    except InputError:
        stop.wait()
        link.end_of_session_gap(sink, "serial port gone until the session stopped")
    except Exception as error:  # a defect, not the port: said, its silence a gap, the session goes on
        link.status(sink, "stopped", f"link failed: {type(error).__name__}: {error}")
        stop.wait()
        link.end_of_session_gap(sink, "link failed until the session stopped")
    finally:
        link.close()


def run_ble(link: BleNotifyLink, sink: Sink, stop: threading.Event) -> None:
    """The link's connect-stream-reconnect loop in an event loop of this thread's own, until ``stop``."""

    async def session() -> None:
        stopped = asyncio.Event()

        async def watch() -> None:
            while not stop.is_set():
                await asyncio.sleep(0.1)
            stopped.set()

        watcher = asyncio.create_task(watch())
        try:
            await link.run(sink, stopped)
        finally:
            watcher.cancel()

    try:
        asyncio.run(session())
    except (Exception, asyncio.CancelledError) as error:  # a link's failure is its status, never the session's end
        link.status(sink, "stopped", f"link failed: {type(error).__name__}: {error}")


LOOPS: dict[type, Callable[[SensorLink, Sink, threading.Event], None]] = {
    SerialBoardLink: poll_serial,
    BleNotifyLink: run_ble,
}


class LinkThreads:
    """Every link in a thread of its own, all delivering into ``sink``."""

    def __init__(self, links: list[SensorLink], sink: Sink) -> None:
        self.links = links
        self.stop_event = threading.Event()
        self.threads = [threading.Thread(target=self._loop_for(link), args=(link, sink, self.stop_event),
                                         name=f"link-{link.name}", daemon=True) for link in links]

    @staticmethod
    def _loop_for(link: SensorLink) -> Callable[[SensorLink, Sink, threading.Event], None]:
        for kind, loop in LOOPS.items():
            if isinstance(link, kind):
                return loop
        raise TypeError(f"no thread loop for a {type(link).__name__}")

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Ask every link to stop and wait for it; one still running after ``timeout_s`` (a driver call that does
        not return) is said, and left behind as a daemon: the session is written without waiting for it."""
        self.stop_event.set()
        for link, thread in zip(self.links, self.threads, strict=True):
            thread.join(timeout=timeout_s)
            if thread.is_alive():
                log.warning("%s: the link did not stop within %g s; the session ends without it", link.name,
                            timeout_s)
