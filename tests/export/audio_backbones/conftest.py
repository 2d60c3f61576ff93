"""Fixtures for the backbone tests: one thread, a tiny WavLM, a small RAVDESS manifest."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from tests.export.audio_backbones.tiny_models import save_tiny_encoder


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_wavlm(tmp_path_factory) -> Path:
    return save_tiny_encoder(tmp_path_factory.mktemp("models") / "tiny-wavlm", "wavlm")


@pytest.fixture(scope="session")
def ravdess_manifest(tmp_path_factory, ravdess_dir) -> Path:
    """A manifest over a small slice of RAVDESS: three actors, eight clips each (one per emotion)."""
    folder = tmp_path_factory.mktemp("corpus")
    rows = []
    for actor in ("01", "02", "03"):
        for emotion in range(1, 9):
            path = sorted(
                (ravdess_dir / f"Actor_{actor}").glob(f"03-01-{emotion:02d}-01-01-01-{actor}.flac")
            )[0]
            rows.append([str(path), f"actor{actor}", path.stem.split("-")[2]])
    names = dict(
        zip(
            ("01", "02", "03", "04", "05", "06", "07", "08"),
            ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"),
            strict=True,
        )
    )
    with open(folder / "manifest.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "speaker", "emotion"])
        writer.writerows([p, s, names[e]] for p, s, e in rows)
    return folder
