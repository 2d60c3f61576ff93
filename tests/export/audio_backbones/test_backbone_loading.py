import json

import numpy as np
import pytest
import torch

from export.audio.backbones.models import WaveformNormalizer, load_pretrained, run_batched
from runtime.errors import InputError
from tests.export.audio_backbones.tiny_models import (
    ARCHITECTURES,
    save_tiny_classifier,
    save_tiny_encoder,
    tiny_config,
)


def _windows(n: int = 2, seconds: float = 2.0) -> np.ndarray:
    return np.random.default_rng(0).normal(0, 0.1, (n, int(16000 * seconds))).astype(np.float32)


@pytest.mark.parametrize("model_type", ARCHITECTURES)
def test_each_encoder_architecture_loads_from_its_folder_and_pools_every_layer(tmp_path, model_type):
    folder = save_tiny_encoder(tmp_path / model_type, model_type)
    model = load_pretrained(folder)
    assert model.kind == "encoder"
    pooled = model.pooled(_windows())
    # the CNN projection plus each transformer layer, each averaged over time
    assert pooled.shape == (2, 3, 32)
    assert np.isfinite(pooled).all()


def test_finetuned_classifier_gets_canonical_labels_and_reports_the_unmapped_one(tmp_path):
    folder = save_tiny_classifier(tmp_path / "clf", {0: "neu", 1: "hap", 2: "ang", 3: "sad", 4: "contempt"})
    model = load_pretrained(folder)
    assert model.kind == "classifier"
    assert model.labels == ["neutral", "happy", "sad", "angry"]
    assert model.mapping.unmapped == ["contempt"]
    probs = model.predict(_windows(3))
    assert probs.shape == (3, 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_classifier_whose_labels_map_to_nothing_is_refused(tmp_path):
    folder = save_tiny_classifier(tmp_path / "clf", {0: "LABEL_0", 1: "LABEL_1"})
    with pytest.raises(InputError, match="maps onto the canonical set"):
        load_pretrained(folder)


def test_dimensional_model_fills_every_weight_of_an_audeering_style_checkpoint(tmp_path):
    from export.audio.backbones.models import _dimensional_model_class

    config = tiny_config(
        "wav2vec2",
        num_labels=3,
        id2label={0: "arousal", 1: "dominance", 2: "valence"},
        architectures=["Wav2Vec2ForSpeechClassification"],
        final_dropout=0.1,
    )
    torch.manual_seed(1)
    original = _dimensional_model_class()(config)
    with torch.no_grad():
        original.classifier.out_proj.bias.copy_(torch.tensor([0.25, 0.5, 0.75]))
    original.save_pretrained(tmp_path / "dim")
    # the name audEERING's config.json carries
    config_path = tmp_path / "dim" / "config.json"
    config_json = json.loads(config_path.read_text())
    config_json["architectures"] = ["Wav2Vec2ForSpeechClassification"]
    config_path.write_text(json.dumps(config_json))
    model = load_pretrained(tmp_path / "dim")
    assert model.kind == "dimensional"
    assert model.labels == ["arousal", "dominance", "valence"]
    loaded = model.module.model.state_dict()
    for key, value in original.state_dict().items():
        torch.testing.assert_close(loaded[key], value, msg=key)
    windows = _windows()
    assert model.predict(windows).shape == (2, 3)
    # its processor normalises each signal (do_normalize); here that happens inside the graph
    normalised = WaveformNormalizer(True)(torch.as_tensor(windows))
    expected = original.eval()(normalised)[1].detach().numpy()
    np.testing.assert_allclose(model.predict(windows), expected, atol=1e-5)
    assert model.pooled(windows).shape == (2, 3, 32)


def test_emotion2vec_without_funasr_names_the_install(tmp_path):
    folder = tmp_path / "e2v"
    folder.mkdir()
    for name in ("config.yaml", "model.pt"):
        (folder / name).write_text("x")
    (folder / "tokens.txt").write_text("生气/angry\n中立/neutral\n<unk>\n", encoding="utf-8")
    pytest.importorskip("transformers")
    try:
        import funasr  # noqa: F401

        pytest.skip("FunASR is installed here; the message is for hosts without it")
    except ImportError:
        pass
    with pytest.raises(InputError, match="pip install funasr"):
        load_pretrained(folder)


def test_normalisation_inside_the_graph_matches_the_feature_extractor(tmp_path):
    from transformers import Wav2Vec2FeatureExtractor

    windows = _windows(2) * 3 + 0.5
    expected = Wav2Vec2FeatureExtractor(do_normalize=True)(list(windows), sampling_rate=16000)["input_values"]
    ours = run_batched(WaveformNormalizer(True), windows)
    np.testing.assert_allclose(ours, np.stack(expected), atol=1e-4)


def test_an_emotion2vec_folder_without_its_class_names_is_refused(tmp_path):
    folder = tmp_path / "e2v"
    folder.mkdir()
    for name in ("config.yaml", "model.pt"):
        (folder / name).write_text("x")
    with pytest.raises(InputError, match="tokens.txt"):
        load_pretrained(folder)
