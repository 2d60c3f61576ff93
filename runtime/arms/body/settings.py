"""The ``[body]`` section as the body arm and the shared video pass read it."""

from __future__ import annotations

from dataclasses import dataclass

from runtime.config import ConfigSection


@dataclass(frozen=True)
class BodySettings(ConfigSection):
    detector: str = "body-pose-detector"
    landmarks: str = "body-pose-landmarks"
    model: str = ""
    sample_fps: float = 5.0
    window_s: float = 2.0
    hop_s: float = 1.0
