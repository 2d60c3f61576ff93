"""The audio arm's model refuses a card that does not fit its graph, and records the backend that ran."""

import shutil

import numpy as np
import pytest

from runtime.arms.audio.model import AudioEmotionModel
from runtime.cli import main
from runtime.errors import InputError
from runtime.media import wav_bytes
from runtime.models.card import REPO_MODELS_DIR, file_sha256
from tests.arms.audio.voice_models import copy_voice_model


def test_a_card_without_one_of_its_models_labels_is_refused_before_any_window(tmp_path):
    folder = copy_voice_model(tmp_path, lambda card, _: card["labels"].remove("calm"))  # checksum unchanged
    with pytest.raises(InputError, match=r"voice/card\.json: card lists 7 labels, the model .* outputs 8"):
        AudioEmotionModel(folder)


def test_a_graph_of_another_input_width_than_the_card_says_is_refused_naming_the_file(tmp_path):
    def other_graph(card, folder):  # another model's graph under the session name, its checksum updated
        shutil.copy(REPO_MODELS_DIR / "fusion-stacking" / "stacking.onnx", folder / "session.int8.onnx")
        card["sha256"]["session"] = file_sha256(folder / "session.int8.onnx")

    folder = copy_voice_model(tmp_path, other_graph)
    with pytest.raises(InputError, match="takes 36 features per window; its card says n_features 449") as caught:
        AudioEmotionModel(folder)
    assert caught.value.source == str(folder / "session.int8.onnx")


def test_the_identity_records_the_backend_that_ran_not_the_configured_one():
    model = AudioEmotionModel(backend="tflite")  # .onnx files: LiteRT cannot read them
    assert model.identity("none")["backend"] == "onnxruntime"
    model.predict(np.zeros((2, 449), np.float32), "session")
    assert model.identity("session")["backend"] == "onnxruntime"
    assert AudioEmotionModel().identity("session")["backend"] == "onnxruntime"


def test_analyze_with_a_card_that_does_not_fit_exits_2_in_one_line_with_no_output(tmp_path, capsys):
    folder = copy_voice_model(tmp_path, lambda card, _: card["labels"].remove("calm"))
    noise = np.random.default_rng(0).normal(0, 0.1, 16000 * 4).astype(np.float32)
    (tmp_path / "session.wav").write_bytes(wav_bytes(noise, 16000))
    code = main(["analyze", str(tmp_path / "session.wav"), "--out", str(tmp_path / "out"),
                 "--audio-model", str(folder)])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"emotrace: error: {folder / 'card.json'}: card lists 7 labels, the model (session.int8.onnx) " \
                  "outputs 8\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("other", ["face-expression", "physio-stress"])
def test_a_model_of_another_kind_given_as_the_voice_model_is_named_for_its_task(other):
    from runtime.arms.audio.model import load_audio_model

    with pytest.raises(InputError, match=r"not a voice-emotion model \(task '"):  # not "expects features None"
        load_audio_model(other)


@pytest.mark.parametrize("variant", ["none", "session"])
def test_a_windows_probabilities_do_not_depend_on_the_windows_judged_beside_it(variant):
    # the shipped INT8 graphs quantize their input by its range: judged in one run with a loud outlier beside them,
    # the other windows were judged differently (up to 0.56 apart on random features)
    model = AudioEmotionModel(REPO_MODELS_DIR / "audio-emotion")
    rows = np.random.default_rng(0).normal(size=(6, model.card.extra["n_features"])).astype(np.float32)
    rows[-1] *= 50.0
    together = model.predict(rows, variant)
    alone = np.concatenate([model.predict(rows[i:i + 1], variant) for i in range(len(rows))])
    np.testing.assert_array_equal(together, alone)
