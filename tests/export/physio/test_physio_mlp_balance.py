"""Each MLP of the shipped ensemble is fitted on the rows ``balanced_rows`` gives (sklearn's MLP takes no class
weights): without them its 0.5 threshold favours no stress, two thirds of the windows."""

from __future__ import annotations

import numpy as np

from export.physio import train


def test_every_mlp_is_fitted_on_classes_made_even_by_repetition(monkeypatch):
    rng = np.random.default_rng(0)
    y = np.array([0] * 60 + [1] * 20)
    x = rng.normal(size=(80, 3)) + y[:, None]
    fitted = []
    monkeypatch.setattr(train, "fit_or_interrupt", lambda mlp, xs, ys: fitted.append(np.bincount(ys)) or mlp)
    train.fit_xy(x, y, mlp_seeds=(0, 1))
    assert [counts.tolist() for counts in fitted] == [[60, 60], [60, 60]]
