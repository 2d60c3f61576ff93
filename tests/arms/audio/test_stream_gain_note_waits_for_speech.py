"""The live voice's gain note (speech far louder or quieter than the model was trained on) is said once a window's
worth of speech (2 s) has settled the speech's level, not from the first few frames of it."""

import numpy as np

from runtime.arms.audio.arm import AudioSettings
from runtime.arms.audio.model import load_audio_model
from runtime.arms.audio.stream import AudioStream
from runtime.media import read_audio


def test_the_live_gain_note_waits_for_a_windows_worth_of_speech(ravdess_dir):
    clips = sorted((ravdess_dir / "Actor_01").glob("03-01-05-*.flac"))[:3]  # angry: speech from early on
    loud = 10.0 * np.concatenate([read_audio(clip) for clip in clips])  # 20 dB up: far above the trained range
    stream = AudioStream(load_audio_model(), AudioSettings())
    said_at_speech_s = []
    for first in range(0, loud.size - 1600, 1600):
        for _ in stream.push(loud[first:first + 1600]):
            if stream.gain_said and not said_at_speech_s:
                said_at_speech_s.append(stream.speech_s)
    assert said_at_speech_s, "the note was never said"  # loud speech is flagged
    assert "far louder" in stream.gain_said
    assert said_at_speech_s[0] >= 2.0
