"""Tracks the fusion tests fuse: one leaning to a label throughout, the tracks of a long live session with the shipped
models' identities, and the grid window fused from whole tracks."""

from __future__ import annotations

import numpy as np

from runtime.fusion.live import LiveFusion
from runtime.models import load_card
from runtime.track import CANONICAL_LABELS, Track, Window

FACE_LABELS = [label for label in CANONICAL_LABELS if label != "calm"]


def label_row(labels, label: str, p: float) -> list[float]:
    row = [(1 - p) / (len(labels) - 1)] * len(labels)
    row[list(labels).index(label)] = p
    return row


def shipped_identity(model_id: str, variant: str = "default") -> dict[str, str]:
    card = load_card(model_id)
    return {"id": model_id, "version": card.version, "variant": variant, "sha256": card.sha256.get(variant, "")}


def labelled_track(name: str, label: str, n: int, hop_s: float, labels=CANONICAL_LABELS, start_s: float = 0.0,
                   quality: float = 1.0) -> Track:
    row = label_row(labels, label, 0.9)
    windows = [Window(round(start_s + i * hop_s, 6), round(start_s + i * hop_s + 2.0, 6), list(row), quality)
               for i in range(n)]
    unsupported = [label for label in CANONICAL_LABELS if label not in labels]
    return Track(name, list(labels), windows, unsupported, {"id": f"synthetic-{name}"})


def session(seconds: float, seed: int = 0) -> list[Track]:
    """Tracks as a live session holds them, with what a long one has: a voice silent for minutes (no claim in
    any window near the grid, claims before), a face that leaves the picture (no windows at all), a body whose
    activation is measured only now and then, and a physio track whose stress claims start late."""
    rng = np.random.default_rng(seed)

    def windows(window_s: float, hop_s: float, labels, claim_at, measure_at=lambda t: {}) -> list[Window]:
        out = []
        for k in range(int((seconds - window_s) / hop_s) + 1):
            start = round(k * hop_s, 6)
            if claim_at(start) is None:
                out.append(Window(start, round(start + window_s, 6), None, 0.0, "none", measure_at(start)))
                continue
            label = labels[int(rng.integers(len(labels)))]
            out.append(Window(start, round(start + window_s, 6), label_row(labels, label, float(rng.uniform(0.3, 0.9))),
                              float(rng.uniform(0.05, 1.0)), "", measure_at(start)))
        return out

    voice = windows(2.0, 0.5, CANONICAL_LABELS, lambda t: None if 300 <= t % 900 < 480 or rng.random() < 0.2 else 1,
                    lambda t: {"pitch_mean_hz": float(rng.uniform(90, 250))} if rng.random() < 0.7 else {})
    face = [w for w in windows(2.0, 0.5, FACE_LABELS, lambda t: None if rng.random() < 0.1 else 1)
            if not 600 <= w.start_s < 700]
    body = windows(2.0, 1.0, ["still", "moving"], lambda t: None,
                   lambda t: {"activation": float(rng.uniform(0, 1))} if t % 400 < 100 else {})
    physio = windows(30.0, 5.0, ["no-stress", "stress"], lambda t: None if t < 500 else 1)
    return [
        Track("audio", list(CANONICAL_LABELS), voice, [], shipped_identity("audio-emotion", "session")),
        Track("face", list(FACE_LABELS), face, ["calm"], shipped_identity("face-expression")),
        Track("body", ["still", "moving"], body, list(CANONICAL_LABELS), {"id": "body-activity"}),
        Track("physio", ["no-stress", "stress"], physio, list(CANONICAL_LABELS), {"id": "physio-stress"}),
    ]


def whole_tracks_window(live: LiveFusion, tracks: list[Track], start_s: float, end_s: float) -> Window:
    """The grid window fused from the whole tracks, as ``LiveFusion.window`` did before it cut them."""
    context = max(int(live.context_windows or 0), live.fuser.context_windows())
    grid = [(round(start_s - k * live.hop_s, 6), round(end_s - k * live.hop_s, 6))
            for k in reversed(range(context)) if start_s - k * live.hop_s >= -1e-9]
    return live.fuser.fuse(tracks, live.window_s, live.hop_s, grid=grid, arousal_from=live.arousal_from,
                           incongruence_settings=live.incongruence_settings).windows[-1]
