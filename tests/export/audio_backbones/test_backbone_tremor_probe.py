import json

import numpy as np
import pytest
from scipy.signal import hilbert

from export.audio.backbones.tremor_probe import add_tremor, main, tremor_sensitivity
from tests.export.audio_backbones.tiny_models import save_tiny_encoder


def _dominant_hz(signal: np.ndarray, sample_rate_hz: int) -> float:
    spectrum = np.abs(np.fft.rfft(signal - signal.mean()))
    return float(np.fft.rfftfreq(signal.size, 1 / sample_rate_hz)[np.argmax(spectrum)])


def test_added_tremor_swings_pitch_and_loudness_at_its_rate():
    sample_rate_hz = 16000
    t = np.arange(2 * sample_rate_hz) / sample_rate_hz
    tone = 0.5 * np.sin(2 * np.pi * 200 * t)
    shaken = add_tremor(tone, sample_rate_hz, rate_hz=6.0, f0_depth=0.03, amplitude_depth=0.10)
    analytic = hilbert(shaken)[2000:-2000]  # away from the edges
    frequency_hz = np.diff(np.unwrap(np.angle(analytic))) * sample_rate_hz / (2 * np.pi)
    envelope = np.abs(analytic)
    assert _dominant_hz(frequency_hz, sample_rate_hz) == pytest.approx(6.0, abs=0.6)
    assert (np.percentile(frequency_hz, 99) - np.percentile(frequency_hz, 1)) / 2 == pytest.approx(
        6.0, rel=0.2
    )
    assert _dominant_hz(envelope, sample_rate_hz) == pytest.approx(6.0, abs=0.6)
    assert envelope.max() / envelope.min() == pytest.approx(1.1 / 0.9, rel=0.05)


def test_the_probe_finds_the_layer_that_keeps_the_tremor():
    rng = np.random.default_rng(0)
    original = rng.normal(size=(80, 3, 8))
    shaken = original + rng.normal(scale=0.05, size=original.shape)
    shaken[:, 1, 0] += 2.0  # only layer 1 changes with the tremor
    speakers = np.repeat([f"s{i}" for i in range(8)], 10)
    result = tremor_sensitivity(original, shaken, speakers)
    assert result["best_layer"] == 1 and result["best_auc"] > 0.9
    assert result["auc_per_layer"][0] < 0.75 and result["auc_per_layer"][2] < 0.75


def test_the_probe_command_runs_on_real_speech_with_a_tiny_encoder(tmp_path, ravdess_manifest, capsys):
    folder = save_tiny_encoder(tmp_path / "tiny", "wavlm")
    main(
        [
            "--backbone",
            str(folder),
            "--data",
            str(ravdess_manifest),
            "--emotion",
            "angry",
            "--out",
            str(tmp_path / "tremor.json"),
        ]
    )
    result = json.loads((tmp_path / "tremor.json").read_text())
    assert len(result["auc_per_layer"]) == 3 and result["speakers"] == 3
    assert all(0.0 <= auc <= 1.0 for auc in result["auc_per_layer"])
