"""Files named on a command line: what a command may write."""

from __future__ import annotations

import pytest

from runtime.errors import InputError
from runtime.files import check_output_file


def test_an_output_file_in_an_existing_folder_is_accepted(tmp_path):
    assert check_output_file(tmp_path / "out.csv", [tmp_path / "in.csv"]) == tmp_path / "out.csv"


@pytest.mark.parametrize(
    ("name", "problem"),
    [(".", "is a folder"), ("missing/out.csv", "output folder does not exist"), ("in.csv", "overwrite the input")],
)
def test_an_output_that_cannot_or_must_not_be_written_is_refused_before_any_work(tmp_path, name, problem):
    (tmp_path / "in.csv").write_text("x\n")
    with pytest.raises(InputError, match=problem):
        check_output_file(tmp_path / name, [tmp_path / "in.csv"])


def test_an_output_that_is_the_input_under_another_name_is_refused(tmp_path):
    (tmp_path / "in.csv").write_text("x\n")
    (tmp_path / "link.csv").symlink_to(tmp_path / "in.csv")
    with pytest.raises(InputError, match="overwrite the input"):
        check_output_file(tmp_path / "link.csv", [tmp_path / "in.csv"])
