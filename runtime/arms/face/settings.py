"""The ``[face]`` section as the face arm and the shared video pass read it."""

from __future__ import annotations

from dataclasses import dataclass

from runtime.config import ConfigSection


@dataclass(frozen=True)
class FaceSettings(ConfigSection):
    model: str = "face-expression"
    detector: str = "face-detector"
    landmarks: str = "face-landmarks"
    iris: str = "iris-landmarks"  # "" = no gaze measurements
    sample_fps: float = 5.0
    window_s: float = 2.0
    hop_s: float = 1.0
    person: str = "patient"  # patient | all | <person number, in order of first appearance>
    min_face_px: int = 24
    max_side_px: int = 1280
    search_every_s: float = 1.0  # 0 = only the whole-frame look (small faces found erratically)
    expression_threads: int = 1
