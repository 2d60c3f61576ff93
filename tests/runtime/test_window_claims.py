"""A window claims an emotion only with probabilities and a quality above 0: one of quality 0 (its reason says why)
makes no claim, whatever probabilities it holds, and reads as no evidence."""

from runtime.timeline import spectrum_stretches
from runtime.track import CANONICAL_LABELS, Track, Window


def _probs(leading: str) -> list[float]:
    return [0.9 if label == leading else 0.1 / 7 for label in CANONICAL_LABELS]


def test_a_window_of_quality_zero_makes_no_claim_whatever_its_probabilities():
    assert not Window(0.0, 2.0, _probs("sad"), 0.0, "the microphone lost it").has_claim
    assert Window(0.0, 2.0, _probs("sad"), 0.5).has_claim
    assert not Window(0.0, 2.0, None, 0.5).has_claim


def test_a_stretch_of_quality_zero_windows_reads_as_no_evidence_not_their_leading_emotion():
    track = Track("audio", windows=[Window(0.0, 2.0, _probs("happy"), 0.8),
                                    Window(2.0, 4.0, _probs("sad"), 0.0, "lost")])
    assert spectrum_stretches(track) == ["0.0-2.0 s: happy (90%)", "2.0-4.0 s: no evidence"]
