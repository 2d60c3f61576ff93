"""The live voice stream over a long session: what it keeps of everything heard grows without copying it all."""

from __future__ import annotations

import numpy as np

from runtime.arms.audio.arm import AudioSettings
from runtime.arms.audio.stream import AudioStream


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
    each window it cost 4-9 ms a window after two to three hours. Each window now adds only its new frames."""
    stream = AudioStream(SilentModel(), AudioSettings())
    added = []
    extend = stream._noise_floor.extend
    stream._noise_floor.extend = lambda values: (added.append(len(values)), extend(values))
    rng = np.random.default_rng(0)
    windows = 0
    for _ in range(300):  # 30 s in 0.1 s chunks
        windows += len(stream.push(rng.normal(0, 0.01, 1600).astype(np.float32)))
    assert windows == len(added) > 50
    assert sum(added) == stream._noise_floor.count == stream._probs[:].size  # 30 s: the last window ends last
    assert max(added[1:]) <= 17  # a 0.5 s hop's 32 ms frames (the first window brings its whole 2 s)
