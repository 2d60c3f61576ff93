"""The card's SHA-256 is compared whole, and is refused unless it is a whole SHA-256 (64 hex digits)."""

import json

import pytest

from runtime.errors import InputError
from runtime.models import load_card, load_model
from runtime.models.card import file_sha256
from tests.runtime.model_folders import toy_classifier


def _set_digest(folder, digest):
    card = json.loads((folder / "card.json").read_text())
    card["sha256"]["default"] = digest
    (folder / "card.json").write_text(json.dumps(card))


def test_a_checksum_that_differs_only_past_its_first_digits_is_refused(tmp_path):
    folder = toy_classifier(tmp_path / "toy", ["a", "b"])
    real = file_sha256(folder / "toy.onnx")
    last = "0" if real[-1] != "0" else "1"
    _set_digest(folder, real[:-1] + last)  # a corrupt or swapped file whose digest shares all but the last digit
    with pytest.raises(InputError, match="model file does not match the checksum in its card") as caught:
        load_model(folder)
    assert caught.value.source == str(folder / "toy.onnx")


@pytest.mark.parametrize("digest", ["abc123", "0" * 63], ids=["six-digits", "63-digits"])
def test_a_checksum_shorter_than_a_sha256_is_refused_at_the_card(tmp_path, digest):
    folder = toy_classifier(tmp_path / "toy", ["a", "b"])
    _set_digest(folder, digest)
    with pytest.raises(InputError, match=r"must map each variant to its file's SHA-256 \(64 hex digits\)") as caught:
        load_card(folder)
    assert caught.value.source == str(folder / "card.json")
