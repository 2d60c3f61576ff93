"""Learned fusers: trained on the host, run as ONNX through the one model interface, robust to a missing
modality.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from export.fusion.evaluate import with_missing
from export.fusion.pairs import pair_tables
from export.fusion.synthetic import synthetic_table, synthetic_track
from runtime.fusion import make_fuser
from runtime.fusion.learned import AttentionFusion, StackingFusion, modality_tokens, sequence_slices
from runtime.models import load_model
from runtime.track import CANONICAL_LABELS


@pytest.fixture(scope="module")
def paired():
    audio = synthetic_table("audio", [f"spk{i}" for i in range(6)], 12, skill=1.6, seed=1)
    face = synthetic_table("face", [f"img{i}" for i in range(40)], 6, skill=1.6, unsupported=["calm"], seed=2)
    return pair_tables([audio, face], sessions_per_person=12, windows_per_session=24, seed=0)


def _ua(probs: np.ndarray, targets: np.ndarray) -> float:
    from sklearn.metrics import balanced_accuracy_score

    return balanced_accuracy_score(targets, probs.argmax(1))


@pytest.fixture(scope="module")
def fitted(paired):
    train, targets = paired.part("train")
    stacking = StackingFusion().fit(train, targets)
    attention = AttentionFusion(train_options={"steps": 300}).fit(train, targets)
    return stacking, attention


def test_tokens_mark_absent_modalities_and_unsupported_labels_as_no_evidence(paired):
    data = paired.data.subset(np.arange(20))
    data.quality[3, 1] = 0.0
    tokens = modality_tokens(data)
    assert tokens.shape == (20, 2, 10)
    assert np.all(tokens[3, 1] == 0)
    # The face cannot speak about calm: its calm entry is a uniform guess over its 7 labels, not a zero.
    uniform = np.log(1 / 7) - np.log(1e-4)
    calm = CANONICAL_LABELS.index("calm")
    assert np.allclose(np.delete(tokens[:, 1, calm], 3), uniform)
    assert np.all(tokens[:, 0, 9] == 1)


def test_learned_fusers_beat_each_single_modality_on_held_out_people(paired, fitted):
    test, targets = paired.part("test")
    singles = [_ua(test.probs[:, j], targets) for j in range(2)]
    for fuser in fitted:
        assert _ua(fuser.fuse_arrays(test), targets) > max(singles) + 0.05, fuser.name


@pytest.mark.parametrize("missing", ["audio", "face"])
def test_learned_fusers_with_a_modality_missing_in_30pc_stay_above_the_remaining_one(paired, fitted, missing):
    test, targets = paired.part("test")
    remaining = 1 - test.modalities.index(missing)
    floor = _ua(test.probs[:, remaining], targets)
    holed = with_missing(test, missing, 0.3, seed=7)
    for fuser in fitted:
        assert _ua(fuser.fuse_arrays(holed), targets) >= floor, fuser.name


def test_exported_models_load_through_the_model_interface_with_their_card(fitted):
    stacking, attention = fitted
    for fuser, variants in ((stacking, ["default"]), (attention, ["float", "int8"])):
        card = json.loads((fuser.model / "card.json").read_text())
        assert card["modalities"] == ["audio", "face"] and card["labels"] == list(CANONICAL_LABELS)
        for variant in variants:
            assert load_model(fuser.model, variant=variant).card.id == f"fusion-{fuser.name}"


def test_attention_is_causal_so_a_live_window_does_not_wait_for_the_future(paired, fitted):
    _, attention = fitted
    test, _ = paired.part("test")
    part = sequence_slices(test.sequence)[0]
    session = test.subset(np.arange(part.start, part.stop))
    full = attention.fuse_arrays(session)
    head = attention.fuse_arrays(session.subset(np.arange(6)))
    assert np.allclose(full[:6], head, atol=1e-5)


def test_learned_fuser_fuses_tracks_into_a_fused_track(fitted):
    stacking, _ = fitted
    targets = [CANONICAL_LABELS.index("happy")] * 5
    tracks = [
        synthetic_track("audio", targets, 3.0, hop_s=2.0),
        synthetic_track("face", targets, 3.0, hop_s=2.0, unsupported=["calm"], seed=1),
    ]
    fused = make_fuser("stacking", model=str(stacking.model)).fuse(tracks, window_s=2.0, hop_s=2.0)
    assert len(fused.windows) == 5 and all(w.probs is not None for w in fused.windows)
    assert fused.model["modalities"] == ["audio", "face"]


def test_learned_fuser_falls_back_when_tracks_come_from_other_arm_models(fitted, tmp_path):
    import shutil

    stacking, _ = fitted
    folder = tmp_path / "fusion-stacking"
    shutil.copytree(stacking.model, folder)
    card = json.loads((folder / "card.json").read_text())
    card["arm_models"] = {"audio": "synthetic-audio", "face": "another-face-model"}
    (folder / "card.json").write_text(json.dumps(card))
    targets = [CANONICAL_LABELS.index("sad")] * 4
    tracks = [
        synthetic_track("audio", targets, 3.0, hop_s=2.0),
        synthetic_track("face", targets, 3.0, hop_s=2.0, unsupported=["calm"], seed=1),
    ]
    fused = make_fuser("stacking", model=str(folder)).fuse(tracks, window_s=2.0, hop_s=2.0)
    assert fused.model["fallback"]["method"] == "quality"
    assert "another-face-model" in fused.model["fallback"]["reason"]
    card["arm_models"]["face"] = "synthetic-face"
    (folder / "card.json").write_text(json.dumps(card))
    assert "fallback" not in make_fuser("stacking", model=str(folder)).fuse(tracks, hop_s=2.0).model


@pytest.mark.parametrize("which", ["stacking", "attention"])
def test_live_fusion_of_each_window_equals_file_mode_over_the_same_past(fitted, which):
    from runtime.fusion.live import LiveFusion

    fuser = dict(zip(["stacking", "attention"], fitted, strict=True))[which]
    targets = [CANONICAL_LABELS.index(label) for label in ["sad"] * 7 + ["happy"] * 7]
    tracks = [
        synthetic_track("audio", targets, 1.5, window_s=1.0, hop_s=1.0, seed=4),
        synthetic_track("face", targets, 1.5, window_s=1.0, hop_s=1.0, unsupported=["calm"], seed=5),
    ]
    whole = fuser.fuse(tracks, window_s=1.0, hop_s=1.0)
    live = LiveFusion(fuser, window_s=1.0, hop_s=1.0, context_windows=8)
    for window in whole.windows:
        assert live.window(tracks, window.start_s, window.end_s).probs == pytest.approx(
            window.probs, abs=1e-5
        )


@pytest.mark.parametrize("labels", [CANONICAL_LABELS[::-1], [x.replace("calm", "relaxed") for x in CANONICAL_LABELS]])
def test_a_fusion_model_whose_card_gives_other_labels_or_another_order_is_refused(fitted, tmp_path, labels):
    import shutil

    from runtime.errors import InputError

    folder = tmp_path / "fusion-stacking"
    shutil.copytree(fitted[0].model, folder)
    card = json.loads((folder / "card.json").read_text())
    card["labels"] = list(labels)  # its columns would be read as the spectrum's, in the spectrum's order
    (folder / "card.json").write_text(json.dumps(card))
    targets = [CANONICAL_LABELS.index("sad")] * 3
    tracks = [synthetic_track("audio", targets, 3.0, hop_s=2.0),
              synthetic_track("face", targets, 3.0, hop_s=2.0, unsupported=["calm"], seed=1)]
    with pytest.raises(InputError, match="gives the labels neutral, calm, happy.*in that order; its card gives"):
        make_fuser("stacking", model=str(folder)).fuse(tracks, hop_s=2.0)


@pytest.mark.parametrize(("recorded", "identity", "falls_back"), [
    ("synthetic-audio:session", {"variant": "session"}, False),
    ("synthetic-audio:session", {"variant": "none"}, True),
    ("synthetic-audio:session@2.0", {"variant": "session", "version": "2.0"}, False),
    ("synthetic-audio:session@2.0", {"variant": "session", "version": "2.1"}, True),  # retrained arm model
])
def test_arm_model_variant_and_version_in_the_card_must_match_the_track(fitted, tmp_path, recorded, identity,
                                                                        falls_back):
    import shutil

    stacking, _ = fitted
    folder = tmp_path / "fusion-stacking"
    shutil.copytree(stacking.model, folder)
    card = json.loads((folder / "card.json").read_text())
    card["arm_models"] = {"audio": recorded}
    (folder / "card.json").write_text(json.dumps(card))
    targets = [CANONICAL_LABELS.index("sad")] * 3
    audio = synthetic_track("audio", targets, 3.0, hop_s=2.0)
    face = synthetic_track("face", targets, 3.0, hop_s=2.0, unsupported=["calm"], seed=1)
    audio.model = {"id": "synthetic-audio", **identity}
    fused = make_fuser("stacking", model=str(folder)).fuse([audio, face], hop_s=2.0)
    assert ("fallback" in fused.model) == falls_back
    if falls_back:
        assert recorded in fused.model["fallback"]["reason"]


def test_stacking_repeats_a_modalitys_log_probabilities_only_where_it_is_the_one_present():
    # The second block of stacking's features lets a linear learner weigh a lone modality apart from a joint one:
    # it holds the voice's log-probabilities in a window where the voice alone claims, and nothing where both do
    # (the shipped stacking model was trained on exactly these features; another layout shifts what it reads).
    from runtime.fusion.align import FusionInput
    from runtime.fusion.learned import stacking_features

    row = np.full(8, 0.1 / 7)
    row[CANONICAL_LABELS.index("sad")] = 0.9
    data = FusionInput(["audio", "face"], np.array([[row, row], [row, row]]), np.array([[1.0, 1.0], [1.0, 0.0]]),
                       np.ones((2, 8), dtype=bool))
    features = stacking_features(data)
    tokens = modality_tokens(data)
    assert features.shape == (2, 2 * 10 + 2 * 8)
    assert np.all(features[0, 20:] == 0)  # both claim: no lone block
    np.testing.assert_allclose(features[1, 20:28], tokens[1, 0, :8])  # the voice alone
    assert np.all(features[1, 28:] == 0)  # the absent face


@pytest.mark.parametrize("other", ["physio-stress", "face-expression"])
def test_a_model_of_another_task_named_as_the_fuser_is_refused_as_no_fusion_model(other):
    from runtime.errors import InputError
    from runtime.models.card import REPO_MODELS_DIR

    fuser = StackingFusion(model=str(REPO_MODELS_DIR / other))
    # was: 'fusion model card lacks modalities', or the ensemble's 'has no model variant default'
    with pytest.raises(InputError, match=rf"{other}: not an emotion-fusion model \(task '.+'\)$"):
        _ = fuser.modalities
