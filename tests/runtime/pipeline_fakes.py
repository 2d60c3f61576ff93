"""The file pipeline's arms stood in for: arms that only say they ran (or fail), and an analysis refused before
any of them runs (EXAMPLE: the shipped example session, an input the refusals are tried on)."""

from __future__ import annotations

import pytest

from runtime import pipeline
from runtime.errors import InputError
from runtime.track import Track, Window
from tests.conftest import REPO_ROOT


def fake_arm(name: str, calls: list[str], fails: bool = False):
    def arm(_request):
        calls.append(name)
        if fails:
            raise InputError(f"{name}.csv", "corrupt")
        return Track(name=name, labels=["neutral"], windows=[Window(0.0, 1.0, [1.0], 1.0)])

    return arm


EXAMPLE = REPO_ROOT / "examples" / "session.mp4"


def refused_before_any_arm(monkeypatch, input_path, out, settings, match, extras=None):
    calls: list[str] = []
    arms = [(name, fake_arm(name, calls)) for name in ("audio", "face", "body", "physio")]
    monkeypatch.setattr(pipeline, "ARMS", arms)
    with pytest.raises(InputError, match=match) as refused:
        pipeline.analyze_file(input_path, out, settings, extras=extras)
    assert calls == []
    return refused.value
