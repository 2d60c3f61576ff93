from firmware_bridge.link import Recorder, SensorLink
from firmware_bridge.runner import LinkThreads
from runtime.clock import SessionClock


class _Faulty(SensorLink):
    """A link kind whose loop does not catch its own defect."""

    def __init__(self, name: str = "faulty") -> None:
        super().__init__(name, SessionClock())
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


class _Unclosable(_Faulty):
    """A link whose close fails too (its port already gone)."""

    def close(self):
        raise OSError(5, "Input/output error")


def test_a_link_whose_close_fails_is_said_in_one_warning_line_not_a_thread_traceback(monkeypatch, caplog):
    import threading

    tracebacks = []
    monkeypatch.setattr(threading, "excepthook", tracebacks.append)
    threads = LinkThreads([_Unclosable("board")], Recorder())
    with caplog.at_level("WARNING", logger="emotrace.firmware_bridge"):
        threads.start()
        threads.stop()
    assert tracebacks == []  # was: the close's OSError out of the thread, a full traceback on stderr
    assert [record.getMessage() for record in caplog.records] == [
        "board: the link could not be closed (OSError: [Errno 5] Input/output error)"]
