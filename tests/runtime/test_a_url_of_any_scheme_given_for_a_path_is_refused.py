"""A URL of any scheme given for a path (a cloud bucket, a tunnelled repository) is refused naming the option, as an
http one is: its scheme may hold digits and '+', and Path() would collapse its slashes into 'no such file'."""

import pytest

from runtime.cli import main


@pytest.mark.parametrize("url", ["s3://clinic-bucket/session.mp4", "svn+ssh://host/session.mp4"])
def test_a_url_whose_scheme_holds_a_digit_or_a_plus_is_said_to_be_one(tmp_path, capsys, url):
    with pytest.raises(SystemExit) as stop:
        main(["analyze", url, "--out", str(tmp_path / "out")])
    assert stop.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(
        f"argument input: {url}: a URL; give a file or folder on this device")
    assert not (tmp_path / "out").exists()
