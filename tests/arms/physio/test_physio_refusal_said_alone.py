"""A refused recording is said in one line, as every bad input is: no warning about its columns, its readings or
where it would have been placed comes before the refusal (a channel sampled too slowly for its processing; too short a
video beside a recording placed by assumption)."""

from __future__ import annotations

import logging
from pathlib import Path

from runtime.cli import main
from tests.media_factory import cut_short, tone, write_media
from tests.physio_factory import START_UNIX_S

CONFIG = "[audio]\nenabled = false\n[face]\nenabled = false\n[body]\nenabled = false\n"


def _slow_eda_csv(path: Path) -> Path:
    """10 minutes of skin conductance at 0.5 Hz beside a column no reader knows (a logger's battery) and a heart rate
    whose first readings are a wearable's 0 ("no reading"): each of the two is a warning when the file is read."""
    rows = [f"{START_UNIX_S + 2 * i:.1f},{2.0 + 0.01 * (i % 7):.3f},95,{0 if i < 5 else 70}" for i in range(300)]
    path.write_text("timestamp,eda,battery,hr\n" + "\n".join(rows) + "\n")
    return path


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_physio_classify_refuses_a_channel_too_slow_in_one_line_with_no_warning_before_it(tmp_path, capsys, caplog):
    recording = _slow_eda_csv(tmp_path / "slow.csv")
    with caplog.at_level("WARNING"):
        assert main(["physio", "classify", str(recording), "--csv", str(tmp_path / "out.csv")]) == 2
    # was: the battery column's and the 0 bpm readings' warnings, then the refusal
    assert _warnings(caplog) == []
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1 and "slow.csv: eda sampled at 0.5 Hz (a value every 2 s); it needs 1 Hz or more" in said[0]
    assert not (tmp_path / "out.csv").exists()


def test_analyze_refuses_a_recording_with_a_channel_too_slow_in_one_line_not_after_its_placement(tmp_path, capsys,
                                                                                                  caplog):
    recording = _slow_eda_csv(tmp_path / "slow.csv")
    video = write_media(tmp_path / "session.mkv", tone(40.0), video_codec="libx264", video_s=40.0)
    (tmp_path / "c.toml").write_text(CONFIG)
    with caplog.at_level("WARNING"):
        assert main(["analyze", str(video), "--out", str(tmp_path / "out"), "--config", str(tmp_path / "c.toml"),
                     "--physio", str(recording)]) == 2
    # was: the two reader warnings and 'assumed: recording and video start together ...; give --physio-offset
    # SECONDS if they did not' (advice on placing a recording that is refused), then the refusal
    assert [w for w in _warnings(caplog) if "slow.csv" in w] == []
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1 and "slow.csv: eda sampled at 0.5 Hz" in said[0]
    assert not (tmp_path / "out").exists()


def test_analyze_refuses_a_recording_too_short_a_video_leaves_no_window_of_in_one_line(tmp_path, capsys, caplog):
    """A 10 s video beside a recording with no wall-clock start: both assumed to start together, no 30 s window has
    its centre in the video. The refusal says how the offset was found; no warning line says it before."""
    rows = [f"{i / 4:.2f},{2.0 + 0.01 * (i % 7):.3f}" for i in range(4 * 600)]
    recording = tmp_path / "rel.csv"
    recording.write_text("time_s,eda\n" + "\n".join(rows) + "\n")
    video = write_media(tmp_path / "session.mkv", tone(10.0), video_codec="libx264", video_s=10.0)
    (tmp_path / "c.toml").write_text(CONFIG)
    with caplog.at_level("WARNING"):
        assert main(["analyze", str(video), "--out", str(tmp_path / "out"), "--config", str(tmp_path / "c.toml"),
                     "--physio", str(recording)]) == 2
    assert [w for w in _warnings(caplog) if "rel.csv" in w] == []  # was: 'assumed: recording and video start ...'
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1 and "rel.csv: overlaps the video too little for one physio window" in said[0]
    assert "(assumed: recording and video start together" in said[0]
    assert not (tmp_path / "out").exists()


def test_a_recording_refused_after_a_video_cut_short_is_said_in_one_line(tmp_path, capsys, caplog):
    rows = [f"{i / 4:.2f},{2.0 + 0.01 * (i % 7):.3f}" for i in range(4 * 600)]
    recording = tmp_path / "rel.csv"
    recording.write_text("time_s,eda\n" + "\n".join(rows) + "\n")
    video = cut_short(write_media(tmp_path / "session.mkv", tone(60.0, 16000), 16000, "aac", video_codec="libx264",
                                  video_s=60.0), 0.2)
    (tmp_path / "c.toml").write_text("[face]\nenabled = false\n[body]\nenabled = false\n")
    with caplog.at_level(logging.WARNING):
        assert main(["analyze", str(video), "--out", str(tmp_path / "out"), "--config", str(tmp_path / "c.toml"),
                     "--physio", str(recording)]) == 2
    # the video, read to 12 of its header's 60 s, leaves no window: was 'assumed: ...' said before the refusal
    assert [r.getMessage() for r in caplog.records if "rel.csv" in r.getMessage()] == []
    said = capsys.readouterr().err.strip().splitlines()
    assert said[-1].startswith(f"emotrace: error: {recording}: overlaps the video too little for one physio window")
    assert "(assumed: recording and video start together" in said[-1]
