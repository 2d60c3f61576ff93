"""The product of experts' temperature is fitted over the labels a modality supports, the true label looked up
among them: a face without calm is fitted as a seven-label model, whatever the index of its labels among eight."""

from __future__ import annotations

import numpy as np
import pytest

from runtime.fusion.methods import fit_temperature
from tests.fusion.rows import NO_CALM


def test_a_modality_without_calm_gets_the_temperature_of_its_own_seven_labels():
    rng = np.random.default_rng(0)
    n = 300
    seven = np.flatnonzero(NO_CALM)
    truth7 = rng.integers(0, 7, n)
    logits = rng.normal(0.0, 1.0, (n, 7))
    logits[np.arange(n), truth7] += 2.5
    p7 = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    probs = np.zeros((n, 8))
    probs[:, seven] = p7
    targets = seven[truth7]  # canonical indices: never calm; surprised is 7
    assert fit_temperature(probs, targets, NO_CALM) == pytest.approx(
        fit_temperature(p7, truth7, np.ones(7, dtype=bool)), rel=1e-6)
