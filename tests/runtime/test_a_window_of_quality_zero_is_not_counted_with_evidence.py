"""The summary line's "with evidence" counts the windows of a quality above 0, little as it may be: a window of
quality 0.1 is counted (the stretches read it as 'little evidence'), one that carries probabilities but quality 0 (a
face model's output where no face was seen, a voice model's on silence) makes no claim and is not (the stretches
read it as 'no evidence')."""

from runtime.timeline import Timeline, spectrum_stretches, summary_lines
from runtime.track import Track, Window

HAPPY = [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]


def test_a_weak_window_counts_as_with_evidence_and_a_window_of_quality_zero_does_not_whatever_its_probabilities():
    face = Track("face", windows=[Window(0.0, 2.0, HAPPY, 0.9), Window(2.0, 4.0, HAPPY, 0.1, "face seen in part"),
                                  Window(4.0, 6.0, HAPPY, 0.0, "no face")])
    assert summary_lines(Timeline("x.mp4", 6.0, [face])) == ["face: 3 windows, 2 with evidence"]
    assert spectrum_stretches(face) == ["0.0-2.0 s: happy (100%)", "2.0-4.0 s: little evidence",
                                        "4.0-6.0 s: no evidence"]
