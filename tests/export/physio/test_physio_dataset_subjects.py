"""load_dataset(subjects=...) reads the subjects named, not every labelled one (the benchmarks and the corpus tests
load one subject of the 27)."""

from __future__ import annotations

from export.physio import dataset
from tests.export.physio.training_inputs import stand_in_windows
from tests.physio_factory import write_labels


def test_only_the_subjects_asked_for_are_read(tmp_path, monkeypatch):
    stand_in_windows(monkeypatch, [(0.0, 30.0), (5.0, 35.0)])  # no E4 read: the subjects' choice is what is tested
    write_labels(tmp_path, [f"{p},80,12,{1000 + i},{int(i >= 20)}" for p in (2, 3) for i in range(45)])
    assert [w.subject for w in dataset.load_dataset(tmp_path, 30.0, 5.0, subjects=["S02"])] == ["S02"]
