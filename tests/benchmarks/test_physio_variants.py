"""The stress variants benchmark's extra statistics run on an E4 export (they read the device's feature code,
whose private helpers may change shape: the benchmark must change with them)."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import registered_script
from tests.physio_factory import write_e4


@pytest.fixture(scope="module")
def variants():
    with registered_script("benchmarks/physio_variants.py") as module:  # its dataclasses look their module up
        yield module


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """A Stress-Predict-shaped folder holding one synthetic ten-minute E4 export, raw/S99.zip."""
    root = tmp_path_factory.mktemp("stress_predict")
    folder = write_e4(root / "S99", duration_s=600.0)
    (root / "raw").mkdir()
    with zipfile.ZipFile(root / "raw" / "S99.zip", "w") as archive:
        for path in folder.iterdir():
            archive.write(path, path.name)
    return root


@pytest.mark.parametrize("statistics", ["respiration", "eda sympathetic"])
def test_the_extra_statistics_run_on_an_e4_export_window_by_window(variants, data_dir, statistics):
    starts_s = np.arange(0.0, 540.0, 30.0)
    out = variants.EXTRA_STATISTICS[statistics](data_dir, "S99", starts_s, 30.0)  # was: a TypeError (_segments)
    assert out.shape[0] == starts_s.size
    assert np.isfinite(out[5:-5, 0]).all()  # windows inside the recording get a figure


def test_a_registered_script_is_in_sys_modules_while_used_and_out_of_it_after():
    assert "body_still" not in sys.modules
    with registered_script("benchmarks/body_still.py") as module:
        assert sys.modules["body_still"] is module
    assert "body_still" not in sys.modules
