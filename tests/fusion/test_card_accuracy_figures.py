"""Which of a model card's figures weigh a modality in accuracy fusion, and how: per-class recall as a margin over
chance, the quantized entry before the float one, and no figure from another variant of a card that splits them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from runtime.fusion.methods import AccuracyWeightedFusion, card_metrics_or_reason
from runtime.track import CANONICAL_LABELS, Track
from tests.fusion.rows import ALL, L, inputs, one_hotish


def _card(folder, metrics, files=None):
    folder.mkdir(exist_ok=True)
    files = files or {}
    (folder / "card.json").write_text(json.dumps({
        "id": "voice-model", "version": "1", "task": "voice-emotion", "labels": list(CANONICAL_LABELS),
        "files": files, "sha256": {variant: "a" * 64 for variant in files}, "metrics": metrics}))
    return folder


def test_a_per_class_weight_is_that_class_recall_less_chance_not_the_recall_itself():
    data = inputs([[one_hotish("sad", 0.7)]], supported=[ALL])
    fuser = AccuracyWeightedFusion(per_class=True, metrics={"audio": {"ua": 0.5, "per_class_recall": {"sad": 0.3}}})
    weights = fuser.weights(data)
    assert weights[0, L["sad"]] == pytest.approx(0.3 - 1 / 8)
    assert weights[0, L["happy"]] == pytest.approx(0.5 - 1 / 8)  # no recall for it: the UA's margin


def test_a_card_measuring_float_and_int8_alike_weighs_by_the_int8_figure_the_device_runs(tmp_path):
    folder = _card(tmp_path / "voice", {"validation": {"float": {"ua": 0.9}, "int8": {"ua": 0.6}}})
    found, why = card_metrics_or_reason(Track("audio", model={"id": str(folder)}))
    assert found is not None, why
    assert found["ua"] == pytest.approx(0.6)


def test_a_card_that_splits_by_variant_gives_no_figure_for_a_variant_it_does_not_measure(tmp_path):
    folder = _card(tmp_path / "voice", {"cv": {"none/window": {"ua": 0.55}}},
                   files={"session": "session.onnx", "none": "none.onnx"})
    track = Track("audio", model={"id": str(folder), "variant": "session"})
    found, why = card_metrics_or_reason(track)
    assert found is None and "session" in why
    fuser = AccuracyWeightedFusion()
    fuser.prepare([track])
    assert "audio" not in fuser.metrics
    assert np.all(fuser.weights(inputs([[one_hotish("sad", 0.7)]])) == 1.0)  # unmeasured: weight 1
