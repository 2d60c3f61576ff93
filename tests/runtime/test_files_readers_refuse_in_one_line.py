"""The shared readers of runtime.files refuse what they
cannot read in one line naming the file."""
import json

import pytest

from runtime.errors import InputError
from runtime.files import find_files, read_csv_rows, read_json_object


def test_folders_holding_no_file_of_the_kind_asked_for_are_one_line_naming_them(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "notes.txt").write_text("not audio")
    with pytest.raises(InputError) as refused:  # not an empty batch that writes nothing and says nothing
        find_files([tmp_path / "a", tmp_path / "b"], {".wav"}, "audio files")
    assert str(refused.value) == f"{tmp_path / 'a'}, {tmp_path / 'b'}: no audio files found"


def test_a_csv_row_with_more_fields_than_its_header_is_refused_naming_its_line(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("start_s,label\n0,calm\n5,calm,extra\n")
    with pytest.raises(InputError) as refused:  # not read with the extra field dropped under a None key
        read_csv_rows(path)
    assert str(refused.value).startswith(f"{path}: line 3: more fields than the header's 2 (a comma inside")


def test_a_json_object_lacking_a_required_key_names_the_keys_it_lacks(tmp_path):
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"id": "x"}))
    with pytest.raises(InputError) as refused:
        read_json_object(path, ("id", "version", "task"), "training report")
    assert str(refused.value) == f"{path}: not a training report (no version, task)"


@pytest.mark.parametrize(("text", "kind"), [("[1, 2]", "list"), ('"id"', "str"), ("7", "int")])
def test_json_that_is_no_object_is_said_as_what_it_holds(tmp_path, text, kind):
    path = tmp_path / "report.json"
    path.write_text(text)
    with pytest.raises(InputError) as refused:
        read_json_object(path, ("id",), "training report")
    assert str(refused.value) == f"{path}: holds a JSON {kind}, not a training report"
