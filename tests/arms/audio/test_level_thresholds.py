"""The level module's thresholds in the units a clinician or IT person reads them: a sample from 0.99 of full scale
(-0.09 dBFS) is clipped, one at 0.98 is not; speech is flagged clipped from 3.0 % as shown to one decimal (2.96 %
shows, and is judged, as 3.0 %); the gain note allows 6 dB beyond the card's trained range, not less."""

import numpy as np
import pytest

from runtime.arms.audio.level import clipping_note, frame_clipped_counts, gain_note, is_clipped
from runtime.arms.audio.vad import FRAME_SAMPLES


def test_a_sample_ringing_just_under_full_scale_counts_as_clipped_and_one_at_0_98_does_not():
    frame = np.zeros(FRAME_SAMPLES, dtype=np.float32)
    frame[:4] = [0.995, -0.993, 0.9905, 1.0]  # a clipped run resampled to 16 kHz rings about full scale
    frame[4:8] = [0.98, -0.98, 0.985, 0.5]
    assert frame_clipped_counts(frame).tolist() == [4]


@pytest.mark.parametrize(("percent", "flagged"), [(3.0, True), (2.96, True), (2.94, False), (3.04, True)])
def test_clipping_is_flagged_from_3_percent_as_shown_to_one_decimal(percent, flagged):
    assert is_clipped(percent) == flagged
    note = clipping_note(percent)
    assert bool(note) == flagged
    if flagged:
        assert "(3.0 % of the speech's samples at full scale" in note


@pytest.mark.parametrize(("level_dbfs", "flagged"), [(-19.0, False), (-18.7, False), (-18.6, True),
                                                     (-60.9, False), (-61.0, True), (-58.0, False)])
def test_the_gain_note_allows_6_db_beyond_the_trained_range(level_dbfs, flagged):
    assert (gain_note(level_dbfs, (-54.9, -24.7), 35.0, "HINT") is not None) == flagged
