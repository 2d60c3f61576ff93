"""A model card whose UA or a class's recall is NaN or Infinity (JSON as Python writes it; the card reader takes it)
must not turn the fused spectrum even (it made every label 1/8). Such a figure is no figure: the modality weighs as
an unmeasured one does (1)."""

from __future__ import annotations

import json

import pytest

from runtime.fusion import make_fuser
from runtime.track import CANONICAL_LABELS, leading_label_index
from tests.fusion.rows import L
from tests.fusion.tracks import labelled_track


@pytest.mark.parametrize("metrics", [{"validation": {"ua": float("nan")}},
                                     {"validation": {"ua": float("inf")}},
                                     {"validation": {"ua": 0.7, "per_class_recall": {"happy": float("nan")}}}])
@pytest.mark.parametrize("method", ["accuracy", "accuracy-class", "quality"])
def test_a_card_figure_that_is_no_finite_number_does_not_flatten_the_fused_spectrum(tmp_path, metrics, method):
    (tmp_path / "card.json").write_text(json.dumps({
        "id": "voice-model", "version": "1", "task": "voice-emotion", "labels": list(CANONICAL_LABELS),
        "files": {}, "metrics": metrics}))
    audio = labelled_track("audio", "happy", 4, 0.5)
    audio.model = {"id": str(tmp_path)}
    face = labelled_track("face", "happy", 4, 0.5)
    fused = make_fuser(method).fuse([audio, face])
    for window in fused.windows:
        assert leading_label_index(window.probs) == L["happy"]
        assert window.probs[L["happy"]] == pytest.approx(0.9)
