"""A window grid asked for with a hop or window of zero or less, or infinite (an edited config), is refused as a
ValueError saying so, not left to fail deep in numpy (a ZeroDivisionError, an IndexError on an empty grid); a
duration that is not a positive number (nothing read, or NaN) gives no windows rather than an error."""

import math

import pytest

from runtime.track import window_grid


@pytest.mark.parametrize("window_s, hop_s", [(2.0, 0.0), (2.0, -0.5), (2.0, math.inf), (0.0, 0.5), (-1.0, 0.5)])
def test_a_hop_or_window_of_no_positive_finite_length_is_refused(window_s, hop_s):
    with pytest.raises(ValueError, match="window_s and hop_s must be positive finite numbers"):
        window_grid(10.0, window_s, hop_s)


@pytest.mark.parametrize("duration_s", [0.0, -1.0, math.nan])
def test_a_duration_that_is_not_a_positive_number_gives_no_windows(duration_s):
    assert window_grid(duration_s, 2.0, 0.5) == []
