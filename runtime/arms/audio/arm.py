"""The audio arm: a recording in, a Track out — speech windows with emotion probabilities and voice measurements.

File mode analyses the whole recording at once (descriptors computed once, read per window); the streaming
wrapper in ``stream.py`` does the same window by window for a live microphone or a paced replay.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from runtime.arms.audio.band import (
    BAND_MEASUREMENT,
    NARROWBAND_HIGH_BAND_DB,
    frame_band_powers,
    high_band_db,
    narrowband_count,
    some_windows_narrowband,
    sounds_narrowband,
    speech_band_powers,
    window_high_band_db,
)
from runtime.arms.audio.features import frame_descriptors, window_features, zscore_by_group
from runtime.arms.audio.level import (
    CLIPPED_SPEECH,
    CLIPPING_NOTE,
    GAIN_NOTE,
    LIVE_GAIN_NOTE,
    clipped_speech_percent,
    clipping_note,
    frame_clipped_counts,
    gain_settings,
    is_clipped,
    speech_level_dbfs,
    trained_range_dbfs,
)
from runtime.arms.audio.model import AudioEmotionModel, WaveformEmotionModel, load_audio_model
from runtime.arms.audio.vad import (
    VAD_FRAME_S,
    detect_speech,
    no_speech_reason,
    peak_dbfs,
    quiet_note,
    too_little_speech_reason,
)
from runtime.arms.audio.voice_quality import VoiceAnalysis
from runtime.arms.audio.windows import AudioWindow, audio_windows
from runtime.arms.registry import reads_beside
from runtime.audio_rate import AUDIO_RATE_HZ
from runtime.clock import seconds_below
from runtime.config import ConfigSection, setting_error
from runtime.errors import InputError
from runtime.media import MediaInfo, finite_samples, other_audio_streams_note, read_audio
from runtime.models.card import windows_not_as_trained
from runtime.track import CANONICAL_LABELS, Track, Window

if TYPE_CHECKING:  # the pipeline imports the arms
    from runtime.pipeline import AnalysisRequest

NO_SPEECH = "no speech"
MISSING_SOURCE = "audio stream"  # what lost a file's missing audio, in a window's reason
STOPPED_EARLY = "stopped early: "  # a track status: its input ended before the recording or session did, and why
WAVEFORM_BASELINE_NOTE = "waveform model: judged without a speaker baseline"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AudioSettings(ConfigSection):
    window_s: float = 2.0
    hop_s: float = 0.5
    speaker_baseline: str = "session"  # session | none
    min_baseline_speech_s: float = 20.0
    min_speech_fraction: float = 0.3
    sample_rate_hz: int = AUDIO_RATE_HZ
    stream: int = 1  # the input's audio stream (from 1) the voice is read from


def baseline_variant(requested: str, speech_s: float, n_claims: int, min_speech_s: float) -> tuple[str, str]:
    """Which model variant to use, and why: a session baseline needs enough of the speaker's own speech."""
    if requested == "none":
        return "none", "none requested"
    if round(speech_s, 6) < min_speech_s:  # seconds summed over files: 20 s of speech may add to 19.999...
        # cut, not rounded: 19.97 s must not read as the 20.0 s that would have been enough
        return "none", f"too little speech for a session baseline ({seconds_below(speech_s)} s < {min_speech_s:g} s)"
    if n_claims < 2:
        judged = "no window" if n_claims == 0 else "one window"
        return "none", f"{judged} of speech judged ({speech_s:.1f} s of speech): a session baseline needs two or more"
    return "session", f"session baseline over {speech_s:.1f} s of speech in {n_claims} windows"


def without_dc(samples: np.ndarray) -> np.ndarray:
    """The recording less its mean: a microphone's DC offset is inaudible, but would move the log-mel, energy
    and spectral descriptors (an offset of 0.05 changed most windows' emotion) and the VAD's loud-frame rescue."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.size == 0:
        return samples
    return (samples - np.float32(np.mean(samples, dtype=np.float64))).astype(np.float32)


def read_samples(path: str | Path, sample_rate_hz: int = AUDIO_RATE_HZ, alone: bool = False) -> np.ndarray:
    """An audio file's samples as read whole (``alone``: as ``iter_audio``'s): finite, else an error naming the
    file; their DC offset kept (``frame_clipped_counts`` reads them so)."""
    return finite_samples(read_audio(path, sample_rate_hz, alone=alone), path)


def judged_samples(path: str | Path, sample_rate_hz: int = AUDIO_RATE_HZ, alone: bool = False) -> np.ndarray:
    """An audio file's samples as the arm judges them, for a file read whole (``audio classify``, training):
    ``read_samples`` without the DC offset, as ``analyze_audio`` removes it (``alone``: as ``iter_audio``'s)."""
    return without_dc(read_samples(path, sample_rate_hz, alone))


def check_windows(model: AudioEmotionModel | WaveformEmotionModel, settings: AudioSettings,
                  config: Mapping[str, Any]) -> None:
    """The voice's windows against the model's: longer than a waveform model reads is refused, naming
    ``audio.window_s`` and where ``config`` took it from (the model would judge each window's start alone, the rest
    unheard); another length than the model learnt from is said in one line, as the physio arm says its own (a
    window's features, or a waveform model's zero-padded samples, are not what it learnt from). The hop is not
    compared: each window is judged alone."""
    trained_s = model.trained_window_s
    rate = settings.sample_rate_hz
    if trained_s is None or round(settings.window_s * rate) == round(trained_s * rate):
        return
    if isinstance(model, WaveformEmotionModel) and settings.window_s > trained_s:
        raise setting_error(config, "audio.window_s", f"longer than the {trained_s:g} s the waveform model "
                            f"{model.card.id} reads, which would judge each window's first {trained_s:g} s alone; "
                            f"give {trained_s:g} s or less")
    log.warning("voice: %s", windows_not_as_trained(model.card.id, "emotion figures", (settings.window_s, None),
                                                    (trained_s, None)))


def judge_windows(samples: np.ndarray, windows: list[AudioWindow], speech_s: float,
                  model: AudioEmotionModel | WaveformEmotionModel,
                  settings: AudioSettings) -> tuple[np.ndarray, str, str]:
    """Probabilities for the given speech windows, the model variant that judged them, and why that one."""
    rate = settings.sample_rate_hz
    if not windows:
        return np.zeros((0, len(model.labels))), "none", "no speech windows to judge"
    if isinstance(model, WaveformEmotionModel):
        segments = [samples[int(round(w.start_s * rate)):int(round(w.end_s * rate))] for w in windows]
        return model.predict_segments(segments), "default", WAVEFORM_BASELINE_NOTE
    descriptors = frame_descriptors(samples, rate)
    features = np.array([window_features(descriptors, w.start_s, w.end_s) for w in windows],
                        dtype=np.float32).reshape(len(windows), -1)
    rows, variant, note = against_baseline(features, speech_s, settings)
    return model.predict(rows, variant), variant, note


def against_baseline(features: np.ndarray, speech_s: float, settings: AudioSettings) -> tuple[np.ndarray, str, str]:
    """The speech windows' ``features`` (n, d) as the feature model's variant reads them, that variant and why: all
    z-scored against their own mean and spread where ``speech_s`` of speech makes a session baseline, else raw for
    the population variant. File mode passes a recording's windows, a live track those of its session so far."""
    variant, note = baseline_variant(settings.speaker_baseline, speech_s, len(features), settings.min_baseline_speech_s)
    if variant == "session":
        features = zscore_by_group(features, np.zeros(len(features), dtype=int))
    return features, variant, note


def analyze_audio(samples: np.ndarray, model: AudioEmotionModel | WaveformEmotionModel,
                  settings: AudioSettings, missing_s: list[tuple[float, float]] | None = None,
                  source_rate_hz: int | None = None) -> Track:
    """Analyse a whole 16 kHz mono recording into the audio track. ``missing_s``: the stretches its silence
    stands for audio missing (``read_audio``'s ``missing``), where a window makes no claim as a live one does;
    ``source_rate_hz``: the rate the recording was made at, where known (``band_settings``)."""
    sample_rate_hz = settings.sample_rate_hz
    clipped_counts = frame_clipped_counts(samples)  # before the DC offset is removed: full scale is the recorder's
    samples = without_dc(samples)
    speech = detect_speech(samples)
    clipped_percent = clipped_speech_percent(clipped_counts, speech)
    windows = audio_windows(speech, samples.size / sample_rate_hz, settings.window_s, settings.hop_s)
    claims = [i for i, w in enumerate(windows) if w.speech_fraction >= settings.min_speech_fraction]
    speech_s = float(speech.sum() * VAD_FRAME_S)
    probs, variant, baseline_note = judge_windows(samples, [windows[i] for i in claims], speech_s, model, settings)

    voice = VoiceAnalysis(samples, sample_rate_hz, speech)
    band_powers = frame_band_powers(samples, sample_rate_hz)
    probs_by_window = dict(zip(claims, probs, strict=True))
    missing_s = missing_s or []
    track_windows = [
        without_lost_audio(_track_window(w, probs_by_window.get(i), {
            **voice.window(w.start_s, w.end_s),
            BAND_MEASUREMENT: window_high_band_db(band_powers, speech, w.start_s, w.end_s)}), missing_s, MISSING_SOURCE)
        for i, w in enumerate(windows)
    ]
    return Track(
        name="audio",
        labels=model.labels,
        unsupported_labels=[label for label in CANONICAL_LABELS if label not in model.labels],
        windows=track_windows,
        model=model.identity(variant),
        settings={
            "window_s": settings.window_s,
            "hop_s": settings.hop_s,
            "sample_rate_hz": sample_rate_hz,
            "speaker_baseline": variant,
            "speaker_baseline_note": baseline_note,
            "min_speech_fraction": settings.min_speech_fraction,
            "feature_set": model.feature_set,
            "speech_s": round(speech_s, 3),
            "gaps": [list(stretch) for stretch in missing_s],
            **level_settings(peak_dbfs(samples), clipped_percent),
            **gain_settings(speech_level_dbfs(samples, speech), variant, trained_range_dbfs(model.card.extra),
                            settings.min_baseline_speech_s, settings.speaker_baseline != "none",
                            is_clipped(clipped_percent)),
            **band_settings(high_band_db(speech_band_powers(band_powers, speech)), track_windows, source_rate_hz),
        },
    )


def why_stopped(status: str, path: str | Path) -> str:
    """Why a track's input stopped early, without the status's own words and the path an error line names
    first; "" for a track that ran to its end."""
    if not status.startswith(STOPPED_EARLY):
        return ""
    return status.removeprefix(STOPPED_EARLY).removeprefix(f"{path}: ")


def narrowband_note(source_rate_hz: int | None, high_band_db: float | None = None,
                    narrow_count: tuple[int, int] = (0, 0)) -> str:
    """Why the voice's emotions may be off in narrowband speech, "" otherwise: audio recorded below the rate the
    model reads (a telephone line or an 8 kHz recorder: nothing above half its rate), speech whose measured
    power above about 4 kHz (``band.high_band_db``, in dB) is that of a telephone line, whatever the file's rate,
    or, where the whole's is not, ``narrow_count`` (k of n judged windows, ``narrowband_windows``; from a tenth
    of them: ``band.some_windows_narrowband``) whose speech is."""
    subject = "its emotions"
    if source_rate_hz and source_rate_hz < AUDIO_RATE_HZ:
        why = f"recorded at {source_rate_hz} Hz, so nothing above {source_rate_hz / 2000:g} kHz"
    elif sounds_narrowband(high_band_db):
        why = (f"speech has no energy above about 4 kHz (measured in the sound: {-high_band_db:.0f} dB under "
               "its 0.3-3.4 kHz band), as a telephone line carries it, whatever the file's rate")
    elif some_windows_narrowband(narrow_count):
        why = (f"the speech of {narrow_count[0]} of {narrow_count[1]} judged windows with a second or more of "
               f"speech has no energy above about 4 kHz (their {BAND_MEASUREMENT} under "
               f"{NARROWBAND_HIGH_BAND_DB:g} dB), as a telephone line carries it: a participant on a phone line "
               "beside wideband speech?")
        subject = "those windows' emotions"
    else:
        return ""
    # measured for the shipped model alone: a clinic's own model, of its own labels, may have no 'sad' to drift to
    return (f"{why}: the voice models read {AUDIO_RATE_HZ // 1000} kHz speech, and the shipped one calls narrowband "
            "speech sad far more often than it is (README, 'Telephone-band audio'), most of all without a session "
            f"baseline; read {subject} with caution")


def voice_input_notes(media: MediaInfo, stream: int) -> tuple[dict[str, str], list[str]]:
    """What the voice track keeps of the input it was read from beyond what its sound and rate say
    (``band_settings``): which of several audio streams it heard, with the line that says so; for file mode and
    a live replay alike. The track's band note is said with ``voice_note_lines``."""
    settings: dict[str, str] = {}
    lines = []
    streams_note = other_audio_streams_note(media, stream)
    if streams_note:  # speech on another stream (another microphone) is not heard
        settings["audio_stream"] = f"{stream} of {media.audio_streams}"
        lines.append(streams_note)
    return settings, lines


def voice_note_lines(settings: dict[str, Any], input_lines: list[str]) -> list[str]:
    """The lines a voice track's notes are said in: its band note (from its rate or its sound), its clipping note,
    its gain note (its speech's level outside the population variant's training range) where a stream did not say
    one as it judged the windows (``LIVE_GAIN_NOTE``: said once), then the input's own (``voice_input_notes``)."""
    keys = ("bandwidth", CLIPPING_NOTE) + (() if settings.get(LIVE_GAIN_NOTE) else (GAIN_NOTE,))
    return [settings[key] for key in keys if settings.get(key)] + input_lines


def narrowband_windows(windows: list[Window]) -> tuple[int, int]:
    """How many of the judged windows whose band was measured hold telephone-band speech, and of how many."""
    return narrowband_count([w.measurements.get(BAND_MEASUREMENT, math.nan) for w in windows if w.probs is not None])


def band_settings(high_band_db: float | None, windows: list[Window],
                  source_rate_hz: int | None = None) -> dict[str, Any]:
    """What a track's settings say of its speech's band: the power above about 4 kHz against the telephone band
    (None: too little speech to say), how many judged windows' speech is telephone-band, and the one note
    (``narrowband_note``) when the input's rate (``source_rate_hz``, None where not known: a microphone) is under
    the model's, or else when the whole's or some windows' speech is telephone-band."""
    counted = narrowband_windows(windows)
    note = narrowband_note(source_rate_hz, high_band_db, counted)
    return {"speech_high_band_db": round(high_band_db, 1) if high_band_db is not None else None,
            "narrowband_windows": list(counted), **({"bandwidth": note} if note else {})}


def level_settings(level_dbfs: float, clipped_percent: float | None = None) -> dict[str, float | str | None]:
    """What a track's settings say of the recording's level: its loudest sample, and a note when too quiet; the
    share (%) of its speech's samples at full scale (``clipped_speech_percent``; None without speech), and a note
    when clipped."""
    note = quiet_note(level_dbfs)
    peak = round(level_dbfs, 1) if math.isfinite(level_dbfs) else None  # None: digital silence
    clipping = clipping_note(clipped_percent)
    return {"peak_dbfs": peak, **({"level": note} if note else {}),
            CLIPPED_SPEECH: round(clipped_percent, 2) if clipped_percent is not None else None,
            **({CLIPPING_NOTE: clipping} if clipping else {})}


def _track_window(window: AudioWindow, probs: np.ndarray | None, measurements: dict[str, float]) -> Window:
    measurements = {"speech_fraction": window.speech_fraction, **measurements}
    if probs is None:
        # rounded down: 18 of 61 frames (29.5 %) must not read as the 30 % that would have been enough
        percent = math.floor(window.speech_fraction * 100 + 1e-9)
        reason = NO_SPEECH if window.speech_fraction == 0 else f"too little speech ({percent}%)"
        return Window(window.start_s, window.end_s, None, 0.0, reason, measurements)
    return Window(window.start_s, window.end_s, [float(p) for p in probs], round(window.speech_fraction, 4), "",
                  measurements)


def without_lost_audio(window: Window, gaps_s: list[tuple[float, float]], source: str = "microphone") -> Window:
    """A window half or more of which the ``source`` lost (or that came before it started) makes no claim, with
    that as its reason; its silence (the gap is filled with it) would otherwise read as a pause in speech."""
    lost_s = sum(max(0.0, min(end_s, window.end_s) - max(start_s, window.start_s)) for start_s, end_s in gaps_s)
    if lost_s < 0.5 * (window.end_s - window.start_s):
        return window
    late_start = all(start_s == 0.0 for start_s, end_s in gaps_s if end_s > window.start_s and start_s < window.end_s)
    why = f"before the {source} started" if late_start else f"the {source} lost it"
    return Window(window.start_s, window.end_s, None, 0.0, f"no audio for {lost_s:.1f} s of the window ({why})",
                  window.measurements)


def _read_and_judge(request: AnalysisRequest, model: AudioEmotionModel | WaveformEmotionModel,
                    settings: AudioSettings) -> Track:
    """The voice track of the request's recording, paced as a live device or read whole."""
    if request.settings["runtime"].get("realtime"):
        from runtime.arms.audio.stream import analyze_audio_paced

        return analyze_audio_paced(request.input_path, model, settings,
                                   source_rate_hz=request.media.audio_sample_rate_hz)
    ended_early: list[str] = []
    missing_s: list[tuple[float, float]] = []
    samples = finite_samples(read_audio(request.input_path, settings.sample_rate_hz, ended_early.append,
                                        settings.stream, missing_s.append), request.input_path)
    track = analyze_audio(samples, model, settings, missing_s, request.media.audio_sample_rate_hz)
    # as the paced mode's track says it: a recording cut short ends its track early, and why is kept with it
    track.settings["status"] = (f"{STOPPED_EARLY}{request.input_path}: {ended_early[0]}" if ended_early
                                else "complete")
    return track


def no_claim_reason(track_settings: dict, settings: AudioSettings, duration_s: float) -> str:
    """Why a recording ``duration_s`` long made no claim, from its track's settings: too little speech where the
    VAD found some, else no speech (its level named), else what sparse windows did not hear."""
    level_note = track_settings.get("level")
    # one window spans a recording no longer than it: all of it heard, however sparse the windows
    if settings.hop_s > settings.window_s and duration_s > settings.window_s:
        # sparse windows (allowed for a quick pass) heard only part of it: not said to be silent
        return (f"no speech found in the windows judged ({settings.window_s:g} s every {settings.hop_s:g} s; "
                "what lies between them is not heard)")
    speech_s = track_settings.get("speech_s", 0.0)
    if speech_s > 0:  # speech heard, but in no window enough of it to judge: not silent
        return too_little_speech_reason(speech_s, settings.window_s, settings.min_speech_fraction, level_note)
    return no_speech_reason(level_note, duration_s)


def analyze_audio_request(request: AnalysisRequest) -> Track | None:
    """The pipeline's entry: ``None`` when the input has video for other arms but no audio stream, or one
    holding nothing that can be decoded."""
    section = request.settings["audio"]
    if not request.media.has_audio:
        if request.media.has_video:
            if not request.media.audio_streams:  # a session video's sound is expected: said, as an empty one is
                request.lost.append(("has no audio stream", "the voice"))
            return None
        raise InputError(request.input_path, "has no audio stream")
    settings = AudioSettings.from_config(section)
    model = load_audio_model(section["model"], backend=request.settings["runtime"]["backend"])
    check_windows(model, settings, request.settings)
    try:
        track = _read_and_judge(request, model, settings)
    except InputError as error:
        if not reads_beside("audio", request.settings, request.media, request.extras) or (
                error.source != str(request.input_path)):
            raise  # a model's problem, or nothing else to analyse
        # A camera's empty or undecodable sound loses the voice, as a video without a sound stream does, not
        # the face and body, nor a recording given beside it: said in one line.
        request.lost.append((error.problem, "the voice"))
        return None
    notes, stream_lines = voice_input_notes(request.media, settings.stream)  # which stream: said either way
    if not any(w.has_claim for w in track.windows) and not request.media.has_video:
        stopped = why_stopped(track.settings.get("status", "complete"), request.input_path)
        duration_s = track.windows[-1].end_s if track.windows else 0.0  # the grid's end: the recording's, to 1 ms
        reason = no_claim_reason(track.settings, settings, duration_s)
        # the other streams may hold the voice; a band note would advise on emotions there are none of
        raise InputError(request.input_path, reason + (f" in what could be read ({stopped})" if stopped else "")
                         + "".join(f"; {line}" for line in stream_lines))
    track.settings.update(notes)
    for line in voice_note_lines(track.settings, stream_lines):
        log.warning("%s: %s", request.input_path, line)
    if "level" in track.settings:
        log.warning("%s: %s", request.input_path, track.settings["level"])
    return track
