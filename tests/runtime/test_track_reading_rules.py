"""What the Track reader takes and refuses in an edited or hand-made timeline: -inf measurements survive the round
trip as -inf, a probability below 0 or a quality above 1 past rounding is refused, true/false is no number, a track
without labels is refused, and a window without a quality makes no claim."""

import json
import math

import pytest

from runtime.track import CANONICAL_LABELS, Track, TrackFormatError, Window


def _dict(**window) -> dict:
    base = {"start_s": 0.0, "end_s": 2.0, "probs": [1 / 8] * 8, "quality": 0.8, "reason": "", "measurements": {}}
    return {"name": "audio", "labels": list(CANONICAL_LABELS), "windows": [{**base, **window}]}


def test_minus_infinity_in_a_measurement_round_trips_as_minus_infinity():
    track = Track("audio", windows=[Window(0.0, 2.0, None, 0.0, "no speech", {"loudness_db": -math.inf})])
    back = Track.from_dict(json.loads(json.dumps(track.to_dict(), allow_nan=False)))
    assert back.windows[0].measurements["loudness_db"] == -math.inf


def test_a_negative_probability_is_refused():
    with pytest.raises(TrackFormatError, match="probability -0.2 is not a number from 0 to 1"):
        Track.from_dict(_dict(probs=[-0.2, *[0.1] * 7]))


def test_a_window_of_no_probabilities_in_a_track_of_no_labels_is_refused_as_no_claim():
    data = {"name": "body", "labels": [], "windows": [{"start_s": 0.0, "end_s": 2.0, "probs": [], "quality": 0.5}]}
    # was: read as a claim (has_claim), which the schema refuses and the reading's stretches failed on (max of none)
    with pytest.raises(TrackFormatError, match=r"no label has a probability \(a window without a claim has probs null"):
        Track.from_dict(data)


@pytest.mark.parametrize("quality", [1.00001, 1.05, -0.01])
def test_a_quality_outside_0_to_1_by_more_than_rounding_is_refused(quality):
    with pytest.raises(TrackFormatError, match=r"is outside \[0, 1\]"):
        Track.from_dict(_dict(quality=quality))


def test_a_quality_off_by_no_more_than_six_place_rounding_is_read():
    assert Track.from_dict(_dict(quality=1.0000005)).windows[0].quality == 1.0000005


@pytest.mark.parametrize("field", ["start_s", "quality"])
def test_a_window_field_of_true_or_false_is_refused_as_no_number(field):
    with pytest.raises(TrackFormatError, match=f"{field} is true, not a number"):
        Track.from_dict(_dict(**{field: True}))


def test_a_track_without_labels_is_refused_not_read_as_the_canonical_eight():
    data = _dict()
    del data["labels"]
    with pytest.raises(TrackFormatError, match="track 'audio': lacks labels"):
        Track.from_dict(data)


def test_a_window_without_a_quality_is_read_as_quality_zero_making_no_claim():
    data = _dict()
    del data["windows"][0]["quality"]
    window = Track.from_dict(data).windows[0]
    assert window.quality == 0.0 and not window.has_claim
