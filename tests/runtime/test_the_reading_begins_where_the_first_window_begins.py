"""The reading's stretches begin where the track's first window begins: a face first seen 5 s into a recording (or a
sensor recording started late) is read from 5.0 s, never claimed for the time before it that no window covers."""

from runtime.timeline import spectrum_stretches
from runtime.track import Track, Window

HAPPY = [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]


def test_a_track_whose_first_window_starts_late_is_read_from_that_start():
    face = Track("face", windows=[Window(5.0, 7.0, HAPPY, 0.9), Window(7.0, 9.0, HAPPY, 0.9)])
    assert spectrum_stretches(face) == ["5.0-9.0 s: happy (100%)"]
