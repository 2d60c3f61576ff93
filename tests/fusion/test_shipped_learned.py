"""The shipped learned fusers on tracks of the shipped arm models: no claim where none of their own inputs
claims, and attention equal in file and live mode, window by window, across a gap. Every method, on the same
tracks: no probability for a label that no track of the window can give."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from runtime.fusion import make_fuser
from runtime.fusion.live import LiveFusion
from runtime.track import CANONICAL_LABELS, Track, Window, leading_label_index
from tests.fusion.tracks import FACE_LABELS, label_row, shipped_identity


def _voice(n: int, label_at, quality: float = 1.0) -> Track:
    """Audio windows every 0.5 s, 2 s long; ``label_at(start_s)`` → (label, p) or None for no claim."""
    windows = []
    for i in range(n):
        start = round(i * 0.5, 6)
        said = label_at(start)
        windows.append(Window(start, start + 2.0, None if said is None else label_row(CANONICAL_LABELS, *said),
                              0.0 if said is None else quality, "too little speech" if said is None else ""))
    return Track("audio", list(CANONICAL_LABELS), windows, [], shipped_identity("audio-emotion", "session"))


def _face(name: str, n: int, label_at) -> Track:
    windows = []
    for i in range(n):
        start = float(i)
        said = label_at(start)
        windows.append(Window(start, start + 2.0, None if said is None else label_row(FACE_LABELS, *said),
                              0.0 if said is None else 0.9, "no face" if said is None else ""))
    return Track(name, list(FACE_LABELS), windows, ["calm"], shipped_identity("face-expression"))


def _gap_session() -> list[Track]:
    """A sad voice, nothing at all from 10 to 21 s, then a neutral voice; a happy face up to 8 s."""
    def voice(start):
        if start < 10.0:
            return "sad", 0.9
        return None if start < 21.0 else ("neutral", 0.4)

    return [_voice(80, voice), _face("face", 40, lambda start: ("happy", 0.9) if start < 8.0 else None)]


@pytest.mark.parametrize("variant", ["default", "float"])
def test_attention_file_and_live_mode_agree_window_by_window_across_a_gap(variant):
    tracks = _gap_session()

    def fuser():
        out = make_fuser("attention")
        out.variant = variant
        return out

    whole = fuser().fuse(tracks)
    assert "fallback" not in whole.model
    live = LiveFusion(fuser())
    for window in whole.windows:
        live_window = live.window(tracks, window.start_s, window.end_s)
        if window.probs is None:
            assert live_window.probs is None
            continue
        assert live_window.probs == pytest.approx(window.probs, abs=1e-6), window.start_s
        assert live_window.quality == pytest.approx(window.quality)
    # After 11 s of silence the context holds nothing from before the gap: the neutral voice leads.
    after = next(w for w in whole.windows if w.start_s == 21.0)
    assert int(np.argmax(after.probs)) == CANONICAL_LABELS.index("neutral")


def test_attention_in_file_mode_does_not_move_with_later_windows():
    # The INT8 graph quantizes activations over what it is given: one context at a time keeps it causal.
    tracks = _gap_session()
    edited = copy.deepcopy(tracks)
    for track in edited:
        for window in track.windows:
            if window.start_s >= 30.0 and window.probs is not None:
                window.probs = list(np.roll(window.probs, 3))
    before = make_fuser("attention").fuse(tracks)
    after = make_fuser("attention").fuse(edited)
    for a, b in zip(before.windows, after.windows, strict=True):
        if a.end_s < 30.0 and a.probs is not None:
            assert a.probs == b.probs, a.start_s


@pytest.mark.parametrize("method", ["stacking", "attention"])
def test_learned_fuser_makes_no_claim_where_only_tracks_it_does_not_read_claim(method):
    # face.person = "all": face-1 is not an input of a fuser trained on "audio" and "face".
    audio = _voice(20, lambda start: ("angry", 0.9) if start < 4.0 else None, quality=0.8)
    face_1 = _face("face-1", 10, lambda start: ("happy", 0.9))
    fused = make_fuser(method).fuse([audio, face_1])
    assert "fallback" not in fused.model
    for window in fused.windows:
        if window.start_s >= 5.5:  # the voice's last claim ends at 5.5 s: only face-1 speaks
            assert window.probs is None and window.quality == 0.0, window.start_s
            assert "face-1 (not an input of fusion-" in window.reason
            assert "valence" not in window.measurements
        elif window.start_s <= 2.0:
            assert window.quality == pytest.approx(0.8)  # the voice, the one input here, at its quality


@pytest.mark.parametrize("method", ["stacking", "attention"])
def test_a_face_barely_seen_does_not_outweigh_a_clear_voice(method):
    audio = _voice(12, lambda start: ("disgust", 0.83), quality=0.8)
    glimpsed = _face("face", 6, lambda start: ("happy", 0.9))
    for window in glimpsed.windows:
        window.quality = 0.02  # the face in view for 2 % of each window
    fused = make_fuser(method).fuse([audio, glimpsed])
    labels = list(CANONICAL_LABELS)
    top = {labels[int(np.argmax(w.probs))] for w in fused.windows if w.probs is not None}
    assert top == {"disgust"}  # was: happy (0.86 with stacking), the face at full strength


CALM = CANONICAL_LABELS.index("calm")


@pytest.mark.parametrize("method", ["product", "stacking", "attention"])
def test_a_label_no_track_of_the_window_can_give_gets_no_probability(method):
    # A calm voice until 5.5 s, a neutral face throughout: a FER face cannot say calm. Stacking gave the face
    # alone calm 0.44 (its top label), attention 0.08-0.53, product 0.14.
    voice = _voice(8, lambda start: ("calm", 0.9))
    face = _face("face", 10, lambda start: ("neutral", 0.6))
    fused = make_fuser(method).fuse([voice, face])
    assert "fallback" not in fused.model and "calm" not in fused.unsupported_labels
    claims = [w for w in fused.windows if w.probs is not None]
    face_alone = [w for w in claims if w.start_s >= 5.5]
    assert face_alone and all(w.probs[CALM] is None for w in face_alone)  # no probability: not 0, 'certainly not'
    assert all(sum(p for p in w.probs if p is not None) == pytest.approx(1.0) for w in claims)
    assert all(w.probs[CALM] > 0.05 for w in claims if w.end_s <= 5.5)  # where the voice speaks, it may say calm
    alone = make_fuser(method).fuse([face])
    assert alone.unsupported_labels == ["calm"]
    assert all(w.probs[CALM] is None and leading_label_index(w.probs) == CANONICAL_LABELS.index("neutral")
               for w in alone.windows if w.probs is not None)


@pytest.mark.parametrize("method", ["stacking", "attention"])
def test_a_voice_too_weak_for_a_learned_fuser_to_read_does_not_let_it_give_calm(method):
    # A learned fuser leaves a claim under quality 0.2 out (without_weak): the face alone is what it read.
    voice = _voice(8, lambda start: ("calm", 0.9), quality=0.1)
    face = _face("face", 4, lambda start: ("neutral", 0.6))
    fused = make_fuser(method).fuse([voice, face])
    assert all(w.probs[CALM] is None for w in fused.windows if w.probs is not None)


@pytest.mark.parametrize("method", ["stacking", "attention"])
def test_a_learned_fuser_with_only_face_n_tracks_fuses_none_of_them(method, caplog):
    # face.person = "all" on a silent video: two people, one happy, one sad. Was: a fallback to quality fusion
    # that made them one spectrum (stacking happy 0.46, sad 0.46).
    from runtime.config import load_settings
    from runtime.fusion import fuse_with_settings

    tracks = [_face("face-1", 6, lambda start: ("happy", 0.9)), _face("face-2", 6, lambda start: ("sad", 0.9))]
    fused = make_fuser(method).fuse(tracks)
    assert "fallback" not in fused.model
    for window in fused.windows:
        assert window.probs is None and window.quality == 0.0, window.start_s
        assert "face-1 (not an input of fusion-" in window.reason and "face-2 (not" in window.reason
    section = {**load_settings()["fusion"], "method": method}
    with caplog.at_level("WARNING"):
        fuse_with_settings(tracks, section)
    said = f"fusion-{method} fuses audio, face; this session's emotion tracks (face-1, face-2) are none of them"
    assert said in caplog.text and 'face.person = "patient"' in caplog.text


def _body(label: str) -> Track:
    """A trained body classifier's track of the emotions."""
    face = _face("face", 4, lambda start: (label, 0.9))
    return Track("body", face.labels, face.windows, face.unsupported_labels)


@pytest.mark.parametrize(("tracks", "said"), [
    # face.person = "all": the voice is an input, the two faces are not
    ([_voice(8, lambda start: ("fearful", 0.9)), _face("face-1", 4, lambda start: ("happy", 0.9)),
      _face("face-2", 4, lambda start: ("sad", 0.9))],
     "fusion-stacking fuses audio, face, and this session has no face track: it leaves this session's face-1, face-2 "
     "out of the fused track (face.person = \"patient\" fuses the patient's face; a rule method, e.g. --fusion "
     "quality, fuses every track)"),
    # a trained body classifier's track beside the voice and the face the card names
    ([_voice(8, lambda start: ("fearful", 0.9)), _face("face", 4, lambda start: ("happy", 0.9)), _body("angry")],
     "fusion-stacking fuses audio, face: it leaves this session's body out of the fused track (a rule method, e.g. "
     "--fusion quality, fuses every track)"),
], ids=["face.person all", "a body classifier"])
def test_a_learned_fuser_that_reads_some_of_the_sessions_emotion_tracks_says_which_it_leaves_out(tracks, said,
                                                                                                caplog):
    # Was: no warning where any of its inputs was present; only each window's reason named the tracks left out.
    from runtime.config import load_settings
    from runtime.fusion import fuse_with_settings

    section = {**load_settings()["fusion"], "method": "stacking"}
    with caplog.at_level("WARNING"):
        fuse_with_settings(tracks, section)
    assert [r.getMessage() for r in caplog.records if "fusion-stacking" in r.getMessage()] == [said]


def test_a_learned_fuser_given_a_body_track_alone_gives_no_advice_about_faces(caplog):
    # was: 'face.person = "patient" fuses the patient's face', of a session with no face at all
    from runtime.config import load_settings
    from runtime.fusion import fuse_with_settings

    with caplog.at_level("WARNING"):
        fuse_with_settings([_body("happy")], load_settings()["fusion"])
    assert "emotion tracks (body) are none of them" in caplog.text and "face.person" not in caplog.text


@pytest.mark.parametrize("method", ["stacking", "attention"])
def test_a_learned_fusers_fallback_fuses_its_own_inputs_only(method):
    # The voice from the population variant (another calibration) makes the fuser fall back to quality fusion;
    # face-1 is no input of it, in fallback as otherwise.
    audio = _voice(20, lambda start: ("angry", 0.9) if start < 4.0 else None, quality=0.8)
    audio.model = shipped_identity("audio-emotion", "none")
    face_1 = _face("face-1", 10, lambda start: ("happy", 0.9))
    fused = make_fuser(method).fuse([audio, face_1])
    assert fused.model["fallback"]["method"] == "quality"
    for window in fused.windows:
        if window.start_s >= 5.5:  # only face-1 speaks
            assert window.probs is None and "face-1 (not an input of fusion-" in window.reason, window.start_s
        elif window.start_s <= 2.0:
            assert window.quality == pytest.approx(0.8)  # the voice alone, at its quality
            assert int(np.argmax(window.probs)) == CANONICAL_LABELS.index("angry")
            assert window.probs[CANONICAL_LABELS.index("happy")] < 0.05


def test_attention_takes_a_windows_context_from_its_own_session_only():
    # Two sessions fused (or scored) together, as evaluation pairs them: the first window of the second session
    # is fused from itself alone, not from the last windows of the session before it (another person, another day).
    from runtime.fusion.align import FusionInput

    fuser = make_fuser("attention")
    modalities = fuser.modalities
    rows = ([[label_row(CANONICAL_LABELS, "angry", 0.9)] * len(modalities)] * 4
            + [[label_row(CANONICAL_LABELS, "sad", 0.6)] * len(modalities)])
    supported = np.ones((len(modalities), len(CANONICAL_LABELS)), dtype=bool)
    both = FusionInput(list(modalities), np.array(rows), np.ones((5, len(modalities))), supported,
                       np.array([0, 0, 0, 0, 1]))
    alone = both.subset(np.array([4]))
    np.testing.assert_allclose(fuser.fuse_arrays(both)[4], fuser.fuse_arrays(alone)[0], atol=1e-6)
