"""What fusion takes for an emotion modality (a track with canonical labels that claims somewhere), and evidence
quality held to [0, 1] however a caller builds the windows' evidence."""

from __future__ import annotations

import numpy as np

from runtime.fusion import make_fuser
from runtime.fusion.align import FusionInput, is_emotion_track
from runtime.track import CANONICAL_LABELS, Track, Window
from tests.fusion.rows import ALL, L, one_hotish
from tests.fusion.tracks import labelled_track


def test_a_face_track_that_never_claims_is_no_modality_of_the_fused_track():
    audio = labelled_track("audio", "sad", 4, 0.5)
    unseen = Track("face", list(CANONICAL_LABELS), [Window(i * 1.0, i * 1.0 + 2.0, None, 0.0, "no face")
                                                    for i in range(3)], ["calm"], {"id": "face-expression"})
    assert not is_emotion_track(unseen)
    fused = make_fuser("quality").fuse([audio, unseen])
    assert fused.settings["modalities"] == ["audio"]
    assert all("quality_face" not in w.measurements for w in fused.windows)


def test_a_quality_above_1_counts_as_1():
    data = FusionInput(["audio", "face"], np.array([[one_hotish("angry", 0.6), one_hotish("happy", 0.6)]]),
                       np.array([[3.0, 1.0]]), np.stack([ALL, ALL]))
    assert data.quality.tolist() == [[1.0, 1.0]]
    fused = make_fuser("quality").fuse_arrays(data)
    assert np.isclose(fused[0, L["angry"]], fused[0, L["happy"]])
