"""The one interface every sensor link shares: it delivers samples, gaps and status on the session clock.

A link (a BLE sensor, a serial board) hands what it receives to a ``sink`` - any callable taking a
``LinkEvent`` - from its ``run_until_stopped``, in a thread of its own (``firmware_bridge.runner``), and lets go of
its device in ``close``: a new kind of link is one subclass of ``SensorLink``. Every sample is on
``runtime.clock.SessionClock``, each link stamping it as its sensor allows: a BLE notification's value at its arrival
less the link's latency (``stamp``), its RR beats back to back on a chain of beats that ends by that stamp
(``ble.beat_times_s``); a serial board's frame at its own board time plus an offset learnt from the least-delayed
arrivals (``serial_link``). A dropout becomes a ``Gap`` with a reason, never a run of invented samples.
``Recorder`` is the sink that keeps everything and turns it into a
``Recording`` the physiological arm reads.
"""

from __future__ import annotations

import abc
import functools
import logging
import threading
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from runtime.arms.physio.recording import ACC_AXES, Channel, Recording, sample_rate_hz
from runtime.clock import SessionClock

log = logging.getLogger("emotrace.firmware_bridge")


@dataclass(frozen=True)
class Sample:
    channel: str  # "hr", "ibi", "eda", "bvp", "temp", "acc_x", ...
    t_s: float  # session clock, latency corrected
    value: float
    link: str = ""


@dataclass(frozen=True)
class Gap:
    channel: str  # a channel name, or "*" for every channel of the link
    start_s: float
    end_s: float
    reason: str
    link: str = ""


@dataclass(frozen=True)
class Status:
    state: str  # "connecting", "connected", "disconnected", "retrying", "error", "stopped"
    detail: str
    t_s: float
    link: str = ""
    count: bool = False  # a running count of what was dropped: said, but no change of the link's state


def link_states(statuses: Iterable[Status]) -> dict[str, str]:
    """Each link's state as its last status says it, ``state (detail)``, with its last count of what was dropped
    after it: a count said after a port went, or amid good frames, does not hide that the port went or came back."""
    states: dict[str, str] = {}
    counts: dict[str, str] = {}
    for status in statuses:
        if status.count:
            counts[status.link] = status.detail
        else:
            states[status.link] = f"{status.state} ({status.detail})"
    return {link: "; ".join(filter(None, (states.get(link), counts.get(link)))) for link in {**states, **counts}}


LinkEvent = Sample | Gap | Status
Sink = Callable[[LinkEvent], None]


class SensorLink(abc.ABC):
    """Base of every link: a name, a clock and a known one-way latency (seconds) to take off each stamp; its loop
    (``run_until_stopped``) and what it holds open (``close``)."""

    battery_pct: int | None = None  # the sensor's battery level last read, where it reports one: a status, no sample

    def __init__(self, name: str, clock: SessionClock, latency_s: float = 0.0) -> None:
        if latency_s < 0:
            raise ValueError("latency_s must be >= 0")
        self.name = name
        self.clock = clock
        self.latency_s = latency_s

    def stamp(self, received_s: float | None = None) -> float:
        """Session-clock time at which what was just received was measured."""
        received_s = self.clock.now_s() if received_s is None else received_s
        return received_s - self.latency_s

    def status(self, sink: Sink, state: str, detail: str, count: bool = False) -> None:
        # The sink reports it (a live session prints it, the track keeps it); the log line is for a verbose run.
        log.info("%s: %s (%s)", self.name, state, detail)
        sink(Status(state, detail, self.clock.now_s(), self.name, count))

    def failed(self, sink: Sink, error: BaseException) -> None:
        """Say that the link itself failed (a defect, not the sensor): it delivers nothing more."""
        self.status(sink, "stopped", f"link failed: {type(error).__name__}: {error}")

    def dropout_under_way(self) -> list[Gap]:
        """The gaps a dropout under way would leave if it ended now, for a checkpoint's view of the session so far:
        its gaps are recorded only when it ends, or at the stop. None by default."""
        return []

    @abc.abstractmethod
    def run_until_stopped(self, sink: Sink, stop: threading.Event) -> None:
        """Deliver into ``sink``, in the calling thread, until ``stop`` is set. A sensor lost or a link that fails
        is said in a ``Status`` and its silence to the stop is a ``Gap``: the loop returns at the stop, it does
        not raise. ``close`` is called after it."""

    @abc.abstractmethod
    def close(self) -> None:
        """Let go of what the link holds open (a port); called once its loop ended, or for a session that never
        started."""


class _Series:
    """One channel's samples in the order received, every link's interleaved: 18 bytes a sample where a
    ``Sample`` object took about 140 (a board's 324 samples a second held 0.5 GB after three hours)."""

    __slots__ = ("links", "times_s", "values")

    def __init__(self) -> None:
        self.times_s = array("d")
        self.values = array("d")
        self.links = array("H")  # the delivering link's index in Recorder._link_names


@dataclass
class Recorder:
    """A sink that keeps every event; ``to_recording`` gives the physiological arm what it reads.

    Samples are kept per channel in typed arrays, not as the ``Sample`` objects delivered: a session of hours
    receives millions. ``series`` gives them back.
    """

    gaps: list[Gap] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    _series: dict[str, _Series] = field(default_factory=dict, init=False, repr=False)  # in order of first arrival
    _link_names: list[str] = field(default_factory=list, init=False, repr=False)
    _link_codes: dict[str, int] = field(default_factory=dict, init=False, repr=False)
    # (link, channel) -> readings delivered (NaN, a missing one, not counted), in the order each pair first delivered
    _delivered: dict[tuple[str, str], int] = field(default_factory=dict, init=False, repr=False)
    # Links deliver from threads of their own: a sample's three appends must not interleave with another's.
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def __call__(self, event: LinkEvent) -> None:
        if isinstance(event, Sample):
            t_s, value = float(event.t_s), float(event.value)  # before any append: all three or none
            with self._lock:
                series = self._series.get(event.channel)
                if series is None:
                    series = self._series[event.channel] = _Series()
                code = self._link_codes.get(event.link)
                if code is None:
                    code = self._link_codes[event.link] = len(self._link_names)
                    self._link_names.append(event.link)
                pair = (event.link, event.channel)
                self._delivered[pair] = self._delivered.get(pair, 0) + (value == value)  # NaN != NaN
                series.times_s.append(t_s)
                series.values.append(value)
                series.links.append(code)
        elif isinstance(event, Gap):
            self.gaps.append(event)
        else:
            self.statuses.append(event)

    @property
    def sample_count(self) -> int:
        """How many samples were received, every channel and link together."""
        with self._lock:
            return sum(len(series.times_s) for series in self._series.values())

    def series(self, channel: str, link: str | None = None,
               since_s: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Times and values of ``channel`` (from ``link`` only, when given; stamped at ``since_s`` or later,
        when given), in the order received."""
        with self._lock:
            series = self._series.get(channel)
            if series is None or (link is not None and link not in self._link_codes):
                return np.array([]), np.array([])
            times_s, values, links = np.array(series.times_s), np.array(series.values), np.array(series.links)
        picked = np.ones(times_s.size, dtype=bool) if since_s is None else times_s >= since_s
        if link is not None:
            picked &= links == self._link_codes[link]
        return times_s[picked], values[picked]

    def to_recording(self, source: str = "live", start_unix_s: float | None = None,
                     since_s: float | None = None, gaps_under_way: Sequence[Gap] = ()) -> Recording:
        """The received samples as a ``Recording`` (session clock; gaps kept as gaps); ``since_s``: only those
        stamped then or later (a live window's stretch; finding it still reads each channel's every stamp);
        ``gaps_under_way``: the links' dropouts not recorded yet (``SensorLink.dropout_under_way``), as gaps.

        A gap on "*" covers the channels of the link that reported it, not those of other links. A sampled
        channel needs at least two distinct sample intervals to have a rate; one with fewer is left out with
        a log line (its samples stay in the recorder). The three accelerometer axes a board sends
        (``acc_x/y/z``) become one ``acc`` channel, as an E4 export's ACC file does, on the instants all three have.
        A channel two links deliver (a board's and a BLE thermometer's skin temperature) is read from one of them
        (``link_for``), with a log line: two sensors' samples interleaved are no one signal.
        """
        channels = {}
        for name in self._channel_names():
            sent_as = ACC_AXES if name == "acc" else (name,)
            link = self._reading_link(sent_as, source)
            times, values = self._acc_series(link, since_s) if name == "acc" else self.series(name, link, since_s)
            order = np.argsort(times, kind="stable")
            times, values = times[order], values[order]
            rate_hz = None
            if name != "ibi":
                steps_s = np.diff(times)
                steps_s = steps_s[steps_s > 0]  # repeated stamps (a stuck board clock) say nothing of the rate
                if steps_s.size < 2:
                    log.warning("%s: channel %s left out: %d sample(s) at %d distinct time(s), too few for a "
                                "sampling rate", source, name, times.size, steps_s.size + 1)
                    continue
                rate_hz = sample_rate_hz(steps_s)
            gaps = [(g.start_s, g.end_s) for g in (*self.gaps, *gaps_under_way)
                    if g.link == link and (g.channel in sent_as or g.channel == "*")
                    and (since_s is None or g.end_s > since_s)]
            channels[name] = Channel(name, "", times, values, rate_hz=rate_hz, gaps=gaps)
        return Recording(source, channels, start_unix_s=start_unix_s)

    def _channel_names(self) -> list[str]:
        with self._lock:  # a link thread still running may add a channel
            names = list(self._series)
        if all(axis in names for axis in ACC_AXES):
            names = [n for n in names if n not in ACC_AXES] + ["acc"]
        return names

    def link_for(self, channel_names: tuple[str, ...]) -> str | None:
        """The link a channel is read from: the one that delivered most readings of it so far (``channel_names``:
        the names it is sent as; missing ones not counted), the first to deliver it on a tie; None before any. Not
        simply the first to deliver: a thermometer's one reading before it went out of reach would hide a board's
        whole signal."""
        counts = self._delivered_counts(channel_names)
        return max(counts, key=counts.__getitem__) if counts else None

    def _delivered_counts(self, channel_names: tuple[str, ...]) -> dict[str, int]:
        """Link -> readings of the channel it delivered, links in the order they first delivered it."""
        counts: dict[str, int] = {}
        with self._lock:
            for (link, channel), count in self._delivered.items():
                if channel in channel_names:
                    counts[link] = counts.get(link, 0) + count
        return counts

    def _reading_link(self, channel_names: tuple[str, ...], source: str) -> str:
        counts = self._delivered_counts(channel_names)
        link = max(counts, key=counts.__getitem__)
        if len(counts) > 1:
            log.warning("%s: %s comes from %s; read from %s only, which delivered most of it", source,
                        channel_names[0].removesuffix("_x"), " and ".join(counts), link)
        return link

    def _acc_series(self, link: str, since_s: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(times, (n, 3) values) at the instants every axis from ``link`` has a sample (at a stamp an axis repeats,
        its last value)."""
        axes = []
        for axis in ACC_AXES:
            times, values = self.series(axis, link, since_s)
            stamped = ~np.isnan(times)  # a NaN stamp is no instant another axis can share
            times, values = times[stamped][::-1], values[stamped][::-1]
            times, last = np.unique(times, return_index=True)  # the first of the reversed: the last received
            axes.append((times, values[last]))
        times = functools.reduce(np.intersect1d, [t for t, _ in axes])
        values = np.stack([v[np.searchsorted(t, times)] for t, v in axes], axis=1)
        return times, values.reshape(times.size, 3)
