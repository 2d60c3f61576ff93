"""Fixtures shared by the body-export tests: a video scan stood in for by the body windows a test gives."""

from __future__ import annotations

from types import SimpleNamespace

import pytest


@pytest.fixture
def scanned(monkeypatch):
    """Every video scans to the body windows given in ``windows`` (the real scan is minutes of video work)."""
    import runtime.arms.body.arm as body_arm
    import runtime.arms.video.scan as video_scan
    import runtime.media as media

    windows: list[SimpleNamespace] = []
    monkeypatch.setattr(video_scan, "scan_video", lambda *args, **kwargs: None)
    monkeypatch.setattr(video_scan, "video_duration_s", lambda *args: 8.0)
    monkeypatch.setattr(media, "probe", lambda video: SimpleNamespace(end_s=8.0))
    monkeypatch.setattr(body_arm, "body_track", lambda *args: SimpleNamespace(windows=windows))
    return windows
