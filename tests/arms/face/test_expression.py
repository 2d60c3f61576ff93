import json
import shutil

import numpy as np
import pytest

from runtime.arms.face.expression import ENSEMBLE_TASK, ExpressionModel
from runtime.errors import InputError
from runtime.models.card import REPO_MODELS_DIR
from tests.arms.face.video_factory import astronaut

MEMBERS = ("face-expression-cnn", "face-expression-fer")


def _ensemble_card(folder, labels, members):
    folder.mkdir()
    card = {"id": "test-ensemble", "version": "1", "task": ENSEMBLE_TASK, "labels": labels, "files": {},
            "members": [str(REPO_MODELS_DIR / m) for m in members]}
    (folder / "card.json").write_text(json.dumps(card))
    return folder


def _crops():
    grey = astronaut().mean(axis=2).astype(np.uint8)
    return np.stack([grey[20:220, 130:330], grey[0:200, 0:200], np.full((200, 200), 128, np.uint8)])


def test_an_ensemble_card_averages_its_members_probabilities(tmp_path):
    labels = ["neutral", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
    ensemble = ExpressionModel(_ensemble_card(tmp_path / "ens", labels, MEMBERS))
    members = [ExpressionModel(m) for m in MEMBERS]
    crops = _crops()
    expected = np.mean([m.predict(crops) for m in members], axis=0)
    assert ensemble.labels == members[0].labels == members[1].labels
    np.testing.assert_allclose(ensemble.predict(crops), expected, atol=1e-6)
    assert [m["id"] for m in ensemble.identity()["members"]] == list(MEMBERS)
    assert ensemble.unsupported_labels == ["calm"]


def test_an_ensemble_member_with_labels_the_card_lacks_is_refused(tmp_path):
    with pytest.raises(InputError, match="has labels the card lacks"):
        ExpressionModel(_ensemble_card(tmp_path / "ens", ["neutral", "happy"], MEMBERS))


@pytest.mark.parametrize("model_id", ["face-expression-cnn", "face-expression-fer"])
def test_a_card_without_one_of_its_models_labels_is_refused(tmp_path, model_id):
    folder = tmp_path / model_id
    shutil.copytree(REPO_MODELS_DIR / model_id, folder)
    card = json.loads((folder / "card.json").read_text())
    card["labels"].remove("neutral")  # the checksum still matches: only the labels are wrong
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(InputError, match=rf"{model_id}/card\.json: card lists 6 labels, the model .* outputs 7"):
        ExpressionModel(folder)
    ensemble = _ensemble_card(tmp_path / "ens", card["labels"], [str(folder)])
    with pytest.raises(InputError, match="card lists 6 labels"):
        ExpressionModel(ensemble)


def _crop_of(mean: float, spread: float) -> np.ndarray:
    """A 48-px grey crop of this mean and standard deviation (a checkerboard of mean ± spread)."""
    board = np.indices((48, 48)).sum(axis=0) % 2
    return np.where(board, mean + spread, mean - spread).astype(np.uint8)


@pytest.mark.parametrize(("mean", "spread", "why"), [
    (35, 10, "face too dark to read its expression (mean grey 35 of 255)"),  # dark and flat
    (30, 25, ""),  # dark, but with contrast enough to read
    (60, 10, ""),  # flat, but lit
    (128, 3, "face crop blank, no features to read its expression (spread 3.0 grey of 255)"),  # blank at any light
    (200, 6, ""),
])
def test_a_crop_is_unreadable_when_darker_than_40_and_flatter_than_20_or_flatter_than_5(mean, spread, why):
    from runtime.arms.face.expression import unreadable_crop

    assert unreadable_crop(_crop_of(mean, spread)) == why


def test_the_expression_crop_is_a_square_1_1_times_the_meshs_extent_centred_on_it_along_the_eye_line():
    from runtime.arms.face.expression import face_crop_roi

    points = np.array([[100.0, 50.0, 0.0], [200.0, 50.0, 0.0], [150.0, 250.0, 0.0]])  # 100 wide, 200 tall
    upright = face_crop_roi(points, np.array([1.0, 0.0]))
    assert upright.centre.tolist() == pytest.approx([150.0, 150.0]) and upright.size_px == pytest.approx(220.0)
    turned = np.array([np.cos(0.5), np.sin(0.5)])  # the eye line turned: the same face, rolled with it
    rotation = np.array([[turned[0], -turned[1]], [turned[1], turned[0]]])
    rolled = points.copy()
    rolled[:, :2] = (points[:, :2] - 150.0) @ rotation.T + 150.0
    roi = face_crop_roi(rolled, turned)
    assert roi.centre.tolist() == pytest.approx([150.0, 150.0]) and roi.size_px == pytest.approx(220.0)


@pytest.mark.parametrize("model_id", MEMBERS)
def test_each_shipped_expression_model_reads_the_smiling_astronaut_as_happy(model_id):
    # fer's outputs come in another order than the canonical labels: each column must keep its own label
    from runtime.arms.face.expression import face_crop_roi
    from runtime.arms.video.detect import SsdDetector
    from runtime.arms.video.landmarks import CropLandmarker, face_roi

    image, mesh = astronaut(), CropLandmarker("face-landmarks")
    landmarks = mesh.run(image, face_roi(SsdDetector("face-detector").detect(image)[0], mesh.roi_scale))
    model = ExpressionModel(model_id)
    probs = model.predict(model.crop(image, face_crop_roi(landmarks.points, landmarks.roi.direction))[None])[0]
    assert model.labels[int(np.argmax(probs))] == "happy" and probs.max() > 0.5


@pytest.mark.parametrize("other", ["physio-stress", "fusion-stacking", "face-landmarks"])
def test_a_model_of_another_task_is_refused_as_no_expression_model(other):
    # was: 'card lacks input_px' or 'has no model variant', or a graph run on a face it was not made for
    with pytest.raises(InputError, match=rf"{other}: not a facial-expression model \(task '.+'\)$"):
        ExpressionModel(REPO_MODELS_DIR / other)


def test_crops_kept_fitted_to_each_members_side_give_the_probabilities_of_the_crops_themselves(tmp_path):
    labels = ["neutral", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
    ensemble = ExpressionModel(_ensemble_card(tmp_path / "ens", labels, MEMBERS))
    crops = [*_crops(), astronaut().mean(axis=2).astype(np.uint8)[0:300, 0:170]]  # one not square
    fitted = [ensemble.fitted(crop) for crop in crops]
    assert ensemble.input_sides_px == (48, 64)  # one crop resized once to each member's side, not twice
    assert [{side: kept.shape for side, kept in each.items()} for each in fitted] == [{48: (48, 48), 64: (64, 64)}] * 4
    np.testing.assert_array_equal(ensemble.predict(fitted), ensemble.predict(crops))
