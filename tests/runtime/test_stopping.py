"""Ctrl-C, SIGTERM and SIGHUP stop a command even where a library swallowed the signal's KeyboardInterrupt."""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import pytest

from runtime import pipeline, stopping
from runtime.config import load_settings
from runtime.live import until
from runtime.sources.audio import AudioChunk
from runtime.sources.video import FileVideoSource
from runtime.stopping import STOP_SIGNALS, ask_to_stop, stop_asked, stopping_on_signals
from tests.conftest import REPO_ROOT
from tests.runtime.pipeline_fakes import fake_arm
from tests.runtime.stops import swallowed_stop


def test_a_live_voice_stop_that_a_library_swallowed_ends_the_capture_at_the_next_chunk():
    def microphone() -> Iterator[AudioChunk]:  # a device that never ends
        for i in range(1000):
            if i == 3:
                swallowed_stop()
            yield AudioChunk(i * 0.1, np.zeros(1600, dtype=np.float32), 16000)

    taken = []
    with stopping_on_signals(), pytest.raises(KeyboardInterrupt):
        for chunk in until(microphone(), None):
            taken.append(chunk)
    assert len(taken) == 3  # the chunk read as the stop came is not judged; was: all 1000, the session going on


def test_an_analysis_whose_stop_an_arm_swallowed_writes_nothing(tmp_path, monkeypatch):
    calls: list[str] = []
    audio = fake_arm("audio", calls)
    monkeypatch.setattr(pipeline, "ARMS", [("audio", lambda request: swallowed_stop() or audio(request))])
    media = REPO_ROOT / "examples" / "session.mp4"
    with stopping_on_signals(), pytest.raises(KeyboardInterrupt):
        pipeline.analyze_file(media, tmp_path / "out", load_settings(), fuse=False)
    assert calls == ["audio"] and not (tmp_path / "out").exists()  # was: a timeline written as if finished


def test_a_video_whose_stop_the_decoder_swallowed_ends_at_the_next_frame():
    source = FileVideoSource(REPO_ROOT / "examples" / "session.mp4", sample_fps=2.0)
    seen = 0
    with stopping_on_signals(), pytest.raises(KeyboardInterrupt):
        for _frame in source.frames():
            seen += 1
            if seen == 2:
                swallowed_stop()
    assert seen == 2  # was: every frame of the video


def test_a_recording_whose_stop_the_resampler_swallowed_ends_at_the_next_block():
    from runtime.media import iter_audio

    blocks = 0
    with stopping_on_signals(), pytest.raises(KeyboardInterrupt):
        for _block in iter_audio(REPO_ROOT / "examples" / "session.mp4"):
            blocks += 1
            if blocks == 2:
                swallowed_stop()
    assert blocks == 2  # was: every block of the 40 s, and the audio arm's work after it


def test_an_analysis_whose_stop_an_arm_swallowed_runs_no_further_arm(tmp_path, monkeypatch):
    calls: list[str] = []
    audio, face = fake_arm("audio", calls), fake_arm("face", calls)
    monkeypatch.setattr(pipeline, "ARMS", [("audio", lambda request: swallowed_stop() or audio(request)),
                                           ("face", face)])
    with stopping_on_signals(), pytest.raises(KeyboardInterrupt):
        pipeline.analyze_file(REPO_ROOT / "examples" / "session.mp4", tmp_path / "out", load_settings(), fuse=False)
    assert calls == ["audio"]  # was: the face arm's minutes of work, then nothing written


def test_a_sensor_session_whose_stop_was_swallowed_stops_waiting(monkeypatch):
    import runtime.live as live
    from runtime.clock import SessionClock

    naps = []

    def nap(seconds):
        naps.append(seconds)
        if len(naps) > 50:
            raise RuntimeError("still waiting after the stop")

    monkeypatch.setattr(live.time, "sleep", nap)
    with stopping_on_signals():
        swallowed_stop()
        live._wait_until(SessionClock(), None)  # was: a wait that only a second Ctrl-C would end
    assert len(naps) == 1


def test_the_handlers_found_are_given_back_and_the_request_forgotten():
    def host_handler(signum, frame):  # what a program embedding the CLI had set
        pass

    before = {number: signal.signal(number, host_handler) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        with stopping_on_signals():
            assert all(signal.getsignal(number) is ask_to_stop for number in before)  # SIGHUP was: the process killed
            swallowed_stop()
            assert stop_asked()
        assert all(signal.getsignal(number) is host_handler for number in before)
        assert not stop_asked()  # a later command in the same process is not stopped by this one's Ctrl-C
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)


def test_the_process_s_own_command_leaves_a_handler_for_stops_after_it_and_the_tests_get_theirs_back(monkeypatch):
    from runtime.cli import main

    before = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    monkeypatch.setattr(sys, "argv", ["emotrace", "models", "list"])  # a command quickly done
    try:
        assert main() == 0
        after = {number: signal.getsignal(number) for number in STOP_SIGNALS}
        # was: SIG_IGN, so a shutdown that hangs could no longer be stopped; a hangup ignored before (the test run
        # started under nohup) stays ignored
        kept = {signal.SIGHUP} if before[signal.SIGHUP] == signal.SIG_IGN else set()
        assert all(getattr(handler, "__name__", "") == "exit_now" for number, handler in after.items()
                   if number not in kept)
        assert all(after[number] == signal.SIG_IGN for number in kept)
    finally:  # all of them: was SIGINT and SIGTERM alone, SIGHUP left ignored for the rest of the test run
        atexit.unregister(stopping._end_process)  # the test run ends with its own status, not this command's
        for number, handler in before.items():
            signal.signal(number, handler)


@pytest.mark.parametrize(("command", "status"), [(["models", "list"], 0), (["extract-audio", "missing.wav"], 2)])
def test_a_stop_once_the_process_s_command_is_done_exits_at_once_with_the_command_s_status(tmp_path, command, status):
    # A service manager repeating its stop as the process exits: the command's status stands (was: 143 before the
    # stops were ignored), and a shutdown that would go on (here: end as 99) is ended at once (was: ignored).
    script = (f"import os, signal, sys\nfrom runtime.cli import main\nsys.argv = ['emotrace', *{command!r}]\n"
              "print('status', main(), flush=True)\nsignal.raise_signal(signal.SIGTERM)\nos._exit(99)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert done.stdout.splitlines()[-1] == f"status {status}" and done.returncode == status


def run_cli_exiting(tmp_path, setup: str) -> subprocess.Popen:
    """The process's own command (returning 3) in a process of its own, ``setup`` run before it."""
    script = (f"import logging, os, sys, time\nimport runtime.cli as cli\n{setup}\ncli._run = lambda args: 3\n"
              "sys.argv = ['emotrace', 'models', 'list']\nsys.exit(cli.main())\n")
    return subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})


def test_a_stop_in_the_last_exit_function_ends_the_process_at_once_with_the_command_s_status(tmp_path):
    # a log flush that hangs as the process exits: was ignored from the last exit function on (and, before that,
    # killed by the signal as modules were freed, -15 read as 143)
    setup = ("class Stuck(logging.Handler):\n    def emit(self, record): pass\n"
             "    def flush(self, write=os.write, sleep=time.sleep):\n        write(1, b'flushing\\n')\n"
             "        sleep(60)\nlogging.getLogger().addHandler(Stuck())")
    process = run_cli_exiting(tmp_path, setup)
    try:
        assert process.stdout.readline() == b"flushing\n"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 3
    finally:
        process.kill()
        process.wait()
        process.stdout.close()


def test_a_finalizer_that_would_hang_as_modules_are_freed_does_not_hold_the_exit(tmp_path):
    # was: the process waited out the hang, and a stop meanwhile was ignored
    setup = ("class FreedLast:\n    def __del__(self, write=os.write, sleep=time.sleep):\n"
             "        write(1, b'freeing\\n')\n        sleep(60)\nlast = FreedLast()")
    process = run_cli_exiting(tmp_path, setup)
    try:
        assert process.wait(timeout=30) == 3
        assert process.stdout.read() == b""  # nothing was freed
    finally:
        process.kill()
        process.wait()
        process.stdout.close()


def test_a_stop_landing_as_the_command_ends_is_the_status_a_later_stop_exits_with(tmp_path):
    # the stop lands as the command's warnings handler is taken down: main says 'interrupted', 130; a repeated stop
    # during shutdown exits 130 too (was 0, the status the command had returned before the stop)
    script = ("import contextlib, os, signal, sys\nimport runtime.cli as cli\n@contextlib.contextmanager\n"
              "def stopped_as_it_ends():\n    yield\n    raise KeyboardInterrupt\n"
              "cli._warnings_on_stderr = stopped_as_it_ends\nsys.argv = ['emotrace', 'models', 'list']\n"
              "print('status', cli.main(), flush=True)\nsignal.raise_signal(signal.SIGTERM)\nos._exit(99)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert done.stdout.splitlines()[-1] == "status 130" and done.returncode == 130
    assert done.stderr.strip().splitlines()[-1] == "emotrace: interrupted"


def test_a_command_started_to_outlive_its_terminal_is_not_stopped_by_the_hangup():
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # what nohup sets
    try:
        with stopping_on_signals():
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is ask_to_stop
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, before)


def test_a_command_run_outside_the_main_thread_sets_no_handler_and_runs(monkeypatch):
    import threading

    before = signal.getsignal(signal.SIGINT)
    ran, failures = [], []

    def command() -> None:  # e.g. a server running the analysis in a worker thread
        try:
            with stopping_on_signals():
                ran.append(signal.getsignal(signal.SIGINT))
        except Exception as error:  # signal.signal raises ValueError outside the main thread
            failures.append(error)

    thread = threading.Thread(target=command)
    thread.start()
    thread.join()
    assert failures == [] and ran == [before]


def test_a_handler_python_did_not_set_is_given_back_as_the_default(monkeypatch):
    from runtime import stopping

    real, given_back = signal.signal, {}

    def recording(number, handler):
        if handler is not stopping.ask_to_stop:
            given_back[number] = handler
            return real(number, signal.getsignal(number) if handler is None else handler)
        real(number, handler)
        return None  # what signal.signal returns for a handler set outside Python (an embedding host)

    saved = {number: real(number, signal.SIG_DFL) for number in STOP_SIGNALS}  # SIGHUP heard under nohup too
    monkeypatch.setattr(stopping.signal, "signal", recording)
    try:
        with stopping_on_signals():
            pass
    finally:
        for number, handler in saved.items():
            real(number, handler)
    assert given_back == dict.fromkeys(STOP_SIGNALS, signal.SIG_DFL)  # not None: a TypeError


def test_a_stop_that_comes_as_the_handlers_are_given_back_leaves_none_of_ours_set(monkeypatch):
    import os

    from runtime import stopping

    def host_handler(signum, frame):
        pass

    before = {number: signal.signal(number, host_handler) for number in (signal.SIGINT, signal.SIGTERM)}
    set_handler = signal.signal

    def giving_back(number, handler):
        previous = set_handler(number, handler)
        if handler is host_handler and number == signal.SIGINT:  # Ctrl-C given back, SIGTERM still ours: it comes
            os.kill(os.getpid(), signal.SIGTERM)
        return previous

    try:
        try:
            with stopping_on_signals():
                monkeypatch.setattr(stopping.signal, "signal", giving_back)
        except KeyboardInterrupt:  # (pytest would take it as its own Ctrl-C)
            pytest.fail("the stop was raised out of the giving back, after the command")
        assert set_handler(signal.SIGTERM, host_handler) is host_handler and not stop_asked()  # none of ours left
    finally:
        for number, handler in before.items():
            set_handler(number, handler)


def _stops_at(monkeypatch, *times_s: float, write=None) -> None:
    """The stop handler's clock reading ``times_s`` in turn, its os._exit raising SystemExit (it would end the
    tests) and its os.write ``write`` (the real one by default)."""
    import os
    from types import SimpleNamespace

    from runtime import stopping

    def exit_now(code):
        raise SystemExit(code)

    monkeypatch.setattr(stopping, "os", SimpleNamespace(write=write or os.write, _exit=exit_now))
    monkeypatch.setattr(stopping, "_now_s", iter(times_s).__next__)


def test_a_third_stop_ends_the_process_at_once_saying_so(monkeypatch, capfd):
    _stops_at(monkeypatch, 0.0, 1.0, 2.0)
    with stopping_on_signals():
        swallowed_stop()
        ask_to_stop(signal.SIGTERM, None)  # the second: kept, not raised, and said
        assert capfd.readouterr().err == "emotrace: stopping (a third stop ends at once)\n"
        with pytest.raises(SystemExit) as ended:
            ask_to_stop(signal.SIGTERM, None)  # a wrap-up that hangs: the user insists
    assert ended.value.code == 128 + signal.SIGTERM
    assert capfd.readouterr().err == "emotrace: stopped at once (a third stop); what was not yet written is lost\n"


def test_one_ctrl_c_delivered_twice_is_one_stop(monkeypatch, capfd):
    _stops_at(monkeypatch, 0.0, 0.01, 1.0, 1.02)  # a wrapper forwarding Ctrl-C to its group: each comes twice
    with stopping_on_signals():
        swallowed_stop()
        ask_to_stop(signal.SIGINT, None)
        ask_to_stop(signal.SIGINT, None)  # the user's second Ctrl-C: was counted as the third and ended at once
        ask_to_stop(signal.SIGINT, None)
    assert "stopped at once" not in capfd.readouterr().err


def test_a_third_stop_without_a_stderr_still_ends_the_process(monkeypatch):
    def closed(fd, data):
        raise OSError(9, "Bad file descriptor")

    _stops_at(monkeypatch, 0.0, 1.0, 2.0, write=closed)
    with stopping_on_signals(), pytest.raises(SystemExit):  # was: OSError raised into the session, no exit
        swallowed_stop()
        ask_to_stop(signal.SIGINT, None)
        ask_to_stop(signal.SIGINT, None)


def test_the_first_stop_says_nothing_and_the_second_says_that_a_third_ends_at_once(monkeypatch, capfd):
    _stops_at(monkeypatch, 0.0, 1.0)
    with stopping_on_signals():
        swallowed_stop()
        assert capfd.readouterr().err == ""  # the first stop is the session's own ending: nothing to warn of yet
        ask_to_stop(signal.SIGINT, None)
        assert capfd.readouterr().err == "emotrace: stopping (a third stop ends at once)\n"


def test_a_second_stop_leaves_the_session_ending_where_the_first_came(monkeypatch):
    _stops_at(monkeypatch, 10.0, 11.5, 13.0)  # the first stop, an impatient second, then the session asks
    with stopping_on_signals():
        swallowed_stop()
        ask_to_stop(signal.SIGINT, None)
        # a live session ends where the first came, 3 s ago (the second would cut its catch-up short, and move it)
        assert stopping.stop_asked_s_ago() == pytest.approx(3.0)
