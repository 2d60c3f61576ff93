"""A live session from the microphone: each window printed as it is judged, the timeline written at the end.

The appliance's full live service (camera, sensors, store, dashboard) grows from here; this is its audio path.
A microphone that vanishes ends the session early, keeps what was captured and says so in the track's status.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from runtime import __version__
from runtime.arms.audio.arm import AudioSettings
from runtime.arms.audio.model import load_audio_model
from runtime.arms.audio.stream import stream_track, warm_up
from runtime.clock import SessionClock
from runtime.errors import InputError
from runtime.sources.audio import AudioChunk, MicrophoneSource
from runtime.timeline import Timeline, write_timeline
from runtime.track import Window


def until(chunks: Iterable[AudioChunk], duration_s: float | None) -> Iterator[AudioChunk]:
    """Chunks up to ``duration_s`` of session time (all of them when None)."""
    for chunk in chunks:
        yield chunk
        if duration_s is not None and chunk.end_s >= duration_s:
            return


def describe_window(window: Window, labels: list[str]) -> str:
    """One line a clinician can read: 'at 12.5 s: sad (62%)', or why the window makes no claim."""
    if not window.has_claim:
        return f"at {window.end_s:.1f} s: - ({window.reason})"
    best = max(range(len(labels)), key=lambda i: window.probs[i])
    return f"at {window.end_s:.1f} s: {labels[best]} ({window.probs[best]:.0%})"


def run_live_audio(out_dir: Path, settings: dict[str, dict[str, Any]], device: str = "default",
                   input_format: str = "alsa", duration_s: float | None = None,
                   on_line: Callable[[str], None] = print) -> Timeline:
    audio = AudioSettings.from_config(settings["audio"])
    model = load_audio_model(settings["audio"]["model"], backend=settings["runtime"]["backend"])
    warm_up(model, audio)
    clock = SessionClock()
    source = MicrophoneSource(device, input_format, audio.sample_rate_hz, clock=clock)
    started = time.perf_counter()
    track = stream_track(until(source.chunks(), duration_s), model, audio, clock, mode="live",
                         on_window=lambda w: on_line(describe_window(w, model.labels)))
    if not track.windows:
        raise InputError(f"{input_format}:{device}", f"no audio captured ({track.settings['status']})")
    timeline = Timeline(
        input_path=f"{input_format}:{device}",
        duration_s=round(track.windows[-1].end_s if track.windows else 0.0, 6),
        tracks=[track],
        settings=settings,
        software={"emotrace": __version__, "elapsed_s": round(time.perf_counter() - started, 3),
                  "started_at_utc": clock.started_at_utc.isoformat()},
    )
    write_timeline(timeline, out_dir)
    return timeline
