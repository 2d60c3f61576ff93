"""The training host's per-subject window cache."""

from __future__ import annotations

import numpy as np

from export.physio.dataset import SubjectWindows, read_cached_windows, write_cached_windows
from runtime.arms.physio.features import MEASUREMENTS


def windows(n: int = 4, columns: int = len(MEASUREMENTS)) -> SubjectWindows:
    rng = np.random.default_rng(0)
    return SubjectWindows("S99", np.arange(n) * 5.0, rng.normal(size=(n, columns)), np.ones(n), np.zeros(n))


def test_cached_windows_read_back_as_written(tmp_path):
    path = tmp_path / "S99.npz"
    write_cached_windows(path, windows())
    back = read_cached_windows(path, "S99")
    assert back is not None and np.array_equal(back.features, windows().features)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left


def test_a_truncated_cache_is_computed_again_not_a_crash(tmp_path, caplog):
    path = tmp_path / "S99.npz"
    write_cached_windows(path, windows())
    path.write_bytes(path.read_bytes()[:100])  # a run killed mid-write, before writes were atomic
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        assert read_cached_windows(path, "S99") is None
    assert "unreadable cache" in caplog.text


def test_a_cache_of_other_feature_columns_is_not_read_as_todays(tmp_path):
    path = tmp_path / "S99.npz"
    stale = windows(columns=len(MEASUREMENTS) - 1)
    np.savez(path, starts_s=stale.starts_s, features=stale.features, quality=stale.quality,
             stress_fraction=stale.stress_fraction)
    assert read_cached_windows(path, "S99") is None
    assert read_cached_windows(tmp_path / "missing.npz", "S99") is None
