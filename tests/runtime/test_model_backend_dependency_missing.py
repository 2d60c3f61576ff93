"""A backend package that is installed but cannot import
a module of its own is said as installed but broken, not as "not installed" with an install command that would not
help."""
import importlib

import pytest

from runtime.models.runner import BACKENDS


@pytest.mark.parametrize(("backend", "missing"), [
    ("openvino", "openvino_telemetry"),  # a dependency of the package, not the package
    ("tflite", "numpy.core._multiarray_umath"),  # a numpy built for another version
])
def test_a_backend_missing_a_module_of_its_own_is_installed_but_cannot_be_loaded(monkeypatch, backend, missing):
    def dependency_missing(name):
        raise ModuleNotFoundError(f"No module named {missing!r}", name=missing)

    monkeypatch.setattr(importlib, "import_module", dependency_missing)
    assert BACKENDS[backend].unavailable().startswith(
        f"backend installed but cannot be loaded (No module named {missing!r}): ")
