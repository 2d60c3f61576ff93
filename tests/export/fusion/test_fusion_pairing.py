"""Where the paired windows come from (export.fusion.pairs) and the labels and people a table's rows carry
(export.fusion.tables): no person on both sides of the split, a session's clips from its own speaker."""

from __future__ import annotations

import numpy as np
import pytest

from export.fusion.pairs import pair_tables
from export.fusion.standins import write_classify_csv
from export.fusion.synthetic import synthetic_table
from export.fusion.tables import label_from_path, read_table
from runtime.errors import InputError
from runtime.track import CANONICAL_LABELS

CALM, NEUTRAL = CANONICAL_LABELS.index("calm"), CANONICAL_LABELS.index("neutral")


def _row_index(table) -> dict[tuple, int]:
    """Each row's probabilities (unique: random noise) → its row number, to tell which row a window used."""
    index = {tuple(np.round(p, 9)): i for i, p in enumerate(table.probs)}
    assert len(index) == len(table.probs)
    return index


def _audio():
    return synthetic_table("audio", [f"spk{i}" for i in range(6)], 3, skill=1.5, seed=1)


def test_every_anchor_clip_in_a_session_is_the_sessions_own_speaker():
    audio = _audio()
    face = synthetic_table("face", [f"img{i}" for i in range(30)], 2, skill=1.5, unsupported=["calm"], seed=2)
    paired = pair_tables([audio, face], sessions_per_person=2, windows_per_session=12, seed=3)
    rows = _row_index(audio)
    used = [rows[tuple(np.round(p, 9))] for p in paired.data.probs[:, 0]]
    assert audio.people[used].tolist() == paired.people.tolist()
    assert audio.labels[used].tolist() == paired.targets.tolist()


def test_a_face_table_with_repeated_people_keeps_each_face_person_on_one_side_of_the_split():
    audio = _audio()
    # 10 face people with 2 rows per label each: split per row, some person would land on both sides
    face = synthetic_table("face", [f"face{i}" for i in range(10)], 2, skill=1.5, unsupported=["calm"], seed=2)
    paired = pair_tables([audio, face], sessions_per_person=2, windows_per_session=12, seed=3)
    is_test = paired.test_rows["face"]
    assert is_test.any() and not is_test.all()
    for person in set(face.people):
        assert len(set(is_test[face.people == person])) == 1, person


def test_a_calm_window_takes_a_neutral_face_since_fer_has_no_calm():
    audio = _audio()
    face = synthetic_table("face", [f"img{i}" for i in range(30)], 2, skill=1.5, unsupported=["calm"], seed=2)
    paired = pair_tables([audio, face], sessions_per_person=2, windows_per_session=12, seed=3)
    rows = _row_index(face)
    calm = paired.targets == CALM
    assert calm.any()
    used = [rows[tuple(np.round(p, 9))] for p in paired.data.probs[calm, 1]]
    assert set(face.labels[used].tolist()) == {NEUTRAL}


@pytest.mark.parametrize(("code", "label"), [
    ("01", "neutral"), ("02", "calm"), ("03", "happy"), ("04", "sad"),
    ("05", "angry"), ("06", "fearful"), ("07", "disgust"), ("08", "surprised"),
])
def test_a_ravdess_file_name_gives_its_emotion(code, label):
    # RAVDESS: modality-channel-emotion-intensity-statement-repetition-actor
    assert label_from_path(f"ravdess/Actor_12/03-01-{code}-02-01-02-12.wav") == label


@pytest.mark.parametrize(("folder", "label"), [
    ("angry", "angry"), ("disgust", "disgust"), ("fear", "fearful"), ("happy", "happy"),
    ("sad", "sad"), ("surprise", "surprised"), ("neutral", "neutral"),
])
def test_a_fer2013_class_folder_gives_its_emotion(folder, label):
    assert label_from_path(f"fer2013/train/{folder}/Training_00017.jpg") == label


@pytest.mark.parametrize(("word", "label"), [("joy", "happy"), ("Pleasant Surprise", "surprised"), ("neu", "neutral"),
                                             ("Fear", "fearful"), ("ps", "surprised")])
def test_a_labels_csv_reads_label_words_as_a_manifest_does(tmp_path, word, label):
    from export.fusion.tables import read_labels_csv

    # one list of label words (runtime.track): was a third table here, refusing 'joy' and 'neu'; a column named
    # label holds labels, so its corpus codes ('neu', 'ps') are read as a train audio manifest reads them
    (tmp_path / "labels.csv").write_text(f"path,label,person\nclip.wav,{word},P1\n")
    assert read_labels_csv(tmp_path / "labels.csv") == {"clip.wav": (label, "P1")}


@pytest.mark.parametrize(("folder", "label"), [("happy", "happy"), ("joy", "happy"), ("Pleasant Surprise", "surprised"),
                                               ("Fear", "fearful"), ("anger", "angry"), ("happiness", "happy"),
                                               ("mad", "angry")])
def test_a_folder_named_by_a_whole_label_word_gives_its_label(folder, label):
    assert label_from_path(f"set/{folder}/x.png") == label


@pytest.mark.parametrize("folder", ["n", "ps", "dis", "neu", "hap"])
def test_a_folder_named_by_an_abbreviation_is_refused_since_it_may_be_a_persons_initials(folder):
    # 'n' or 'ps' as a folder is as likely a person as an emotion: truth data only from whole words
    with pytest.raises(InputError, match="no label.*give --labels"):
        label_from_path(f"set/{folder}/x.png")


def test_a_labels_csv_gives_each_row_its_person_so_a_persons_rows_stay_together(tmp_path):
    paths = ["clips/a.wav", "clips/b.wav", "clips/c.wav", "clips/d.wav"]
    probs = np.tile(np.eye(len(CANONICAL_LABELS))[[2, 3]] * 0.8 + 0.025, (2, 1))
    write_classify_csv(tmp_path / "t.csv", paths, probs)
    (tmp_path / "labels.csv").write_text(
        "path,label,person\nclips/a.wav,happy,anna\nclips/b.wav,sad,anna\nclips/c.wav,happy,ben\n"
        "clips/d.wav,sadness,ben\n"
    )
    table = read_table(tmp_path / "t.csv", "audio", labels_csv=tmp_path / "labels.csv")
    assert table.people.tolist() == ["anna", "anna", "ben", "ben"]
    assert [CANONICAL_LABELS[i] for i in table.labels] == ["happy", "sad", "happy", "sad"]
