"""What the printed reading of an analysis reads out as stretches: one emotion track, the fused one, or where nothing
was fused the first that claims (the others are in timeline.csv, not printed beside it), and a track of a model's
own labels only where it claims something (one that claims nothing has its summary line, no stretches of 'no
evidence')."""

from runtime.timeline import CAVEAT, Timeline, reading_lines
from runtime.track import CANONICAL_LABELS, Track, Window

HAPPY = [0.9 if label == "happy" else 0.1 / 7 for label in CANONICAL_LABELS]


def _emotion(name: str) -> Track:
    return Track(name, list(CANONICAL_LABELS), [Window(0.0, 2.0, HAPPY, 0.8)])


def test_only_the_fused_track_of_the_emotion_tracks_is_read_out_as_stretches():
    lines = reading_lines(Timeline("x.mp4", 2.0, [_emotion("audio"), _emotion("face"), _emotion("fused")]))
    assert [line for line in lines if "over time:" in line] == ["fused, the leading emotion over time:"]
    assert lines[-3:] == ["fused, the leading emotion over time:", "  0.0-2.0 s: happy (90%)", CAVEAT]


def test_where_nothing_was_fused_only_the_first_emotion_track_that_claims_is_read_out():
    silent = Track("audio", list(CANONICAL_LABELS), [Window(0.0, 2.0, None, 0.0, "no speech")])
    lines = reading_lines(Timeline("x.mp4", 2.0, [silent, _emotion("face-1"), _emotion("face-2")]))
    assert [line for line in lines if "over time:" in line] == ["face-1, the leading emotion over time:"]


def test_a_track_of_own_labels_that_claims_nothing_gets_no_stretches():
    own = Track("audio", ["happy", "anxious"], [Window(0.0, 2.0, None, 0.0, "no speech")])
    lines = reading_lines(Timeline("x.mp4", 2.0, [own, _emotion("face"), _emotion("fused")]))
    assert lines[0] == "audio: 1 windows, 0 with evidence"
    assert [line for line in lines if "over time:" in line] == ["fused, the leading emotion over time:"]
