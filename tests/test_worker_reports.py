"""Reports that a pytest-xdist worker sends: a file name that is not UTF-8 must not end the worker."""

from __future__ import annotations

import os

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
