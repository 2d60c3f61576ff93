"""What a clinic's own data and a run folder can get wrong: one input error and nothing half-written, Ctrl-C
that stops the run, and figures that say what they cannot judge. Training is replaced by cheap stand-ins."""

import json
import struct
from pathlib import Path

import numpy as np
import pytest

import export.audio.train as train
from export.arrays import save_npz
from export.audio.datasets import Clip, Corpus
from export.audio.export import _card, export_audio, model_card_markdown
from export.audio.extract import WindowTable, clip_window_features
from runtime.arms.audio.arm import AudioSettings, analyze_audio
from runtime.cli import main
from runtime.errors import InputError
from runtime.models.card import REPO_MODELS_DIR
from tests.export.audio.corpora import write_manifest

LOGREG = {"kind": "logreg", "C": 1.0}


@pytest.fixture
def cheap_windows(monkeypatch):
    """Feature extraction replaced by 3 random windows per clip, label-dependent, so that fits are instant."""

    def fake_extract(clips, cache_dir=None, progress=False, speed_factor=1.0, data=None):
        rng = np.random.default_rng(0)
        index = np.repeat(np.arange(len(clips)), 3)
        y = np.array([train.LABELS.index(c.emotion) for c in clips])[index]
        features = rng.normal(size=(index.size, 6)).astype(np.float32) + y[:, None]
        return WindowTable(features, index, list(clips), [], speed_factor)

    monkeypatch.setattr(train, "extract_windows", fake_extract)
    monkeypatch.setitem(train.CLASSIFIER, "kind", "logreg")
    monkeypatch.setitem(train.CLASSIFIER, "C", 1.0)


def test_out_that_is_a_file_is_one_input_error_before_any_work(tmp_path, capsys):
    data = write_manifest(tmp_path / "data")
    (tmp_path / "run").write_text("not a folder")
    assert main(["train", "audio", str(data), "--out", str(tmp_path / "run"), "--speed-perturb", "none"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "run: is a file" in err


def test_a_manifest_with_a_blank_first_line_is_said_to_name_no_column(tmp_path, capsys):
    data = write_manifest(tmp_path / "data")
    manifest = data / "manifest.csv"
    manifest.write_text("\n" + manifest.read_text())  # a spreadsheet export with an empty first row
    assert main(["train", "audio", str(data), "--out", str(tmp_path / "run"), "--speed-perturb", "none"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    # was: 'line 2: more fields than the header's 0 (a comma inside a field needs the field in double quotes)'
    assert len(err) == 1 and "manifest.csv: has a first line that names no column: a manifest's first line is " \
        "the header path,speaker,emotion" in err[0]
    assert not (tmp_path / "run").exists()


def test_a_manifest_csv_can_be_given_in_place_of_its_folder(tmp_path, cheap_windows):
    data = write_manifest(tmp_path / "data")
    report = train.train_audio(data / "manifest.csv", tmp_path / "run", cv_folds=3, speed_factors=())
    assert report.n_clips == 24 and (tmp_path / "run" / "report.json").is_file()


def test_training_on_windows_that_follow_their_clips_labels_scores_far_above_chance(tmp_path, cheap_windows):
    # each window's features are its clip's label index plus noise: a clip's windows paired with another clip's
    # label (a misalignment anywhere from the manifest to the fitted rows) would score near chance, 1/8
    data = write_manifest(tmp_path / "data", speakers=("ann", "bob", "cy", "dee"))
    report = train.train_audio(data, tmp_path / "run", cv_folds=4, speed_factors=())
    ua = {name: metrics["ua"] for name, metrics in report.cv.items()}  # about 0.6 to 0.8 each
    assert len(ua) == 4 and min(ua.values()) > 3 / len(train.LABELS), ua


def test_bad_audio_met_during_extraction_leaves_no_run_folder(tmp_path, capsys):
    data = write_manifest(tmp_path / "data")
    (data / "bob_sad.wav").write_bytes(b"RIFF" + b"\x07" * 200)  # corrupt, found only when it is read
    assert main(["train", "audio", str(data), "--out", str(tmp_path / "run"), "--speed-perturb", "none"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bob_sad.wav" in err
    assert not (tmp_path / "run").exists()


def test_a_clip_with_nan_samples_is_an_input_error_naming_it(tmp_path):
    samples = np.sin(np.arange(16000) / 10.0).astype("<f4")
    samples[100:200] = np.nan
    path = tmp_path / "nan.wav"
    body = samples.tobytes()
    # format 3 (IEEE float), mono, 16 kHz, 64000 bytes/s, 4-byte frames, 32 bits
    fmt = struct.pack("<HHIIHH", 3, 1, 16000, 64000, 4, 32)
    chunks = b"WAVEfmt " + len(fmt).to_bytes(4, "little") + fmt + b"data" + len(body).to_bytes(4, "little") + body
    path.write_bytes(b"RIFF" + len(chunks).to_bytes(4, "little") + chunks)  # 32-bit float WAV, as an editor writes
    with pytest.raises(InputError, match=r"nan\.wav: holds NaN or infinite audio samples"):
        clip_window_features(path)


def test_ctrl_c_during_an_mlp_fit_stops_training(monkeypatch):
    from sklearn.neural_network import MLPClassifier

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt  # where a Ctrl-C lands in an epoch: sklearn catches it and only warns

    monkeypatch.setattr(MLPClassifier, "_update_no_improvement_count", interrupted)
    x = np.random.default_rng(0).normal(size=(40, 3))
    with pytest.raises(KeyboardInterrupt):
        train.fit_classifier(x, np.arange(40) % 8, {**train.CLASSIFIER, "hidden": 4, "members": 1})


@pytest.mark.parametrize("existing", [False, True])
def test_an_interrupted_run_leaves_no_report(tmp_path, cheap_windows, monkeypatch, existing):
    data = write_manifest(tmp_path / "data")
    out = tmp_path / "run"
    if existing:  # an earlier finished run: its report must not stay beside the new run's models
        train.train_audio(data, out, cv_folds=3, speed_factors=())

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "_fit_and_save", interrupt)
    with pytest.raises(KeyboardInterrupt):
        train.train_audio(data, out, cv_folds=3, speed_factors=())
    assert not (out / "report.json").exists() and not (out / "report.md").exists()
    assert out.exists() == existing  # a folder this run made is removed whole


def test_a_first_run_stopped_in_its_fitting_keeps_its_feature_cache_for_the_retry(tmp_path, cheap_windows,
                                                                                   monkeypatch, caplog):
    data = write_manifest(tmp_path / "data")
    out = tmp_path / "run"
    computed: list[float] = []
    fake_extract = train.extract_windows

    # minutes of feature work, cached
    def cached_extract(clips, cache_dir=None, progress=False, speed_factor=1.0, data=None):
        stored = cache_dir / f"windows-{speed_factor:g}.npz"
        if not stored.exists():
            computed.append(speed_factor)
            stored.parent.mkdir(parents=True, exist_ok=True)
            stored.write_bytes(b"features")
        return fake_extract(clips, cache_dir, progress, speed_factor)

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C in the cross-validation's fitting

    fit = train.fit_classifier
    monkeypatch.setattr(train, "extract_windows", cached_extract)
    monkeypatch.setattr(train, "fit_classifier", stopped)
    with caplog.at_level("WARNING"), pytest.raises(KeyboardInterrupt):
        train.train_audio(data, out, cv_folds=3, speed_factors=(0.9,))
    # was: the new folder removed whole, its cache with it
    assert sorted(p.name for p in out.rglob("*")) == ["cache", "windows-0.9.npz", "windows-1.npz"]
    assert f"kept {out / 'cache'} for a retry" in caplog.messages
    monkeypatch.setattr(train, "fit_classifier", fit)
    train.train_audio(data, out, cv_folds=3, speed_factors=(0.9,))  # the retry, in the folder left
    assert computed == [1.0, 0.9] and (out / "report.json").is_file()  # its features came from the cache


def test_a_retrain_stopped_during_its_long_work_leaves_the_earlier_run_finished(tmp_path, cheap_windows, monkeypatch):
    data = write_manifest(tmp_path / "data")
    out = tmp_path / "run"
    train.train_audio(data, out, cv_folds=3, speed_factors=())
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "cross_validate", interrupt)  # Ctrl-C minutes into the retrain
    with pytest.raises(KeyboardInterrupt):
        train.train_audio(data, out, cv_folds=3, speed_factors=())
    # was: report.json and report.md deleted beside the old models, so the earlier run could not be exported
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_a_retrain_refused_for_its_clips_leaves_the_earlier_run_finished(tmp_path, cheap_windows, monkeypatch):
    data = write_manifest(tmp_path / "data")
    out = tmp_path / "run"
    train.train_audio(data, out, cv_folds=3, speed_factors=())
    report = (out / "report.json").read_bytes()
    monkeypatch.setattr(train, "extract_windows", lambda clips, **kwargs: WindowTable(
        np.zeros((0, 6), np.float32), np.zeros(0, int), list(clips), [], 1.0))  # clips now hold no speech
    with pytest.raises(InputError, match="no clip holds any speech"):
        train.train_audio(data, out, cv_folds=3, speed_factors=())
    assert (out / "report.json").read_bytes() == report and (out / "report.md").exists()


def test_train_refuses_a_corpus_of_one_emotion_before_any_work(tmp_path, capsys):
    data = write_manifest(tmp_path / "data")
    manifest = data / "manifest.csv"
    lines = manifest.read_text().splitlines()
    manifest.write_text("\n".join([lines[0], *(row for row in lines[1:] if row.endswith(",happy"))]) + "\n")
    assert main(["train", "audio", str(data), "--out", str(tmp_path / "run")]) == 2
    # refused before any work (a corpus of one emotion with speech was trained and exported as a model that always
    # says it, UA 1.000; these clips hold no speech, so the code before says that instead, later)
    assert capsys.readouterr().err == (f"emotrace: error: {data}: every clip is labelled happy: training needs "
                                       "clips of at least two emotions\n")
    assert not (tmp_path / "run").exists()


def test_train_refuses_an_out_that_is_its_data_folder(tmp_path):
    data = write_manifest(tmp_path / "data")
    with pytest.raises(InputError, match="is the data folder"):
        train.train_audio(data, data)
    assert not (data / "report.json").exists()


def test_validation_speakers_naming_no_speaker_is_an_input_error(tmp_path):
    data = write_manifest(tmp_path / "data")
    with pytest.raises(InputError, match="names no speaker"):
        train.train_audio(data, tmp_path / "run", validation_speakers=["", " "])
    assert not (tmp_path / "run").exists()


def test_a_validation_speaker_named_exactly_is_taken_before_one_whose_id_ends_in_it():
    speakers = ["1", "clinic-1", "2"]
    # was: "1: is not one speaker of data", though speaker '1' is there
    assert train.resolve_speakers(["1"], speakers, Path("data")) == ["1"]
    assert train.resolve_speakers(["clinic-1"], speakers, Path("data")) == ["clinic-1"]
    assert train.resolve_speakers(["07"], ["ravdess-07", "ravdess-08"], Path("data")) == ["ravdess-07"]
    with pytest.raises(InputError, match="^3: is not one speaker of data"):
        train.resolve_speakers(["3"], ["a-3", "b-3", "c"], Path("data"))  # the end of two, and no speaker '3'


@pytest.mark.parametrize(("typed", "speaker"), [("p1", "P01"), ("P1", "P01"), ("p01", "P01"), ("actor 3", "Actor_03"),
                                                ("7", "ravdess-07"), ("007", "ravdess-07")])
def test_a_validation_speaker_spelt_otherwise_is_read_as_the_one_it_names_and_said(typed, speaker, caplog):
    speakers = ["P01", "P02", "Actor_03", "ravdess-07", "ravdess-08"]
    with caplog.at_level("WARNING"):
        assert train.resolve_speakers([typed], speakers, Path("data")) == [speaker]  # was: not one speaker
    assert [r.getMessage() for r in caplog.records] == [f"--validation-speakers {typed} read as {speaker}"]


def test_the_documented_number_of_a_ravdess_speaker_is_taken_without_a_warning(caplog):
    # the cards' Rebuild lines name RAVDESS actors so ('17' for ravdess-17): no line for each of them
    with caplog.at_level("WARNING"):
        assert train.resolve_speakers(["17", "18"], ["ravdess-17", "ravdess-18", "ravdess-19"], Path("data")) == [
            "ravdess-17", "ravdess-18"]
    assert caplog.messages == []


@pytest.mark.parametrize("typed", ["p3", "2", "actor 3"])
def test_a_validation_speaker_that_fits_none_or_several_is_refused_with_the_speakers_listed(typed):
    # "2": the end of a-2 and of b-02; "actor 3": a key of both (a corpus of RAVDESS folders, never a manifest)
    speakers = ["P01", "a-2", "b-02", "Actor_03", "actor-3"]
    with pytest.raises(InputError, match=rf"^{typed}: is not one speaker of data \(speakers: P01, a-2, b-02, "):
        train.resolve_speakers([typed], speakers, Path("data"))


def test_validation_speakers_typed_otherwise_train_on_the_speaker_they_name(tmp_path, cheap_windows, caplog):
    data = write_manifest(tmp_path / "data", speakers=("P01", "P02", "P03"))
    with caplog.at_level("WARNING"):
        assert main(["train", "audio", str(data), "--out", str(tmp_path / "run"), "--cv-folds", "3",
                     "--validation-speakers", "p3", "--speed-perturb", "none"]) == 0
    assert "--validation-speakers p3 read as P03" in caplog.messages
    assert json.loads((tmp_path / "run" / "report.json").read_text())["validation_speakers"] == ["P03"]


def test_the_report_says_which_labels_its_figures_cannot_judge():
    clips = [Clip(Path(f"{s}{label}.wav"), s, label, "manifest") for s in ("ann", "bob")
             for label in train.LABELS[:6]]
    clips.append(Clip(Path("ann-s.wav"), "ann", "disgust", "manifest"))
    warnings = train.coverage_warnings(Corpus(clips))
    assert any("no clips of surprised" in w for w in warnings)
    assert any("only speaker ann has disgust clips" in w and "0 by construction" in w for w in warnings)
    assert len(warnings) == 2



def test_a_label_whose_speakers_one_fold_or_the_validation_speakers_hold_together_is_said_unjudged():
    clips = [Clip(Path(f"{s}{label}.wav"), s, label, "manifest") for s in ("ann", "bob", "cy", "dee")
             for label in ("calm-ish", "worried")]
    clips += [Clip(Path(f"{s}-tearful.wav"), s, "tearful", "manifest") for s in ("bob", "dee")]
    corpus = Corpus(clips, labels=["calm-ish", "worried", "tearful"])  # a clinic's own labels (--labels-as-given)
    assert train.coverage_warnings(corpus, folds=[["ann", "cy"], ["bob", "dee"]], validation=["cy"]) == [
        "every speaker of tearful (bob, dee) is in one cross-validation fold: the model that scores them never learnt "
        "tearful, so its recall is 0 by construction and UA understates the model; more folds (--cv-folds) or more "
        "speakers of it split them"]
    assert train.coverage_warnings(corpus, folds=[["ann", "bob"], ["cy", "dee"]], validation=["bob", "dee"]) == [
        "every speaker of tearful (bob, dee) is a validation speaker: export's check model never learnt tearful, so "
        "the card's held-out figures score its recall 0"]
    assert train.coverage_warnings(corpus, folds=[["ann", "bob"], ["cy", "dee"]], validation=["dee"]) == []

@pytest.fixture
def trained_run(tmp_path, cheap_windows):
    out = tmp_path / "run"
    train.train_audio(write_manifest(tmp_path / "data"), out, cv_folds=3, validation_speakers=["cy"],
                      speed_factors=())
    return out


def test_a_model_trained_on_fewer_labels_lists_only_those_and_the_runtime_marks_the_rest_unsupported(
        tmp_path, cheap_windows, monkeypatch):
    import export.audio.export as export
    from runtime.arms.audio.model import AudioEmotionModel
    from runtime.models import load_model

    monkeypatch.setattr(train, "feature_names", lambda: [f"f{i}" for i in range(6)])  # the stand-in's 6 features
    monkeypatch.setattr(export, "median_latency_per_window_ms", lambda path, n_features: 0.1)
    learnt = ("neutral", "happy", "sad", "angry")
    out = tmp_path / "run"
    report = train.train_audio(write_manifest(tmp_path / "data", labels=learnt), out, cv_folds=3,
                               validation_speakers=["cy"], speed_factors=())
    assert any("no clips of calm, fearful, disgust, surprised" in w and "unsupported" in w for w in report.warnings)
    folder = export_audio(out, models_dir=tmp_path)
    card = json.loads((folder / "card.json").read_text())
    assert card["labels"] == list(learnt)
    features = np.random.default_rng(0).normal(size=(5, 6)).astype(np.float32)
    for mode in train.MODES:
        probs = load_model(folder, variant=mode, labels_output=0).run({"features": features})[0]
        assert probs.shape == (5, len(learnt))  # no column of confident absence for a label never heard
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    model = AudioEmotionModel(folder)
    assert model.labels == list(learnt)
    assert "calm, fearful, disgust, surprised" in (folder / "MODEL_CARD.md").read_text()
    # the arm's track (silence here: no window for the stand-in's features to judge) lists what the model lacks
    track = analyze_audio(np.zeros(3 * 16000, dtype=np.float32), model, AudioSettings())
    assert track.labels == list(learnt) and track.unsupported_labels == ["calm", "fearful", "disgust", "surprised"]


def test_a_label_whose_clips_hold_no_speech_window_is_said_to_be_that_not_absent(tmp_path, cheap_windows,
                                                                                   monkeypatch):
    import export.audio.export as export

    def without_sad_speech(clips, cache_dir=None, progress=False, speed_factor=1.0, data=None):
        rng = np.random.default_rng(0)
        heard = [i for i, clip in enumerate(clips) if clip.emotion != "sad"]
        index = np.repeat(heard, 3)
        y = np.array([train.LABELS.index(c.emotion) for c in clips])[index]
        features = rng.normal(size=(index.size, 6)).astype(np.float32) + y[:, None]
        silent = [str(clip.path) for clip in clips if clip.emotion == "sad"]
        return WindowTable(features, index, list(clips), silent, speed_factor)

    monkeypatch.setattr(train, "extract_windows", without_sad_speech)
    monkeypatch.setattr(train, "feature_names", lambda: [f"f{i}" for i in range(6)])
    monkeypatch.setattr(export, "median_latency_per_window_ms", lambda path, n_features: 0.1)
    out = tmp_path / "run"
    report = train.train_audio(write_manifest(tmp_path / "data", labels=("neutral", "happy", "sad", "angry")), out,
                               cv_folds=3, validation_speakers=["cy"], speed_factors=())
    # was: "no clips of calm, sad, fearful, ..." for the 3 sad clips the run had read
    [warning] = [w for w in report.warnings if "unsupported" in w]
    assert warning.startswith("no clips of calm, fearful, disgust, surprised; no speech windows of sad (its clips "
                              "held none): the exported model leaves them out")
    folder = export_audio(out, models_dir=tmp_path)
    assert json.loads((folder / "card.json").read_text())["labels"] == ["neutral", "happy", "angry"]
    text = (folder / "MODEL_CARD.md").read_text()
    assert "the training data held no clips of calm, fearful, disgust, surprised; no speech windows of sad" in text


def test_a_wav_cut_short_is_named_before_the_work_and_in_the_report(tmp_path, cheap_windows, caplog):
    data = write_manifest(tmp_path / "data")
    cut = data / "bob_sad.wav"
    cut.write_bytes(cut.read_bytes()[:-1000])  # its header still declares 1600 frames: 500 are gone
    with caplog.at_level("WARNING"):
        report = train.train_audio(data, tmp_path / "run", cv_folds=3, speed_factors=())
    said = [r.getMessage() for r in caplog.records if "cut short" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith(f"{cut}: holds 1100 of the 1600 frames")
    assert report.truncated_clips == said and "1 WAV clip(s) cut short" in report.summary()
    assert str(cut) in (tmp_path / "run" / "report.md").read_text()
    assert json.loads((tmp_path / "run" / "report.json").read_text())["truncated_clips"] == said


def test_export_refuses_a_report_of_another_kind_or_run(trained_run, tmp_path):
    report = json.loads((trained_run / "report.json").read_text())
    (trained_run / "report.json").write_text(json.dumps({"data": "x", "metrics": {}}))  # e.g. a physio report
    with pytest.raises(InputError, match=r"report\.json: is not a report of 'emotrace train audio'"):
        export_audio(trained_run, models_dir=tmp_path)
    (trained_run / "report.json").write_text(json.dumps({**report, "validation_speakers": ["ann"]}))
    with pytest.raises(InputError, match=r"report\.json: belongs to another run"):
        export_audio(trained_run, models_dir=tmp_path)


def test_export_of_unreadable_models_is_an_input_error(trained_run, tmp_path):
    models = trained_run / "models.npz"
    models.write_bytes(models.read_bytes()[:1000])  # cut short, as by a full disk or an interrupted copy
    with pytest.raises(InputError, match="unreadable training output"):
        export_audio(trained_run, models_dir=tmp_path)


def test_export_into_a_models_dir_that_is_a_file_says_so(trained_run, tmp_path):
    (tmp_path / "models").write_text("")
    with pytest.raises(InputError, match="is a file, not a models folder"):
        export_audio(trained_run, models_dir=tmp_path / "models")


def test_export_into_a_models_dir_not_there_yet_makes_it_as_every_export_does(trained_run, tmp_path, monkeypatch):
    import export.audio.export as export

    monkeypatch.setattr(export, "median_latency_per_window_ms", lambda path, n_features: 0.1)  # stand-in's 6 features
    folder = export_audio(trained_run, models_dir=tmp_path / "new" / "models")  # was: "models folder does not exist"
    assert folder == tmp_path / "new" / "models" / "audio-emotion" and (folder / "card.json").is_file()


def test_the_card_of_a_clinics_own_data_claims_no_ravdess(trained_run, tmp_path):
    report = json.loads((trained_run / "report.json").read_text())
    meta = {"n_features": 6, "window_s": 2.0, "hop_s": 0.5, "min_speech_fraction": 0.3, "classifier": LOGREG,
            "validation_speakers": ["cy"]}
    check = {mode: {"all_model": {"size_bytes_int8": 1, "size_bytes_float": 1, "ua_float": 0.5, "ua_int8": 0.5,
                                  "macro_f1_float": 0.5, "macro_f1_int8": 0.5, "window_agreement": 1.0},
                    "latency_ms_per_window_int8": 0.1} for mode in train.MODES}
    for mode in train.MODES:
        check[mode]["check_model"] = check[mode]["all_model"]
        (tmp_path / f"{mode}.int8.onnx").write_bytes(b"x")
    card = _card(meta, report, check, tmp_path)
    text = model_card_markdown(card, trained_run) + json.dumps(card["licence"])
    assert "RAVDESS" not in text and "actors 01-20" not in text
    assert f"emotrace train audio {report['data']}" in text


def _cached_windows(tmp_path, monkeypatch):
    """Three clips' window features, computed once into a cache: the clips, what was computed, the cache."""
    import export.audio.extract as extract

    clips = [Clip(tmp_path / f"{n}.wav", "ann", "happy", "mine") for n in range(3)]
    for clip in clips:
        clip.path.write_bytes(b"RIFF")  # the cache is keyed on the files; their features are made up below
    monkeypatch.setattr(extract, "clip_window_features", lambda path, speed_factor: np.full((2, 4), float(path.stem)))
    first = extract.extract_windows(clips, cache_dir=tmp_path / "cache")
    (cache,) = (tmp_path / "cache").glob("windows-*.npz")
    return clips, first, cache


def test_an_unreadable_feature_cache_is_computed_again_not_an_internal_error(tmp_path, monkeypatch, caplog):
    import export.audio.extract as extract

    clips, first, cache = _cached_windows(tmp_path, monkeypatch)
    cache.write_bytes(cache.read_bytes()[:500])  # a run stopped by power loss, a full disk
    again = extract.extract_windows(clips, cache_dir=tmp_path / "cache")  # was: internal error BadZipFile
    assert np.array_equal(again.features, first.features) and np.array_equal(again.clip_index, first.clip_index)
    assert f"{cache}: unreadable cache" in caplog.text
    assert np.array_equal(extract.extract_windows(clips, cache_dir=tmp_path / "cache").features, first.features)


def test_a_stop_swallowed_while_a_clip_is_read_ends_the_feature_pass_at_the_next_clip(tmp_path, monkeypatch):
    import export.audio.extract as extract
    from runtime.stopping import stopping_on_signals
    from tests.runtime.stops import swallowed_stop

    read = []

    def features(path, speed_factor=1.0):  # numba's compiler swallowed a Ctrl-C on a clip's first feature call
        read.append(path)
        swallowed_stop()
        return np.zeros((0, 4), dtype=np.float32)

    monkeypatch.setattr(extract, "clip_window_features", features)
    clips = [Clip(tmp_path / f"{i}.wav", "01", "neutral", "test") for i in range(5)]
    for clip in clips:
        clip.path.write_bytes(b"")
    with stopping_on_signals(), pytest.raises(KeyboardInterrupt):
        extract.extract_windows(clips)
    assert len(read) == 1  # was: every clip read, and the run trained on


def test_a_window_cache_whose_list_of_silent_clips_is_not_json_is_computed_again(tmp_path, monkeypatch, caplog):
    import export.audio.extract as extract
    from export.arrays import save_npz

    clips, first, cache = _cached_windows(tmp_path, monkeypatch)
    save_npz(cache, features=first.features, clip_index=first.clip_index, no_speech=np.array("not json"))
    again = extract.extract_windows(clips, cache_dir=tmp_path / "cache")  # was: internal error JSONDecodeError
    assert np.array_equal(again.features, first.features) and again.no_speech == []
    assert f"{cache}: unreadable cache (no_speech is not a JSON list)" in caplog.text


@pytest.mark.parametrize(("speakers", "options", "message"), [
    (("ann", "bob", "cy"), ["--cv-folds", "1"], "1: --cv-folds must be at least 2"),
    (("ann",), [], "needs clips from at least two speakers for speaker-independent folds"),
    (("ann", "bob", "cy"), ["--validation-speakers", "ann,bob,cy"],
     "ann,bob,cy: validation speakers must leave some speakers to train on"),
], ids=["one fold", "one speaker", "every speaker held out"])
def test_a_run_that_cannot_hold_speakers_out_is_refused_in_one_line_before_any_work(
        tmp_path, capsys, cheap_windows, speakers, options, message):
    # each would otherwise end minutes later in a fold or a fit with no speaker to train or score on
    data = write_manifest(tmp_path / "data", speakers)
    assert main(["train", "audio", str(data), "--out", str(tmp_path / "run"), "--speed-perturb", "none",
                 *options]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.strip().endswith(message)
    assert not (tmp_path / "run").exists()


def test_an_int8_model_that_loses_more_than_a_point_is_refused_and_nothing_is_installed(trained_run, tmp_path,
                                                                                        monkeypatch):
    import onnx
    from onnx import numpy_helper

    import export.audio.export as export

    real_quantize = export.quantize

    def damaging_quantize(float_path, int8_path):  # a quantizer that spoils the weights it rounds
        model = onnx.load(str(float_path))
        for tensor in model.graph.initializer:
            if tensor.name.startswith("W"):
                tensor.CopyFrom(numpy_helper.from_array(-numpy_helper.to_array(tensor), tensor.name))
        spoilt = Path(str(float_path) + ".spoilt.onnx")
        onnx.save(model, str(spoilt))
        real_quantize(spoilt, int8_path)
        spoilt.unlink()

    monkeypatch.setattr(export, "quantize", damaging_quantize)
    monkeypatch.setattr(export, "median_latency_per_window_ms", lambda path, n_features: 0.1)  # stand-in's 6 features
    models = tmp_path / "models"
    models.mkdir()
    with pytest.raises(InputError, match=r"INT8 model loses more than 1 point of UA on the validation speakers "
                                         r"\(\w+, \d+ clips\): session variant UA .* float, .* INT8; none variant "
                                         r"UA .*; not exported"):
        export_audio(trained_run, models_dir=models)
    assert list(models.iterdir()) == []


def test_the_shipped_int8_model_is_the_one_fitted_on_every_speaker(trained_run, tmp_path, monkeypatch):
    # the check model (validation speakers held out) only measures quantization; the device gets the whole fit
    import export.audio.export as export

    monkeypatch.setattr(export, "median_latency_per_window_ms", lambda path, n_features: 0.1)  # stand-in's 6 features
    folder = export_audio(trained_run, models_dir=tmp_path)
    stored = np.load(trained_run / "models.npz")
    features = np.random.default_rng(0).normal(scale=3.0, size=(200, 6)).astype(np.float32)
    for mode in train.MODES:
        shipped = export.run_onnx(folder / f"{mode}.int8.onnx", features)
        for which in ("all", "check"):
            graph = export.build_onnx(train.model_from_arrays(stored, f"{mode}/{which}"), f"x-{mode}")
            (tmp_path / f"{which}.onnx").write_bytes(graph.SerializeToString())
            export.quantize(tmp_path / f"{which}.onnx", tmp_path / f"{which}.int8.onnx")
        np.testing.assert_allclose(shipped, export.run_onnx(tmp_path / "all.int8.onnx", features), atol=1e-6)
        assert not np.allclose(shipped, export.run_onnx(tmp_path / "check.int8.onnx", features), atol=1e-3)
        assert not (folder / f"{mode}.float.onnx").exists()  # only INT8 ships


def test_the_card_says_labels_as_given_as_the_runs_report_does_and_a_models_meta_of_before_still_exports(
        trained_run, tmp_path, monkeypatch):
    import export.audio.export as export

    monkeypatch.setattr(export, "median_latency_per_window_ms", lambda path, n_features: 0.1)  # stand-in's 6 features
    for name in ("given", "before", "default"):
        (tmp_path / name).mkdir()
    report = json.loads((trained_run / "report.json").read_text())
    (trained_run / "report.json").write_text(json.dumps(report | {"labels_as_given": True}))
    folder = export_audio(trained_run, models_dir=tmp_path / "given")
    # was: False, read from models.npz's meta, which the report's flag had to be threaded into as well
    assert json.loads((folder / "card.json").read_text())["labels_as_given"] is True
    assert "--labels-as-given" in (folder / "MODEL_CARD.md").read_text().split("## Rebuild")[1]
    stored = dict(np.load(trained_run / "models.npz"))
    meta = json.loads(str(stored["meta"]))
    assert "labels_as_given" not in meta  # one place holds the fact: the report
    # a run of before: its models.npz's meta names the flag too, as its report does
    save_npz(trained_run / "models.npz", **stored | {"meta": np.array(json.dumps(meta | {"labels_as_given": True}))})
    folder = export_audio(trained_run, models_dir=tmp_path / "before")
    assert json.loads((folder / "card.json").read_text())["labels_as_given"] is True
    (trained_run / "report.json").write_text(json.dumps(report))  # the report decides: the meta's flag is unread
    folder = export_audio(trained_run, models_dir=tmp_path / "default")
    assert json.loads((folder / "card.json").read_text())["labels_as_given"] is False


def test_a_wav_cut_short_is_said_once_by_training_not_again_by_each_read_of_it(ravdess_dir, tmp_path, monkeypatch,
                                                                              caplog):
    import soundfile

    from runtime.media import read_audio

    monkeypatch.setitem(train.CLASSIFIER, "kind", "logreg")
    monkeypatch.setitem(train.CLASSIFIER, "C", 1.0)
    data = tmp_path / "data"
    data.mkdir()
    rows = ["path,speaker,emotion"]
    for actor in ("03", "04"):
        for code, emotion in (("01", "neutral"), ("05", "angry")):
            name = f"03-01-{code}-01-01-01-{actor}.flac"
            rows.append(f"{ravdess_dir / f'Actor_{actor}' / name},A{actor},{emotion}")
    cut = data / "cut.wav"
    soundfile.write(cut, read_audio(ravdess_dir / "Actor_03" / "03-01-05-01-02-01-03.flac"), 16000, subtype="PCM_16")
    cut.write_bytes(cut.read_bytes()[:len(cut.read_bytes()) // 2])  # 1.8 s of its 3.7 s
    rows.append("cut.wav,A03,angry")
    (data / "manifest.csv").write_text("\n".join(rows) + "\n")
    with caplog.at_level("WARNING"):
        report = train.train_audio(data, tmp_path / "run", cv_folds=2, speed_factors=(0.9, 1.1))
    said = [r.getMessage() for r in caplog.records if str(cut) in r.getMessage()]
    # was: once by training, then by the media reader on the clip and on each of its two speed copies
    assert len(said) == 1 and said[0].startswith(f"{cut}: holds ") and report.truncated_clips == said


def _shipped_over(tmp_path: Path, monkeypatch, card_metrics: dict, root: Path | None = None) -> Path:
    """The repo's models/ as a folder of ``root`` (default tmp_path), its audio-emotion holding a card with
    ``card_metrics``; the export's stand-ins for the 6 features and the latency."""
    import export.audio.export as export
    import export.install as install

    root = root or tmp_path
    monkeypatch.setattr(install, "REPO_MODELS_DIR", root / "models")
    monkeypatch.setattr(train, "feature_names", lambda: [f"f{i}" for i in range(6)])
    monkeypatch.setattr(export, "median_latency_per_window_ms", lambda path, n_features: 0.1)
    shipped = root / "models" / export.MODEL_ID
    shipped.mkdir(parents=True)
    _write_shipped_card(shipped, card_metrics)
    return shipped


def _write_shipped_card(shipped: Path, card_metrics: object) -> None:
    (shipped / "card.json").write_text(json.dumps({"id": "audio-emotion", "version": "2026.12.02-b04d6877",
                                                   "task": "voice-emotion", "metrics": card_metrics}))


def _shipped_version(shipped: Path) -> str:
    return json.loads((shipped / "card.json").read_text())["version"]


def test_exporting_a_run_on_other_data_over_the_shipped_model_needs_replace(trained_run, tmp_path, monkeypatch,
                                                                           capsys):
    shipped = _shipped_over(tmp_path, monkeypatch, {"data": "corpora/ravdess",
                                                    "data_checksum": {"sha256": "0" * 64, "of": "x"}})
    # was: the shipped model replaced by a clinic's, said only afterwards
    assert main(["export", "audio", str(trained_run)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "trained on other data" in err
    assert "--replace" in err and "--models-dir" in err
    assert _shipped_version(shipped) == "2026.12.02-b04d6877"
    assert main(["export", "audio", str(trained_run), "--replace"]) == 0
    card = json.loads((shipped / "card.json").read_text())
    assert card["metrics"]["data_checksum"] == json.loads((trained_run / "report.json").read_text())["data_checksum"]
    assert "emotrace export audio runs/audio --replace\n" in (shipped / "MODEL_CARD.md").read_text()
    # a retrain on the same data (its checksum) replaces it without being asked
    assert main(["export", "audio", str(trained_run)]) == 0


def test_the_shipped_models_data_checksum_decides_whatever_its_data_folder_says(trained_run, tmp_path, monkeypatch,
                                                                               capsys):
    report = json.loads((trained_run / "report.json").read_text())
    ours = report["data_checksum"]["sha256"]
    # all but the checksum as the run's: without checksums the two would pass for the same data
    as_run = {"data": report["data"], "folds": report["folds"], "cv": {"session/clip": {"n": report["n_clips"]}}}
    shipped = _shipped_over(tmp_path, monkeypatch, as_run | {
        "data_checksum": {"sha256": "0123456789ab" + "f" * 52, "of": "x"}})
    # the run's own data folder, another checksum: other data, refused; the message names the checksums
    assert main(["export", "audio", str(trained_run)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--replace" in err
    # was: "trained on other data (.../data) than this run (.../data)"
    assert f"trained on other data (data checksum 0123456789ab) than this run (data checksum {ours[:12]})" in err
    assert _shipped_version(shipped) == "2026.12.02-b04d6877"
    # the run's checksum under another data folder (the same data moved): replaced without asking
    _write_shipped_card(shipped, as_run | {"data": "elsewhere/clinic", "data_checksum": report["data_checksum"]})
    assert main(["export", "audio", str(trained_run)]) == 0
    assert _shipped_version(shipped) != "2026.12.02-b04d6877"


def _relative_run(tmp_path: Path, cwd: Path, monkeypatch) -> tuple[Path, dict]:
    """A run trained from ``cwd`` on '../data' (its data folder as typed, relative), and its report."""
    cwd.mkdir(parents=True, exist_ok=True)
    write_manifest(cwd.parent / "data")
    monkeypatch.chdir(cwd)
    out = tmp_path / f"run-{cwd.name}"
    train.train_audio(Path("../data"), out, cv_folds=3, validation_speakers=["cy"], speed_factors=())
    return out, json.loads((out / "report.json").read_text())


def test_a_shipped_card_without_a_data_checksum_needs_the_same_folder_resolved_speakers_and_clips(
        tmp_path, cheap_windows, monkeypatch, capsys):
    repo = tmp_path / "repo"  # the shipped card's data folder is relative to the repo, where its Rebuild runs
    run, report = _relative_run(tmp_path, repo, monkeypatch)
    assert report["data"] == "../data" and report["data_path"] == str((tmp_path / "data").resolve())
    as_rebuilt = {"data": "../data", "folds": report["folds"], "cv": {"session/clip": {"n": report["n_clips"]}}}
    shipped = _shipped_over(tmp_path, monkeypatch, as_rebuilt, root=repo)
    # the card's own Rebuild, from the repo: replaced without asking, as before
    assert export_audio(run) == shipped and _shipped_version(shipped) != "2026.12.02-b04d6877"
    refusals = {
        # was: replaced, the folder named alike though other speakers or clips were in it
        "other speakers": as_rebuilt | {"folds": [["ann"], ["bob"], ["dee"]]},
        "other clips": as_rebuilt | {"cv": {"session/clip": {"n": report["n_clips"] + 1}}},
        "no speakers": {"data": "../data", "cv": as_rebuilt["cv"]},
    }
    for why, metrics in refusals.items():
        _write_shipped_card(shipped, metrics)
        assert main(["export", "audio", str(run)]) == 2, why
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "not comparable (the card names no data checksum)" in err, why
        assert "--replace" in err and _shipped_version(shipped) == "2026.12.02-b04d6877", why
    # the same data named by its absolute path: replaced (was: refused as other data)
    _write_shipped_card(shipped, as_rebuilt | {"data": str(tmp_path / "data")})
    assert export_audio(run) == shipped and _shipped_version(shipped) != "2026.12.02-b04d6877"
    # a run typed exactly as the card names its data, from another folder, so on another folder: refused
    # (was: replaced, whatever that folder held)
    other_run, other = _relative_run(tmp_path, tmp_path / "clinic" / "host", monkeypatch)
    assert other["data"] == "../data" and other["n_clips"] == report["n_clips"]
    _write_shipped_card(shipped, as_rebuilt)
    with pytest.raises(InputError, match=r"not comparable \(the card names no data checksum\): trained on "
                       + str((tmp_path / "data").resolve())):
        export_audio(other_run)


def test_the_shipped_cards_own_rebuild_from_the_repo_replaces_it_without_asking(ravdess_dir, tmp_path, cheap_windows,
                                                                                 monkeypatch):
    import export.audio.export as export

    repo = REPO_MODELS_DIR.parent
    if (repo / "../shared/data/speech/ravdess").resolve() != ravdess_dir.resolve():
        pytest.skip("RAVDESS is not at ../shared/data/speech/ravdess beside the repo")
    shipped = REPO_MODELS_DIR / export.MODEL_ID
    rebuild = (shipped / "MODEL_CARD.md").read_text().split("## Rebuild")[1].split("```")[1].strip().splitlines()
    train_line, export_line = (line.split() for line in rebuild)
    assert train_line[:3] == ["emotrace", "train", "audio"] and export_line[:3] == ["emotrace", "export", "audio"]
    monkeypatch.chdir(repo)
    out = train_line.index("--out") + 1
    assert main([*train_line[1:out], str(tmp_path / "run"), *train_line[out + 1:]]) == 0
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["n_clips"] == 1200 and len(report["speakers"]) == 20
    # what 'export audio' without --replace checks before it writes anything (it would write over the repo's model)
    assert "--replace" not in export_line
    export.refuse_other_data_over(shipped, report)
    # the same clips, a speaker fewer: refused
    with pytest.raises(InputError, match=r"not comparable \(the card names no data checksum\)"):
        export.refuse_other_data_over(shipped, report | {"speakers": report["speakers"][1:]})


def test_a_shipped_card_that_cannot_be_read_or_says_its_metrics_oddly_is_one_line_naming_replace(
        trained_run, tmp_path, monkeypatch, capsys):
    shipped = _shipped_over(tmp_path, monkeypatch, {})
    (shipped / "card.json").write_text("{")
    assert main(["export", "audio", str(trained_run)]) == 2
    err = capsys.readouterr().err.strip()
    # was: "not a readable model card", with no word of how to go on
    assert len(err.splitlines()) == 1 and "not a readable model card" in err
    assert "--replace" in err and "--models-dir" in err
    _write_shipped_card(shipped, ["not", "a", "dict"])
    assert main(["export", "audio", str(trained_run)]) == 2  # was: AttributeError, as a bug
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not comparable (the card names no data checksum)" in err
    (shipped / "card.json").write_text("{")
    assert main(["export", "audio", str(trained_run), "--replace"]) == 0
    assert _shipped_version(shipped) != "2026.12.02-b04d6877"


def test_the_repos_models_by_any_path_is_guarded(trained_run, tmp_path, monkeypatch, capsys):
    shipped = _shipped_over(tmp_path, monkeypatch, {"data": "corpora/ravdess",
                                                    "data_checksum": {"sha256": "0" * 64, "of": "x"}})
    (tmp_path / "elsewhere").mkdir()
    # the repo's models/ named by another path: the same guard as none named (was: replaced without asking)
    (tmp_path / "link").symlink_to(tmp_path / "models")
    for spelling in (tmp_path / "models", tmp_path / "link", tmp_path / "elsewhere" / ".." / "models"):
        assert main(["export", "audio", str(trained_run), "--models-dir", str(spelling)]) == 2, spelling
        assert "trained on other data" in capsys.readouterr().err
    assert _shipped_version(shipped) == "2026.12.02-b04d6877"
    assert main(["export", "audio", str(trained_run), "--models-dir", str(tmp_path / "link"), "--replace"]) == 0
    assert _shipped_version(shipped) != "2026.12.02-b04d6877"


def test_a_model_exported_beside_the_shipped_one_names_its_int8_row_exported(trained_run, tmp_path, monkeypatch):
    _shipped_over(tmp_path, monkeypatch, {"data": "corpora/ravdess"})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    text = (export_audio(trained_run, models_dir=elsewhere) / "MODEL_CARD.md").read_text()
    # was: "shipped: trained on them too", of a model that ships nowhere
    assert "| exported: trained on them too |" in text and "**Exported**: the exported model" in text
    assert "shipped" not in text
    card = json.loads((elsewhere / "audio-emotion" / "card.json").read_text())
    assert "all_model: the exported model" in card["metrics"]["quantization_check"]["note"]


def test_own_labels_that_are_a_corpus_short_forms_are_warned_of_in_the_report(tmp_path, monkeypatch):
    def own_label_windows(clips, cache_dir=None, progress=False, speed_factor=1.0, data=None):
        rng = np.random.default_rng(0)
        index = np.repeat(np.arange(len(clips)), 3)
        order = sorted({clip.emotion for clip in clips})
        y = np.array([order.index(clip.emotion) for clip in clips])[index]
        features = rng.normal(size=(index.size, 6)).astype(np.float32) + y[:, None]
        return WindowTable(features, index, list(clips), [], speed_factor)

    monkeypatch.setattr(train, "extract_windows", own_label_windows)
    monkeypatch.setattr(train, "feature_names", lambda: [f"f{i}" for i in range(6)])
    monkeypatch.setitem(train.CLASSIFIER, "kind", "logreg")
    monkeypatch.setitem(train.CLASSIFIER, "C", 1.0)
    data = write_manifest(tmp_path / "data", labels=("N", "ps", "low"))
    report = train.train_audio(data, tmp_path / "run", cv_folds=3, validation_speakers=["cy"], speed_factors=(),
                               labels_as_given=True)
    assert report.labels == ["low", "n", "ps"]
    # was: no word of it, though a manifest's 'N' and 'ps' may have meant neutral and surprised
    assert [w for w in report.warnings if "short forms" in w] == [
        "own label(s) n (neutral), ps (surprised) are short forms corpora use for canonical emotions: taken as given "
        "they are classes of their own, left out of fusion; without --labels-as-given they are read as those emotions"]
    assert "short forms" in (tmp_path / "run" / "report.md").read_text()
    assert train.short_form_warnings(["happy", "low", "high"]) == []


def test_an_export_over_a_model_of_another_task_is_refused_in_one_line_wherever_it_is(trained_run, tmp_path,
                                                                                      monkeypatch, capsys):
    from runtime.arms.audio.model import WAVEFORM_TASK
    from runtime.arms.face.expression import FACE_TASK

    # a face model exported with --id audio-emotion into another folder: was, replaced by a voice model unasked
    other = tmp_path / "elsewhere" / "audio-emotion"
    other.mkdir(parents=True)
    (other / "card.json").write_text(json.dumps({"id": "audio-emotion", "version": "1", "task": FACE_TASK}))
    assert main(["export", "audio", str(trained_run), "--models-dir", str(other.parent)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{other}: holds a model for {FACE_TASK!r}, not 'voice-emotion'" in err
    assert sorted(p.name for p in other.parent.iterdir()) == ["audio-emotion"]  # no staging folder left
    assert sorted(p.name for p in other.iterdir()) == ["card.json"]
    # the repo's models/ holding a waveform model: --replace does not let a voice-feature model over it
    shipped = _shipped_over(tmp_path, monkeypatch, {})
    (shipped / "card.json").write_text(json.dumps({"id": "audio-emotion", "version": "1", "task": WAVEFORM_TASK}))
    assert main(["export", "audio", str(trained_run), "--replace"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"holds a model for {WAVEFORM_TASK!r}, not 'voice-emotion'" in err
    assert json.loads((shipped / "card.json").read_text())["task"] == WAVEFORM_TASK
