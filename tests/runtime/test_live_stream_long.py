"""The live voice stream over a long session: what it keeps of everything heard grows without copying it all."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from runtime.arms.audio.arm import AudioSettings
from runtime.arms.audio.stream import AudioStream
from runtime.arms.audio.vad import speech_frames, with_loud_frames
from runtime.track import CANONICAL_LABELS


class SilentModel:
    """No window of quiet noise holds speech: the emotion model is never asked."""

    labels = ["neutral"]


def test_a_push_copies_only_what_it_adds_to_the_frames_heard_so_far():
    """The VAD's probability and level per 32 ms frame are kept for the whole session (the loud-voice rescue's
    noise floor is over all of them). Joined anew at each push, all of them were copied every 0.1 s: 1.4 ms a
    push after two hours, growing with the session; kept in storage that doubles, a few copies in all."""
    stream = AudioStream(SilentModel(), AudioSettings())
    rng = np.random.default_rng(0)
    held = []  # every array the frames were read from, kept alive so that no storage is reused unseen
    for _ in range(600):  # a minute in 0.1 s chunks: 1,875 frames
        stream.push(rng.normal(0, 0.01, 1600).astype(np.float32))
        held += [stream._probs[:], stream._levels_db[:]]
    storages = {a.__array_interface__["data"][0] for a in held}
    assert held[-2].size == 1875 and len(storages) <= 8


def test_the_noise_floor_takes_in_each_frame_once_not_everything_heard_at_every_window():
    """The loud-voice rescue's noise floor is a percentile over every frame heard; recomputed from all of them at
    each window it cost 3.3 / 5.5 ms a window after two / three hours. Each window now adds only its new frames."""
    stream = AudioStream(SilentModel(), AudioSettings())
    added = []
    extend = stream._noise_floor.extend
    stream._noise_floor.extend = lambda values: (added.append(len(values)), extend(values))
    rng = np.random.default_rng(0)
    windows = 0
    for _ in range(300):  # 30 s in 0.1 s chunks
        windows += len(stream.push(rng.normal(0, 0.01, 1600).astype(np.float32)))
    assert windows == len(added) > 50
    assert max(added[1:]) <= 17  # a 0.5 s hop's 32 ms frames (the first window brings its whole 2 s)


class UniformModel:
    """Every window it is asked about gets the same probabilities: only the speech decision is under test."""

    labels = list(CANONICAL_LABELS)
    card = SimpleNamespace(extra={})  # a card that records no training speech level

    def predict(self, features: np.ndarray, variant: str) -> np.ndarray:
        return np.full((len(features), len(self.labels)), 1 / len(self.labels))


def test_the_running_noise_floor_decides_speech_as_the_floor_over_everything_heard_did():
    """Each window's speech decision equals the one made with the percentile recomputed over every frame heard
    before its end (the previous implementation), through loud bursts the rescue must find and odd chunk sizes."""
    stream = AudioStream(UniformModel(), AudioSettings())
    speech = stream._speech
    compared = []

    def checked(first_frame: int, end_frame: int) -> np.ndarray:
        got = speech(first_frame, end_frame)
        everything = with_loud_frames(stream._probs[:end_frame], stream._levels_db[:end_frame])
        compared.append((got, speech_frames(everything[first_frame:end_frame])))
        return got

    stream._speech = checked
    rng = np.random.default_rng(1)
    t_s = np.arange(40 * 16000) / 16000
    # a quiet room (-70 dBFS) for 8 s, then a fan (-50 dBFS): the floor over everything heard stays near -70 dBFS
    # for the whole 40 s, so tones at -25 dBFS, which Silero does not call speech, are loud only by that floor
    audio = rng.normal(0, np.where(t_s < 8, 10 ** (-70 / 20), 10 ** (-50 / 20)))
    for start_s in (5, 13, 14.5, 27, 33):
        burst = (t_s >= start_s) & (t_s < start_s + 1.2)
        audio[burst] += 10 ** (-25 / 20) * np.sqrt(2) * np.sin(2 * np.pi * 330 * t_s[burst])
    first = 0
    while first < audio.size:
        size = int(rng.integers(100, 6000))
        stream.push(audio[first:first + size].astype(np.float32))
        first += size
    stream.finish()
    assert len(compared) > 70
    assert all(np.array_equal(got, expected) for got, expected in compared)
    assert sum(bool(got.any()) for got, _ in compared) >= 10  # the rescue found the bursts
