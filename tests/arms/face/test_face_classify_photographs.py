"""face classify on photographs as cameras, scanners and Macs leave them."""

import struct

import cv2
import numpy as np
import pytest

from runtime.cli import main
from tests.arms.face.video_factory import astronaut
from tests.memory import peak_traced_bytes


def test_a_16_bit_photograph_is_brought_to_8_bit_without_float_copies_of_it(tmp_path):
    """An 8000x6000 16-bit PNG of 5.8 MB took 2.7 GB (the same as an 8-bit JPEG: 0.47 GB): to_8bit divided it into
    float64 (four times the image) and rounded into another."""
    from runtime.arms.face.classify import to_8bit

    image = np.arange(65536, dtype=np.uint16).repeat(3).reshape(256, 256, 3)  # every 16-bit value
    assert np.array_equal(to_8bit(image, tmp_path / "x.png"), np.round(image / 257.0).astype(np.uint8))
    large = np.tile(image, (8, 8, 1))  # 2048x2048x3, 24 MiB
    assert peak_traced_bytes(to_8bit, large, tmp_path / "x.png") < 3 * large.nbytes


def test_opencvs_own_error_lines_are_never_a_reason_for_a_tiff_turned_by_its_orientation_tag(tmp_path, capsys):
    """A TIFF whose orientation tag turns it by 90 degrees (5-8, a portrait from a camera or scanner): OpenCV 5.1
    fails on it and its error's continuation line ('> Internal imread issue:') was given as the reason."""
    Image = pytest.importorskip("PIL.Image")
    path = tmp_path / "portrait.tiff"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(astronaut()[:, :400]).save(path, exif=exif)  # not square: a square one is read
    code = main(["face", "classify", str(path), "--csv", str(tmp_path / "x.csv")])
    err = capsys.readouterr().err
    assert code == 0 or ("Internal imread issue" not in err and "(>" not in err), err


def test_a_gif_in_a_folder_is_classified_as_one_named_is(tmp_path, capsys):
    """A GIF was classified when named, but under a folder it got neither a row nor a line (a folder of GIFs alone:
    'no images found')."""
    cv2.imwrite(str(tmp_path / "a.png"), cv2.cvtColor(astronaut(), cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(tmp_path / "b.gif"), cv2.cvtColor(astronaut(), cv2.COLOR_RGB2BGR))
    out = tmp_path / "out" / "x.csv"
    out.parent.mkdir()
    assert main(["face", "classify", str(tmp_path), "--csv", str(out)]) == 0
    assert [row.split(",")[0] for row in out.read_text().splitlines()[1:]] == [str(tmp_path / "a.png"),
                                                                                 str(tmp_path / "b.gif")]


APPLE_DOUBLE = struct.pack(">II16sH", 0x00051607, 0x00020000, b"Mac OS X        ", 0)  # macOS's "._name" header


def test_the_macos_metadata_files_beside_each_image_are_no_failed_images(tmp_path, capsys):
    """macOS writes '._a.png' beside 'a.png' on a FAT/exFAT stick or share: each was one more failed image, and the
    batch exited 2 with every picture read."""
    cv2.imwrite(str(tmp_path / "a.png"), cv2.cvtColor(astronaut(), cv2.COLOR_RGB2BGR))
    (tmp_path / "._a.png").write_bytes(APPLE_DOUBLE + b"\0" * 64)
    out = tmp_path / "out" / "x.csv"
    out.parent.mkdir()
    assert main(["face", "classify", str(tmp_path), "--csv", str(out)]) == 0, capsys.readouterr().err


def test_the_pages_of_a_multi_page_tiff_past_the_first_are_said(tmp_path, caplog):
    """A two-page TIFF got one row, for its first page, and not a word of the second."""
    path = tmp_path / "pages.tiff"
    page = cv2.cvtColor(astronaut(), cv2.COLOR_RGB2BGR)
    assert cv2.imwritemulti(str(path), [page, page[::-1].copy()])
    out = tmp_path / "x.csv"
    assert main(["face", "classify", str(path), "--csv", str(out)]) == 0
    assert f"{path}: 2 pages (or frames); the first alone is read" in caplog.messages
    assert len(out.read_text().splitlines()) == 2  # the header and the first page's row


def test_an_image_too_small_even_for_cropped_is_not_told_to_try_cropped(tmp_path):
    """A 10x10 picture: 'a face crop? --cropped reads it as one', and --cropped then said 'crop under 24 px'."""
    cv2.imwrite(str(tmp_path / "tiny.png"), cv2.resize(cv2.cvtColor(astronaut(), cv2.COLOR_RGB2BGR), (10, 10)))
    out = tmp_path / "out" / "x.csv"
    out.parent.mkdir()
    assert main(["face", "classify", str(tmp_path / "tiny.png"), "--csv", str(out)]) == 0
    assert "--cropped" not in out.read_text()
