"""Shared fixtures: where the real data lies (``../shared/data`` beside the repo, or EMOTRACE_SHARED_DATA)."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def load_script(relative_path: str, register: bool = False) -> ModuleType:
    """A script of the repository that is no package module (``benchmarks/x.py``, ``examples/x.py``), loaded under
    its file's stem; with ``register``, put in ``sys.modules`` under it before it runs (a script's dataclasses look
    their module up there as they are made): ``registered_script`` takes it out again."""
    path = REPO_ROOT / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    if register:
        sys.modules[path.stem] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if register:
            sys.modules.pop(path.stem, None)
        raise
    return module


@contextmanager
def registered_script(relative_path: str) -> Iterator[ModuleType]:
    """``load_script``'s module registered in ``sys.modules`` meanwhile, and out of it after: no later test finds
    it there."""
    module = load_script(relative_path, register=True)
    try:
        yield module
    finally:
        sys.modules.pop(module.__name__, None)


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


def shared_corpus(shared_data: Path, folder: str, corpus: str, holds: tuple[str, ...]) -> Path:
    """``shared_data / folder``, or the test skipped naming the corpus where it lacks any of ``holds`` (glob
    patterns, each to match at least once): a shared folder without one corpus skips the tests of that corpus, as
    one without the shared data skips them all, rather than fail them on the first file they look for."""
    path = shared_data / folder
    if not path.is_dir():
        pytest.skip(f"{corpus} not found: no folder {path} (set EMOTRACE_SHARED_DATA)")
    lacking = [pattern for pattern in holds if next(path.glob(pattern), None) is None]
    if lacking:
        pytest.skip(f"{corpus} not found whole at {path}: nothing matches {', '.join(lacking)}")
    return path


@pytest.fixture(scope="session")
def ravdess_dir(shared_data: Path) -> Path:
    """RAVDESS speech: ``Actor_XX/03-01-*.flac``."""
    return shared_corpus(shared_data, "speech/ravdess", "RAVDESS", ("Actor_*/03-01-*.flac",))


@pytest.fixture(scope="session")
def fer2013_dir(shared_data: Path) -> Path:
    """FER-2013: ``Training/`` and ``PublicTest/``, a folder of PNGs per class."""
    return shared_corpus(shared_data, "images/fer2013", "FER-2013", ("Training/*/*.png", "PublicTest/*/*.png"))


@pytest.fixture(scope="session")
def stress_predict_dir(shared_data: Path) -> Path:
    """Stress-Predict: ``raw/SXX.zip`` E4 exports and ``labels/``."""
    return shared_corpus(shared_data, "physio/stress_predict", "Stress-Predict", ("raw/S*.zip", "labels/*.csv"))


@pytest.hookimpl(hookwrapper=True)
def pytest_report_to_serializable(config, report):
    """Reports leave a pytest-xdist worker as UTF-8: a test that printed a file name that is not UTF-8 (a surrogate)
    would otherwise end the worker."""
    from tests.worker_reports import without_surrogates

    outcome = yield
    serialised = outcome.get_result()
    if serialised is not None:
        outcome.force_result(without_surrogates(serialised))
