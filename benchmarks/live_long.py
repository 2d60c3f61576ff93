"""What a long live session (one to three hours) costs in the parts that keep or rescan what came before.

    python benchmarks/live_long.py recorder --hours 1 2 3
    python benchmarks/live_long.py fusion --minutes 8 83 120
    python benchmarks/live_long.py audio --minutes 0 60 120 180 --calls 50
    python benchmarks/live_long.py audio-stream --seconds 120
    python benchmarks/live_long.py scan --minutes 120 180
    python benchmarks/live_long.py checkpoint --minutes 10 30 60

For the figures before a change, run this file from a checkout of the older commit with that checkout first on
the path (``PYTHONPATH=/path/to/old python /path/to/old/benchmarks/live_long.py ...``).

Nothing is paced and no device is opened; every input is made here:

- recorder: a serial board's events as ``firmware_bridge`` delivers them (a pulse wave, skin conductance with a
  response every 10-30 s and three accelerometer axes at 64 Hz, skin temperature at 4 Hz: 324 samples a second)
  plus a BLE strap's heart rate and beat intervals, a gap every 10 minutes; prints the memory the recorder holds
  (tracemalloc) and the time and peak memory of ``to_recording``.
- fusion: tracks as a live session holds them after N minutes (audio: 2 s windows every 0.5 s; face: 2 s every
  0.5 s; body: 2 s every 1 s with an activation measurement; physio: 30 s every 5 s), then ``LiveFusion.window``
  (the shipped fusion settings) for the last grid windows; prints milliseconds per call.
- audio: the live voice stream (shipped model) after N minutes of audio: the VAD frames it keeps, the time of
  the per-window noise floor (over every frame so far) and speech decision, each window bringing a hop's new
  frames, and of adding a 0.1 s chunk's frames.
- audio-stream: the real stream, unpaced, on noise: time per window in the first and last minute, and what its
  sample buffer holds at the end (``_trim`` keeps it to the window and its context).
- scan: what ``VideoScan`` keeps per sampled frame, one face and one body observation a frame at the face arm's
  sample_fps, with about the measurements a real frame gives (benchmarks/video_long.py runs the whole video path).
- checkpoint: one live checkpoint after N minutes (``runtime.live.Checkpoints``: the timeline so far made by
  ``SessionSoFar`` and written): the example's real scan repeated to N minutes as the camera's last copy, the
  voice's windows (2 s every 0.5 s) as judged, with the features the stream keeps to judge them again, a board's
  and a strap's samples (as ``recorder`` makes them) in the sensors' recorder, so that the checkpoint holds the
  physio track and the fused track (shipped settings) as well; prints its seconds, what ``runtime.checkpoint_every_s``
  weighs, and the physio track's and fusion's share.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from firmware_bridge.link import Gap, Recorder, Sample, Status  # noqa: E402
from runtime.config import load_settings  # noqa: E402
from runtime.track import CANONICAL_LABELS, Track, Window  # noqa: E402

BOARD_RATE_HZ = 64


def pulse_wave(n: int, rng: np.random.Generator) -> np.ndarray:
    """A pulse wave at the board's rate: one smooth beat every 0.75-0.95 s, with noise."""
    times_s = np.arange(n) / BOARD_RATE_HZ
    beats_s = np.concatenate([[0.0], np.cumsum(rng.uniform(0.75, 0.95, int(n / BOARD_RATE_HZ / 0.75) + 2))])
    phase = (times_s - beats_s[np.searchsorted(beats_s, times_s, side="right") - 1]) / 0.85  # since the last beat
    return np.exp(-((phase - 0.25) ** 2) / 0.02) + 0.05 * rng.normal(size=n)


def skin_conductance(n: int, rng: np.random.Generator) -> np.ndarray:
    """Skin conductance (µS) at the board's rate: a drifting tonic level and a response (a difference of
    exponentials of 1 s and 4 s, peaking 1.8 s after its onset, scaled by 1 / 0.47 so that its peak is its
    amplitude) every 10-30 s, as resting skin gives a few a minute. The cost of a checkpoint's EDA
    processing grows with the responses found (neurokit2 matches each peak to its onset), so a noisier signal
    costs more than this."""
    times_s = np.arange(n) / BOARD_RATE_HZ
    eda = 2.0 + 0.2 * np.sin(2 * np.pi * times_s / 900.0)
    onsets_s = np.cumsum(rng.uniform(10.0, 30.0, int(n / BOARD_RATE_HZ / 10.0) + 2))
    amplitudes = rng.uniform(0.05, 0.4, onsets_s.size)
    for onset_s, amplitude in zip(onsets_s, amplitudes, strict=True):
        span = slice(int(onset_s * BOARD_RATE_HZ), int((onset_s + 60.0) * BOARD_RATE_HZ))  # gone within a minute
        after_s = times_s[span] - onset_s
        eda[span] += amplitude * (np.exp(-after_s / 4.0) - np.exp(-after_s / 1.0)) / 0.47
    return eda + 0.002 * rng.normal(size=n)


def board_events(hours: float, seed: int = 0):
    """Every event of ``hours`` of a board plus a strap, in the order a session's sink would see them."""
    rng = np.random.default_rng(seed)
    yield Status("connected", "board 'emotrace-board', protocol v1", 0.0, "serial-board")
    yield Status("connected", "strap", 0.0, "ble-hr")
    n = int(hours * 3600 * BOARD_RATE_HZ)
    bvp, eda = pulse_wave(n, rng), skin_conductance(n, rng)
    for i in range(n):
        t_s = i / BOARD_RATE_HZ
        yield Sample("bvp", t_s, float(bvp[i]), "serial-board")
        yield Sample("eda", t_s, float(eda[i]), "serial-board")
        for axis in ("acc_x", "acc_y", "acc_z"):
            yield Sample(axis, t_s, 0.01 * (i % 7), "serial-board")
        if i % 16 == 0:
            yield Sample("temp", t_s, 33.0, "serial-board")
        if i % 64 == 0:
            yield Sample("hr", t_s, 70.0, "ble-hr")
            yield Sample("ibi", t_s, 0.85, "ble-hr")
        if i % (64 * 600) == 64 * 600 - 1:
            yield Gap("*", t_s, t_s + 1 / 64, "1 frame(s) lost or corrupt", "serial-board")


def run_recorder(hours_list: list[float]) -> None:
    print("recorder: board (bvp, eda, acc_x/y/z at 64 Hz, temp at 4 Hz) + strap (hr, ibi at 1 Hz); times untraced, "
          "memory from a second, traced run")
    for hours in hours_list:
        recorder = Recorder()
        started = time.perf_counter()
        for event in board_events(hours):
            recorder(event)
        feed_s = time.perf_counter() - started
        started = time.perf_counter()
        recording = recorder.to_recording("board + strap")
        convert_s = time.perf_counter() - started
        n = sum(c.times_s.size * (c.values.shape[1] if c.values.ndim == 2 else 1) for c in recording.channels.values())
        del recorder, recording
        tracemalloc.start()
        recorder = Recorder()
        for event in board_events(hours):
            recorder(event)
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        recorder.to_recording("board + strap")
        peak = tracemalloc.get_traced_memory()[1] - held
        tracemalloc.stop()
        del recorder
        print(f"  {hours:g} h: {n:,} samples; feeding them {feed_s:.1f} s; the recorder holds {held / 1e6:,.0f} MB; "
              f"to_recording {convert_s:.2f} s, {peak / 1e6:,.0f} MB at its peak beyond that")


def track(name: str, minutes: float, window_s: float, hop_s: float, labels, measurements: dict[str, float],
          model: dict, seed: int) -> Track:
    rng = np.random.default_rng(seed)
    n = int((minutes * 60 - window_s) / hop_s) + 1
    windows = []
    for k in range(n):
        start_s = round(k * hop_s, 6)
        claim = k % 10 != 3  # some windows without a claim
        probs = rng.dirichlet(np.ones(len(labels))).tolist() if claim else None
        windows.append(Window(start_s, round(start_s + window_s, 6), probs, 0.8 if claim else 0.0,
                              "" if claim else "no speech", {m: v + 0.01 * (k % 5) for m, v in measurements.items()}))
    return Track(name, list(labels), windows, model=model)


def session_tracks(minutes: float) -> list[Track]:
    audio_measures = {m: 1.0 for m in ("pitch_mean_hz", "pitch_sd_st", "jitter", "shimmer", "hnr_db", "loudness_db",
                                       "speech_rate", "tremor_hz")}
    face_measures = {f"au_{k}": 0.1 for k in range(20)}
    return [
        track("audio", minutes, 2.0, 0.5, CANONICAL_LABELS, audio_measures, {"id": "audio-emotion"}, 1),
        track("face", minutes, 2.0, 0.5, CANONICAL_LABELS, face_measures, {"id": "face-expression"}, 2),
        track("body", minutes, 2.0, 1.0, ["still", "moving"], {"activation": 0.3}, {"id": "body"}, 3),
        track("physio", minutes, 30.0, 5.0, ["calm", "stress"], {"hr_bpm": 70.0}, {"id": "physio-stress"}, 4),
    ]


def run_fusion(minutes_list: list[float], calls: int) -> None:
    from runtime.fusion.live import LiveFusion

    settings = load_settings()["fusion"]
    print(f"fusion: LiveFusion.from_settings (method {settings['method']}), {calls} calls on the last grid windows")
    for minutes in minutes_list:
        tracks = session_tracks(minutes)
        live = LiveFusion.from_settings(settings)
        end_s = max(t.windows[-1].end_s for t in tracks)
        ends = [round(end_s - k * live.hop_s, 6) for k in reversed(range(calls))]
        live.window(tracks, ends[0] - live.window_s, ends[0])  # loads the model
        started = time.perf_counter()
        for end in ends:
            live.window(tracks, round(end - live.window_s, 6), end)
        per_call_ms = (time.perf_counter() - started) / calls * 1000
        print(f"  {minutes:g} min ({len(tracks[0].windows):,} audio windows): {per_call_ms:.1f} ms per window "
              f"(a window every {live.hop_s:g} s)")


def _grow(frames, values: np.ndarray):
    """Frames added as the stream adds them: into its frame store, or (before the store, commit 6c3ac32) joined
    to a new array, so that this benchmark measures both."""
    if hasattr(frames, "extend"):
        frames.extend(values)
        return frames
    return np.concatenate([frames, values])


def run_audio(minutes_list: list[float], repeats: int) -> None:
    from runtime.arms.audio.arm import AudioSettings
    from runtime.arms.audio.model import load_audio_model
    from runtime.arms.audio.stream import AudioStream
    from runtime.arms.audio.vad import VAD_FRAME_S

    settings = load_settings()
    audio = AudioSettings.from_config(settings["audio"])
    model = load_audio_model(settings["audio"]["model"])
    rng = np.random.default_rng(0)
    print("audio: the live stream's per-window steps over everything heard so far")
    for minutes in minutes_list:
        stream = AudioStream(model, audio)
        n_frames = int(max(minutes * 60, 4.0) / VAD_FRAME_S)
        # What ``push`` would have gathered after this much audio: the VAD's output and the frames' levels.
        stream._probs = _grow(stream._probs, rng.uniform(0, 1, n_frames).astype(np.float32))
        stream._levels_db = _grow(stream._levels_db, rng.uniform(-70, -20, n_frames))
        tracemalloc.start()
        stream._speech(n_frames - 94, n_frames)  # the frames so far, as the windows before took them in
        floor_mb = tracemalloc.get_traced_memory()[0] / 1e6  # what stays: the noise floor's two heaps
        tracemalloc.stop()
        hop_frames = 16  # a 0.5 s hop's frames, new at each window
        stream._probs = _grow(stream._probs, rng.uniform(0, 1, hop_frames * repeats).astype(np.float32))
        stream._levels_db = _grow(stream._levels_db, rng.uniform(-70, -20, hop_frames * repeats))
        started = time.perf_counter()
        for k in range(1, repeats + 1):  # as _judge does for each next window (2 s and 1 s of context: 94 frames)
            end_frame = n_frames + k * hop_frames
            stream._speech(end_frame - 94, end_frame)
        judge_ms = (time.perf_counter() - started) / repeats * 1000
        started = time.perf_counter()
        for _ in range(repeats):  # a 0.1 s chunk adds three frames
            stream._probs = _grow(stream._probs, np.zeros(3, dtype=np.float32))
            stream._levels_db = _grow(stream._levels_db, np.zeros(3))
        push_ms = (time.perf_counter() - started) / repeats * 1000
        print(f"  after {minutes:g} min ({n_frames:,} VAD frames kept, {n_frames * 12 / 1e6:.1f} MB; the noise "
              f"floor's heaps {floor_mb:.1f} MB): noise floor and speech per window {judge_ms:.2f} ms; adding a "
              f"0.1 s chunk's frames {push_ms:.3f} ms")


def run_audio_stream(seconds: float) -> None:
    """The real stream, unpaced, on noise: time per window over the first and the last minute, and its buffer."""
    from runtime.arms.audio.arm import AudioSettings
    from runtime.arms.audio.model import load_audio_model
    from runtime.arms.audio.stream import AudioStream

    settings = load_settings()
    audio = AudioSettings.from_config(settings["audio"])
    stream = AudioStream(load_audio_model(settings["audio"]["model"]), audio)
    rng = np.random.default_rng(0)
    chunk_n = int(0.1 * audio.sample_rate_hz)
    times: list[tuple[float, float]] = []
    for k in range(int(seconds / 0.1)):
        started = time.perf_counter()
        done = stream.push(rng.normal(0, 0.05, chunk_n).astype(np.float32))
        times += [(k * 0.1, time.perf_counter() - started)] * len(done)
    first = [dt for t, dt in times if t < 60]
    last = [dt for t, dt in times if t >= seconds - 60]
    print(f"audio stream on noise, {seconds:g} s unpaced: {np.mean(first) * 1000:.1f} ms per window in the first "
          f"minute, {np.mean(last) * 1000:.1f} ms in the last; buffer {stream._buffer.size} samples, "
          f"{stream._probs.size} frames kept")


def run_scan(minutes: float) -> None:
    from runtime.arms.body.pose import BodyObservation
    from runtime.arms.face.observer import FaceObservation
    from runtime.arms.video.scan import VideoScan

    settings = load_settings()
    fps = settings["face"]["sample_fps"]
    n = int(minutes * 60 * fps)
    measurements = {f"m{k}": 0.1 for k in range(40)}  # about what frame_measurements and the gaze give
    tracemalloc.start()
    scan = VideoScan()
    for i in range(n):
        t_s = i / fps
        scan.frame_times_s.append(t_s)
        scan.faces.append(FaceObservation(t_s, 1, 0.9, 0.9, 120.0, dict(measurements),
                                          np.full(8, 0.125, dtype=np.float32), np.array([1.0, 2.0, 3.0, 4.0])))
    faces = tracemalloc.get_traced_memory()[0]
    for t_s in scan.frame_times_s:  # 33 points (x, y, z), float64 as an upper bound
        scan.bodies.append(BodyObservation(t_s, np.zeros((33, 3)), np.ones(33), 0.9, 0))
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(f"scan: {minutes:g} min at {fps:g} fps = {n:,} frames, one face (40 measurements) and one body a frame: "
          f"{held / 1e6:.0f} MB ({faces / n:.0f} bytes a frame for the face, {(held - faces) / n:.0f} for the body)")


def run_checkpoint(minutes_list: list[float]) -> None:
    import tempfile
    from dataclasses import replace

    import runtime.live as live
    from runtime.arms.audio.arm import AudioSettings
    from runtime.arms.audio.features import feature_names
    from runtime.arms.audio.model import load_audio_model
    from runtime.arms.audio.stream import VoiceSoFar
    from runtime.arms.registry import arm_named
    from runtime.arms.video.scan import VideoScan, scan_video, video_sample_fps
    from runtime.clock import SessionClock
    from runtime.live import Checkpoints, LiveInputs, SensorSession, SessionSoFar, VideoSession
    from runtime.sources.video import LiveVideoSource

    example = "examples/session.mp4"
    settings = load_settings()
    video = VideoSession(LiveVideoSource(example, replay=True, sample_fps=video_sample_fps(settings)), settings,
                         None, None)
    scanned = scan_video(example, video.face, video.body, sample_fps=video_sample_fps(settings))
    period_s = scanned.frame_times_s[-1] + 1.0 / video_sample_fps(settings)  # the example's length
    audio = AudioSettings.from_config(settings["audio"])
    model = load_audio_model(settings["audio"]["model"])
    for minutes in minutes_list:
        copies = range(int(minutes * 60 // period_s))
        video.snapshot = VideoScan(
            frame_times_s=[t + k * period_s for k in copies for t in scanned.frame_times_s],
            faces=[replace(o, t_s=o.t_s + k * period_s) for k in copies for o in scanned.faces],
            bodies=[replace(o, t_s=o.t_s + k * period_s) for k in copies for o in scanned.bodies],
            patient_id=scanned.patient_id, n_people=scanned.n_people, models=scanned.models)
        session_s = minutes * 60
        ticks = iter([time.monotonic() - session_s])  # the clock's start, N minutes ago; then the time now
        clock = SessionClock(monotonic=lambda ticks=ticks: next(ticks, None) or time.monotonic())
        sensors = SensorSession([], settings, None, clock)  # no link: the samples are put into its recorder here
        for event in board_events(minutes / 60):
            sensors.recorder(event)
        so_far = SessionSoFar(LiveInputs(replay=example), settings, clock, time.perf_counter(), model, audio,
                              video=video, sensors=sensors)
        # the voice's windows as a session judges them: every voice measurement, a claim in most
        so_far.voice = VoiceSoFar(model, audio, "live")
        so_far.voice.windows = track("audio", minutes, 2.0, 0.5, model.labels,
                                     dict.fromkeys(arm_named("audio").measurement_names(), 1.0), {}, 1).windows
        # and the features the stream kept of each judged window, which the track judges again
        judged_s = np.array([w.start_s for w in so_far.voice.windows if w.probs is not None])
        stream = so_far.voice.stream
        stream._feature_starts_s.extend(judged_s)
        stream._features.extend(np.random.default_rng(0).normal(size=(judged_s.size, len(feature_names()))))
        spent = {"physio": 0.0, "fusion": 0.0}
        with tempfile.TemporaryDirectory() as folder, _timed(sensors, "track", spent, "physio"), \
                _timed(live, "fused_tracks", spent, "fusion"):
            checkpoints = Checkpoints(Path(folder) / "out", 60.0, so_far, None)
            started = time.perf_counter()
            checkpoints.claim()  # writes the timeline so far, as each checkpoint does
            took_s = time.perf_counter() - started
            written = json.loads((Path(folder) / "out" / "timeline.json").read_text())
            size_mb = (Path(folder) / "out" / "timeline.json").stat().st_size / 1e6
        windows = {t["name"]: len(t["windows"]) for t in written["tracks"]}
        print(f"checkpoint after {minutes:g} min ({len(video.snapshot.frame_times_s):,} frames, "
              f"{len(so_far.voice.windows):,} voice windows, {sensors.recorder.sample_count:,} sensor samples; "
              f"{windows.get('physio', 0):,} physio and {windows.get('fused', 0):,} fused windows written): "
              f"{took_s:.2f} s ({spent['physio']:.2f} s the physio track, {spent['fusion']:.2f} s fusion), "
              f"timeline.json {size_mb:.1f} MB")


@contextlib.contextmanager
def _timed(owner, name: str, spent: dict[str, float], key: str):
    """``owner.name`` timed into ``spent[key]`` while within this."""
    original = getattr(owner, name)

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[key] += time.perf_counter() - started

    setattr(owner, name, timed)
    try:
        yield
    finally:
        setattr(owner, name, original)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["recorder", "fusion", "audio", "audio-stream", "scan", "checkpoint"])
    parser.add_argument("--hours", type=float, nargs="+", default=[1.0, 2.0, 3.0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[8.0, 83.0, 120.0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=300.0)
    args = parser.parse_args()
    if args.part == "recorder":
        run_recorder(args.hours)
    elif args.part == "fusion":
        run_fusion(args.minutes, args.calls)
    elif args.part == "audio":
        run_audio(args.minutes, args.calls)
    elif args.part == "audio-stream":
        run_audio_stream(args.seconds)
    elif args.part == "checkpoint":
        run_checkpoint(args.minutes)
    else:
        for minutes in args.minutes:
            run_scan(minutes)


if __name__ == "__main__":
    main()
