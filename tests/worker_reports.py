"""Test reports as pytest-xdist sends them from a worker: text that can travel as UTF-8."""

from __future__ import annotations

from typing import Any


def without_surrogates(value: Any) -> Any:
    """``value`` (a report serialised to dicts, lists and strings) with every lone surrogate written as its escape.

    A file name that is not UTF-8 reads back with surrogates (``coup\\udce9.jpg``); a test that logs or prints it
    would otherwise make the worker's channel fail to encode the report, and the worker dies with the tests it had
    left."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {without_surrogates(key): without_surrogates(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(without_surrogates(item) for item in value)
    return value
