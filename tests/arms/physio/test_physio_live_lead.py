"""A live session's window (runtime/arms/physio/live.py): judged from the signal from a minute before its start
(LEAD_S), so that filters and beat detection have settled where it starts; and, short of the live baseline, said
as forming, never as having reached it."""

from __future__ import annotations

import pytest

from runtime.arms.physio.live import LiveStress
from runtime.arms.physio.recording import Recording
from runtime.arms.physio.stress import PhysioSettings, load_physio_model
from tests.arms.physio.stand_ins import skin_temperature


@pytest.fixture(scope="module")
def live_model():
    return load_physio_model("physio-stress-live")


def test_a_live_window_asks_for_the_signal_from_a_minute_before_its_start(live_model):
    live = LiveStress(live_model, PhysioSettings(live_baseline_s=0.0))
    asked = []

    def read_since(since_s: float) -> Recording:
        asked.append(since_s)
        return skin_temperature(0.0, 500.0)

    live.judge(read_since, 400.0, 430.0)
    assert asked == [340.0]  # filters and beat detection settle over the minute before the window


@pytest.mark.parametrize(("baseline_s", "start_s", "said"), [
    (300.0, 299.75, "(299.7 of 300 s)"), (1.0, 0.75, "(0.7 of 1 s)"), (2.5, 0.0, "(0 of 2.5 s)"),
    (300.0, 30.0, "(30 of 300 s)")])
def test_a_window_short_of_the_live_baseline_never_reads_as_having_reached_it(live_model, baseline_s, start_s, said):
    from runtime.arms.physio.features import MEASUREMENTS, WindowFeatures

    live = LiveStress(live_model, PhysioSettings(window_s=30.0, hop_s=0.25, live_baseline_s=baseline_s))
    window = live.add(WindowFeatures(start_s, start_s + 30.0, dict.fromkeys(MEASUREMENTS, 1.0), 1.0, ""))
    assert window.reason == f"live baseline forming {said}"  # was '(300 of 300 s)', '(1 of 1 s)', '(0 of 2 s)'
