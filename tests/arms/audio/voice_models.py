"""Voice models the audio-arm tests use: the shipped one copied with its card changed, a stand-in that records what it
is asked, and the labels of a toy waveform model (the model itself: the waveform_model_dir fixture in conftest.py)."""

from __future__ import annotations

import numpy as np

from runtime.track import CANONICAL_LABELS
from tests.runtime.model_folders import copy_model


def copy_voice_model(tmp_path, edit):
    """The shipped voice model copied to ``tmp_path``/voice, its card changed by ``edit(card, folder)``."""
    folder = tmp_path / "voice"
    return copy_model(tmp_path, "audio-emotion", lambda card: edit(card, folder), name="voice")


class RecordingModel:
    """Stands in for the emotion model: remembers each variant asked for and the rows it judged."""

    labels = list(CANONICAL_LABELS)

    def __init__(self, card_extra: dict):
        self.card = type("Card", (), {"extra": card_extra})()
        self.calls: list[tuple[str, np.ndarray]] = []

    def predict(self, rows: np.ndarray, variant: str) -> np.ndarray:
        self.calls.append((variant, np.array(rows)))
        return np.full((len(rows), 8), 1 / 8, dtype=np.float32)


WAVEFORM_LABELS = ["neutral", "happy", "sad", "angry"]
