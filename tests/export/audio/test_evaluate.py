"""``emotrace evaluate audio``: a model scored on a labelled set, read as training reads one, judged as classify
judges a clip; what cannot be scored is said."""

import json
import logging
import shutil
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile

from runtime.cli import main
from runtime.models.card import REPO_MODELS_DIR
from tests.export.evaluations import evaluated, one_label_probs

EMOTIONS = {"01": "neutral", "03": "happy", "05": "angry", "07": "disgust"}
ACTORS = ("17", "18")


@pytest.fixture
def manifest(ravdess_dir, tmp_path):
    """A balanced set: two RAVDESS actors, four emotions, one clip each; speakers named as a clinic might."""
    lines = ["path,speaker,emotion"]
    for actor in ACTORS:
        for code, emotion in EMOTIONS.items():
            lines.append(f"{ravdess_dir}/Actor_{actor}/03-01-{code}-01-01-01-{actor}.flac,A{actor},{emotion}")
    path = tmp_path / "set" / "manifest.csv"
    path.parent.mkdir()
    path.write_text("\n".join(lines) + "\n")
    return path


class _OneLabelModel:
    """Stands in for a voice model that gives every window the same label, 90 % sure."""

    def __init__(self, labels: list[str], says: str, metrics: dict | None = None):
        self.labels = labels
        self.says = labels.index(says)
        self.card = SimpleNamespace(extra={"window_s": 2.0, "hop_s": 0.5, "min_speech_fraction": 0.3}, id="one",
                                    version="1", folder=REPO_MODELS_DIR / "one", metrics=metrics or {})
        self.variants: set[str] = set()

    def predict(self, rows: np.ndarray, variant: str) -> np.ndarray:
        self.variants.add(variant)
        return one_label_probs(len(rows), len(self.labels), self.says)


def _evaluate(monkeypatch, model, data, out, *options):
    monkeypatch.setattr("export.audio.evaluate.load_audio_model", lambda location: model)
    return evaluated("audio", data, out, *options)


def test_a_model_that_always_says_one_label_scores_one_over_k_on_a_balanced_set(manifest, tmp_path, monkeypatch,
                                                                                   capsys):
    model = _OneLabelModel(["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"], "angry")
    code, report = _evaluate(monkeypatch, model, manifest, tmp_path / "out")
    assert code == 0
    assert report["clips"] == 8 and report["speakers"] == 2 and model.variants == {"none"}
    assert report["ua"] == pytest.approx(1 / 4) and report["accuracy"] == pytest.approx(1 / 4)
    assert report["ece"] == pytest.approx(0.9 - 0.25)  # 90 % sure, right a quarter of the time
    assert report["recall"]["angry"] == 1.0 and report["recall"]["happy"] == 0.0 and report["recall"]["calm"] is None
    assert report["clip_counts"] == {"neutral": 2, "calm": 0, "happy": 2, "sad": 0, "angry": 2, "fearful": 0,
                                     "disgust": 2, "surprised": 0}
    angry_column = [row[4] for row in report["confusion"]["rows_true_cols_pred"]]
    assert angry_column == [2, 0, 2, 0, 2, 0, 2, 0]
    assert {s: v["ua"] for s, v in report["per_speaker"].items()} == {"A17": 0.25, "A18": 0.25}
    assert report["interval_95"]["ua"] == pytest.approx([0.25, 0.25])  # both speakers alike: no spread
    out = capsys.readouterr().out
    assert "UA 0.250" in out and "model labels with no clip in the set" in out and "calm, sad, fearful" in out
    assert "| angry | 2 | 1.000 |" in (tmp_path / "out" / "audio_evaluation.md").read_text()


def test_clips_whose_label_the_model_lacks_are_counted_and_said_not_scored(manifest, tmp_path, monkeypatch, capsys):
    model = _OneLabelModel(["neutral", "happy", "angry"], "angry")
    code, report = _evaluate(monkeypatch, model, manifest, tmp_path / "out")
    assert code == 0
    assert report["outside_model_labels"] == {"disgust": 2} and report["clips_read"] == 8 and report["clips"] == 6
    assert report["ua"] == pytest.approx(1 / 3)
    assert "labels the model does not have, left out of the figures: disgust 2" in capsys.readouterr().out


def test_a_set_with_no_label_the_model_has_is_one_line_and_exit_2(manifest, tmp_path, monkeypatch, capsys):
    model = _OneLabelModel(["calm", "sad"], "sad")
    code, _ = _evaluate(monkeypatch, model, manifest, tmp_path / "out")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "no clip has a label the model one has (calm, sad)" in err[0]


def test_a_manifest_naming_a_missing_file_is_one_line_and_exit_2(manifest, tmp_path, capsys):
    manifest.write_text(manifest.read_text() + "gone.wav,A19,sad\n")
    code = main(["evaluate", "audio", str(manifest), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "line 10: 'gone.wav' does not exist" in err[0]
    assert not (tmp_path / "out").exists()


def test_a_manifest_with_several_unusable_rows_names_each_in_one_line_and_exit_2(manifest, tmp_path, capsys):
    lines = manifest.read_text().splitlines()
    lines[2] = lines[2].replace(",happy", ",boredom")
    lines[5] = lines[5].replace(",A18,", ",,")
    manifest.write_text("\n".join(lines) + "\n")
    code = main(["evaluate", "audio", str(manifest), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    # was: line 3 alone
    assert code == 2 and len(err) == 1
    assert "2 of 8 row(s) lack" in err[0] and err[0].endswith("line 3: label 'boredom' cannot be mapped; "
                                                               "line 6: no speaker")


def test_a_clip_without_speech_is_kept_as_a_wrong_answer_and_listed(manifest, tmp_path, monkeypatch, capsys):
    soundfile.write(manifest.parent / "silence.wav", np.zeros(48000, dtype=np.float32), 16000)
    manifest.write_text(manifest.read_text() + "silence.wav,A18,angry\n")
    model = _OneLabelModel(["neutral", "happy", "angry", "disgust"], "angry")
    code, report = _evaluate(monkeypatch, model, manifest, tmp_path / "out")
    assert code == 0 and report["clips"] == 9 and report["no_claim"] == 1
    assert report["recall"]["angry"] == pytest.approx(2 / 3)  # the silent angry clip counts against it
    assert [entry["path"] for entry in report["no_speech"]] == [str(manifest.parent / "silence.wav")]
    assert "no speech" in report["no_speech"][0]["reason"]
    assert "1 clip(s) without speech" in capsys.readouterr().out


def test_an_unreadable_file_is_refused_in_one_line_not_scored_as_a_clip_without_speech(manifest, tmp_path,
                                                                                        monkeypatch, capsys):
    (manifest.parent / "bad.wav").write_bytes(b"not audio")
    (manifest.parent / "empty.wav").write_bytes(b"")
    soundfile.write(manifest.parent / "silence.wav", np.zeros(48000, dtype=np.float32), 16000)
    manifest.write_text(manifest.read_text() + "bad.wav,A18,angry\nempty.wav,A17,happy\nsilence.wav,A18,angry\n")
    model = _OneLabelModel(["neutral", "happy", "angry", "disgust"], "angry")
    # was: exit 0, both counted wrong as clips without speech
    code, _ = _evaluate(monkeypatch, model, manifest, tmp_path / "out")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "Traceback" not in err[0]
    assert f"{manifest}: 2 of 11 file(s) could not be read" in err[0]
    assert "bad.wav: not a readable media file" in err[0] and "empty.wav: empty file" in err[0]
    assert "silence.wav" not in err[0]  # no speech is a clip to score, not a broken file
    assert not (tmp_path / "out" / "audio_evaluation.json").exists()


def _speaker_manifest(ravdess_dir, folder, clips_of: dict[str, int]):
    """A manifest of the first ``clips_of[actor]`` neutral/happy/angry/disgust clips of each RAVDESS actor."""
    lines = ["path,speaker,emotion"]
    for actor, count in clips_of.items():
        files = sorted(f for f in (ravdess_dir / f"Actor_{actor}").glob("*.flac") if f.name[6:8] in EMOTIONS)
        lines += [f"{path},A{actor},{EMOTIONS[path.name[6:8]]}" for path in files[:count]]
    folder.mkdir()
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    return folder / "manifest.csv"


class _VariantModel(_OneLabelModel):
    """Remembers the variant each clip's rows were judged by, in order."""

    def __init__(self, *args):
        super().__init__(*args)
        self.calls: list[str] = []

    def predict(self, rows: np.ndarray, variant: str) -> np.ndarray:
        self.calls.append(variant)
        return super().predict(rows, variant)


def test_a_speaker_with_too_little_speech_for_a_baseline_is_judged_as_the_runtime_would_and_named(
        ravdess_dir, tmp_path, monkeypatch, capsys):
    # A17: 16 clips of about 1.5 s of speech each, over the runtime's 20 s; A18: 3 clips, well under it
    data = _speaker_manifest(ravdess_dir, tmp_path / "set", {"17": 16, "18": 3})
    model = _VariantModel(["neutral", "happy", "angry", "disgust"], "angry")
    code, report = _evaluate(monkeypatch, model, data, tmp_path / "out", "--speaker-baseline", "speaker")
    assert code == 0 and report["speaker_baseline"] == "speaker"
    # was: every speaker z-scored against their own few seconds, A18's 3 clips too
    assert model.calls == ["session"] * 16 + ["none"] * 3
    assert report["speakers_without_baseline"] == ["A18"]
    assert report["min_baseline_speech_s"] == 20.0  # the runtime's default, no config read
    assert "1 speaker(s) with under the runtime's default 20 s of speech judged without a baseline of their own " \
           "(the population variant), as the runtime judges a session that short: A18" in capsys.readouterr().out
    model.calls.clear()
    code, report = _evaluate(monkeypatch, model, data, tmp_path / "none")
    assert set(model.calls) == {"none"} and report["speakers_without_baseline"] == []
    assert report["min_baseline_speech_s"] is None


def test_an_unreadable_file_with_the_speaker_baseline_is_refused_before_anything_is_said_of_baselines(
        ravdess_dir, tmp_path, monkeypatch, capsys, caplog):
    # A17 has speech enough for a baseline of their own, so a file short of it is a baseline short of a file
    data = _speaker_manifest(ravdess_dir, tmp_path / "set", {"17": 14, "18": 1})
    (data.parent / "bad.wav").write_bytes(b"not audio")
    soundfile.write(data.parent / "silence.wav", np.zeros(48000, dtype=np.float32), 16000)
    data.write_text(data.read_text() + "bad.wav,A17,angry\nsilence.wav,A17,happy\n")
    model = _VariantModel(["neutral", "happy", "angry", "disgust"], "angry")
    code, _ = _evaluate(monkeypatch, model, data, tmp_path / "out", "--speaker-baseline", "speaker")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and f"{data}: 1 of 17 file(s) could not be read" in err[0]
    # was: 'A17: the speaker's baseline is from 14 of its 16 files (the others could not be read)' before it
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING] == []


@pytest.mark.parametrize("actors, rough", [(("17", "18"), True), (("14", "15", "16", "17", "18"), False)])
def test_an_interval_over_fewer_than_five_speakers_is_said_to_be_rough(ravdess_dir, tmp_path, monkeypatch, capsys,
                                                                      actors, rough):
    data = _speaker_manifest(ravdess_dir, tmp_path / "set", dict.fromkeys(actors, 2))
    model = _OneLabelModel(["neutral", "happy", "angry", "disgust"], "angry")
    code, report = _evaluate(monkeypatch, model, data, tmp_path / "out")
    said = f"{len(actors)} speakers: an interval over so few is rough"
    assert code == 0 and report["speakers"] == len(actors) and "ua" in report["interval_95"]
    assert (said in capsys.readouterr().out) == rough and ("note" in report["interval_95"]) == rough


@pytest.mark.parametrize("folds, said", [
    ([["ravdess-17", "ravdess-01"]], "1 of 2 speakers were in the model's training data, so these figures are not "
                                     "held-out ones: A17"),
    ([["ravdess-01"]], None),
    (None, "the model's card names no training speakers"),
])
def test_speakers_the_model_was_trained_on_are_named_by_the_corpus_id_of_their_files(
        manifest, tmp_path, monkeypatch, capsys, folds, said):
    model = _OneLabelModel(["neutral", "happy", "angry", "disgust"], "angry", {"folds": folds} if folds else {})
    code, report = _evaluate(monkeypatch, model, manifest, tmp_path / "out")
    out = capsys.readouterr().out
    assert code == 0
    if said:
        assert said in out
    else:
        assert report["speakers_seen_in_training"] == [] and "training" not in out


def test_training_speakers_are_matched_however_the_set_spells_their_ids(manifest, tmp_path, monkeypatch):
    # train audio takes 'A17' and 'a-017' for one person (refuses them in one manifest): so does the check
    model = _OneLabelModel(["neutral", "happy", "angry", "disgust"], "angry", {"folds": [["a-017"], ["a_18.0"]]})
    code, report = _evaluate(monkeypatch, model, manifest, tmp_path / "out")
    assert code == 0 and report["speakers_seen_in_training"] == ["A17", "A18"]  # was: [], figures called held out


@pytest.mark.parametrize("folds, seen", [
    ([{"fold": 0, "test_speakers": ["ravdess-17", "ravdess-01"]}, {"fold": 1, "test_speakers": ["A18"]}],
     ["A17", "A18"]),
    ([{"fold": 0, "test_speakers": ["ravdess-01"]}], []),
])
def test_a_waveform_cards_training_speakers_are_read_from_its_speaker_independent_folds(
        manifest, tmp_path, monkeypatch, folds, seen):
    # a backbone's card keeps them under metrics.speaker_independent.cv.folds (was: "names no training speakers")
    metrics = {"speaker_independent": {"cv": {"folds": folds}, "validation": None}}
    model = _OneLabelModel(["neutral", "happy", "angry", "disgust"], "angry", metrics)
    code, report = _evaluate(monkeypatch, model, manifest, tmp_path / "out")
    assert code == 0 and report["speakers_seen_in_training"] == seen


def test_the_shipped_model_is_found_by_id_under_models_dir_and_a_path_with_it_is_refused(manifest, tmp_path, capsys):
    models = tmp_path / "models"
    shutil.copytree(REPO_MODELS_DIR / "audio-emotion", models / "audio-emotion")
    out = tmp_path / "out"
    assert main(["evaluate", "audio", str(manifest), "--out", str(out), "--models-dir", str(models),
                 "--resamples", "50"]) == 0
    report = json.loads((out / "audio_evaluation.json").read_text())
    assert report["model"]["folder"] == str(models / "audio-emotion") and report["clips"] == 8
    assert 0.0 <= report["interval_95"]["ua"][0] <= report["ua"] <= report["interval_95"]["ua"][1] <= 1.0
    capsys.readouterr()
    assert main(["evaluate", "audio", str(manifest), "--out", str(out), "--models-dir", str(models),
                 "--model", "./audio-emotion"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--models-dir: looks up a model id" in err[0]
    assert main(["evaluate", "audio", str(manifest), "--out", str(out), "--models-dir", str(tmp_path)]) == 2
    assert "no model card" in capsys.readouterr().err


def test_a_waveform_model_with_the_speaker_baseline_and_zero_resamples_are_refused_in_one_line(manifest, tmp_path,
                                                                                               monkeypatch, capsys):
    from runtime.arms.audio.model import WaveformEmotionModel

    waveform = WaveformEmotionModel.__new__(WaveformEmotionModel)  # what judge checks: the kind of model
    waveform.card = SimpleNamespace(id="wavlm-student", labels=["neutral", "happy", "angry", "disgust"], metrics={})
    monkeypatch.setattr("export.audio.evaluate.load_audio_model", lambda location: waveform)
    assert main(["evaluate", "audio", str(manifest), "--out", str(tmp_path / "a"), "--speaker-baseline",
                 "speaker"]) == 2
    assert "speaker does not apply to wavlm-student, a waveform model" in capsys.readouterr().err
    assert main(["evaluate", "audio", str(manifest), "--out", str(tmp_path / "b"), "--resamples", "0"]) == 2
    assert "--resamples: must be at least 1, not 0" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_set_of_one_speaker_gets_no_interval_and_says_why(manifest, tmp_path, monkeypatch):
    manifest.write_text("\n".join(line for line in manifest.read_text().splitlines() if ",A18," not in line) + "\n")
    model = _OneLabelModel(["neutral", "happy", "angry", "disgust"], "angry")
    code, report = _evaluate(monkeypatch, model, manifest, tmp_path / "out")
    assert code == 0 and report["speakers"] == 1
    assert "one speaker: no interval over speakers" in report["notes"]


@pytest.mark.parametrize("independent", [[1], "cv", {"cv": [1]}, {"cv": {"folds": "x"}}])
def test_a_card_whose_cross_validation_is_malformed_names_no_training_speakers(independent):
    from export.audio.evaluate import trained_speakers

    assert trained_speakers({"speaker_independent": independent}) is None  # was: AttributeError for a list


def test_a_refused_set_says_nothing_of_its_readable_files_before_the_refusal(manifest, tmp_path, monkeypatch,
                                                                              capsys, caplog):
    # an 8 kHz copy of a clip is read with a narrowband warning; the broken file refuses the run all the same
    samples, rate_hz = soundfile.read(manifest.read_text().splitlines()[1].split(",")[0])
    soundfile.write(manifest.parent / "phone.wav", samples[::rate_hz // 8000], 8000)
    (manifest.parent / "bad.wav").write_bytes(b"not audio")
    manifest.write_text(manifest.read_text() + "phone.wav,A17,neutral\nbad.wav,A18,angry\n")
    model = _OneLabelModel(["neutral", "happy", "angry", "disgust"], "angry")
    code, _ = _evaluate(monkeypatch, model, manifest, tmp_path / "out")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and f"{manifest}: 1 of 10 file(s) could not be read" in err[0]
    # was: 'phone.wav: recorded at 8000 Hz, ...' said before the refusal
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING] == []
    manifest.write_text(manifest.read_text().replace("bad.wav,A18,angry\n", ""))
    code, _ = _evaluate(monkeypatch, model, manifest, tmp_path / "out")
    said = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert code == 0 and len(said) == 1 and "phone.wav: recorded at 8000 Hz" in said[0]  # held, then said
