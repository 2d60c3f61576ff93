"""A BLE strap's running count of malformed notifications is a count, not the link's state: the track's
``settings.links`` (``link_states``) keeps the link's last state and the count beside it, as a serial board's is."""

from __future__ import annotations

from firmware_bridge.link import link_states
from tests.firmware_bridge.fakes import FakeTime, SimulatedPeripheral, run_link


def test_a_straps_count_of_malformed_notifications_goes_beside_its_state_not_in_place_of_it():
    time = FakeTime()
    malformed = bytes([0x01, 0x48])  # a 16-bit rate flagged, one byte sent
    script = [(1.0, bytes([0x00, 0x48])), (2.0, malformed), (2.5, malformed), (3.0, malformed)]
    script += [(4.0 + i, bytes([0x00, 0x4A])) for i in range(5)]
    recorder = run_link(SimulatedPeripheral(script, now=time), time, stop_after_hr=6)
    counts = [s for s in recorder.statuses if s.count]
    assert [s.detail for s in counts] == ["3 malformed heart rate notifications so far"]
    (state,) = link_states(recorder.statuses).values()
    assert state == "stopped (stopped by request); 3 malformed heart rate notifications so far", state
