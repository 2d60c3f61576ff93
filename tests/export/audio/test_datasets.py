import re
from pathlib import Path

import pytest

from export.audio.datasets import load_corpus, parse_file_name
from runtime.errors import InputError
from runtime.track import CANONICAL_LABELS
from tests.export.audio.corpora import touch


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


def test_a_manifest_reads_the_label_words_a_checkpoints_classes_may_use(tmp_path):
    # one list of label words (runtime.track.LABEL_SYNONYMS) for manifests and checkpoints
    touch(tmp_path, "a.wav")
    touch(tmp_path, "b.wav")
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\na.wav,ann,relaxed\nb.wav,bob,scared\n")
    assert [c.emotion for c in load_corpus(tmp_path).clips] == ["calm", "fearful"]


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


def test_a_missing_file_of_a_manifest_given_by_a_relative_path_names_the_folder_it_was_looked_for_in(
        tmp_path, monkeypatch):
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\ngone.wav,ann,sad\n")
    monkeypatch.chdir(tmp_path)
    # was: "relative to the manifest's folder, ." (the folder named by the path given, not where it is)
    with pytest.raises(InputError, match=f"relative to the manifest's folder, {re.escape(str(tmp_path.resolve()))}\\)"):
        load_corpus(Path("manifest.csv"))


# A manifest is a promise: each of these breaks it, and the error names the file and the line or field.
BAD_MANIFESTS = {
    "a missing file": ("path,speaker,emotion\none.wav,ann,sad\ngone.wav,ann,sad\n",
                       r"manifest\.csv: 1 of 2 file\(s\) missing or unreadable \(paths are relative to the manifest's "
                       r"folder, .*\): line 3: 'gone\.wav' does not exist$"),
    "an unmappable label": ("path,speaker,emotion\none.wav,ann,boredom\n",
                            r"manifest\.csv.*'boredom' cannot be mapped"),
    "no required columns": ("file,label\none.wav,sad\n", r"manifest\.csv: has column\(s\) 'file', 'label' and lacks "
                            r"column\(s\) path, speaker, emotion: .* header path,speaker,emotion"),
    "a 'label' column": ("path,speaker,label\none.wav,ann,sad\n",
                         r"has column\(s\) 'path', 'speaker', 'label' and lacks column\(s\) emotion: .*; name the "
                         r"label column 'emotion'$"),
    "semicolons": ("path;speaker;emotion\none.wav;ann;sad\n",
                   r"has column\(s\) 'path;speaker;emotion' and lacks column\(s\) path, speaker, emotion: .*"
                   r"separated by semicolons: save it with commas"),
    "tabs": ("path\tspeaker\temotion\none.wav\tann\tsad\n",  # a sheet saved as tab-separated text
             r"has column\(s\) 'path\\tspeaker\\temotion' and lacks .*separated by tabs: save it with commas"),
    # the same recording under two speakers would sit on both sides of a speaker-independent fold
    "one file twice": ("path,speaker,emotion\none.wav,ann,sad\n./one.wav,bob,sad\n",
                       r"line 3: file './one.wav' is already named on line 2"),
    "one recording under two names": ("path,speaker,emotion\none.wav,ann,sad\ncopy.wav,bob,sad\n",
                                      r"line 3: file 'copy\.wav' holds the same recording as 'one\.wav' on line 2"),
    "an unquoted comma": ("path,speaker,emotion\none.wav,Smith, J,sad\n",
                          r"line 2: more fields than the header's 3 .*double quotes"),
    # was: 'has column(s) none and lacks column(s) path, speaker, emotion'
    "an empty file": ("", r"manifest\.csv: is empty: a manifest's first line is the header path,speaker,emotion "
                      r".*, then one row per clip$"),
    "a first line of blank names": (" , \n", r"manifest\.csv: has a first line that names no column: .* header "
                                    r"path,speaker,emotion"),
    # a spreadsheet's empty first row; was: 'line 2: more fields than the header's 0 ...'
    "a blank first line": ("\npath,speaker,emotion\none.wav,ann,sad\n",
                           r"manifest\.csv: has a first line that names no column: .* header path,speaker,emotion "
                           r".*, then one row per clip$"),
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


@pytest.mark.parametrize("given", ["the folder", "the manifest"])
def test_a_manifest_csv_that_is_a_folder_is_said_to_be_one(tmp_path, given):
    touch(tmp_path, "03-01-05-02-01-02-07.wav")  # a corpus name beside it: the manifest, not the names, was meant
    (tmp_path / "manifest.csv").mkdir()
    # was: the folder read by its corpus names as if it had no manifest, and a folder named manifest.csv given
    # itself 'holds no labelled audio clips (no manifest.csv and no known corpus naming)'
    with pytest.raises(InputError, match=rf"^{re.escape(str(tmp_path / 'manifest.csv'))}: is a folder, not a "
                                         r"manifest.*path,speaker,emotion"):
        load_corpus(tmp_path if given == "the folder" else tmp_path / "manifest.csv")


def test_every_missing_file_of_a_manifest_is_named_in_one_refusal(tmp_path):
    touch(tmp_path, "one.wav")
    rows = ["one.wav,ann,sad"] + [f"gone{n}.wav,ann,sad" for n in range(12)]
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputError) as refused:
        load_corpus(tmp_path)
    message = str(refused.value)
    assert "12 of 13 file(s) missing or unreadable" in message
    assert all(f"line {n + 3}: 'gone{n}.wav' does not exist" in message for n in range(10))
    assert "gone10.wav" not in message and message.endswith("; and 2 more")


@pytest.mark.parametrize(("on_disk", "in_manifest"), [("NFD", "NFC"), ("NFC", "NFD")])
def test_a_manifest_finds_a_file_whose_name_differs_only_in_unicode_normal_form(tmp_path, on_disk, in_manifest):
    import unicodedata

    name = "Séance 1/Zoë.wav"  # a Mac writes names decomposed; a manifest typed elsewhere holds them composed
    path = touch(tmp_path, unicodedata.normalize(on_disk, name))
    row = f"{unicodedata.normalize(in_manifest, name)},ann,sad"
    (tmp_path / "manifest.csv").write_text(f"path,speaker,emotion\n{row}\n", encoding="utf-8")
    assert [c.path for c in load_corpus(tmp_path).clips] == [path]


def test_a_manifest_written_on_windows_finds_its_files_by_backslashed_paths(tmp_path):
    path = touch(tmp_path, "patient 01/Séance 1/a.wav")
    own = touch(tmp_path, "b\\c.wav")  # a name holding a backslash itself is found as it is
    rows = ["patient 01\\Séance 1\\a.wav,ann,sad", "b\\c.wav,bob,sad"]
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert [c.path for c in load_corpus(tmp_path).clips] == [path, own]  # was: 'patient 01\\...' does not exist


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


@pytest.mark.parametrize("kind", ["link to nothing", "pipe"])
def test_a_corpus_entry_that_is_no_readable_file_is_refused_in_one_line_never_opened(tmp_path, kind):
    import os

    touch(tmp_path, "Actor_01/03-01-04-01-01-01-01.wav")
    entry = tmp_path / "Actor_01/03-01-05-01-01-01-01.wav"
    if kind == "pipe":
        os.mkfifo(entry)  # opened, it would wait for a writer for ever
    else:
        entry.symlink_to(tmp_path / "unmounted" / "03-01-05-01-01-01-01.wav")
    problem = ("is a device, pipe or socket; give a file" if kind == "pipe"
               else "is a link to .*, which does not exist")
    # was: left out without a word; then, once listed, train audio's FileNotFoundError or a hang on the pipe
    with pytest.raises(InputError, match=rf"03-01-05-01-01-01-01\.wav: {problem}$"):
        load_corpus(tmp_path)


# Every emotion code of every corpus, written out from each corpus's documentation (not from the code's tables):
# a swapped pair of codes would train every clip of both emotions under the other's name.
CORPUS_CODES = {
    **{f"03-01-{code}-01-01-01-05.wav": ("ravdess", "ravdess-05", label) for code, label in (
        ("01", "neutral"), ("02", "calm"), ("03", "happy"), ("04", "sad"), ("05", "angry"), ("06", "fearful"),
        ("07", "disgust"), ("08", "surprised"))},
    **{f"1002_IEO_{code}_HI.wav": ("crema-d", "crema-1002", label) for code, label in (
        ("ANG", "angry"), ("DIS", "disgust"), ("FEA", "fearful"), ("HAP", "happy"), ("NEU", "neutral"),
        ("SAD", "sad"))},
    **{f"OAF_bath_{code}.wav": ("tess", "tess-OAF", label) for code, label in (
        ("angry", "angry"), ("disgust", "disgust"), ("fear", "fearful"), ("happy", "happy"), ("neutral", "neutral"),
        ("ps", "surprised"), ("sad", "sad"))},
    # German initials: Wut, Ekel, Angst, Freude, Trauer, Neutral
    **{f"08a02{code}b.wav": ("emodb", "emodb-08", label) for code, label in (
        ("W", "angry"), ("E", "disgust"), ("A", "fearful"), ("F", "happy"), ("T", "sad"), ("N", "neutral"))},
    **{f"JE_{code}07.wav": ("savee", "savee-JE", label) for code, label in (
        ("a", "angry"), ("d", "disgust"), ("f", "fearful"), ("h", "happy"), ("n", "neutral"), ("sa", "sad"),
        ("su", "surprised"))},
}


@pytest.mark.parametrize("name", CORPUS_CODES)
def test_each_corpus_emotion_code_maps_onto_its_own_canonical_label(tmp_path, name):
    assert parse_file_name(tmp_path / name) == CORPUS_CODES[name]


def test_a_savee_name_without_its_speakers_folder_is_no_corpus_name(tmp_path):
    # "a01" alone says nothing of the speaker: only DC, JE, JK or KL folders give one
    assert parse_file_name(tmp_path / "Session1/a01.wav") is None
    assert parse_file_name(tmp_path / "JK/a01.wav") == ("savee", "savee-JK", "angry")


@pytest.mark.parametrize("suffix", [".flac", ".FLAC", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".wav"])
def test_a_corpus_folder_of_compressed_audio_is_found_by_name(tmp_path, suffix):
    # the shared RAVDESS copy is FLAC: a scan for .wav alone would find nothing in it
    touch(tmp_path, f"Actor_02/03-01-04-01-01-01-02{suffix}")
    touch(tmp_path, f"Actor_02/03-01-03-01-01-01-02{suffix}")
    corpus = load_corpus(tmp_path)
    assert sorted(c.emotion for c in corpus.clips) == ["happy", "sad"] and corpus.skipped == {}


def test_a_manifest_row_without_a_speaker_is_refused_naming_its_line(tmp_path):
    # a blank speaker is no blank line: skipping the row would silently drop a clip, keeping it would make a
    # speaker "" that folds cannot hold out as anyone
    touch(tmp_path, "one.wav")
    touch(tmp_path, "two.wav")
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\none.wav,,sad\ntwo.wav,bob,happy\n")
    with pytest.raises(InputError) as refused:
        load_corpus(tmp_path)
    # was: '... lack a speaker or a label that maps onto neutral, ...', of a row whose label maps
    assert str(refused.value) == f"{tmp_path / 'manifest.csv'}: 1 of 2 row(s) lack a speaker: line 2: no speaker"


def test_every_row_without_a_speaker_or_a_label_is_named_in_one_refusal(tmp_path):
    # was: only the first (line 3), a rerun per row to find the rest
    rows = ["ok.wav,ann,sad", "a.wav,ann,boredom", "b.wav,,sad", "c.wav,,", "d.wav,bob,"]
    rows += [f"x{n}.wav,,sad" for n in range(8)]
    for row in rows:
        touch(tmp_path, row.split(",")[0])
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputError) as refused:
        load_corpus(tmp_path)
    message = str(refused.value)
    assert message.startswith(f"{tmp_path / 'manifest.csv'}: 12 of 13 row(s) lack a speaker or a label")
    assert ("line 3: label 'boredom' cannot be mapped; line 4: no speaker; line 5: no label, no speaker; "
            "line 6: no label; line 7: no speaker;") in message
    assert "line 12: no speaker; and 2 more" in message and "line 2:" not in message and "line 13" not in message


@pytest.mark.parametrize(("first", "second"), [("P01", "p01"), ("1", "01"), ("ann-7", "ANN-007"), ("P01", "P 01"),
                                               ("P-01", "P_01"), ("1", "1.0")])
def test_one_speaker_id_spelt_two_ways_is_refused_naming_both(tmp_path, first, second):
    # two ids for one person would put them on both sides of a speaker-independent fold
    for name in ("a.wav", "b.wav", "c.wav"):
        touch(tmp_path, name)
    (tmp_path / "manifest.csv").write_text(f"path,speaker,emotion\na.wav,{first},sad\nb.wav,bob,happy\n"
                                           f"c.wav, {second} ,angry\n")
    with pytest.raises(InputError, match=rf"manifest\.csv: line 4: speaker '{second}' and speaker '{first}' "
                                         r"\(line 2\) .*name each person once"):
        load_corpus(tmp_path)


def test_speaker_ids_that_differ_in_more_than_spelling_are_kept_apart(tmp_path):
    for name in ("a.wav", "b.wav", "c.wav"):
        touch(tmp_path, name)
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\na.wav,P01,sad\nb.wav,P10,happy\nc.wav,P1a,angry\n")
    assert load_corpus(tmp_path).speakers == ["P01", "P10", "P1a"]


def test_numbers_parted_by_a_separator_stay_two_speakers(tmp_path):
    # site 1's person 12 and site 11's person 2: the hyphen parts two numbers, it is no spelling
    for name in ("a.wav", "b.wav"):
        touch(tmp_path, name)
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\na.wav,1-12,sad\nb.wav,11-2,happy\n")
    assert load_corpus(tmp_path).speakers == ["1-12", "11-2"]


def test_a_speaker_id_in_another_unicode_form_or_with_an_invisible_character_is_one_speaker(tmp_path):
    from export.audio.datasets import data_checksum

    for name in ("a.wav", "b.wav", "c.wav", "d.wav"):
        touch(tmp_path, name)
    composed, decomposed = "Jos\u00e9", "Jose\u0301"
    (tmp_path / "manifest.csv").write_text(f"path,speaker,emotion\na.wav,{composed},sad\nb.wav,{decomposed},happy\n"
                                           "c.wav,P02,sad\nd.wav,P02\u200b,happy\n", encoding="utf-8")
    corpus = load_corpus(tmp_path)
    # was: four speakers, each person on both sides of a speaker-independent fold
    assert corpus.speakers == [composed, "P02"]
    checksum = data_checksum(tmp_path, corpus)
    (tmp_path / "manifest.csv").write_text(f"path,speaker,emotion\na.wav,{composed},sad\nb.wav,{composed},happy\n"
                                           "c.wav,P02,sad\nd.wav,P02,happy\n", encoding="utf-8")
    assert data_checksum(tmp_path, load_corpus(tmp_path)) == checksum  # the same speakers read, the same data


def test_a_speaker_id_of_invisible_characters_alone_is_no_speaker(tmp_path):
    touch(tmp_path, "a.wav")
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\na.wav,\u200b,sad\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"1 of 1 row\(s\) lack a speaker: line 2: no speaker"):
        load_corpus(tmp_path)


def test_a_corpus_name_in_a_folder_of_another_label_is_refused_naming_both(tmp_path):
    touch(tmp_path, "happy/03-01-03-01-01-01-01.wav")  # RAVDESS 03: happy, in its own label's folder
    touch(tmp_path, "angry/03-01-04-01-01-01-01.wav")  # RAVDESS 04: sad, in a folder that says angry
    with pytest.raises(InputError, match=r"1 file\(s\) sit in a folder named after another label .*"
                                         r"angry/03-01-04-01-01-01-01\.wav \(folder angry, name sad\)"):
        load_corpus(tmp_path)
    (tmp_path / "angry").rename(tmp_path / "sad")
    assert sorted(c.emotion for c in load_corpus(tmp_path).clips) == ["happy", "sad"]


def test_a_corpus_name_in_a_folder_named_by_a_persons_initials_is_read(tmp_path):
    touch(tmp_path, "ps/03-01-05-01-01-01-01.wav")  # RAVDESS 05: angry, in the folder of P. S. (not 'surprised')
    assert [c.emotion for c in load_corpus(tmp_path).clips] == ["angry"]  # was refused: folder surprised, name angry


def test_a_split_laid_out_as_links_to_a_corpus_speakers_folders_is_read(tmp_path):
    for actor in ("01", "02", "03"):
        touch(tmp_path / "corpus", f"Actor_{actor}/03-01-04-01-01-01-{actor}.wav")
    split = tmp_path / "first-two"
    split.mkdir()
    for actor in ("01", "02"):  # a researcher's split: links, not copies
        (split / f"Actor_{actor}").symlink_to(tmp_path / "corpus" / f"Actor_{actor}", target_is_directory=True)
    corpus = load_corpus(split)  # was: 'holds no labelled audio clips'
    assert sorted(clip.speaker for clip in corpus.clips) == ["ravdess-01", "ravdess-02"]


def test_a_corpus_counts_the_speakers_of_each_label(tmp_path):
    for name in ("03-01-03-01-01-01-01.wav", "03-01-03-01-01-02-01.wav", "03-01-03-01-01-01-02.wav",
                 "03-01-04-01-01-01-02.wav"):  # happy twice by actor 01 and once by 02; sad by 02 alone
        touch(tmp_path, name)
    corpus = load_corpus(tmp_path)
    by_label = corpus.speakers_by_label()
    assert by_label["happy"] == ["ravdess-01", "ravdess-02"] and by_label["sad"] == ["ravdess-02"]
    assert by_label["angry"] == [] and list(by_label) == list(corpus.counts())
    assert (corpus.counts()["happy"], corpus.counts()["sad"]) == (3, 1)


def test_a_manifests_data_checksum_follows_its_rows_and_clips_not_the_manifests_bytes(tmp_path):
    from export.audio.datasets import data_checksum

    def checksum(data: Path) -> dict[str, str]:
        return data_checksum(data, load_corpus(data))

    touch(tmp_path, "a.wav")
    touch(tmp_path, "b.wav")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,speaker,emotion\na.wav,ann,happy\nb.wav,bob,sad\n")
    first = checksum(tmp_path)
    assert "PATH<TAB>SPEAKER<TAB>EMOTION<TAB>SIZE" in first["of"] and "manifest.csv" in first["of"]
    # the manifest given as the CSV itself: the same data, the same checksum
    assert checksum(manifest) == first
    # was: another checksum for the same rows saved with CRLF line endings, or in another order
    manifest.write_bytes(b"path,speaker,emotion\r\nb.wav,bob,sad\r\na.wav,ann,happy\r\n")
    assert checksum(tmp_path) == first
    manifest.write_text("path,speaker,emotion\na.wav,ann,happy\nb.wav,bob,Sad\n")  # the same label, spelt so
    assert checksum(tmp_path) == first
    manifest.write_text("path,speaker,emotion\na.wav,ann,happy\nb.wav,bob,angry\n")  # relabelled
    assert checksum(tmp_path) != first
    manifest.write_text("path,speaker,emotion\na.wav,ann,happy\nb.wav,cy,sad\n")  # another speaker
    assert checksum(tmp_path) != first
    manifest.write_text("path,speaker,emotion\na.wav,ann,happy\nb.wav,bob,sad\n")
    # was: the same checksum after a clip was swapped for other audio of another length
    (tmp_path / "a.wav").write_bytes(b"RIFF other audio, longer")
    assert checksum(tmp_path) != first


def test_a_data_checksum_reads_names_in_unicode_nfc(tmp_path):
    from export.audio.datasets import data_checksum

    composed, decomposed = "S\u00e9ance", "Se\u0301ance"
    for copy, spelling in (("mac", decomposed), ("linux", composed)):  # a Mac's copy spells 'é' decomposed
        touch(tmp_path / copy / spelling, "Actor_01/03-01-03-01-01-01-01.wav")
        (tmp_path / "manifests" / copy).mkdir(parents=True)
        (tmp_path / "manifests" / copy / f"{spelling}.wav").write_bytes(b"RIFF same bytes")
        (tmp_path / "manifests" / copy / "manifest.csv").write_text(f"path,speaker,emotion\n{spelling}.wav,ann,sad\n")
    sums = {copy: (data_checksum(tmp_path / copy, load_corpus(tmp_path / copy))["sha256"],
                   data_checksum(tmp_path / "manifests" / copy, load_corpus(tmp_path / "manifests" / copy))["sha256"])
            for copy in ("mac", "linux")}
    # was: another checksum for the Mac's copy of the same data
    assert sums["mac"] == sums["linux"]


def test_a_corpus_trees_data_checksum_follows_its_clips_names_and_sizes_wherever_it_lies(tmp_path):
    import shutil

    from export.audio.datasets import data_checksum

    names = ["Actor_01/03-01-03-01-01-01-01.wav", "Actor_02/03-01-04-01-01-01-02.wav"]
    for name in names:
        touch(tmp_path / "one", name)

    def checksum(folder: Path) -> str:
        return data_checksum(folder, load_corpus(folder))["sha256"]

    first = checksum(tmp_path / "one")
    shutil.copytree(tmp_path / "one", tmp_path / "two")
    assert checksum(tmp_path / "two") == first  # moved or copied: the same data
    touch(tmp_path / "two", "notes.wav")  # no corpus name: not read, so not part of the data
    assert checksum(tmp_path / "two") == first
    with open(tmp_path / "two" / names[0], "ab") as handle:
        handle.write(b"more")
    assert checksum(tmp_path / "two") != first
    (tmp_path / "one" / names[1]).rename(tmp_path / "one" / "Actor_02/03-01-05-01-01-01-02.wav")  # relabelled
    assert checksum(tmp_path / "one") != first


def test_labels_as_given_keep_a_manifests_own_labels_and_still_map_canonical_words(tmp_path):
    from export.audio.datasets import LABELS_AS_GIVEN

    for name in ("a", "b", "c", "d", "e"):
        touch(tmp_path, f"{name}.wav")
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\na.wav,ann, Anxious \nb.wav,bob,anxious\n"
                                           "c.wav,ann,joy\nd.wav,bob,Happy\ne.wav,ann,Very  Withdrawn\n")
    with pytest.raises(InputError, match="'Anxious' cannot be mapped"):  # the default stands
        load_corpus(tmp_path)
    corpus = load_corpus(tmp_path, LABELS_AS_GIVEN)
    # stripped, lower case, one space inside; 'joy' and 'Happy' are one class, the canonical one
    assert [c.emotion for c in corpus.clips] == ["anxious", "anxious", "happy", "happy", "very withdrawn"]
    assert corpus.labels == ["happy", "anxious", "very withdrawn"]  # canonical first, then the own ones sorted
    assert corpus.counts() == {"happy": 2, "anxious": 2, "very withdrawn": 1}
    assert corpus.speakers_by_label()["anxious"] == ["ann", "bob"]


def test_own_labels_differing_in_normal_form_case_or_underscores_are_one_class(tmp_path):
    from export.audio.datasets import LABELS_AS_GIVEN

    written = ["\u00e9nerv\u00e9", "e\u0301nerve\u0301", "\u00c9NERV\u00c9", "very_anxious", "Very  Anxious",
               "STRASSE", "stra\u00dfe", "Joy_", "joy", "_anger", "Anger", "pleasant  surprise", "Pleasant_Surprise"]
    for n in range(len(written)):
        touch(tmp_path, f"{n}.wav")
    rows = "".join(f"{n}.wav,{'ann' if n % 2 else 'bob'},{label}\n" for n, label in enumerate(written))
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\n" + rows, encoding="utf-8")
    corpus = load_corpus(tmp_path, LABELS_AS_GIVEN)
    # was: 'énervé' composed and decomposed two classes, 'very_anxious' and 'very anxious' two, 'straße' apart;
    # and a word mapped before it was tidied: 'Joy_' an own class 'joy' beside happy, '_anger' one 'anger',
    # 'pleasant  surprise' one 'pleasant surprise' while 'Pleasant_Surprise' was surprised
    assert corpus.labels == ["happy", "angry", "surprised", "strasse", "very anxious", "\u00e9nerv\u00e9"]
    assert corpus.counts() == {"happy": 2, "angry": 2, "surprised": 2, "strasse": 2, "very anxious": 2,
                               "\u00e9nerv\u00e9": 3}


def test_with_own_labels_short_forms_stay_labels_of_their_own_and_whole_words_still_map(tmp_path):
    from export.audio.datasets import LABELS_AS_GIVEN

    written = ["N", "ps", "dis", "hap", "Neutral", "pleasant surprise"]
    for n in range(len(written)):
        touch(tmp_path, f"{n}.wav")
    rows = "".join(f"{n}.wav,ann,{label}\n" for n, label in enumerate(written))
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\n" + rows)
    # the default reads a corpus's codes as their emotions
    assert [c.emotion for c in load_corpus(tmp_path).clips] == ["neutral", "surprised", "disgust", "happy",
                                                                "neutral", "surprised"]
    # was the same with --labels-as-given: a clinic's 'N' made neutral
    assert [c.emotion for c in load_corpus(tmp_path, LABELS_AS_GIVEN).clips] == ["n", "ps", "dis", "hap", "neutral",
                                                                                 "surprised"]
    # and a set read for a model of such labels reads them the same way
    assert [c.emotion for c in load_corpus(tmp_path, {"n", "ps", "dis", "hap"}).clips][:2] == ["n", "ps"]


def test_an_own_label_named_as_an_output_column_is_refused(tmp_path):
    from export.audio.datasets import LABELS_AS_GIVEN

    for name in ("a", "b", "c", "d"):
        touch(tmp_path, f"{name}.wav")
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\na.wav,ann,Path\nb.wav,bob,path\n"
                                           "c.wav,ann,calm\nd.wav,bob,Quality\n")
    # was: a model whose classify CSV had two 'path' columns, and timeline.csv two 'quality' columns
    with pytest.raises(InputError) as refused:
        load_corpus(tmp_path, LABELS_AS_GIVEN)
    # was led in by 'row(s) lack a speaker or a label that maps onto neutral, calm, ...', of rows lacking neither
    assert str(refused.value) == (
        f"{tmp_path / 'manifest.csv'}: 3 of 4 row(s) have a label named as an output column: "
        "line 2: label 'Path' is the name of a column its labels are written beside (timeline.csv's, audio "
        "classify's); line 3: label 'path' is the name of a column its labels are written beside (timeline.csv's, "
        "audio classify's); line 5: label 'Quality' is the name of a column its labels are written beside "
        "(timeline.csv's, audio classify's)")


def test_a_refusals_lead_in_names_each_kind_of_problem_its_rows_have(tmp_path):
    from export.audio.datasets import LABELS_AS_GIVEN

    for name in ("a", "b", "c"):
        touch(tmp_path, f"{name}.wav")
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\na.wav,,calm\nb.wav,bob,path\nc.wav,ann,hapy\n")
    with pytest.raises(InputError) as refused:
        load_corpus(tmp_path, {"high"})
    assert str(refused.value) == (
        f"{tmp_path / 'manifest.csv'}: 3 of 3 row(s) lack a speaker or a label that maps onto "
        f"{', '.join(CANONICAL_LABELS)} or is one of high: line 2: no "
        "speaker; line 3: label 'path' cannot be mapped; line 4: label 'hapy' cannot be mapped")
    with pytest.raises(InputError, match=r": 2 of 3 row\(s\) lack a speaker or have a label named as an output "
                                         r"column: line 2: no speaker; line 3: label 'path' is the name of"):
        load_corpus(tmp_path, LABELS_AS_GIVEN)


def test_with_labels_as_given_a_row_refused_for_its_label_is_said_to_lack_one(tmp_path):
    from export.audio.datasets import LABELS_AS_GIVEN

    for name in ("a", "b", "c", "d"):
        touch(tmp_path, f"{name}.wav")
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\na.wav,ann,low\nb.wav,bob,\nc.wav,,\nd.wav,bob,_\n")
    with pytest.raises(InputError) as refused:
        load_corpus(tmp_path, LABELS_AS_GIVEN)
    # was: '... lack a speaker or a label that maps onto neutral, calm, ...', where any label is taken
    assert str(refused.value) == (f"{tmp_path / 'manifest.csv'}: 3 of 4 row(s) lack a speaker or a label: line 3: no "
                                  "label; line 4: no label, no speaker; line 5: label '_' holds no word")


@pytest.mark.parametrize("label", ["incongruent", "Arousal", "fidgeting"])
def test_an_own_label_named_as_a_measurement_column_is_refused_as_the_runtime_would_refuse_its_model(tmp_path, label):
    from export.audio.datasets import LABELS_AS_GIVEN
    from runtime.checks import column_taken

    touch(tmp_path, "a.wav")
    touch(tmp_path, "b.wav")
    (tmp_path / "manifest.csv").write_text(f"path,speaker,emotion\na.wav,ann,{label}\nb.wav,bob,calm\n")
    assert column_taken(label.lower())  # what analyze and live refuse a model's label for
    # was: trained and exported into a model every runtime command then refused
    with pytest.raises(InputError, match=f"line 2: label '{label}' is the name of a column its labels are written "
                       r"beside \(timeline.csv's, audio classify's\)$"):
        load_corpus(tmp_path, LABELS_AS_GIVEN)


def test_an_own_label_spelt_as_a_column_with_underscores_reads_as_words_and_is_kept(tmp_path):
    from export.audio.datasets import LABELS_AS_GIVEN
    from runtime.checks import column_taken

    for name in ("a", "b", "c", "d"):
        touch(tmp_path, f"{name}.wav")
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\na.wav,ann,start_s\nb.wav,bob,Start_S\n"
                                           "c.wav,ann,pause_s\nd.wav,bob,quality_audio\n")
    corpus = load_corpus(tmp_path, LABELS_AS_GIVEN)
    # '_' is read as a space, so no such label is a column's name: nothing for the runtime to refuse
    assert corpus.labels == ["pause s", "quality audio", "start s"]
    assert not any(column_taken(label) for label in corpus.labels)


def test_a_set_read_for_a_model_of_own_labels_keeps_those_alone_and_names_them_refusing_another(tmp_path):
    touch(tmp_path, "a.wav")
    touch(tmp_path, "b.wav")
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\na.wav,ann,High\nb.wav,bob,hgih\n")
    with pytest.raises(InputError, match=r"or is one of high, low: line 3: label 'hgih' cannot be mapped$"):
        load_corpus(tmp_path, {"high", "low"})
    (tmp_path / "manifest.csv").write_text("path,speaker,emotion\na.wav,ann,High\nb.wav,bob,sad\n")
    assert [c.emotion for c in load_corpus(tmp_path, {"high", "low"}).clips] == ["high", "sad"]


def test_a_missing_set_is_named_as_the_folder_or_manifest_either_of_which_is_read(tmp_path):
    with pytest.raises(InputError) as refused:  # was: "no such folder", though a manifest CSV is read as well
        load_corpus(tmp_path / "absent")
    assert str(refused.value) == f"{tmp_path / 'absent'}: no such folder or manifest"
