"""The live session baseline: the newest window z-scored as ``zscore_by_group`` would, at a constant cost."""

from collections import deque
from types import SimpleNamespace

import numpy as np
import pytest

import runtime.arms.audio.stream as stream_module
from runtime.arms.audio.arm import AudioSettings
from runtime.arms.audio.features import FEATURE_SET, RunningBaseline, zscore_by_group
from runtime.arms.audio.model import load_audio_model
from runtime.arms.audio.stream import AudioStream, VoiceSoFar, stream_track
from runtime.clock import SessionClock
from runtime.sources.audio import AudioChunk
from tests.arms.audio.voices import chunks_of

CAP_WINDOWS = 40  # a small history cap, so that thousands of rows drop out of it


class RecordingModel:
    """Stands in for the emotion model: remembers the rows each variant was asked to judge."""

    labels = ["neutral", "happy"]
    card = SimpleNamespace(extra={})  # a card that records no training speech level

    def __init__(self):
        self.rows: list[tuple[str, np.ndarray]] = []

    def predict(self, rows: np.ndarray, variant: str) -> np.ndarray:
        self.rows.append((variant, np.array(rows[0])))
        return np.full((len(rows), 2), 0.5, dtype=np.float32)


def synthetic_features(n_windows: int, seed: int = 0) -> np.ndarray:
    """Window features as float32 (as the stream gets them), with large offsets and small spreads."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_windows)
    columns = [
        1e4 + 0.1 * rng.normal(size=n_windows),  # a large offset with a small spread
        1e3 + 0.01 * rng.normal(size=n_windows),
        1e4 + 0.01 * rng.normal(size=n_windows),  # spread near float32's resolution there
        1e5 + 0.05 * rng.normal(size=n_windows),
        5.0 + rng.normal(size=n_windows),
        np.full(n_windows, 1e4),  # constant: the std floor decides
        1e4 + 0.002 * t + 0.05 * rng.normal(size=n_windows),  # drifts far beyond its spread
        np.where(t % 500 < 250, 2e3, -2e3) + rng.normal(size=n_windows),  # jumps between two levels
    ]
    return np.column_stack(columns).astype(np.float32)


def session_stream(monkeypatch) -> tuple[AudioStream, RecordingModel]:
    settings = AudioSettings(min_baseline_speech_s=0.0)
    monkeypatch.setattr(stream_module, "MAX_BASELINE_S", CAP_WINDOWS * settings.hop_s)
    model = RecordingModel()
    return AudioStream(model, settings), model


def test_running_baseline_matches_zscore_by_group_over_the_kept_history(monkeypatch):
    features = synthetic_features(6000)
    stream, model = session_stream(monkeypatch)
    for row in features:
        stream._classify(row)
    variants = [variant for variant, _ in model.rows]
    assert variants[0] == "none" and set(variants[1:]) == {"session"}  # two windows before a baseline
    for i in range(1, len(features)):
        history = features[max(0, i + 1 - CAP_WINDOWS):i + 1]
        expected = zscore_by_group(history, np.zeros(len(history), dtype=int))[-1]
        np.testing.assert_allclose(model.rows[i][1], expected, rtol=1e-5, atol=1e-5, err_msg=f"window {i}")


class NoStacking:
    """numpy as the stream module sees it, less the functions that would stack the history into one array."""

    def __getattr__(self, name):
        if name in {"vstack", "stack", "concatenate", "row_stack", "hstack"}:
            raise AssertionError(f"np.{name} in a window's baseline: the history was stacked")
        return getattr(np, name)


def test_the_session_baseline_keeps_two_hours_of_speech_whatever_the_hop():
    hop_s = 1.0  # windows every second: two hours are 7200 of them, not the 14400 of the default 0.5 s hop
    two_hours = int(7200 / hop_s)
    features = synthetic_features(two_hours + 200, seed=3)  # a drifting column tells the two histories apart
    model = RecordingModel()
    stream = AudioStream(model, AudioSettings(hop_s=hop_s, min_baseline_speech_s=0.0))
    for row in features:
        stream._classify(row)
    history = features[-two_hours:]
    np.testing.assert_allclose(model.rows[-1][1], zscore_by_group(history, np.zeros(two_hours, dtype=int))[-1],
                               rtol=1e-5, atol=1e-5)


def test_a_window_never_stacks_the_baseline_history(monkeypatch):
    features = synthetic_features(3 * CAP_WINDOWS, seed=1)
    stream, model = session_stream(monkeypatch)
    monkeypatch.setattr(stream_module, "np", NoStacking())
    for row in features:
        stream._classify(row)
    monkeypatch.undo()
    history = features[-CAP_WINDOWS:]
    np.testing.assert_allclose(model.rows[-1][1], zscore_by_group(history, np.zeros(CAP_WINDOWS, dtype=int))[-1],
                               rtol=1e-5, atol=1e-5)


class NoBulkReads(deque):
    """The stored rows, refusing to be read as a whole: appending and dropping the oldest are all a row may do."""

    def __iter__(self):
        raise AssertionError("the whole baseline history was read for one row")

    def __getitem__(self, index):
        raise AssertionError("the baseline history was indexed for one row")


def test_the_running_baseline_reads_only_the_new_row_and_the_one_dropping_out():
    features = synthetic_features(3 * CAP_WINDOWS, seed=2).astype(np.float64)
    baseline = RunningBaseline(max_rows=CAP_WINDOWS)
    baseline._rows = NoBulkReads()
    for row in features:
        z = baseline.push(row)  # would raise had the kept rows been scanned
    assert len(baseline) == CAP_WINDOWS
    history = features[-CAP_WINDOWS:]
    np.testing.assert_allclose(z, zscore_by_group(history, np.zeros(CAP_WINDOWS, dtype=int))[-1], rtol=1e-5, atol=1e-5)


def test_a_baseline_of_one_window_is_floored_not_divided_by_zero():
    baseline = RunningBaseline(max_rows=1)
    for value in (3.0, 7.0):
        z = baseline.push(np.array([value], dtype=np.float32))
        assert np.all(np.isfinite(z)) and z[0] == pytest.approx(0.0)
    with pytest.raises(ValueError):
        RunningBaseline(max_rows=0)


def test_a_non_finite_row_is_refused_and_leaves_the_baseline_as_it_was():
    baseline = RunningBaseline(max_rows=4)
    for value in (1.0, 2.0, 3.0):
        baseline.push(np.array([value]))
    with pytest.raises(ValueError, match="finite"):
        baseline.push(np.array([np.nan]))
    assert len(baseline) == 3
    np.testing.assert_allclose(baseline.push(np.array([4.0])), zscore_by_group(np.arange(1.0, 5.0)[:, None],
                                                                                np.zeros(4, dtype=int))[-1:].ravel())


@pytest.mark.parametrize("windows", [{}, {"window_s": 2.0, "hop_s": 3.5}])  # a hop over the window: a coarse view
def test_the_live_baseline_waits_for_as_much_speech_as_file_mode_counts(ravdess_dir, windows):
    """Windows overlap (2 s every 0.5 s): counting each window's speech counted every second about four times, so
    a live session took its speaker baseline after about 5 s of speech instead of the 20 s it says. A hop longer
    than the window had left the frames between windows uncounted, and its level frames behind the VAD's (its
    buffer cut past samples not yet scored): no speech heard after the first window."""
    from runtime.arms.audio.arm import without_dc
    from runtime.arms.audio.vad import VAD_FRAME_S, detect_speech, speech_fraction
    from runtime.media import read_audio
    from runtime.track import window_grid

    clips = sorted((ravdess_dir / "Actor_01").glob("03-01-0[1-4]-01-0*-01-01.flac"))[:8]
    samples = without_dc(np.concatenate([read_audio(path) for path in clips]))
    speech = detect_speech(samples)
    file_mode_speech_s = float(speech.sum() * VAD_FRAME_S)
    assert 5.0 < file_mode_speech_s < 20.0  # too little for a baseline, by the arm's 20 s rule
    settings = AudioSettings(**windows)
    file_mode_judged = sum(speech_fraction(speech, a, b) >= settings.min_speech_fraction
                           for a, b in window_grid(samples.size / 16000, settings.window_s, settings.hop_s))
    for chunk_samples in (1600, samples.size):  # 0.1 s chunks, as a microphone delivers them; the file at once
        model = RecordingModel()
        stream = AudioStream(model, settings)
        for first in range(0, samples.size, chunk_samples):
            stream.push(samples[first:first + chunk_samples])
        stream.finish()
        # each frame counted once, when its decision has settled; the running DC offset moves a few frames
        assert stream.speech_s == pytest.approx(file_mode_speech_s, abs=0.2 if chunk_samples == 1600 else 0.04)
        assert {variant for variant, _ in model.rows} == {"none"}  # never judged against a baseline it lacks
        assert abs(len(model.rows) - file_mode_judged) <= 1  # the windows with speech enough to judge


def test_audio_a_microphone_lost_is_a_gap_on_the_session_clock_not_closed_up():
    rate = 16000
    noise = np.random.default_rng(0).normal(0, 0.05, rate * 9).astype(np.float32)
    before = [AudioChunk(t / 10, noise[t * 1600:(t + 1) * 1600], rate) for t in range(30)]  # 0-3 s
    after = [AudioChunk(t / 10, noise[t * 1600:(t + 1) * 1600], rate) for t in range(60, 90)]  # 6-9 s: 3 s lost
    track = stream_track(before + after, VoiceSoFar(load_audio_model(), AudioSettings(), "live"), SessionClock())
    assert track.settings["gaps"] == [[3.0, 6.0]]
    assert track.windows[-1].end_s == pytest.approx(9.0)  # was 6.0: what followed the loss moved 3 s early
    lost = [w for w in track.windows if w.reason.startswith("no audio")]
    assert [(w.start_s, w.end_s) for w in lost] == [(2.0, 4.0), (2.5, 4.5), (3.0, 5.0), (3.5, 5.5), (4.0, 6.0),
                                                    (4.5, 6.5), (5.0, 7.0)]  # half or more of each was lost
    assert all(w.quality == 0 and w.probs is None for w in lost)
    assert lost[2].reason == "no audio for 2.0 s of the window (the microphone lost it)"


def test_audio_before_a_microphone_that_started_late_is_not_said_to_be_lost():
    rate = 16000
    noise = np.random.default_rng(1).normal(0, 0.05, rate * 4).astype(np.float32)
    chunks = [AudioChunk(1.5 + t / 10, noise[t * 1600:(t + 1) * 1600], rate) for t in range(40)]  # opened at 1.5 s
    track = stream_track(chunks, VoiceSoFar(load_audio_model(), AudioSettings(), "live"), SessionClock())
    assert track.settings["gaps"] == [[0.0, 1.5]]
    assert track.windows[0].reason == "no audio for 1.5 s of the window (before the microphone started)"


def test_a_window_half_lost_between_a_gap_and_a_files_missing_audio_makes_no_claim():
    rate = 16000
    noise = np.random.default_rng(3).normal(0, 0.05, rate * 6).astype(np.float32)
    chunks = [AudioChunk(t / 10, noise[t * 1600:(t + 1) * 1600], rate) for t in range(60) if not 24 <= t < 30]
    missing_s = [(3.0, 3.6)]  # and a gap of 2.4-3.0 s between the chunks: 1.2 s of the 2-4 s window in all
    track = stream_track(chunks, VoiceSoFar(load_audio_model(), AudioSettings(), "paced", missing_s), SessionClock())
    window = next(w for w in track.windows if w.start_s == 2.0)
    assert window.probs is None  # was judged: 0.6 s lost each way, under half the window either way
    assert window.reason == "no audio for 1.2 s of the window (the audio stream lost it)"


def test_a_replayed_files_audio_is_named_as_its_stream_before_its_reader_has_found_any_missing():
    rate = 16000
    noise = np.random.default_rng(4).normal(0, 0.05, rate * 6).astype(np.float32)
    chunks = [AudioChunk(t / 10, noise[t * 1600:(t + 1) * 1600], rate) for t in range(60) if not 20 <= t < 40]
    replay = VoiceSoFar(load_audio_model(), AudioSettings(), "paced", [])  # its reader has told nothing missing (yet)
    track = stream_track(chunks, replay, SessionClock())
    window = next(w for w in track.windows if w.start_s == 2.0)
    assert window.reason == "no audio for 2.0 s of the window (the audio stream lost it)"  # was: the microphone


def test_a_defect_judging_the_last_window_keeps_the_windows_judged_before_it(monkeypatch):
    rate = 16000
    noise = np.random.default_rng(2).normal(0, 0.05, rate * 4).astype(np.float32)
    chunks = [AudioChunk(t / 10, noise[t * 1600:(t + 1) * 1600], rate) for t in range(40)]

    def failing_finish(self):
        raise ValueError("a defect in the last window")

    monkeypatch.setattr(AudioStream, "finish", failing_finish)
    track = stream_track(chunks, VoiceSoFar(load_audio_model(), AudioSettings(), "live"), SessionClock())
    # was: the error ended the session, every window of the voice (and the other tracks) lost
    assert track.windows and track.windows[-1].end_s <= 4.0
    assert track.settings["status"].endswith("the last window could not be judged (ValueError: a defect in the "
                                             "last window)")


def test_a_checkpoint_builds_what_the_final_track_would_of_the_windows_so_far():
    # an input's notes (which audio stream) and its status once ended were the final track's alone: a checkpoint
    # after a microphone was gone still said the voice was recording
    from runtime.errors import InputError

    rate = 16000
    noise = np.random.default_rng(5).normal(0, 0.05, rate * 4).astype(np.float32)
    voice = VoiceSoFar(load_audio_model(), AudioSettings(), "live", [], 16000, {"audio_stream": "2 of 2"})
    so_far = []

    def chunks():
        for t in range(40):
            if t == 30:
                so_far.append(voice.track())  # a checkpoint under way
            yield AudioChunk(t / 10, noise[t * 1600:(t + 1) * 1600], rate)
        raise InputError("hw:1", "device gone")

    final = stream_track(chunks(), voice, SessionClock())
    after = voice.track()  # a checkpoint after the input ended, the camera running on
    assert so_far[0].settings["audio_stream"] == "2 of 2" and so_far[0].settings["status"] == "recording"
    assert final.settings["status"] == "stopped early: hw:1: device gone"
    assert after.settings == final.settings and after.windows == final.windows


def test_a_files_missing_stretch_is_kept_with_the_lock_a_track_is_built_under():
    import threading

    voice = VoiceSoFar(load_audio_model(), AudioSettings(), "paced", [])
    with voice.lock:  # a checkpoint building its track
        teller = threading.Thread(target=voice.file_missing, args=((1.0, 2.0),))
        teller.start()
        teller.join(timeout=0.2)
        assert voice.file_missing_s == []  # the reader waits for the track to be built
    teller.join()
    assert voice.file_missing_s == [(1.0, 2.0)] and voice.track().settings["gaps"] == [[1.0, 2.0]]


class JudgingModel:
    """Stands in for the emotion model: judges each row by its first feature, and remembers each batch it judged."""

    labels = ["neutral", "happy"]
    card = SimpleNamespace(extra={})  # a card that records no training speech level
    feature_set = FEATURE_SET

    def __init__(self):
        self.batches: list[tuple[str, np.ndarray]] = []

    def predict(self, rows: np.ndarray, variant: str) -> np.ndarray:
        self.batches.append((variant, np.array(rows)))
        happy = 1.0 / (1.0 + np.exp(-np.asarray(rows[:, 0], dtype=np.float64) / 10.0))
        return np.column_stack([1.0 - happy, happy])

    def identity(self, variant: str) -> dict[str, str]:
        return {"id": "judging", "variant": variant}


def test_the_track_judges_every_window_again_against_the_baseline_of_them_all_the_lines_as_each_ended(ravdess_dir):
    # a live track's windows were kept as judged when each ended: the first by the population variant, later ones
    # against the speech until then, so the stored session said other than file mode of the same windows
    from runtime.arms.audio.arm import without_dc
    from runtime.media import read_audio

    clips = sorted((ravdess_dir / "Actor_01").glob("03-01-0[1-4]-01-0*-01-01.flac"))[:8]
    samples = without_dc(np.concatenate([read_audio(path) for path in clips]))
    model = JudgingModel()
    said: list = []
    track = stream_track(chunks_of(samples), VoiceSoFar(model, AudioSettings(min_baseline_speech_s=5.0), "live"),
                         SessionClock(), on_window=said.append)
    *live, (variant, rows) = model.batches
    assert {v for v, _ in live} == {"none", "session"} and all(len(batch) == 1 for _, batch in live)
    judged = [w for w in track.windows if w.probs is not None]
    assert variant == "session" and len(rows) == len(judged) > 10  # every judged window at once, by one variant
    spread = rows.std(axis=0) > 0.5
    np.testing.assert_allclose(rows.mean(axis=0), 0.0, atol=1e-4)  # against the mean of them all...
    np.testing.assert_allclose(rows.std(axis=0)[spread], 1.0, atol=1e-3)  # ...and their spread
    np.testing.assert_allclose([w.probs[1] for w in judged], model.predict(rows, variant)[:, 1])
    assert track.model == {"id": "judging", "variant": "session"}  # was 'session' beside windows judged 'none'
    assert track.settings["variants_used"] == ["session"]
    assert track.settings["live_variants_used"] == ["none", "session"]
    assert "every window judged against it as the track was made" in track.settings["speaker_baseline_note"]
    # the lines said as the session went are the windows as each was judged as it ended, not the track's
    live_probs = [model.predict(batch, v)[0] for v, batch in live]
    np.testing.assert_allclose([w.probs for w in said if w.probs is not None], live_probs)
    assert any(not np.allclose(a.probs, b.probs) for a, b in zip([w for w in said if w.probs], judged, strict=True))


def test_a_track_before_speech_enough_for_a_baseline_judges_every_window_by_the_population_model(ravdess_dir):
    from runtime.media import read_audio

    samples = read_audio(ravdess_dir / "Actor_01" / "03-01-01-01-01-01-01.flac")
    model = JudgingModel()
    track = stream_track(chunks_of(samples), VoiceSoFar(model, AudioSettings(), "live"), SessionClock())
    variant, rows = model.batches[-1]
    assert variant == "none" and track.model["variant"] == "none" and track.settings["variants_used"] == ["none"]
    np.testing.assert_allclose(rows, np.vstack([b for _, b in model.batches[:-1]]))  # raw, as each was judged
    note = track.settings["speaker_baseline_note"]
    assert note.startswith("too little speech") and "every window judged by the population model as the track" in note


def test_a_live_windows_speech_share_and_pause_are_file_modes_over_the_same_speech_frames(monkeypatch):
    # the stream reads each window's frames on a grid local to its segment (it starts a second before the window):
    # with the same speech decision per frame, its share must be file mode's ``speech_fraction`` to the frame, edge
    # frames the window overlaps in part included, else quality and claims drift between live and file mode; and its
    # voice measurements must be of the window's own stretch of that segment (its pause: file mode's)
    from runtime.arms.audio.vad import FRAME_SAMPLES, VAD_FRAME_S, speech_fraction
    from runtime.arms.audio.voice_quality import mask_seconds

    rate = 16000
    mask = np.random.default_rng(5).random(400) < 0.5  # a decision per VAD frame that changes at almost every edge
    # as the stream's own: the frames the VAD has scored so far (a window's last, partial frame not yet)
    monkeypatch.setattr(AudioStream, "_speech", lambda self, first, end: mask[first:min(end, self._probs.size)])
    stream = AudioStream(RecordingModel(), AudioSettings(speaker_baseline="none"))
    noise = np.random.default_rng(6).normal(0, 0.05, int(4.3 * rate)).astype(np.float32)
    windows = [w for first in range(0, noise.size, 1600) for w in stream.push(noise[first:first + 1600])]
    tail = stream.finish()  # the last, shorter window: judged once every frame is scored
    assert len(windows) >= 5 and len(tail) == 1
    for w in windows + tail:
        # each window is judged as its last chunk arrives: file mode's figures over the frames scored by then
        n_scored = -(-noise.size // FRAME_SAMPLES) if w in tail else int(round(w.end_s * rate)) // FRAME_SAMPLES
        scored = mask[:n_scored]
        assert w.measurements["speech_fraction"] == pytest.approx(speech_fraction(scored, w.start_s, w.end_s)), w
        pause_s = (w.end_s - w.start_s) - mask_seconds(scored, VAD_FRAME_S, w.start_s, w.end_s)
        assert w.measurements["pause_s"] == pytest.approx(pause_s), w


def test_a_live_windows_loudness_is_of_its_own_stretch_of_sound_as_in_file_mode(monkeypatch):
    # a live window's voice is measured on its segment laid on the VAD frame grid: the window 1.5-3.5 s has its
    # segment start (0.5 s) 20 ms past a frame's start, so without that offset it would measure 1.52-3.52 s, and a
    # 60 ms burst at its very start would read 2 dB quieter than file mode reads it
    from runtime.arms.audio.voice_quality import VoiceAnalysis

    rate = 16000
    samples = np.zeros(int(4.3 * rate), dtype=np.float32)
    samples[int(1.5 * rate):int(1.56 * rate)] = np.random.default_rng(7).normal(0, 0.2, int(0.06 * rate))
    mask = np.ones(400, dtype=bool)  # all speech: the loudness is of every frame
    monkeypatch.setattr(AudioStream, "_speech", lambda self, first, end: mask[first:min(end, self._probs.size)])
    stream = AudioStream(RecordingModel(), AudioSettings(speaker_baseline="none"))
    windows = [w for first in range(0, samples.size, 1600) for w in stream.push(samples[first:first + 1600])]
    file_mode = VoiceAnalysis(samples - samples.mean(), rate, mask)
    burst = [w for w in windows if w.start_s <= 1.5 < w.end_s]
    assert [w.start_s for w in burst] == [0.0, 0.5, 1.0, 1.5]
    for w in burst:
        assert w.measurements["loudness_db"] == pytest.approx(file_mode.window(w.start_s, w.end_s)["loudness_db"],
                                                             abs=1.0), w


@pytest.mark.parametrize(("window_s", "hop_s"), [(2.0, 0.5), (0.25, 0.5), (0.5, 1.0)])
def test_a_streams_speech_at_its_end_is_every_speech_frames_whatever_the_windows(monkeypatch, window_s, hop_s):
    # the frames still settling when a stream ends are counted then, from where the counting stopped: with short
    # windows (the 0.25 s the settings allow) the last window's span is shorter than what is left to count, and
    # the session's speech_s must still be file mode's, all of it here
    from runtime.arms.audio.vad import FRAME_SAMPLES, VAD_FRAME_S

    rate = 16000
    mask = np.ones(400, dtype=bool)
    monkeypatch.setattr(AudioStream, "_speech", lambda self, first, end: mask[first:min(end, self._probs.size)])
    stream = AudioStream(RecordingModel(), AudioSettings(speaker_baseline="none", window_s=window_s, hop_s=hop_s))
    noise = np.random.default_rng(8).normal(0, 0.05, int(6.3 * rate)).astype(np.float32)
    for first in range(0, noise.size, 1600):
        stream.push(noise[first:first + 1600])
    stream.finish()
    assert stream.speech_s == pytest.approx(-(-noise.size // FRAME_SAMPLES) * VAD_FRAME_S)
