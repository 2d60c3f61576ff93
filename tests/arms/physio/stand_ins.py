"""What the physio-arm tests build by hand: a channel sampled at an even rate, a recording of skin temperature alone,
and a physio track whose windows span given times."""

from __future__ import annotations

import numpy as np

from runtime.arms.physio.recording import Channel, Recording
from runtime.track import CANONICAL_LABELS, Track, Window


def uniform(name: str, values: np.ndarray, rate_hz: float, start_s: float = 0.0) -> Channel:
    times_s = start_s + np.arange(values.shape[0]) / rate_hz
    return Channel(name, "", times_s, np.asarray(values, dtype=float), rate_hz=rate_hz)


def skin_temperature(start_s: float, end_s: float) -> Recording:
    """A recording of skin temperature alone, at 4 Hz over [start_s, end_s): 33 °C, rising 0.01 °C a second."""
    times_s = np.arange(start_s, end_s, 0.25)
    return Recording("test", {"temp": Channel("temp", "C", times_s, 33.0 + 0.01 * times_s, rate_hz=4.0)})


def physio_track_over(*spans: tuple[float, float]) -> Track:
    return Track("physio", labels=["no_stress", "stress"], unsupported_labels=list(CANONICAL_LABELS),
                 windows=[Window(a, b, [0.3, 0.7], 0.9, "", {}) for a, b in spans],
                 settings={"physio_input": "rec.csv", "window_s": 60.0, "sync": "given"})
