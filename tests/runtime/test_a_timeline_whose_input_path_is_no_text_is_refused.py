"""A timeline.json whose input path was edited into something that is no text (a number, a list) is refused on
reading, naming the file and the field, and refused before writing: every reader of the timeline takes the path as
text."""

import json

import pytest

from runtime.errors import InputError
from runtime.timeline import Timeline
from runtime.track import TrackFormatError
from tests.runtime.timelines import fixed_software


@pytest.mark.parametrize("path", [5, ["a.wav"]])
def test_an_input_path_that_is_no_text_is_refused_on_reading(tmp_path, path):
    document = json.loads(Timeline("a.wav", 2.0, software=fixed_software()).to_json())
    document["input"]["path"] = path
    (tmp_path / "timeline.json").write_text(json.dumps(document))
    with pytest.raises(InputError, match="input path is .*, not text"):
        Timeline.read(tmp_path / "timeline.json")


def test_an_input_path_that_is_no_text_is_refused_before_writing():
    with pytest.raises(TrackFormatError, match="input path is 5, not text"):
        Timeline(5, 2.0, software=fixed_software()).to_json()
