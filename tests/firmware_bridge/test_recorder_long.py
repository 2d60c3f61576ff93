"""The recorder over a long session: samples held compactly, read back exactly as the list of events gave them."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_bridge.link import ACC_AXES, Gap, Recorder, Sample, Status, log
from tests.memory import peak_traced_bytes


class ListRecorder(Recorder):
    """The recorder as it was before its samples were stored compactly (every ``Sample`` in one list, each
    channel found by a scan of it): what the compact one must give back exactly, with its own count of which
    link delivered most readings of a channel (missing ones not counted; the first to deliver it on a tie)."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: list[Sample] = []

    def __call__(self, event) -> None:
        if isinstance(event, Sample):
            self.kept.append(event)
        else:
            super().__call__(event)

    def series(self, channel: str, link: str | None = None,
               since_s: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        picked = [s for s in self.kept if s.channel == channel and link in (None, s.link)
                  and (since_s is None or s.t_s >= since_s)]
        return np.array([s.t_s for s in picked]), np.array([s.value for s in picked])

    def _channel_names(self) -> list[str]:
        names = list(dict.fromkeys(s.channel for s in self.kept))
        if all(axis in names for axis in ACC_AXES):
            names = [n for n in names if n not in ACC_AXES] + ["acc"]
        return names

    def _reading_link(self, channel_names: tuple[str, ...], source: str) -> str:
        counts: dict[str, int] = {}
        for sample in self.kept:
            if sample.channel in channel_names:
                counts[sample.link] = counts.get(sample.link, 0) + (not np.isnan(sample.value))
        most = max(counts.values())
        link = next(name for name, count in counts.items() if count == most)
        if len(counts) > 1:
            log.warning("%s: %s comes from %s; read from %s only, which delivered most of it", source,
                        channel_names[0].removesuffix("_x"), " and ".join(counts), link)
        return link

    def _acc_series(self, link: str, since_s: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        axes = [dict(zip(*self.series(axis, link, since_s), strict=True)) for axis in ACC_AXES]
        times = np.array(sorted(set(axes[0]).intersection(*axes[1:])))
        return times, np.array([[axis[t] for axis in axes] for t in times]).reshape(times.size, 3)


def random_events(rng: np.random.Generator, n: int) -> list:
    """A board, a strap and a thermometer as a session's sink sees them, with what goes wrong on the way: stamps
    repeated (a stuck clock), out of order or NaN, an axis missing at an instant, NaN readings, gaps, statuses, a
    channel two links deliver, a link that joins late, and a channel with too few samples for a rate."""
    events: list = [Status("connecting", "port open", 0.0, "board")]
    t_s = {"board": 0.0, "strap": 0.5, "thermo": 3.0}
    for _ in range(n):
        link = str(rng.choice(["board", "board", "board", "strap", "thermo"]))
        if link == "thermo" and t_s["board"] < 5.0:
            continue  # joins late: the board delivered skin temperature first
        step = float(rng.choice([0.0, 1 / 64, 1 / 64, 1 / 64, 0.25, -0.1]))  # repeated, steady, a jump, back
        t_s[link] = round(t_s[link] + step, 6)
        now = t_s[link] if rng.random() > 0.001 else np.nan  # a stamp gone wrong
        if link == "board":
            events.append(Sample("bvp", now, float(rng.normal()), link))
            if rng.random() < 0.3:
                events.append(Sample("eda", now, float(rng.uniform(0, 5)) if rng.random() > 0.05 else np.nan, link))
            for axis in ACC_AXES:
                if rng.random() > 0.05:  # now and then an axis without its reading at this instant
                    events.append(Sample(axis, now, float(rng.normal()), link))
            if rng.random() < 0.1:
                events.append(Sample("temp", now, 33.0 + float(rng.normal(0, 0.1)), link))
            if rng.random() < 0.002:
                events.append(Gap(str(rng.choice(["*", "bvp", "acc_y"])), now, now + 0.5, "frames lost", link))
        elif link == "strap":
            events.append(Sample("hr", now, float(rng.integers(60, 90)), link))
            events.append(Sample("ibi", now - 0.1, float(rng.uniform(0.6, 1.0)), link))
            if rng.random() < 0.005:
                events.append(Gap("ibi", now, now + 2.0, "no contact", link))
        else:  # a thermometer mostly out of reach: more arrivals than the board's, fewer readings
            events.append(Sample("temp", now, 32.5 if rng.random() < 0.2 else np.nan, link))
        if rng.random() < 0.002:
            events.append(Status("retrying", "silent", now, link))
    events += [Sample("battery", t_s["strap"] + k, 80.0, "strap") for k in (0, 30)]  # too few for a rate
    return events


@pytest.mark.parametrize("seed", range(6))
def test_the_compact_recorder_gives_the_recording_the_list_of_samples_gave(seed, caplog):
    events = random_events(np.random.default_rng(seed), 4000)
    compact, listed = Recorder(), ListRecorder()
    for event in events:
        compact(event)
        listed(event)
    assert compact.sample_count == len(listed.kept)
    for channel in dict.fromkeys(s.channel for s in listed.kept):
        for link in (None, "board", "strap", "thermo", "nobody"):
            for got, want in zip(compact.series(channel, link), listed.series(channel, link), strict=True):
                assert got.dtype == want.dtype and np.array_equal(got, want, equal_nan=True)
    with caplog.at_level("WARNING", logger="emotrace.firmware_bridge"):
        want = listed.to_recording("board + strap", start_unix_s=1.7e9)
        want_log = [r.getMessage() for r in caplog.records]
        caplog.clear()
        got = compact.to_recording("board + strap", start_unix_s=1.7e9)
        got_log = [r.getMessage() for r in caplog.records]
    assert got_log == want_log and any("comes from board and thermo; read from board" in m for m in got_log)
    _assert_same_recording(got, want)
    since_s = float(np.nanmedian([s.t_s for s in listed.kept]))  # a live window's stretch: the second half
    _assert_same_recording(compact.to_recording("tail", since_s=since_s), listed.to_recording("tail", since_s=since_s))


def _assert_same_recording(got, want) -> None:
    assert list(got.channels) == list(want.channels) and "acc" in got.channels and "battery" not in got.channels
    assert (got.source, got.start_unix_s, got.events_s) == (want.source, want.start_unix_s, want.events_s)
    for name, channel in want.channels.items():
        mine = got.channels[name]
        assert (mine.name, mine.unit, mine.rate_hz, mine.gaps) == (channel.name, channel.unit, channel.rate_hz,
                                                                  channel.gaps)
        for a, b in ((mine.times_s, channel.times_s), (mine.values, channel.values)):
            assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def test_a_long_sessions_samples_are_held_in_a_few_bytes_each():
    """An hour of a board holds a million samples: as ``Sample`` objects in a list, about 140 bytes each."""
    n = 50_000

    def record() -> None:
        recorder = Recorder()
        for i in range(n):
            recorder(Sample(ACC_AXES[i % 3], i / 192, 0.01 * (i % 7), "board"))
        assert recorder.sample_count == n

    assert peak_traced_bytes(record) < 40 * n
