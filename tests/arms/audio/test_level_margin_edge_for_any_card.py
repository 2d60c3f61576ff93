"""Speech judged as shown (to 0.1 dB) against the edge of any card's trained range plus its margin: a level that shows
as exactly the edge is never flagged, whatever one-decimal p5 and p95 the card records (its ``training_speech_range``
rounds them so), not only the shipped card's. Was: for p95 -20.1, -20.1 + 6.0 is -14.100000000000001 in floating
point, and speech shown at -14.1 dBFS was said to be 'far louder than the -54.9 to -20.1 dBFS' the model knew."""

import pytest

from runtime.arms.audio.level import LEVEL_MARGIN_DB, gain_note


@pytest.mark.parametrize("p95_dbfs", [-20.1, -16.6, -33.2, -24.7, -27.0])
def test_speech_shown_at_the_top_edge_of_a_cards_range_and_margin_is_not_flagged(p95_dbfs):
    edge_dbfs = round(p95_dbfs + LEVEL_MARGIN_DB, 1)
    assert gain_note(edge_dbfs, (-54.9, p95_dbfs), 35.0, "HINT") is None
    assert gain_note(edge_dbfs + 0.1, (-54.9, p95_dbfs), 35.0, "HINT") is not None


@pytest.mark.parametrize("p5_dbfs", [-54.9, -60.3, -47.1, -66.9, -50.0])
def test_speech_shown_at_the_bottom_edge_of_a_cards_range_and_margin_is_not_flagged(p5_dbfs):
    edge_dbfs = round(p5_dbfs - LEVEL_MARGIN_DB, 1)
    assert gain_note(edge_dbfs, (p5_dbfs, -20.0), 35.0, "HINT") is None
    assert gain_note(edge_dbfs - 0.1, (p5_dbfs, -20.0), 35.0, "HINT") is not None
