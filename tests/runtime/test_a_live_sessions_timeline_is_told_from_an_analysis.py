"""Whether a folder's timeline.json is a live session's (it records when the session started; an analysis of a file,
which can be run again, records when it was analysed): an analysis's is not a live session's."""

from runtime.timeline import Timeline, recorded_live, software_record, write_timeline
from runtime.track import Track, Window


def _write(tmp_path, name: str, **when: str):
    audio = Track("audio", windows=[Window(0.0, 2.0, [1 / 8] * 8, 0.9)])
    json_path, _ = write_timeline(Timeline("x.wav", 2.0, [audio], software=software_record(0.5, **when)),
                                  tmp_path / name)
    return json_path


def test_an_analysis_of_a_file_is_not_a_live_sessions_timeline(tmp_path):
    assert not recorded_live(_write(tmp_path, "analysis", analysed_at_utc="2026-01-01T00:00:00+00:00"))


def test_a_live_sessions_timeline_and_its_claim_are_live(tmp_path):
    assert recorded_live(_write(tmp_path, "live", started_at_utc="2026-01-01T00:00:00+00:00"))
    (tmp_path / "claimed").mkdir()
    (tmp_path / "claimed" / "timeline.json").write_bytes(b"")
    assert recorded_live(tmp_path / "claimed" / "timeline.json")
    assert not recorded_live(tmp_path / "nothing.json")
