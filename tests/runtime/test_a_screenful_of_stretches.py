"""The reading prints up to a screenful of stretches (40); only past it does it say how many more there are."""

from runtime.timeline import CAVEAT, MAX_STRETCH_LINES, Timeline, reading_lines
from runtime.track import CANONICAL_LABELS, Track, Window

HAPPY = [0.9 if label == "happy" else 0.1 / 7 for label in CANONICAL_LABELS]
SAD = [0.9 if label == "sad" else 0.1 / 7 for label in CANONICAL_LABELS]


def _lines(n_stretches: int) -> list[str]:
    windows = [Window(2.0 * i, 2.0 * i + 2.0, HAPPY if i % 2 else SAD, 0.8) for i in range(n_stretches)]
    return reading_lines(Timeline("x.wav", 2.0 * n_stretches, [Track("fused", list(CANONICAL_LABELS), windows)]))


def test_exactly_a_screenful_of_stretches_is_printed_whole_with_no_line_of_more():
    lines = _lines(40)
    assert MAX_STRETCH_LINES == 40
    assert lines[-2] == "  78.0-80.0 s: happy (90%)" and lines[-1] == CAVEAT
    assert not any("more stretches" in line for line in lines)


def test_one_stretch_past_a_screenful_is_counted():
    assert _lines(41)[-2] == "  ... 1 more stretches (timeline.csv holds every window)"
