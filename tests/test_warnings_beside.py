"""The threads helper itself: a worker's failure must fail the test that uses it."""

from __future__ import annotations

import time
import warnings

import pytest

from tests.warnings_beside import warnings_beside


def test_a_failing_worker_fails_the_caller() -> None:
    calls: list[int] = []

    def work() -> None:
        calls.append(1)
        if len(calls) > 3:
            raise ValueError("worker broke")

    with pytest.raises(ValueError, match="worker broke"):
        warnings_beside(work, rounds=50)


def test_workers_that_succeed_run_every_round() -> None:
    calls: list[int] = []
    raised, shown, kept, theirs = warnings_beside(lambda: calls.append(1), rounds=20, workers=3)
    assert len(calls) >= 60
    assert shown == raised and kept and theirs == []


def test_a_short_work_runs_on_until_this_thread_raised_enough_warnings_beside_it() -> None:
    # one round each of an instant work would overlap a warning or two: a filter swap in it could go unseen
    calls: list[int] = []
    raised, shown, _, _ = warnings_beside(lambda: calls.append(1), rounds=1, at_least=150)
    assert raised >= 150 and shown == raised
    assert len(calls) > 2


def test_work_that_swaps_the_filters_is_caught_losing_warnings_of_this_thread() -> None:
    def silenced() -> None:  # the thread-unsafe way to silence a line of one's own
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            time.sleep(0.0002)

    raised, shown, _, _ = warnings_beside(silenced, rounds=1)
    assert shown < raised
