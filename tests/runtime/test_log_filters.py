"""``runtime.log_filters.said_once``: the one filter that says a job's repeated lines once."""

import logging
import threading

from runtime.log_filters import said_once


def test_a_line_is_said_once_by_its_key_across_blocks_sharing_a_set_and_unsaid_lines_not_at_all(caplog):
    log = logging.getLogger("test.said_once")
    said: set[str] = set()
    with caplog.at_level("WARNING"):
        for count in (1, 2):
            with said_once([log], said, key=lambda message: message.rstrip("0123456789"),
                           unsaid=lambda record: "cut short" in record.getMessage()):
                log.warning("gap of %d", count)
                log.warning("clip.wav: cut short")
        log.warning("gap of 3")  # outside: no filter
    assert [r.getMessage() for r in caplog.records] == ["gap of 1", "gap of 3"]
    assert said == {"gap of "}


def test_first_time_checks_a_lines_key_and_keeps_the_keys_later_lines_are_checked_by():
    from runtime.log_filters import first_time

    said: set[str] = set()
    # a live session's checkpoints by a reason's words numbers aside, its end by its words as said
    assert first_time(said, "# s lost", "2 s lost", "# s lost")
    assert not first_time(said, "# s lost", "3 s lost", "# s lost")  # a repeat: nothing of it kept
    assert not first_time(said, "2 s lost") and first_time(said, "3 s lost")
    assert said == {"# s lost", "2 s lost", "3 s lost"}


def test_another_threads_lines_pass_the_filter(caplog):
    log = logging.getLogger("test.said_once")
    with caplog.at_level("WARNING"), said_once([log]):
        log.warning("mine")
        log.warning("mine")
        worker = threading.Thread(target=lambda: [log.warning("theirs") for _ in range(2)])
        worker.start()
        worker.join()
    assert [r.getMessage() for r in caplog.records] == ["mine", "theirs", "theirs"]


def test_held_lines_are_said_in_order_after_a_block_that_ends_well_and_never_after_one_that_raises(caplog):
    from runtime.log_filters import held

    log = logging.getLogger("test.held")
    with caplog.at_level("WARNING"):
        with held([log]):
            log.warning("first")
            log.warning("second")
            assert caplog.records == []  # not yet
        try:
            with held([log]):
                log.warning("before the refusal")
                raise ValueError("refused")
        except ValueError:
            pass
        log.warning("after")
    assert [r.getMessage() for r in caplog.records] == ["first", "second", "after"]


def test_held_lines_inside_said_once_are_said_once_not_dropped_as_their_own_repeats(caplog):
    from runtime.log_filters import held

    log = logging.getLogger("test.held")
    with caplog.at_level("WARNING"), said_once([log]):
        with held([log]):
            log.warning("a.wav: quiet")
            log.warning("a.wav: quiet")
        log.warning("a.wav: quiet")  # said in the block: a repeat
    assert [r.getMessage() for r in caplog.records] == ["a.wav: quiet"]
