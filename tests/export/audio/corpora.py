"""Tiny voice corpora the audio-export tests write: a manifest of WAVs, one per speaker and label, and a file of its
own bytes under a corpus folder."""

from __future__ import annotations

import wave
from pathlib import Path

import export.audio.train as train


def write_manifest(folder: Path, speakers: tuple[str, ...] = ("ann", "bob", "cy"),
                   labels: tuple[str, ...] = tuple(train.LABELS)) -> Path:
    """A manifest of tiny WAVs, one per speaker and label; their content never matters here, but each has a
    sample value of its own, since equal bytes are one recording twice."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["path,speaker,emotion"]
    for n, (speaker, label) in enumerate((s, label) for s in speakers for label in labels):
        path = folder / f"{speaker}_{label}.wav"
        with wave.open(str(path), "wb") as handle:
            handle.setnchannels(1)
            handle.setsampwidth(2)
            handle.setframerate(16000)
            handle.writeframes(n.to_bytes(2, "little") * 1600)
        rows.append(",".join(f'"{cell}"' if "," in cell else cell for cell in (path.name, speaker, label)))
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n")
    return folder


def touch(folder: Path, relative: str) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF" + relative.encode())  # each file its own bytes: equal bytes are one recording
    return path
