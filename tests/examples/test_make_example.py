import os
import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_the_example_maker_without_espeak_ng_says_so_in_one_line_and_writes_nothing(tmp_path):
    # was: a FileNotFoundError traceback from deep in the speech track
    no_programs = tmp_path / "bin"
    no_programs.mkdir()
    out = tmp_path / "session.mp4"
    run = subprocess.run([sys.executable, str(REPO_ROOT / "examples" / "make_example.py"), str(out)],
                         capture_output=True, text=True, timeout=120, env={**os.environ, "PATH": str(no_programs)})
    assert run.returncode != 0
    assert run.stderr.splitlines() == [
        "make_example: espeak-ng not found: it speaks the example's sentences (apt-get install espeak-ng)"]
    assert not out.exists()
