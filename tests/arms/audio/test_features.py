import numpy as np
import pytest

from runtime.arms.audio.features import (
    clip_probabilities,
    feature_names,
    frame_descriptors,
    window_features,
    zscore_by_group,
)
from runtime.media import read_audio


def test_window_features_are_finite_and_named(ravdess_dir):
    samples = read_audio(ravdess_dir / "Actor_01" / "03-01-05-02-01-01-01.flac")
    descriptors = frame_descriptors(samples, 16000)
    assert descriptors.values.shape[0] == descriptors.times_s.size
    for start_s, end_s in [(0.0, 2.0), (1.0, 3.0), (3.0, 3.2), (10.0, 12.0)]:  # the last lies past the end
        features = window_features(descriptors, start_s, end_s)
        assert features.shape == (len(feature_names()),)
        assert features.dtype == np.float32 and np.isfinite(features).all()


def test_windows_over_silence_and_speech_differ(ravdess_dir):
    samples = read_audio(ravdess_dir / "Actor_01" / "03-01-05-02-01-01-01.flac")
    descriptors = frame_descriptors(samples, 16000)
    silent, speech = window_features(descriptors, 0.0, 0.8), window_features(descriptors, 1.2, 2.4)
    energy = feature_names().index("log_energy_mean")
    assert speech[energy] > silent[energy] + 3  # natural-log power: more than 13 dB louder


def test_silence_only_recording_still_gives_finite_features():
    descriptors = frame_descriptors(np.zeros(16000, dtype=np.float32), 16000)
    assert np.isfinite(window_features(descriptors, 0.0, 1.0)).all()


def test_zscore_by_group_centres_each_group_on_its_own_baseline():
    rng = np.random.default_rng(1)
    a = rng.normal(5.0, 2.0, (50, 3))
    b = rng.normal(-3.0, 0.5, (30, 3))
    z = zscore_by_group(np.vstack([a, b]), np.array([0] * 50 + [1] * 30))
    np.testing.assert_allclose(z[:50].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(z[50:].std(axis=0), 1, atol=1e-4)
    constant = zscore_by_group(np.ones((4, 2)), np.zeros(4))
    assert np.isfinite(constant).all() and np.allclose(constant, 0)
    with pytest.raises(ValueError):
        zscore_by_group(np.ones((4, 2)), np.zeros(3))


def test_clip_probabilities_average_the_windows():
    probs = clip_probabilities(np.array([[0.8, 0.2], [0.4, 0.6]]))
    np.testing.assert_allclose(probs, [0.6, 0.4], atol=1e-6)
    with pytest.raises(ValueError):
        clip_probabilities(np.zeros((0, 2)))
