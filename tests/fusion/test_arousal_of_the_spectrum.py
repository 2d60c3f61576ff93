"""Arousal from the fused spectrum: calm lowers it (circumplex (+0.4, -0.6)), and beside an activation source the
spectrum's arousal counts by the fused window's quality, as the source counts by its own."""

from __future__ import annotations

import numpy as np
import pytest

from runtime.fusion import make_fuser
from runtime.fusion.affect import CIRCUMPLEX
from runtime.track import Track, Window
from tests.fusion.tracks import labelled_track


def test_a_calm_voice_gives_low_arousal_and_positive_valence():
    fused = make_fuser("quality").fuse([labelled_track("audio", "calm", 4, 0.5)])
    window = fused.windows[0]
    assert window.measurements["arousal"] < -0.4
    assert window.measurements["valence"] > 0.3


def test_the_spectrums_arousal_counts_by_the_fused_quality_beside_an_activation_source():
    voice = labelled_track("audio", "calm", 4, 0.5, quality=0.5)
    body = Track("body", [], [Window(0.0, 4.0, None, 1.0, "", {"activation": 1.0})], [], {"id": "body-pose"})
    fused = make_fuser("quality").fuse([voice, body], arousal_from=["body.activation"])
    window = fused.windows[0]
    assert window.quality == pytest.approx(0.5)
    spectrum_arousal = float(np.array(window.probs, dtype=float) @ CIRCUMPLEX[:, 1])
    assert window.measurements["arousal"] == pytest.approx((spectrum_arousal * 0.5 + 1.0 * 1.0) / 1.5)
