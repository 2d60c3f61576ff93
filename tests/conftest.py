"""Shared fixtures: where the real data lies (``../shared/data`` beside the repo, or EMOTRACE_SHARED_DATA)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def analysis_software() -> dict:
    """The software record of an analysis, as a timeline the tests write needs one (the writer asks for it)."""
    from runtime.timeline import software_record

    return software_record(0.0, analysed_at_utc="2026-12-05T09:00:00+00:00")


def shared_data_dir() -> Path:
    return Path(os.environ.get("EMOTRACE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared data not found at {path} (set EMOTRACE_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def ravdess_dir(shared_data: Path) -> Path:
    return shared_data / "speech" / "ravdess"
