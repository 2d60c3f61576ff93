"""The threads helper itself: a worker's failure must fail the test that uses it."""

from __future__ import annotations

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
    assert len(calls) == 60
    assert shown == raised and kept and theirs == []
