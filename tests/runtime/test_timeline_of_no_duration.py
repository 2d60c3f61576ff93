"""A timeline of a recording of 0 s (nothing could be read, an empty file analysed) is a timeline: its duration is
a number of seconds that is not negative, and the reader takes it (a JSON integer as a float); a negative duration
is refused."""

import pytest

from runtime.timeline import Timeline
from runtime.track import TrackFormatError


def _document(duration_s: float) -> dict:
    return {**Timeline("empty.wav", 0.0, []).to_dict(), "input": {"path": "empty.wav", "duration_s": duration_s}}


def test_a_timeline_of_zero_seconds_is_read():
    assert Timeline.from_dict(_document(0)).duration_s == 0.0


def test_a_duration_written_as_a_json_integer_is_read_as_seconds_in_a_float():
    duration_s = Timeline.from_dict(_document(30)).duration_s
    assert duration_s == 30.0 and isinstance(duration_s, float)


def test_a_timeline_of_negative_seconds_is_refused():
    with pytest.raises(TrackFormatError, match="input duration_s is -1.0, not a number of seconds"):
        Timeline.from_dict(_document(-1.0))
