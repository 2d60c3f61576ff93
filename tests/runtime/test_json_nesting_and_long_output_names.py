"""A card.json nested thousands deep is one line naming the card, and an output name the file system takes is
written, though its staging name beside it would be longer than a name may be."""

import pytest

from runtime.errors import InputError
from runtime.files import MAX_NAME_BYTES, check_output_file, staging_path, write_atomically
from runtime.models import load_card


def test_a_card_of_deeply_nested_json_is_one_line_naming_the_card(tmp_path):
    (tmp_path / "card.json").write_text("[" * 100_000 + "]" * 100_000)  # was an internal RecursionError
    with pytest.raises(InputError, match="not a readable model card") as caught:
        load_card(tmp_path)
    assert caught.value.source == str(tmp_path / "card.json")


@pytest.mark.parametrize("name", ["a" * 246 + ".csv", "é" * 125 + ".csv", "timeline.csv"])
def test_an_output_name_the_check_accepts_is_written(tmp_path, name):
    out = check_output_file(tmp_path / name)  # 250 and 255 bytes: names the file system takes
    assert len(staging_path(out).name.encode()) <= MAX_NAME_BYTES
    write_atomically(out, b"x")  # was, past 236 bytes: "cannot write it: File name too long", after the work
    assert out.read_bytes() == b"x"
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no staging file left beside it
