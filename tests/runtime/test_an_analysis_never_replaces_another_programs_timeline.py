"""An analysis replaces an earlier analysis's timeline (it can be run again), never a file named timeline.json that
no emotrace run wrote: another program's file would be lost unread."""

import json

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
