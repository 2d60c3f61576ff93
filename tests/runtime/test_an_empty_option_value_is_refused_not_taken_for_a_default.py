"""An empty value (a script's unset variable: `--out "$OUT"`, `--physio "$E4"`, `--fusion "$METHOD"`) is refused naming
the option, as `--weights ""` is, never read as the current folder (what Path("") is) or the config's default."""

import pytest

from runtime.cli import main
from tests.media_factory import write_media
from tests.physio_factory import write_e4


def _exit_code(args):
    """A command's exit status, an option refused by argparse (SystemExit) as one refused by the command."""
    try:
        return main(args)
    except SystemExit as stop:
        return stop.code


def _video(tmp_path):
    return write_media(tmp_path / "v.mp4", None, video_codec="libx264", video_s=1.0)  # a picture alone


def test_an_empty_out_is_refused_not_taken_for_the_current_folder(tmp_path, monkeypatch, capsys):
    video = _video(tmp_path)
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    code = _exit_code(["analyze", str(video), "--out", ""])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert err.strip().splitlines()[-1].endswith("argument --out: an empty path (an unset variable?)")
    assert list(here.iterdir()) == []  # was: timeline.json and timeline.csv written here


def test_an_empty_physio_is_refused_not_read_from_the_current_folder(tmp_path, monkeypatch, capsys):
    video = _video(tmp_path)
    export = write_e4(tmp_path / "e4", duration_s=400.0)
    monkeypatch.chdir(export)  # the current folder happens to be an E4 export
    code = _exit_code(["analyze", str(video), "--out", str(tmp_path / "out"), "--physio", "", "--physio-offset=-15"])
    err = capsys.readouterr().err
    assert code == 2
    assert "argument --physio: an empty path" in err.strip().splitlines()[-1] and "Traceback" not in err
    assert not (tmp_path / "out").exists()  # was: analysed with the current folder's recording as the physio track


def test_an_empty_input_is_said_to_be_empty_not_the_current_folder(tmp_path, capsys):
    code = _exit_code(["analyze", "", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "argument input: an empty path" in err  # was: 'emotrace: error: .: is a folder; give a file'
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [["physio", "classify", "rec.csv", "--csv", ""],
                                     ["extract-audio", "v.mp4", "-o", ""],
                                     ["live", "--replay", "v.mp4", "--out", ""]])
def test_every_commands_path_options_refuse_an_empty_value(command, capsys):
    assert _exit_code(command) == 2  # was: the current folder, written into or read as the file
    assert "an empty path" in capsys.readouterr().err


def test_an_empty_fusion_method_is_refused_not_taken_for_the_configs(tmp_path, capsys):
    video = _video(tmp_path)
    code = _exit_code(["analyze", str(video), "--out", str(tmp_path / "out"), "--fusion", ""])
    err = capsys.readouterr().err
    assert code == 2 and "--fusion" in err  # was: exit 0, fused by fusion.method of the config
    assert not (tmp_path / "out").exists()


def test_a_url_given_for_a_file_is_said_to_be_one(tmp_path, capsys):
    code = _exit_code(["analyze", "https://example.org/session.mp4", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2  # was: 'https:/example.org/session.mp4: no such file', the URL's slashes collapsed
    assert err.strip().splitlines()[-1].endswith(
        "argument input: https://example.org/session.mp4: a URL; give a file or folder on this device")
