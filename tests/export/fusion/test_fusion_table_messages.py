"""Bad fusion tables are said in plain words: the people two tables share are named as a reader writes them (not
numpy's ``np.str_('...')``), and a table whose label columns were cut off or misnamed is not read without a word.
"""

from __future__ import annotations

import logging
from pathlib import Path

from export.fusion.standins import write_classify_csv
from export.fusion.synthetic import synthetic_table
from export.fusion.tables import read_table
from runtime.cli import main
from runtime.track import CANONICAL_LABELS


def _audio_table(tmp_path: Path) -> Path:
    """A RAVDESS-named audio table of six actors."""
    audio = synthetic_table("audio", [f"spk{i}" for i in range(6)], 4, skill=1.5, seed=1)
    names = [f"Actor_{i % 6 + 1:02d}/03-01-0{y + 1}-01-01-01-{i % 6 + 1:02d}.wav"
             for i, y in enumerate(audio.labels)]
    write_classify_csv(tmp_path / "a.csv", names, audio.probs)
    return tmp_path / "a.csv"


def test_tables_sharing_people_are_refused_naming_the_people_plainly(tmp_path, capsys):
    table = _audio_table(tmp_path)
    code = main(["evaluate", "fusion", "--table", f"audio={table}", "--table", f"face={table}",
                 "--out", str(tmp_path / "out"), "--methods", "mean"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "shares people" in err, err
    assert "np.str_" not in err and "ravdess-01" in err, err
    assert not (tmp_path / "out").exists()


def test_a_label_column_outside_the_canonical_labels_is_said_in_a_warning(tmp_path, caplog):
    table = _audio_table(tmp_path)
    text = table.read_text().splitlines()
    text[0] = text[0].replace("surprised", "Surprise")  # another tool's spelling: its column would be dropped
    table.write_text("\n".join(text) + "\n")
    with caplog.at_level(logging.WARNING):
        read = read_table(table, "audio")
    assert not read.supported[CANONICAL_LABELS.index("surprised")]
    assert any("Surprise" in record.getMessage() for record in caplog.records), caplog.text


def test_an_empty_weights_option_is_refused_not_ignored(tmp_path, capsys):
    """``--weights ""`` (a shell variable left unset) gave no weights and no word: the comparison ran without the
    weighted method (analyze likewise ran the default stacking)."""
    table = _audio_table(tmp_path)
    face = synthetic_table("face", [f"img{i}" for i in range(30)], 2, skill=1.5, unsupported=["calm"], seed=2)
    folders = ["neutral", "calm", "happy", "sad", "angry", "fear", "disgust", "surprise"]
    write_classify_csv(tmp_path / "f.csv", [f"PublicTest/{folders[y]}/{i:05d}.png" for i, y in enumerate(face.labels)],
                       face.probs)
    code = main(["evaluate", "fusion", "--table", f"audio={table}", "--table", f"face={tmp_path / 'f.csv'}",
                 "--out", str(tmp_path / "out"), "--methods", "mean", "--weights", ""])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--weights" in err, err
    assert not (tmp_path / "out").exists()


def test_an_unnamed_empty_column_is_not_warned_of_as_a_blank_label_column(tmp_path, caplog):
    audio = synthetic_table("audio", [f"spk{i}" for i in range(6)], 4, skill=1.5, seed=1)
    names = [f"Actor_{i % 6 + 1:02d}/03-01-0{y + 1}-01-01-01-{i % 6 + 1:02d}.wav" for i, y in enumerate(audio.labels)]
    table = tmp_path / "a.csv"
    write_classify_csv(table, names, audio.probs)
    table.write_text("".join(line + ",\n" for line in table.read_text().splitlines()))  # Excel's empty last column
    with caplog.at_level(logging.WARNING):
        read_table(table, "audio")
    assert "none of the canonical labels" not in caplog.text  # was: 'column(s)  are none of ...', naming nothing
