"""A probability above 1 by more than six-place rounding is refused on reading (as one below 0 is: a hand-edited or
corrupted timeline.json), one above it by no more than that rounding is read."""

import pytest

from runtime.track import CANONICAL_LABELS, Track, TrackFormatError


def _dict(*windows: dict) -> dict:
    base = {"start_s": 0.0, "end_s": 2.0, "probs": [1 / 8] * 8, "quality": 0.8, "reason": "", "measurements": {}}
    return {"name": "audio", "labels": list(CANONICAL_LABELS), "windows": [{**base, **window} for window in windows]}


@pytest.mark.parametrize("p", [1.5, 1.00001])
def test_a_probability_above_one_by_more_than_rounding_is_refused(p):
    with pytest.raises(TrackFormatError, match=f"probability {p} is not a number from 0 to 1"):
        Track.from_dict(_dict({"probs": [p, *[0.0] * 7]}))


def test_a_probability_above_one_by_no_more_than_six_place_rounding_is_read():
    assert Track.from_dict(_dict({"probs": [1.0000005, *[0.0] * 7]})).windows[0].probs[0] == 1.0000005

