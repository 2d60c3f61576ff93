"""What a model load refuses and what a loaded model says of itself: backend keys, a card.json that is no file,
a card without a checksum handed straight to verify_checksum, the checksum a model's identity records."""

import pytest

from runtime import config
from runtime.errors import InputError
from runtime.models import BACKENDS, ModelCard, load_card, load_model
from runtime.models.card import file_sha256, verify_checksum
from tests.runtime.model_folders import toy_classifier


@pytest.mark.parametrize("key", ["onnx", "ONNXRuntime", "cpu", ""])
def test_a_backend_key_the_config_does_not_offer_is_refused_at_load(tmp_path, key):
    folder = toy_classifier(tmp_path / "toy", ["a", "b"])
    with pytest.raises(InputError, match="unknown backend; choose one of onnxruntime, openvino, tflite, tensorrt$"):
        load_model(folder, backend=key)


def test_the_backends_the_runtime_runs_are_exactly_those_the_config_offers():
    assert tuple(BACKENDS) == config.BACKENDS


def test_a_card_json_that_is_a_folder_is_said_as_no_model_card(tmp_path):
    (tmp_path / "model" / "card.json").mkdir(parents=True)
    with pytest.raises(InputError) as caught:
        load_card(tmp_path / "model")
    assert str(caught.value) == f"{tmp_path / 'model'}: no model card (card.json) there"


@pytest.mark.parametrize("named", ["voice", "voice/card.json"])
def test_a_model_folder_that_is_not_there_is_said_so(tmp_path, named):
    with pytest.raises(InputError) as caught:
        load_card(tmp_path / named)
    assert str(caught.value) == f"{tmp_path / named}: no model card (card.json) there: the folder does not exist"


@pytest.mark.parametrize("named", ["run", "run/card.json"])
def test_a_training_run_named_as_a_model_is_said_to_need_its_export(tmp_path, named):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "report.json").write_text("{}")  # what every training command writes last
    with pytest.raises(InputError) as caught:
        load_card(tmp_path / named)
    assert str(caught.value) == (f"{tmp_path / named}: no model card (card.json) there: a training run's folder (its "
                                 "report.json), not a model; export it (emotrace export audio|face|physio RUN) and "
                                 "name the model folder that writes")


def test_a_card_without_a_checksum_for_the_variant_is_refused_by_verify_checksum(tmp_path):
    folder = toy_classifier(tmp_path / "toy", ["a", "b"])
    card = ModelCard(id="toy", version="1", task="t", labels=["a", "b"], files={"default": "toy.onnx"},
                     folder=folder)  # built in code, not read from a card.json: no sha256 at all
    with pytest.raises(InputError, match="card gives no sha256 for model variant 'default'"):
        verify_checksum(card)


def test_a_loaded_models_identity_records_its_files_checksum_and_backend(tmp_path):
    folder = toy_classifier(tmp_path / "toy", ["a", "b"])
    identity = load_model(folder).identity()
    assert identity == {"id": "toy", "version": "1", "variant": "default",
                        "sha256": file_sha256(folder / "toy.onnx"), "backend": "onnxruntime"}
    assert load_card(folder).identity()["sha256"] == file_sha256(folder / "toy.onnx")


def test_a_misspelt_card_file_in_an_existing_folder_is_not_said_as_a_missing_folder(tmp_path):
    (tmp_path / "voice").mkdir()
    with pytest.raises(InputError) as caught:
        load_card(tmp_path / "voice" / "card.jsn")
    assert str(caught.value) == f"{tmp_path / 'voice' / 'card.jsn'}: no model card (card.json) there"  # was: 'the
    # folder does not exist', of a folder that does


def test_a_model_folder_that_is_a_link_to_nothing_is_said_to_be_one(tmp_path):
    (tmp_path / "voice").symlink_to(tmp_path / "gone")
    with pytest.raises(InputError) as caught:
        load_card(tmp_path / "voice")
    assert str(caught.value) == (f"{tmp_path / 'voice'}: no model card (card.json) there: it is a link to "
                                 f"{tmp_path / 'gone'}, which does not exist")
