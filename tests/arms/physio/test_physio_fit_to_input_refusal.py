"""fit_to_input's refusal (runtime/arms/physio/arm.py) of a physio track with no window centred in the input as
read names the span all its windows cover, from the first window's start to the last window's end."""

from __future__ import annotations

import pytest

from runtime.arms.physio.arm import fit_to_input
from runtime.errors import InputError
from tests.arms.physio.stand_ins import physio_track_over


def test_a_track_with_no_window_in_the_input_as_read_is_refused_naming_all_its_windows_span():
    track = physio_track_over((100.0, 160.0), (130.0, 190.0), (160.0, 220.0))
    with pytest.raises(InputError, match=r"its windows cover 100\.0\.\.220\.0 s on the video clock, the video as "
                                         r"read 0\.0\.\.80\.0 s, and no 60 s window has its centre in the video "
                                         r"\(given\)"):
        fit_to_input(track, 80.0)
