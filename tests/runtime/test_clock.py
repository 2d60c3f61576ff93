from datetime import datetime, timedelta, timezone

from runtime.clock import SessionClock


def test_the_session_clock_records_its_start_in_utc():
    started = SessionClock().started_at_utc
    assert started.utcoffset() == timedelta(0)
    assert abs((datetime.now(timezone.utc) - started).total_seconds()) < 60
