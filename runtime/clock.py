"""The session clock: the one time base. Seconds from session start, float64, monotonic."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import ROUND_FLOOR, Decimal


class SessionClock:
    """Monotonic seconds since the session started, plus the wall-clock instant of that start.

    Every sample and frame is stamped on this clock. Links with latency subtract it from ``now_s()``
    when they stamp what they receive.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._monotonic = monotonic
        self._sleep = sleep
        self._start = monotonic()
        self.started_at_utc = datetime.now(timezone.utc)

    def now_s(self) -> float:
        return self._monotonic() - self._start

    def wait_until(self, t_s: float) -> None:
        """Sleep until the clock reads ``t_s`` (used to replay a recording at real-time pace)."""
        remaining = t_s - self.now_s()
        if remaining > 0:
            self._sleep(remaining)


def seconds_below(t_s: float) -> str:
    """``t_s`` to one decimal, cut rather than rounded (from the number as Python writes it, so 2.3 stays 2.3): a
    duration just short of a limit never reads as the limit (299.96 s is '299.9', not '300.0')."""
    return str(Decimal(repr(float(t_s))).quantize(Decimal("0.1"), rounding=ROUND_FLOOR))  # numpy floats too
