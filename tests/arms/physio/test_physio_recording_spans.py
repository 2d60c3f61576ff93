"""A recording's gaps and its error-line numbers (runtime/arms/physio/recording.py): a dropout reported again
inside a longer one is one stretch (never shortened), a recording with no gaps lists none, and a huge offset keeps
its sign when said in few digits."""

from __future__ import annotations

import numpy as np

from runtime.arms.physio.recording import Channel, Recording, seconds_text, union_of_spans


def _eda(gaps: list[tuple[float, float]]) -> Channel:
    return Channel("eda", "uS", np.arange(0.0, 100.0, 0.25), np.ones(400), 4.0, gaps)


def test_a_gap_inside_a_longer_gap_is_one_stretch_as_long_as_the_longer():
    assert union_of_spans([(10.0, 40.0), (15.0, 20.0)]) == [(10.0, 40.0)]
    assert _eda([(15.0, 20.0), (10.0, 40.0), (50.0, 55.0)]).gaps == [(10.0, 40.0), (50.0, 55.0)]


def test_a_recording_whose_channels_have_no_gaps_lists_none():
    recording = Recording("rec.csv", {"eda": _eda([]), "temp": Channel("temp", "degC", np.arange(0.0, 100.0),
                                                                          np.full(100, 33.0), 1.0, [(5.0, 8.0)])})
    assert recording.gaps() == {"temp": [(5.0, 8.0)]}  # was (mutant): 'eda': [] too, a channel listed as gapped


def test_a_huge_offset_given_with_its_sign_keeps_the_sign_in_few_digits():
    assert seconds_text(1e300, "+.3f") == "+1e+300"
    assert seconds_text(-1e300, "+.3f") == "-1e+300"
    assert seconds_text(1e300) == "1e+300"
