"""Fitting on the training host: a stop asked for during a fit stops the run."""

from __future__ import annotations

import numpy as np
import pytest

from export.fitting import fit_or_interrupt
from runtime.stopping import stopping_on_signals
from tests.runtime.test_stopping import swallowed_stop


def test_a_stop_swallowed_during_a_fit_stops_the_run_instead_of_keeping_the_model():
    class Model:  # a fit in whose library a SIGTERM landed and was caught, with no warning to tell it by
        def fit(self, x, y):
            swallowed_stop()
            return self

    x = np.zeros((4, 2))
    with stopping_on_signals(), pytest.raises(KeyboardInterrupt):
        fit_or_interrupt(Model(), x, np.array([0, 1, 0, 1]))
