"""The product of experts' modality check: a modality can contradict another only on a label it could have named,
so a face without calm never contradicts a calm voice (nor the voice the face), and neither is discounted."""

from __future__ import annotations

import numpy as np

from runtime.fusion.methods import ProductFusion
from tests.fusion.rows import ALL, NO_CALM, inputs, one_hotish


def test_a_face_without_calm_and_a_calm_voice_do_not_contradict_each_other():
    audio = one_hotish("calm", 0.9)
    face = one_hotish("neutral", 0.6, NO_CALM)
    data = inputs([[audio, face]], supported=[ALL, NO_CALM])
    fuser = ProductFusion()
    assert not fuser.contradiction(data).any()
    undiscounted = ProductFusion(discount=1.0).fuse_arrays(data)
    assert np.allclose(fuser.fuse_arrays(data), undiscounted)


def test_a_modality_is_checked_against_its_own_calibrated_threshold_not_the_default():
    audio, face = one_hotish("sad", 0.9), one_hotish("happy", 0.9)  # each gives the other's label 0.014
    data = inputs([[audio, face]])
    default = ProductFusion()
    assert default.contradiction(data).all()  # under the default threshold, 0.05
    calibrated = ProductFusion(metrics={m: {"ua": 0.7, "contradiction_threshold": 0.001} for m in ("audio", "face")})
    assert calibrated.thresholds(data).tolist() == [0.001, 0.001]
    assert not calibrated.contradiction(data).any()
