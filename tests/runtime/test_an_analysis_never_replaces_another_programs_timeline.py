"""An analysis replaces an earlier analysis's timeline (it can be run again), never a file named timeline.json that
no emotrace run wrote: another program's file would be lost unread."""

import json

import pytest

from runtime.cli import main
from tests.media_factory import write_media


def test_a_timeline_json_no_emotrace_run_wrote_is_refused_and_kept(tmp_path, capsys):
    sound = write_media(tmp_path / "picture.mp4", None, video_codec="libx264", video_s=1.0)
    out = tmp_path / "out"
    out.mkdir()
    (out / "timeline.json").write_text('{"hello": 1}')
    assert main(["analyze", str(sound), "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == (f"emotrace: error: {out}: holds a timeline.json that is no emotrace "
                                               "timeline, which this analysis would replace; give another folder")
    assert (out / "timeline.json").read_text() == '{"hello": 1}'  # was: replaced without a word
    assert sorted(p.name for p in out.iterdir()) == ["timeline.json"]


def test_an_earlier_analysis_is_replaced(tmp_path, capsys):
    sound = write_media(tmp_path / "picture.mp4", None, video_codec="libx264", video_s=1.0)
    out = tmp_path / "out"
    assert main(["analyze", str(sound), "--out", str(out)]) == 0
    earlier = json.loads((out / "timeline.json").read_text())
    earlier["software"]["elapsed_s"] = -1.0  # marked, to be told from the next
    (out / "timeline.json").write_text(json.dumps(earlier))
    assert main(["analyze", str(sound), "--out", str(out)]) == 0
    assert json.loads((out / "timeline.json").read_text())["software"]["elapsed_s"] >= 0


def test_a_timeline_json_that_cannot_be_read_is_refused_as_such(tmp_path, monkeypatch):
    from runtime import checks
    from runtime.errors import InputError

    out = tmp_path / "out"
    out.mkdir()
    (out / "timeline.json").write_text("{}")

    def no_permission(path, *args, **kwargs):  # as for a file of another user's (the tests run as root)
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(checks, "open", no_permission, raising=False)
    # was: 'is no emotrace timeline', of an earlier analysis whose permissions keep it from being read
    with pytest.raises(InputError, match=r"holds a timeline\.json that cannot be read \(Permission denied\), which "
                                         "this analysis would replace; give another folder"):
        checks.refuse_live_session(out)
