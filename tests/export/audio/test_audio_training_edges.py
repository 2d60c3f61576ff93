"""Edges of the voice model's training host a researcher or a clinic meets: corpus names and manifests read whatever
their case, which speakers are held out and how folds part them, the limits of the training options, the window and
hop trained on as the device's, the figures of an evaluation, and what the report and the card say. No feature
extraction, no real training (fits are a few rows of a logistic regression or a tiny MLP)."""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import export.audio.train as train
from export.audio.datasets import LABELS_AS_GIVEN, Clip, Corpus, load_corpus, parse_file_name
from export.audio.evaluate import Judged, score, summary
from export.audio.export import _card, label_coverage, model_card_markdown
from export.audio.extract import WindowTable
from export.audio.train import LABELS, TrainReport, default_validation_speakers
from runtime.config import DEFAULTS
from runtime.errors import InputError
from runtime.files import first_named
from runtime.track import CANONICAL_LABELS
from tests.export.audio.corpora import touch, write_manifest
from tests.export.audio.fit_spy import rows_each_fit_sees
from tests.export.audio.runs import card_inputs, card_of, result_figures, speakers_table, with_clips

DEVICE_WINDOW_S = float(DEFAULTS["audio"]["window_s"])
DEVICE_HOP_S = float(DEFAULTS["audio"]["hop_s"])


def test_a_ravdess_video_only_file_is_left_out_as_holding_no_audio(tmp_path):
    # modality 02 is RAVDESS's video-only recording: whatever its suffix, it holds no voice to learn from
    touch(tmp_path, "Actor_03/03-01-05-01-01-01-03.wav")
    touch(tmp_path, "Actor_03/02-01-03-01-01-01-03.wav")
    corpus = load_corpus(tmp_path)
    assert [clip.emotion for clip in corpus.clips] == ["angry"]
    assert corpus.skipped == {"label not mappable: RAVDESS video-only file (no audio)": 1}


def test_a_tess_name_in_another_case_is_the_same_speaker_and_emotion():
    # one TESS speaker written 'yaf' and 'YAF' would be two people, on both sides of a speaker-independent fold
    assert parse_file_name(Path("yaf_dog_Angry.wav")) == ("tess", "tess-YAF", "angry")
    assert parse_file_name(Path("OAF_back_PS.wav")) == ("tess", "tess-OAF", "surprised")


def test_two_speakers_hold_one_out_by_default_and_train_on_the_other():
    assert default_validation_speakers(["bob", "ann"]) == ["bob"]


def test_the_default_validation_speakers_are_a_fifth_rounded_to_the_nearest_speaker():
    # 8 speakers: a fifth is 1.6, so two are held out (the last two in sorted order), not one
    assert default_validation_speakers([f"p{n}" for n in range(8, 0, -1)]) == ["p7", "p8"]
    assert default_validation_speakers([f"p{n}" for n in range(1, 8)]) == ["p7"]  # 1.4: one


def test_the_trained_models_meta_records_the_devices_window_and_hop(tmp_path, monkeypatch):
    table, y_clip, speaker_clip = speakers_table({"a": 8, "b": 12, "c": 10})
    rows_each_fit_sees(monkeypatch)
    train._fit_and_save(table, y_clip, speaker_clip, ["c"], tmp_path)
    meta = json.loads(str(np.load(tmp_path / "models.npz")["meta"]))
    assert (meta["window_s"], meta["hop_s"]) == (DEVICE_WINDOW_S, DEVICE_HOP_S)
    assert DEVICE_WINDOW_S != DEVICE_HOP_S  # else a swap of the two could not be seen


def test_the_card_writes_the_window_and_hop_the_model_was_trained_on(tmp_path):
    card = card_of(tmp_path, [f"s{n}" for n in range(8)])  # the models' meta says window 2.0 s, hop 0.5 s
    assert (card["window_s"], card["hop_s"]) == (2.0, 0.5)
    assert "one probability vector per 2.0 s speech window (hop 0.5 s, at least 30% speech" in model_card_markdown(
        card, tmp_path)


def _report(tmp_path) -> TrainReport:
    """A finished run's report over two labels whose every figure differs from every other's."""
    cv = {name: {"ua": 0.11 + k / 10, "wa": 0.12 + k / 10, "macro_f1": 0.13 + k / 10, "ece": 0.14 + k / 10,
                 "n": 4, "no_claim": 0, "interval_95": {}, "recall": {"low": None, "high": 0.25},
                 "confusion": {"rows_true_cols_pred": [[1, 1], [1, 3]]}}
          for k, name in enumerate(("session/clip", "session/window", "none/clip", "none/window"))}
    return TrainReport(data="clinic/voices", n_clips=6, n_windows=12, speakers=["a", "b"], validation_speakers=["b"],
                       folds=[["a"], ["b"]], cv=cv, labels=["low", "high"], labels_as_given=True,
                       clips_per_label={"low": 2, "high": 4}, speakers_per_label={"low": 2, "high": 1},
                       data_checksum={"sha256": "0" * 64, "of": "its clips"})


def test_the_training_report_names_the_devices_window_and_hop(tmp_path):
    train._write_report(_report(tmp_path), tmp_path)
    text = (tmp_path / "report.md").read_text()
    assert f"12 speech windows ({DEVICE_WINDOW_S} s, hop {DEVICE_HOP_S} s, at least 30% speech)" in text
    assert "low 2 (2), high 4 (1)" in text
    assert "| low | - | - |" in text and "| high | 0.250 | 0.250 |" in text  # no recall is no recall of 0


def test_the_training_summary_gives_each_figure_under_its_own_name(tmp_path):
    summary = _report(tmp_path).summary()
    assert "session/clip    UA 0.110  WA 0.120  macro-F1 0.130  ECE 0.140" in summary
    assert "none/window     UA 0.410  WA 0.420  macro-F1 0.430  ECE 0.440" in summary


def test_the_training_summary_says_once_that_intervals_over_few_speakers_are_rough(tmp_path):
    report = _report(tmp_path)
    note = "2 speakers: an interval over so few is rough (each draw is one of few combinations)"
    for m in report.cv.values():
        m["interval_95"] = {"ua": [0.1, 0.9], "macro_f1": [0.1, 0.9], "note": note}
    assert report.summary().count(note) == 1  # was: the intervals without it, which report.md and the card give


def test_a_manifest_whose_name_ends_in_upper_case_csv_is_read_as_a_manifest(tmp_path):
    # a spreadsheet on Windows may save 'LABELS.CSV': given itself, it is the manifest, not "no folder"
    touch(tmp_path, "a.wav")
    touch(tmp_path, "b.wav")
    manifest = tmp_path / "LABELS.CSV"
    manifest.write_text("path,speaker,emotion\na.wav,ann,happy\nb.wav,bob,sad\n")
    corpus = load_corpus(manifest)
    assert [(c.speaker, c.emotion) for c in corpus.clips] == [("ann", "happy"), ("bob", "sad")]
    assert corpus.manifest == manifest


def test_a_manifest_header_in_capitals_or_with_spaces_is_read(tmp_path):
    touch(tmp_path, "a.wav")
    (tmp_path / "manifest.csv").write_text("Path, Speaker ,EMOTION\na.wav,ann,Angry\n")
    assert [(c.speaker, c.emotion) for c in load_corpus(tmp_path).clips] == [("ann", "angry")]


def test_one_file_named_twice_by_two_spellings_of_its_path_is_said_to_be_named_twice(tmp_path):
    touch(tmp_path, "a.wav")
    touch(tmp_path, "sub/b.wav")
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\na.wav,ann,happy\nsub/../a.wav,bob,sad\n")
    with pytest.raises(InputError, match=r"line 3: file 'sub/\.\./a\.wav' is already named on line 2"):
        load_corpus(tmp_path)


def test_an_evaluations_ua_accuracy_macro_f1_and_ece_are_each_their_own_figure():
    # three neutral clips and one happy one, all read as neutral 80 % sure: UA 1/2, accuracy 3/4, macro-F1 the mean
    # of neutral's F1 (precision 3/4, recall 1: 6/7) and happy's 0, ECE |0.8 - 0.75| (all four in one bin)
    clips = [Clip(Path(f"{i}.wav"), speaker, emotion, "manifest")
             for i, (speaker, emotion) in enumerate([("A", "neutral"), ("A", "happy"), ("B", "neutral"),
                                                     ("B", "neutral")])]
    judged = Judged(clips, np.tile([0.8, 0.2], (4, 1)), np.ones(4, dtype=bool), {}, [])
    report = score(judged, ["neutral", "happy"], resamples=20)
    assert report["ua"] == pytest.approx(0.5) and report["accuracy"] == pytest.approx(0.75)
    assert report["macro_f1"] == pytest.approx(3 / 7) and report["ece"] == pytest.approx(0.05)
    assert report["clip_counts"] == {"neutral": 3, "happy": 1}
    said = summary({**report, "interval_95": {}, "model": {"id": "m", "version": "1"}, "data": "set",
                    "speaker_baseline": "none", "notes": []})
    assert said.splitlines()[1] == "UA 0.500, macro-F1 0.429, ECE 0.050, accuracy 0.750"


def test_speaker_folds_put_every_speaker_in_exactly_one_evaluated_part():
    speakers = [f"p{n:02d}" for n in range(1, 8)]
    folds = train.speaker_folds(speakers, 3)
    assert len(folds) == 3 and sorted(s for fold in folds for s in fold) == speakers
    assert all(2 <= len(fold) <= 3 for fold in folds)  # GroupKFold balances the parts
    assert sorted(map(tuple, train.speaker_folds(speakers[:2], 5))) == [("p01",), ("p02",)]  # never more than speakers


def test_an_own_label_of_one_speaker_is_refused_while_a_canonical_one_is_left_to_the_reports_warning(tmp_path):
    clips = [Clip(Path(f"{s}-{label}.wav"), s, label, "manifest") for s in ("ann", "bob") for label in ("low", "sad")]
    clips += [Clip(Path("ann-angry.wav"), "ann", "angry", "manifest")]
    train.refuse_own_labels_of_one_speaker(tmp_path, Corpus(clips, labels=["sad", "angry", "low"]))  # angry: ann's
    clips += [Clip(Path("bob-hgih.wav"), "bob", "hgih", "manifest")]
    with pytest.raises(InputError, match=r"1 label\(s\) with clips of one speaker alone: 'hgih' \(bob, 1 clip\(s\)\)"):
        train.refuse_own_labels_of_one_speaker(tmp_path, Corpus(clips, labels=["sad", "angry", "low", "hgih"]))


def test_a_refusal_of_eleven_files_names_ten_and_counts_the_one_more():
    items = [f"line {n}: 'f{n}.wav' does not exist" for n in range(2, 13)]
    assert first_named(items) == "; ".join(items[:10]) + "; and 1 more"
    assert first_named(items[:10]) == "; ".join(items[:10])


def test_a_speaker_id_with_a_space_hidden_behind_an_invisible_character_is_the_same_speaker(tmp_path):
    # 'P02 ' + a zero-width space, pasted from a document: the space is only trailing once the invisible one is gone
    touch(tmp_path, "c.wav")
    touch(tmp_path, "d.wav")
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\nc.wav,P02,sad\nd.wav,P02 \u200b,happy\n",
                                           encoding="utf-8")
    assert load_corpus(tmp_path).speakers == ["P02"]


def test_every_extra_copy_of_a_recording_found_by_name_is_counted_as_left_out(tmp_path):
    first = touch(tmp_path, "Actor_01/03-01-04-01-01-01-01.wav")
    for folder in ("backup", "old"):
        copy = tmp_path / folder / "Actor_01/03-01-04-01-01-01-01.wav"
        copy.parent.mkdir(parents=True)
        copy.write_bytes(first.read_bytes())
    corpus = load_corpus(tmp_path)
    assert len(corpus.clips) == 1 and corpus.skipped == {"same recording as another file": 2}


def test_latency_is_timed_in_milliseconds_after_one_untimed_run_with_the_threads_asked(monkeypatch):
    import time

    import export.audio.latency as latency

    made = []

    class SlowBackend:
        def __init__(self, path, threads):
            self.runs = 0
            made.append((self, threads))

        def run(self, inputs):
            self.runs += 1
            time.sleep(0.3 if self.runs == 1 else 0.005)  # the first run allocates: slow, and never counted

    monkeypatch.setattr(latency, "OnnxRuntimeBackend", SlowBackend)
    times_ms = latency.onnx_run_times_ms("m.onnx", {}, repeats=4, threads=1)
    (backend, threads), = made
    assert threads == 1 and backend.runs == 5 and len(times_ms) == 4
    assert all(4.5 < t < 250 for t in times_ms)  # 5 ms each, in milliseconds (not seconds); the 300 ms run untimed


def test_labels_as_given_on_a_manifest_of_canonical_labels_alone_keep_the_eight(tmp_path):
    # no label of its own: the run is over the canonical eight, so the labels without clips are said, not dropped
    touch(tmp_path, "a.wav")
    touch(tmp_path, "b.wav")
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\na.wav,ann,Joy\nb.wav,bob,sad\n")
    corpus = load_corpus(tmp_path, LABELS_AS_GIVEN)
    assert corpus.labels == list(CANONICAL_LABELS)
    assert corpus.counts()["calm"] == 0 and corpus.counts()["happy"] == 1


def test_a_manifest_of_a_header_alone_is_said_to_have_no_row(tmp_path):
    # given itself, an empty manifest would otherwise be an empty corpus; in its folder, "no manifest.csv"
    no_row = r"has the header path, speaker, emotion but no row: one row per clip"
    manifest = tmp_path / "clips.csv"
    manifest.write_text("path,speaker,emotion\n,,\n")
    with pytest.raises(InputError, match=no_row):
        load_corpus(manifest)
    manifest.rename(tmp_path / "manifest.csv")
    with pytest.raises(InputError, match=no_row):
        load_corpus(tmp_path)


def test_validation_speakers_naming_every_speaker_are_refused_as_leaving_none_to_train_on(tmp_path):
    with pytest.raises(InputError, match="validation speakers must leave some speakers to train on"):
        train.resolve_speakers(["ann", "bob"], ["ann", "bob"], tmp_path)
    assert train.resolve_speakers(["bob", "bob"], ["ann", "bob"], tmp_path) == ["bob"]


def test_a_validation_speaker_is_named_by_the_end_of_an_id_of_several_hyphens(tmp_path, caplog):
    # 'site-a-17': what follows the last hyphen names it, as '17' names ravdess-17, and the card's rebuild says so
    speakers = ["site-a-17", "site-a-18", "site-b-20"]
    assert train.resolve_speakers(["17"], speakers, tmp_path) == ["site-a-17"]
    assert "read as" not in caplog.text
    assert train.rebuild_speaker_name("site-b-20", speakers) == "20"


class _WorkBegun(Exception):
    """Raised where training would start its run folder: every check before the work passed."""


@pytest.mark.parametrize(("options", "refusal"), [
    ({"varied_baselines": train.MAX_VARIED_BASELINES}, None),
    ({"varied_baselines": train.MAX_VARIED_BASELINES + 1}, r"--varied-baselines must be from 0 to 10"),
    ({"varied_baselines": -1}, r"--varied-baselines must be from 0 to 10"),
    ({"speed_factors": (0.5, 2.0)}, None),
    ({"speed_factors": (0.9, 1.0)}, r"^1: speed factors must lie between 0\.5 and 2 and differ from 1"),
    ({"speed_factors": (0.49, 2.01)}, r"^0\.49,2\.01: speed factors must lie between 0\.5 and 2"),
])
def test_training_options_at_their_limits_are_taken_and_past_them_refused_before_any_work(tmp_path, monkeypatch,
                                                                                          options, refusal):
    def begun(*args, **kwargs):
        raise _WorkBegun

    monkeypatch.setattr(train, "writing_folder", begun)
    data = write_manifest(tmp_path / "data", speakers=("ann", "bob"), labels=("happy", "sad"))
    with pytest.raises(_WorkBegun if refusal is None else InputError, match=refusal):
        train.train_audio(data, tmp_path / "out", cv_folds=2, **options)


def test_a_feature_constant_in_training_is_not_divided_by_zero_at_inference():
    # a value every training window shares (a voiced ratio of 1, say) moves a little on a new voice: its scale has a
    # floor, so that the little move is not blown up into a certainty
    rng = np.random.default_rng(0)
    features = np.column_stack([rng.normal(size=40), rng.normal(size=40), np.ones(40)]).astype(np.float32)
    y = np.arange(40) % 2
    spec = {**train.CLASSIFIER, "hidden": 8, "alpha": 0.01, "members": 1, "max_iter": 50}
    model = train.fit_classifier(features, y, spec, n_labels=2)
    assert model["scale"][2] >= 1e-3
    still, moved = train.predict_proba(model, np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 1.0 + 1e-4]], dtype=np.float32))
    np.testing.assert_allclose(moved, still, atol=0.05)


def test_a_clip_without_a_speech_window_is_wrong_in_every_resampled_draw_of_the_cross_validation():
    # its uniform probabilities' argmax is the first label: read as a claim, every silent neutral clip would count
    from export.metrics import group_bootstrap_intervals

    table, y_clip, speaker_clip = with_clips(*speakers_table({"a": 8, "b": 12, "c": 10, "d": 8, "e": 10, "f": 12}))
    spoken = y_clip[table.clip_index] != 0  # every neutral clip (label 0) without a speech window
    table = WindowTable(table.features[spoken], table.clip_index[spoken], table.clips, [])
    folds, logreg = [["a", "d"], ["b", "e"], ["c", "f"]], {"kind": "logreg", "C": 1.0}
    clip_figures = train.cross_validate(table, y_clip, speaker_clip, folds, logreg)["none/clip"]
    assert clip_figures["recall"]["neutral"] == 0.0
    window_probs = train.TrainingRows.build(table, y_clip, speaker_clip, "none").out_of_fold(folds, logreg)
    clip_probs, claimed = train.clip_level(window_probs, table.clip_index, len(y_clip))
    predicted = clip_probs.argmax(axis=1)
    as_wrong, as_claims = (group_bootstrap_intervals(y_clip, read, speaker_clip, len(train.LABELS))["ua"]
                           for read in (np.where(claimed, predicted, -1), predicted))
    assert clip_figures["interval_95"]["ua"] == pytest.approx(as_wrong) and as_wrong != pytest.approx(as_claims)


def test_varied_baselines_of_a_speaker_with_calm_and_neutral_clips_alone_are_drawn_from_their_clips():
    # no other emotion to draw: each baseline is a few of their clips or the calm ones, never a failed draw
    y = np.repeat([train.LABELS.index("neutral"), train.LABELS.index("calm")], 6)
    clip_index = np.repeat(np.arange(6), 2)
    baselines = train.random_baselines(y, clip_index, 12, np.random.default_rng(0))
    assert len(baselines) == 12 and all(b.size > 1 and b.max() < y.size for b in baselines)


def test_each_evaluated_clip_is_listed_with_the_label_it_was_read_as_and_how_sure(tmp_path, monkeypatch):
    import export.audio.evaluate as evaluate

    for name in ("a.wav", "b.wav"):
        touch(tmp_path / "set", name)
    (tmp_path / "set" / "manifest.csv").write_text("path,speaker,emotion\na.wav,A,happy\nb.wav,B,neutral\n")
    card = SimpleNamespace(id="m", version="1", folder=tmp_path / "m", metrics={})
    monkeypatch.setattr(evaluate, "load_audio_model", lambda location: SimpleNamespace(labels=["neutral", "happy"],
                                                                                       card=card))
    monkeypatch.setattr(evaluate, "judge", lambda clips, model, baseline, data: Judged(
        clips, np.array([[0.3, 0.7], [0.5, 0.5]]), np.array([True, False]), {clips[1].path: "no speech"}, []))
    report = evaluate.evaluate_audio(tmp_path / "set", tmp_path / "out")
    assert [(p["speaker"], p["label"], p["predicted"], p["confidence"]) for p in report["predictions"]] == [
        ("A", "happy", "happy", 0.7), ("B", "neutral", None, None)]
    assert report["no_speech"] == [{"path": str(tmp_path / "set" / "b.wav"), "reason": "no speech"}]


def test_an_int8_model_losing_a_point_and_a_half_is_refused_and_one_losing_one_point_is_not(tmp_path, monkeypatch):
    import export.audio.export as export

    meta = {"feature_set": export.FEATURE_SET, "n_features": 6, "validation_speakers": ["P04"], "labels": LABELS}
    monkeypatch.setattr(export, "_load_trained", lambda trained: (None, None, {}, meta))
    drops = {"session": 0.015, "none": 0.01}  # at most 1 point of UA may be lost

    def exported(stored, validation, mode, folder, n_features, labels, space):
        return {"check_model": {"ua_float": 0.6, "ua_int8": 0.6 - drops[mode], "ua_drop": drops[mode]},
                "n_validation_clips": 12}

    monkeypatch.setattr(export, "_export_mode", exported)
    with pytest.raises(InputError) as refused:
        export.export_audio(tmp_path / "run", models_dir=tmp_path)
    assert "session variant UA 0.600 float, 0.585 INT8; not exported" in str(refused.value)
    assert "none variant" not in str(refused.value)


def test_the_card_of_a_report_without_its_speaker_list_counts_the_speakers_of_its_folds(tmp_path):
    report = {"data": "clinic/voices", "folds": [["ann", "cy"], ["bob"]], "validation_speakers": ["cy"],
              "cv": {name: result_figures(k) for k, name in enumerate(("session/clip", "none/clip"))}}
    assert _card(*card_inputs(tmp_path, report))["metrics"]["speakers"] == 3


def test_the_rebuild_line_names_speed_factors_only_where_they_are_not_the_default(tmp_path):
    card = card_of(tmp_path, [f"s{n}" for n in range(8)])
    rebuild = {}
    for factors in (list(train.SPEED_FACTORS), [0.8], []):
        text = model_card_markdown({**card, "speed_perturbation": factors}, tmp_path)
        rebuild[tuple(factors)] = next(line for line in text.splitlines() if line.startswith("emotrace train audio"))
    assert "--speed-perturb" not in rebuild[tuple(train.SPEED_FACTORS)]
    assert rebuild[(0.8,)].endswith(" --speed-perturb 0.8") and rebuild[()].endswith(" --speed-perturb none")


def test_a_model_of_seven_canonical_labels_is_said_to_have_seven_of_the_eight():
    labels = [label for label in LABELS if label != "calm"]
    said = label_coverage(labels)
    assert said.startswith("7 of the eight canonical labels (") and "no clips of calm" in said
    assert label_coverage(list(LABELS)).startswith("the eight canonical labels (")


def test_a_run_whose_validation_speakers_hold_no_speech_window_is_refused_by_export_in_one_line(tmp_path):
    import export.audio.export as export
    from export.arrays import save_npz

    meta = {"feature_set": export.FEATURE_SET, "n_features": 3, "labels": LABELS, "validation_speakers": ["c"]}
    save_npz(tmp_path / "models.npz", meta=np.array(json.dumps(meta)))
    save_npz(tmp_path / "validation.npz", features=np.zeros((0, 3), dtype=np.float32), groups=np.array([], dtype=str),
             y=np.array([], dtype=int), clip_index=np.array([], dtype=int))
    (tmp_path / "report.json").write_text(json.dumps({"data": "d", "folds": [["a"], ["b", "c"]],
                                                      "validation_speakers": ["c"],
                                                      "cv": {"session/clip": {}, "none/clip": {}}}))
    with pytest.raises(InputError, match=r"validation\.npz: holds no validation windows, so INT8 cannot be checked"):
        export._load_trained(tmp_path)


def test_the_cards_training_speech_level_is_over_the_clips_with_speech_alone(tmp_path, monkeypatch):
    import export.audio.export as export
    from runtime.arms.audio.level import training_speech_range

    clips = [Clip(tmp_path / f"{n}.wav", "ann", "sad", "manifest") for n in range(4)]
    levels = {clip.path: level for clip, level in zip(clips, (-30.0, None, -20.0, -25.0), strict=True)}
    monkeypatch.setattr(export, "load_corpus", lambda data, own_labels: Corpus(clips))
    monkeypatch.setattr(export, "clip_speech_level_dbfs", levels.get)
    level = export.training_speech_level({"data": str(tmp_path)})
    assert level == {**training_speech_range([-30.0, -20.0, -25.0]), "of": level["of"]}
    assert "over the 3 of 4 clips with speech" in level["of"]


def test_runs_whose_data_checksums_differ_past_their_first_twelve_digits_are_other_data(tmp_path):
    from export.audio.export import training_data_difference

    card = {"metrics": {"data_checksum": {"sha256": "a" * 12 + "b" * 52}}}
    assert training_data_difference(card, {"data_checksum": {"sha256": "a" * 12 + "b" * 52}}, tmp_path) == ""
    assert "trained on other data" in training_data_difference(card, {"data_checksum": {"sha256": "a" * 64}},
                                                               tmp_path)


def test_more_folds_than_speakers_are_said_before_the_work_and_as_many_folds_are_not(tmp_path, monkeypatch, caplog):
    def begun(*args, **kwargs):
        raise _WorkBegun

    monkeypatch.setattr(train, "writing_folder", begun)
    data = write_manifest(tmp_path / "data", speakers=("ann", "bob"), labels=("happy", "sad"))
    for folds in (2, 3):
        with pytest.raises(_WorkBegun):
            train.train_audio(data, tmp_path / "out", cv_folds=folds)
    assert [r.getMessage() for r in caplog.records if "--cv-folds" in r.getMessage()] == [
        "--cv-folds 3: only 2 speakers, so 2 folds of one speaker each"]


def test_training_windows_are_cut_on_the_devices_window_and_hop(monkeypatch):
    import export.audio.extract as extract

    asked = []
    monkeypatch.setattr(extract, "speech_windows", lambda samples, rate, **grid: asked.append((rate, grid)) or [])
    assert extract.samples_window_features(np.zeros(16000, dtype=np.float32)).shape[0] == 0
    assert asked == [(16000, {"window_s": DEVICE_WINDOW_S, "hop_s": DEVICE_HOP_S,
                              "min_speech_fraction": float(DEFAULTS["audio"]["min_speech_fraction"])})]


def test_the_window_cache_serves_neither_a_speed_copy_nor_a_clip_rewritten_at_the_same_size(tmp_path, monkeypatch):
    import os

    import export.audio.extract as extract

    read = []

    def features(path, speed_factor=1.0):
        read.append((path.read_bytes(), speed_factor))
        return np.full((1, 2), speed_factor + len(read), dtype=np.float32)

    monkeypatch.setattr(extract, "clip_window_features", features)
    clip = Clip(touch(tmp_path, "a.wav"), "ann", "sad", "manifest")
    cache = tmp_path / "cache"
    extract.extract_windows([clip], cache_dir=cache)
    extract.extract_windows([clip], cache_dir=cache)  # the same clips: from the cache
    extract.extract_windows([clip], cache_dir=cache, speed_factor=1.1)
    clip.path.write_bytes(b"RIFFa.wax")  # re-recorded, the same size
    os.utime(clip.path, ns=(clip.path.stat().st_atime_ns, clip.path.stat().st_mtime_ns + 10**9))
    extract.extract_windows([clip], cache_dir=cache)
    assert read == [(b"RIFFa.wav", 1.0), (b"RIFFa.wav", 1.1), (b"RIFFa.wax", 1.0)]


def test_a_models_meta_naming_its_labels_out_of_the_label_sets_order_is_refused_by_export(tmp_path):
    import export.audio.export as export
    from export.arrays import save_npz

    meta = {"feature_set": export.FEATURE_SET, "n_features": 3, "labels": ["sad", "happy"],
            "validation_speakers": ["c"]}
    save_npz(tmp_path / "models.npz", meta=np.array(json.dumps(meta)))
    save_npz(tmp_path / "validation.npz", features=np.zeros((2, 3), dtype=np.float32), groups=np.array(["c", "c"]),
             y=np.array([2, 3]), clip_index=np.array([0, 1]))
    (tmp_path / "report.json").write_text(json.dumps({"data": "d", "folds": [["a"], ["b", "c"]],
                                                      "validation_speakers": ["c"],
                                                      "cv": {"session/clip": {}, "none/clip": {}}}))
    # its outputs would be read under each other's names
    with pytest.raises(InputError, match=r"models\.npz: names labels \['sad', 'happy'\], not some of neutral, .* in "
                                         r"that order; retrain"):
        export._load_trained(tmp_path)


def test_a_set_holding_a_corpus_file_of_a_label_with_no_canonical_counterpart_still_names_the_trained_speakers():
    from export.audio.evaluate import seen_speakers

    # an EmoDB boredom recording, kept by a manifest as a label of the clinic's own
    clips = [Clip(Path("data/03a01La.wav"), "S3", "bored", "manifest"), Clip(Path("data/x.wav"), "S9", "sad", "m")]
    assert seen_speakers(clips, {"s03", "p1"}) == ["S3"]
