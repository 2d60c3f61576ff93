"""Whether work in threads leaves the process-wide warning filters alone, as a live session needs (its checkpoint,
live-stress and video threads run the arms at once): ``warnings.catch_warnings`` swaps those filters and is not
thread-safe, so a thread silencing its own lines that way loses the warnings other threads raise meanwhile."""

from __future__ import annotations

import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable


def warnings_beside(work: Callable[[], object], rounds: int, workers: int = 2,
                    at_least: int = 200) -> tuple[int, int, bool, list[str]]:
    """``work`` run at least ``rounds`` times in each of ``workers`` threads while this thread raises warnings of its
    own, and on until this thread has raised ``at_least`` of them while the workers ran (a short ``work`` would
    otherwise overlap a mere few, and a filter swap in it could go unseen): (how many it raised, how many of them
    were shown, whether the filters are as before, the messages of the warnings the workers raised). A worker's
    exception is raised here once all have stopped: a thread's own would only be a warning, and the worker stopping
    early would lose nothing."""
    failures: list[BaseException] = []
    enough = threading.Event()  # this thread has raised at_least warnings while the workers ran

    def run() -> None:
        try:
            done = 0
            while done < rounds or not (enough.is_set() or failures):
                work()
                done += 1
        except BaseException as failure:  # noqa: BLE001 - any of them fails the caller, raised again below
            failures.append(failure)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        filters = list(warnings.filters)
        threads = [threading.Thread(target=run) for _ in range(workers)]
        for thread in threads:
            thread.start()
        raised = 0
        while any(thread.is_alive() for thread in threads):
            warnings.warn(f"elsewhere {raised}", RuntimeWarning, stacklevel=1)  # what the arms silence: lost to a swap
            raised += 1
            if raised >= at_least:
                enough.set()
            time.sleep(0.0005)  # the workers run between
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]
        assert raised >= at_least, f"only {raised} warnings raised while the workers ran (at least {at_least} wanted)"
        kept = Counter(warnings.filters) == Counter(filters)  # the same ones: an arm may move its own first
    elsewhere = [w for w in caught if str(w.message).startswith("elsewhere ")]
    return raised, len(elsewhere), kept, [str(w.message) for w in caught if w not in elsewhere]
