"""Fitting scikit-learn models on the training host."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from runtime.stopping import stop_asked

_INTERRUPTED = "Training interrupted by user."  # what sklearn's MLP warns when it swallows a Ctrl-C


def fit_or_interrupt(model: Any, x: np.ndarray, y: np.ndarray, keep_warnings: bool = True) -> Any:
    """``model.fit(x, y)``, but a Ctrl-C (or SIGTERM) during it still stops the run: sklearn's MLP catches it, warns
    and keeps the half-trained network, which a run would otherwise go on to evaluate, report and ship.

    ``keep_warnings=False`` drops the fit's other warnings (e.g. a ConvergenceWarning expected at ``max_iter``).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, y)
    if stop_asked() or any(str(warning.message) == _INTERRUPTED for warning in caught):
        raise KeyboardInterrupt
    if keep_warnings:
        for warning in caught:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return model


def two_class_logits(weights: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two output columns for a two-class sklearn model's one logit column ``weights`` (n_in, 1) and ``bias``
    (1,), which score the second class: softmax over (-z/2, z/2) is sigmoid(z), the model's own probability.
    A graph that ends in a softmax over every label then serves two classes as it serves more."""
    weights, bias = np.asarray(weights), np.asarray(bias).reshape(-1)
    return np.hstack([-weights / 2, weights / 2]), np.concatenate([-bias / 2, bias / 2])
