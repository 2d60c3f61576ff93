"""The voice model wrappers' refusals and what a waveform model reads of a window (from a mutation review of
model.py)."""

import json

import numpy as np
import pytest

from runtime.arms.audio.model import AudioEmotionModel, WaveformEmotionModel, load_audio_model
from runtime.errors import InputError
from tests.arms.audio.voice_models import copy_voice_model


def _edit_card(folder, **input_spec):
    card = json.loads((folder / "card.json").read_text())
    card["input"].update(input_spec)
    (folder / "card.json").write_text(json.dumps(card))


def test_an_unknown_variant_is_refused_naming_the_variants():
    model = AudioEmotionModel()
    with pytest.raises(InputError, match="unknown audio model variant; choose one of session, none"):
        model.predict(np.zeros((1, model.card.extra["n_features"]), dtype=np.float32), "folder")


def test_a_waveform_model_at_another_rate_is_refused_for_its_rate(waveform_model_dir):
    _edit_card(waveform_model_dir, sample_rate_hz=8000, window_s=4.0)  # 32000 samples: the graph's width
    with pytest.raises(InputError, match="the model takes 8000 Hz audio; the device feeds 16000 Hz"):
        load_audio_model(waveform_model_dir)


def test_a_waveform_model_of_no_window_is_refused_for_its_window(waveform_model_dir):
    _edit_card(waveform_model_dir, window_s=0)
    with pytest.raises(InputError, match="input window_s must be a positive number of seconds, not 0"):
        load_audio_model(waveform_model_dir)


def test_a_waveform_model_reads_the_start_of_a_longer_segment(waveform_model_dir):
    model = load_audio_model(waveform_model_dir)
    assert isinstance(model, WaveformEmotionModel)
    rate = model.sample_rate_hz
    loud_then_silent = np.r_[np.full(2 * rate, 0.5, dtype=np.float32), np.zeros(rate, dtype=np.float32)]
    np.testing.assert_allclose(model.predict_segments([loud_then_silent]),
                               model.predict_segments([loud_then_silent[: 2 * rate]]), atol=1e-6)


def test_a_waveform_window_holding_nan_is_refused_not_judged(waveform_model_dir):
    model = load_audio_model(waveform_model_dir)
    segment = np.zeros(model.window_samples, dtype=np.float32)
    segment[10] = np.nan
    with pytest.raises(InputError, match="audio window 0"):
        model.predict_segments([segment])


def test_a_card_window_given_as_true_is_no_window_length(tmp_path):
    def edit(card, _):
        card["window_s"] = True

    assert AudioEmotionModel(copy_voice_model(tmp_path, edit)).trained_window_s is None


def test_a_waveform_graph_of_another_window_than_its_card_says_is_refused_on_loading(waveform_model_dir):
    _edit_card(waveform_model_dir, window_s=1.0)  # 16000 samples; the graph reads 32000
    with pytest.raises(InputError, match="the model takes windows of 32000 samples; its card says 16000"):
        load_audio_model(waveform_model_dir)
