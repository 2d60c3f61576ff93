"""What the timeline tests share: a software record made at a fixed time, and where a document breaks the timeline's
JSON Schema."""

from __future__ import annotations

from runtime.timeline import software_record, timeline_schema


def fixed_software() -> dict:
    return software_record(0.5, analysed_at_utc="2024-01-01T00:00:00+00:00")


def schema_errors(document: dict) -> list[str]:
    """Where and how ``document`` breaks the timeline's JSON Schema (none: it meets it)."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(timeline_schema())
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(document)]
