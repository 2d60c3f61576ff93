"""benchmarks/body_still.py: the body test's still and moving videos, measured by this checkout or another."""

from __future__ import annotations

import pytest

from tests.conftest import REPO_ROOT, load_script


def _body_still():
    return load_script("benchmarks/body_still.py")


def test_a_folder_that_is_no_checkout_is_refused_in_one_line_before_any_video_is_made(tmp_path, monkeypatch):
    body_still = _body_still()
    monkeypatch.setattr(body_still, "make_videos", lambda folder: pytest.fail("videos made"))
    monkeypatch.setattr("sys.argv", ["body_still", "--against", str(tmp_path)])
    with pytest.raises(SystemExit) as ended:
        body_still.main()
    assert ended.value.code == f"{tmp_path}: not a checkout of this project (no runtime/arms/body)"


def test_the_still_video_reads_stiller_than_the_moving_one(tmp_path, monkeypatch):
    body_still = _body_still()
    monkeypatch.syspath_prepend(str(REPO_ROOT))  # measure puts its tree first on sys.path: restored after
    videos = body_still.make_videos(tmp_path)
    still, moving = (body_still.measure(video, REPO_ROOT) for video in videos.values())
    assert len(still) >= 4 and len(moving) >= 4
    assert max(w["movement_overall"] for w in still) < min(w["movement_overall"] for w in moving)
    assert min(w["stillness"] for w in still) > max(w["stillness"] for w in moving)
    # a session still throughout reads low activation, not its noise as many times its usual movement
    assert max(w["activation"] for w in still) < 0.5
