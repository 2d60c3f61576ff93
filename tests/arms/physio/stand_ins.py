"""What the physio-arm tests build by hand: a channel sampled at an even rate, and a physio track whose windows span
given times."""

from __future__ import annotations

import numpy as np

from runtime.arms.physio.recording import Channel
from runtime.track import CANONICAL_LABELS, Track, Window


def uniform(name: str, values: np.ndarray, rate_hz: float, start_s: float = 0.0) -> Channel:
    times_s = start_s + np.arange(values.shape[0]) / rate_hz
    return Channel(name, "", times_s, np.asarray(values, dtype=float), rate_hz=rate_hz)


def physio_track_over(*spans: tuple[float, float]) -> Track:
    return Track("physio", labels=["no_stress", "stress"], unsupported_labels=list(CANONICAL_LABELS),
                 windows=[Window(a, b, [0.3, 0.7], 0.9, "", {}) for a, b in spans],
                 settings={"physio_input": "rec.csv", "window_s": 60.0, "sync": "given"})
