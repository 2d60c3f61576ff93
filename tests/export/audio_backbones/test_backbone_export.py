import numpy as np
import pytest

from export.audio.backbones.models import (
    BackboneEmotionModel,
    LayerWeightedHead,
    load_pretrained,
    run_batched,
)
from export.audio.backbones.onnx_export import compare_outputs, export_onnx, onnx_outputs, quantize_int8
from tests.export.audio_backbones.tiny_models import ARCHITECTURES, save_tiny_classifier, save_tiny_encoder


@pytest.mark.parametrize("model_type", ARCHITECTURES)
def test_each_architecture_exports_to_onnx_and_int8_stays_close(tmp_path, model_type):
    encoder = load_pretrained(save_tiny_encoder(tmp_path / model_type, model_type))
    model = BackboneEmotionModel(
        encoder.pooled_layers, LayerWeightedHead(encoder.n_layers, encoder.hidden_size, 8)
    )
    windows = np.random.default_rng(1).normal(0, 0.1, (3, 32000)).astype(np.float32)
    export_onnx(model.eval(), tmp_path / "m.onnx")
    quantize_int8(tmp_path / "m.onnx", tmp_path / "m.int8.onnx")
    float_out = onnx_outputs(tmp_path / "m.onnx", windows)
    np.testing.assert_allclose(float_out, run_batched(model, windows), atol=1e-4)
    assert compare_outputs(float_out, onnx_outputs(tmp_path / "m.int8.onnx", windows))["max_abs_diff"] < 0.1


def test_finetuned_classifier_exports_with_its_label_mapping(tmp_path):
    loaded = load_pretrained(save_tiny_classifier(tmp_path / "clf", {0: "neu", 1: "hap", 2: "other"}))
    export_onnx(loaded.module, tmp_path / "clf.onnx")
    windows = np.random.default_rng(2).normal(0, 0.1, (2, 32000)).astype(np.float32)
    out = onnx_outputs(tmp_path / "clf.onnx", windows)
    assert out.shape == (2, 2)  # neutral, happy: "other" has no canonical meaning
    np.testing.assert_allclose(out, loaded.predict(windows), atol=1e-4)
