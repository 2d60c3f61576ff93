"""Two refusals of a timeline beyond its windows: a timeline.json without its tracks (cut or edited) is not read as a
timeline of none, and the writer refuses settings of a step (an arm, fusion) that did not run yet gives more than
that and why (as the shipped schema does), writing nothing."""

import json

import pytest

from runtime.errors import InputError
from runtime.timeline import Timeline, write_timeline
from runtime.track import Track, TrackFormatError, Window
from tests.runtime.timelines import fixed_software, schema_errors


def _timeline(**fields) -> Timeline:
    audio = Track("audio", windows=[Window(0.0, 2.0, [1 / 8] * 8, 0.9)])
    return Timeline("x.wav", 2.0, [audio], software=fixed_software(), **fields)


def test_a_timeline_json_without_its_tracks_is_refused_not_read_as_none(tmp_path):
    document = json.loads(_timeline().to_json())
    del document["tracks"]
    (tmp_path / "timeline.json").write_text(json.dumps(document))
    with pytest.raises(InputError, match="lacks tracks"):
        Timeline.read(tmp_path / "timeline.json")


def test_a_step_that_did_not_run_yet_gives_its_settings_is_refused_and_nothing_written(tmp_path):
    settings = {"audio": {"enabled": False, "why": "--no-audio", "window_s": 2.0}}
    assert schema_errors(json.loads(json.dumps(_timeline(settings=settings).to_dict())))  # the schema refuses it too
    with pytest.raises(TrackFormatError, match=r"settings 'audio': did not run, yet gives window_s \(only enabled"):
        write_timeline(_timeline(settings=settings), tmp_path / "out")
    assert not (tmp_path / "out").exists()
