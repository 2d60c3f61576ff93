from pathlib import Path

import pytest

from export.audio.datasets import load_corpus, parse_file_name
from runtime.errors import InputError


def touch(folder: Path, relative: str) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF" + relative.encode())  # each file its own bytes: equal bytes are one recording
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


# A manifest is a promise: each of these breaks it, and the error names the file and the line or field.
BAD_MANIFESTS = {
    "a missing file": ("path,speaker,emotion\none.wav,ann,sad\ngone.wav,ann,sad\n",
                       r"manifest\.csv: line 3: file 'gone\.wav' does not exist \(looked for .*/gone\.wav: paths are "
                       r"relative to the manifest's folder\)"),
    "an unmappable label": ("path,speaker,emotion\none.wav,ann,boredom\n",
                            r"manifest\.csv.*'boredom' cannot be mapped"),
    "no required columns": ("file,label\none.wav,sad\n", "lacks column"),
    # the same recording under two speakers would sit on both sides of a speaker-independent fold
    "one file twice": ("path,speaker,emotion\none.wav,ann,sad\n./one.wav,bob,sad\n",
                       r"line 3: file './one.wav' is already named on line 2"),
    "one recording under two names": ("path,speaker,emotion\none.wav,ann,sad\ncopy.wav,bob,sad\n",
                                      r"line 3: file 'copy\.wav' holds the same recording as 'one\.wav' on line 2"),
    "an unquoted comma": ("path,speaker,emotion\none.wav,Smith, J,sad\n",
                          r"line 2: more fields than the header's 3 .*double quotes"),
    "Latin-1 text": ("path,speaker,emotion\none.wav,J\xfcrgen,sad\n".encode("latin-1"),
                     r"manifest\.csv: is not UTF-8 text .*save it as CSV UTF-8"),
}


@pytest.mark.parametrize("case", BAD_MANIFESTS)
def test_a_manifest_that_breaks_its_promise_is_one_input_error(tmp_path, case):
    text, message = BAD_MANIFESTS[case]
    touch(tmp_path, "one.wav")
    (tmp_path / "copy.wav").write_bytes((tmp_path / "one.wav").read_bytes())
    (tmp_path / "manifest.csv").write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(InputError, match=message):
        load_corpus(tmp_path)


def test_a_second_copy_of_a_recording_found_by_name_is_left_out_and_reported(tmp_path):
    first = touch(tmp_path, "Actor_01/03-01-04-01-01-01-01.wav")
    copy = tmp_path / "backup/Actor_01/03-01-04-01-01-01-01.wav"
    copy.parent.mkdir(parents=True)
    copy.write_bytes(first.read_bytes())
    touch(tmp_path, "Actor_01/03-01-05-01-01-01-01.wav")  # same size, other bytes: kept
    corpus = load_corpus(tmp_path)
    assert sorted(c.path.relative_to(tmp_path).as_posix() for c in corpus.clips) == [
        "Actor_01/03-01-04-01-01-01-01.wav", "Actor_01/03-01-05-01-01-01-01.wav"]
    assert corpus.skipped == {"same recording as another file": 1}


def test_empty_files_are_not_taken_for_copies_of_each_other(tmp_path):
    for name in ("one.wav", "two.wav"):
        (tmp_path / name).write_bytes(b"")  # unreadable audio, which extraction reports; not one recording twice
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\none.wav,ann,sad\ntwo.wav,bob,happy\n")
    assert [c.speaker for c in load_corpus(tmp_path).clips] == ["ann", "bob"]
