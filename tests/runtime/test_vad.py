import math

import numpy as np

from runtime.arms.audio import vad
from runtime.arms.audio.vad import (
    FRAME_SAMPLES,
    RELIABLE_SPEECH_S,
    SHORTEST_SPEECH_S,
    VAD_FRAME_S,
    RunningPercentile,
    VoiceActivityDetector,
    detect_speech,
    frame_levels_db,
    no_speech_reason,
    quiet_note,
    speech_fraction,
    speech_frames,
    speech_probabilities,
)
from runtime.media import read_audio
from tests.memory import peak_traced_bytes


def _clip(ravdess_dir):
    return read_audio(ravdess_dir / "Actor_01" / "03-01-01-01-01-01-01.flac")


def test_vad_finds_the_speech_in_a_clip_and_not_the_silence_around_it(ravdess_dir):
    samples = _clip(ravdess_dir)
    speech = speech_frames(speech_probabilities(samples))
    assert 0.2 < speech.mean() < 0.8  # RAVDESS clips hold about a second of near-silence before the speech
    assert not speech[: int(0.5 / VAD_FRAME_S)].any()
    assert not speech_frames(speech_probabilities(np.zeros(16000 * 3, dtype=np.float32))).any()


def test_streaming_in_odd_blocks_matches_one_batch(ravdess_dir):
    samples = _clip(ravdess_dir)
    batch = speech_probabilities(samples)
    detector = VoiceActivityDetector()
    parts = [detector.process(block) for block in np.array_split(samples, 37)] + [detector.flush()]
    streamed = np.concatenate(parts)
    assert streamed.shape == batch.shape
    np.testing.assert_allclose(streamed, batch, atol=1e-5)


def test_short_gaps_are_closed_and_short_bursts_dropped():
    probs = np.array([0.9] * 20 + [0.1] * 2 + [0.9] * 20 + [0.1] * 30 + [0.9] * 3 + [0.1] * 20)
    speech = speech_frames(probs, min_silence_s=0.1, min_speech_s=0.25)
    assert speech[:42].all()  # a 64 ms gap inside speech is closed
    assert not speech[72:75].any()  # a 96 ms burst is dropped


def test_an_intense_voice_the_vad_model_misses_still_counts_as_speech(ravdess_dir):
    # Actor 06, strong-intensity sad: Silero alone scores it below its threshold throughout
    samples = read_audio(ravdess_dir / "Actor_06" / "03-01-06-02-02-02-06.flac")
    assert not speech_frames(speech_probabilities(samples)).any()
    speech = detect_speech(samples)
    assert speech.mean() > 0.2
    assert not speech[: int(0.5 / VAD_FRAME_S)].any()


def test_loud_rescue_does_not_turn_a_quiet_recording_into_speech():
    rng = np.random.default_rng(0)
    hiss = (rng.normal(0, 0.001, 16000 * 3)).astype(np.float32)
    assert not detect_speech(hiss).any()


def test_frame_levels_in_blocks_are_those_of_the_whole_recording(monkeypatch):
    samples = np.random.default_rng(2).normal(0, 0.1, 16000 * 2 + 100).astype(np.float32)
    monkeypatch.setattr(vad, "_BLOCK_SAMPLES", 3 * FRAME_SAMPLES)
    padded = np.zeros(-(-samples.size // FRAME_SAMPLES) * FRAME_SAMPLES)
    padded[:samples.size] = samples
    expected = 10 * np.log10(np.mean(padded.reshape(-1, FRAME_SAMPLES) ** 2, axis=1) + 1e-12)
    np.testing.assert_array_equal(frame_levels_db(samples), expected)  # the last partial frame zero-padded


def test_detecting_speech_in_a_recording_twice_as_long_does_not_take_twice_the_memory():
    samples = np.random.default_rng(3).normal(0, 0.05, 16000 * 600).astype(np.float32)

    # whole, the detector and the levels copied the recording three times over, once in float64
    half = samples[:samples.size // 2]
    assert peak_traced_bytes(detect_speech, samples) < 1.5 * peak_traced_bytes(detect_speech, half)


def test_the_quiet_note_judges_the_level_as_it_shows_it():
    assert quiet_note(-40.04) is None  # shown as -40.0: not under -40
    assert "loudest -40.1 dBFS" in quiet_note(-40.06)
    assert quiet_note(-math.inf) is None  # digital silence is silence, not a gain to raise
    assert no_speech_reason(quiet_note(-60.0)).startswith("no speech found: very quiet audio (loudest -60.0 dBFS")
    assert no_speech_reason(quiet_note(-20.0)) == "no speech found: the recording is silent or holds no voice"


def test_no_speech_in_a_recording_too_short_to_hold_any_is_said_to_be_too_short_not_silent():
    # was: 'the recording is silent or holds no voice' for a 1-sample file and for a loud 0.3 s of speech
    burst = np.ones(int(round(SHORTEST_SPEECH_S / VAD_FRAME_S)), dtype=np.float32)
    assert speech_frames(burst).all() and not speech_frames(burst[1:]).any()  # the shortest burst kept
    one_sample_s = 1 / 16000
    for level_note in (None, quiet_note(-60.0)):  # too short whatever its level
        assert no_speech_reason(level_note, one_sample_s) == (
            f"too short to hold speech: 0.06 ms of audio, and the voice activity detector finds speech in "
            f"{SHORTEST_SPEECH_S * 1000:.0f} ms or more")
    maybe = no_speech_reason(None, (SHORTEST_SPEECH_S + RELIABLE_SPEECH_S) / 2)
    assert maybe.startswith("no speech found: maybe too short: 0.43 s of audio") and "silent" not in maybe
    assert "very quiet audio" in no_speech_reason(quiet_note(-60.0), (SHORTEST_SPEECH_S + RELIABLE_SPEECH_S) / 2)
    assert no_speech_reason(None, RELIABLE_SPEECH_S) == no_speech_reason(None) == vad.NO_SPEECH_FOUND


def test_a_running_percentile_is_numpys_percentile_of_everything_added_to_the_bit():
    rng = np.random.default_rng(4)
    for trial in range(60):
        values = rng.normal(-50, 12, rng.integers(1, 300))
        if trial % 3 == 0:
            values = np.round(values)  # ties, as quantised levels give
        running = RunningPercentile(10)
        assert math.isnan(running.value())
        added = 0
        while added < values.size:
            batch = values[added:added + rng.integers(1, 25)]
            running.extend(batch)
            added += batch.size
            assert running.value() == np.percentile(values[:added], 10), (trial, added)
        assert running.count == values.size


def test_a_speech_window_ends_at_its_last_frame_not_one_after():
    speech = np.array([True] * 10 + [False] * 10)
    assert speech_fraction(speech, 0.0, 10 * VAD_FRAME_S) == 1.0


def test_speech_holds_through_probabilities_between_release_and_threshold():
    probs = np.array([0.9] * 20 + [0.4] * 20 + [0.1] * 20)  # 0.4: above release (0.35), below threshold (0.5)
    speech = speech_frames(probs)
    assert speech[:40].all() and not speech[40:].any()
    assert not speech_frames(np.array([0.1] * 20 + [0.4] * 20)).any()  # 0.4 never starts speech


def test_quiet_hiss_after_digital_silence_is_not_taken_for_a_loud_voice():
    # the noise floor measured over digital silence is -inf: the loud-voice rescue must measure from a floor
    # no lower than a quiet room's, or every hiss frame counts as a voice far above it
    rng = np.random.default_rng(0)
    hiss = rng.normal(0, 0.003, 16000).astype(np.float32)  # about -50 dBFS
    assert not detect_speech(np.concatenate([np.zeros(32000, np.float32), hiss])).any()
