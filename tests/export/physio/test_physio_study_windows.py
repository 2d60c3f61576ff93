"""The study labels its windows by training's rule (at least 80 % of a window's seconds labelled, 80 % itself kept),
and its cached windows go stale when the study's own statistics change, not only training's code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from export.physio import dataset, study
from tests.physio_factory import START_UNIX_S, write_e4, write_labels, zip_e4


def test_a_study_window_with_exactly_80_percent_of_its_seconds_labelled_is_kept(tmp_path):
    pytest.importorskip("neurokit2")
    data = tmp_path / "data"
    (data / "raw").mkdir(parents=True)
    zip_e4(write_e4(tmp_path / "e4", duration_s=122.0), data / "raw" / "S02.zip")
    write_labels(data, [f"2,80,12,{START_UNIX_S + i:.0f},{int(i >= 24)}" for i in range(48)])  # seconds 0-47
    fraction = study.subject_raw_windows(data, "S02", dataset.load_labels(data)["S02"])["stress_fraction"]
    assert fraction[0] == pytest.approx(0.5)  # 0-60: 48 of 60 seconds labelled (80 %), 24 of them stress
    assert np.isnan(fraction[1])  # 5-65: 43 of 60


def test_the_studys_cache_key_changes_with_the_studys_own_code(tmp_path, monkeypatch):
    recording = tmp_path / "S02.zip"
    recording.write_bytes(b"stand-in recording")
    labels = (np.array([1000.0, 1001.0]), np.array([0.0, 1.0]))
    key = study.raw_windows_key(recording, labels)
    real_sha256 = study.file_sha256
    monkeypatch.setattr(
        study, "file_sha256", lambda path: "edited" if Path(path) == Path(study.__file__) else real_sha256(path)
    )
    assert study.raw_windows_key(recording, labels) != key
