"""Bad input to ``train fusion`` / ``evaluate fusion``: one line naming the input, before any training."""

from __future__ import annotations

from pathlib import Path

import pytest

from export.fusion.standins import write_classify_csv
from export.fusion.synthetic import synthetic_table
from export.fusion.tables import read_table
from runtime.cli import main
from runtime.errors import InputError
from runtime.track import CANONICAL_LABELS

FER_FOLDERS = ["neutral", "calm", "happy", "sad", "angry", "fear", "disgust", "surprise"]


@pytest.fixture
def tables(tmp_path) -> dict[str, Path]:
    """An audio table (RAVDESS names) and a face table (FER folders) of different people."""
    audio = synthetic_table("audio", [f"spk{i}" for i in range(6)], 4, skill=1.5, seed=1)
    face = synthetic_table("face", [f"img{i}" for i in range(30)], 2, skill=1.5, unsupported=["calm"], seed=2)
    audio_names = [f"{p}/03-01-0{y + 1}-01-01-01-{i % 20 + 1:02d}.flac"
                   for i, (p, y) in enumerate(zip(audio.people, audio.labels, strict=True))]
    face_names = [f"PublicTest/{FER_FOLDERS[y]}/{i:05d}.png" for i, y in enumerate(face.labels)]
    write_classify_csv(tmp_path / "a.csv", audio_names, audio.probs)
    write_classify_csv(tmp_path / "f.csv", face_names, face.probs)
    return {"audio": tmp_path / "a.csv", "face": tmp_path / "f.csv"}


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("emotrace: error: ") and err.count("\n") == 1, err
    return err


def _with_cell(table: Path, line: int, label: str, text: str) -> Path:
    """The table with one cell (``line`` as an editor numbers it, the header being line 1) replaced."""
    lines = table.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(label)] = text
    lines[line - 1] = ",".join(cells)
    edited = table.with_name(f"edited-{table.name}")
    edited.write_text("\n".join(lines) + "\n")
    return edited


@pytest.mark.parametrize("text", ["inf", "nan", "-inf", "-0.2", "1.5"])
def test_a_probability_that_is_not_from_0_to_1_names_the_table_and_line(tables, text):
    edited = _with_cell(tables["audio"], 3, "happy", text)
    # was: inf and 1.5 accepted, nan read as 0, -inf/-0.2 refused without naming the line
    with pytest.raises(InputError, match=f"line 3: the happy probability '{text}' is not a number from 0 to 1") as e:
        read_table(edited, "audio")
    assert e.value.source == str(edited)


def test_an_empty_probability_cell_still_means_no_evidence(tables):
    # a guard (passes on the code before): the cell checks above must not refuse an empty cell
    table = read_table(_with_cell(tables["audio"], 3, "happy", ""), "audio")
    assert table.supported[CANONICAL_LABELS.index("happy")] and table.probs[1, CANONICAL_LABELS.index("happy")] == 0


def test_a_table_that_is_a_folder_is_one_line(tables, tmp_path, capsys):
    (tmp_path / "folder").mkdir()
    code = main(["evaluate", "fusion", "--table", f"audio={tmp_path / 'folder'}", "--table", f"face={tables['face']}",
                 "--out", str(tmp_path / "e"), "--methods", "mean"])
    err = _one_error_line(capsys)
    # was: internal error IsADirectoryError
    assert code == 2 and f"{tmp_path / 'folder'}: is a folder, not a file" in err


@pytest.mark.parametrize("missing", ["2", "-0.1", "nan", "inf"])
def test_a_missing_share_outside_0_to_1_is_refused(tables, tmp_path, capsys, missing):
    code = main(["evaluate", "fusion", "--table", f"audio={tables['audio']}", "--table", f"face={tables['face']}",
                 "--out", str(tmp_path / "e"), "--methods", "mean", "--missing", missing])
    err = _one_error_line(capsys)
    assert code == 2 and "--missing: must be a share of windows from 0 to 1" in err  # was: accepted, report written
    assert not (tmp_path / "e").exists()


def test_the_same_modality_twice_is_refused_naming_it(tables, tmp_path, capsys):
    code = main(["train", "fusion", "--table", f"audio={tables['audio']}", "--table", f"audio={tables['face']}",
                 "--out", str(tmp_path / "t"), "--method", "stacking", "--models-dir", str(tmp_path / "models")])
    err = _one_error_line(capsys)
    assert code == 2 and "--table: modality 'audio' is given twice" in err  # was: accepted, a fuser installed
    assert not (tmp_path / "models").exists()


def test_a_table_named_for_no_arms_track_is_refused_by_train_before_any_work(tables, tmp_path, capsys, monkeypatch):
    # was: trained and installed into models/ a fuser whose card names 'voice', which analyze then refuses
    def no_pairing(*args, **kwargs):
        raise AssertionError("read the tables before their names were checked")

    monkeypatch.setattr("export.fusion.cli.paired_data", no_pairing)
    code = main(["train", "fusion", "--table", f"voice={tables['audio']}", "--table", f"face={tables['face']}",
                 "--out", str(tmp_path / "t"), "--method", "stacking", "--models-dir", str(tmp_path / "models")])
    err = _one_error_line(capsys)
    assert code == 2 and "--table: 'voice': no arm's track is named so (audio, face, body), and analyze refuses" in err
    assert not (tmp_path / "models").exists()


def test_evaluate_fusion_takes_a_table_of_any_name(tables, tmp_path, capsys):
    # a guard: evaluate installs nothing, and the rule methods it compares fuse a track of any name
    code = main(["evaluate", "fusion", "--table", f"voice={tables['audio']}", "--table", f"face={tables['face']}",
                 "--out", str(tmp_path / "e"), "--methods", "mean"])
    assert code == 0, capsys.readouterr().err


@pytest.mark.parametrize(("make", "problem"), [
    (lambda models: models.touch(), "is a file; give a folder to write into"),
    (lambda models: (models / "fusion-stacking").mkdir(parents=True) or (models / "fusion-stacking" / "x").touch(),
     "holds files but no card.json"),
], ids=["a file", "a folder that is no model"])
def test_a_models_dir_that_cannot_take_the_fuser_is_refused_before_pairing_or_training(tables, tmp_path, capsys,
                                                                                         monkeypatch, make, problem):
    def no_pairing(*args, **kwargs):
        raise AssertionError("paired (with --sessions: analysed every recording) before the models folder was checked")

    def no_training(*args, **kwargs):
        raise AssertionError("trained before the models folder was checked")

    monkeypatch.setattr("export.fusion.cli.paired_data", no_pairing)
    monkeypatch.setattr("runtime.fusion.make_fuser", no_training)
    models = tmp_path / "models"
    make(models)
    code = main(["train", "fusion", "--table", f"audio={tables['audio']}", "--table", f"face={tables['face']}",
                 "--out", str(tmp_path / "t"), "--method", "stacking", "--models-dir", str(models)])
    err = _one_error_line(capsys)
    # was: trained first, then internal error FileExistsError (a file) or the refusal (a non-model folder)
    assert code == 2 and problem in err


def test_a_table_saved_as_csv_utf8_with_its_byte_order_mark_reads_as_without(tables, tmp_path):
    marked = tmp_path / "marked.csv"
    marked.write_bytes(b"\xef\xbb\xbf" + tables["audio"].read_bytes())  # a spreadsheet's "CSV UTF-8"
    plain, with_mark = read_table(tables["audio"], "audio"), read_table(marked, "audio")
    # was: "not a classify table: needs a path column" (the mark read as part of the first column's name)
    assert (with_mark.probs == plain.probs).all() and with_mark.paths == plain.paths


def _short_last_row(path: Path) -> Path:
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1] + [",".join(lines[-1].split(",")[:3])]) + "\n")
    return path


@pytest.mark.parametrize("which", ["table", "labels", "sessions"])
def test_a_row_short_of_its_header_names_the_file_and_line(tables, tmp_path, capsys, which):
    argv = ["evaluate", "fusion", "--table", f"audio={tables['audio']}", "--table", f"face={tables['face']}",
            "--out", str(tmp_path / "out")]
    if which == "table":
        bad = _short_last_row(tables["audio"])
    elif which == "labels":
        bad = tmp_path / "labels.csv"
        bad.write_text("path,label,person\nextra.wav,happy\n")
        argv += ["--labels", str(bad)]
    else:
        bad = tmp_path / "sessions.csv"
        bad.write_text("session,start_s,end_s,label\nx.json,0\n")
        argv = ["evaluate", "fusion", "--sessions", str(bad), "--out", str(tmp_path / "out")]
    assert main(argv) == 2  # was: internal errors (TypeError, AttributeError on a None cell)
    err = _one_error_line(capsys)
    assert f"{bad}: line " in err and "field(s) where the header has" in err
    assert not (tmp_path / "out").exists()


def test_a_sessions_manifest_that_is_not_utf8_or_a_folder_is_one_line(tmp_path, capsys):
    latin = tmp_path / "sessions.csv"
    latin.write_bytes(b"session,start_s,end_s,label\nx.json,0,1,caf\xe9\n")
    for bad, problem in ((latin, "is not UTF-8 text"), (tmp_path, "is a folder")):
        assert main(["evaluate", "fusion", "--sessions", str(bad), "--out", str(tmp_path / "out")]) == 2
        assert problem in _one_error_line(capsys)  # was: internal UnicodeDecodeError / IsADirectoryError


@pytest.mark.parametrize(("bounds", "shown"), [("nan,30", "nan, 30"), ("0,nan", "0, nan"), ("inf,inf", "inf, inf"),
                                               ("5,5", "5, 5"), ("x,3", "x, 3")])
def test_a_sessions_manifest_row_that_is_no_interval_is_refused_naming_its_line(tmp_path, capsys, bounds, shown):
    # was: a nan bound passed the check (nan compares false) and labelled nothing, without a word
    manifest = tmp_path / "sessions.csv"
    manifest.write_text(f"session,start_s,end_s,label\ns1.json,0,10,happy\ns1.json,{bounds},sad\n")
    assert main(["evaluate", "fusion", "--sessions", str(manifest), "--out", str(tmp_path / "out")]) == 2
    assert f"{manifest}: line 3: start_s/end_s ({shown}) are not an interval" in _one_error_line(capsys)


def test_segments_of_one_session_overlapping_with_different_labels_are_refused_naming_both_lines(tmp_path, capsys):
    manifest = tmp_path / "sessions.csv"
    # was: the windows from 15 s to 20 s labelled happy (the first listed), without a word
    manifest.write_text("session,start_s,end_s,label\ns1.json,0,20,happy\ns1.json,20,30,happy\n"
                        "s2.json,0,10,sad\ns1.json,15,40,sad\n")
    assert main(["evaluate", "fusion", "--sessions", str(manifest), "--out", str(tmp_path / "out")]) == 2
    assert (f"{manifest}: line 5: session s1.json's sad segment 15-40 s overlaps line 2's happy segment 0-20 s; a "
            "window there has no one label") in _one_error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_segments_of_one_label_may_overlap_or_touch_and_other_sessions_times_are_their_own(tmp_path):
    from export.fusion.pairs import read_manifest

    manifest = tmp_path / "sessions.csv"
    manifest.write_text("session,start_s,end_s,label\ns1.json,0,20,happy\ns1.json,10,30,happy\n"
                        "s1.json,30,40,sad\ns2.json,5,25,angry\n")
    assert [row["label"] for row in read_manifest(manifest)] == ["happy", "happy", "sad", "angry"]


@pytest.mark.parametrize(("second", "problem"), [
    ("B", "line 3: the person 'B', but line 2 gives session s1.json the person 'A'"),
    ("", "line 3: no person, but line 2 gives session s1.json the person 'A'"),
])
def test_a_session_whose_rows_name_different_people_is_refused(tmp_path, capsys, second, problem):
    # was: the first row's person taken for the whole session, the others dropped without a word
    manifest = tmp_path / "sessions.csv"
    manifest.write_text(f"session,start_s,end_s,label,person\ns1.json,0,10,happy,A\ns1.json,10,20,sad,{second}\n"
                        "s2.json,0,10,happy,B\n")
    assert main(["evaluate", "fusion", "--sessions", str(manifest), "--out", str(tmp_path / "out")]) == 2
    assert f"{manifest}: {problem}; a session is one person's" in _one_error_line(capsys)


def test_a_fuser_folder_holding_another_kind_of_model_is_refused_not_replaced(tmp_path):
    import json
    import re
    import shutil

    from export.fusion.cli import check_models_dir
    from runtime.models.card import REPO_MODELS_DIR

    shutil.copytree(REPO_MODELS_DIR / "face-expression", tmp_path / "fusion-stacking", symlinks=True)
    (tmp_path / "fusion-stacking" / "notes.txt").write_text("a clinic's notes")
    members = [m.removeprefix("../") for m in json.loads((tmp_path / "fusion-stacking" / "card.json").read_text())[
        "members"]]  # the shipped face model is an ensemble: named as one
    with pytest.raises(InputError, match=re.escape(f"holds an ensemble of {', '.join(members)}, not a model for "
                                                   "'emotion-fusion'")):
        check_models_dir(tmp_path, ["stacking"])  # was: accepted, and the folder replaced by the trained fuser


def test_a_fusers_card_names_every_setting_of_its_split_and_where_it_went_and_its_version_its_weights(
        tables, tmp_path, capsys, monkeypatch):
    import json
    import shlex

    import export.install
    from runtime.cli import build_parser

    def train(seed: str, *where: str) -> int:
        return main(["train", "fusion", "--table", f"audio={tables['audio']}", "--table", f"face={tables['face']}",
                     "--method", "stacking", "--seed", seed, "--test-fraction", "0.3", *where])

    # no --out: with --table nothing is written there (was: required, and left empty)
    assert train("7", "--models-dir", str(tmp_path / "a")) == 0, capsys.readouterr().err
    card = json.loads((tmp_path / "a" / "fusion-stacking" / "card.json").read_text())
    assert card["data"]["seed"] == 7 and card["data"]["test_fraction"] == 0.3  # was: the fraction not recorded
    # was: '... --method stacking --out DIR' (seed and fraction dropped; '(installs models/fusion-stacking)')
    args = build_parser().parse_args(shlex.split(card["rebuild"])[1:])
    assert (args.seed, args.test_fraction, str(args.models_dir), args.replace) == (7, 0.3, "DIR", False)
    text = (tmp_path / "a" / "fusion-stacking" / "MODEL_CARD.md").read_text()
    assert f"`{card['rebuild']}`" in text and "`--models-dir DIR`: the folder this model was exported into" in text
    assert train("8", "--models-dir", str(tmp_path / "b")) == 0
    other = json.loads((tmp_path / "b" / "fusion-stacking" / "card.json").read_text())
    # was: both '<date>': the version named the day, not the weights
    assert card["version"].split("-")[0] == other["version"].split("-")[0] and card["version"] != other["version"]
    # the repo's models/: replaced only with --replace, as every export's
    repo_models = tmp_path / "repo" / "models"
    (tmp_path / "a").rename(repo_models.parent.mkdir() or repo_models)
    monkeypatch.setattr(export.install, "REPO_MODELS_DIR", repo_models)
    assert train("8") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"holds fusion-stacking {card['version']}" in err and "--replace" in err
    assert train("8", "--replace") == 0
    shipped = json.loads((repo_models / "fusion-stacking" / "card.json").read_text())
    assert shipped["version"] == other["version"] and shipped["rebuild"].endswith("--method stacking --replace")
