"""Rule-based fusers on hand-made windows: abstention on unsupported labels, quality, weights, the modality
check.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from export.fusion.synthetic import synthetic_probs
from runtime.errors import InputError
from runtime.fusion import FUSERS, make_fuser, parse_weights
from runtime.fusion.align import FusionInput
from runtime.fusion.base import modality_metrics, normalise_rows
from runtime.fusion.methods import (
    MIN_WEIGHT,
    AccuracyWeightedFusion,
    ProductFusion,
    QualityAwareFusion,
    card_metrics_or_reason,
)
from runtime.track import CANONICAL_LABELS, Track, leading_label_index
from tests.fusion.rows import ALL, NO_CALM, L, inputs, one_hotish
from tests.fusion.tracks import labelled_track


@pytest.mark.parametrize("name", ["mean", "accuracy", "accuracy-class", "quality", "product"])
def test_agreeing_modalities_keep_their_label_and_rows_sum_to_one(name):
    data = inputs([[one_hotish("sad", 0.7), one_hotish("sad", 0.6)]])
    fused = make_fuser(name).fuse_arrays(data)
    assert fused.argmax(1)[0] == L["sad"]
    assert np.allclose(fused.sum(1), 1.0)


@pytest.mark.parametrize("name", ["mean", "product"])
def test_unsupported_label_is_abstention_not_zero_evidence(name):
    # A calm voice over a neutral face: the face cannot say "calm", so it must not vote against it.
    audio = one_hotish("calm", 0.8)
    face = one_hotish("neutral", 0.5, NO_CALM)
    fused = make_fuser(name).fuse_arrays(inputs([[audio, face]], supported=[ALL, NO_CALM]))
    zero_evidence = make_fuser(name).fuse_arrays(inputs([[audio, face]], supported=[ALL, ALL]))
    assert fused[0, L["calm"]] > zero_evidence[0, L["calm"]]
    assert fused.argmax(1)[0] == L["calm"]


def test_quality_aware_drops_a_missing_modality_and_renormalises():
    audio = one_hotish("angry", 0.6)
    face = one_hotish("happy", 0.9)
    fused = QualityAwareFusion().fuse_arrays(inputs([[audio, face]], quality=[[1.0, 0.0]]))
    assert np.allclose(fused[0], audio)


def test_quality_aware_lets_the_better_quality_modality_lead():
    audio = one_hotish("angry", 0.6)
    face = one_hotish("happy", 0.6)
    fused = QualityAwareFusion().fuse_arrays(
        inputs([[audio, face], [audio, face]], quality=[[0.9, 0.3], [0.3, 0.9]])
    )
    assert fused.argmax(1).tolist() == [L["angry"], L["happy"]]


def test_quality_aware_drops_an_unreliable_modality_below_min_quality():
    audio = one_hotish("angry", 0.6)
    face = one_hotish("happy", 0.95)
    fused = QualityAwareFusion(min_quality=0.2).fuse_arrays(inputs([[audio, face]], quality=[[0.8, 0.1]]))
    assert np.allclose(fused[0], audio)


def test_fixed_weights_decide_between_disagreeing_modalities():
    audio = one_hotish("angry", 0.6)
    face = one_hotish("happy", 0.6)
    data = inputs([[audio, face]])
    assert (
        make_fuser("weighted", weights={"audio": 0.8, "face": 0.2}).fuse_arrays(data).argmax() == L["angry"]
    )
    assert (
        make_fuser("weighted", weights={"audio": 0.2, "face": 0.8}).fuse_arrays(data).argmax() == L["happy"]
    )


def _skilled(n: int, skills: tuple[float, float], seed: int = 0) -> tuple[FusionInput, np.ndarray]:
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, 8, n)
    probs = np.stack([synthetic_probs(targets, ALL, s, rng) for s in skills], axis=1)
    return FusionInput(["audio", "face"], probs, np.ones((n, 2)), np.stack([ALL, ALL])), targets


def test_accuracy_weights_follow_each_modalitys_measured_accuracy():
    train, targets = _skilled(800, (4.0, 0.3))
    fuser = AccuracyWeightedFusion().fit(train, targets)
    weights = fuser.weights(train)
    assert weights[0, 0] > 3 * weights[1, 0]
    test, test_targets = _skilled(800, (4.0, 0.3), seed=1)
    fused_ua = np.mean(fuser.fuse_arrays(test).argmax(1) == test_targets)
    mean_ua = np.mean(make_fuser("mean").fuse_arrays(test).argmax(1) == test_targets)
    assert fused_ua > mean_ua


def test_per_class_accuracy_weights_differ_by_class():
    train, targets = _skilled(800, (2.0, 2.0))
    # The face never recognises "angry": its weight for that class must drop.
    angry = targets == L["angry"]
    train.probs[angry, 1] = one_hotish("happy", 0.9)
    fuser = AccuracyWeightedFusion(per_class=True).fit(train, targets)
    weights = fuser.weights(train)
    assert weights[1, L["angry"]] < weights[1, L["sad"]]


def test_accuracy_weights_come_from_the_model_card_without_fit(tmp_path):
    folder = tmp_path / "voice-model"
    folder.mkdir()
    (folder / "card.json").write_text(
        json.dumps(
            {
                "id": "voice-model",
                "version": "1",
                "task": "voice-emotion",
                "labels": list(CANONICAL_LABELS),
                "files": {},
                # fearful: no validation clips of it, so no recall (null), as export.metrics writes it
                "metrics": {"validation": {"int8": {"ua": 0.71, "per_class_recall": {"sad": 0.5, "fearful": None}}}},
            }
        )
    )
    track = Track(name="audio", model={"id": str(folder)})
    found = card_metrics_or_reason(track)[0]
    assert found["ua"] == pytest.approx(0.71)
    assert found["per_class_recall"] == {"sad": 0.5}
    fuser = AccuracyWeightedFusion()
    fuser.prepare([track])
    assert fuser.metrics["audio"]["ua"] == pytest.approx(0.71)


def test_product_check_discounts_a_modality_contradicting_beyond_its_calibration():
    train, targets = _skilled(600, (3.0, 3.0))
    fuser = ProductFusion().fit(train, targets)
    # Three modalities: two agree on sad; the third is near-certain of happy, far below its calibration.
    data = FusionInput(
        ["audio", "face", "body"],
        np.array([[one_hotish("sad", 0.7), one_hotish("sad", 0.7), one_hotish("happy", 0.999)]]),
        np.ones((1, 3)),
        np.stack([ALL, ALL, ALL]),
    )
    fuser.metrics["body"] = dict(fuser.metrics["audio"])
    assert fuser.contradiction(data)[0].tolist() == [False, False, True]
    assert fuser.fuse_arrays(data).argmax() == L["sad"]
    unchecked = ProductFusion(discount=1.0, metrics=fuser.metrics).fuse_arrays(data)
    assert unchecked[0, L["sad"]] < fuser.fuse_arrays(data)[0, L["sad"]]


def test_product_temperature_softens_an_overconfident_modality():
    rng = np.random.default_rng(0)
    targets = rng.integers(0, 8, 800)
    sharp = synthetic_probs(targets, ALL, 12.0, rng) ** 1.0
    # Overconfident: right only half the time, always near-certain.
    wrong = rng.random(800) < 0.5
    sharp[wrong] = np.roll(sharp[wrong], 1, axis=1)
    data = FusionInput(["face"], sharp[:, None], np.ones((800, 1)), ALL[None])
    fuser = ProductFusion().fit(data, targets)
    assert fuser.metrics["face"]["temperature"] > 2.0
    # The fused output is the tempered modality: far less sure than the raw one, which is wrong half the time.
    assert fuser.fuse_arrays(data).max(1).mean() < sharp.max(1).mean() - 0.2


def test_parse_weights_reads_pairs_and_refuses_bad_ones():
    assert parse_weights("audio=0.3, face=0.7") == {"audio": 0.3, "face": 0.7}
    assert parse_weights("face=0") == {"face": 0.0}  # was refused as "every weight is 0"; unnamed ones weigh 1
    for bad in ("audio", "audio=x", "audio=-1", "=0.3", ""):
        with pytest.raises(InputError):
            parse_weights(bad)


def test_unknown_method_is_an_input_error_naming_the_choices():
    with pytest.raises(InputError, match="product"):
        make_fuser("median")
    assert {"mean", "weighted", "accuracy", "quality", "product", "stacking", "attention"} <= set(FUSERS)


def test_a_window_where_only_zero_weight_modalities_claim_makes_no_claim():
    face_labels = [label for label in CANONICAL_LABELS if label != "calm"]
    audio = labelled_track("audio", "sad", 20, 0.5)  # 0-11.5 s
    face = labelled_track("face", "happy", 4, 1.0, face_labels)  # 0-5 s only
    fused = make_fuser("weighted", weights={"audio": 0.0, "face": 1.0}).fuse([audio, face])
    by_start = {w.start_s: w for w in fused.windows}
    late = by_start[5.0]  # 5-7 s: only the voice, weighted 0, speaks
    assert late.probs is None and late.quality == 0.0
    assert "audio (weight 0)" in late.reason and "valence" not in late.measurements
    early = by_start[0.0]
    assert leading_label_index(early.probs) == L["happy"]
    assert early.quality == pytest.approx(1.0)  # the face, the one modality fused, at full quality
    dim_face = labelled_track("face", "happy", 4, 1.0, face_labels, quality=0.4)
    quiet = make_fuser("weighted", weights={"audio": 0.0, "face": 1.0}).fuse([audio, dim_face])
    # The voice, at full quality but weight 0, adds nothing to the quality of a window both claim.
    assert {w.start_s: w for w in quiet.windows}[0.0].quality == pytest.approx(0.4)


@pytest.mark.parametrize("text", ["audio=inf,face=1", "audio=nan", "audio=1e308,face=1e308", "audio=1e999",
                                  "audio=1,face=2,audio=3"])
def test_parse_weights_refuses_infinite_overflowing_and_repeated_weights(text):
    with pytest.raises(InputError) as error:
        parse_weights(text)
    assert str(error.value).startswith("--weights: ") and "\n" not in str(error.value)


def test_weighted_fusion_refuses_bad_weights_given_directly():
    for bad in ({"audio": -1.0}, {"audio": float("inf")}):
        with pytest.raises(InputError):
            make_fuser("weighted", weights=bad)
    # Huge or tiny weights are only ratios: no overflow, no underflow.
    data = inputs([[one_hotish("angry", 0.6), one_hotish("happy", 0.7)]])
    for scale in (1e300, 1e-300):
        w = {"audio": 0.8 * scale, "face": 0.2 * scale}
        assert make_fuser("weighted", weights=w).fuse_arrays(data) == pytest.approx(
            make_fuser("weighted", weights={"audio": 0.8, "face": 0.2}).fuse_arrays(data)
        )


def _voice_card(folder, version="2"):
    folder.mkdir(exist_ok=True)
    (folder / "card.json").write_text(json.dumps({
        "id": "voice-model", "version": version, "task": "voice-emotion", "labels": list(CANONICAL_LABELS),
        "files": {"session": "session.onnx", "none": "none.onnx"},
        "sha256": {"session": "a" * 64, "none": "b" * 64},
        "metrics": {"cv": {
            "session/clip": {"ua": 0.72, "recall": {"sad": 0.7}},
            "session/window": {"ua": 0.66, "recall": {"sad": 0.6}, "temperature": 1.5},
            "none/clip": {"ua": 0.60},
            "none/window": {"ua": 0.55, "recall": {"sad": 0.5}},
        }},
    }))
    return folder


@pytest.mark.parametrize(("identity", "ua"), [
    ({"variant": "session", "version": "2", "sha256": "a" * 64}, 0.66),  # window level, the track's variant
    ({"variant": "none", "version": "2", "sha256": "b" * 64}, 0.55),  # the baseline-free variant's own figure
    ({"variant": "session", "version": "3"}, None),  # another version under the same id: not its card
    ({"variant": "session", "version": "2", "sha256": "c" * 64}, None),  # another file, same version
])
def test_accuracy_weights_come_from_the_card_and_variant_of_the_tracks_own_model(tmp_path, identity, ua):
    folder = _voice_card(tmp_path / "voice-model")
    track = labelled_track("audio", "sad", 2, 0.5)
    track.model = {"id": str(folder), **identity}
    found = card_metrics_or_reason(track)[0]
    if ua is None:
        assert found is None
        fuser = AccuracyWeightedFusion()
        fuser.prepare([track])
        assert "audio" not in fuser.metrics and fuser.describe()["unmeasured"]["audio"]
    else:
        assert found["ua"] == pytest.approx(ua)
        assert found.get("temperature") == (1.5 if identity["variant"] == "session" else None)


def test_accuracy_weights_skip_a_shipped_card_of_another_version():
    from runtime.models import load_card

    shipped = load_card("audio-emotion")
    track = labelled_track("audio", "sad", 2, 0.5)
    track.model = {"id": "audio-emotion", "variant": "session", "version": "retrained-elsewhere"}
    assert card_metrics_or_reason(track)[0] is None
    track.model = {"id": "audio-emotion", "variant": "session", "version": shipped.version,
                   "sha256": shipped.sha256.get("session", "")}
    found = card_metrics_or_reason(track)[0]
    assert found["ua"] == pytest.approx(shipped.metrics["cv"]["session/window"]["ua"])
    assert found["source"].endswith("card, session/window")  # the timeline says which figure weighed the voice


def test_quality_aware_follows_the_strongest_modality_when_every_one_is_below_min_quality():
    data = inputs([[one_hotish("angry", 0.9), one_hotish("happy", 0.9)]], quality=[[0.15, 0.10]])
    fused = QualityAwareFusion(min_quality=0.2).fuse_arrays(data)
    assert fused.argmax(1)[0] == L["angry"] and fused[0, L["angry"]] > 0.5  # some evidence beats none


def test_product_fusion_takes_a_flat_modality_as_no_evidence_whatever_its_label_count():
    audio = one_hotish("sad", 0.6)
    flat_face = np.where(NO_CALM, 1 / 7, 0.0)  # seven labels, none preferred: calm must not gain from it
    both = ProductFusion().fuse_arrays(inputs([[audio, flat_face]], supported=[ALL, NO_CALM]))
    alone = ProductFusion().fuse_arrays(FusionInput(["audio"], audio[None, None], np.ones((1, 1)), ALL[None]))
    np.testing.assert_allclose(both, alone, atol=1e-9)


def test_accuracy_weights_are_the_margin_over_chance_of_the_labels_a_modality_supports():
    data = inputs([[one_hotish("sad", 0.6), one_hotish("happy", 0.6, NO_CALM)]], supported=[ALL, NO_CALM])
    fuser = AccuracyWeightedFusion(metrics={"audio": {"ua": 0.10}, "face": {"ua": 0.50}})
    weights = fuser.weights(data)
    assert weights[0, 0] == pytest.approx(MIN_WEIGHT)  # below chance: a little say, never a vote against
    assert weights[1, 0] == pytest.approx(0.50 - 1 / 7)


def test_a_modalitys_unweighted_accuracy_is_its_mean_recall_not_its_accuracy():
    targets = np.array([L["happy"]] * 9 + [L["sad"]])
    probs = np.array([one_hotish("happy", 0.9)] * 10)[:, None]  # always happy: 90 % accurate, half the recall
    data = FusionInput(["audio"], probs, np.ones((10, 1)), ALL[None])
    assert modality_metrics(data, targets)["audio"]["ua"] == pytest.approx(0.5)


def test_normalise_rows_sums_each_row_to_one_and_makes_an_all_zero_row_uniform():
    rows = normalise_rows(np.array([[1.0, 3.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [-1.0, 1.0, 0.0, 0.0]]))
    assert rows.sum(1) == pytest.approx([1.0, 1.0, 1.0])
    assert rows[0].tolist() == [0.25, 0.75, 0.0, 0.0]
    assert rows[1].tolist() == [0.25] * 4
    assert rows[2].tolist() == [0.0, 1.0, 0.0, 0.0]  # a negative score is no evidence


def test_a_claim_at_exactly_the_weak_quality_floor_is_pooled_by_quality_fusion():
    # WEAK_QUALITY (0.2) is the floor itself: a claim of quality 0.2 is accepted, as evidence_quality's promise
    # says ("quality >= 0.2 never reads as little evidence"); only one below it drops out.
    audio = one_hotish("angry", 0.6)
    face = one_hotish("happy", 0.9)
    fused = QualityAwareFusion().fuse_arrays(inputs([[audio, face]], quality=[[0.2, 0.9]]))
    assert fused[0, L["angry"]] == pytest.approx((0.2 * 0.6 + 0.9 * 0.1 / 7) / 1.1)
    below = QualityAwareFusion().fuse_arrays(inputs([[audio, face]], quality=[[0.19, 0.9]]))
    assert np.allclose(below[0], face)


@pytest.mark.parametrize("name", ["mean", "weighted", "accuracy", "accuracy-class", "quality"])
def test_a_linear_pool_of_modalities_that_name_different_labels_still_sums_to_one(name):
    # A calm voice and a face without calm: calm is pooled over the voice alone, the rest over both, so the pooled
    # values add up to more than 1 until they are renormalised (fuse_arrays' promise: rows sum to 1).
    data = inputs([[one_hotish("calm", 0.8), one_hotish("neutral", 0.7, NO_CALM)]], supported=[ALL, NO_CALM])
    fused = make_fuser(name).fuse_arrays(data)
    assert fused.sum(1) == pytest.approx([1.0])
    assert fused.argmax(1)[0] == L["calm"]


def test_a_value_under_a_label_a_modality_withholds_is_not_taken_for_its_prediction():
    # A table row with a stale 0.9 under happy where the modality gave happy no probability (null): FusionInput
    # reads it as no probability, so the modality's prediction there is its best named label, sad, not happy.
    row = one_hotish("happy", 0.9)
    row[L["sad"]] = 0.08
    withheld = np.zeros((1, 1, 8), dtype=bool)
    withheld[0, 0, L["happy"]] = True
    data = FusionInput(["audio"], row[None, None], np.ones((1, 1)), ALL[None], withheld=withheld)
    assert data.probs[0, 0, L["happy"]] == 0.0
    assert modality_metrics(data, np.array([L["sad"]]))["audio"]["per_class_recall"] == {"sad": 1.0}


def test_a_modality_below_chance_keeps_a_little_say_so_a_window_it_claims_alone_follows_it():
    # The voice's card says UA 0.10 (below chance): its weight is the floor, not 0, so where it is the only
    # modality that claims, the fused window is its spectrum rather than a uniform guess from no weight at all.
    data = inputs([[one_hotish("sad", 0.6), one_hotish("happy", 0.6)]], quality=[[1.0, 0.0]])
    fuser = AccuracyWeightedFusion(metrics={"audio": {"ua": 0.10}, "face": {"ua": 0.50}})
    assert fuser.weights(data)[0, 0] > 0
    assert np.allclose(fuser.fuse_arrays(data)[0], one_hotish("sad", 0.6))


def test_a_spectrum_on_labels_no_input_of_the_window_names_becomes_even_over_those_it_names():
    # A fuser (a learned one) that puts everything on calm in a window where only a face without calm claims: the
    # labels the face can name share it evenly (no evidence either way), not 0 each (a row that sums to nothing).
    from runtime.fusion.base import only_nameable

    face_alone = inputs([[one_hotish("calm", 0.9), one_hotish("happy", 0.9, NO_CALM)]], quality=[[0.0, 1.0]],
                        supported=[ALL, NO_CALM])
    all_calm = np.zeros((1, 8))
    all_calm[0, L["calm"]] = 1.0
    kept = only_nameable(all_calm, face_alone)
    assert kept[0, L["calm"]] == 0.0
    assert kept[0, NO_CALM] == pytest.approx(np.full(7, 1 / 7))
