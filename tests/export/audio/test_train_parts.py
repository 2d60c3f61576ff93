"""The small parts of voice-emotion training and export, on hand-built arrays: which rows each model is fitted on,
what each variant's features are, and what the card says. No feature extraction, no training run."""

import json
import shlex
from pathlib import Path

import numpy as np
import pytest

import export.audio.train as train
from export.audio.export import _RAVDESS_LICENCE, _card, model_card_markdown, ravdess_share
from export.audio.train import (
    LABELS,
    TrainingRows,
    clip_level,
    default_validation_speakers,
    fit_classifier,
    predict_proba,
)
from tests.export.audio.fit_spy import rows_each_fit_sees
from tests.export.audio.runs import LOGREG, card_inputs, card_of, speakers_table, with_clips

SMALL_MLP = {**train.CLASSIFIER, "hidden": 8, "alpha": 0.01, "members": 2}


def test_session_rows_are_z_scored_per_speaker_and_per_copy_and_none_rows_are_the_raw_features():
    # the session variant is read on the device against the session's own baseline; the none variant standardises
    # inside its graph: swapping them, or z-scoring over every speaker at once, trains on what the device never sees
    table, y_clip, speaker_clip = speakers_table({"a": 8, "b": 12, "c": 10})
    faster, _, _ = speakers_table({"a": 8, "b": 12, "c": 10}, seed=1)
    session = TrainingRows.build(table, y_clip, speaker_clip, "session", augmented=(faster,))
    none = TrainingRows.build(table, y_clip, speaker_clip, "none", augmented=(faster,))
    n = table.clip_index.size
    assert np.array_equal(none.features, np.concatenate([table.features, faster.features]))
    for part in (slice(0, n), slice(n, 2 * n)):  # the clips as they are, then their perturbed copy
        for speaker in "abc":
            rows = session.features[part][session.groups[part] == speaker]
            np.testing.assert_allclose(rows.mean(axis=0), 0.0, atol=1e-4)
            np.testing.assert_allclose(rows.std(axis=0), 1.0, atol=1e-3)
    assert session.original.tolist() == [True] * n + [False] * n


@pytest.mark.parametrize("spec", [LOGREG, SMALL_MLP], ids=["logreg", "mlp"])
def test_a_fit_lacking_labels_keeps_eight_outputs_in_label_order_and_never_picks_an_absent_one(spec):
    # a fold's training speakers may lack a label: their columns must stay where the labels are, and never win
    rng = np.random.default_rng(0)
    present = [1, 4, 6]  # calm, angry, disgust
    y = np.repeat(present, 30)
    centres = {1: (8, 0, 0), 4: (0, 8, 0), 6: (0, 0, 8)}
    x = rng.normal(size=(y.size, 3)) + np.array([centres[label] for label in y])
    model = fit_classifier(x, y, spec)
    probs = predict_proba(model, x)
    assert probs.shape == (y.size, 8)
    assert np.array_equal(probs.argmax(axis=1), y)
    probes = rng.normal(scale=20.0, size=(500, 3))  # anywhere, not only near the training clips
    absent = [i for i in range(8) if i not in present]
    assert predict_proba(model, np.concatenate([x, probes]))[:, absent].max() < 1e-6


@pytest.mark.parametrize("spec", [LOGREG, {**SMALL_MLP, "max_iter": 3000}], ids=["logreg", "mlp"])
def test_a_fit_on_two_labels_tells_them_apart(spec):
    # a fold whose training speakers hold two labels (or a clinic's manifest of two emotions) is a binary fit:
    # sklearn gives it one logit, which was copied to both labels (0.5 each whatever the voice)
    rng = np.random.default_rng(0)
    y = np.repeat([2, 5], 20)
    x = rng.normal(size=(40, 3))
    x[:, 0] += 6.0 * (y == 5)
    probs = predict_proba(fit_classifier(x, y, spec), x)
    assert np.array_equal(probs.argmax(axis=1), y)
    assert probs[:, [2, 5]].sum(axis=1) == pytest.approx(1.0)


def test_a_two_label_regression_keeps_sklearns_probabilities(monkeypatch):
    from sklearn.linear_model import LogisticRegression

    fitted = []
    fit = LogisticRegression.fit
    monkeypatch.setattr(LogisticRegression, "fit", lambda self, x, y: fitted.append((self, x)) or fit(self, x, y))
    rng = np.random.default_rng(1)
    y = np.repeat([2, 5], 20)
    x = rng.normal(size=(40, 3)) + 1.0 * (y == 5)[:, None]  # overlapping: probabilities between 0 and 1
    model = fit_classifier(x, y, LOGREG)
    regression, standard = fitted[-1]
    # softmax(-z/2, z/2) is sigmoid(z); softmax(-z, z) would push every probability towards 0 or 1
    np.testing.assert_allclose(predict_proba(model, x)[:, [2, 5]], regression.predict_proba(standard), atol=1e-5)


def test_a_clip_without_any_window_is_unclaimed_and_uniform():
    # a clip with no speech window makes no claim: it must count as wrong, not as whatever its row held
    window_probs = np.eye(8)[[2, 2, 5]]
    probs, claimed = clip_level(window_probs, np.array([0, 0, 2]), 3)
    assert claimed.tolist() == [True, False, True]
    np.testing.assert_allclose(probs[1], 1 / 8)
    assert probs[0].argmax() == 2 and probs[2].argmax() == 5


def test_the_default_validation_speakers_are_the_last_fifth_in_sorted_order():
    # the README's figures hold out RAVDESS actors 17-20 of 01-20; the order given must not matter
    actors = [f"ravdess-{n:02d}" for n in range(20, 0, -1)]
    assert default_validation_speakers(actors) == ["ravdess-17", "ravdess-18", "ravdess-19", "ravdess-20"]
    assert default_validation_speakers(["cy", "ann", "bob"]) == ["cy"]


def test_the_check_model_never_sees_the_validation_speakers_and_validation_npz_holds_only_theirs(tmp_path,
                                                                                                 monkeypatch):
    # export's float-vs-INT8 check scores the check model on validation.npz: both sides must be the held-out speakers
    table, y_clip, speaker_clip = speakers_table({"a": 8, "b": 12, "c": 10})
    seen = rows_each_fit_sees(monkeypatch)
    train._fit_and_save(table, y_clip, speaker_clip, ["c"], tmp_path)
    assert seen == [30, 20, 30, 20]  # per variant: every speaker (shipped), then a and b alone (check)
    validation = np.load(tmp_path / "validation.npz")
    held_out = speaker_clip[table.clip_index] == "c"
    assert set(validation["groups"].tolist()) == {"c"}
    assert np.array_equal(validation["features"], table.features[held_out])
    assert np.array_equal(validation["y"], y_clip[table.clip_index][held_out])
    assert json.loads(str(np.load(tmp_path / "models.npz")["meta"]))["validation_speakers"] == ["c"]


def test_the_cross_validated_figures_carry_intervals_over_resampled_speakers_of_the_out_of_fold_predictions():
    from export.metrics import group_bootstrap_intervals

    table, y_clip, speaker_clip = with_clips(*speakers_table({"a": 8, "b": 12, "c": 10, "d": 8, "e": 10, "f": 12}))
    folds = [["a", "d"], ["b", "e"], ["c", "f"]]
    results = train.cross_validate(table, y_clip, speaker_clip, folds, LOGREG)
    for mode in train.MODES:
        window_probs = TrainingRows.build(table, y_clip, speaker_clip, mode).out_of_fold(folds, LOGREG)
        clip_probs, claimed = clip_level(window_probs, table.clip_index, len(y_clip))
        y_window, speaker_window = y_clip[table.clip_index], speaker_clip[table.clip_index]
        for level, expected in (
                ("clip", group_bootstrap_intervals(y_clip, np.where(claimed, clip_probs.argmax(axis=1), -1),
                                                   speaker_clip, len(LABELS))),
                ("window", group_bootstrap_intervals(y_window, window_probs.argmax(axis=1), speaker_window,
                                                     len(LABELS)))):
            interval = results[f"{mode}/{level}"]["interval_95"]
            assert interval["unit"] == "speaker" and interval["ua"] == pytest.approx(expected["ua"])
            assert interval["macro_f1"] == pytest.approx(expected["macro_f1"])
            assert interval["ua"][0] < interval["ua"][1]  # six speakers unlike each other: a spread
    # two speakers: an interval, said to be rough
    two = train.cross_validate(*with_clips(*speakers_table({"a": 8, "b": 12})), [["a"], ["b"]], LOGREG)
    assert "rough" in two["session/clip"]["interval_95"]["note"]


# --- the card ---------------------------------------------------------------------------------------------


def test_the_card_carries_each_cross_validated_figure_under_its_own_name(tmp_path):
    card = card_of(tmp_path, [f"s{n}" for n in range(8)])
    for name, figures in card["report"]["cv"].items():
        assert card["metrics"]["cv"][name] == {k: figures[k] for k in ("ua", "wa", "macro_f1", "ece", "n",
                                                                      "no_claim", "recall")}
    text = model_card_markdown(card, tmp_path)
    # the table's columns are UA, WA, macro-F1, ECE in that order
    assert "| variant / level | UA | WA | macro-F1 | ECE |" in text
    assert "| none/clip | 0.301 | 0.302 | 0.303 | 0.304 |" in text


def test_the_card_says_the_reports_number_of_folds_and_its_rebuild_uses_it(tmp_path):
    # a run of 4 folds is neither the default 5 nor the tests' usual 3
    card = card_of(tmp_path, [f"s{n}" for n in range(8)], folds=4)
    assert card["metrics"]["protocol"].startswith("leave-speakers-out cross-validation, 4 folds ")
    text = model_card_markdown(card, tmp_path)
    assert "4 folds (GroupKFold" in text
    assert "emotrace train audio clinic/voices --out runs/audio --cv-folds 4 --validation-speakers s7\n" in text


def test_a_card_exported_beside_the_shipped_model_rebuilds_beside_it_not_over_it(tmp_path):
    card = card_of(tmp_path, [f"s{n}" for n in range(8)], folds=4)
    assert "emotrace export audio runs/audio --replace\n" in model_card_markdown(card, tmp_path)
    exported = model_card_markdown(card, tmp_path, shipped=False)
    # was: '--replace' too, a recipe that wrote over the shipped model, past the guard meant to stop it
    assert "emotrace export audio runs/audio --models-dir DIR\n" in exported and "audio --replace" not in exported


@pytest.mark.parametrize(("speakers", "named"), [
    (("site2-P01", "site3-P02", "site1-P01"), "site1-P01"),  # was 'P01', the end of two: refused when re-run
    (("P01", "site3-P02", "site2-P01"), "site2-P01"),  # was 'P01', which selects the speaker P01
    (("ravdess-16", "ravdess-18", "ravdess-17"), "17"),  # the end alone where it names one speaker
    (("Roe, Ann", "P02", "Doe, Jane"), '"Doe, Jane"'),  # a comma inside an id: quoted (was: split into two names)
])
def test_a_rebuild_line_names_its_validation_speakers_so_that_a_rerun_selects_them_alone(tmp_path, speakers, named):
    from export.audio.datasets import load_corpus, speaker_list
    from runtime.cli import build_parser
    from tests.export.audio.corpora import write_manifest

    data = write_manifest(tmp_path / "clinic voices", speakers=speakers, labels=("happy", "sad"))  # a space: quoted
    card = card_of(tmp_path, list(speakers), folds=3, data=str(data))  # the last speaker is the validation one
    rebuild = model_card_markdown(card, tmp_path).split("## Rebuild")[1].split("```")[1].strip().splitlines()
    args = build_parser().parse_args(shlex.split(rebuild[0])[1:])
    assert args.validation_speakers == named and args.data == data
    resolved = train.resolve_speakers(speaker_list(args.validation_speakers), load_corpus(data).speakers, data)
    assert resolved == [speakers[-1]]


def test_a_validation_speaker_list_reads_a_space_after_a_comma_and_refuses_a_broken_value_in_one_line(capsys):
    from export.audio.datasets import speaker_list
    from runtime.cli import main

    assert speaker_list('P01, "Doe, Jane"') == ["P01", "Doe, Jane"]  # was: ['P01', ' "Doe', ' Jane"']
    for value in ("a\nb", 'a,"b'):  # was: an internal error (csv's), a traceback
        assert main(["train", "audio", "data", "--out", "o", "--validation-speakers", value]) == 2
        assert capsys.readouterr().err == (f"emotrace: error: --validation-speakers: {value!r} is not a "
                                           "comma-separated list of speakers (no line breaks; an id in double quotes "
                                           "closes them)\n")


def test_how_much_of_a_run_is_ravdess_is_read_from_its_speakers_and_the_clips_it_read():
    from export.audio.datasets import Clip, ravdess_clips

    assert ravdess_share({"speakers": ["ravdess-01", "ravdess-02"]}) == "all"
    # a clinic's speakers beside RAVDESS actors: RAVDESS's terms still bind the model
    assert ravdess_share({"speakers": ["ravdess-01", "ann"]}) == "part"
    assert ravdess_share({"speakers": ["ann", "bob"], "ravdess_clips": 0}) == ""
    # RAVDESS files a manifest gives speaker ids of its own, counted when the run read them (was: the manifest
    # read again at export, so data moved since training lost the licence)
    clips = [Clip(Path("clinic/rec_1.wav"), "ann", "sad", "manifest"),
             Clip(Path("Actor_10/03-01-05-01-01-01-10.wav"), "A10", "angry", "manifest")]
    assert ravdess_clips(clips) == 1
    assert ravdess_share({"speakers": ["A10", "ann"], "ravdess_clips": ravdess_clips(clips)}) == "part"
    # every clip a RAVDESS recording under a manifest's ids: RAVDESS is all of it (was: "part", the rest's licence
    # said to be unrecorded)
    assert ravdess_share({"speakers": ["A10", "A11"], "n_clips": 48, "ravdess_clips": 48}) == "all"
    assert ravdess_share({"speakers": ["A10", "A11"], "n_clips": 48, "ravdess_clips": 47}) == "part"


def test_the_card_of_ravdess_mixed_with_a_clinics_speakers_carries_the_ravdess_licence_for_that_part(tmp_path):
    card = card_of(tmp_path, ["ann", "ravdess-01", "ravdess-02", "ravdess-03"])
    assert "CC BY-NC-SA 4.0" in card["licence"]["model"] and "in part" in card["licence"]["model"]
    assert _RAVDESS_LICENCE["training_data"] in card["licence"]["training_data"]
    text = model_card_markdown(card, tmp_path)
    assert "derived in part from RAVDESS" in text and "non-commercial" in text
    # not carded as RAVDESS alone: the data section names the run's data, not RAVDESS's actors
    assert "RAVDESS speech" not in text


def test_the_card_of_a_manifest_of_ravdess_clips_alone_carries_the_ravdess_licence_for_all_of_it(tmp_path):
    card = card_of(tmp_path, ["A1", "A2", "A3", "A4"], ravdess_clips=96)  # every one of the run's 96 clips
    assert {k: card["licence"][k] for k in _RAVDESS_LICENCE} == _RAVDESS_LICENCE  # was: "part of it is RAVDESS"


def test_the_card_of_a_clinics_speakers_alone_claims_no_ravdess_licence(tmp_path):
    card = card_of(tmp_path, ["ann", "bob", "cy"])
    assert "RAVDESS" not in json.dumps(card["licence"]) and "RAVDESS" not in model_card_markdown(card, tmp_path)


def test_quantizing_a_voice_model_says_nothing_and_leaves_the_logging_as_it_was(tmp_path, caplog):
    import logging

    import onnx

    from export.audio.export import build_onnx, int8_weight_count, quantize

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(8), 10)
    model = fit_classifier(rng.normal(size=(80, 4)) + y[:, None], y, LOGREG)
    onnx.save(build_onnx(model, "voice"), str(tmp_path / "float.onnx"))
    root_level = logging.getLogger().level
    with caplog.at_level(logging.INFO, logger=""):
        quantize(tmp_path / "float.onnx", tmp_path / "int8.onnx")
    # ONNX Runtime advised "pre-processing before quantization" on the root logger, meant for static CNNs
    assert int8_weight_count(tmp_path / "int8.onnx") > 0 and not caplog.records
    assert logging.getLogger().level == root_level


def test_while_quantizing_other_warnings_still_reach_the_log(caplog):
    import logging

    from export.quantization import quiet_quantizer

    with caplog.at_level(logging.WARNING), quiet_quantizer():
        logging.warning("a warning of the run's own")  # on the root logger, as ONNX Runtime's advice is
    assert [r.getMessage() for r in caplog.records] == ["a warning of the run's own"]


def test_while_quantizing_onnx_runtimes_errors_still_reach_the_log_and_its_warnings_do_not(caplog):
    import logging

    from export.quantization import quiet_quantizer

    root = logging.getLogger()
    path = "/site-packages/onnxruntime/quantization/quantize.py"
    with caplog.at_level(logging.WARNING), quiet_quantizer():
        for level, text in ((logging.WARNING, "advice"), (logging.ERROR, "a failure")):
            root.handle(root.makeRecord("root", level, path, 1, text, None, None))
    assert [r.getMessage() for r in caplog.records] == ["a failure"]


def test_an_int8_refusal_names_the_variant_its_figures_and_the_validation_clips(tmp_path, monkeypatch):
    import export.audio.export as export
    from runtime.errors import InputError

    meta = {"feature_set": export.FEATURE_SET, "n_features": 6, "validation_speakers": ["P04", "P05"],
            "labels": export.LABELS}
    monkeypatch.setattr(export, "_load_trained", lambda trained: (None, None, {}, meta))

    def exported(stored, validation, mode, folder, n_features, labels, space):
        ua_int8 = 0.55 if mode == "session" else 0.6  # the session variant alone loses 5 points
        return {"check_model": {"ua_float": 0.6, "ua_int8": ua_int8, "ua_drop": 0.6 - ua_int8},
                "n_validation_clips": 12}

    monkeypatch.setattr(export, "_export_mode", exported)
    with pytest.raises(InputError) as refused:
        export.export_audio(tmp_path / "run", models_dir=tmp_path)
    message = str(refused.value)
    assert "(P04, P05, 12 clips): session variant UA 0.600 float, 0.550 INT8; not exported" in message
    assert "none variant" not in message and "--validation-speakers" in message
    assert not (tmp_path / export.MODEL_ID).exists()


def test_the_card_says_how_many_clips_and_speakers_each_label_had(tmp_path):
    clips = {label: 10 + i for i, label in enumerate(LABELS)}
    speakers = {label: 1 + i % 3 for i, label in enumerate(LABELS)}
    card = card_of(tmp_path, ["ann", "bob", "cy"], folds=3, clips_per_label=clips, speakers_per_label=speakers)
    assert card["metrics"]["clips_per_label"] == clips and card["metrics"]["speakers_per_label"] == speakers
    text = model_card_markdown(card, tmp_path)
    assert "| label | clips | speakers |" in text
    assert all(f"| {label} | {clips[label]} | {speakers[label]} |" in text for label in LABELS)
    # a report from before the counts: no table rather than one of blanks
    assert "| label | clips |" not in model_card_markdown(card_of(tmp_path, ["ann", "bob", "cy"], folds=3), tmp_path)


def test_the_cards_metrics_table_gives_each_figures_interval_over_speakers(tmp_path):
    card = card_of(tmp_path, [f"s{n}" for n in range(8)])
    intervals = {name: {"ua": [0.01 + k / 10, 0.02 + k / 10], "macro_f1": [0.03 + k / 10, 0.04 + k / 10],
                        "resamples": 2000, "unit": "speaker", "seed": 0} for k, name in enumerate(card["report"]["cv"])}
    report = card["report"] | {"cv": {name: m | {"interval_95": intervals[name]}
                                      for name, m in card["report"]["cv"].items()}}
    card = _card(*card_inputs(tmp_path, report))
    assert {name: m["interval_95"] for name, m in card["metrics"]["cv"].items()} == intervals
    text = model_card_markdown(card, tmp_path)
    assert "| variant / level | UA | WA | macro-F1 | ECE | UA 95 % | macro-F1 95 % |" in text
    assert "| none/clip | 0.301 | 0.302 | 0.303 | 0.304 | 0.210–0.220 | 0.230–0.240 |" in text
    # a report from before the intervals: its rows say none
    assert "| none/clip | 0.301 | 0.302 | 0.303 | 0.304 | - | - |" in model_card_markdown(
        card_of(tmp_path, [f"s{n}" for n in range(8)]), tmp_path)


def test_the_card_names_the_checksum_of_the_data_that_made_it(tmp_path):
    checksum = {"sha256": "ab" * 32, "of": "the bytes of manifest.csv"}
    card = card_of(tmp_path, ["ann", "bob", "cy"], folds=3, data_checksum=checksum)
    assert card["metrics"]["data_checksum"] == checksum
    assert f"Data checksum: sha256 `{'ab' * 32}`, of the bytes of manifest.csv." in model_card_markdown(card, tmp_path)


def test_the_cards_int8_table_says_which_row_is_held_out_and_which_is_on_training_speakers(tmp_path):
    report = card_of(tmp_path, ["ann", "bob", "cy", "dee"], folds=2)["report"] | {"validation_speakers": ["cy", "dee"]}
    meta, report, check, folder = card_inputs(tmp_path, report)
    for mode in train.MODES:
        check[mode] = check[mode] | {"check_model": check[mode]["check_model"] | {"ua_float": 0.61, "ua_int8": 0.6},
                                     "all_model": check[mode]["all_model"] | {"ua_float": 0.95, "ua_int8": 0.94},
                                     "n_validation_clips": 24}
    card = _card(meta, report, check, folder)
    assert card["metrics"]["quantization_check"]["speakers_scored"] == {
        "check_model": "validation speakers, held out of this model",
        "all_model": "validation speakers, in this model's training data"}
    text = model_card_markdown(card, tmp_path)
    # was: rows named check_model and all_model, the shipped model's 0.95 on its own training speakers read as a figure
    assert "| session | held out: fitted without them | 0.610 | 0.600 |" in text
    assert "| session | shipped: trained on them too | 0.950 | 0.940 |" in text
    # was: "24 clips", of which the clips without a speech window are none (no model is run on them)
    assert "scored on the clips of the validation speakers (cy, dee; 24 clips with a speech window:" in text
    assert "figures on its own training speakers" in text and "check_model |" not in text
