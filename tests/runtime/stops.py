"""Stopping the appliance in tests: a stop that a library swallows, and a live session stopped, in a process of its
own, once it says its first window."""

from __future__ import annotations

import contextlib
import signal

from runtime.stopping import ask_to_stop
from tests.conftest import REPO_ROOT


def swallowed_stop() -> None:
    """A signal that lands in a library which catches what its handler raises (PyAV's resampler did)."""
    with contextlib.suppress(KeyboardInterrupt):
        ask_to_stop(signal.SIGTERM, None)


def stopped_after_its_first_window(argv: list[str], tmp_path, stop: int | None = None,
                                   reader_gone: bool = False) -> tuple[int, str]:
    """``emotrace live ARGV`` in a process of its own, sent ``stop`` (SIGTERM) once it prints a window: its exit
    code and stderr. ``reader_gone``: its stdout is closed first, as a terminal window that closes takes the
    reading end with it. A session that never says a window, or outlives its stop by two minutes, is killed."""
    import subprocess
    import sys
    import threading

    def hangups_heard() -> None:  # though the tests run under nohup
        signal.signal(signal.SIGHUP, signal.SIG_DFL)

    with open(tmp_path / "stderr.txt", "w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "runtime.cli", "live", *argv], cwd=REPO_ROOT,
                                   stdout=subprocess.PIPE, stderr=stderr, text=True, preexec_fn=hangups_heard)
        watchdog = threading.Timer(180, process.kill)
        watchdog.start()
        try:
            for line in process.stdout:  # the session is under way once a window is said
                if line.startswith("at "):
                    if reader_gone:
                        process.stdout.close()
                    process.send_signal(stop or signal.SIGTERM)  # what a service manager sends to stop the appliance
                    break
            try:
                process.communicate(timeout=120)
            except subprocess.TimeoutExpired:  # the stop was lost (a library swallowed it): say what it printed
                process.kill()
                process.communicate()
        finally:
            watchdog.cancel()
    return process.returncode, (tmp_path / "stderr.txt").read_text()
