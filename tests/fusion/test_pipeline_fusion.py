"""The pipeline adds the fused track after the arms, as the [fusion] settings say."""

from __future__ import annotations

import json

import pytest

import runtime.pipeline as pipeline
from export.fusion.synthetic import synthetic_track
from runtime.config import load_settings
from runtime.track import CANONICAL_LABELS
from tests.conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "session.mp4"


@pytest.fixture
def two_arms(monkeypatch):
    targets = [CANONICAL_LABELS.index("sad")] * 5
    arms = [
        ("audio", lambda request: synthetic_track("audio", targets, 3.0, hop_s=2.0)),
        ("face", lambda request: synthetic_track("face", targets, 3.0, hop_s=2.0, unsupported=["calm"], seed=1)),
    ]
    monkeypatch.setattr(pipeline, "ARMS", arms)


@pytest.mark.skipif(not EXAMPLE.is_file(), reason="examples/session.mp4 not in this checkout")
def test_analyze_writes_a_fused_track_beside_the_arms(two_arms, tmp_path):
    settings = load_settings(None)
    settings.setdefault("face", {})["enabled"] = True  # the fake face arm runs whether or not the face arm exists
    timeline = pipeline.analyze_file(EXAMPLE, tmp_path, settings)
    assert [t.name for t in timeline.tracks] == ["audio", "face", "fused"]
    stored = json.loads((tmp_path / "timeline.json").read_text())
    fused = next(t for t in stored["tracks"] if t["name"] == "fused")
    assert fused["settings"]["method"] == settings["fusion"]["method"]
    assert "valence" in fused["windows"][0]["measurements"]
    csv_lines = (tmp_path / "timeline.csv").read_text().splitlines()
    assert "incongruent" in csv_lines[0] and any(line.startswith("fused,") for line in csv_lines)


@pytest.mark.skipif(not EXAMPLE.is_file(), reason="examples/session.mp4 not in this checkout")
def test_fusion_can_be_switched_off(two_arms, tmp_path):
    settings = load_settings(None, {"fusion.enabled": False})
    settings.setdefault("face", {})["enabled"] = True
    timeline = pipeline.analyze_file(EXAMPLE, tmp_path, settings)
    assert "fused" not in [t.name for t in timeline.tracks]
