"""train physio refuses a subject with no labelled window with signal before it fits any model
(export/physio/train.py, _train calls check_usable_windows; the other report tests stand it in)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from export.physio import train
from runtime.errors import InputError
from tests.export.physio.training_inputs import subject_session


def test_a_run_with_a_subject_of_no_usable_window_is_refused_before_any_model_is_fitted(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    sessions = {s: subject_session(s, rng, n=100) for s in ("S02", "S03", "S04", "S05")}
    sessions["S04"].quality[:] = 0.0  # a loose sensor all session
    monkeypatch.setattr(train, "load_sources", lambda *_args, **_kwargs: {s.without: sessions for s in train.SOURCES})
    monkeypatch.setattr(train, "fit", lambda *_args, **_kwargs: pytest.fail("a model fitted before the refusal"))
    run = SimpleNamespace(begin=lambda: pytest.fail("a run folder made for a refused run"))
    with pytest.raises(InputError, match=r"S04\.zip: no labelled window with usable signal"):
        train._train(tmp_path, run, ["S02", "S03", "S04", "S05"], ["S02", "S03", "S05"], ["S04"], None, "session")
