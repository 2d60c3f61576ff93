"""A live session: microphone, camera and body sensors on one session clock, windows printed as judged.

The voice runs in the calling thread (its windows come out within a second of their end); the camera's
frames go through the face and body observers in a second thread that takes the newest frame and drops the
rest, so it never falls behind (drops are counted in the tracks' ``settings.frames``). Sensor links (a serial
board, a BLE heart-rate strap) record in threads of their own (``firmware_bridge.runner``). When the session
ends (its duration, Ctrl-C, or the devices ending) the tracks are made from what was captured, fused, and the
timeline is written; each checkpoint before that writes the timeline so far, made and fused alike. A recorded file
can stand in for microphone and camera, replayed at real-time pace.
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import logging
import math
import os
import queue
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from firmware_bridge.link import LinkEvent, Recorder, Sample, SensorLink, Status, link_states
from firmware_bridge.runner import close_link
from runtime.arms.audio.arm import AudioSettings, check_windows, voice_input_notes, voice_note_lines, why_stopped
from runtime.arms.audio.model import AudioEmotionModel, WaveformEmotionModel, load_audio_model
from runtime.arms.audio.stream import VoiceSoFar, stream_track, warm_up
from runtime.arms.body.arm import body_settings, body_track, load_classifier
from runtime.arms.face.arm import FaceEvidence, FaceSettings, expression_labels, face_tracks, followed_person_note
from runtime.arms.physio.arm import baseline_text, physio_track, track_window
from runtime.arms.physio.features import load_signal_library, process_recording, window_features
from runtime.arms.physio.live import LEAD_S, NUMBER, SAID_ONCE, LiveStress
from runtime.arms.physio.recording import Recording
from runtime.arms.physio.stress import PhysioSettings, PhysioWindow, load_physio_model, warn_if_not_as_trained
from runtime.arms.registry import reads_video
from runtime.arms.video.scan import (
    VideoScan,
    make_observers,
    scan_frames,
    scan_so_far,
    video_duration_s,
    video_sample_fps,
)
from runtime.checks import check_backend, check_live_model, check_models, probe_input
from runtime.clock import SessionClock
from runtime.config import DURATION
from runtime.errors import InputError, first_line
from runtime.files import check_output_folder, make_folder, node_kind, remove_empty_folders, topmost_missing
from runtime.log_filters import first_time, muted
from runtime.media import CUT_SHORT, NO_VIDEO_FRAMES, MediaInfo, known_end_s
from runtime.pipeline import fused_tracks, settings_as_run, why_not_fused
from runtime.sources.audio import AudioChunk, FileAudioSource, MicrophoneSource
from runtime.sources.video import NO_FRAMES, LiveVideoSource, VideoFrame
from runtime.stopping import STOPPED_BY_USER, raise_if_stop_asked, stop_asked, stop_asked_s_ago, stop_kept
from runtime.timeline import Timeline, is_session_claim, software_record, timeline_software, write_timeline
from runtime.track import CANONICAL_LABELS, WEAK_QUALITY, Track, Window, leading_label_index, window_grid

if TYPE_CHECKING:
    from firmware_bridge.ble import BleakGattClient

LinkFactory = Callable[[SessionClock], list[SensorLink]]
log = logging.getLogger("emotrace.live")
SETTLE_S = 2.0  # a physio window is judged live this long after its end: samples still on their way arrive
# A voice line judged by the population variant while the speaker's baseline forms (the first 20 s of speech)
NO_BASELINE_YET = "no speaker baseline yet"
SKEW_S = 0.5  # a source ending this close to the duration ended with it (its samples run a little ahead or behind)


@dataclass(frozen=True)
class LiveInputs:
    """Where a live session reads from: devices through FFmpeg, or one recorded file replayed in real time."""

    microphone: str | None = "default"  # None: no voice track
    microphone_format: str = "alsa"
    camera: str | None = None  # e.g. /dev/video0; None: no face or body tracks
    camera_format: str | None = "v4l2"
    replay: Path | None = None  # a recording standing in for both devices (its audio and its picture)
    serial: str | None = None  # a sensor board's serial port (docs/serial-protocol.md), e.g. /dev/ttyACM0
    ble: str | None = None  # a BLE heart-rate sensor's name, or its address (AA:BB:CC:DD:EE:FF)
    ble_thermometer: str | None = None  # a BLE Health Thermometer (skin temperature): name or address

    def describe(self) -> str:
        parts = [f"replay:{self.replay}" if self.replay is not None else "",
                 f"{self.microphone_format}:{self.microphone}" if self.microphone and self.replay is None else "",
                 f"{self.camera_format}:{self.camera}" if self.camera and self.replay is None else "",
                 f"serial:{self.serial}" if self.serial else "", f"ble:{self.ble}" if self.ble else "",
                 f"ble-thermometer:{self.ble_thermometer}" if self.ble_thermometer else ""]
        return " + ".join(p for p in parts if p)

    def sensor_links(self, clock: SessionClock) -> list[SensorLink]:
        """The links these inputs name, opened on ``clock`` (a port that cannot be opened is an InputError)."""
        links: list[SensorLink] = []
        if self.serial:
            from firmware_bridge.serial_link import SerialBoardLink

            links.append(SerialBoardLink(self.serial, clock))
        from firmware_bridge.ble import BleHeartRateLink, BleThermometerLink, bluetooth_problem

        named = [(device, link) for device, link in ((self.ble, BleHeartRateLink),
                                                     (self.ble_thermometer, BleThermometerLink)) if device]
        problem = bluetooth_problem() if named else ""
        if problem:  # no adapter will appear by retrying: said now, as a port that cannot be opened is
            _close_links(links)
            raise InputError(" + ".join(f"ble:{device}" for device, _ in named), problem)
        links += [link_type(ble_client(device), clock) for device, link_type in named]
        return links


def ble_client(device: str) -> BleakGattClient:
    """A bleak client for a sensor given by its advertised name or its address (AA:BB:CC:DD:EE:FF)."""
    from firmware_bridge.ble import BleakGattClient

    if re.fullmatch(r"([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}", device):
        return BleakGattClient(address=device)
    return BleakGattClient(name=device)


# After a stop, the voice takes the sound captured before it for this long at most: a voice model slower than real
# time (or a CPU saturated for long) would otherwise keep a Ctrl-C, or a service manager's stop, waiting while it
# judged its backlog, and the session's timeline would be lost to the kill that follows.
STOP_CATCH_UP_S = 2.0


def until(chunks: Iterable[AudioChunk], duration_s: float | None,
          on_duration: Callable[[], None] | None = None, clock: SessionClock | None = None) -> Iterator[AudioChunk]:
    """Chunks up to ``duration_s`` of session time (all of them when None), or up to a stop asked for, then
    ``KeyboardInterrupt``.

    Each chunk is placed on the session clock by its source (a microphone by its capture times, a replay by its
    samples); the last one is cut where its samples reach ``duration_s``, so that no voice window ends after the
    session (a source faster than real time, a test signal, ends by its samples). ``on_duration`` is called
    there: the chunks were ended by the duration, not by their source. A stop ends them where it came on
    ``clock`` (``stopped_at_s``), the same way: the sound captured before it is the session's, a microphone's
    blocks queued while a window was judged among it; without a clock, at the next chunk."""
    stop_s = math.inf
    for chunk in chunks:
        # asked here: the capture's libraries can swallow the signal's own KeyboardInterrupt
        if math.isinf(stop_s) and stop_asked():
            if clock is None:
                raise KeyboardInterrupt
            stop_s = stopped_at_s(clock)
        if (stop_asked_s_ago() or 0.0) > STOP_CATCH_UP_S:  # a voice far behind: the stop is not kept waiting
            raise KeyboardInterrupt
        end_s = min(math.inf if duration_s is None else duration_s, stop_s)
        room = int(round((end_s - chunk.start_s) * chunk.sample_rate_hz)) if math.isfinite(end_s) else math.inf
        if chunk.samples.size < room:
            yield chunk
            continue
        if room > 0:
            yield AudioChunk(chunk.start_s, chunk.samples[:room], chunk.sample_rate_hz)
        if stop_s < (math.inf if duration_s is None else duration_s):  # ended by the stop
            raise KeyboardInterrupt
        if on_duration:
            on_duration()
        return


def stopped_at_s(clock: SessionClock) -> float:
    """Where on ``clock`` the stop asked for came (now where none was): a session ends there, not a step later
    where its loops notice it (a voice window being judged, the last ones judged as the voice ends)."""
    ago_s = stop_asked_s_ago()
    return clock.now_s() - (ago_s or 0.0)


def _asked_stop_s(clock: SessionClock) -> float:
    """Where on ``clock`` a stop asked for came; inf where none was."""
    return stopped_at_s(clock) if stop_asked() else math.inf


def _session_end_s(clock: SessionClock, duration_s: float | None) -> float:
    """Where the session ends as far as is known now: its duration, or where a stop came (inf while neither)."""
    return _ended_by(math.inf, duration_s, _asked_stop_s(clock))


def _ended_by(end_s: float, duration_s: float | None, stop_s: float) -> float:
    """``end_s``, but never past the session's duration (None: none given) nor where a stop came (``stop_s``): where
    the session's tracks end, at its end and in a checkpoint alike."""
    return min(end_s, duration_s or math.inf, stop_s)


def describe_window(window: Window, labels: list[str], arm: str = "", note: str = "") -> str:
    """One line a clinician can read, at the window's end: 'at 12.5 s: sad (62%)', with its quality where little
    evidence stands behind it (under ``WEAK_QUALITY``: 'at 12.0 s: face happy (88%; little evidence, quality
    0.09)') and ``note`` after it ('at 5.5 s: voice angry (98%; no speaker baseline yet)'), or why the window
    makes no claim."""
    prefix = f"at {window.end_s:.1f} s: {arm + ' ' if arm else ''}"
    if not window.has_claim:
        return f"{prefix}- ({window.reason})"
    best = leading_label_index(window.probs)
    evidence = f"; little evidence, quality {window.quality:.2f}" if window.quality < WEAK_QUALITY else ""
    return f"{prefix}{labels[best]} ({window.probs[best]:.0%}{evidence}{'; ' + note if note else ''})"


class FaceLines:
    """After each frame, a line for every face window that has ended: the patient-so-far's expression, judged as
    the face track judges its windows (``FaceEvidence``)."""

    def __init__(self, settings: FaceSettings, labels: list[str], on_line: Callable[[str], None]):
        self.settings = settings
        self.labels = labels
        self.on_line = on_line
        self.next_end_s = settings.window_s
        self._read_up_to = 0  # the scan's faces looked through for first sightings
        self._first_seen_s: dict[int, float] = {}  # person -> when their face was first seen

    def __call__(self, frame: VideoFrame, scan: VideoScan) -> None:
        for o in scan.faces[self._read_up_to:]:
            if o.confidence > 0:
                self._first_seen_s.setdefault(o.person_id, o.t_s)
        self._read_up_to = len(scan.faces)
        self._say_until(frame.t_s, scan)

    def finish(self, end_s: float, scan: VideoScan) -> None:
        """Where the picture ends (``end_s``): a line for each window not said yet, no later frame coming to say
        it: those ending by then, and the shorter last one the track's grid over ``end_s`` gives (``window_grid``),
        the track's own where the picture ends the session."""
        self._say_until(end_s, scan)
        grid = window_grid(end_s, self.settings.window_s, self.settings.hop_s)
        if grid and grid[-1][1] > self.next_end_s - self.settings.hop_s:  # ends after the last window said
            self._say(*grid[-1], scan)
            self.next_end_s = math.inf

    def _say_until(self, until_s: float, scan: VideoScan) -> None:
        while round(until_s, 6) >= self.next_end_s:  # ends are kept to the microsecond (a frame's 2.8 + 0.2 s)
            end_s = self.next_end_s
            self._say(end_s - self.settings.window_s, end_s, scan)
            self.next_end_s = round(end_s + self.settings.hop_s, 6)

    def _say(self, start_s: float, end_s: float, scan: VideoScan) -> None:
        # The scan from the last frame before the window (where the camera's view of it began) to this frame,
        # at or after its end: the window as the track will see it, without reading the whole session again.
        first = max(bisect.bisect_left(scan.frame_times_s, start_s) - 1, 0)
        first_face = bisect.bisect_left(scan.faces, scan.frame_times_s[first], key=lambda o: o.t_s)
        evidence = FaceEvidence(scan.frame_times_s[first:], scan.faces[first_face:], scan.patient_id,
                                self.settings.sample_fps, self._first_seen_s.get(scan.patient_id, math.inf))
        self.on_line(describe_window(evidence.window(start_s, end_s), self.labels, "face"))


DURATION_SLACK_S = 1.0  # past the duration, a camera that has delivered no frame to end on is stopped
SNAPSHOT_EVERY_S = 5.0  # the camera's scan copied this often (a few hundred kB of references an hour in)


class VideoSession:
    """The camera side of a live session, in its own thread: frames → face and body observations."""

    def __init__(self, source: LiveVideoSource, settings: dict[str, dict[str, Any]],
                 duration_s: float | None, on_line: Callable[[str], None] | None, recording_end_s: float | None = None):
        self.source = source
        self.face = FaceSettings.from_config(settings["face"]) if settings["face"]["enabled"] else None
        self.body = body_settings(settings) if settings["body"]["enabled"] else None
        backend = settings["runtime"]["backend"]
        self.faces, self.bodies = make_observers(self.face, self.body, backend if backend != "onnxruntime" else None)
        self.body_classifier = load_classifier(self.body) if self.body else None
        self.labels = expression_labels(self.face) if self.face else []
        self.duration_s = duration_s
        self.recording_end_s = recording_end_s or 0.0  # a replayed file's, as its header says (0.0: not said)
        self.cut = False  # the session stopped the picture before it ended (Ctrl-C, the duration passed)
        self.stopped_at_s = math.inf  # where a stop came: frames read after it, as the session wrapped up, are not its
        self.at_duration = False  # its frames reached the duration, which ended them
        self.on_frame = FaceLines(self.face, self.labels, on_line) if self.face and on_line else None
        self.scan = VideoScan(stats=source.stats)  # a scan that fails keeps the camera's counts and stop reason
        # A copy of the scan so far, made in the camera's thread every SNAPSHOT_EVERY_S: what checkpoints read,
        # and what is kept should that thread fail.
        self.snapshot: VideoScan | None = None
        self._next_snapshot_s = 0.0
        self.failure: BaseException | None = None
        # Waited on instead of Thread.join: a Ctrl-C landing in join can mark a running thread as ended (CPython
        # 3.11's lock clean-up), and the session would then be written before its frames were scanned.
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="live-video", daemon=True)

    def start(self) -> None:
        self.source.open()  # a camera that cannot be opened stops the session before it starts
        self._thread.start()

    def stop(self, reason: str = "", at_s: float = math.inf) -> None:
        """End the camera's frames; ``reason`` (the user's stop) is kept unless the camera had already ended, and
        the picture ends by ``at_s`` (where that stop came)."""
        self.stopped_at_s = min(self.stopped_at_s, at_s)
        if not self._done.is_set():
            self.cut = True
            self.source.stats.stopped_reason = self.source.stats.stopped_reason or reason
        self.source.stop()

    def wait(self) -> bool:
        """Until the camera ends, the session's duration has passed (its frames end there, but a reader that
        blocks delivers none to end on), or Ctrl-C, which ends the session: True for Ctrl-C."""
        try:
            while not self._done.wait(timeout=0.2):
                raise_if_stop_asked()
                if self.duration_s is not None and self.source.clock.now_s() >= self.duration_s + DURATION_SLACK_S:
                    self.stop()
        except KeyboardInterrupt:
            self.stop(STOPPED_BY_USER, stopped_at_s(self.source.clock))
            return True
        return False

    def join(self) -> None:
        """Until the thread has ended. A failure in it (a defect in the scan: the camera's own failures end its
        frames in the source's reader) leaves the camera's tracks without frames, with the failure as their stop
        reason, and never ends the session with the other tracks (signals reach the main thread alone)."""
        self._done.wait()
        if self.on_frame is not None and self.failure is None:  # the last windows: no later frame came to say them
            self.on_frame.finish(self.end_s(), self.scan)
        if self.failure is not None:
            if self.snapshot is not None:  # the frames scanned up to its last copy are kept
                self.scan = self.snapshot
                self.scan.stats = self.source.stats
            self.source.stats.stopped_reason = f"video failed ({type(self.failure).__name__}: {self.failure})"

    def face_tracks(self, duration_s: float, scan: VideoScan | None = None) -> list[Track]:
        """The face tracks up to ``duration_s`` of ``scan`` (default: the whole session's)."""
        return self._live(face_tracks(scan or self.scan, duration_s, self.face), scan) if self.face else []

    def body_tracks(self, duration_s: float, scan: VideoScan | None = None) -> list[Track]:
        if not self.body:
            return []
        return self._live([body_track(scan or self.scan, duration_s, self.body, self.body_classifier)], scan)

    def _live(self, tracks: list[Track], scan: VideoScan | None) -> list[Track]:
        """``tracks`` marked live; where the picture ended before the session, the windows after its last frame say
        so, not that frames were missing (a gap): a checkpoint's copy of the scan (``scan``) as the session's end."""
        ended = self.ended_why()
        last_s = self.scan.frame_times_s[-1] if self.scan.frame_times_s else -math.inf
        for track in tracks:
            track.settings["mode"] = "live"
            for window in track.windows if ended else ():
                if window.reason == NO_FRAMES and window.start_s >= last_s:
                    window.reason = f"no video frames ({ended})"
        return tracks

    def holds_no_frames(self) -> bool:
        """Whether the replayed recording's video stream holds no frames (``NoVideoFrames``): the face and body
        have nothing to read, as in file mode, and no camera failed."""
        return self.source.holds_no_frames and not self.scan.frame_times_s

    def ended_why(self) -> str:
        """Why the picture ended before the session, where its source ended on its own (a camera gone, a replay
        run out or cut short, the scan failed); "" where it ran to the session's end or the session stopped it."""
        if not self._done.is_set() or self.cut or self.at_duration:
            return ""
        return self.source.stats.stopped_reason or "the recording's picture ended"

    def end_s(self, scan: VideoScan | None = None, stop_s: float = math.inf) -> float:
        """Where the picture of ``scan`` (default: the whole session's) was read to, never after the session's
        duration: a sampling period after its last frame; but a replay that ran out on its own where file mode's
        video ends (``video_duration_s``: the recording's end, or its last frame where frames run past that, as in
        recordings joined end to end). A replay cut short (its source's stop reason says so), stopped by the
        session, or a copy of the scan so far ends where it was read to, never at a header's length past it; and
        never after ``stop_s`` (a stop asked for, which a checkpoint's copy ends at before the camera is stopped)."""
        scan = scan or self.scan
        if not scan.frame_times_s:
            return 0.0
        # the source's own stop (a file cut short) is in the scan's stats, which a copy of the scan has too
        ran_out = scan is self.scan and self._done.is_set() and not self.cut and self.failure is None
        end_s = video_duration_s(scan, self.recording_end_s, self.source.sample_fps, read_to_end=ran_out)
        return _ended_by(end_s, self.duration_s, min(self.stopped_at_s, stop_s))

    def _frames(self) -> Iterator[VideoFrame]:
        # a camera that fails ends its frames (the source's reader says why); the duration ends them too
        yield from self.source.frames(until_s=self.duration_s)
        self.at_duration = self.source.reached_until

    def _after_frame(self, frame: VideoFrame, scan: VideoScan) -> None:
        # a frame read after the session's end (a stop, the voice catching up before the camera is stopped) is not
        # the session's: no line is said from it
        if self.on_frame is not None and frame.t_s <= _session_end_s(self.source.clock, self.duration_s):
            self.on_frame(frame, scan)
        if frame.t_s >= self._next_snapshot_s:
            self.snapshot = scan_so_far(scan, self.faces, self.bodies, copy.copy(self.source.stats))
            self._next_snapshot_s = frame.t_s + SNAPSHOT_EVERY_S

    def _run(self) -> None:
        try:
            # _after_frame also makes the expression model run in this thread, frame by frame: a copy of the
            # scan never lacks a probability still being worked out
            self.scan = scan_frames(self._frames(), self.faces, self.bodies, self.source.stats, self._after_frame)
        except BaseException as error:  # handed to the main thread, which raises it
            self.failure = error
        finally:
            self._done.set()


# Channel -> (name, unit, format) of the live readout: what a clinician can read at a glance as it arrives.
READOUT_CHANNELS = {"hr": ("heart", "bpm", "{:.0f}"), "eda": ("EDA", "µS", "{:.2f}"), "temp": ("skin", "°C", "{:.1f}")}
# Where the readout finds the heart rate when no "hr" channel (a strap's) gives it: a board's pulse wave, beat intervals
BEAT_CHANNELS = ("bvp", "ibi")
# A readout span: each readout channel's values, the beat channels' samples, where it ends, and its last reading's time
ReadoutSpan = tuple[dict[str, list[float]], Recorder, float, float | None]
# Readings that stop this long before a readout's end are said to (a board unplugged, a strap gone): the line's medians
# are then of the span's start alone, not of the last window as the line would otherwise be read
READOUT_QUIET_S = 5.0


def sensor_readout(values: dict[str, list[float]], end_s: float, window_s: float,
                   beats_hr_bpm: float = math.nan, last_reading_s: float | None = None) -> str | None:
    """One line with each readout channel's median over the last window, or None when none arrived. Without heart
    rate readings, the heart is ``beats_hr_bpm`` where it is a number (``beats_heart_rate_bpm``). Readings that
    stopped ``READOUT_QUIET_S`` or more before ``end_s`` (at ``last_reading_s``) are said to have."""
    if not values.get("hr") and math.isfinite(beats_hr_bpm):
        values = {**values, "hr": [beats_hr_bpm]}
    parts = [f"{name} {fmt.format(float(np.median(values[channel])))} {unit}"
             for channel, (name, unit, fmt) in READOUT_CHANNELS.items() if values.get(channel)]
    if not parts:
        return None
    quiet = last_reading_s is not None and end_s - last_reading_s >= READOUT_QUIET_S
    stopped = f"; no reading after {last_reading_s:.1f} s" if quiet else ""
    return f"at {end_s:.1f} s: sensors {', '.join(parts)} (last {window_s:g} s{stopped})"


def beats_heart_rate_bpm(beats: Recorder, start_s: float, end_s: float) -> float:
    """The heart rate the physio track's window over [start_s, end_s) reads from the pulse wave or beat intervals
    ``beats`` holds (``window_features``' hr_bpm, from the clean beats neurokit2 finds); NaN where it finds none: no
    such samples, a wave too short (under 8 s without a gap) or unreadable, or sampled too slowly for beats. What the
    arm logs of that is dropped: the physio track says it as the session ends, and each readout would say it again."""
    with muted(SAID_ONCE):
        try:
            return window_features(process_recording(beats.to_recording("live readout")), start_s,
                                   end_s).measurements["hr_bpm"]
        except Exception:  # a rate too slow (InputError), or a defect: the track, made by the same code, says it;
            return math.nan  # raised here, it would end the link that delivered the sample (runner.run_link)


def live_stress_line(window: PhysioWindow) -> str:
    """The printed line of a window judged live: its stress figure, or why there is none."""
    if window.stress is not None:
        return f"at {window.end_s:.1f} s: stress {window.stress:.2f} (live, against the session so far)"
    return f"at {window.end_s:.1f} s: no stress figure: {window.reason}"


class SensorSession:
    """Body sensors beside the session: links record into one ``Recorder``; link states are printed, and once a
    physio window the heart rate, EDA and skin temperature medians over it (the heart, without a strap's, from the
    pulse wave's beats: ``beats_heart_rate_bpm``) and the live stress figure.

    A thread of its own judges each physio window ``SETTLE_S`` after it ends, against the session so far
    (``LiveStress``): the "physio-live" track. The "physio" track is judged over the whole session at its end,
    and over the samples so far at each checkpoint. Another says the readouts: a link's thread only records and
    hands over, for a link that waits on its readout reads no port meanwhile (a serial board's frames then come in
    a burst, taken for a board clock that fell behind: dropped, and recorded as a gap).
    """

    def __init__(self, links: list[SensorLink], settings: dict[str, dict[str, Any]],
                 on_line: Callable[[str], None] | None, clock: SessionClock, duration_s: float | None = None):
        from firmware_bridge.runner import LinkThreads

        self.links = links
        load_signal_library()  # before any link's thread runs: its first import takes seconds
        self.physio = PhysioSettings.from_config(settings["physio"])
        self.model = load_physio_model(self.physio.model, settings["runtime"]["backend"])
        self.recorder = Recorder()
        self.on_line = on_line
        self.clock = clock
        self.duration_s = duration_s  # the session's length where given: no line is said of a window past it
        self.threads = LinkThreads(links, self._deliver)
        self.stress: LiveStress | None = None
        try:
            self.stress = LiveStress(load_physio_model(self.physio.live_model, settings["runtime"]["backend"]),
                                     self.physio)
            warn_if_not_as_trained(self.stress.model, self.physio)
        except InputError as error:  # the track of record does not need it: the default one missing from an install
            # costs its figures alone (one the config names was refused before any device opened: check_live_model)
            log.warning("physio: no live stress figure (%s)", error)
            self._say(f"physio: no live stress figure ({error})")
        self._readout: dict[str, list[float]] = {channel: [] for channel in READOUT_CHANNELS}
        self._beats = Recorder()  # the readout span's BEAT_CHANNELS samples
        self._readout_end_s = self.physio.window_s
        self._readout_last_s: float | None = None  # the latest reading of the span under way
        self._readout_lock = threading.Lock()  # links deliver from threads of their own
        self._spans: queue.SimpleQueue[ReadoutSpan | None] = queue.SimpleQueue()  # to say; None: the session ended
        self._saying = threading.Thread(target=self._say_readouts, name="sensor-readout", daemon=True)
        self._judged = 0  # windows judged live; the next ends at window_s + _judged * hop_s
        self._next_line_s = self.physio.window_s  # the live stress figure is printed once a window_s
        self._stopped = threading.Event()
        self._until_s = math.inf  # the session's end, once stopped: no window ending later is judged
        self._stop_reason = ""  # why the session stopped, where it was cut (the user): its tracks say it
        self._judging = threading.Thread(target=self._judge_windows, name="live-stress", daemon=True)
        self._said: set[str] = set()  # why the physio track could not be read, as said and numbers aside (first_time)

    def _say(self, line: str) -> None:
        if self.on_line is not None:
            self.on_line(line)

    def _deliver(self, event: LinkEvent) -> None:
        self.recorder(event)
        if self.on_line is None:
            return
        if isinstance(event, Status):
            self._say(f"at {event.t_s:.1f} s: {event.link} {event.state} ({event.detail})")
        elif (isinstance(event, Sample) and (event.channel in READOUT_CHANNELS or event.channel in BEAT_CHANNELS)
              and np.isfinite(event.value)
              and event.link == self.recorder.link_for((event.channel,))):  # the link the tracks read it from
            self._read_out(event)

    def _read_out(self, sample: Sample) -> None:
        with self._readout_lock:
            span = self._take_span(sample.t_s)
            self._readout_last_s = max(sample.t_s, self._readout_last_s or -math.inf)
            if sample.channel in READOUT_CHANNELS:
                self._readout[sample.channel].append(sample.value)
            else:
                self._beats(sample)
        if span is not None:
            self._spans.put(span)

    def _take_span(self, until_s: float) -> ReadoutSpan | None:
        """The readout span not yet said, where it ended by ``until_s``, and the next one begun (the caller holds
        ``_readout_lock``); None where it has not ended."""
        if self._readout_end_s > until_s:
            return None
        span = self._readout, self._beats, self._readout_end_s, self._readout_last_s
        self._readout, self._beats = {channel: [] for channel in READOUT_CHANNELS}, Recorder()
        self._readout_last_s = None
        while self._readout_end_s <= until_s:
            self._readout_end_s += self.physio.window_s
        return span

    def _say_readouts(self) -> None:
        """The readout thread: each span a sample past its end handed over, and one no sample ended ``SETTLE_S``
        after its end by the session clock (a board gone silent, a port gone: said then, not as the session ends);
        until the session's end (None)."""
        while True:
            try:
                span = self._spans.get(timeout=max(0.0, self._readout_end_s + SETTLE_S - self.clock.now_s()))
            except queue.Empty:
                with self._readout_lock:
                    span = self._take_span(self.clock.now_s() - SETTLE_S)
                if span is None:
                    continue
            if span is None:
                return
            try:
                self._say_readout(*span)
            except Exception as error:  # whatever fails here costs this readout's line, never the next ones
                log.warning("sensor readout at %.1f s: %s: %s", span[2], type(error).__name__, error)

    def _say_readout(self, values: dict[str, list[float]], beats: Recorder, end_s: float,
                     last_reading_s: float | None) -> None:
        window_s = self.physio.window_s
        line = sensor_readout(values, end_s, window_s,
                              math.nan if values["hr"] else beats_heart_rate_bpm(beats, end_s - window_s, end_s),
                              last_reading_s)
        # a span ended after the duration or a stop (the voice catching up) is not the session's
        if line and end_s <= _session_end_s(self.clock, self.duration_s):
            self._say(line)

    def start(self) -> None:
        if self.on_line is not None:
            self._saying.start()
        self.threads.start()
        if self.stress is not None:
            self._judging.start()

    def stop(self, duration_s: float | None = None, reason: str = "") -> None:
        """Stop the links, say the readouts not said yet (the last span's where it ended by then: no later sample
        comes to say it), then judge the windows not judged yet that end by then (and by ``duration_s``).
        ``reason``: why the session was cut there (the user's stop), which the sensors' tracks record as the
        voice's, face's and body's do."""
        self._stop_reason = reason
        self.threads.stop()
        self._until_s = min(self.clock.now_s(), math.inf if duration_s is None else duration_s)
        if self._saying.is_alive():
            with self._readout_lock:
                span = self._take_span(self._until_s)
            if span is not None:
                self._spans.put(span)
            self._spans.put(None)
            self._saying.join()
        self._stopped.set()
        if self._judging.is_alive():
            self._judging.join()
        while self.stress is not None and self._next_end_s() <= self._until_s:  # those not judged yet, in order
            self._judge_next()

    def judge_due(self, now_s: float) -> None:
        """Judge each window due by ``now_s`` of the session clock (``SETTLE_S`` after its end) that ends within
        the session: what the judging thread does as the clock passes; a caller on a clock of its own calls it on a
        session never started (no judging thread: the count of windows judged has no lock)."""
        while (self._next_end_s() + SETTLE_S <= now_s
               and self._next_end_s() <= min(self._until_s, _session_end_s(self.clock, self.duration_s))):
            self._judge_next()

    def _next_end_s(self) -> float:
        return self.physio.window_s + self._judged * self.physio.hop_s

    def _wait_to_judge_s(self) -> float | None:
        """How long until the next window is due, SETTLE_S after its end; None (until the stop) for one that ends
        after the session (its duration, or a stop asked for), which no track keeps: while the voice catches up,
        the sensors' windows past the end went on being judged."""
        end_s = self._next_end_s()
        if end_s > _session_end_s(self.clock, self.duration_s):
            return None
        return max(0.0, end_s + SETTLE_S - self.clock.now_s())

    def _judge_windows(self) -> None:
        """The judging thread: each window as it falls due, until the stop (which judges the rest)."""
        while not self._stopped.wait(self._wait_to_judge_s()):
            self.judge_due(self.clock.now_s())  # the end read again after the wait: a stop may have come during it

    def _judge_next(self) -> None:
        end_s = self._next_end_s()
        start_s = end_s - self.physio.window_s
        self._judged += 1
        names = ", ".join(link.name for link in self.links)
        try:
            window = self.stress.judge(lambda since_s: self.recorder.to_recording(names, since_s=since_s),
                                       start_s, end_s)
            if end_s >= self._next_line_s:
                while self._next_line_s <= end_s:
                    self._next_line_s += self.physio.window_s
                if end_s <= _session_end_s(self.clock, self.duration_s):  # judged past the end: not said
                    self._say(live_stress_line(window))
        except Exception as error:  # whatever fails here costs this window's line, never the next windows
            log.warning("live stress at %.1f s: %s: %s", end_s, type(error).__name__, error)

    def close(self) -> None:
        """Release the links of a session that never started."""
        _close_links(self.links)

    def track(self, duration_s: float, at_end: bool = True) -> Track:
        """The physio track up to ``duration_s`` from the samples so far (the session's end, or a checkpoint while
        the links still deliver: the recorder copies each channel under its lock); without any sample, quality 0
        everywhere with the reason."""
        names = ", ".join(link.name for link in self.links)
        states = link_states(self.recorder.statuses)
        # a link's thread stops a moment after the session: its dropout's gap, recorded then, ends at the session's end
        recording = self._so_far(names).between(0.0, duration_s)
        reason = ""
        if not recording.channels:
            reason = f"no samples from {names}" if not self.recorder.sample_count else f"too few samples from {names}"
        else:
            try:
                track = physio_track(recording, self.model, self.physio, 0.0, duration_s, sync="live session clock",
                                     live=True)
            except Exception as error:  # what the sensors sent cannot be read: say so, keep the other tracks
                reason = str(error)
                if not isinstance(error, InputError):  # a defect, but the session's other tracks are not lost to it
                    reason = f"the physio arm failed ({type(error).__name__}: {error})"
        if reason:  # said, not left in the track alone ('N windows, 0 with evidence')
            self._say_unusable(reason, at_end)
            track = self._unusable_track(duration_s, reason)
        track.settings.update({"mode": "live", "links": states, **self._stopped_settings()})
        batteries = {link.name: link.battery_pct for link in self.links if link.battery_pct is not None}
        if batteries:  # the last level read: a strap that ran low explains a session's missing beats
            track.settings["battery_pct"] = batteries
        return track

    def _so_far(self, names: str) -> Recording:
        """The samples so far as a recording, a dropout under way a gap already (a checkpoint written during one:
        the link records its gap only when it ends, or at the stop)."""
        under_way = [gap for link in self.links for gap in link.dropout_under_way()]
        return self.recorder.to_recording(names, gaps_under_way=under_way)

    def live_track(self, duration_s: float) -> Track | None:
        """The "physio-live" track: each window that ended within the session as it was judged then; None
        without a live model."""
        if self.stress is None:
            return None
        labels = list(self.stress.model.labels)
        windows = [track_window(w, labels, w.start_s, w.end_s) for w in self.stress.windows if w.end_s <= duration_s]
        return Track(name="physio-live", labels=labels, windows=windows, unsupported_labels=list(CANONICAL_LABELS),
                     model=self.stress.model.identity(),
                     settings={"window_s": self.physio.window_s, "hop_s": self.physio.hop_s, "mode": "live",
                               "baseline": baseline_text(self.stress.model, running=True),  # any model, judged live
                               "live_baseline_s": self.physio.live_baseline_s, "lead_s": LEAD_S,
                               "judged_after_end_s": SETTLE_S, "supported_labels": labels,
                               **self._stopped_settings()})

    def _stopped_settings(self) -> dict[str, str]:
        """What the sensors' tracks record of a session cut by a stop (``status``, as the voice's); nothing else."""
        return {"status": self._stop_reason} if self._stop_reason else {}

    def _say_unusable(self, reason: str, at_end: bool) -> None:
        """Why the physio track has no usable window, in a ``physio:`` line. Each checkpoint makes the track again:
        a reason said once, numbers aside; the end's said again where its numbers differ (a loss that grew), with
        the session's own."""
        numbers_aside = NUMBER.sub("#", reason)
        if first_time(self._said, reason if at_end else numbers_aside, reason, numbers_aside):
            self._say(f"physio: {reason}")

    def _unusable_track(self, duration_s: float, reason: str) -> Track:
        """Every window at quality 0 with ``reason``: the session's other tracks are written all the same."""
        windows = [Window(a, b, None, 0.0, reason)
                   for a, b in window_grid(duration_s, self.physio.window_s, self.physio.hop_s)]
        labels = list(self.model.labels)
        # As the physio track it stands for: it says nothing of the emotion spectrum, and says its windows
        return Track(name="physio", labels=labels, windows=windows, unsupported_labels=list(CANONICAL_LABELS),
                     model=self.model.identity(),
                     settings={"window_s": self.physio.window_s, "hop_s": self.physio.hop_s, "supported_labels": labels,
                               "unusable": reason})


@dataclass
class SessionSoFar:
    """What a session under way has judged, for its checkpoints: the voice's windows judged again against the speech
    so far (``VoiceSoFar.track``, as the session's end judges them against all of it), the face and body tracks of
    the camera's last scan copy, the physio track of record from the samples so far, the fused track of those, and
    the live stress windows, the last three made as the session's end makes them (``_physio_and_fused``)."""

    inputs: LiveInputs
    settings: dict[str, dict[str, Any]]
    clock: SessionClock
    started: float  # time.perf_counter() when the session's models were ready
    voice_model: AudioEmotionModel | WaveformEmotionModel | None = None
    voice_settings: AudioSettings | None = None
    voice: VoiceSoFar | None = None  # the voice track in the making, its windows kept by the voice's thread
    video: VideoSession | None = None
    sensors: SensorSession | None = None
    said: set[str] = field(default_factory=set)  # tracks whose failure a checkpoint has said: not said again
    not_run: dict[str, str] = field(default_factory=dict)  # the steps that do not run, by section: why (recorded)
    duration_s: float | None = None  # --duration-s: the session's tracks end there, its checkpoints' too
    # In every timeline the session writes (software.session_id): how it knows its own file in its folder.
    session_id: str = field(default_factory=lambda: secrets.token_hex(8))

    def timeline(self) -> Timeline:
        """The timeline so far; its ``software.checkpoint_at_s`` says it is a checkpoint, and when."""
        now_s = self.clock.now_s()
        # After a stop or the duration (the voice catching up, the last windows judged: seconds) every track ends
        # there, as the session's own timeline ends them; the camera and the sensors deliver on until they are stopped
        stop_s = _asked_stop_s(self.clock)
        voice = self.voice
        failed: set[str] = set()  # this checkpoint's tracks that could not be made
        tracks = _kept_tracks(LIVE_TRACK_WHAT["audio"], lambda: [t for t in [voice.track()] if t.windows]
                              if voice else [], self.said, failed)
        snapshot = self.video.snapshot if self.video else None
        if snapshot is not None:  # the camera's last copy, up to its last frame
            end_s = self.video.end_s(snapshot, stop_s)
            tracks += _kept_tracks(LIVE_TRACK_WHAT["face"], lambda: self.video.face_tracks(end_s, snapshot),
                                   self.said, failed)
            tracks += _kept_tracks(LIVE_TRACK_WHAT["body"], lambda: self.video.body_tracks(end_s, snapshot),
                                   self.said, failed)
        # The sensors' samples up to SETTLE_S ago: those of the last instants may still be on their way (the live
        # stress windows judged by now end there too). What the physio arm and fusion log as they make their tracks
        # is the end's to say, with the session's totals: a checkpoint's would repeat, or hide a loss that grows,
        # and its windows carry their reasons.
        with muted((*SAID_ONCE, logging.getLogger("runtime.fusion"))):
            tracks, not_run = _physio_and_fused(tracks, self.sensors, self.settings,
                                                _ended_by(max(now_s - SETTLE_S, 0.0), self.duration_s, stop_s),
                                                self.not_run, self.said, failed)
        software = software_record(time.perf_counter() - self.started,
                                   started_at_utc=self.clock.started_at_utc.isoformat())
        software.update(checkpoint_at_s=round(now_s, 3), session_id=self.session_id)
        return Timeline(input_path=self.inputs.describe(),
                        duration_s=round(_ended_by(now_s, self.duration_s, stop_s), 6), tracks=tracks,
                        settings=settings_as_run(self.settings, not_run), software=software)


class Checkpoints:
    """A session's timeline so far, written into its folder as the session starts and then every ``every_s``
    (0: only at the start) by a thread of its own, each replacing the last, until the session's own timeline
    replaces them: a power cut or a crash loses at most that stretch. The first is written before any device
    opens, into a ``timeline.json`` made anew (never one already there): a folder that cannot be written is said
    before the session rather than after it, and a second session started into the folder is refused."""

    def __init__(self, out_dir: Path, every_s: float, so_far: SessionSoFar,
                 on_line: Callable[[str], None] | None):
        self.out_dir = Path(out_dir)
        self.every_s = every_s
        self.so_far = so_far
        self.on_line = on_line
        self.windows_written = 0  # in the last checkpoint written
        self.at_s = 0.0  # ... and when
        self.finished = False  # the session's own timeline is written: nothing of the folder is taken back
        self._made = topmost_missing(self.out_dir)  # the folders to take back when nothing was captured
        self._claimed = False  # the timeline files there are this session's
        self._written: tuple[int, int] | None = None  # (inode, mtime) of the timeline.json last written
        self._device: int | None = None  # the device the folder was claimed on (st_dev)
        self._problem = ""  # the last failure said, not said again
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="live-checkpoints", daemon=True)

    @property
    def json_path(self) -> Path:
        return self.out_dir / "timeline.json"

    def claim(self) -> None:
        """The folder made and its ``timeline.json`` created anew (an ``InputError`` where one is there already or
        none can be), then the first checkpoint written into it (no windows yet). A stop meanwhile is kept until
        the claim is whole, then raised: ``abandon`` takes it back, never half of it."""
        with stop_kept():
            try:
                make_folder(self.out_dir)
                os.close(os.open(self.json_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            except FileExistsError:  # something there since this one looked (a session started): never written over
                raise InputError(self.out_dir, _taken(self.json_path)
                                 or "holds an earlier session's timeline.json; give a new folder") from None
            except OSError as error:
                self._take_back()
                raise InputError(self.out_dir, f"cannot be written: {error.strerror or error}") from None
            try:
                self._written = _identity(self.json_path)  # the empty file made: this session's until replaced
                self._device = self.out_dir.stat().st_dev
            except BaseException:  # not yet known as this session's (``owner``): the file made is taken back here
                self._take_back(self.json_path)
                raise
            self._claimed = True
            self._write()  # write_timeline says what stops it in one line
        raise_if_stop_asked()

    def owner(self) -> str:
        """Whose the folder's ``timeline.json`` is: OURS (the one this session wrote last, or one carrying its
        session_id: a USB stick's FAT gives a file a new inode number when it is read in again), REPLACED (another
        program's: an analysis into the same folder), or UNKNOWN (it cannot be read now: a stick reset)."""
        try:
            if _identity(self.json_path) == self._written:
                return OURS
        except OSError:
            return UNKNOWN
        software = timeline_software(self.json_path)  # None: not a timeline (or it vanished meanwhile)
        return OURS if software and software.get("session_id") == self.so_far.session_id else REPLACED

    def check_folder(self) -> None:
        """An ``InputError`` where the folder's path is on another device than the one it was claimed on: a stick
        unmounted leaves its empty mount point, on the internal disk, where no one looks. The same folder back on
        a new device number (a stick plugged in again) is known by its timeline.json, this session's."""
        try:
            device = self.out_dir.stat().st_dev
        except OSError:
            return  # none there: write_timeline says the folder is gone
        if device != self._device:
            if self.owner() != OURS:
                raise InputError(self.out_dir, "the folder is gone: its path is on another disk now, as a stick's "
                                               "mount point is once the stick is unmounted")
            self._device = device

    def start(self) -> None:
        if self.every_s > 0:
            self._thread.start()

    def stop(self) -> None:
        """No checkpoint after this one returns (one under way is finished first)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def abandon(self) -> None:
        """A session that failed or never started: its last checkpoint is kept, and said, when it holds
        something judged; otherwise its timeline files and the folders made for them are taken back (a folder
        holding anything else is left)."""
        self.stop()
        if self.finished or not self._claimed or self.owner() != OURS or self._holds_the_sessions_own():
            return
        if self.windows_written:
            log.warning("%s: the session up to %.0f s is kept there (its last checkpoint)", self.json_path,
                        self.at_s)
            return
        self._take_back(self.json_path, self.out_dir / "timeline.csv")

    def _take_back(self, *files: Path) -> None:
        """``files`` removed, then the folders made for them where nothing else is there."""
        for path in files:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        if self._made is not None:
            remove_empty_folders(self.out_dir, self._made)

    def _holds_the_sessions_own(self) -> bool:
        """Whether the folder holds the session's own timeline, not a checkpoint (a stop may land between its
        writing and ``finished``)."""
        software = timeline_software(self.json_path) or {}
        return "session_id" in software and "checkpoint_at_s" not in software

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                # the folder first (another stick at the same path is no program replacing the timeline, and ours
                # may come back); one that cannot be read now is tried again: a stick may come back
                self.check_folder()
                if self.owner() == REPLACED:
                    self._say_once(f"{self.json_path} was replaced by another program; no more checkpoints there")
                    return
                self._write()
                self._problem = ""
            except Exception as error:  # noqa: BLE001 - a checkpoint is a safeguard: the session records on
                problem = _problem(error) if isinstance(error, (InputError, OSError)) else \
                    f"{type(error).__name__}: {first_line(error)}"
                self._say_once(f"{self.out_dir} not written ({problem}); the session records on")

    def _say_once(self, problem: str) -> None:
        if problem != self._problem and self.on_line:
            self.on_line(f"checkpoint: {problem}")
        self._problem = problem

    def _write(self) -> None:
        timeline = self.so_far.timeline()
        # the claimed folder, never made again nor written on another device: where a stick was unmounted it would
        # be made or written beneath its mount point, where no one looks, and the stick's own folder could not come
        # back. Checked again here, though _run checked it before: making the timeline takes seconds an hour in,
        # time enough for a stick to be unmounted
        self.check_folder()
        write_timeline(timeline, self.out_dir, make_missing_folder=False)
        self._written = _identity(self.json_path)
        self.windows_written = sum(len(track.windows) for track in timeline.tracks)
        self.at_s = timeline.duration_s


# The track each arm of a live session makes at its end, as _kept_tracks names it
LIVE_TRACK_WHAT = {"audio": "voice track", "face": "face track", "body": "body track", "physio": "physio track"}
OURS, REPLACED, UNKNOWN = "ours", "replaced", "unknown"  # whose a session folder's timeline.json is


def _identity(path: Path) -> tuple[int, int]:
    """What tells one version of a file from another: each write renames a new file into place."""
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


def guarded_lines(on_line: Callable[[str], None]) -> Callable[[str], None]:
    """``on_line`` for every track's threads (voice, camera, sensor links, stress judging): a line that cannot be
    printed (a closed pipe, a terminal that cannot encode µS) is lost alone, said once in the log, and never stops
    the thread that had it to say."""
    failed = threading.Event()
    one_at_a_time = threading.Lock()  # two threads' lines printed at once can run into one

    def say(line: str) -> None:
        try:
            with one_at_a_time:
                on_line(line)
        except Exception as error:
            if not failed.is_set():
                failed.set()
                log.warning("live lines cannot be printed (%s: %s); the session records on", type(error).__name__,
                            error)

    return say


# What each arm reads in a session: without it, the arm does not run.
LIVE_DEVICES = {"audio": "microphone or replayed sound", "face": "camera or replayed picture",
                "body": "camera or replayed picture", "physio": "sensor"}


def run_live(out_dir: Path, settings: dict[str, dict[str, Any]], inputs: LiveInputs = LiveInputs(),
             duration_s: float | None = None, on_line: Callable[[str], None] = print,
             make_links: LinkFactory | None = None) -> Timeline:
    """Run a live session until ``duration_s`` (or Ctrl-C, or the devices end) and write its timeline.

    ``make_links(clock)`` gives the sensor links (default: those ``inputs`` names); tests pass simulated ones.
    Every device is opened before the session starts, so one that cannot be opened is an ``InputError`` and
    nothing is written.
    """
    check_output_folder(out_dir)
    for name in ("timeline.json", "timeline.csv"):
        problem = _taken(Path(out_dir) / name)
        if problem:
            raise InputError(out_dir, problem)
    on_line = guarded_lines(on_line) if on_line else None
    problem = None if duration_s is None else DURATION.problem(duration_s)
    if problem:  # 1e308 s would overflow the sample counts when the session ends
        raise InputError("--duration-s", problem)
    wants_audio, wants_video, replayed = _wanted_streams(inputs, settings)
    named_sensors = bool(inputs.serial or inputs.ble or inputs.ble_thermometer)
    wants_sensors = settings["physio"]["enabled"] and (make_links is not None or named_sensors)
    if not (wants_audio or wants_video or wants_sensors):
        raise InputError(inputs.describe() or "live", "nothing to capture: no microphone, camera or sensor enabled")
    running = {"audio": wants_audio, "face": wants_video and settings["face"]["enabled"],
               "body": wants_video and settings["body"]["enabled"], "physio": wants_sensors}
    check_backend(settings)
    # what runs is checked here; it is fused as checked, in checkpoints too
    check_models(settings, [section for section, runs in running.items() if runs])
    if wants_sensors:
        check_live_model(settings)
        load_signal_library()  # its first import takes seconds: before the clock, or the sensors start that late
    audio = AudioSettings.from_config(settings["audio"]) if wants_audio else None
    model = load_audio_model(settings["audio"]["model"], backend=settings["runtime"]["backend"]) if audio else None
    if audio:
        check_windows(model, audio, settings)
        warm_up(model, audio)
    started = time.perf_counter()
    clock = SessionClock()  # started once the models are loaded, so a replay is paced from here
    so_far = SessionSoFar(inputs, settings, clock, started, model, audio, duration_s=duration_s)
    so_far.not_run = {section: f"nothing for it in this session (no {LIVE_DEVICES[section]})"
                      for section, runs in running.items() if not runs}
    checkpoints = Checkpoints(Path(out_dir), settings["runtime"]["checkpoint_every_s"], so_far, on_line)
    try:
        checkpoints.claim()  # before any device opens: a folder that cannot be written is said now
        if replayed is not None and not replayed.audio_streams and settings["audio"]["enabled"] and inputs.microphone:
            log.warning("%s: has no audio stream; recorded without the voice", inputs.replay)  # as analyze says it
        timeline = _run_session(so_far, checkpoints, duration_s, on_line, make_links, replayed,
                                (wants_audio, wants_video, wants_sensors))
    except BaseException:
        checkpoints.abandon()
        raise
    return timeline


def _taken(path: Path) -> str:
    """Why a session cannot write its timeline file at ``path`` (a folder's problem, in one line): something is
    there already; "" where nothing is."""
    name = path.name
    if path.is_symlink() and not path.exists():  # no session's either, and O_EXCL refuses it as if it were
        kind = "a link to nothing"
    elif not path.exists():
        return ""
    elif not path.is_file():  # no session's: a folder (or a device) where the file goes
        kind = node_kind(path)
    elif name == "timeline.json" and is_session_claim(path):
        return ("holds an empty timeline.json: a session's, cut off as it started or starting now; give a new folder "
                "(or remove it if no session is running)")
    elif isinstance(at_s := _checkpoint_at_s(path), (int, float)):  # a session running still, or one cut off
        return (f"holds the timeline.json of a session saved {at_s:g} s in and not ended: running now, or cut off; "
                "give a new folder")
    else:  # a session cannot be recorded again: never written over another
        return f"holds an earlier session's {name}; give a new folder"
    return f"holds {kind} named {name}, where the session writes its {name}; give a new folder"


def _checkpoint_at_s(path: Path) -> object:
    """When the session whose checkpoint ``path`` holds saved it (``software.checkpoint_at_s``); None where ``path``
    is no checkpoint (the timeline of a session that ended, or no session's)."""
    return (timeline_software(path) or {}).get("checkpoint_at_s") if path.name == "timeline.json" else None


def _run_session(so_far: SessionSoFar, checkpoints: Checkpoints, duration_s: float | None,
                 on_line: Callable[[str], None] | None, make_links: LinkFactory | None, replayed: MediaInfo | None,
                 wanted: tuple[bool, bool, bool]) -> Timeline:
    """The devices opened, the session captured until it ends, and its timeline written over the checkpoints."""
    inputs, settings, clock, audio, model = so_far.inputs, so_far.settings, so_far.clock, so_far.voice_settings, \
        so_far.voice_model
    wants_audio, wants_video, wants_sensors = wanted
    sensors = _sensor_session((make_links or inputs.sensor_links)(clock), settings, on_line, clock, duration_s) \
        if wants_sensors else None
    voice_source = video = None
    # what the voice track keeps of a replayed file, and the lines that say it (said as the voice ends)
    voice_notes = voice_input_notes(replayed, audio.stream) if replayed and audio else ({}, [])
    # the voice track in the making: a replayed file's reader tells it what it finds missing, as it reads
    voice = VoiceSoFar(model, audio, "live", [] if inputs.replay else None,
                       replayed.audio_sample_rate_hz if replayed else None, voice_notes[0]) if wants_audio else None
    try:
        voice_source = _voice_source(inputs, audio, clock, voice) if voice else None
        video = _start_video(inputs, settings, clock, duration_s, on_line,
                             replayed.end_s if replayed else None) if wants_video else None
        if sensors:
            sensors.start()
    except BaseException:  # the session cannot start (a camera that cannot be opened, Ctrl-C): nothing stays open
        with stop_kept():
            if voice_source:
                voice_source.close()
            _end_devices(video, None)
            if sensors:
                sensors.close()
        raise
    so_far.video, so_far.sensors, so_far.voice = video, sensors, voice
    said_end_s = 0.0  # the replay's end said as the session starts (0.0: none)
    if on_line and replayed is not None and duration_s is not None and _ends_before(known_end_s(replayed), duration_s):
        # said as the session starts: the replay ends it (or leaves the sensors to go on) before the duration; an
        # end not known before reading, or one before its header's, is said as the replay ends (_capture)
        said_end_s = known_end_s(replayed)
        on_line(_replay_end_line(said_end_s, duration_s))
    checkpoints.start()
    # Under way, a stop is kept, never raised: the session's loops end at their next check (a chunk, 0.1-0.2 s
    # of waiting), and no stop can land in a library that swallows it or cut the wrap-up short.
    with stop_kept():
        tracks: list[Track] = []
        stopped_by_user = False
        try:
            tracks, stopped_by_user = _capture(so_far, voice_source, duration_s, on_line, voice_notes[1],
                                               said_end_s)
        finally:
            stop_s = stopped_at_s(clock) if stopped_by_user else math.inf  # every track ends where the stop came
            _end_devices(video, sensors, duration_s, STOPPED_BY_USER if stopped_by_user else "", stop_s)
        if on_line:  # before a checkpoint under way is waited for (seconds, an hour in)
            on_line(f"session ended at {_ended_by(clock.now_s(), duration_s, stop_s):.1f} s; writing its timeline")
        checkpoints.stop()  # a failure above: abandon() stops them
        timeline = _session_timeline(tracks, video, sensors, inputs, settings, clock, duration_s, so_far.started,
                                     so_far.not_run, stop_s)
        timeline.software["session_id"] = so_far.session_id
        _write_session(timeline, checkpoints)
        checkpoints.finished = True
    return timeline


def _capture(so_far: SessionSoFar, voice_source: FileAudioSource | MicrophoneSource | None,
             duration_s: float | None, on_line: Callable[[str], None] | None,
             voice_note_said: list[str], said_end_s: float) -> tuple[list[Track], bool]:
    """The session under way: the voice in this thread (into ``so_far.voice``, which checkpoints read), then
    whatever goes on after it. Returns the voice track (if any) and whether the user stopped the session; a voice
    that captured nothing is recorded in ``so_far.not_run``. ``voice_note_said``: the lines that say what the voice
    track keeps of a replayed file (``voice_input_notes``); ``said_end_s``: a replayed file's end before the
    duration said as the session started, from its header (0.0: none; else said here, where the replay is read to an
    end before the duration, and said again where it is read to an end before that: a file cut short)."""
    inputs, clock, video, sensors = so_far.inputs, so_far.clock, so_far.video, so_far.sensors
    tracks, stopped_by_user = [], False
    voice_at_duration: list[bool] = []  # the duration ended the voice's chunks, not the replay's end
    voice_status = ""  # how the voice's input ended ("" without one)
    voice: Track | None = None
    if voice_source:
        voice = _capture_voice(voice_source, so_far.voice, clock, duration_s, on_line, named=video is not None,
                               on_duration=lambda: voice_at_duration.append(True))
        for line in voice_note_lines(voice.settings, voice_note_said) if on_line else ():
            on_line(f"voice: {line}")
        if on_line and "level" in voice.settings:  # said as the session ends, beside the summary
            on_line(f"voice: {voice.settings['level']}")
        if voice.windows:
            tracks.append(voice)
        else:
            status = voice.settings["status"]
            why = "the session ended before any audio arrived" if status == "complete" else status
            if not (video or sensors):
                raise InputError(inputs.describe(), f"no audio captured ({why})")
            # as file mode records an arm that made no track: not run, and why (a new dict: checkpoints read it)
            so_far.not_run = {**so_far.not_run, "audio": f"no audio captured ({why})"}
            if on_line:
                on_line(f"voice: no audio captured ({why})")
        voice_status = voice.settings["status"]
        stopped_by_user = voice_status == STOPPED_BY_USER
    # A source that ended (the microphone, the replayed file) leaves the others to go on to their own end (the
    # camera), or to the duration or Ctrl-C (the sensors, which reconnect rather than end; beside a replay, they
    # end with the file unless a duration is given).
    if video and not stopped_by_user:
        stopped_by_user = video.wait()
    # a replay neither cut (Ctrl-C, the duration) nor failed: said where it ends
    read_to_its_end = inputs.replay is not None and not (
        stopped_by_user or voice_at_duration or (video and (video.cut or video.at_duration))
        or _failed(inputs.replay, voice, video))
    if on_line and duration_s is not None and read_to_its_end:
        line = _read_end_line(_read_end_s(tracks, video), said_end_s, duration_s)
        if line:
            on_line(line)
    replay_ended = _replay_ends_session(inputs, duration_s) and (voice_source or video)
    if sensors and not stopped_by_user and not replay_ended:
        if on_line and (voice_source or video) and (duration_s is None or clock.now_s() < duration_s - SKEW_S):
            on_line(f"sensors: recording on until {f'{duration_s:g} s' if duration_s else 'Ctrl-C'}")
        stopped_by_user = _wait_until(clock, duration_s)
    return tracks, stopped_by_user


def _failed(replay: Path, voice: Track | None, video: VideoSession | None) -> bool:
    """Whether the replayed file's voice (its track) or picture stopped on a failure rather than at the file's end,
    which a file cut short reaches early: its tracks' status says why, not a line of where the recording ends. The
    picture's reason is its source's own: its track is not made yet."""
    reasons = [why_stopped(voice.stopped_reason(), replay) if voice else "",
               video.source.stats.stopped_reason if video and not video.holds_no_frames() else ""]
    return bool(video and video.failure) or any(why and not why.startswith(CUT_SHORT) for why in reasons)


def _ends_before(end_s: float, duration_s: float) -> bool:
    """Whether a replayed recording ending at ``end_s`` (0.0: not known) ends before ``duration_s``, as
    ``_replay_end_line`` says it: to 0.1 s (a 3.96 s recording is not said to end at 4.0 s, before 4)."""
    return end_s > 0 and round(end_s, 1) < duration_s


def _replay_end_line(end_s: float, duration_s: float) -> str:
    """The line that says a replayed recording ends before the session's duration."""
    return f"replay: the recording ends at {end_s:.1f} s, before --duration-s {duration_s:g}"


def _read_end_line(read_end_s: float, said_end_s: float, duration_s: float) -> str:
    """The line for a replay read to its end at ``read_end_s`` (0.0: nothing read) in a session of ``duration_s``,
    its header's end ``said_end_s`` said as it started (0.0: none): where it ends before the duration, unless that
    end was said; where it ends before the end said, that too; both to 0.1 s. "" otherwise."""
    if not _ends_before(read_end_s, duration_s):
        return ""
    if not said_end_s:
        return _replay_end_line(read_end_s, duration_s)
    if round(read_end_s, 1) < round(said_end_s, 1):
        # the header's end is not the file's (cut short), or not the streams read (a longer picture, unread)
        return f"replay: the recording was read to its end at {read_end_s:.1f} s, before the {said_end_s:.1f} s " \
               "its header gives"
    return ""


def _read_end_s(tracks: list[Track], video: VideoSession | None) -> float:
    """Where the voice ``tracks`` and the picture (``VideoSession.end_s``) were read to: 0.0 where neither read
    anything."""
    picture_end_s = [video.end_s()] if video else []
    return max([t.windows[-1].end_s for t in tracks if t.windows] + picture_end_s, default=0.0)


def _replay_ends_session(inputs: LiveInputs, duration_s: float | None) -> bool:
    """Whether the replayed file's end (where it gives a voice or a picture) ends the session, the sensors beside
    it too: no duration was given."""
    return inputs.replay is not None and duration_s is None


def _end_devices(video: VideoSession | None, sensors: SensorSession | None, duration_s: float | None = None,
                 reason: str = "", stop_s: float = math.inf) -> None:
    """The camera's and the sensors' threads ended; ``reason``: why they stopped (the user's stop), which their
    tracks record; ``stop_s``: where a stop came, where they end."""
    if video:
        video.stop(reason, stop_s)
        video.join()
    if sensors:
        sensors.stop(min(math.inf if duration_s is None else duration_s, stop_s), reason)


def _kept_tracks(what: str, build: Callable[[], list[Track]], said: set[str] | None = None,
                 failed: set[str] | None = None) -> list[Track]:
    """The tracks ``build`` makes (at the session's end, or for a checkpoint), each checked as the timeline will
    be; on a failure (a defect: every input was checked before) none of them, said in one line (once, for a
    ``what`` not yet in ``said``) and ``what`` added to ``failed``: the session's other tracks are written all the
    same, where the failure would otherwise lose them all."""
    try:
        tracks = build()
        for track in tracks:
            track.check()
        return tracks
    except Exception as error:  # noqa: BLE001 - any failure: the other recorded tracks come first
        if said is None or what not in said:
            log.warning("the session's %s could not be made (%s: %s); its timeline is written without it", what,
                        type(error).__name__, first_line(error))
        if said is not None:
            said.add(what)
        if failed is not None:
            failed.add(what)
        return []


def _session_timeline(tracks: list[Track], video: VideoSession | None, sensors: SensorSession | None,
                      inputs: LiveInputs, settings: dict[str, dict[str, Any]], clock: SessionClock,
                      duration_s: float | None, started: float, not_run: dict[str, str],
                      stop_s: float = math.inf) -> Timeline:
    """The tracks of the session that ended (at ``stop_s`` where a stop ended it), fused, as its timeline; an arm
    whose track could not be made is recorded as not run, and why."""
    failed: set[str] = set()  # the tracks that could not be made (each said in the log)
    session_end_s = read_end_s = _read_end_s(tracks, video)
    # the sensors record to the session's close, but beside a replay that ended it, to where the replay was read:
    # the close comes after, by the time the last windows took to judge
    if sensors and not (_replay_ends_session(inputs, duration_s) and read_end_s > 0):
        session_end_s = max(read_end_s, _ended_by(clock.now_s(), duration_s, stop_s))
    tracks = _kept_tracks(LIVE_TRACK_WHAT["audio"], lambda: list(tracks), failed=failed)
    if video and not video.scan.frame_times_s and not tracks and not sensors:
        raise InputError(inputs.describe(), f"no frames captured ({video.source.stats.stopped_reason or 'none'})")
    if video and video.holds_no_frames():  # as file mode: the face and body left out, said in one line
        arms = [section for section, wanted in (("face", video.face), ("body", video.body)) if wanted]
        log.warning("%s: %s; recorded without the %s", inputs.replay, NO_VIDEO_FRAMES, " and ".join(arms))
        not_run = {**not_run, **{section: f"the replayed recording's {NO_VIDEO_FRAMES}" for section in arms}}
    elif video:
        tracks += _kept_tracks(LIVE_TRACK_WHAT["face"], lambda: video.face_tracks(session_end_s), failed=failed)
        if video.face and (followed := followed_person_note(video.scan, video.face.person)):
            log.warning("%s: %s", inputs.replay or inputs.camera, followed)  # as analyze says it
        tracks += _kept_tracks(LIVE_TRACK_WHAT["body"], lambda: video.body_tracks(session_end_s), failed=failed)
    tracks, not_run = _physio_and_fused(tracks, sensors, settings, session_end_s, not_run, None, failed)
    return Timeline(
        input_path=inputs.describe(),
        duration_s=round(session_end_s, 6),
        tracks=tracks,
        settings=settings_as_run(settings, not_run),
        software=software_record(time.perf_counter() - started, started_at_utc=clock.started_at_utc.isoformat()),
    )


def _physio_and_fused(tracks: list[Track], sensors: SensorSession | None, settings: dict[str, dict[str, Any]],
                      end_s: float, not_run: dict[str, str], said: set[str] | None,
                      failed: set[str]) -> tuple[list[Track], dict[str, str]]:
    """After the voice, face and body ``tracks`` up to ``end_s`` (those that could not be made named in
    ``failed``): the physio track of record, the fused track and the live stress track, and ``not_run`` with
    fusion's why where nothing was fused and each arm whose track could not be made; what the session's end and
    each checkpoint write alike. A track that cannot be made is left out (``_kept_tracks``, with ``said``: the
    checkpoints' set of what they said, or None at the session's end, which says everything with its totals, the
    physio arm's reasons included: ``SensorSession.track``'s ``at_end``)."""
    tracks = list(tracks)
    if sensors and end_s > 0:  # none before the clock has run: no window to judge
        at_end = said is None  # the checkpoints keep a set of what they said; the end says all, with its totals
        tracks += _kept_tracks(LIVE_TRACK_WHAT["physio"], lambda: [sensors.track(end_s, at_end=at_end)], said, failed)
    fused = _kept_tracks("fused track", lambda: fused_tracks(tracks, settings), said)
    not_run = not_run if fused else {**not_run, "fusion": why_not_fused(tracks, settings)}
    # an arm whose track could not be made is recorded as not run (every arm that runs makes one otherwise)
    not_run = {**not_run, **{section: "its track could not be made (the session's log says why)"
                             for section, what in LIVE_TRACK_WHAT.items() if what in failed}}
    tracks += fused
    if sensors:  # after fusion: the physio track speaks for the sensors
        tracks += _kept_tracks("live stress track", lambda: [t for t in [sensors.live_track(end_s)] if t], said)
    return tracks, not_run


def _write_session(timeline: Timeline, checkpoints: Checkpoints) -> None:
    """The timeline into the folder the session claimed (``checkpoints.out_dir``); where that can no longer be
    written (a stick pulled, a full disk, the folder gone: never made again, nor written on another device, which
    where a stick was unmounted would write beneath its mount point, where no one looks), or its timeline was
    replaced by another program during the session (never written over), into a new folder of the temporary folder
    (``TMPDIR``), named in the error: a session cannot be recorded again."""
    out_dir = checkpoints.out_dir
    replaced = False
    try:
        # the folder first: another stick at the same path holds another timeline, which no program replaced
        checkpoints.check_folder()
        replaced = checkpoints.owner() == REPLACED
        if replaced:
            raise InputError(out_dir, "its timeline.json was replaced by another program during the session")
        write_timeline(timeline, out_dir, make_missing_folder=False)
    except (InputError, OSError) as error:
        problem = _problem(error)
        what = f"was not written over ({problem})" if replaced else f"cannot be written ({problem})"
        try:
            fallback = _saved_elsewhere(timeline)
        except (InputError, OSError) as second:
            raise InputError(out_dir, f"{what}, nor could the session be saved in the temporary folder "
                                      f"({_problem(second)}): it is lost") from None
        raise InputError(out_dir, f"{what}; the session was saved in {fallback}") from None


def _saved_elsewhere(timeline: Timeline) -> Path:
    """The timeline in a new folder of the temporary folder; nothing of it is left when that fails too."""
    folder = Path(tempfile.gettempdir()) / f"emotrace-session-{secrets.token_hex(4)}"
    folder.mkdir(0o770)  # the service's umask says whether its group may read it (mkdtemp: never); others never
    try:
        write_timeline(timeline, folder)
    except BaseException:
        with contextlib.suppress(OSError):
            folder.rmdir()
        raise
    return folder


def _problem(error: InputError | OSError) -> str:
    return error.problem if isinstance(error, InputError) else (error.strerror or str(error))


def _sensor_session(links: list[SensorLink], settings: dict[str, dict[str, Any]],
                    on_line: Callable[[str], None] | None, clock: SessionClock,
                    duration_s: float | None) -> SensorSession:
    """The sensor links in a session; links already opened are closed when the session cannot be made."""
    try:
        return SensorSession(links, settings, on_line, clock, duration_s)
    except BaseException:
        _close_links(links)
        raise


def _close_links(links: list[SensorLink]) -> None:
    for link in links:
        close_link(link)


def _start_video(inputs: LiveInputs, settings: dict[str, dict[str, Any]], clock: SessionClock,
                 duration_s: float | None, on_line: Callable[[str], None] | None,
                 recording_end_s: float | None = None) -> VideoSession:
    """The camera (or the replayed file's picture, ending at ``recording_end_s``) opened and its thread started."""
    replay = inputs.replay is not None
    source = LiveVideoSource(inputs.replay if replay else inputs.camera, None if replay else inputs.camera_format,
                             sample_fps=video_sample_fps(settings), clock=clock,
                             max_side_px=settings["face"]["max_side_px"], replay=replay)
    video = VideoSession(source, settings, duration_s, on_line, recording_end_s)
    video.start()
    return video


def _voice_source(inputs: LiveInputs, audio: AudioSettings, clock: SessionClock,
                  voice: VoiceSoFar) -> FileAudioSource | MicrophoneSource:
    """The replayed file, or the microphone opened now: one that cannot be is said before the session starts.
    ``voice``: the voice track in the making, told each stretch of audio the replayed file lacks (filled, as read)."""
    if inputs.replay is not None:
        # ``until`` asks for the stop at each chunk, and takes those due before it however late the voice asks
        return FileAudioSource(inputs.replay, audio.sample_rate_hz, clock=clock, audio_stream=audio.stream,
                               missing=voice.file_missing, checks_stop=False)
    source = MicrophoneSource(inputs.microphone, inputs.microphone_format, audio.sample_rate_hz, clock=clock)
    source.open()
    return source


def _capture_voice(source: FileAudioSource | MicrophoneSource, voice: VoiceSoFar, clock: SessionClock,
                   duration_s: float | None, on_line: Callable[[str], None] | None, named: bool,
                   on_duration: Callable[[], None] | None = None) -> Track:
    """The voice track, window by window in this thread into ``voice`` (which checkpoints read), until the
    duration (``on_duration`` called there), Ctrl-C or the device's end."""
    def each_window(window: Window) -> None:
        if on_line:
            # such a line agrees least with the stored track, judged again against the whole session's speech
            note = NO_BASELINE_YET if voice.stream.before_baseline(window) else ""
            on_line(describe_window(window, voice.model.labels, "voice" if named else "", note))

    return stream_track(until(source.chunks(), duration_s, on_duration, clock), voice, clock, on_window=each_window)


def run_live_audio(out_dir: Path, settings: dict[str, dict[str, Any]], device: str = "default",
                   input_format: str = "alsa", duration_s: float | None = None,
                   on_line: Callable[[str], None] = print) -> Timeline:
    """A voice-only live session from one capture device."""
    return run_live(out_dir, settings, LiveInputs(device, input_format), duration_s, on_line)


def _wait_until(clock: SessionClock, duration_s: float | None) -> bool:
    """The sensors recording: until the duration, or Ctrl-C (True)."""
    try:
        while duration_s is None or clock.now_s() < duration_s:
            time.sleep(0.1)
            raise_if_stop_asked()
    except KeyboardInterrupt:
        return True
    return False


def _wanted_streams(inputs: LiveInputs, settings: dict[str, dict[str, Any]]) -> tuple[bool, bool, MediaInfo | None]:
    """Whether the session reads a voice and a picture, and what a replayed file holds (None without one)."""
    video_arms = reads_video(settings)
    wants_voice = settings["audio"]["enabled"] and inputs.microphone is not None  # --no-mic: none replayed either
    if inputs.replay is not None:
        media = probe_input(inputs.replay, settings, reads_voice=wants_voice)
        voice, video = wants_voice and media.has_audio, video_arms and media.has_video
        problem = (voice and media.audio_problem) or (video and media.video_problem)
        if problem:
            raise InputError(inputs.replay, problem)
        return voice, video, media
    return wants_voice, video_arms and inputs.camera is not None, None
