import json
import shutil

import numpy as np
import pytest

from runtime.arms.face.expression import ExpressionModel
from runtime.errors import InputError
from runtime.models.card import REPO_MODELS_DIR
from tests.arms.face.video_factory import astronaut

MEMBERS = ("face-expression-cnn", "face-expression-fer")


def _ensemble_card(folder, labels, members):
    folder.mkdir()
    card = {"id": "test-ensemble", "version": "1", "task": "t", "labels": labels, "files": {},
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
