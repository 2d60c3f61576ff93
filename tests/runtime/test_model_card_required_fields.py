"""A card lacking any field the runtime reads is one line
naming the card and the field, not an internal KeyError."""
import json

import pytest

from runtime.errors import InputError
from runtime.models.card import load_card

CARD = {"id": "toy", "version": "1", "task": "t", "labels": ["calm", "stressed"], "files": {"default": "toy.onnx"},
        "sha256": {"default": "0" * 64}}


@pytest.mark.parametrize("field", ["id", "version", "task", "labels", "files"])
def test_a_card_lacking_a_field_the_runtime_reads_is_one_line_naming_the_field(tmp_path, field):
    card = tmp_path / "card.json"
    card.write_text(json.dumps({k: v for k, v in CARD.items() if k != field}))
    with pytest.raises(InputError) as caught:
        load_card(tmp_path)
    assert str(caught.value) == f"{card}: not a model card (no {field})"
