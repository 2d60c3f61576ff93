"""Ctrl-C, SIGTERM and SIGHUP as one request to stop a command, kept as well as raised.

The signal raises ``KeyboardInterrupt`` wherever the main thread is. Some libraries swallow an exception raised
inside their own calls: PyAV's audio resampler and numba's compiler (through a ctypes callback) were seen to lose
the stop of a live session, which then ran on until killed and lost what it had captured. So the request is kept
too, and the long loops (a live session's chunks and waits, a video's frames, an analysis's arms, training's clips,
subjects, fits and steps) ask ``raise_if_stop_asked`` at each step: a stop that a library swallowed is raised
again at the next one. Where a stop could only lose work (a live session under way and its wrap-up) it is kept
and not raised (``stop_kept``): the loops' checks end the session. Only the first stop is raised; the second is
said; the third ends the process at once. Stops are counted as Python runs the handler, between its own steps: a
signal sent again while the main thread is inside one library call is taken once when it returns (Python keeps a
flag a signal, not a count). A hangup (the terminal closed, an SSH connection dropped) is such a stop, unless the
command was started to outlive it (``nohup``): a hangup ignored then stays ignored.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

# Ctrl-C; a service manager stopping the appliance, kill, timeout; the terminal closed or an SSH connection dropped
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
STOPPED_BY_USER = "stopped by the user"  # what a live track records of a session ended by one of them

FORCE_AFTER = 3  # stops: the third ends the process at once, the way out of a wrap-up that hangs
ONE_STOP_S = 0.5  # signals this close together are one stop (a wrapper that forwards Ctrl-C to its group too)

_asked = threading.Event()
_kept_only = threading.Event()  # a stop now is kept, not raised: see ``stop_kept``
_received = {"stops": 0, "last_s": -math.inf, "first_s": math.nan}  # since the command began
_now_s = time.monotonic


def ask_to_stop(signum: int | None = None, frame: FrameType | None = None) -> None:
    """The signal handler: keep the request, and raise it where the main thread is the first time only. A second
    signal (an impatient Ctrl-C, a service manager's repeat) would break into the wrap-up the first one started,
    and a live session would be lost unwritten; a first one a library swallowed is raised by the loops' checks.
    The second is said; the third ends the process at once, saying so."""
    now_s = _now_s()
    if now_s - _received["last_s"] >= ONE_STOP_S:
        _received["stops"] += 1
    _received["last_s"] = now_s
    if _received["stops"] >= FORCE_AFTER:
        _say("emotrace: stopped at once (a third stop); what was not yet written is lost")
        with contextlib.suppress(Exception):  # the lines printed so far (a journal's); never the exit itself
            sys.stdout.flush()
        os._exit(128 + int(signum or signal.SIGINT))
    if _received["stops"] == 2:
        _say("emotrace: stopping (a third stop ends at once)")  # analyses and runs discard, sessions write
    first = not _asked.is_set()
    if first:
        _received["first_s"] = now_s
    _asked.set()
    if first and not _kept_only.is_set():
        raise KeyboardInterrupt


def _say(line: str) -> None:
    """A line on fd 2 from the signal handler (print could re-enter a write under way); none without a stderr."""
    with contextlib.suppress(OSError):
        os.write(2, f"{line}\n".encode())


@contextmanager
def stop_kept() -> Iterator[None]:
    """Meanwhile a stop is kept, not raised: for work that a stop could only lose (a live session under way and
    its wrap-up, whose loops end on it at their next check; the handlers given back)."""
    outermost = not _kept_only.is_set()
    _kept_only.set()
    try:
        yield
    finally:
        if outermost:
            _kept_only.clear()


def stop_asked() -> bool:
    return _asked.is_set()


def stop_asked_s_ago() -> float | None:
    """How long ago (s) the first stop was asked for; None where none was. A live session ends where it came: its
    loops notice it a step later (a voice window being judged, a frame being read)."""
    return _now_s() - _received["first_s"] if _asked.is_set() else None


def raise_if_stop_asked() -> None:
    """Raise ``KeyboardInterrupt`` when a stop was asked for, though a library may have swallowed its first one."""
    if _asked.is_set():
        raise KeyboardInterrupt


@dataclass
class Outcome:
    """A command's exit status, once it has one (None until then)."""

    status: int | None = None


def _exit_with(outcome: Outcome) -> Callable[[int, FrameType | None], None]:
    """The handler of a stop once the process's command is done: the process exits at once with the command's own
    status (a signal's 128 + N where it has none), its printed lines flushed first."""

    def exit_now(signum: int, frame: FrameType | None) -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a write under way (reentrant), or no stream: never the exit
                stream.flush()
        os._exit(outcome.status if outcome.status is not None else 128 + int(signum))

    return exit_now


def _end_process(outcome: Outcome) -> None:
    """The last exit function: the printed lines and the logs flushed, the process ends with its command's status
    without freeing its modules. Freeing them runs libraries' teardown and objects' finalizers, where Python runs
    no handler and had given a stop's default back: a hang there could be ended by SIGKILL alone, and a stop there
    ended the process by the signal, a saved session read as 143. Exit functions registered before the command
    began (other than logging's, run here) are skipped. Without a status (the command raised) the process ends
    the usual way."""
    if outcome.status is None:
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed or missing stream: never the exit
            stream.flush()
    with contextlib.suppress(Exception):
        logging.shutdown()  # registered before the command, so it would run after this: run here instead
    os._exit(outcome.status)


@contextmanager
def stopping_on_signals(then_exit: bool = False) -> Iterator[Outcome]:
    """Meanwhile, SIGINT, SIGTERM and SIGHUP ask the command to stop (SIGTERM or SIGHUP alone would end the process
    at once, losing a live session's timeline and leaving a training run's folder half made); a SIGHUP ignored
    (``nohup``) stays ignored. The handlers found are given back after, and the request is forgotten; with
    ``then_exit`` (the command is the process's, which exits next) a stop after it exits at once with the status
    the command set in the ``Outcome`` yielded: a service manager repeating its stop while the interpreter shuts
    down would otherwise end with 143, logged as a failure, a process whose work is done, and a shutdown that
    hangs (waiting on a thread, in an exit function) is still ended by a stop. The last exit function
    (``_end_process``) ends the process with that status without freeing its modules, so nothing hangs after it.
    Handlers belong to the main thread: elsewhere nothing is set."""
    outcome = Outcome()
    if threading.current_thread() is not threading.main_thread():
        yield outcome
        return
    exit_now = _exit_with(outcome)
    if then_exit:  # registered first, run last: the exit functions of libraries the command loads run before it
        atexit.register(_end_process, outcome)
    before = {}
    try:
        held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)  # a stop meanwhile comes once all are ours
        try:
            _asked.clear()
            _kept_only.clear()
            _received.update(stops=0, last_s=-math.inf, first_s=math.nan)
            for number in STOP_SIGNALS:
                if number == signal.SIGHUP and signal.getsignal(number) == signal.SIG_IGN:
                    continue  # started to outlive its terminal (nohup): a hangup is no stop
                before[number] = signal.signal(number, ask_to_stop)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        yield outcome
    finally:
        _kept_only.set()  # a stop between two of these would otherwise leave one handler ours
        for number, handler in before.items():
            if then_exit:
                handler = exit_now
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)  # None: set outside Python
        _asked.clear()
