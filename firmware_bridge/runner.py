"""Links in background threads for a live session: each delivers into one sink until the session stops.

Each link's own loop (``SensorLink.run_until_stopped``) runs in a thread of its own: a serial board is polled, a BLE
link runs an asyncio loop (bleak needs one) with reconnection and back-off. Stopping is a ``threading.Event`` set by
the session; a sensor lost is said with a ``Status`` event and its silence until the stop recorded as a gap, by
the link's own loop, without taking the session down. A loop that raises nonetheless (a link kind that does not
catch its own defects) ends its link with a status line, not a traceback. The link is closed when its loop ends;
a close that fails (a port already gone) is one warning line, not a thread's traceback.
"""

from __future__ import annotations

import logging
import threading

from firmware_bridge.link import SensorLink, Sink

log = logging.getLogger("emotrace.firmware_bridge")


def run_link(link: SensorLink, sink: Sink, stop: threading.Event) -> None:
    """A link's thread: its loop until ``stop``, then ``close``. A loop that raises nonetheless (a link kind that
    does not catch its own defects) is said in a status line, not a traceback, and ends only its link; a close
    that raises is said in one warning line naming the link."""
    try:
        link.run_until_stopped(sink, stop)
    except Exception as error:
        link.failed(sink, error)
    finally:
        close_link(link)


def close_link(link: SensorLink) -> None:
    """``link.close()``; one that raises (a port already gone) is said in one warning line naming the link: what
    it delivered is the session's already, and a refusal being raised meanwhile is not hidden by it."""
    try:
        link.close()
    except Exception as error:
        log.warning("%s: the link could not be closed (%s: %s)", link.name, type(error).__name__, error)


class LinkThreads:
    """Every link in a thread of its own, all delivering into ``sink``."""

    def __init__(self, links: list[SensorLink], sink: Sink) -> None:
        self.links = links
        self.stop_event = threading.Event()
        self.threads = [threading.Thread(target=run_link, args=(link, sink, self.stop_event),
                                         name=f"link-{link.name}", daemon=True) for link in links]

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
