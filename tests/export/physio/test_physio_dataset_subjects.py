"""load_dataset(subjects=...) reads the subjects named, not every labelled one (the benchmarks and the corpus tests
load one subject of the 27)."""

from __future__ import annotations

from export.physio import dataset
from tests.physio_factory import START_UNIX_S, write_e4, write_labels, zip_e4


def test_only_the_subjects_asked_for_are_read(tmp_path):
    data = tmp_path / "data"
    (data / "raw").mkdir(parents=True)
    zip_e4(write_e4(tmp_path / "e4", duration_s=100.0), data / "raw" / "S02.zip")  # S03 has labels, no recording
    write_labels(data, [f"{p},80,12,{START_UNIX_S + i:.0f},{int(i >= 20)}" for p in (2, 3) for i in range(45)])
    assert [w.subject for w in dataset.load_dataset(data, 30.0, 5.0, subjects=["S02"])] == ["S02"]
