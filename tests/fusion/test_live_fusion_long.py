"""Live fusion over a long session: each grid window reads only the track windows near it, and is fused exactly
as from the whole tracks."""

from __future__ import annotations

import numpy as np
import pytest

from runtime.config import load_settings
from runtime.fusion.live import LiveFusion
from runtime.track import Track, Window
from tests.fusion.tracks import session, whole_tracks_window


class CountingList(list):
    """A track's window list that counts every window read from it (one by one, by iteration or by slice)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.read = 0

    def __iter__(self):
        for window in super().__iter__():
            self.read += 1
            yield window

    def __getitem__(self, key):
        got = super().__getitem__(key)
        self.read += len(got) if isinstance(key, slice) else 1
        return got


@pytest.mark.parametrize("method", ["stacking", "attention", "quality"])
def test_each_window_fused_live_equals_the_window_fused_from_the_whole_tracks_as_they_grow(method):
    full = session(1500.0, seed=1)  # 25 minutes: 2,997 voice windows
    settings = load_settings(None, {"fusion.method": method})["fusion"]
    live = LiveFusion.from_settings(settings)
    grown = [Track(t.name, t.labels, [], t.unsupported_labels, t.model, t.settings) for t in full]
    rng = np.random.default_rng(2)
    ends = sorted({*np.round(rng.uniform(2.0, 1500.0, 60) * 2) / 2, 2.0, 2.5, 305.0, 480.0, 650.0, 1500.0})
    compared = 0
    for end_s in ends:
        for track, whole in zip(grown, full, strict=True):  # the session goes on: windows ended by now arrive
            track.windows.extend(w for w in whole.windows[len(track.windows):] if w.end_s <= end_s)
        for at_s in (end_s, round(end_s - 37.5, 6)):  # the newest grid window, and now and then an older one
            if at_s - live.window_s < 0 or (at_s != end_s and rng.random() < 0.7):
                continue
            got = live.window(grown, at_s - live.window_s, at_s)
            want = whole_tracks_window(live, grown, at_s - live.window_s, at_s)
            assert got == want, at_s  # every field, every measurement, exactly
            compared += 1
    assert compared > 60


def test_a_grid_window_reads_the_track_windows_near_it_not_the_whole_session():
    """With a window every 0.5 s the whole-track fusion read every window of every track once per grid step:
    two hours of voice are 14,400 windows, 0.8 s a step."""
    tracks = session(3000.0, seed=3)
    for track in tracks:
        track.windows = CountingList(track.windows)
    live = LiveFusion.from_settings(load_settings(None, {"fusion.method": "quality"})["fusion"])
    live.window(tracks, 1000.0, 1002.0)  # the first call indexes every track once
    for track in tracks:
        track.windows.read = 0
    for end_s in np.arange(1002.5, 1012.5, 0.5):
        live.window(tracks, end_s - 2.0, end_s)
    read_per_step = sum(t.windows.read for t in tracks) / 20
    assert len(tracks[0].windows) > 5900 and read_per_step < 60


class RacingList(list):
    """A track's window list to which an arm's thread appends a window just after fusion takes its new windows."""

    def __init__(self, windows, pending):
        super().__init__(windows)
        self.pending = pending

    def __getitem__(self, key):
        got = super().__getitem__(key)
        if isinstance(key, slice) and self.pending:
            self.append(self.pending.pop(0))
        return got


def test_a_window_appended_while_fusion_indexes_is_indexed_on_the_next_call():
    full = session(600.0, seed=4)
    live = LiveFusion.from_settings(load_settings(None, {"fusion.method": "quality"})["fusion"])
    voice = full[0]
    cut = next(i for i, w in enumerate(voice.windows) if w.start_s >= 485.0)  # the voice speaks from 480 s
    tracks = [Track(voice.name, voice.labels, [], voice.unsupported_labels, voice.model, voice.settings), *full[1:]]
    tracks[0].windows = RacingList(voice.windows[:cut], list(voice.windows[cut:]))
    for end_s in np.arange(487.0, 520.0, 0.5):
        # what the tracks held as the call began: windows appended during it are for the next call
        before = [Track(t.name, t.labels, list(t.windows), t.unsupported_labels, t.model, t.settings) for t in tracks]
        got = live.window(tracks, end_s - 2.0, end_s)
        assert got == whole_tracks_window(live, before, end_s - 2.0, end_s), end_s
    assert len(tracks[0].windows) > cut + 60  # windows did arrive during the calls


def test_live_fusion_takes_its_grid_and_incongruence_thresholds_from_the_settings_they_name():
    section = load_settings(None, {"fusion.method": "quality", "fusion.window_s": 3.0, "fusion.hop_s": 1.5,
                                   "fusion.incongruence_confidence": 0.6,
                                   "fusion.incongruence_divergence": 0.2})["fusion"]
    live = LiveFusion.from_settings(section)
    assert (live.window_s, live.hop_s) == (3.0, 1.5)
    assert live.incongruence_settings == {"min_confidence": 0.6, "min_divergence": 0.2}


def _moved(windows: list[Window], by_s: float) -> list[Window]:
    return [Window(w.start_s + by_s, w.end_s + by_s, w.probs, w.quality, w.reason, w.measurements) for w in windows]


def _cut(tracks: list[Track]) -> float:
    del tracks[0].windows[40:]  # the voice list cut short, the face's unchanged
    return 8.0


def _replaced(tracks: list[Track]) -> float:
    voice = tracks[0].windows
    voice[:] = _moved(voice, 200.0)  # the same list, as long, every window another (its last among them)
    return 247.0


def _copied_and_grown(tracks: list[Track]) -> float:
    voice = tracks[0]
    voice.windows = [*voice.windows, *_moved(voice.windows, 200.0)]  # a new list: the old windows, then more
    return 247.0


def _out_of_order(tracks: list[Track]) -> float:
    voice = tracks[0].windows
    voice[:] = [*_moved(voice[80:], 200.0), *voice[:80]]  # later windows first: bisection cannot find the rest
    return 8.0


@pytest.mark.parametrize("change", [_cut, _replaced, _copied_and_grown, _out_of_order])
def test_a_track_changed_other_than_by_appending_is_read_as_it_now_stands(change):
    # Live arms only append; a caller that cuts, replaces or reorders a track's windows, or hands a new list, gets
    # the window the tracks now give, not one from the index of what they held before.
    tracks = session(120.0, seed=5)[:2]
    live = LiveFusion.from_settings(load_settings(None, {"fusion.method": "quality"})["fusion"])
    live.window(tracks, 50.0, 52.0)  # indexes every track
    end_s = change(tracks)
    got = live.window(tracks, end_s - 2.0, end_s)
    assert got == whole_tracks_window(live, tracks, end_s - 2.0, end_s)
    assert got.measurements["quality_audio"] > 0  # the voice speaks there


@pytest.mark.parametrize("start_s", [-1.0, float("nan")])
def test_a_window_starting_before_the_session_is_refused(start_s):
    live = LiveFusion.from_settings(load_settings(None, {"fusion.method": "quality"})["fusion"])
    with pytest.raises(ValueError, match="before the session's start"):
        live.window(session(60.0)[:2], start_s, 1.0)
