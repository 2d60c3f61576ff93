"""The pipeline's fit of a recording given beside the input (physio) to where the input's own tracks end, and
where the analysed recording ends: the steps between the arms and the timeline."""

from __future__ import annotations

import pytest

from runtime import pipeline
from runtime.checks import NO_END_TO_FIT
from runtime.errors import InputError
from runtime.media import MediaInfo
from runtime.track import Track, Window


def _track(name: str, spans: list[tuple[float, float]], **settings) -> Track:
    return Track(name=name, labels=["neutral"], windows=[Window(a, b, [1.0], 1.0) for a, b in spans],
                 settings=settings)


def _media(end_s: float) -> MediaInfo:  # end_s 0.0: its header gives no length (an MP3, a live WebM)
    return MediaInfo(path="session.mp4", container="mov,mp4,m4a,3gp,3g2,mj2", end_s=end_s, has_audio=True,
                     has_video=True, audio_streams=1)


def test_a_physio_track_is_cut_to_where_the_inputs_own_tracks_end():
    by_section = {"audio": [_track("audio", [(0.0, 2.0), (2.0, 4.0)])],
                  "physio": [_track("physio", [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0), (6.0, 8.0)])]}
    pipeline.fit_to_input(by_section, _media(0.0))
    assert [(w.start_s, w.end_s) for w in by_section["physio"][0].windows] == [(0.0, 2.0), (2.0, 4.0)]
    assert [(w.start_s, w.end_s) for w in by_section["audio"][0].windows] == [(0.0, 2.0), (2.0, 4.0)]  # untouched


def test_an_analysis_fits_the_physio_track_to_the_input_before_writing(tmp_path, monkeypatch):
    import numpy as np

    from runtime.config import load_settings
    from runtime.media import wav_bytes

    wav = tmp_path / "session.wav"
    wav.write_bytes(wav_bytes(np.zeros(4 * 16000, dtype=np.float32), 16000))  # 4 s
    physio = _track("physio", [(0.0, 4.0), (4.0, 8.0), (8.0, 12.0)])
    monkeypatch.setattr(pipeline, "ARMS", [("audio", lambda _r: _track("audio", [(0.0, 2.0), (2.0, 4.0)])),
                                           ("physio", lambda _r: physio)])
    timeline = pipeline.analyze_file(wav, tmp_path / "out", load_settings(None, {"physio.enabled": True}), fuse=False)
    assert [(w.start_s, w.end_s) for w in timeline.tracks[1].windows] == [(0.0, 4.0)]
    assert timeline.duration_s == 4.0  # not the wearable's 12 s


def test_a_physio_track_alone_is_kept_where_the_inputs_header_gives_its_end():
    physio = _track("physio", [(0.0, 2.0)])
    by_section = {"physio": [physio]}
    pipeline.fit_to_input(by_section, _media(2.0))  # no refusal: the header placed it
    assert by_section["physio"] == [physio]


def test_a_physio_track_alone_against_an_input_of_no_known_end_is_refused():
    with pytest.raises(InputError) as refused:
        pipeline.fit_to_input({"physio": [_track("physio", [(0.0, 2.0)])]}, _media(0.0))
    assert refused.value.problem == NO_END_TO_FIT


def test_the_recording_ends_at_its_last_window_or_its_header_past_them():
    tracks = [_track("audio", [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0)])]
    assert pipeline.recording_end_s(_media(0.0), tracks) == 6.0  # the last window, not the first
    assert pipeline.recording_end_s(_media(7.5), tracks) == 7.5  # read to its end: the header's length


def test_a_stream_that_stopped_early_ends_the_recording_where_it_was_read_to():
    stopped = [_track("audio", [(0.0, 2.0), (2.0, 4.0)], status="stopped at 4.0 s: the user's stop")]
    assert pipeline.recording_end_s(_media(60.0), stopped) == 4.0  # not the header's 60 s past it
