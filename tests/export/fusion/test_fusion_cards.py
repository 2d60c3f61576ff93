"""The shipped fusers' model cards: their rebuild command makes what they describe."""

import json
import shlex

import pytest

from export.fusion.cli import model_card_text
from runtime.cli import build_parser
from runtime.models.card import REPO_MODELS_DIR


@pytest.mark.parametrize("model_id", ["fusion-stacking", "fusion-attention"])
def test_a_fusers_rebuild_command_is_the_train_command_with_its_arm_models(model_id):
    card = json.loads((REPO_MODELS_DIR / model_id / "card.json").read_text())
    text = model_card_text(card)
    assert text == (REPO_MODELS_DIR / model_id / "MODEL_CARD.md").read_text()  # the shipped text is generated
    command = text.split("Rebuild: `")[1].split("`")[0]
    args = build_parser().parse_args(shlex.split(command)[1:])
    assert args.method == model_id.removeprefix("fusion-")
    assert [t.split("=")[0] for t in args.table] == card["modalities"]
    # without the arm models, the rebuilt fuser would never fall back to quality-aware fusion
    assert dict(a.split("=", 1) for a in args.arm_model) == card["arm_models"]
