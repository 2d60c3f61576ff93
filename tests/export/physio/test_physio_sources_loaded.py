"""load_sources computes a subject's windows once per distinct set of channels the sources lack (the serial board's
heart rate from its pulse wave, not the E4's HR file), each keyed by what it leaves out."""

from __future__ import annotations

from export.physio import train


def test_each_distinct_set_of_missing_channels_is_loaded_once_and_filed_under_it(tmp_path, monkeypatch):
    asked = []

    def load_dataset(_data, _window_s, _hop_s, subjects=None, cache_dir=None, without=()):
        asked.append(without)
        return [train.SubjectWindows("S02", None, None, None, None)]

    monkeypatch.setattr(train, "load_dataset", load_dataset)
    windows = train.load_sources(tmp_path, train.SOURCES)
    assert asked == [(), ("hr", "ibi", "acc")]  # the strap and EDA-only sources mask the E4's windows
    assert set(windows) == {(), ("hr", "ibi", "acc")} and all(set(w) == {"S02"} for w in windows.values())
