"""An empty --config (a script's `--config "$CONFIG"` with the variable unset) is refused by argparse naming the
option, as an empty --out is, not read as the current folder ('.: is a folder')."""

import pytest

from runtime.cli import main


@pytest.mark.parametrize("command", [["analyze", "v.mp4", "--out", "out"], ["live", "--out", "out"],
                                     ["audio", "classify", "a.wav", "--csv", "a.csv"]])
def test_an_empty_config_is_refused_naming_the_option(tmp_path, monkeypatch, capsys, command):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main([*command, "--config", ""])
    assert stop.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(
        "argument --config: an empty path (an unset variable?)")
    assert list(tmp_path.iterdir()) == []
