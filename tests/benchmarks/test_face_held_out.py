"""The face benchmark's near copies: the same photograph processed a little differently is found, others are not."""

from __future__ import annotations

import numpy as np

from tests.conftest import load_script


def _benchmark():
    return load_script("benchmarks/face_held_out.py")


def test_a_face_brightened_or_lightly_noised_is_a_near_copy_and_another_face_is_not():
    rng = np.random.default_rng(0)
    training = rng.integers(0, 256, (50, 48, 48)).astype(np.uint8)
    original = training[40].astype(float)  # in the third block of 16
    faces = np.stack([
        np.clip(original * 0.8 + 30, 0, 255),  # brightness and contrast changed: correlation 1
        np.clip(original + rng.normal(0, 60, original.shape), 0, 255),  # heavy noise: correlation about 0.8
        rng.integers(0, 256, (48, 48)),  # another face
    ]).astype(np.uint8)
    near = _benchmark().near_copies(faces, training, 0.95, block=16)  # blocks smaller than the training set
    assert near.tolist() == [True, False, False]
    assert _benchmark().near_copies(faces, training, 0.7).tolist() == [True, True, False]
