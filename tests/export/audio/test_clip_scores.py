"""``evaluate audio``'s figures per speaker and over resampled speakers, from judged clips (no audio read)."""

from pathlib import Path

import numpy as np
import pytest

from export.audio.datasets import Clip
from export.audio.evaluate import Judged, score

LABELS = ["neutral", "happy"]


def _judged() -> Judged:
    """A: a neutral clip without speech (uniform, whose argmax is neutral) and a happy one judged right;
    B: both judged right."""
    clips = [Clip(Path(f"{speaker}{i}.wav"), speaker, emotion, "manifest")
             for speaker in ("A", "B") for i, emotion in enumerate(LABELS)]
    probs = np.array([[0.5, 0.5], [0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    claimed = np.array([False, True, True, True])
    return Judged(clips, probs, claimed, {Path("A0.wav"): "no speech"}, [])


def test_a_clip_without_speech_is_wrong_for_its_speaker_and_in_every_resampled_draw():
    report = score(_judged(), LABELS, resamples=400)
    assert report["per_speaker"]["A"] == {"ua": 0.5, "clips": 2, "no_claim": 1}  # its uniform argmax is no claim
    assert report["ua"] == pytest.approx((1 / 2 + 1) / 2)
    # draws AA 0.5, AB 0.75, BB 1.0
    assert report["interval_95"]["ua"] == [0.5, 1.0]


def test_each_speakers_figures_are_of_their_own_clips():
    report = score(_judged(), LABELS, resamples=50)
    assert report["per_speaker"]["B"] == {"ua": 1.0, "clips": 2, "no_claim": 0}
    assert report["speakers"] == 2 and report["no_claim"] == 1
