"""The card's onnx_vs_fitted_max_abs_diff is the difference the export measured between the ONNX graph and the
fitted model, not a constant: computed again here from the installed graph on the export's own probe."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest

from export.physio.export import MODEL_FILE, export_physio, stress_probability
from tests.export.physio.training_inputs import trained_folder


def test_the_card_gives_the_graphs_measured_difference_from_the_fitted_model(tmp_path):
    rng = np.random.default_rng(1)
    weights = {"coef": rng.normal(size=21).tolist(), "intercept": -0.3}
    folder = export_physio(trained_folder(tmp_path, weights, 21), models_dir=tmp_path / "models")
    card = json.loads((folder / "card.json").read_text())
    probe = np.random.default_rng(0).normal(size=(256, 21)).astype(np.float32)  # the export's probe
    session = ort.InferenceSession(str(folder / MODEL_FILE), providers=["CPUExecutionProvider"])
    measured = float(
        np.max(np.abs(session.run(None, {"features": probe})[0][:, 1] - stress_probability(weights, probe)))
    )
    assert 0 < measured < 1e-5
    assert card["metrics"]["onnx_vs_fitted_max_abs_diff"] == pytest.approx(measured)
