"""Body windows as a video's scan gives them, for the scanned fixture (conftest.py) to hand the body export."""

from __future__ import annotations

from types import SimpleNamespace

from export.body.train import FEATURES


def body_window(start_s: float, end_s: float, quality: float, value: float) -> SimpleNamespace:
    return SimpleNamespace(start_s=start_s, end_s=end_s, quality=quality,
                           measurements={name: value for name in FEATURES})
