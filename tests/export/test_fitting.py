"""Fitting on the training host: a stop asked for during a fit stops the run."""

from __future__ import annotations

import numpy as np
import pytest

from export.fitting import fit_or_interrupt
from runtime.stopping import stopping_on_signals
from tests.runtime.stops import swallowed_stop


def test_a_stop_swallowed_during_a_fit_stops_the_run_instead_of_keeping_the_model():
    class Model:  # a fit in whose library a SIGTERM landed and was caught, with no warning to tell it by
        def fit(self, x, y):
            swallowed_stop()
            return self

    x = np.zeros((4, 2))
    with stopping_on_signals(), pytest.raises(KeyboardInterrupt):
        fit_or_interrupt(Model(), x, np.array([0, 1, 0, 1]))


class _WarningModel:
    def fit(self, x, y):
        import warnings

        warnings.warn("lbfgs failed to converge", UserWarning, stacklevel=1)
        return self


def test_a_fits_own_warnings_are_passed_on_unless_the_caller_drops_them():
    import warnings

    with pytest.warns(UserWarning, match="lbfgs failed to converge"):
        fit_or_interrupt(_WarningModel(), np.zeros((2, 1)), np.array([0, 1]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_or_interrupt(_WarningModel(), np.zeros((2, 1)), np.array([0, 1]), keep_warnings=False)
    assert caught == []
