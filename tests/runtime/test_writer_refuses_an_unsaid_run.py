"""What the writer refuses beyond the windows, as the shipped schema does: a software record that says neither when
an analysis ran nor when a live session started (or both), and a step that ran yet gives why it did not; nothing is
written then."""

import pytest

from runtime.timeline import Timeline, software_record, write_timeline
from runtime.track import Track, TrackFormatError, Window


def _timeline(**fields) -> Timeline:
    audio = Track("audio", windows=[Window(0.0, 2.0, [1 / 8] * 8, 0.9)])
    return Timeline("x.wav", 2.0, [audio], **fields)


def test_a_software_record_saying_neither_when_it_ran_is_refused(tmp_path):
    neither = "software: gives analysed_at_utc or started_at_utc, not both or neither"
    with pytest.raises(TrackFormatError, match=neither):
        write_timeline(_timeline(software=software_record(0.5)), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_software_record_saying_both_is_refused():
    both = software_record(0.5, analysed_at_utc="2026-01-01T00:00:00+00:00", started_at_utc="2026-01-01T00:00:00+00:00")
    with pytest.raises(TrackFormatError, match="not both or neither"):
        _timeline(software=both).to_json()


def test_a_step_that_ran_yet_says_why_it_did_not_is_refused(tmp_path):
    software = software_record(0.5, analysed_at_utc="2026-01-01T00:00:00+00:00")
    settings = {"audio": {"enabled": True, "why": "no audio stream", "window_s": 2.0}}
    with pytest.raises(TrackFormatError, match="settings 'audio': gives why, though it ran"):
        write_timeline(_timeline(software=software, settings=settings), tmp_path / "out")
    assert not (tmp_path / "out").exists()
