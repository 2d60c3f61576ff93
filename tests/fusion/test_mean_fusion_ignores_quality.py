"""Mean fusion: an equal-weight mean of the modalities that claim; quality decides only present or absent."""

from __future__ import annotations

import numpy as np

from runtime.fusion import make_fuser
from tests.fusion.rows import L, inputs, one_hotish


def test_mean_fusion_weighs_a_weak_claim_as_much_as_a_strong_one():
    audio, face = one_hotish("angry", 0.8), one_hotish("happy", 0.6)
    fused = make_fuser("mean").fuse_arrays(inputs([[audio, face]], quality=[[0.25, 1.0]]))
    assert np.allclose(fused[0], (audio + face) / 2)
    assert fused.argmax(1)[0] == L["angry"]
