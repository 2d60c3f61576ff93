from firmware_bridge.link import Recorder, SensorLink
from firmware_bridge.runner import LinkThreads
from runtime.clock import SessionClock


class _Faulty(SensorLink):
    """A link kind whose loop does not catch its own defect."""

    def __init__(self) -> None:
        super().__init__("faulty", SessionClock())
        self.closed = False

    def run_until_stopped(self, sink, stop):
        raise RuntimeError("driver fault")

    def close(self):
        self.closed = True


def test_a_link_loop_that_raises_is_said_in_a_status_and_the_link_is_closed():
    link, recorder = _Faulty(), Recorder()
    threads = LinkThreads([link], recorder)
    threads.start()
    threads.stop()
    assert [(s.state, s.detail) for s in recorder.statuses] == [("stopped", "link failed: RuntimeError: driver fault")]
    assert link.closed
