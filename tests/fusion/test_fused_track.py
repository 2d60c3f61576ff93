"""Tracks in, the fused track out: common grid, quality as evidence, valence/arousal, incongruence flags."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from export.fusion.synthetic import synthetic_track
from runtime.config import load_settings
from runtime.fusion import fuse_with_settings, make_fuser, should_fuse
from runtime.fusion.align import align_tracks, resample_track
from runtime.timeline import Timeline, spectrum_stretches
from runtime.track import CANONICAL_LABELS, Track, Window, time_stood_for_s
from tests.conftest import analysis_software
from tests.memory import peak_traced_bytes

L = {label: i for i, label in enumerate(CANONICAL_LABELS)}


def probs_for(label: str, p: float, labels=CANONICAL_LABELS) -> list[float]:
    row = [(1 - p) / (len(labels) - 1)] * len(labels)
    row[list(labels).index(label)] = p
    return row


def test_resampling_weights_claims_by_overlap_and_counts_gaps_as_no_quality():
    track = Track(
        "audio",
        windows=[
            Window(0.0, 1.0, probs_for("sad", 0.9), 1.0),
            Window(1.0, 2.0, probs_for("happy", 0.9), 1.0),
        ],
    )
    probs, quality, _ = resample_track(track, [(0.5, 1.5), (1.0, 2.0), (2.0, 3.0)], CANONICAL_LABELS)
    assert probs[0, L["sad"]] == pytest.approx(probs[0, L["happy"]])
    assert probs[1].argmax() == L["happy"]
    assert np.isnan(probs[2]).all() and quality[2] == 0.0


def test_a_track_on_its_own_grid_is_itself_and_a_one_window_event_stays():
    # The voice's 2 s / 0.5 s grid, the fusion grid's default: angry 0.95 in 10-12 s alone, neutral around it. Was:
    # each grid window the overlap-weighted blend of the seven windows overlapping it (angry 0.28, neutral 0.45).
    windows = [Window(start_s, start_s + 2.0, probs_for("angry" if start_s == 10.0 else "neutral",
                                                         0.95 if start_s == 10.0 else 0.6), 0.5 + start_s / 40)
               for start_s in np.arange(0.0, 19.0, 0.5)]
    voice = Track("audio", windows=windows)
    aligned = align_tracks([voice], 2.0, 0.5)
    assert aligned.grid == [(w.start_s, w.end_s) for w in windows]
    np.testing.assert_allclose(aligned.emotion.probs[:, 0], [w.probs for w in windows], atol=1e-12)
    np.testing.assert_allclose(aligned.emotion.quality[:, 0], [w.quality for w in windows], atol=1e-12)
    fused = make_fuser("mean").fuse([voice], 2.0, 0.5)  # fusion.when = 'always' over a single track
    assert spectrum_stretches(fused) == spectrum_stretches(voice)


def test_a_face_at_a_1s_hop_gives_each_grid_window_the_face_window_at_its_centre_or_the_two_it_lies_between():
    faces = [Window(float(k), k + 2.0, probs_for(label, 0.9), 1.0)
             for k, label in enumerate(["happy", "sad", "angry", "happy", "sad"])]
    face = Track("face", windows=faces, unsupported_labels=["calm"])
    probs, quality, _ = resample_track(face, [(1.0, 3.0), (1.5, 3.5), (2.0, 4.0)], CANONICAL_LABELS, hop_s=0.5)
    assert probs[0] == pytest.approx(faces[1].probs)  # centred as the 1-3 s face window: that window alone
    assert probs[1] == pytest.approx((np.array(faces[1].probs) + faces[2].probs) / 2)  # between two: both alike
    assert probs[2] == pytest.approx(faces[2].probs)  # was a blend of the three faces overlapping it
    assert quality == pytest.approx([1.0, 1.0, 1.0])


def test_physio_windows_give_each_grid_window_the_one_nearest_and_its_end_loses_the_uncovered_share():
    physio = Track("physio", labels=["stress"],
                   windows=[Window(5.0 * k, 5.0 * k + 30.0, [0.1 * (k + 1)], 1.0) for k in range(3)])
    grid = [(10.0, 12.0), (19.0, 21.0), (38.0, 40.0), (39.0, 41.0)]
    probs, quality, _ = resample_track(physio, grid, ["stress"], hop_s=0.5)
    # centres 15, 20, 25: 11 s is the first window's, 20 s the second's, 39-40 s the last's (which ends at 40 s)
    assert probs[:, 0] == pytest.approx([0.1, 0.2, 0.3, 0.3])  # was 0.15 and 0.2 and 0.25: blends of all three
    assert quality == pytest.approx([1.0, 1.0, 1.0, 0.5])  # half of 39-41 s is past the last window


def test_long_physio_windows_cover_every_short_grid_window():
    physio = Track("physio", labels=["stress"], windows=[Window(0.0, 30.0, [0.8], 1.0)])
    aligned = align_tracks([physio], 2.0, 1.0, grid=[(0.0, 2.0), (10.0, 12.0), (28.0, 30.0)])
    assert aligned.other_probs["physio"]["stress"] == pytest.approx([0.8, 0.8, 0.8])
    assert aligned.emotion.modalities == []  # stress is not a canonical emotion


def test_fused_track_has_one_window_per_grid_step_and_says_where_no_modality_claimed():
    targets = [L["sad"]] * 8
    audio = synthetic_track("audio", targets, 3.0, hop_s=2.0, missing=[6, 7])
    face = synthetic_track("face", targets, 3.0, hop_s=2.0, unsupported=["calm"], missing=[1, 6, 7], seed=1)
    fused = make_fuser("quality").fuse([audio, face], window_s=2.0, hop_s=2.0)
    assert (
        fused.name == "fused" and len(fused.windows) == len(align_tracks([audio, face], 2.0, 2.0).grid) == 8
    )
    assert fused.windows[0].quality == pytest.approx(1.0)
    assert fused.windows[1].quality == pytest.approx(1.0)  # the voice's alone: the absent face counts neither way
    last = fused.windows[-1]
    assert last.probs is None and last.quality == 0.0 and last.reason
    assert fused.settings["modalities"] == ["audio", "face"]
    assert "calm" not in fused.unsupported_labels  # the voice speaks about calm


@pytest.mark.parametrize("method", ["mean", "quality", "stacking"])
def test_the_same_evidence_gets_the_same_fused_quality_whether_or_not_a_modality_claims_in_other_windows(method):
    # A voice of quality 0.3 alone in 0-2 s; a face claims only at 4-6 s, or never. Was: the mean over the fused
    # modalities, the absent face counted as quality 0, so 0.15 with the face seen later ('little evidence' in the
    # reading) and 0.3 without it, the same voice and the same probabilities.
    voice = Track("audio", windows=[Window(0.0, 2.0, probs_for("fearful", 0.9), 0.3),
                                    Window(4.0, 6.0, probs_for("fearful", 0.9), 0.3)])
    seen = Track("face", windows=[Window(0.0, 2.0, None, 0.0, "no face found"),
                                  Window(4.0, 6.0, probs_for("fearful", 0.8), 0.9)], unsupported_labels=["calm"])
    never = Track("face", windows=[Window(0.0, 2.0, None, 0.0, "no face found"),
                                   Window(4.0, 6.0, None, 0.0, "no face found")], unsupported_labels=["calm"])
    with_face, without = (make_fuser(method).fuse([voice, face], window_s=2.0, hop_s=2.0) for face in (seen, never))
    first = with_face.windows[0]
    assert first.quality == pytest.approx(without.windows[0].quality) == pytest.approx(0.3)
    assert first.probs == pytest.approx(without.windows[0].probs)
    assert with_face.windows[2].quality == pytest.approx(0.9)  # the best quality among the claims fused there
    said = spectrum_stretches(with_face)[0]
    assert said == spectrum_stretches(without)[0] and said.startswith("0.0-2.0 s: fearful (")  # not little evidence


def test_fused_track_round_trips_exactly_through_the_timeline_json():
    targets = [L["happy"]] * 4 + [L["angry"]] * 4
    tracks = [synthetic_track("audio", targets, 2.0), synthetic_track("face", targets, 2.0, seed=3)]
    fused = make_fuser("product").fuse(tracks)
    timeline = Timeline("x.mp4", 5.5, [*tracks, fused], software=analysis_software())
    assert Timeline.from_json(timeline.to_json()).to_dict() == timeline.to_dict()
    header = timeline.to_csv().splitlines()[0].split(",")
    assert {"valence", "arousal", "incongruent"} <= set(header)


def test_smiling_face_over_sad_voice_is_flagged_with_a_plain_reason():
    audio = Track(
        "audio",
        windows=[
            Window(0.0, 2.0, probs_for("sad", 0.85), 1.0),
            Window(2.0, 4.0, probs_for("sad", 0.85), 1.0),
        ],
    )
    face_labels = [label for label in CANONICAL_LABELS if label != "calm"]
    face = Track(
        "face",
        labels=face_labels,
        unsupported_labels=["calm"],
        windows=[
            Window(0.0, 2.0, probs_for("happy", 0.9, face_labels), 1.0),
            Window(2.0, 4.0, probs_for("sad", 0.7, face_labels), 1.0),
        ],
    )
    fused = make_fuser("mean").fuse([audio, face], grid=[(0.0, 2.0), (2.0, 4.0)])
    first, second = fused.windows
    assert first.measurements["incongruent"] == 1.0
    assert "face happy" in first.reason and "audio sad" in first.reason
    assert second.measurements["incongruent"] == 0.0 and second.reason == ""


FACE_LABELS = [label for label in CANONICAL_LABELS if label != "calm"]


def _face(name: str, label: str, p: float = 0.9) -> Track:
    return Track(name, labels=FACE_LABELS, unsupported_labels=["calm"],
                 windows=[Window(0.0, 2.0, probs_for(label, p, FACE_LABELS), 1.0)])


def test_a_modality_the_method_ignores_is_not_compared_for_incongruence():
    # weight 0: the fused window is the face's alone, so a sad voice beside it is no disagreement in what was fused
    # (was: 'incongruent: audio sad (0.90) vs face happy (0.90)')
    audio = Track("audio", windows=[Window(0.0, 2.0, probs_for("sad", 0.9), 1.0)])
    tracks = [audio, _face("face", "happy")]
    ignored = make_fuser("weighted", weights={"audio": 0.0}).fuse(tracks, grid=[(0.0, 2.0)]).windows[0]
    assert ignored.probs[L["happy"]] > 0.8
    assert ignored.measurements["incongruent"] == 0.0 and "incongruent" not in ignored.reason
    assert "incongruence_jsd" not in ignored.measurements
    weighed = make_fuser("weighted", weights={"audio": 0.5}).fuse(tracks, grid=[(0.0, 2.0)]).windows[0]
    assert weighed.measurements["incongruent"] == 1.0 and "audio sad" in weighed.reason


@pytest.mark.parametrize("method", ["mean", "stacking"])
def test_two_peoples_faces_are_not_incongruent_but_each_against_the_voice_is(method):
    # face.person = "all": two people feeling differently is not one person's channels disagreeing
    two_faces = [_face("face-1", "happy"), _face("face-2", "sad")]
    fused = make_fuser(method).fuse(two_faces, grid=[(0.0, 2.0)]).windows[0]
    assert fused.measurements["incongruent"] == 0.0 and "vs face-2" not in fused.reason
    voice = Track("audio", windows=[Window(0.0, 2.0, probs_for("angry", 0.9), 1.0)])
    with_voice = make_fuser("mean").fuse([voice, *two_faces], grid=[(0.0, 2.0)]).windows[0]
    assert "audio angry (0.90) vs face-1 happy" in with_voice.reason
    assert "audio angry (0.90) vs face-2 sad" in with_voice.reason
    assert "face-1 happy (0.90) vs face-2" not in with_voice.reason


def test_each_pair_that_disagrees_and_its_labels_are_measurements_of_the_window_read_back_as_the_reason_says():
    from runtime.checks import column_taken
    from runtime.fusion.affect import disagreeing_labels

    voice = Track("audio", windows=[Window(0.0, 2.0, probs_for("angry", 0.9), 1.0)])
    fused = make_fuser("mean").fuse([voice, _face("face-1", "happy"), _face("face-2", "sad", 0.7)],
                                    grid=[(0.0, 2.0)])
    window = fused.windows[0]
    # was: the pairs and their labels in the reason's words alone
    assert window.measurements["incongruent_audio_angry"] == pytest.approx(0.9)
    assert window.measurements["incongruent_face-1_happy"] == pytest.approx(0.9)
    assert window.measurements["incongruent_face-2_sad"] == pytest.approx(0.7)
    divergences = [window.measurements[f"incongruent_audio_vs_face-{n}"] for n in (1, 2)]
    assert all(0.4 <= bits <= window.measurements["incongruence_jsd"] for bits in divergences)
    assert "incongruent_face-1_vs_face-2" not in window.measurements  # two people: never a pair
    timeline = Timeline("x.mp4", 2.0, [voice, fused], software=analysis_software())
    read = Timeline.from_json(timeline.to_json()).track("fused")
    pairs = disagreeing_labels(read.windows[0].measurements, read.settings["modalities"], read.labels)
    assert [f"{a} {label_a}" for a, label_a, *_ in pairs] == ["audio angry"] * 2
    assert all(f"{a} {label_a} ({window.measurements[f'incongruent_{a}_{label_a}']:.2f}) vs {b} {label_b}"
               in window.reason for a, label_a, b, label_b in pairs)
    assert [(b, label_b) for *_, b, label_b in pairs] == [("face-1", "happy"), ("face-2", "sad")]
    # no model's own label may take a name the fused windows give as a timeline column
    assert all(column_taken(name) for name in window.measurements)


def test_calm_voice_over_neutral_face_is_not_incongruent():
    audio = Track("audio", windows=[Window(0.0, 2.0, probs_for("calm", 0.9), 1.0)])
    face = Track("face", windows=[Window(0.0, 2.0, probs_for("neutral", 0.9), 1.0)])
    fused = make_fuser("mean").fuse([audio, face], grid=[(0.0, 2.0)])
    assert fused.windows[0].measurements["incongruent"] == 0.0


@pytest.mark.parametrize("calm", [0.9, 0.6])
def test_calm_voice_over_happy_face_is_not_incongruent_whatever_the_voices_leftover(calm):
    # the face cannot name calm, so it says nothing against it (was flagged, the divergence measured against the
    # voice's leftover spread over the face's labels)
    audio = Track("audio", windows=[Window(0.0, 2.0, probs_for("calm", calm), 1.0)])
    fused = make_fuser("mean").fuse([audio, _face("face", "happy")], grid=[(0.0, 2.0)]).windows[0]
    assert fused.measurements["incongruent"] == 0.0 and fused.reason == ""
    # a label both can name still disagrees
    sad = Track("audio", windows=[Window(0.0, 2.0, probs_for("sad", calm), 1.0)])
    assert make_fuser("mean").fuse([sad, _face("face", "happy")], grid=[(0.0, 2.0)]).windows[0].measurements[
        "incongruent"] == 1.0


def test_valence_follows_the_spectrum_and_physio_stress_raises_arousal():
    happy = Track("audio", windows=[Window(0.0, 2.0, probs_for("happy", 0.9), 1.0)])
    sad = Track("audio", windows=[Window(0.0, 2.0, probs_for("sad", 0.9), 1.0)])
    calm_physio = Track("physio", labels=["stress"], windows=[Window(0.0, 30.0, [0.05], 1.0)])
    stressed = Track("physio", labels=["stress"], windows=[Window(0.0, 30.0, [0.95], 1.0)])
    fuser = make_fuser("mean")
    grid = [(0.0, 2.0)]
    v_happy = fuser.fuse([happy], grid=grid).windows[0].measurements["valence"]
    v_sad = fuser.fuse([sad], grid=grid).windows[0].measurements["valence"]
    assert v_happy > 0 > v_sad
    low = fuser.fuse([sad, calm_physio], grid=grid, arousal_from=["physio.stress"]).windows[0].measurements
    high = fuser.fuse([sad, stressed], grid=grid, arousal_from=["physio.stress"]).windows[0].measurements
    assert high["arousal"] > low["arousal"]
    assert high["arousal_physio_stress"] == pytest.approx(0.9)


def test_body_activation_without_labels_contributes_to_arousal():
    body = Track("body", labels=[], windows=[Window(0.0, 2.0, None, 1.0, "", {"activation": 0.9})])
    audio = Track("audio", windows=[Window(0.0, 2.0, probs_for("neutral", 0.9), 1.0)])
    out = make_fuser("mean").fuse([audio, body], grid=[(0.0, 2.0)], arousal_from=["body.activation"])
    assert out.windows[0].measurements["arousal"] > 0.3


def test_no_model_label_may_take_the_column_of_an_arousal_source():
    from runtime.checks import column_taken

    body = Track("body", labels=[], windows=[Window(0.0, 2.0, None, 1.0, "", {"activation": 0.9})])
    audio = Track("audio", windows=[Window(0.0, 2.0, probs_for("neutral", 0.9), 1.0)])
    out = make_fuser("mean").fuse([audio, body], grid=[(0.0, 2.0)], arousal_from=["body.activation"])
    measurements = out.windows[0].measurements
    assert "arousal_body_activation" in measurements
    # was: a model label 'arousal_body_activation' passed, and the CSV had two columns of that name
    assert all(column_taken(name) for name in measurements)


def test_body_activation_moves_arousal_by_its_window_quality():
    # A body window of quality 0.078 (the pose barely seen) must not pull arousal as a full-quality one would.
    angry = Track("audio", windows=[Window(0.0, 2.0, probs_for("angry", 0.9), 1.0)])
    grid = [(0.0, 2.0)]
    alone = make_fuser("mean").fuse([angry], grid=grid).windows[0].measurements["arousal"]
    by_quality = {}
    for quality in (0.078, 1.0):
        body = Track("body", labels=[], windows=[Window(0.0, 2.0, None, quality, "", {"activation": 0.1})])
        fused = make_fuser("mean").fuse([angry, body], grid=grid, arousal_from=["body.activation"])
        by_quality[quality] = fused.windows[0].measurements
    activation = by_quality[1.0]["arousal_body_activation"]  # 2 * 0.1 - 1
    assert activation == pytest.approx(-0.8)
    for quality, measured in by_quality.items():
        assert measured["arousal"] == pytest.approx((alone + quality * activation) / (1 + quality))
    unmeasured = Track("body", labels=[], windows=[Window(0.0, 2.0, None, 0.0, "no pose", {"activation": 0.1})])
    fused = make_fuser("mean").fuse([angry, unmeasured], grid=grid, arousal_from=["body.activation"])
    assert fused.windows[0].measurements["arousal"] == pytest.approx(alone)


def test_fusion_runs_as_the_default_settings_say_and_only_when_due():
    settings = load_settings(None)
    targets = [L["angry"]] * 6
    audio = synthetic_track("audio", targets, 2.0, hop_s=2.0)
    face = synthetic_track("face", targets, 2.0, hop_s=2.0, seed=5)
    assert not should_fuse([audio], settings["fusion"]["when"])
    assert should_fuse([audio, face], settings["fusion"]["when"])
    assert should_fuse([audio], "always")
    fused = fuse_with_settings([audio, face], settings["fusion"])
    assert fused.settings["method"] == settings["fusion"]["method"]
    weighted = fuse_with_settings(
        [audio, face], {**settings["fusion"], "method": "weighted", "hop_s": 2.0, "weights": "audio=1,face=0"}
    )
    assert weighted.windows[0].probs == pytest.approx(audio.windows[0].probs)


def test_shipped_default_fuser_falls_back_to_quality_for_arm_models_it_was_not_trained_on():
    settings = load_settings(None)
    targets = [L["fearful"]] * 6
    tracks = [
        synthetic_track("audio", targets, 2.5, hop_s=2.0),
        synthetic_track("face", targets, 2.5, hop_s=2.0, unsupported=["calm"], seed=2),
    ]
    fused = fuse_with_settings(tracks, {**settings["fusion"], "hop_s": 2.0})
    assert fused.model["method"] == settings["fusion"]["method"] == "stacking"
    assert fused.model["fallback"]["method"] == "quality"
    quality = make_fuser("quality").fuse(tracks, window_s=2.0, hop_s=2.0)
    assert [w.probs for w in fused.windows] == [w.probs for w in quality.windows]


@pytest.mark.parametrize("method", ["stacking", "attention"])
def test_shipped_learned_fusers_run_on_tracks_of_the_shipped_arm_models(method):
    from runtime.models import load_card

    settings = load_settings(None)
    targets = [L["happy"]] * 6 + [L["angry"]] * 6
    audio = synthetic_track("audio", targets, 4.0, hop_s=2.0)
    face = synthetic_track("face", targets, 4.0, hop_s=2.0, unsupported=["calm"], seed=3)
    # The identities the shipped arm models give their tracks: a fuser trained on older arm models would fall back.
    audio.model = {"id": "audio-emotion", "variant": "session", "version": load_card("audio-emotion").version}
    face.model = {"id": "face-expression", "version": load_card("face-expression").version}
    fused = fuse_with_settings([audio, face], {**settings["fusion"], "method": method, "hop_s": 2.0})
    assert "fallback" not in fused.model and fused.model["id"] == f"fusion-{method}"
    predicted = [int(np.argmax(w.probs)) for w in fused.windows]
    assert np.mean(np.array(predicted) == np.array(targets)) >= 0.8
    assert all(abs(sum(w.probs) - 1.0) < 1e-5 for w in fused.windows)


def _voice_like_track(minutes: float, seed: int = 0) -> Track:
    """An audio track as the arm makes it: 2 s windows every 0.5 s, claims and a few measurements."""
    rng = np.random.default_rng(seed)
    windows = []
    for start_s in np.arange(0.0, minutes * 60 - 2.0 + 1e-9, 0.5):
        probs = rng.dirichlet(np.ones(len(CANONICAL_LABELS))).tolist()
        windows.append(Window(float(start_s), float(start_s) + 2.0, probs, float(rng.uniform(0.1, 1.0)),
                              measurements={"loudness_db": float(rng.normal(60, 5)), "f0_median_hz": 150.0}))
    return Track("audio", windows=windows)


def test_aligning_a_session_twice_as_long_does_not_take_four_times_the_memory():
    short, long = _voice_like_track(10), _voice_like_track(20)
    short_bytes = peak_traced_bytes(align_tracks, [short], 2.0, 0.5)
    long_bytes = peak_traced_bytes(align_tracks, [long], 2.0, 0.5)
    # One overlap matrix of every grid window against every track window grew with the square of the length
    # (an hour of voice on the 0.5 s grid: 415 MB a copy); a block of the grid at a time grows with the length.
    assert long_bytes < 2.5 * short_bytes


def _dense_reference(track: Track, grid: list[tuple[float, float]], hop_s: float = 0.5,
                     kept: list[Window] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and quality on ``grid`` from the whole overlap matrix at once: the definition. The time each
    window stands for is taken among all of ``track``'s windows; ``kept`` (default all) are the ones counted."""
    g = np.asarray(grid, dtype=float)
    ordered = sorted(track.windows, key=lambda w: w.start_s)
    stood = dict(zip(map(id, ordered), time_stood_for_s([(w.start_s, w.end_s) for w in ordered]), strict=True))
    windows = [w for w in track.windows if kept is None or any(w is k for k in kept)]
    starts = np.array([w.start_s for w in windows])
    ends = np.array([w.end_s for w in windows])
    from_s = np.array([stood[id(w)][0] for w in windows])
    to_s = np.array([stood[id(w)][1] for w in windows])
    centres = g.mean(1, keepdims=True)
    own_from, own_to = np.maximum(g[:, 0:1], centres - hop_s / 2), np.minimum(g[:, 1:2], centres + hop_s / 2)
    overlap = np.clip(np.minimum(own_to, to_s[None]) - np.maximum(own_from, from_s[None]), 0.0, None)
    quality_w = np.array([w.quality if w.has_claim else 0.0 for w in windows])
    weights = overlap * quality_w[None]
    matrix = np.array([w.probs if w.probs is not None else [0.0] * len(CANONICAL_LABELS) for w in windows])
    with np.errstate(invalid="ignore", divide="ignore"):
        probs = weights @ matrix / weights.sum(1)[:, None]
    probs[weights.sum(1) <= 0] = np.nan
    coverage = overlap.sum(1)
    lengths = g[:, 1] - g[:, 0]
    covered = np.array([_union_s([(max(a, start), min(b, end)) for a, b in zip(starts, ends, strict=True)])
                        for start, end in g])
    with np.errstate(invalid="ignore", divide="ignore"):
        return probs, np.where(coverage > 0, overlap @ quality_w / coverage * covered / lengths, 0.0)


def _union_s(spans: list[tuple[float, float]]) -> float:
    """Seconds inside at least one of the spans."""
    total, reached = 0.0, -np.inf
    for start, end in sorted(span for span in spans if span[1] > span[0]):
        total += max(end - max(start, reached), 0.0)
        reached = max(reached, end)
    return total


def test_a_grid_window_partly_covered_by_overlapping_track_windows_loses_the_uncovered_share_of_its_quality():
    # Face windows of 2 s every 1 s from 3.3 s, at full quality: 3.0-3.3 s of the first grid window has none.
    from runtime.fusion.align import _resample

    face = Track("face", windows=[Window(3.3 + i, 5.3 + i, probs_for("happy", 0.9), 1.0, "", {"yaw_deg": 5.0})
                                  for i in range(4)])
    grid = [(3.0, 5.0), (2.5, 4.5), (4.0, 6.0), (9.0, 11.0)]
    _, quality, measurements, measured_quality = _resample(face, grid, CANONICAL_LABELS)
    assert quality == pytest.approx([0.85, 0.6, 1.0, 0.0])  # were 1.0 and 0.7: overlapping time counted twice
    assert measured_quality["yaw_deg"] == pytest.approx([0.85, 0.6, 1.0, 0.0])
    assert measurements["yaw_deg"][:3] == pytest.approx([5.0] * 3)


def test_resampling_block_by_block_gives_the_whole_matrix_result_for_windows_in_any_order():
    from runtime.fusion.align import GRID_BLOCK_WINDOWS

    track = _voice_like_track(GRID_BLOCK_WINDOWS * 2.5 / 60)  # a grid of several blocks
    rng = np.random.default_rng(1)
    del track.windows[100:160]  # a gap
    track.windows.append(Window(0.0, 400.0, probs_for("angry", 0.7), 0.3))  # a long window across blocks
    track.windows = [track.windows[i] for i in rng.permutation(len(track.windows))]
    grid = align_tracks([track], 2.0, 0.5).grid
    assert len(grid) > 2 * GRID_BLOCK_WINDOWS
    probs, quality, _ = resample_track(track, grid, CANONICAL_LABELS)
    expected_probs, expected_quality = _dense_reference(track, grid)
    np.testing.assert_allclose(probs, expected_probs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(quality, expected_quality, rtol=1e-12, atol=1e-15)


def test_weights_for_a_modality_the_session_lacks_are_said_not_silently_dropped(caplog):
    settings = load_settings(None, {"fusion.method": "weighted", "fusion.weights": "audio=0.3,face=0.7,physio=2"})
    targets = [L["sad"]] * 6
    tracks = [synthetic_track("audio", targets, 2.0, hop_s=2.0), synthetic_track("face", targets, 2.0, hop_s=2.0)]
    with caplog.at_level("WARNING"):
        fuse_with_settings(tracks, settings["fusion"])
    # was: nothing said; a config's physio weight with no physio recording simply did nothing
    assert caplog.messages == ["fusion.weights weigh physio, of which this session has no track: fused from audio, "
                               "face"]
    caplog.clear()
    with caplog.at_level("WARNING"):
        fuse_with_settings(tracks[:1] + [synthetic_track("body", targets, 2.0, hop_s=2.0)],
                           {**settings["fusion"], "weights": "face=1"})
    assert caplog.messages == ["fusion.weights weigh face, of which this session has no track: fused from the "
                               "others at weight 1"]


def test_a_face_weight_weighs_the_face_track_of_every_person_and_names_them_present(caplog):
    settings = load_settings(None)
    audio = synthetic_track("audio", [L["angry"]] * 6, 2.0, hop_s=2.0)
    faces = [synthetic_track(f"face-{n}", [L["happy"]] * 6, 2.0, hop_s=2.0, seed=n) for n in (1, 2)]
    section = {**settings["fusion"], "method": "weighted", "hop_s": 2.0}

    def fused_probs(weights: str) -> np.ndarray:
        return np.array([w.probs for w in fuse_with_settings([audio, *faces], {**section, "weights": weights}).windows])

    with caplog.at_level("WARNING"):
        by_family = fused_probs("audio=1,face=0")
        by_name = fused_probs("audio=1,face-1=0,face-2=0")
    assert "no track" not in caplog.text  # was: "weigh face-1, face-2, of which this session has no track"
    np.testing.assert_allclose(by_family, by_name)  # was: both faces at weight 1 beside the voice
    np.testing.assert_allclose(by_family, [w.probs for w in audio.windows], atol=1e-6)
    np.testing.assert_allclose(fused_probs("audio=1,face=0,face-2=5"), fused_probs("audio=1,face-1=0,face-2=5"))


def test_weights_that_leave_no_emotion_track_of_the_session_are_said(caplog):
    settings = load_settings(None)
    tracks = [synthetic_track("audio", [L["sad"]] * 6, 2.0, hop_s=2.0),
              synthetic_track("face", [L["sad"]] * 6, 2.0, hop_s=2.0)]
    with caplog.at_level("WARNING"):
        fused = fuse_with_settings(tracks, {**settings["fusion"], "method": "weighted", "hop_s": 2.0,
                                            "weights": "audio=0,face=0"})
    assert all(w.probs is None for w in fused.windows)
    assert caplog.messages == ["fusion.weights weigh every emotion track of this session (audio, face) 0: the fused "
                               "track makes no claim"]


def test_arousal_from_a_lone_weak_source_says_how_little_stands_behind_it():
    grid = [(36.0, 38.0)]
    body = Track("body", [], [Window(36.0, 38.0, None, 0.23, "no expression model",
                                     measurements={"activation": 0.95})], [], {"id": "body"})
    fused = make_fuser("mean").fuse([body], grid=grid, arousal_from=["body.activation"])
    measured = fused.windows[0].measurements
    assert measured["arousal"] == pytest.approx(0.9)  # the activation alone, 2 * 0.95 - 1
    # was: nothing beside it to say it rests on a body window of quality 0.23, in a window of quality 0
    assert measured["arousal_quality"] == pytest.approx(0.23)
    angry = Track("audio", list(CANONICAL_LABELS), [Window(36.0, 38.0, probs_for("angry", 0.9), 0.8)], [],
                  {"id": "a"})
    both = make_fuser("mean").fuse([angry, body], grid=grid, arousal_from=["body.activation"])
    assert both.windows[0].measurements["arousal_quality"] == 1.0  # 0.8 + 0.23, at most 1


def test_measurements_taken_in_different_windows_each_get_the_quality_of_their_own_windows():
    from runtime.fusion.align import _resample

    track = _voice_like_track(3)
    for k, window in enumerate(track.windows):  # one measurement missing in some windows, another NaN in others
        window.measurements["f0_median_hz"] = float("nan") if k % 3 == 0 else 150.0
        if k % 5 == 0:
            del window.measurements["loudness_db"]
        window.measurements["jitter"] = 0.01  # measured in every window, as the claims' time is
    grid = align_tracks([track], 2.0, 0.5).grid
    _, _, measurements, measured_quality = _resample(track, grid, CANONICAL_LABELS)
    for name in ("f0_median_hz", "loudness_db", "jitter"):
        kept = [w for w in track.windows if np.isfinite(w.measurements.get(name, np.nan))]
        # the definition: the windows that measured it alone, every one counted at its quality, claim or none, each
        # for the time it stands for among all the track's windows (a window without the value leaves its time out)
        _, expected = _dense_reference(track, grid, kept=kept)
        np.testing.assert_allclose(measured_quality[name], expected, rtol=1e-12, atol=1e-15)
    assert np.nanmax(measurements["f0_median_hz"]) == pytest.approx(150.0)


@pytest.mark.parametrize("method", ["mean", "quality", "product"])
def test_a_fused_label_none_of_the_window_s_modalities_can_name_is_an_empty_cell_and_null_not_0(method):
    # A calm voice beside a neutral face in 0-2 s, the face alone in 4-6 s; a FER face has no calm. Was: calm 0 in
    # 4-6 s in both files, which reads "certainly not calm" where nothing there could have said calm.
    calm = CANONICAL_LABELS.index("calm")
    voice = Track("audio", windows=[Window(0.0, 2.0, probs_for("calm", 0.9), 1.0)])
    face = Track("face", labels=FACE_LABELS, unsupported_labels=["calm"],
                 windows=[Window(start_s, start_s + 2.0, probs_for("neutral", 0.7, FACE_LABELS), 1.0)
                          for start_s in (0.0, 4.0)])
    fused = make_fuser(method).fuse([voice, face], grid=[(0.0, 2.0), (4.0, 6.0)])
    timeline = Timeline("x.mp4", 6.0, [voice, face, fused], software=analysis_software())
    both, face_alone = [row for row in csv.DictReader(io.StringIO(timeline.to_csv())) if row["track"] == "fused"]
    assert float(both["calm"]) > 0.0 and face_alone["calm"] == ""
    assert float(face_alone["neutral"]) > 0.5 and face_alone["happy"] != ""  # what the face can name keeps a number
    written = [w["probs"] for w in json.loads(timeline.to_json())["tracks"][2]["windows"]]
    assert written[0][calm] > 0.0 and written[1][calm] is None
    assert sum(p for p in written[1] if p is not None) == pytest.approx(1.0)  # over the labels it can name
    read = Timeline.from_json(timeline.to_json()).track("fused")
    assert read.windows[1].probs[calm] is None
    assert spectrum_stretches(read)[-1].startswith("4.0-6.0 s: neutral (")


def test_a_nan_a_method_gives_for_a_label_it_can_name_stays_nan_for_the_writer_to_refuse(monkeypatch):
    # only a label nothing there can name gets no probability (None): a NaN out of a faulty method (a broken graph)
    # is not passed off as one (was: any non-finite value written as an empty cell)
    fuser = make_fuser("mean")
    happy = CANONICAL_LABELS.index("happy")

    def broken(data):
        probs = np.full((data.n_windows, len(CANONICAL_LABELS)), 1.0 / len(CANONICAL_LABELS))
        probs[:, happy] = np.nan
        return probs

    monkeypatch.setattr(fuser, "probabilities", broken)
    fused = fuser.fuse([Track("audio", windows=[Window(0.0, 2.0, probs_for("calm", 0.9), 1.0)])], grid=[(0.0, 2.0)])
    assert fused.windows[0].probs[happy] is not None and np.isnan(fused.windows[0].probs[happy])


def test_a_label_only_an_ignored_modality_speaks_about_is_listed_unsupported_by_the_fused_track():
    # weight 0 on the voice: calm is never given, so the fused track lists it unsupported (was: not, as the voice
    # beside it speaks about calm)
    audio = Track("audio", windows=[Window(0.0, 2.0, probs_for("calm", 0.9), 1.0)])
    tracks = [audio, _face("face", "happy")]
    ignored = make_fuser("weighted", weights={"audio": 0.0}).fuse(tracks, grid=[(0.0, 2.0)])
    assert "calm" in ignored.unsupported_labels and ignored.windows[0].probs[CANONICAL_LABELS.index("calm")] is None
    read = make_fuser("weighted", weights={"audio": 0.5}).fuse(tracks, grid=[(0.0, 2.0)])
    assert "calm" not in read.unsupported_labels


def test_a_window_without_a_claim_lends_no_quality_to_the_grid_window_it_shares_with_a_claim():
    # A claim of quality 0.3 in 0-2 s, then a window with no probabilities in 2-4 s (measured, quality 1): the grid
    # window 1-3 s takes half its time from each, and the one with no claim counts as quality 0 (module docstring),
    # so 0.15, 'little evidence'; counting its 1.0 would make a claim of 0.65 out of a weak one.
    track = Track("audio", windows=[Window(0.0, 2.0, probs_for("sad", 0.9), 0.3),
                                    Window(2.0, 4.0, None, 1.0, "no claim", {"loudness_db": 60.0})])
    probs, quality, _ = resample_track(track, [(1.0, 3.0)], CANONICAL_LABELS, hop_s=2.0)
    assert quality == pytest.approx([0.15])
    assert probs[0] == pytest.approx(probs_for("sad", 0.9))


def test_a_label_a_track_lists_unsupported_is_an_abstention_even_where_its_windows_give_it_0():
    # A face track written with all eight labels and calm listed unsupported (calm 0 in each window) fuses as the
    # same face without a calm column: it abstains on calm rather than voting 'certainly not calm'.
    voice = Track("audio", windows=[Window(0.0, 2.0, probs_for("calm", 0.8), 1.0)])
    seven = _face("face", "neutral", 0.7)
    row = probs_for("neutral", 0.7, FACE_LABELS)
    row.insert(CANONICAL_LABELS.index("calm"), 0.0)
    eight = Track("face", labels=list(CANONICAL_LABELS), unsupported_labels=["calm"],
                  windows=[Window(0.0, 2.0, row, 1.0)])
    fused = [make_fuser("mean").fuse([voice, face], grid=[(0.0, 2.0)]).windows[0] for face in (seven, eight)]
    assert fused[1].probs == pytest.approx(fused[0].probs)
    assert fused[1].probs[CANONICAL_LABELS.index("calm")] > 0.5
    alone = make_fuser("mean").fuse([eight], grid=[(0.0, 2.0)])
    assert "calm" in alone.unsupported_labels and alone.windows[0].probs[CANONICAL_LABELS.index("calm")] is None


def test_two_modalities_at_exactly_the_incongruence_quality_floor_are_compared():
    # incongruence's min_quality (0.3) admits a claim of that quality: a sad voice and a happy face both at 0.3 are
    # flagged; one at 0.29 is too little evidence to call a disagreement.
    def fused_at(quality: float):
        audio = Track("audio", windows=[Window(0.0, 2.0, probs_for("sad", 0.9), quality)])
        face = Track("face", labels=FACE_LABELS, unsupported_labels=["calm"],
                     windows=[Window(0.0, 2.0, probs_for("happy", 0.9, FACE_LABELS), quality)])
        return make_fuser("mean").fuse([audio, face], grid=[(0.0, 2.0)]).windows[0]

    assert fused_at(0.3).measurements["incongruent"] == 1.0
    assert fused_at(0.29).measurements["incongruent"] == 0.0


@pytest.mark.parametrize("unsure", ["audio", "face"])
def test_a_disagreement_needs_both_modalities_confident_in_their_top_label(unsure):
    # A voice sure of sad (0.9) beside a face only 0.45 happy (under min_confidence 0.5), and the other way round:
    # the unsure one names no emotion firmly enough to contradict the other.
    audio = Track("audio", windows=[Window(0.0, 2.0, probs_for("sad", 0.45 if unsure == "audio" else 0.9), 1.0)])
    face = Track("face", labels=FACE_LABELS, unsupported_labels=["calm"],
                 windows=[Window(0.0, 2.0, probs_for("happy", 0.45 if unsure == "face" else 0.9, FACE_LABELS), 1.0)])
    fused = make_fuser("mean").fuse([audio, face], grid=[(0.0, 2.0)],
                                    incongruence_settings={"min_divergence": 0.1}).windows[0]
    assert fused.measurements["incongruent"] == 0.0 and fused.reason == ""


def test_the_incongruence_divergence_is_in_bits_over_the_labels_both_modalities_name():
    from runtime.fusion.affect import jensen_shannon

    # bits: two certain, different labels are 1 bit apart (in nats it would be 0.69, and min_divergence 0.4 bits
    # would flag pairs it should not)
    assert jensen_shannon(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])) == pytest.approx([1.0])
    # over the labels both name: a voice sure of calm, even over the rest, beside a face even over its seven labels
    # (it has no calm) agree on everything they both can say: 0 bits
    audio = Track("audio", windows=[Window(0.0, 2.0, probs_for("calm", 0.9), 1.0)])
    face = Track("face", labels=FACE_LABELS, unsupported_labels=["calm"],
                 windows=[Window(0.0, 2.0, [1 / 7] * 7, 1.0)])
    fused = make_fuser("mean").fuse([audio, face], grid=[(0.0, 2.0)]).windows[0]
    assert fused.measurements["incongruence_jsd"] == pytest.approx(0.0, abs=1e-9)


def test_a_window_with_probabilities_at_quality_zero_is_no_evidence():
    # Quality 0 is no claim, whatever probabilities the window carries: read as 'no evidence' (not 'little
    # evidence' or its label), and a track of nothing else has nothing to say to fusion.
    blank = Track("audio", windows=[Window(0.0, 2.0, probs_for("happy", 0.9), 0.0)])
    assert not blank.windows[0].has_claim
    assert spectrum_stretches(blank) == ["0.0-2.0 s: no evidence"]
    face = Track("face", windows=[Window(0.0, 2.0, probs_for("sad", 0.9), 1.0)])
    assert not should_fuse([blank, face], "multiple")


def test_a_fused_window_at_exactly_the_weak_quality_reads_as_its_emotion_and_under_it_as_little_evidence():
    # 'little evidence' is a quality under WEAK_QUALITY (0.2): a claim of 0.2, which quality fusion accepts, reads
    # as its emotion.
    def said(quality: float) -> str:
        voice = Track("audio", windows=[Window(0.0, 2.0, probs_for("sad", 0.9), quality)])
        return spectrum_stretches(make_fuser("mean").fuse([voice], grid=[(0.0, 2.0)]))[0]

    assert said(0.2).startswith("0.0-2.0 s: sad (")
    assert said(0.19) == "0.0-2.0 s: little evidence"


def test_the_fused_rows_of_timeline_csv_give_each_windows_times_and_quality_to_six_decimals():
    # A fused window of quality 0.123457 (a voice of that quality alone) on a grid of uneven times: the CSV's
    # start_s, end_s and quality cells are the window's own numbers, not rounded further.
    voice = Track("audio", windows=[Window(0.25, 2.375, probs_for("sad", 0.9), 0.123457)])
    fused = make_fuser("mean").fuse([voice], grid=[(0.25, 2.375)])
    timeline = Timeline("x.mp4", 2.375, [voice, fused], software=analysis_software())
    row = next(row for row in csv.DictReader(io.StringIO(timeline.to_csv())) if row["track"] == "fused")
    assert (row["start_s"], row["end_s"], row["quality"]) == ("0.25", "2.375", "0.123457")
    assert float(row["sad"]) == pytest.approx(0.9)


def test_a_short_gap_between_fused_windows_reads_as_no_evidence_not_as_either_neighbours_emotion():
    # A fused grid with 0.3 s between two windows (a gap in the tracks): that 0.3 s is 'no evidence' in the
    # reading, however short, and neither sad stretch reaches into it.
    voice = Track("audio", windows=[Window(0.0, 2.0, probs_for("sad", 0.9), 1.0),
                                    Window(2.3, 4.3, probs_for("sad", 0.9), 1.0)])
    fused = make_fuser("mean").fuse([voice], grid=[(0.0, 2.0), (2.3, 4.3)])
    assert spectrum_stretches(fused) == ["0.0-2.0 s: sad (90%)", "2.0-2.3 s: no evidence", "2.3-4.3 s: sad (90%)"]


def test_a_modality_weighed_0_is_not_compared_for_incongruence_whichever_of_the_pair_it_is():
    # face weighed 0: the fused window is the voice's alone, so the happy face beside the sad voice is no
    # disagreement in what was fused (the test above weighs the voice 0, the first of the pair).
    audio = Track("audio", windows=[Window(0.0, 2.0, probs_for("sad", 0.9), 1.0)])
    fused = make_fuser("weighted", weights={"face": 0.0}).fuse([audio, _face("face", "happy")],
                                                               grid=[(0.0, 2.0)]).windows[0]
    assert fused.measurements["incongruent"] == 0.0 and fused.reason == ""


def test_touching_track_windows_of_unequal_length_meet_half_way_between_their_centres():
    # A 2 s sad window then a 1 s happy one right after it (a shorter last window): they meet at 1.75 s, half-way
    # between their centres (1 s, 2.5 s), so the grid window 1.5-2.0 s takes half from each, not the sad one alone.
    track = Track("audio", windows=[Window(0.0, 2.0, probs_for("sad", 0.9), 1.0),
                                    Window(2.0, 3.0, probs_for("happy", 0.9), 1.0)])
    probs, _, _ = resample_track(track, [(1.5, 2.0)], CANONICAL_LABELS, hop_s=0.5)
    assert probs[0] == pytest.approx((np.array(probs_for("sad", 0.9)) + probs_for("happy", 0.9)) / 2)
