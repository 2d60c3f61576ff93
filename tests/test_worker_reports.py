"""Reports that a pytest-xdist worker sends: a file name that is not UTF-8 must not end the worker."""

from __future__ import annotations

import os

import pytest

from tests.worker_reports import without_surrogates


def test_a_report_naming_a_file_that_is_not_utf8_encodes_as_utf8_with_the_byte_escaped() -> None:
    name = os.fsdecode(b"/tmp/coup\xe9.jpg")
    report = {"sections": [("Captured log call", f"WARNING {name}: cut short")], "nodeid": "t.py::x", "duration": 0.5}
    sent = without_surrogates(report)
    sent["sections"][0][1].encode("utf-8")  # raised UnicodeEncodeError before, as the worker's channel did
    assert sent["sections"] == [("Captured log call", "WARNING /tmp/coup\\udce9.jpg: cut short")]
    assert sent["nodeid"] == "t.py::x" and sent["duration"] == 0.5


def test_a_report_without_surrogates_is_left_as_it_was() -> None:
    report = {"longrepr": {"reprcrash": {"message": "assert 1 == 2 — é"}}, "keywords": {"x": 1}, "when": "call"}
    assert without_surrogates(report) == report


def test_the_suites_hook_escapes_a_surrogate_in_a_report_as_it_is_serialised(pytestconfig) -> None:
    name = os.fsdecode(b"coup\xe9.jpg")
    report = pytest.TestReport(nodeid="t.py::x", location=("t.py", 0, "x"), keywords={}, outcome="passed",
                               longrepr=None, when="call", sections=[("Captured log call", f"WARNING {name}")])
    sent = pytestconfig.hook.pytest_report_to_serializable(config=pytestconfig, report=report)
    # the text a worker sends; without tests/conftest.py's hook the surrogate stays and encoding it raises
    assert sent["sections"] == [("Captured log call", "WARNING coup\\udce9.jpg")]
