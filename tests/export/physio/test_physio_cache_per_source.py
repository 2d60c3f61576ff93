"""Each source's windows are cached in their own file: a cache shared by the E4 and the serial board would be
overwritten by each in turn (their keys differ), so every training run would compute every subject again."""

from __future__ import annotations

import numpy as np

from export.physio import dataset
from tests.export.physio.training_inputs import stand_in_windows
from tests.physio_factory import START_UNIX_S, write_e4, write_labels, zip_e4


def _one_subject(tmp_path):
    data = tmp_path / "data"
    (data / "raw").mkdir(parents=True)
    zip_e4(write_e4(tmp_path / "e4", duration_s=100.0), data / "raw" / "S02.zip")
    write_labels(data, [f"2,80,12,{START_UNIX_S + i:.0f},{int(i >= 20)}" for i in range(45)])
    return data


def test_each_source_keeps_its_own_cached_windows_so_a_second_run_computes_nothing(tmp_path, monkeypatch):
    stand_in_windows(monkeypatch, [(0.0, 30.0), (5.0, 35.0)])
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "S02.zip").write_bytes(b"stand-in recording")  # its bytes are the cache key's
    write_labels(tmp_path, [f"2,80,12,{1000 + i},{int(i >= 20)}" for i in range(45)])
    cache = tmp_path / "cache"
    board = ("hr", "ibi", "acc")
    first = {w: dataset.load_dataset(tmp_path, 30.0, 5.0, cache_dir=cache, without=w)[0] for w in ((), board)}
    assert len(list(cache.iterdir())) == 2  # one file per set of channels left out

    def computed_again(*_args, **_kwargs):
        raise AssertionError("windows computed again although cached")

    monkeypatch.setattr(dataset, "subject_windows", computed_again)
    for without, windows in first.items():
        [again] = dataset.load_dataset(tmp_path, 30.0, 5.0, cache_dir=cache, without=without)
        np.testing.assert_array_equal(again.features, windows.features)


def test_a_source_without_the_accelerometer_has_no_motion_statistics_in_its_windows(tmp_path):
    # the channels a source lacks are left out of its recording, not only masked in its features
    from runtime.arms.physio.features import MEASUREMENTS

    data = _one_subject(tmp_path)
    [e4] = dataset.load_dataset(data, 30.0, 5.0)
    [board] = dataset.load_dataset(data, 30.0, 5.0, without=("hr", "ibi", "acc"))
    motion = MEASUREMENTS.index("acc_magnitude_mean_g")
    assert np.isfinite(e4.features[:, motion]).all()
    assert np.isnan(board.features[:, motion]).all()
