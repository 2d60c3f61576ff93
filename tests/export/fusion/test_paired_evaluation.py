"""Probability tables, the people-disjoint pairing, the comparison report and the train/evaluate commands."""

from __future__ import annotations

import json

import numpy as np
import pytest

from export.fusion.evaluate import compare, scored_probs, with_missing
from export.fusion.pairs import pair_tables, sessions_from_manifest
from export.fusion.standins import write_classify_csv
from export.fusion.synthetic import synthetic_table, synthetic_track
from export.fusion.tables import label_from_path, person_from_path, read_table
from export.metrics import expected_calibration_error
from runtime.cli import main
from runtime.errors import InputError
from runtime.fusion import make_fuser
from runtime.timeline import Timeline
from runtime.track import CANONICAL_LABELS, Track, Window
from tests.conftest import analysis_software

CALM = CANONICAL_LABELS.index("calm")
NEUTRAL = CANONICAL_LABELS.index("neutral")


def test_corpus_names_give_label_and_person():
    assert label_from_path("x/Actor_07/03-01-05-02-01-02-07.flac") == "angry"
    assert person_from_path("x/Actor_07/03-01-05-02-01-02-07.flac") == "ravdess-07"
    assert label_from_path("fer2013/PublicTest/surprise/00123.png") == "surprised"
    assert person_from_path("fer2013/PublicTest/surprise/00123.png") != person_from_path(
        "fer/PublicTest/sad/9.png"
    )
    with pytest.raises(InputError, match="no label"):
        label_from_path("clip.wav")


def test_an_all_zero_label_column_is_unsupported_not_zero_evidence(tmp_path):
    probs = np.array([[0.7, 0.0, 0.1, 0.1, 0.1, 0.0, 0.0, 0.0], [0.1, 0.0, 0.6, 0.1, 0.1, 0.05, 0.05, 0.0]])
    path = tmp_path / "face.csv"
    write_classify_csv(path, ["f/PublicTest/neutral/1.png", "f/PublicTest/happy/2.png"], probs)
    table = read_table(path, "face", unsupported=("surprised",))
    assert not table.supported[CALM] and not table.supported[CANONICAL_LABELS.index("surprised")]
    assert table.labels.tolist() == [NEUTRAL, CANONICAL_LABELS.index("happy")]


def test_an_absent_label_column_is_unsupported(tmp_path):
    path = tmp_path / "face.csv"  # what face classify writes: only the labels its model has
    path.write_text("path,emotion,neutral,happy\nf/PublicTest/neutral/1.png,neutral,0.8,0.2\n"
                    "f/PublicTest/happy/2.png,happy,0.3,0.7\n")
    table = read_table(path, "face")
    assert table.supported.tolist() == [label in ("neutral", "happy") for label in CANONICAL_LABELS]
    assert table.probs[0, NEUTRAL] == pytest.approx(0.8)


@pytest.mark.parametrize(
    "text, problem",
    [("", "empty"), ("path,emotion\nx,neutral\n", "canonical label columns"), ("path\n", "empty")],
)
def test_bad_tables_are_input_errors_naming_the_problem(tmp_path, text, problem):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=problem):
        read_table(path, "audio")
    with pytest.raises(InputError, match="no such file"):
        read_table(tmp_path / "missing.csv", "audio")


def _tables():
    audio = synthetic_table("audio", [f"spk{i}" for i in range(6)], 4, skill=1.5, seed=1)
    face = synthetic_table("face", [f"img{i}" for i in range(30)], 2, skill=1.5, unsupported=["calm"], seed=2)
    return audio, face


def test_pairing_keeps_people_and_rows_apart_and_gives_calm_a_neutral_face():
    audio, face = _tables()
    paired = pair_tables([audio, face], sessions_per_person=2, windows_per_session=12, seed=3)
    train_people = set(paired.people[paired.split == "train"])
    test_people = set(paired.people[paired.split == "test"])
    assert train_people and test_people and not train_people & test_people
    # Every face row used in a test window is a test row, and vice versa.
    face_rows = {tuple(np.round(p, 9)): t for p, t in zip(face.probs, paired.test_rows["face"], strict=True)}
    for probs, part in zip(paired.data.probs[:, 1], paired.split, strict=True):
        assert face_rows[tuple(np.round(probs, 9))] == (part == "test")
    calm_windows = paired.targets == CALM
    assert calm_windows.any()
    assert np.all(paired.data.probs[calm_windows, 1, CALM] == 0)  # the face abstains on calm


def test_pairing_refuses_tables_that_share_people():
    audio, _ = _tables()
    with pytest.raises(InputError, match="disjoint"):
        pair_tables([audio, audio])


def test_comparison_reports_every_method_and_condition_and_checks_the_targets():
    audio, face = _tables()
    paired = pair_tables([audio, face], sessions_per_person=4, windows_per_session=16, seed=0)
    report = compare(paired, ["mean", "quality", "product"], missing_fraction=0.3)
    assert set(report["results"]) == {"all present", "audio missing 30%", "face missing 30%"}
    for row in report["results"].values():
        assert {"audio only", "face only", "mean", "quality", "product"} == set(row)
        assert all(0.0 <= s["ua"] <= 1.0 and 0.0 <= s["ece"] <= 1.0 for s in row.values())
    targets = report["targets"]
    assert targets["best_method"] in {"mean", "quality", "product"}
    assert targets["gain_met"] == (targets["best_method_ua"] >= targets["best_single_ua"] + 0.05)


def test_the_comparison_scores_no_calm_where_only_the_face_speaks(monkeypatch):
    # The evaluation scores what the fused track gives: the product of experts gave a face alone some calm.
    from export.fusion import evaluate

    audio, face = _tables()
    paired = pair_tables([audio, face], sessions_per_person=4, windows_per_session=16, seed=0)
    scored = []
    real_scores = evaluate.scores
    monkeypatch.setattr(evaluate, "scores", lambda probs, targets: scored.append(probs) or real_scores(probs, targets))
    compare(paired, ["product"], missing_fraction=0.3, seed=0)
    # Per condition: audio only, face only, product; the second condition loses audio (seed + 1).
    product_audio_missing = scored[5]
    audio_there = with_missing(paired.part("test")[0], "audio", 0.3, 1).present[:, 0]
    assert (~audio_there).any() and np.all(product_audio_missing[~audio_there, CALM] == 0.0)
    assert np.all(product_audio_missing[audio_there, CALM] > 0.0)


@pytest.mark.parametrize(("weights", "problem"), [
    ({"audoi": 2.0}, "names no table: audoi \\(tables: audio, face\\)"),
    ({"audio": 0.0, "face": 0.0}, "weighs every table \\(audio, face\\) 0"),
])
def test_weights_naming_no_table_or_weighing_every_table_0_are_refused(weights, problem):
    # was: a misspelt modality gave a "weighted" row equal to the mean, without a word
    audio, face = _tables()
    paired = pair_tables([audio, face], sessions_per_person=4, windows_per_session=16, seed=0)
    with pytest.raises(InputError, match=f"^--weights: {problem}"):
        compare(paired, ["mean", "weighted"], weights=weights)


def test_missing_windows_are_blanked_for_one_modality_only():
    audio, face = _tables()
    data = pair_tables([audio, face], sessions_per_person=2, windows_per_session=50, seed=0).data
    holed = with_missing(data, "face", 0.3, seed=1)
    assert holed.present[:, 0].all()
    assert 0.2 < 1 - holed.present[:, 1].mean() < 0.4


def test_ece_is_zero_for_calibrated_certainty_and_large_for_confident_mistakes():
    targets = np.array([0, 1, 2, 3])
    assert expected_calibration_error(targets, np.eye(8)[targets]) == pytest.approx(0.0)
    assert expected_calibration_error(targets, np.eye(8)[(targets + 1) % 8]) == pytest.approx(1.0)


def test_labelled_real_sessions_feed_the_same_comparison(tmp_path):
    _sessions(tmp_path)
    paired = sessions_from_manifest(tmp_path / "manifest.csv", window_s=2.0, hop_s=2.0)
    assert paired.data.modalities == ["audio", "face"] and paired.data.n_windows == 48
    assert set(paired.split) == {"train", "test"}
    report = compare(paired, ["mean"])
    assert report["data"]["kind"] == "labelled sessions"


def test_a_sessions_manifests_label_column_reads_corpus_codes_as_a_train_audio_manifest_does(tmp_path):
    # a column named label holds labels: 'hap' and 'sadness' read as happy and sad (a folder's name would not be)
    _sessions(tmp_path)
    words = sessions_from_manifest(tmp_path / "manifest.csv", window_s=2.0, hop_s=2.0)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(manifest.read_text().replace(",happy,", ",hap,").replace(",sad,", ",sadness,"))
    codes = sessions_from_manifest(manifest, window_s=2.0, hop_s=2.0)
    assert ",hap," in manifest.read_text()
    assert codes.targets.tolist() == words.targets.tolist()
    assert set(codes.targets.tolist()) == {CANONICAL_LABELS.index("happy"), CANONICAL_LABELS.index("sad")}


def test_evaluate_and_train_commands_run_on_tables_and_refuse_bad_input(tmp_path, capsys):
    audio, face = _tables()
    write_classify_csv(
        tmp_path / "a.csv",
        [
            f"{p}/03-01-0{y + 1}-01-01-01-{i % 20 + 1:02d}.flac"
            for i, (p, y) in enumerate(zip(audio.people, audio.labels, strict=True))
        ],
        audio.probs,
    )
    face_names = [
        f"PublicTest/{['neutral', 'calm', 'happy', 'sad', 'angry', 'fear', 'disgust', 'surprise'][y]}"
        f"/{i:05d}.png"
        for i, y in enumerate(face.labels)
    ]
    write_classify_csv(tmp_path / "f.csv", face_names, face.probs)
    tables = ["--table", f"audio={tmp_path / 'a.csv'}", "--table", f"face={tmp_path / 'f.csv'}"]
    assert (
        main(
            [
                "evaluate",
                "fusion",
                *tables,
                "--out",
                str(tmp_path / "eval"),
                "--methods",
                "mean,product",
                "--repeats",
                "2",
            ]
        )
        == 0
    )
    report = json.loads((tmp_path / "eval" / "fusion_report.json").read_text())
    assert report["repeats"]["seeds"] == 2 and "mean" in report["results"]["all present"]
    assert (
        main(
            [
                "train",
                "fusion",
                *tables,
                "--out",
                str(tmp_path / "t"),
                "--method",
                "stacking",
                "--models-dir",
                str(tmp_path / "models"),
            ]
        )
        == 0
    )
    card = json.loads((tmp_path / "models" / "fusion-stacking" / "card.json").read_text())
    assert card["metrics"]["default"]["test"]["ua"] > 0 and card["modalities"] == ["audio", "face"]
    assert main(["evaluate", "fusion", *tables[:2], "--table", "face", "--out", str(tmp_path / "x")]) == 2
    assert "MODALITY=CSV" in capsys.readouterr().err


def test_a_null_probability_in_a_session_timeline_stays_an_abstention_in_the_paired_data(tmp_path):
    _sessions(tmp_path)
    nulled = CANONICAL_LABELS.index("sad")
    _edit_session(tmp_path / "s0.json", lambda d: d["tracks"][0]["windows"][0]["probs"].__setitem__(nulled, None))
    paired = sessions_from_manifest(tmp_path / "manifest.csv", window_s=2.0, hop_s=2.0)
    first = np.flatnonzero(paired.data.sequence == 0)[0]
    # the voice says nothing of 'sad' there (as at run time), not 'certainly not sad' (was: withheld lost, a 0)
    assert not paired.data.speaks[first, 0, nulled] and paired.data.speaks[first, 1, nulled]
    assert paired.data.speaks[first, 0].sum() == paired.data.supported[0].sum() - 1
    assert paired.data.withheld.sum() == 1
    assert with_missing(paired.data, "face", 0.3, seed=0).withheld.sum() == 1  # the comparison's other conditions


def test_one_persons_sessions_stay_in_one_part_of_the_split(tmp_path):
    _sessions(tmp_path, sessions_per_person=2)  # the split is by person, not by session
    for seed in range(3):
        paired = sessions_from_manifest(tmp_path / "manifest.csv", window_s=2.0, hop_s=2.0, seed=seed)
        assert set(paired.people) == {"p0", "p1", "p2", "p3"}
        assert len(set(paired.data.sequence)) == 8
        for person in set(paired.people):
            assert len(set(paired.split[paired.people == person])) == 1, (seed, person)


def _sessions(tmp_path, labels=("happy", "sad"), people=4, sessions_per_person=1) -> None:
    rows = ["session,start_s,end_s,label,person"]
    first, second = (CANONICAL_LABELS.index(label) for label in labels)
    for k in range(people * sessions_per_person):
        targets = [first] * 6 + [second] * 6
        tracks = [
            synthetic_track("audio", targets, 2.0, hop_s=2.0, seed=k),
            synthetic_track("face", targets, 2.0, hop_s=2.0, unsupported=["calm"], seed=10 + k),
        ]
        (tmp_path / f"s{k}.json").write_text(Timeline(f"s{k}.mp4", 24.0, tracks, {}, analysis_software()).to_json())
        person = f"p{k // sessions_per_person}"
        rows += [f"s{k}.json,0,12,{labels[0]},{person}", f"s{k}.json,12,24,{labels[1]},{person}"]
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")


def _edit_session(path, edit) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(("edit", "problem"), [
    (lambda d: d["tracks"][0]["windows"][0].update(probs=[0.5] * 7), "7 probabilities for 8 labels"),  # IndexError
    (lambda d: d["tracks"][0]["windows"][0].update(probs=[0.1] * 9), "9 probabilities for 8 labels"),  # accepted
    (lambda d: d["tracks"][0]["windows"][2].update(start_s=None), "track 'audio', window 2: start_s is null"),
    (lambda d: d.update(tracks=None), "tracks is null, not a list"),
    (lambda d: d["tracks"][1].update(windows=5), "track 'face': windows is 5, not a list"),
    (lambda d: d["tracks"][0]["windows"][0].update(measurements=[1, 2]), "measurements is a list of 2"),
    (lambda d: d["tracks"][0]["windows"][0].update(quality=float("nan")), "quality is nan, not a finite number"),
    (lambda d: d["tracks"].append(d["tracks"][1]), "two tracks named 'face'"),
    (lambda d: d["tracks"][0]["windows"].reverse(), "starts before the window ahead of it"),
])
def test_an_edited_session_timeline_is_one_input_error_naming_the_file(tmp_path, capsys, edit, problem):
    _sessions(tmp_path)
    _edit_session(tmp_path / "s0.json", edit)
    with pytest.raises(InputError, match=problem) as refused:
        sessions_from_manifest(tmp_path / "manifest.csv", window_s=2.0, hop_s=2.0)
    assert refused.value.source == str(tmp_path / "s0.json")
    code = main(["evaluate", "fusion", "--sessions", str(tmp_path / "manifest.csv"), "--out", str(tmp_path / "e"),
                 "--methods", "mean"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "s0.json: not a usable timeline.json" in err


def test_a_session_timeline_that_is_a_list_is_refused(tmp_path):
    _sessions(tmp_path)
    (tmp_path / "s0.json").write_text("[]")
    with pytest.raises(InputError, match="s0.json: not a usable timeline.json: not an emotrace-timeline/1 document"):
        sessions_from_manifest(tmp_path / "manifest.csv", window_s=2.0, hop_s=2.0)


def test_a_split_that_leaves_one_label_in_a_part_is_one_clear_line(tmp_path, capsys):
    _sessions(tmp_path)
    from export.fusion.pairs import split_people

    test_people = split_people([f"p{k}" for k in range(4)], 0.5, np.random.default_rng(0))
    rows = (tmp_path / "manifest.csv").read_text().splitlines()
    # the training people (those seed 0 does not hold out) only ever happy
    rows = [rows[0]] + [r if r.split(",")[-1] in test_people else r.replace(",sad,", ",happy,") for r in rows[1:]]
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(InputError, match="the train people \\(p[0-3], p[0-3]\\) have labelled windows of happy "
                                         "only with --seed 0 .*at least two labels") as refused:
        sessions_from_manifest(tmp_path / "manifest.csv", window_s=2.0, hop_s=2.0, seed=0)
    assert refused.value.source == str(tmp_path / "manifest.csv")
    code = main(["evaluate", "fusion", "--sessions", str(tmp_path / "manifest.csv"), "--out", str(tmp_path / "e"),
                 "--methods", "mean,stacking"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "needs samples of at least 2 classes" not in err


def _shipped_tracks() -> list[Track]:
    """A voice (every 0.5 s) and a face (every 1 s) from the shipped arm models' identities, so the shipped fusers
    fuse them without falling back: a sad voice to 10 s, none from 10 to 12 s, then happy; a happy face to 8 s,
    none from 8 to 14 s, then angry."""
    from runtime.models import load_card

    def identity(model_id: str, variant: str) -> dict[str, str]:
        card = load_card(model_id)
        return {"id": model_id, "version": card.version, "variant": variant, "sha256": card.sha256.get(variant, "")}

    def row(labels, label: str, p: float) -> list[float]:
        out = [(1 - p) / (len(labels) - 1)] * len(labels)
        out[list(labels).index(label)] = p
        return out

    face_labels = [label for label in CANONICAL_LABELS if label != "calm"]
    voice, face = [], []
    for i in range(60):
        start = i * 0.5
        said = ("sad", 0.9) if start < 10 else None if start < 12 else ("happy", 0.8)
        voice.append(Window(start, start + 2.0, None if said is None else row(CANONICAL_LABELS, *said),
                            0.0 if said is None else 1.0))
    for i in range(30):
        said = ("happy", 0.9) if i < 8 else None if i < 14 else ("angry", 0.7)
        face.append(Window(float(i), i + 2.0, None if said is None else row(face_labels, *said),
                           0.0 if said is None else 0.9))
    return [Track("audio", list(CANONICAL_LABELS), voice, [], identity("audio-emotion", "session")),
            Track("face", face_labels, face, ["calm"], identity("face-expression", "default"))]


@pytest.mark.parametrize("method", ["attention", "stacking"])
def test_evaluation_fuses_a_labelled_session_as_analyze_does(tmp_path, method):
    # Labelled 0-10 s and 13-17 s: attention's context for the windows after 13 s is the last windows of time, the
    # unlabelled ones between included (was: the labelled windows strung together, up to 0.36 off analyze's)
    tracks = _shipped_tracks()
    rows = ["session,start_s,end_s,label,person"]
    for k in range(2):
        (tmp_path / f"s{k}.json").write_text(Timeline(f"s{k}.mp4", 31.0, tracks, {}, analysis_software()).to_json())
        rows += [f"s{k}.json,0,10,sad,p{k}", f"s{k}.json,13,17,happy,p{k}", f"s{k}.json,20,30,angry,p{k}"]
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    paired = sessions_from_manifest(tmp_path / "manifest.csv", window_s=2.0, hop_s=0.5)
    data, scored, targets = paired.context("test")
    assert 0 < scored.sum() < data.n_windows and len(targets) == scored.sum()
    evaluated = scored_probs(make_fuser(method), data, scored)
    fused = make_fuser(method).fuse(tracks, window_s=2.0, hop_s=0.5)
    assert "fallback" not in fused.model
    labelled = [w.probs for w in fused.windows
                if any(a <= 0.5 * (w.start_s + w.end_s) < b for a, b in ((0, 10), (13, 17), (20, 30)))]
    assert evaluated == pytest.approx(np.array(labelled), abs=1e-6)
    assert compare(paired, ["mean"])["windows"]["test"] == len(targets)


@pytest.mark.parametrize("missing", [False, True])
def test_train_fusion_on_recordings_without_out_leaves_no_analyses_behind(tmp_path, monkeypatch, missing):
    # was: a fusion-sessions-* folder of every session's timeline left in the temp dir for good, on an error too
    import tempfile

    import export.fusion.cli as fusion_cli
    import runtime.pipeline as pipeline

    _sessions(tmp_path)
    manifest = tmp_path / "manifest.csv"
    for k in range(4):
        (tmp_path / f"s{k}.wav").write_bytes(b"")  # recordings, analysed by the stand-in below
    manifest.write_text(manifest.read_text().replace(".json,", ".wav,")
                        + ("s9.wav,0,12,happy,p9\n" if missing else ""))

    def analyze_file(path, out, settings, fuse=True):
        out.mkdir(parents=True)
        timeline = Timeline.read(path.with_suffix(".json"))
        (out / "timeline.json").write_text(timeline.to_json())
        written.append(out)
        return timeline

    def train_fusion(make_paired, *args, **kwargs):
        assert make_paired().description["sessions"] == 4
        return []

    written: list = []
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setattr(pipeline, "analyze_file", analyze_file)
    monkeypatch.setattr(fusion_cli, "train_fusion", train_fusion)
    assert main(["train", "fusion", "--sessions", str(manifest)]) == (2 if missing else 0)
    assert written and all(temp in out.parents for out in written)
    assert list(temp.iterdir()) == []
