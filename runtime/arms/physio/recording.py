"""What a recorded physiological input is once read: named channels on the recording's own clock.

A ``Recording`` holds named channels on one clock: seconds from the earliest channel start, so that ``t_s = 0``
is the first sample of any channel. Its wall-clock start (UNIX seconds, UTC) is kept where the file says it.
Samples stay where they were recorded: a gap (missing rows, a blank line, a NaN run, a jump in the timestamps) is
listed as a gap and never interpolated. The readers of the file formats are in ``readers/``; the live links of
``firmware_bridge`` make the same ``Recording``. Here too: which readings a body could give, and the limits
beyond which a file is no recording.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from runtime.errors import InputError

log = logging.getLogger("emotrace.physio")

# A gap is a hole longer than this many sample periods (jitter of a timestamped link stays below it).
GAP_PERIODS = 2.0
PLAUSIBLE_UNIX_S = (946_684_800.0, 4_102_444_800.0)  # 2000-01-01 .. 2100-01-01
# What a refusal of a start outside PLAUSIBLE_UNIX_S says it must be ('between 2000 and 2100'), made from it.
PLAUSIBLE_YEARS = "between {} and {}".format(*(datetime.fromtimestamp(s, timezone.utc).year for s in PLAUSIBLE_UNIX_S))
# A wearable session pauses (device off, link lost) but does not skip days: a longer hole in the time column
# is two sessions in one file or a corrupt timestamp, and the windows over it would run into the millions.
MAX_JUMP_S = 24 * 3600.0
# A session, or a wearable's day: the E4 records for up to about 48 h on one charge. A longer span (many jumps
# each under MAX_JUMP_S) is not one recording either, and its windows would again run into the millions.
MAX_SPAN_S = 48 * 3600.0
# Above any wearable's rate (the E4's fastest is 64 Hz); slower than one sample per MAX_JUMP_S is no rate.
MAX_RATE_HZ = 10_000.0
MIN_RATE_HZ = 1.0 / MAX_JUMP_S
# Outside these a reading is no body's: a heart rate (0 bpm is a sensor's own "no reading"), an inter-beat
# interval at the same rates, skin conductance (an E4 reads up to 100 uS), a skin or body temperature. A corrupt
# row or frame: read as a missing sample. The Stress-Predict exports lie well inside each. A wearable's
# accelerometer reads up to 16 g at most (the E4's, 2 g).
# Below these rates neurokit2's filters cannot be built (PPG passes up to 8 Hz, respiration up to 3 Hz), skin
# conductance responses, which rise within 1-3 s, are not seen, and a heart rate gives a window one value or none
# (a per-minute or daily-summary export: nothing of a window's heart; a value every 5 s, older Polar watches', reads).
MIN_PROCESSING_RATE_HZ = {"bvp": 20.0, "eda": 1.0, "resp": 8.0, "hr": 0.1}
HEART_RATE_RANGE_BPM = (20.0, 300.0)
ACC_RANGE_G = (-16.0, 16.0)
IBI_PLAUSIBLE_S = (60.0 / HEART_RATE_RANGE_BPM[1], 60.0 / HEART_RATE_RANGE_BPM[0])
EDA_RANGE_US = (0.0, 100.0)
TEMPERATURE_RANGE_C = (0.0, 60.0)
ACC_AXES = ("acc_x", "acc_y", "acc_z")  # a CSV's or a board's accelerometer columns: one three-axis "acc" channel
CHANNEL_UNITS = {  # channel -> the unit its values are in (an E4 file's, a CSV column's, a board's)
    "bvp": "a.u.",
    "eda": "uS",
    "temp": "degC",
    "hr": "bpm",
    "ibi": "s",
    "resp": "a.u.",
    "acc_x": "g",
    "acc_y": "g",
    "acc_z": "g",
    "acc": "g",
}
PLAUSIBLE_RANGES = {  # channel -> (range in its CHANNEL_UNITS unit, what a value is)
    "ibi": (IBI_PLAUSIBLE_S, "inter-beat interval(s)"),
    "hr": (HEART_RATE_RANGE_BPM, "heart rate reading(s)"),
    "eda": (EDA_RANGE_US, "skin conductance reading(s)"),
    "temp": (TEMPERATURE_RANGE_C, "temperature reading(s)"),
    "acc": (ACC_RANGE_G, "acceleration reading(s)"),  # per axis
}


@dataclass
class Channel:
    """One signal on the recording clock. ``values`` is (n,) or (n, k); NaN marks a missing sample."""

    name: str
    unit: str
    times_s: np.ndarray
    values: np.ndarray
    rate_hz: float | None = None  # nominal rate; None for event series such as inter-beat intervals
    gaps: list[tuple[float, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.gaps = union_of_spans(self.gaps)

    @property
    def start_s(self) -> float:
        return float(self.times_s[0]) if self.times_s.size else math.nan

    @property
    def end_s(self) -> float:
        """The end of the last sample's period (its time for an event series); NaN without samples."""
        if not self.times_s.size:
            return math.nan
        period_s = 1.0 / self.rate_hz if self.rate_hz else 0.0
        return float(self.times_s[-1]) + period_s


@dataclass
class Recording:
    source: str
    channels: dict[str, Channel]
    start_unix_s: float | None = None  # wall-clock instant of t_s = 0, when the file says it
    events_s: list[float] = field(default_factory=list)  # button presses (E4 tags), recording clock

    def __post_init__(self) -> None:
        # A channel without samples has no start or end. The readers leave such a file or column out with a
        # log line of their own; this keeps any other maker of a Recording from passing one on.
        for name in [name for name, c in self.channels.items() if not c.times_s.size]:
            log.warning("%s: channel %s holds no samples; read without it", self.source, name)
        self.channels = {name: c for name, c in self.channels.items() if c.times_s.size}

    @property
    def start_s(self) -> float:
        return 0.0

    @property
    def end_s(self) -> float:
        return max((c.end_s for c in self.channels.values()), default=0.0)

    @property
    def duration_s(self) -> float:
        return self.end_s

    def gaps(self) -> dict[str, list[tuple[float, float]]]:
        return {name: list(c.gaps) for name, c in self.channels.items() if c.gaps}

    def between(self, start_s: float, end_s: float) -> Recording:
        """The samples, gaps and events in [start_s, end_s) of the recording clock (a live window's stretch);
        a channel without samples there is left out."""
        channels = {}
        for name, c in self.channels.items():
            first, last = np.searchsorted(c.times_s, [start_s, end_s])
            if last > first:
                gaps = [(max(a, start_s), min(b, end_s)) for a, b in c.gaps if a < end_s and b > start_s]
                channels[name] = Channel(name, c.unit, c.times_s[first:last], c.values[first:last], c.rate_hz, gaps)
        events_s = [t for t in self.events_s if start_s <= t < end_s]
        return Recording(self.source, channels, self.start_unix_s, events_s)


def refuse_too_slow_channels(recording: Recording) -> None:
    """An ``InputError`` naming the first channel sampled more slowly than its processing needs
    (``MIN_PROCESSING_RATE_HZ``) and its spacing."""
    for name, min_rate_hz in MIN_PROCESSING_RATE_HZ.items():
        channel = recording.channels.get(name)
        rate_hz = channel.rate_hz if channel is not None else None
        if rate_hz is not None and rate_hz < min_rate_hz:
            raise InputError(recording.source, f"{name} sampled at {rate_hz:.3g} Hz (a value every "
                             f"{1 / rate_hz:.3g} s); it needs {min_rate_hz:g} Hz or more")


def union_of_spans(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """(start, end) spans as the time they cover, in order, overlapping or touching ones as one: a sensor's
    dropout reported by every refused notification since the last good one is one stretch missing, counted once."""
    union: list[tuple[float, float]] = []
    for start, end in sorted((float(a), float(b)) for a, b in spans):
        if union and start <= union[-1][1]:
            union[-1] = (union[-1][0], max(union[-1][1], end))
        else:
            union.append((start, end))
    return union


def range_channel(name: str) -> str:
    """The channel of ``PLAUSIBLE_RANGES`` whose range holds readings of ``name``: an accelerometer axis (a CSV
    column's, a board's) is read against ``acc``'s, per axis; any other channel is its own."""
    return "acc" if name in ACC_AXES else name


def plausible_readings(name: str, values: np.ndarray) -> np.ndarray:
    """Which of ``values`` a body could give on channel ``name`` (an accelerometer axis by ``acc``'s range; every
    finite one on a channel without a range: a pulse wave)."""
    values = np.asarray(values, dtype=float)
    name = range_channel(name)
    if name not in PLAUSIBLE_RANGES:
        return np.isfinite(values)
    low, high = PLAUSIBLE_RANGES[name][0]
    with np.errstate(invalid="ignore"):
        return (values >= low) & (values <= high)


def said_plausible(label: str | Path, name: str, values: np.ndarray) -> np.ndarray:
    """Which rows hold a value a body could give (``name``: a channel of ``PLAUSIBLE_RANGES``); the others (zero,
    negative, infinite, an interval of a minute) are said in one log line and left out, so that they never reach
    the statistics the model reads."""
    plausible = plausible_readings(name, values)
    note = implausible_note(name, values)
    if note:
        log.warning("%s: %s; read without them", label, note)
    return plausible


def implausible_note(name: str, values: np.ndarray) -> str:
    """'' when every present value of channel ``name`` is one a body could give; else how many are not, and
    why that may be."""
    channel = range_channel(name)
    if channel not in PLAUSIBLE_RANGES:
        return ""
    (low, high), what = PLAUSIBLE_RANGES[channel]
    present = ~np.isnan(values)
    plausible = plausible_readings(name, values)
    if not (present & ~plausible).any():
        return ""
    bad = values[present & ~plausible]
    # intervals a thousand times too long are a heart's in milliseconds, as many straps and apps write them
    in_ms = name == "ibi" and not plausible.any() and 1000 * low <= float(np.median(bad)) <= 1000 * high
    return (f"{bad.size} {what} outside {low:g}..{high:g} {CHANNEL_UNITS[channel]} (e.g. {float(bad[0])!r}) are no "
            f"body's" + (" (in milliseconds? name the column rr_ms)" if in_ms else ""))


def sample_rate_hz(steps_s: np.ndarray) -> float:
    """The rate of samples ``steps_s`` apart (all > 0): their whole time over the number of sample periods in
    it, each step counted as the whole number of periods it spans.

    Not one over the median step: stamps taken in whole milliseconds put a 64 Hz signal 15 or 16 ms apart, and
    the median, 16 ms, would call it 62.5 Hz and stretch every beat interval found in it by 2.4 %. Counting
    periods keeps holes (a gap, a lost frame, rows without a value: they count the periods missing in them)
    and bursts after a stall (samples stamped on arrival, crowded together: a crowded step counts none) from
    biasing it. The periods are counted in median steps, then once more in the period that gives.
    """
    total_s = float(steps_s.sum())
    period_s = float(np.median(steps_s))
    for _ in range(2):
        period_s = total_s / max(1.0, float(np.rint(steps_s / period_s).sum()))
    return 1.0 / period_s


def seconds_text(t_s: float, spec: str = ".1f") -> str:
    """``t_s`` as ``spec`` writes it, or in four digits and an exponent where that would run to hundreds of digits
    (a time of 1e308, an offset of 1e300), for an error line."""
    return f"{t_s:{spec}}" if abs(t_s) < 1e9 else f"{t_s:{spec[0] if spec[0] == '+' else ''}.4g}"
