"""A missing model is refused before any arm runs naming the very setting that named it (face.detector,
face.iris, ...), not the arm's main model setting; a fusion model is not asked for where nothing is fused."""

from __future__ import annotations

import pytest

from runtime import pipeline
from runtime.config import load_settings
from tests.runtime.pipeline_fakes import EXAMPLE, fake_arm, refused_before_any_arm


@pytest.mark.parametrize("setting", ["face.detector", "face.iris", "face.landmarks", "body.detector",
                                     "body.landmarks"])
def test_a_missing_model_is_refused_naming_its_own_setting(tmp_path, monkeypatch, setting):
    settings = load_settings(None, {setting: "./no-such-model-folder"})
    error = refused_before_any_arm(monkeypatch, EXAMPLE, tmp_path / "out", settings,
                                   f"setting '{setting}' = './no-such-model-folder'")
    assert error.source == "command line"


@pytest.mark.parametrize("overrides, fuse", [({"fusion.enabled": False}, True), ({}, False)])
def test_a_fusion_model_is_not_asked_for_where_nothing_is_fused(tmp_path, monkeypatch, overrides, fuse):
    # fusion switched off, or an analysis asked not to fuse: its model's setting plays no part
    monkeypatch.setattr(pipeline, "ARMS", [("audio", fake_arm("audio", [])), ("face", fake_arm("face", []))])
    settings = load_settings(None, {"fusion.model": "./no-such-fusion-model", "body.enabled": False, **overrides})
    timeline = pipeline.analyze_file(EXAMPLE, tmp_path / "out", settings, fuse=fuse)
    assert [t.name for t in timeline.tracks] == ["audio", "face"]
