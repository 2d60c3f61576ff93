"""A fused window without a claim says why: no modality claimed, or only ones the method ignores, named only
where they did claim in that window."""

from __future__ import annotations

from runtime.fusion import make_fuser
from runtime.fusion.base import NO_EVIDENCE, NO_USED_EVIDENCE
from tests.fusion.tracks import labelled_track


def test_a_window_nobody_claims_in_names_no_ignored_modality():
    audio = labelled_track("audio", "sad", 4, 0.5)  # 0-3.5 s
    face = labelled_track("face", "happy", 4, 0.5)
    fuser = make_fuser("weighted", weights={"audio": 0.0, "face": 1.0})
    fused = fuser.fuse([audio, face], grid=[(0.0, 2.0), (4.0, 6.0), (10.0, 12.0)])
    by_start = {w.start_s: w for w in fused.windows}
    assert by_start[0.0].probs is not None
    assert by_start[10.0].probs is None and by_start[10.0].reason == NO_EVIDENCE
    face_gone = labelled_track("face", "happy", 1, 0.5)  # 0-2 s: after it only the ignored voice claims
    late = {w.start_s: w for w in fuser.fuse([audio, face_gone], grid=[(3.0, 3.5)]).windows}[3.0]
    assert late.reason.startswith(NO_USED_EVIDENCE) and "audio (weight 0)" in late.reason
