"""What the fusion-learning tests share: windows of two modalities leaning towards their targets, and the sessions
train_attention keeps for early stopping and fits on."""

from __future__ import annotations

import numpy as np
import pytest

from export.fusion import learn
from runtime.fusion.align import FusionInput
from runtime.track import CANONICAL_LABELS

HAPPY, SAD = CANONICAL_LABELS.index("happy"), CANONICAL_LABELS.index("sad")


def leaning_windows(targets, sessions, skill=3.0, seed=0) -> FusionInput:
    """Two modalities (audio, face) whose probabilities lean towards each window's target by ``skill``."""
    rng = np.random.default_rng(seed)
    targets = np.asarray(targets)
    logits = rng.normal(0.0, 1.0, (len(targets), 2, len(CANONICAL_LABELS)))
    logits[np.arange(len(targets)), :, targets] += skill
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    supported = np.ones((2, len(CANONICAL_LABELS)), dtype=bool)
    return FusionInput(["audio", "face"], probs, np.ones((len(targets), 2)), supported, np.asarray(sessions))


def attention_sessions_seen(monkeypatch, tmp_path, n_sessions: int) -> dict[str, set]:
    """The sessions ``train_attention`` keeps for early stopping ("validation") and fits on ("fit"), of
    ``n_sessions`` sessions of 8 windows each (happy then sad): its first batch shows them; no need to train on."""
    targets = np.tile(np.repeat([HAPPY, SAD], 4), n_sessions)
    seen = {}

    class Stop(Exception):
        pass

    padded = learn._padded_sessions

    def validation_spy(tokens, y, sequence):
        seen["validation"] = set(sequence.tolist())
        return padded(tokens, y, sequence)

    def crops_spy(tokens, y, sequence, *args):
        seen["fit"] = set(sequence.tolist())
        raise Stop

    monkeypatch.setattr(learn, "_padded_sessions", validation_spy)
    monkeypatch.setattr(learn, "_random_crops", crops_spy)
    with pytest.raises(Stop):
        learn.train_attention(leaning_windows(targets, np.repeat(np.arange(n_sessions), 8)), targets, tmp_path, dim=8,
                              steps=5, quantize=False)
    return seen
