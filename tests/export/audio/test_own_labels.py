"""A clinic's own label set end to end: RAVDESS clips of 4 actors relabelled 'low' / 'high' arousal, trained with
--labels-as-given, exported, then read by every command that reads the model."""

import csv
import json

import numpy as np
import pytest

from export.audio.export import export_audio
from export.audio.train import train_audio
from runtime.errors import InputError

ACTORS = ("01", "02", "03", "04")
AROUSAL = {"01": "low", "02": "Low ", "05": "HIGH", "03": "high"}  # neutral, calm / angry, happy: as a clinic spells


def write_manifest(folder, rows):
    with open(folder / "manifest.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["path", "speaker", "emotion"])
        writer.writeheader()
        writer.writerows(rows)
    return folder / "manifest.csv"


@pytest.fixture(scope="module")
def arousal_rows(ravdess_dir):
    rows = []
    for actor in ACTORS:
        for code, label in AROUSAL.items():
            for path in sorted((ravdess_dir / f"Actor_{actor}").glob(f"03-01-{code}-01-01-0[12]-{actor}.flac")):
                rows.append({"path": str(path), "speaker": f"p{actor}", "emotion": label})
    return rows


@pytest.fixture(scope="module")
def trained(arousal_rows, tmp_path_factory):
    folder = tmp_path_factory.mktemp("arousal")
    write_manifest(folder, arousal_rows)
    out = tmp_path_factory.mktemp("trained")
    report = train_audio(folder / "manifest.csv", out, cv_folds=2, validation_speakers=["p04"], speed_factors=(),
                         labels_as_given=True)
    return folder, out, report


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    return export_audio(trained[1], models_dir=tmp_path_factory.mktemp("models"))


def test_own_labels_are_refused_by_default_and_trained_on_as_written_when_asked(trained, arousal_rows, tmp_path):
    folder, out, report = trained
    with pytest.raises(InputError, match="'HIGH' cannot be mapped.*--labels-as-given"):
        train_audio(folder / "manifest.csv", tmp_path / "default", cv_folds=2, speed_factors=())
    assert report.labels == ["high", "low"] and report.labels_as_given
    for name in ("session/clip", "none/clip", "session/window", "none/window"):
        assert set(report.cv[name]["recall"]) == {"high", "low"}  # UA over the clinic's labels, not the eight
        assert np.asarray(report.cv[name]["confusion"]["rows_true_cols_pred"]).shape == (2, 2)
    saved = json.loads((out / "report.json").read_text())
    written = [row["emotion"].strip().lower() for row in arousal_rows]  # 'Low ' and 'HIGH' as one class each
    assert saved["clips_per_label"] == {label: written.count(label) for label in ("high", "low")}
    assert saved["speakers_per_label"] == {"high": len(ACTORS), "low": len(ACTORS)}
    assert saved["warnings"] == []  # no canonical label is missing from a scheme that never had them
    assert "Labels as the manifest gives them (--labels-as-given): high, low." in (out / "report.md").read_text()
    assert "| high | " in (out / "report.md").read_text() and "| neutral |" not in (out / "report.md").read_text()


def test_a_label_of_one_speaker_alone_is_refused_naming_it(arousal_rows, tmp_path):
    # a typo in one row reads as a label of its own: refused rather than trained on as a class
    rows = [*arousal_rows[:-1], arousal_rows[-1] | {"emotion": "hgih"}]
    with pytest.raises(InputError, match=r"1 label\(s\) with clips of one speaker alone: 'hgih' \(p04, 1 clip\(s\)\)"):
        train_audio(write_manifest(tmp_path, rows), tmp_path / "out", cv_folds=2, speed_factors=(),
                    labels_as_given=True)


def test_a_row_without_a_label_is_refused_with_labels_as_given_without_suggesting_the_option(tmp_path):
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.wav").write_bytes(b"RIFF" + name.encode())
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,speaker,emotion\na.wav,ann,low\nb.wav,bob,\nc.wav,bob,high\n")
    with pytest.raises(InputError) as refused:
        train_audio(manifest, tmp_path / "out", cv_folds=2, speed_factors=(), labels_as_given=True)
    # was: '... lack a label that maps onto neutral, ...: line 3: no label (labels of a scheme of one's own:
    # --labels-as-given takes ...)', to a run given that option
    assert str(refused.value) == f"{manifest}: 1 of 3 row(s) lack a label: line 3: no label"
    with pytest.raises(InputError, match=r"line 3: no label; .* \(labels of a scheme of one's own: --labels-as-given"):
        train_audio(manifest, tmp_path / "default", cv_folds=2, speed_factors=())


def test_a_cards_own_label_coverage_says_how_its_canonical_labels_fuse_and_which_label_had_no_speech():
    from export.audio.export import label_coverage

    said = label_coverage(["happy", "high", "low"], ["happy", "high", "low", "mid"])
    # was: 'happy fuse as usual' (they weigh their share of each window's belief), and 'mid' not said at all
    assert "so the fused track leaves them out, while happy is fused, weighed by its share;" in said
    assert said.endswith("; the training data held no speech windows of mid (its clips held none), so the model does "
                         "not list it)")
    assert "no speech windows" not in label_coverage(["happy", "high", "low"])


def test_the_export_and_its_card_carry_the_labels_as_trained(exported, trained, arousal_rows):
    from runtime.arms.audio.model import AudioEmotionModel

    card = json.loads((exported / "card.json").read_text())
    assert card["labels"] == ["high", "low"] and card["labels_as_given"]
    # the INT8 check ran on every clip of the validation speaker, each label of which is one of the two
    validation_clips = sum(row["speaker"] == "p04" for row in arousal_rows)
    for baseline in ("session", "none"):
        assert card["metrics"]["quantization_check"][baseline]["n_validation_clips"] == validation_clips
    assert set(card["metrics"]["cv"]["session/clip"]["recall"]) == {"high", "low"}
    text = (exported / "MODEL_CARD.md").read_text()
    assert "Voice emotion over 2 labels as the training data's manifest gives them, high, low" in text
    assert "fused track leaves them out and claims no emotion from this model; fusion.arousal_from may name one " \
           "(audio.high) to move arousal" in text and "--labels-as-given" in text.split("## Rebuild")[1]
    model = AudioEmotionModel(exported)
    assert model.labels == ["high", "low"]
    assert model.predict(np.zeros((3, card["n_features"]), dtype=np.float32), "none").shape == (3, 2)


def test_classify_writes_the_models_own_labels_as_columns(exported, arousal_rows, tmp_path):
    from runtime.arms.audio.classify import classify_paths

    clips = [arousal_rows[0]["path"], arousal_rows[-1]["path"]]
    count, failed = classify_paths(clips, tmp_path / "out.csv", model=str(exported))
    with open(tmp_path / "out.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert (count, failed) == (2, [])
    assert list(rows[0]) == ["path", "emotion", "high", "low"] and {r["emotion"] for r in rows} <= {"high", "low"}


def test_the_cli_option_reaches_training_and_is_refused_with_a_backbone(tmp_path, capsys, monkeypatch):
    import export.audio.train as train
    from runtime.cli import main

    asked = {}

    class Trained:
        def summary(self):
            return "trained"

    def trains(*args, **kwargs):
        asked.update(kwargs)
        return Trained()

    monkeypatch.setattr(train, "train_audio", trains)
    assert main(["train", "audio", str(tmp_path), "--out", str(tmp_path / "o"), "--labels-as-given"]) == 0
    assert asked["labels_as_given"] is True
    assert main(["train", "audio", str(tmp_path), "--out", str(tmp_path / "o"), "--labels-as-given",
                 "--audio-backbone", "some-model"]) == 2
    assert capsys.readouterr().err.strip() == "emotrace: error: --labels-as-given: does not apply with --audio-backbone"


def test_evaluate_scores_a_set_in_the_models_own_labels_and_refuses_one_it_does_not_have(exported, trained,
                                                                                          arousal_rows, tmp_path):
    from export.audio.evaluate import evaluate_audio

    folder, _, _ = trained
    report = evaluate_audio(folder / "manifest.csv", tmp_path / "eval", model=str(exported))
    assert report["model"]["labels"] == ["high", "low"] and set(report["recall"]) == {"high", "low"}
    assert report["clips"] == len(arousal_rows) and report["outside_model_labels"] == {}
    assert "| high |" in (tmp_path / "eval" / "audio_evaluation.md").read_text()
    typo = write_manifest(tmp_path, [*arousal_rows[:3], arousal_rows[3] | {"emotion": "hihg"}])
    with pytest.raises(InputError, match=r"or is one of high, low: line 5: label 'hihg' cannot be mapped$"):
        evaluate_audio(typo, tmp_path / "eval2", model=str(exported))


def test_analyze_carries_the_models_labels_on_the_voice_track_and_says_fusion_left_them_out(exported, arousal_rows,
                                                                                            tmp_path, capsys):
    from runtime.cli import main

    clip = arousal_rows[-1]["path"]
    assert main(["analyze", clip, "--out", str(tmp_path), "--audio-model", str(exported)]) == 0
    timeline = json.loads((tmp_path / "timeline.json").read_text())
    voice = next(track for track in timeline["tracks"] if track["name"] == "audio")
    assert voice["labels"] == ["high", "low"]
    assert any(window["probs"] and len(window["probs"]) == 2 for window in voice["windows"])
    assert "fused" not in [track["name"] for track in timeline["tracks"]]
    assert "audio's labels high, low are none of the canonical emotions" in timeline["settings"]["fusion"]["why"]
    header = (tmp_path / "timeline.csv").read_text().splitlines()[0]
    assert "high" in header and "low" in header
    assert "audio, the leading label over time:" in capsys.readouterr().out


def test_analyze_reads_an_own_label_named_for_arousal_and_refuses_one_the_model_lacks(exported, arousal_rows, tmp_path):
    from runtime.checks import check_models
    from runtime.cli import main
    from runtime.config import load_settings
    from runtime.errors import InputError as Refused

    config = tmp_path / "own.toml"
    config.write_text(f'[audio]\nmodel = "{exported}"\n[fusion]\nwhen = "always"\narousal_from = ["audio.high"]\n')
    # was refused before any arm ran: "the audio track's 'high' is a label that is not an activation"
    assert main(["analyze", arousal_rows[-1]["path"], "--out", str(tmp_path / "out"), "--config", str(config)]) == 0
    timeline = json.loads((tmp_path / "out" / "timeline.json").read_text())
    fused = next(track for track in timeline["tracks"] if track["name"] == "fused")
    assert fused["settings"]["arousal_from"] == ["audio.high"]
    assert fused["settings"]["left_out_labels"] == {"audio": ["high", "low"]}
    assert any("arousal_audio_high" in window["measurements"] for window in fused["windows"])
    # the card is read where the voice does not run here (a silent input, live --no-mic) as where it does
    for sections in (["audio"], []):
        typo = load_settings(None, {"audio.model": str(exported), "fusion.arousal_from": ["audio.hgih"]})
        with pytest.raises(Refused, match=r"the audio track carries no 'hgih' \(arousal can read: high, low\)$"):
            check_models(typo, sections)
        check_models(load_settings(None, {"audio.model": str(exported), "fusion.arousal_from": ["audio.low"]}),
                     sections)


def test_a_live_session_says_and_records_the_models_own_labels(exported, arousal_rows, tmp_path):
    from pathlib import Path

    from runtime.config import load_settings
    from runtime.live import LiveInputs, run_live

    lines: list[str] = []
    timeline = run_live(tmp_path / "out", load_settings(None, {"audio.model": str(exported)}),
                        LiveInputs(replay=Path(arousal_rows[-1]["path"])), on_line=lines.append)
    assert timeline.track("audio").labels == ["high", "low"]
    assert any(line.startswith("at ") and line.split(": ", 1)[1].split(" (")[0] in ("high", "low") for line in lines)
    assert "audio's labels high, low are none of the canonical emotions" in timeline.settings["fusion"]["why"]
    written = json.loads((tmp_path / "out" / "timeline.json").read_text())
    assert next(t for t in written["tracks"] if t["name"] == "audio")["labels"] == ["high", "low"]
