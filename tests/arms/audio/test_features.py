import numpy as np
import pytest

from runtime.arms.audio import features
from runtime.arms.audio.features import (
    DESCRIPTOR_NAMES,
    clip_probabilities,
    feature_names,
    frame_descriptors,
    window_features,
    zscore_by_group,
)
from runtime.media import read_audio
from tests.memory import peak_traced_bytes


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


def _speech_with_loud_and_quiet_parts(ravdess_dir, hops_remainder: int) -> np.ndarray:
    """About 17 s: a quiet and a loud clip of real speech, with digital silence between them, a whole number of
    10 ms hops long plus ``hops_remainder`` samples."""
    quiet = read_audio(ravdess_dir / "Actor_01" / "03-01-05-02-01-01-01.flac") * 0.05
    loud = read_audio(ravdess_dir / "Actor_02" / "03-01-05-02-02-01-02.flac")
    silence = np.zeros(16000 * 5, dtype=np.float32)
    samples = np.concatenate([quiet, silence, loud, quiet]).astype(np.float32)
    return samples[:samples.size // 160 * 160 - 160 + hops_remainder]


# 0: Praat's frame grid then sits on a rounding tie, which the whole recording and a block break differently
@pytest.mark.parametrize("hops_remainder", [77, 0])
def test_a_long_recording_described_in_blocks_matches_it_described_whole(ravdess_dir, monkeypatch, hops_remainder):
    samples = _speech_with_loud_and_quiet_parts(ravdess_dir, hops_remainder)
    whole = frame_descriptors(samples, 16000)
    monkeypatch.setattr(features, "BLOCK_S", 4.0)  # four blocks of context 1 s either side
    monkeypatch.setattr(features, "MARGIN_S", 1.0)
    blocks = frame_descriptors(samples, 16000)
    np.testing.assert_array_equal(blocks.times_s, whole.times_s)
    pitch = [DESCRIPTOR_NAMES.index("f0_st"), DESCRIPTOR_NAMES.index("voicing")]
    spectral = [i for i in range(len(DESCRIPTOR_NAMES)) if i not in pitch]
    # the spectral descriptors, flux's floor below the loudest band included, are the whole recording's
    np.testing.assert_allclose(blocks.values[:, spectral], whole.values[:, spectral], rtol=1e-4, atol=1e-4)
    # Praat's pitch path is the whole recording's too, bar a few frames where its path search differs:
    # its frames fall on the same times and its silence threshold is relative to the same loudest sample
    f0_whole, f0_blocks = whole.values[:, pitch[0]], blocks.values[:, pitch[0]]
    same_voicing = np.isnan(f0_whole) == np.isnan(f0_blocks)
    assert same_voicing.mean() > 0.98
    both = ~np.isnan(f0_whole) & ~np.isnan(f0_blocks)
    assert np.mean(np.abs(f0_whole[both] - f0_blocks[both]) < 0.1) > 0.98  # semitones


def test_describing_a_recording_twice_as_long_does_not_take_twice_the_memory():
    rng = np.random.default_rng(0)
    tone = np.sin(2 * np.pi * 150 * np.arange(16000 * 240) / 16000).astype(np.float32)
    samples = (0.3 * tone + rng.normal(0, 0.01, tone.size)).astype(np.float32)
    frame_descriptors(samples[:16000 * 3], 16000)  # librosa's and numba's one-off allocations, not measured
    two_minutes = peak_traced_bytes(frame_descriptors, samples[:16000 * 120], 16000)
    four_minutes = peak_traced_bytes(frame_descriptors, samples, 16000)
    # described whole, the STFT and its spectral temporaries grew with the recording (about 1 GB for 10 min)
    assert four_minutes < 1.5 * two_minutes
