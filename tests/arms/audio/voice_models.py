"""Voice models the audio-arm tests use: the shipped one copied with its card changed, a stand-in that records what it
is asked, and the labels of a toy waveform model (the model itself: the waveform_model_dir fixture in conftest.py)."""

from __future__ import annotations

import json
import shutil

import numpy as np

from runtime.models.card import REPO_MODELS_DIR
from runtime.track import CANONICAL_LABELS


def copy_voice_model(tmp_path, edit):
    folder = tmp_path / "voice"
    shutil.copytree(REPO_MODELS_DIR / "audio-emotion", folder)
    card = json.loads((folder / "card.json").read_text())
    edit(card, folder)
    (folder / "card.json").write_text(json.dumps(card))
    return folder


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
