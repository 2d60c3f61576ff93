"""timeline.csv's cells: six decimals (a probability of 1/3 is 0.333333, a time of 12.3456789 s is 12.345679: not
cut to milliseconds), infinities as inf and -inf with their sign, NaN an empty cell, and so is a measurement
one window carries and another does not (a face window has no pitch)."""

import csv
import io
import math

from runtime.timeline import Timeline
from runtime.track import CANONICAL_LABELS, Track, Window, csv_number


def test_a_number_is_written_to_six_decimals():
    assert csv_number(1 / 3) == "0.333333"
    assert csv_number(12.3456789) == "12.345679"
    assert csv_number(0.0000004) == "0.0"


def test_infinities_keep_their_sign_and_nan_is_an_empty_cell():
    assert csv_number(math.inf) == "inf" and csv_number(-math.inf) == "-inf"
    assert csv_number(math.nan) == ""


def test_a_windows_cells_in_timeline_csv_carry_six_decimals_and_a_minus_infinity():
    probs = [1 / 3, 2 / 3, 0, 0, 0, 0, 0, 0]
    track = Track("audio", windows=[Window(0.0, 2.0, probs, 0.7654321, "", {"loudness_db": -math.inf})])
    row = next(csv.DictReader(io.StringIO(Timeline("x.wav", 2.0, [track]).to_csv())))
    assert (row["neutral"], row["calm"], row["quality"], row["loudness_db"]) == ("0.333333", "0.666667", "0.765432",
                                                                                "-inf")
    assert list(row)[:5 + len(CANONICAL_LABELS)][-1] == "surprised"


def test_a_measurement_a_window_does_not_carry_is_an_empty_cell():
    audio = Track("audio", windows=[Window(0.0, 2.0, None, 0.0, "no speech", {"pause_s": 2.0})])
    face = Track("face", windows=[Window(0.0, 2.0, [1 / 8] * 8, 0.9, "", {"face_area": 0.1})])
    rows = list(csv.DictReader(io.StringIO(Timeline("x.mp4", 2.0, [audio, face]).to_csv())))
    assert (rows[0]["pause_s"], rows[0]["face_area"]) == ("2.0", "")
    assert (rows[1]["pause_s"], rows[1]["face_area"]) == ("", "0.1")
