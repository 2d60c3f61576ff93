"""What the streaming voice track records of its input: audio lost for 0.1 s or more is a gap (a shorter hole is a
packet's jitter), a replayed file's missing stretches are listed with the gaps, each window's latency runs from its
end (when its last sample arrived) to when it was judged, and a session the clinician ends says so."""

from types import SimpleNamespace

import numpy as np
import pytest

from runtime.arms.audio.arm import AudioSettings
from runtime.arms.audio.model import load_audio_model
from runtime.arms.audio.stream import VoiceSoFar, stream_track
from runtime.clock import SessionClock
from runtime.stopping import STOPPED_BY_USER
from tests.arms.audio.voices import chunks_of

RATE = 16000


def _noise(seconds: float, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 0.05, int(RATE * seconds)).astype(np.float32)


@pytest.fixture(scope="module")
def model():
    return load_audio_model()


def test_three_tenths_of_a_second_lost_is_a_gap_in_the_voice_track(model):
    track = stream_track(chunks_of(_noise(4.0), skip=range(20, 23)), VoiceSoFar(model, AudioSettings(), "live"),
                         SessionClock())
    assert track.settings["gaps"] == [[2.0, 2.3]]
    assert track.windows[-1].end_s == pytest.approx(4.0)


def test_a_replayed_files_missing_stretches_are_listed_with_the_gaps(model):
    voice = VoiceSoFar(model, AudioSettings(), "paced", [(1.0, 1.4)])
    track = stream_track(chunks_of(_noise(4.0, seed=1), skip=range(25, 28)), voice, SessionClock())
    assert track.settings["gaps"] == [[1.0, 1.4], [2.5, 2.8]]


def test_a_windows_latency_runs_from_its_end_to_when_it_was_judged(model):
    voice = VoiceSoFar(model, AudioSettings(), "live")
    clock = SimpleNamespace(now_s=lambda: voice.stream.received_s)  # judged the moment its last chunk arrived
    track = stream_track(chunks_of(_noise(4.0, seed=2)), voice, clock)
    assert 0.0 <= track.settings["latency_s_max"] < 0.11  # within one 0.1 s chunk of its end, not 2 s from its start


def test_a_session_the_clinician_ends_says_it_was_stopped_by_them_and_keeps_its_windows(model):
    def until_stopped():
        yield from chunks_of(_noise(3.0, seed=3))
        raise KeyboardInterrupt

    track = stream_track(until_stopped(), VoiceSoFar(model, AudioSettings(), "live"), SessionClock())
    assert track.settings["status"] == STOPPED_BY_USER
    assert track.windows and track.windows[-1].end_s <= 3.0


def test_a_recording_of_whole_hops_gives_each_window_of_file_modes_grid_once(model):
    from runtime.track import window_grid

    track = stream_track(chunks_of(_noise(4.0, seed=4)), VoiceSoFar(model, AudioSettings(), "live"), SessionClock())
    # was at risk: the last window (2-4 s), judged as its last sample came, judged again as the stream finished
    assert [(w.start_s, w.end_s) for w in track.windows] == window_grid(4.0, 2.0, 0.5)
