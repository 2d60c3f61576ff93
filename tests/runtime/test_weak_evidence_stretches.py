"""Where the reading says 'little evidence': windows whose quality is under 0.2 (WEAK_QUALITY: a face seen in a tenth
of the window) alone; a window of exactly 0.2 reads as its leading emotion, as fusion keeps its claim."""

from runtime.timeline import spectrum_stretches
from runtime.track import CANONICAL_LABELS, Track, Window

SAD = [0.9 if label == "sad" else 0.1 / 7 for label in CANONICAL_LABELS]


def test_a_window_of_quality_0_2_reads_as_its_emotion_and_one_under_it_as_little_evidence():
    track = Track("fused", windows=[Window(0.0, 2.0, SAD, 0.2), Window(2.0, 4.0, SAD, 0.19),
                                    Window(4.0, 6.0, SAD, 0.1)])
    assert spectrum_stretches(track) == ["0.0-2.0 s: sad (90%)", "2.0-6.0 s: little evidence"]
