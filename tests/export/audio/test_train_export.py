"""Training and export on a small real slice: 3 RAVDESS actors, every emotion, through a manifest."""

import csv
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from export.audio.datasets import load_corpus
from export.audio.export import export_audio
from export.audio.extract import WindowTable, clip_speech_level_dbfs, speed_perturbed
from export.audio.train import TrainingRows, train_audio
from runtime.arms.audio.classify import classify_paths
from runtime.arms.audio.level import training_speech_range
from runtime.arms.audio.model import AudioEmotionModel
from runtime.errors import InputError
from runtime.models import load_model
from runtime.track import CANONICAL_LABELS
from tests.export.audio.fit_spy import rows_each_fit_sees
from tests.export.cards import assert_card_as_exports_write_it

ACTORS = ("01", "02", "03")


@pytest.fixture(scope="module")
def manifest_dir(ravdess_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    rows = []
    for actor in ACTORS:
        for path in sorted((ravdess_dir / f"Actor_{actor}").glob("03-01-*-01-0[12]-01-*.flac")):
            emotion = CANONICAL_LABELS[int(path.name.split("-")[2]) - 1]
            rows.append({"path": str(path), "speaker": f"actor{actor}", "emotion": emotion})
    with open(folder / "manifest.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["path", "speaker", "emotion"])
        writer.writeheader()
        writer.writerows(rows)
    return folder


@pytest.fixture(scope="module")
def trained(manifest_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("trained")
    report = train_audio(manifest_dir, out, cv_folds=3, validation_speakers=["actor03"], speed_factors=(1.1,))
    return out, report


def test_training_reports_speaker_independent_metrics(trained, manifest_dir):
    out, report = trained
    assert len(report.folds) == 3
    assert all(len(fold) == 1 for fold in report.folds)  # one actor per fold: never in train and test at once
    for name in ("session/clip", "none/clip", "session/window", "none/window"):
        metrics = report.cv[name]
        assert 0.0 <= metrics["ua"] <= 1.0 and 0.0 <= metrics["ece"] <= 1.0
        assert len(metrics["recall"]) == 8
        assert np.asarray(metrics["confusion"]["rows_true_cols_pred"]).sum() > 0
    saved = json.loads((out / "report.json").read_text())
    assert saved["validation_speakers"] == ["actor03"]
    assert saved["speed_factors"] == [1.1]
    assert len(list((out / "cache").glob("windows-*.npz"))) == 2  # the clips as they are, and 1.1 times as fast
    assert "UA" in (out / "report.md").read_text()
    # the training data per label, as the manifest gives it: what a reviewer weighs each label's figures by
    with open(manifest_dir / "manifest.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert saved["clips_per_label"] == {label: sum(r["emotion"] == label for r in rows) for label in CANONICAL_LABELS}
    assert saved["speakers_per_label"] == {label: len({r["speaker"] for r in rows if r["emotion"] == label})
                                           for label in CANONICAL_LABELS}
    assert f"neutral {saved['clips_per_label']['neutral']} (3)" in (out / "report.md").read_text()
    # each figure's spread over speakers; three speakers make a rough one, and the report says so
    for name, metrics in saved["cv"].items():
        interval = metrics["interval_95"]
        assert 0.0 <= interval["ua"][0] <= interval["ua"][1] <= 1.0 and "rough" in interval["note"]
        assert f"- {name}: UA {metrics['ua']:.3f} (95 % over speakers {interval['ua'][0]:.3f}–" in (
            out / "report.md").read_text()
    assert "(95 % over speakers " in report.summary()
    # which data made it: the manifest's rows and the sizes of their clips (absolute paths: outside its folder)
    lines = sorted(f"{r['path']}\t{r['speaker']}\t{r['emotion']}\t{Path(r['path']).stat().st_size}\n" for r in rows)
    assert saved["data_checksum"]["sha256"] == hashlib.sha256("".join(lines).encode()).hexdigest()


def test_a_model_cards_text_follows_the_run_it_was_exported_from(trained, tmp_path):
    from export.audio.export import _RAVDESS_LICENCE, model_card_markdown

    out, report = trained
    card = json.loads((export_audio(out, models_dir=tmp_path) / "card.json").read_text())
    assert (card["metrics"]["clips"], card["metrics"]["speakers"]) == (report.n_clips, 3)
    # a RAVDESS run of three actors, with a warning from training
    ravdess = card | {"licence": card["licence"] | _RAVDESS_LICENCE, "warnings": ["no clips of calm"]}
    ravdess["metrics"] = card["metrics"] | {"data": "corpora/ravdess-3"}
    text = model_card_markdown(ravdess, out)
    # was: "actors 01-20 (1,200 clips", "from 20 professional actors" and ../shared/data/speech/ravdess to rebuild
    assert f"RAVDESS speech, 3 actors ({report.n_clips} clips" in text and "from 3 professional actors" in text
    assert "emotrace train audio corpora/ravdess-3 " in text and "Warning: no clips of calm." in text
    assert "01-20" not in text and "1,200" not in text
    # the fixture trained with speed factor 1.1 alone: its rebuild says so; varied baselines are said where used
    assert "--validation-speakers actor03 --speed-perturb 1.1\n" in text
    varied = model_card_markdown(ravdess | {"varied_baselines": 3}, out)
    assert "--validation-speakers actor03 --speed-perturb 1.1 --varied-baselines 3\n" in varied
    assert "against 3 more baselines of their own clips" in varied and "more baselines" not in text


def test_export_scores_the_session_variant_on_its_validation_speakers_own_baselines(trained, tmp_path):
    from export.audio.train import LABELS, clip_level, model_from_arrays, predict_proba
    from export.metrics import classification_metrics
    from runtime.arms.audio.features import zscore_by_group

    out, _ = trained
    card = json.loads((export_audio(out, models_dir=tmp_path) / "card.json").read_text())
    stored, validation = np.load(out / "models.npz"), np.load(out / "validation.npz")
    # the definition: each validation speaker's windows against that speaker's own baseline, as on the device
    features = zscore_by_group(validation["features"], validation["groups"])
    clips, remap = np.unique(validation["clip_index"], return_inverse=True)
    _, first = np.unique(validation["clip_index"], return_index=True)
    probs, claimed = clip_level(predict_proba(model_from_arrays(stored, "session/check"), features), remap, clips.size)
    expected = classification_metrics(validation["y"][first], probs, LABELS, claimed)["ua"]
    # was untested: scoring the raw features (no baseline) passed every test
    assert card["metrics"]["quantization_check"]["session"]["check_model"]["ua_float"] == pytest.approx(expected)


def test_export_writes_an_int8_model_the_runtime_loads(trained, tmp_path, ravdess_dir, manifest_dir):
    out, _ = trained
    folder = export_audio(out, models_dir=tmp_path)
    assert_card_as_exports_write_it(folder)
    card = json.loads((folder / "card.json").read_text())
    assert set(card["files"]) == {"session", "none"}
    for variant in ("session", "none"):
        model = load_model(folder, variant=variant)
        probs = model.run({"features": np.zeros((3, card["n_features"]), dtype=np.float32)})[0]
        assert probs.shape == (3, 8)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    assert f"emotrace train audio {manifest_dir} " in (folder / "MODEL_CARD.md").read_text()
    assert AudioEmotionModel(folder).labels == list(CANONICAL_LABELS)
    csv_path = tmp_path / "c.csv"
    classify_paths([ravdess_dir / "Actor_04" / "03-01-01-01-01-01-04.flac"], csv_path, model=str(folder))
    assert csv_path.read_text().splitlines()[1].split(",")[1] in CANONICAL_LABELS


def test_manifest_naming_a_missing_file_is_an_error(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "manifest.csv").write_text("path,speaker,emotion\nnope.wav,s1,happy\n")
    with pytest.raises(InputError, match="does not exist"):
        train_audio(tmp_path / "data", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_manifest_with_an_unmappable_label_is_an_error(tmp_path, ravdess_dir):
    clip = ravdess_dir / "Actor_01" / "03-01-01-01-01-01-01.flac"
    (tmp_path / "manifest.csv").write_text(f"path,speaker,emotion\n{clip},s1,boredom\n")
    with pytest.raises(InputError, match="cannot be mapped"):
        train_audio(tmp_path / "manifest.csv", tmp_path / "out")  # the CSV given itself: out lies beside it


def test_an_mlp_of_several_members_is_one_graph_averaging_their_logits():
    from export.audio.train import CLASSIFIER, fit_classifier, predict_proba

    rng = np.random.default_rng(0)
    x = rng.normal(size=(160, 6))
    y = np.repeat(np.arange(8), 20)
    x[:, 0] += y  # learnable
    spec = {**CLASSIFIER, "hidden": 8, "max_iter": 50}
    single = [fit_classifier(x, y, {**spec, "seed": k, "members": 1}) for k in range(3)]
    merged = fit_classifier(x, y, {**spec, "seed": 0, "members": 3})
    assert merged["layers"][0][0].shape == (6, 24)
    mean_log = np.mean([np.log(predict_proba(m, x)) for m in single], axis=0)
    expected = np.exp(mean_log) / np.exp(mean_log).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(predict_proba(merged, x), expected, atol=1e-5)


def test_speed_perturbation_shortens_a_clip_and_raises_its_pitch_by_the_factor():
    rate = 16000
    t = np.arange(rate) / rate
    tone = (0.5 * np.sin(2 * np.pi * 200.0 * t)).astype(np.float32)
    faster = speed_perturbed(tone, rate, 1.1)
    assert abs(faster.size - rate / 1.1) <= 2
    spectrum = np.abs(np.fft.rfft(faster * np.hanning(faster.size)))
    peak_hz = np.fft.rfftfreq(faster.size, 1 / rate)[spectrum.argmax()]
    assert abs(peak_hz - 220.0) < 3.0
    assert speed_perturbed(tone, rate, 1.0) is tone


def _table(n_clips: int, windows_per_clip: int, shift: float) -> WindowTable:
    rng = np.random.default_rng(int(shift * 10))
    index = np.repeat(np.arange(n_clips), windows_per_clip)
    return WindowTable(rng.normal(shift, 1.0, size=(index.size, 4)).astype(np.float32), index, [], [])


def test_a_held_out_speakers_perturbed_copies_never_train_the_model_that_scores_it(monkeypatch):
    speaker_clip = np.array(["a", "a", "b", "b", "c", "c"])
    y_clip = np.array([0, 1, 0, 1, 0, 1])
    rows = TrainingRows.build(_table(6, 2, 0.0), y_clip, speaker_clip, "session",
                              augmented=(_table(6, 2, 1.0), _table(6, 2, 2.0)))
    assert rows.features.shape == (36, 4) and rows.original.sum() == 12
    seen = rows_each_fit_sees(monkeypatch)
    probs = rows.out_of_fold([["a"], ["b"], ["c"]])
    assert probs.shape == (12, 8)
    assert seen == [24, 24, 24]  # two speakers x (original + two copies) x 2 clips x 2 windows, never the third


@pytest.mark.parametrize("value, message", [("fast", "takes numbers"), ("1", "differ from 1"), ("0.9,3", "between")])
def test_a_bad_speed_perturbation_is_one_line_naming_it(manifest_dir, tmp_path, capsys, value, message):
    from runtime.cli import main

    assert main(["train", "audio", str(manifest_dir), "--out", str(tmp_path / "o"), "--speed-perturb", value]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not (tmp_path / "o").exists()


def test_training_reads_a_clip_as_the_device_judges_it_without_its_dc_offset(ravdess_dir, tmp_path):
    """The device removes a recording's DC offset before the VAD and the features; training must too, or a
    clinic's microphone offset is learnt from every clip and then never seen again."""
    import soundfile

    from export.audio.extract import clip_window_features
    from runtime.media import read_audio

    samples = read_audio(ravdess_dir / "Actor_03" / "03-01-05-02-01-01-03.flac")
    for name, offset in (("plain", 0.0), ("offset", 0.05)):  # 0.05: inaudible, a cheap microphone's
        soundfile.write(tmp_path / f"{name}.wav", samples + np.float32(offset), 16000, subtype="FLOAT")
    plain, offset = (clip_window_features(tmp_path / f"{name}.wav") for name in ("plain", "offset"))
    assert plain.shape == offset.shape and plain.shape[0] > 0
    np.testing.assert_allclose(offset, plain, rtol=1e-3, atol=1e-3)


def _speaker_of_every_emotion(clips_per_emotion: int = 3, windows_per_clip: int = 2):
    y_clip = np.repeat(np.arange(8), clips_per_emotion)
    clip_index = np.repeat(np.arange(y_clip.size), windows_per_clip)
    return y_clip[clip_index], clip_index


def test_random_baselines_are_few_clips_one_emotion_with_or_without_the_calm_ones_or_the_calm_ones_alone():
    from export.audio.train import LABELS, random_baselines

    y, clip_index = _speaker_of_every_emotion()
    calm = {LABELS.index("neutral"), LABELS.index("calm")}
    kinds = set()
    for baseline in random_baselines(y, clip_index, 60, np.random.default_rng(1)):
        labels = set(y[baseline].tolist())
        assert baseline.size > 1 and baseline.max() < y.size
        if labels <= calm:
            kinds.add("calm alone")
        elif len(labels - calm) == 1:
            kinds.add("one emotion with calm" if labels & calm else "one emotion")
        else:
            kinds.add("few clips")  # whole clips, 5 or more of them
            drawn = np.unique(clip_index[baseline])
            assert np.array_equal(baseline, np.flatnonzero(np.isin(clip_index, drawn))) and 5 <= drawn.size <= 24
    assert kinds == {"calm alone", "one emotion with calm", "one emotion", "few clips"}


def test_varied_baselines_add_each_speakers_windows_over_their_own_whole_clips_for_training_only(monkeypatch):
    import export.audio.train as train

    y, clip_index = _speaker_of_every_emotion()  # 8 emotions x 3 clips x 2 windows
    n, count = clip_index.size, 12
    # one indicator column per window of the corpus: z-scored over a baseline, a row is positive in its own window's
    # column, negative in the column of every other window of that baseline, and 0 in the rest
    table = WindowTable(np.eye(3 * n, dtype=np.float32), np.concatenate([clip_index + k * 24 for k in range(3)]),
                        [], [])
    y_clip = np.tile(np.repeat(np.arange(8), 3), 3)
    speaker_clip = np.repeat(["a", "b", "c"], 24)
    owner, label, clip_of = speaker_clip[table.clip_index], y_clip[table.clip_index], table.clip_index
    calm = {train.LABELS.index("neutral"), train.LABELS.index("calm")}
    plain = TrainingRows.build(table, y_clip, speaker_clip, "session")
    varied = TrainingRows.build(table, y_clip, speaker_clip, "session", varied_baselines=count)
    assert TrainingRows.build(table, y_clip, speaker_clip, "none", varied_baselines=count).features.shape[0] == 3 * n
    assert varied.features.shape[0] == 3 * n * (1 + count)  # every baseline here has two windows or more
    assert np.array_equal(varied.features[: 3 * n], plain.features)
    assert varied.original.tolist() == [True] * 3 * n + [False] * 3 * n * count
    kinds = {speaker: set() for speaker in "abc"}
    for start in range(3 * n, varied.features.shape[0], n):
        rows = varied.features[start:start + n]
        window = rows.argmax(axis=1)
        speaker = owner[window[0]]
        assert np.array_equal(window, np.flatnonzero(owner == speaker))  # one speaker's windows, each once
        assert set(varied.groups[start:start + n].tolist()) == {speaker}
        assert np.array_equal(varied.y[start:start + n], label[window])
        baseline = np.flatnonzero((rows < -1e-6).any(axis=0))  # the windows these rows are z-scored over
        assert set(owner[baseline].tolist()) == {speaker}  # their own windows, no one else's
        clips = np.unique(clip_of[baseline])
        assert np.array_equal(baseline, np.flatnonzero(np.isin(clip_of, clips)))  # whole clips
        over = rows[np.searchsorted(window, baseline)]  # the baseline's own rows: mean 0, sd 1 in its columns
        assert np.allclose(over.mean(axis=0), 0, atol=1e-4) and np.allclose(over.std(axis=0)[baseline], 1, atol=1e-4)
        labels = set(label[baseline].tolist())
        whole_labels = np.array_equal(baseline, np.flatnonzero(np.isin(label, list(labels)) & (owner == speaker)))
        if whole_labels and labels == calm:
            kinds[speaker].add("neutral and calm alone")
        elif whole_labels and len(labels - calm) == 1:
            kinds[speaker].add("one emotion with neutral and calm" if labels >= calm else "one emotion")
            assert not labels & calm or labels >= calm  # with both of them or with neither
        else:
            kinds[speaker].add("a few clips")
            assert 5 <= clips.size <= 24 and len(labels) > 1
    assert all(drawn == {"a few clips", "one emotion", "one emotion with neutral and calm", "neutral and calm alone"}
               for drawn in kinds.values())
    # never scored, never trained on in their own speaker's fold
    fitted, scored = [], []
    real_fit, real_predict = train.fit_classifier, train.predict_proba

    def fit_spy(features, labels, spec=train.CLASSIFIER, *label_count):
        fitted.append(features)
        return real_fit(features, labels, {"kind": "logreg", "C": 1.0}, *label_count)

    def predict_spy(model, features):
        scored.append(features)
        return real_predict(model, features)

    monkeypatch.setattr(train, "fit_classifier", fit_spy)
    monkeypatch.setattr(train, "predict_proba", predict_spy)
    assert varied.out_of_fold([["a"], ["b"], ["c"]]).shape == (3 * n, 8)
    for left_out, seen, judged in zip("abc", fitted, scored, strict=True):
        assert seen.shape[0] == 2 * n * (1 + count)  # the other two speakers' windows and all their varied copies
        assert left_out not in set(owner[seen.argmax(axis=1)].tolist())
        assert np.array_equal(judged, plain.features[owner == left_out])  # only the plain rows are scored


def test_more_varied_baselines_than_allowed_are_one_line(manifest_dir, tmp_path, capsys):
    from runtime.cli import main

    assert main(["train", "audio", str(manifest_dir), "--out", str(tmp_path / "o"), "--varied-baselines", "11"]) == 2
    assert capsys.readouterr().err.strip() == "emotrace: error: 11: --varied-baselines must be from 0 to 10"
    assert not (tmp_path / "o").exists()


def test_more_folds_than_speakers_are_said_before_the_feature_work(manifest_dir, tmp_path, caplog, monkeypatch):
    import export.audio.train as train

    def stop(*_args, **_kwargs):  # the feature work: not needed to see what was said before it
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "extract_windows", stop)
    with caplog.at_level("WARNING"), pytest.raises(KeyboardInterrupt):
        train_audio(manifest_dir, tmp_path / "o", cv_folds=10)
    assert caplog.messages == ["--cv-folds 10: only 3 speakers, so 3 folds of one speaker each"]


def test_the_card_records_its_own_training_speechs_level_and_names_it(trained, manifest_dir, tmp_path, caplog):
    # was: every card named the shipped RAVDESS range, whichever speakers a run trained on
    out, _ = trained
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    folder = export_audio(out, models_dir=tmp_path / "a")
    card = json.loads((folder / "card.json").read_text())
    levels = [clip_speech_level_dbfs(clip.path) for clip in load_corpus(manifest_dir).clips]
    record = training_speech_range([level for level in levels if level is not None])
    assert {k: card["speech_level_dbfs"][k] for k in record} == record
    low_dbfs, high_dbfs = record["p5"], record["p95"]
    assert f"this model's training speech ({low_dbfs:g} to {high_dbfs:g} dBFS" in (folder / "MODEL_CARD.md").read_text()
    # a run whose data is gone: no range claimed, said in a line, and the card's text says the runtime flags none
    moved = tmp_path / "moved"
    shutil.copytree(out, moved)
    report = json.loads((moved / "report.json").read_text())
    (moved / "report.json").write_text(json.dumps(report | {"data": str(tmp_path / "gone"),
                                                             "data_path": str(tmp_path / "gone")}))
    folder = export_audio(moved, models_dir=tmp_path / "b")
    assert "speech_level_dbfs" not in json.loads((folder / "card.json").read_text())
    assert "records no training speech level" in (folder / "MODEL_CARD.md").read_text()
    assert any("the card records no training speech level" in line for line in caplog.messages)
