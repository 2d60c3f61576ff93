from pathlib import Path

import pytest

from export.audio.datasets import load_corpus, parse_file_name
from runtime.errors import InputError


def touch(folder: Path, relative: str) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF")
    return path


@pytest.mark.parametrize(("name", "expected"), [
    ("Actor_07/03-01-05-02-01-02-07.wav", ("ravdess", "ravdess-07", "angry")),
    ("03-01-08-01-02-01-12.flac", ("ravdess", "ravdess-12", "surprised")),
    ("1001_DFA_ANG_XX.wav", ("crema-d", "crema-1001", "angry")),
    ("1091_TSI_NEU_XX.wav", ("crema-d", "crema-1091", "neutral")),
    ("OAF_back_ps.wav", ("tess", "tess-OAF", "surprised")),
    ("YAF_dog_fear.wav", ("tess", "tess-YAF", "fearful")),
    ("03a01Fa.wav", ("emodb", "emodb-03", "happy")),
    ("16b10Wb.wav", ("emodb", "emodb-16", "angry")),
    ("DC_sa01.wav", ("savee", "savee-DC", "sad")),
    ("KL/su15.wav", ("savee", "savee-KL", "surprised")),
])
def test_corpus_names_map_onto_speaker_and_canonical_label(tmp_path, name, expected):
    assert parse_file_name(tmp_path / name) == expected


def test_unmappable_and_unknown_names_are_reported_not_kept(tmp_path):
    touch(tmp_path, "03a01Fa.wav")
    touch(tmp_path, "03a02La.wav")  # EmoDB boredom: no canonical label
    touch(tmp_path, "03-02-05-01-01-01-03.wav")  # RAVDESS song
    touch(tmp_path, "holiday_recording.wav")
    corpus = load_corpus(tmp_path)
    assert [clip.emotion for clip in corpus.clips] == ["happy"]
    assert sum(corpus.skipped.values()) == 3
    assert any("boredom" in reason for reason in corpus.skipped)
    assert any("song" in reason for reason in corpus.skipped)


def test_manifest_gives_speakers_and_maps_label_synonyms(tmp_path):
    touch(tmp_path, "a/one.wav")
    touch(tmp_path, "b/two.flac")
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\na/one.wav,ann,Happiness\nb/two.flac,bob,fear\n")
    corpus = load_corpus(tmp_path)
    assert [(c.speaker, c.emotion) for c in corpus.clips] == [("ann", "happy"), ("bob", "fearful")]


def test_manifest_naming_a_missing_file_is_an_input_error(tmp_path):
    touch(tmp_path, "one.wav")
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\none.wav,ann,sad\ngone.wav,ann,sad\n")
    with pytest.raises(InputError, match=r"manifest\.csv.*line 3.*gone\.wav.*does not exist"):
        load_corpus(tmp_path)


def test_manifest_with_an_unmappable_label_is_an_input_error(tmp_path):
    touch(tmp_path, "one.wav")
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\none.wav,ann,boredom\n")
    with pytest.raises(InputError, match=r"manifest\.csv.*'boredom' cannot be mapped"):
        load_corpus(tmp_path)


def test_manifest_without_required_columns_is_an_input_error(tmp_path):
    touch(tmp_path, "one.wav")
    (tmp_path / "manifest.csv").write_text("file,label\none.wav,sad\n")
    with pytest.raises(InputError, match="lacks column"):
        load_corpus(tmp_path)


def test_folder_without_any_labelled_clip_is_an_input_error(tmp_path):
    touch(tmp_path, "notes.wav")
    with pytest.raises(InputError, match="no labelled audio clips"):
        load_corpus(tmp_path)
    with pytest.raises(InputError, match="no such folder"):
        load_corpus(tmp_path / "absent")


def test_a_manifest_csv_given_itself_is_read_with_paths_relative_to_its_folder(tmp_path):
    touch(tmp_path, "clips/one.wav")
    manifest = tmp_path / "labels.csv"
    manifest.write_text("path,speaker,emotion\nclips/one.wav,ann,sad\n")
    corpus = load_corpus(manifest)
    assert [(c.path, c.speaker, c.emotion) for c in corpus.clips] == [(tmp_path / "clips/one.wav", "ann", "sad")]


def test_a_manifest_row_of_empty_fields_is_skipped_like_a_blank_line(tmp_path):
    touch(tmp_path, "one.wav")
    touch(tmp_path, "two.wav")
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\none.wav,ann,sad\n,,\n\ntwo.wav,bob,happy\n")
    assert [c.speaker for c in load_corpus(tmp_path).clips] == ["ann", "bob"]


def test_a_manifest_naming_one_file_twice_is_an_input_error_naming_both_lines(tmp_path):
    touch(tmp_path, "one.wav")
    # the same recording under two speakers would sit on both sides of a speaker-independent fold
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\none.wav,ann,sad\n./one.wav,bob,sad\n")
    with pytest.raises(InputError, match=r"line 3: file './one.wav' is already named on line 2"):
        load_corpus(tmp_path)


def test_a_manifest_row_with_more_fields_than_the_header_is_an_input_error(tmp_path):
    touch(tmp_path, "one.wav")
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\none.wav,Smith, J,sad\n")
    with pytest.raises(InputError, match=r"line 2: more fields than the header's 3 .*double quotes"):
        load_corpus(tmp_path)


def test_a_manifest_in_latin_1_is_an_input_error_asking_for_utf_8(tmp_path):
    touch(tmp_path, "one.wav")
    (tmp_path / "manifest.csv").write_bytes("path,speaker,emotion\none.wav,J\xfcrgen,sad\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"manifest\.csv: is not UTF-8 text .*save it as CSV UTF-8"):
        load_corpus(tmp_path)
