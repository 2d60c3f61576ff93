"""``emotrace evaluate face``: an expression model scored on labelled faces, read as training reads a split, judged
as ``face classify --cropped`` judges an image; what cannot be scored is said."""

import csv
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from export.face.fer_digests import read_digests, write_digests
from runtime.arms.face.expression import ExpressionModel
from runtime.cli import main
from runtime.models.card import REPO_MODELS_DIR
from tests.export.evaluations import evaluated, one_label_probs
from tests.export.face.tiny_fer import write_fer
from tests.memory import peak_traced_bytes

SEVEN = ["neutral", "happy", "sad", "angry", "fearful", "disgust", "surprised"]


@pytest.fixture
def fer(tmp_path):
    """Two FER-2013 splits of two images a class; the 'angry' class (the darkest, mean grey 30) is too dark to read."""
    return write_fer(tmp_path / "fer", {"Training": 2, "PublicTest": 2})


@pytest.fixture
def digests(fer, tmp_path, monkeypatch):
    """The tiny FER-2013's Training and PublicTest pixel digests, made as the shipped file is made, in its place."""
    path = write_digests(fer, tmp_path / "digests.npz")
    monkeypatch.setattr("export.face.fer_digests.DIGESTS_FILE", path)
    return path


class _OneLabelModel:
    """Stands in for an expression model of 48-px input that reads every crop as the same label, 90 % sure."""

    input_sides_px = (48,)

    def __init__(self, labels: list[str], says: str, trained_on: str | None = None, selection: str | None = None):
        self.labels, self.members = labels, []
        self.says = labels.index(says)
        extra = {"training": {"data": {"train": trained_on, "selection": selection}}} if trained_on else {}
        self.card = SimpleNamespace(id="one", version="1", folder=REPO_MODELS_DIR / "one", extra=extra)
        self.crops = 0

    def fitted(self, crop: np.ndarray) -> dict[int, np.ndarray]:
        return ExpressionModel.fitted(self, crop)  # as the model's: what it keeps of a crop

    def predict(self, crops) -> np.ndarray:
        self.crops += len(crops)
        return one_label_probs(len(crops), len(self.labels), self.says)


def _evaluate(monkeypatch, model, data, out, *options):
    monkeypatch.setattr("export.face.evaluate.ExpressionModel", lambda location: model)
    return evaluated("face", data, out, *options)


def test_a_model_that_always_says_one_label_scores_one_over_k_and_dark_faces_count_wrong(fer, tmp_path, monkeypatch,
                                                                                           capsys):
    model = _OneLabelModel(SEVEN, "happy")
    code, report = _evaluate(monkeypatch, model, fer / "PublicTest", tmp_path / "out")
    assert code == 0
    assert report["images"] == 14 and report["no_claim"] == 2 and model.crops == 12  # the dark ones never judged
    assert report["ua"] == pytest.approx(1 / 7) and report["accuracy"] == pytest.approx(2 / 14)
    # 12 crops 90 % sure and right twice; 2 without a claim, uniform and wrong
    assert report["ece"] == pytest.approx(12 / 14 * (0.9 - 2 / 12) + 2 / 14 * (1 / 7))
    # FER-2013's folder names 'fear' and 'surprise' are the model's 'fearful' and 'surprised'
    assert report["image_counts"] == dict.fromkeys(SEVEN, 2)
    assert report["recall"]["happy"] == 1.0 and report["recall"]["angry"] == 0.0
    assert [row[1] for row in report["confusion"]["rows_true_cols_pred"]] == [2, 2, 2, 0, 2, 2, 2]
    assert {item["reason"].split(" (")[0] for item in report["unclaimed"]} == {"face too dark to read its expression"}
    assert all("row" in item for item in report["unclaimed"])
    out = capsys.readouterr().out
    assert "UA 0.143 (95 % over images" in out
    assert "2 image(s) the model could not read as a face, counted wrong" in out
    assert "the 95 % intervals resample images (200 draws), not people: FER-2013 records no identities" in out
    assert "whether these images are held out is unknown" in out  # the stand-in's card names no training data
    assert "| happy | 2 | 1.000 |" in (tmp_path / "out" / "face_evaluation.md").read_text()


def test_images_whose_label_the_model_lacks_are_counted_and_said_not_scored(fer, tmp_path, monkeypatch, capsys):
    model = _OneLabelModel([label for label in SEVEN if label != "disgust"], "happy")
    code, report = _evaluate(monkeypatch, model, fer / "PublicTest", tmp_path / "out")
    assert code == 0
    assert report["outside_model_labels"] == {"disgust": 2} and report["images_read"] == 14 and report["images"] == 12
    assert "images with labels the model does not have, left out of the figures: disgust 2" in capsys.readouterr().out


def test_a_csv_names_emotions_in_any_word_the_label_lists_know_and_says_what_it_cannot_score(fer, tmp_path,
                                                                                            monkeypatch, capsys):
    happy, sad = sorted((fer / "PublicTest" / "happy").glob("*.png")), sorted((fer / "PublicTest" / "sad").glob("*"))
    rows = [(happy[0], "Joy"), (happy[1], "happy"), (sad[0], "Sadness"), (sad[1], "contempt")]
    data = tmp_path / "clinic" / "faces.csv"
    data.parent.mkdir()
    with open(data, "w", newline="") as handle:
        csv.writer(handle).writerows([("path", "emotion"), *((str(path), word) for path, word in rows)])
    code, report = _evaluate(monkeypatch, _OneLabelModel(SEVEN, "happy"), data, tmp_path / "out")
    assert code == 0
    assert report["images"] == 3 and report["image_counts"]["happy"] == 2 and report["image_counts"]["sad"] == 1
    assert report["outside_model_labels"] == {"contempt": 1}
    assert report["ua"] == pytest.approx(0.5)  # happy right, sad wrong
    assert report["predictions"][0]["path"] == str(happy[0])
    out = capsys.readouterr().out
    assert "left out of the figures: contempt 1" in out
    assert "model labels with no image in the set, not judged (UA is over the others): neutral, angry" in out


def _copy(source, destination):
    shutil.copytree(source, destination)
    return destination


def test_training_images_are_known_by_their_pixels_whatever_their_folder_is_called(fer, digests, tmp_path,
                                                                                    monkeypatch, capsys):
    data = _copy(fer / "Training", tmp_path / "kaggle" / "train")  # was: no note, read as held out
    model = _OneLabelModel(SEVEN, "happy", trained_on="FER-2013 Training")
    code, report = _evaluate(monkeypatch, model, data, tmp_path / "out")
    assert code == 0 and report["is_training_split"] and report["trained_on"] == ["FER-2013 Training"]
    assert report["training_copies"]["images"] == 14 and "ua_without" not in report["training_copies"]
    assert "all 14 images are pixel-for-pixel copies of FER-2013 Training images the model learnt from: these " \
           "figures are not held-out ones" in capsys.readouterr().out


def test_a_test_split_in_a_folder_named_training_is_not_called_the_training_split(fer, digests, tmp_path,
                                                                                  monkeypatch, capsys):
    data = _copy(fer / "PublicTest", tmp_path / "mine" / "Training")  # was: 'this is the split the model was ...'
    code, report = _evaluate(monkeypatch, _OneLabelModel(SEVEN, "happy", trained_on="FER-2013 Training"), data,
                             tmp_path / "out")
    assert code == 0 and not report["is_training_split"] and report["training_copies"] is None
    assert "not held-out" not in capsys.readouterr().out


def test_copies_of_training_images_are_counted_with_the_figures_without_them_with_no_training_split_beside(
        fer, digests, tmp_path, monkeypatch, capsys):
    data = _copy(fer / "PublicTest", tmp_path / "alone" / "PrivateTest")  # was: never checked without Training beside
    training_happy = sorted((fer / "Training" / "happy").glob("*.png"))[0]
    shutil.copy(training_happy, data / "happy" / "99999.png")  # FER-2013's PublicTest holds 280
    model = _OneLabelModel(SEVEN, "happy", trained_on="FER-2013 Training")
    code, report = _evaluate(monkeypatch, model, data, tmp_path / "out")
    assert code == 0 and not report["is_training_split"] and report["images"] == 15  # the copy is scored
    copies = report["training_copies"]
    assert copies["images"] == 1 and copies["split"] == "FER-2013 Training"
    assert copies["accuracy_without"] == pytest.approx(2 / 14) and report["accuracy"] == pytest.approx(3 / 15)
    assert "1 image(s) are pixel-for-pixel copies of FER-2013 Training images the model learnt from, scored with " \
           "the rest: not held-out; without them (14 images): UA 0.143, accuracy 0.143" in capsys.readouterr().out


def test_images_of_the_split_the_model_was_selected_on_are_said_to_give_optimistic_figures(fer, digests, tmp_path,
                                                                                          monkeypatch, capsys):
    data = _copy(fer / "PublicTest", tmp_path / "clinic" / "faces")
    shutil.copy(sorted((fer / "Training" / "sad").glob("*.png"))[0], data / "sad" / "99999.png")
    model = _OneLabelModel(SEVEN, "happy", trained_on="FER-2013 Training",
                           selection="FER-2013 PublicTest without its 1 copies of Training images")
    code, report = _evaluate(monkeypatch, model, data, tmp_path / "out")
    assert code == 0 and report["selection_copies"]["images"] == 14 and report["training_copies"]["images"] == 1
    assert "14 image(s) are copies of FER-2013 PublicTest images, the split the model was selected on: figures on " \
           "them are optimistic" in capsys.readouterr().out


def test_training_data_the_digests_do_not_cover_is_said_to_be_unchecked(fer, digests, tmp_path, monkeypatch, capsys):
    model = _OneLabelModel(SEVEN, "happy", trained_on="AffectNet train")
    code, report = _evaluate(monkeypatch, model, fer / "Training", tmp_path / "out")
    assert code == 0 and report["unchecked_training_data"] == ["AffectNet train"] and not report["is_training_split"]
    assert "digests do not cover (AffectNet train): whether these images are copies of it was not checked" in \
        capsys.readouterr().out


def test_an_ensemble_member_naming_no_training_data_leaves_the_others_copies_counted_and_is_named(
        fer, digests, tmp_path, monkeypatch, capsys):
    data = _copy(fer / "PublicTest", tmp_path / "alone" / "PrivateTest")
    shutil.copy(sorted((fer / "Training" / "happy").glob("*.png"))[0], data / "happy" / "99999.png")
    ensemble = _OneLabelModel(SEVEN, "happy")
    member = _OneLabelModel(SEVEN, "happy", trained_on="FER-2013 Training")
    other = _OneLabelModel(SEVEN, "happy")
    other.card.id = "other"
    ensemble.members = [member, other]
    code, report = _evaluate(monkeypatch, ensemble, data, tmp_path / "out")
    assert code == 0 and report["training_copies"]["images"] == 1  # was: none counted, 'held out is unknown'
    assert report["cards_naming_no_training_data"] == ["other"]
    assert "the card of other names no training data: whether these images are held out from it is unknown" in \
        capsys.readouterr().out


def test_a_missing_digest_file_is_one_line_naming_it_not_a_note_that_it_covers_nothing(fer, tmp_path, monkeypatch,
                                                                                      capsys):
    missing = tmp_path / "gone.npz"
    monkeypatch.setattr("export.face.fer_digests.DIGESTS_FILE", missing)
    model = _OneLabelModel(SEVEN, "happy", trained_on="FER-2013 Training")
    code, _report = _evaluate(monkeypatch, model, fer / "PublicTest", tmp_path / "out")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and f"{missing}: missing or unreadable" in err[0]
    assert not (tmp_path / "out").exists()


def test_a_card_naming_fer2013_with_no_split_is_unchecked_not_a_traceback():
    from export.face.evaluate import copies

    masks, unchecked = copies(np.zeros(1, np.uint64), {"FER-2013  "}, {"Training": np.array([], np.uint64)})
    assert masks == {} and unchecked == ["FER-2013  "]  # was: IndexError


def test_the_digest_file_is_made_by_its_command_and_the_shipped_one_covers_fer2013(fer, tmp_path, capsys):
    from export.face.data import load_split, pixel_digests
    from export.face.fer_digests import DIGESTS_FILE
    from export.face.fer_digests import main as make

    make([str(fer), "--out", str(tmp_path / "d.npz")])
    assert capsys.readouterr().out.strip() == f"{tmp_path / 'd.npz'}: Training 14, PublicTest 14"
    made = read_digests(tmp_path / "d.npz")
    assert set(made["Training"]) == set(pixel_digests(load_split(fer, "Training").images))
    shipped = read_digests(DIGESTS_FILE)  # FER-2013's distinct Training and PublicTest images
    assert len(shipped["Training"]) == 27473 and len(shipped["PublicTest"]) == 3563
    assert shipped["Training"].dtype == np.uint64 and DIGESTS_FILE.stat().st_size < 400_000


def test_class_folders_are_read_whatever_their_case(fer, tmp_path, monkeypatch):
    data = _copy(fer / "PublicTest", tmp_path / "Mine")
    for folder in list(data.iterdir()):
        folder.rename(data / folder.name.capitalize())  # Angry/, Fear/, ...: was refused
    code, report = _evaluate(monkeypatch, _OneLabelModel(SEVEN, "happy"), data, tmp_path / "out")
    assert code == 0 and report["image_counts"] == dict.fromkeys(SEVEN, 2)


def test_the_shipped_model_judges_each_image_as_face_classify_cropped_does(fer, tmp_path):
    from runtime.arms.face.classify import classify_paths

    out = tmp_path / "out"
    assert main(["evaluate", "face", str(fer / "PublicTest"), "--out", str(out), "--resamples", "50",
                 "--models-dir", str(REPO_MODELS_DIR), "--model", "face-expression"]) == 0
    report = json.loads((out / "face_evaluation.json").read_text())
    assert report["model"]["id"] == "face-expression" and report["trained_on"] == ["FER-2013 Training"]
    classify_paths([fer / "PublicTest"], tmp_path / "classified.csv", cropped=True)
    with open(tmp_path / "classified.csv", newline="") as handle:
        classified = {int(row["path"].rsplit("/", 1)[1][:-4]): row["emotion"] or None for row in csv.DictReader(handle)}
    assert {item["row"]: item["predicted"] for item in report["predictions"]} == classified
    assert report["no_claim"] == 2


@pytest.mark.parametrize("make, said", [
    (lambda fer: fer / "PrivateTest", "no such FER-2013 split folder or path,emotion CSV"),
    (lambda fer: fer, "holds split folders (PublicTest, Training), not class folders: give one split"),  # the root
    (lambda fer: (fer / "fer2013.csv", (fer / "fer2013.csv").write_text("emotion,pixels,Usage\n0,1,x\n"))[0],
     "is FER-2013's own CSV (emotion,pixels,Usage): its faces are pixel rows, not image files; score one split"),
    (lambda fer: [p.rename(p.with_suffix(".jpg")) for p in (fer / "PublicTest" / "sad").glob("*.png")] and
     fer / "PublicTest", "sad: holds no .png images (it holds .jpg files: a FER-2013 split is 48×48 .png crops); "
     "other images can be listed in a path,emotion CSV"),
    (lambda fer: (fer / "empty").mkdir() or fer / "empty", "has no class folder angry, disgust"),
    (lambda fer: next((fer / "PublicTest" / "happy").glob("*.png")), "not a FER-2013 split folder"),
])
def test_a_missing_empty_or_not_a_split_set_is_one_line_and_exit_2_with_nothing_written(fer, tmp_path, capsys,
                                                                                       make, said):
    data = make(fer)
    assert main(["evaluate", "face", str(data), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and said in err[0] and str(data) in err[0]
    assert not (tmp_path / "out").exists()


def test_a_damaged_image_refuses_the_set_as_the_training_reader_does(fer, tmp_path, capsys):
    broken = fer / "PublicTest" / "sad" / "77777.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not the rest")
    assert main(["evaluate", "face", str(fer / "PublicTest"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{broken}: not a readable PNG image" in err[0]
    assert not (tmp_path / "out").exists()


def test_an_unwritable_out_and_zero_resamples_are_refused_in_one_line(fer, tmp_path, capsys):
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    assert main(["evaluate", "face", str(fer / "PublicTest"), "--out", str(a_file)]) == 2
    assert capsys.readouterr().err.strip() == f"emotrace: error: {a_file}: is a file; give a folder to write into"
    assert main(["evaluate", "face", str(fer / "PublicTest"), "--out", str(tmp_path / "b"), "--resamples", "0"]) == 2
    assert "--resamples: must be at least 1, not 0" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


def test_a_csv_naming_an_unreadable_image_refuses_the_set_naming_it(fer, tmp_path, capsys):
    data = tmp_path / "faces.csv"
    data.write_text(f"path,emotion\n{next((fer / 'PublicTest' / 'happy').glob('*.png'))},happy\nmissing.png,sad\n")
    assert main(["evaluate", "face", str(data), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "1 of 2 image(s) could not be read" in err[0] and "missing.png" in err[0]


def _large_photo(path: Path, width_px: int, height_px: int, seed: int) -> Path:
    """A large grey photograph of smooth random shading (neither dark, flat nor blank: a face crop's claim), PNG."""
    coarse = np.random.default_rng(seed).integers(40, 220, (9, 12), dtype=np.uint8)
    cv2.imwrite(str(path), cv2.resize(coarse, (width_px, height_px), interpolation=cv2.INTER_CUBIC))
    return path


def _face_csv(path: Path, photos: list[Path]) -> Path:
    """A path,emotion CSV listing ``photos`` (beside it) as happy."""
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([("path", "emotion"), *((photo.name, "happy") for photo in photos)])
    return path


def _peak_bytes(monkeypatch: pytest.MonkeyPatch, data: Path, out: Path) -> int:
    """The most memory Python's allocators (numpy's and OpenCV's arrays among them) held at once while a set was
    scored."""
    peak_bytes = peak_traced_bytes(_evaluate, monkeypatch, _OneLabelModel(SEVEN, "happy"), data, out)
    assert (out / "face_evaluation.json").is_file()
    return peak_bytes


def test_a_csv_of_large_photographs_is_not_held_in_memory_at_full_size(tmp_path, monkeypatch):
    photo = _large_photo(tmp_path / "face.png", 1000, 1000, seed=0)  # 1 MB of grey
    _evaluate(monkeypatch, _OneLabelModel(SEVEN, "happy"), _face_csv(tmp_path / "first.csv", [photo]), tmp_path / "0")
    one = _peak_bytes(monkeypatch, _face_csv(tmp_path / "one.csv", [photo]), tmp_path / "one")
    six = _peak_bytes(monkeypatch, _face_csv(tmp_path / "six.csv", [photo] * 6), tmp_path / "six")
    assert six - one < 1_000_000  # was: 5 MB more, each image held at full size until all were judged


def test_large_photographs_probabilities_and_a_small_ones_reason_are_those_face_classify_cropped_gives(tmp_path):
    from runtime.arms.face.classify import classify_paths

    sizes_px = [(1000, 750), (777, 1203), (640, 480), (97, 61), (30, 20)]  # the last under min_face_px 24
    photos = [_large_photo(tmp_path / f"{i}.png", width, height, seed=i) for i, (width, height) in enumerate(sizes_px)]
    out = tmp_path / "out"
    assert main(["evaluate", "face", str(_face_csv(tmp_path / "faces.csv", photos)), "--out", str(out),
                 "--resamples", "20", "--models-dir", str(REPO_MODELS_DIR), "--model", "face-expression"]) == 0
    report = json.loads((out / "face_evaluation.json").read_text())
    classify_paths(photos, tmp_path / "classified.csv", cropped=True)
    with open(tmp_path / "classified.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [item["predicted"] for item in report["predictions"]] == [row["emotion"] or None for row in rows]
    assert [item["confidence"] for item in report["predictions"][:-1]] == pytest.approx(
        [max(float(row[label]) for label in SEVEN) for row in rows[:-1]], abs=6e-5)  # 4 decimals against 6
    assert [item["reason"] for item in report["unclaimed"]] == [rows[-1]["reason"]] == ["crop under 24 px"]
