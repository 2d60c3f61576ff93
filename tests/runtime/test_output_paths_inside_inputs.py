"""An output (a run folder, a file) that lies inside a folder the command reads is refused, whichever input it is
and however it is named (through a link standing in the data folder, a link to nothing)."""

import pytest

from runtime.errors import InputError
from runtime.files import check_output_file, check_output_folder


def test_an_output_folder_inside_the_data_folder_is_refused_after_an_input_that_does_not_exist(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    inputs = {"model folder": tmp_path / "no-such-model", "data folder": data}  # the first is checked elsewhere
    with pytest.raises(InputError, match="lies inside the data folder"):
        check_output_folder(data / "run", inputs)


def test_an_output_folder_named_inside_the_data_folder_through_a_link_to_elsewhere_is_refused(tmp_path):
    data, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    data.mkdir()
    elsewhere.mkdir()
    (data / "runs").symlink_to(elsewhere)  # the run would stand in the corpus, and be read as part of it next time
    with pytest.raises(InputError, match="lies inside the data folder"):
        check_output_folder(data / "runs", {"data folder": data})
    assert list(elsewhere.iterdir()) == []


def test_an_output_file_that_is_a_link_to_nothing_inside_an_input_folder_is_refused_and_kept(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    link = data / "scores.csv"
    link.symlink_to(tmp_path / "gone.csv")
    with pytest.raises(InputError, match="output would overwrite a file in the input folder"):
        check_output_file(link, [data])
    assert link.is_symlink()
