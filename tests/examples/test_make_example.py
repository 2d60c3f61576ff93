import os
import subprocess
import sys

import numpy as np

from tests.conftest import REPO_ROOT, load_script


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


def _example_maker():
    return load_script("examples/make_example.py")


def test_every_frame_of_the_example_with_the_photograph_shows_a_whole_square_crop_of_it():
    # was: the zoom fell below 1 for most of 10-20 s and 30-40 s, the crop outgrew the 512-px photograph, x0 went
    # negative and the slice was a thin strip stretched to a square, with no face in it (frames at 12, 15, 33 s)
    example = _example_maker()
    image = np.arange(512 * 512 * 3, dtype=np.uint32).reshape(512, 512, 3).astype(np.uint8)
    patches = {}

    def keep(patch, side_px):
        patches[t_s] = patch.shape
        return np.zeros((side_px, side_px, 3), dtype=np.uint8)

    for i in range(int(example.DURATION_S * example.FPS)):
        t_s = i / example.FPS
        frame = example.picture(t_s, image, resize_square=keep)
        assert frame.shape == (*example.SIZE, 3)
    assert set(patches) == {i / 10 for i in range(400)} - {i / 10 for i in range(240, 280)}  # only 24-28 s: no face
    for t_s, shape in patches.items():
        assert shape[0] == shape[1] and 512 / 1.15 - 1 <= shape[0] <= 512, (t_s, shape)
