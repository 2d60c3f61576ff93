"""A creation_time a container gives without a zone is UTC (containers write UTC), whatever the zone of the machine
that reads it: read as local time, a recording placed by both wall clocks moves by the machine's UTC offset."""

from __future__ import annotations

import time

from runtime.arms.physio.arm import video_start_unix_s


def test_a_creation_time_without_a_zone_is_read_as_utc_on_a_machine_in_another_zone(tmp_path, monkeypatch):
    # FFmpeg's metadata format keeps the text as written (NUT and MP4 hand it back with a 'Z' added)
    media = tmp_path / "session.ffmeta"
    media.write_text(";FFMETADATA1\ncreation_time=2022-02-07T10:00:00\n")
    monkeypatch.setenv("TZ", "America/New_York")  # a machine five hours behind UTC
    time.tzset()
    try:
        assert time.timezone != 0
        assert video_start_unix_s(media) == 1_644_228_000.0  # 2022-02-07T10:00:00Z
    finally:
        monkeypatch.undo()
        time.tzset()
