"""The arms a file analysis can run: one ``Arm`` entry each, holding every fact about it that the rest of the
runtime reads (the pipeline's steps, the checks before them, the track names the settings may use).

A new arm is one entry here plus its settings section (``runtime/config.py`` DEFAULTS). An entry imports its arm's
code only when it runs or is asked for its measurements: arms load heavy libraries, and the settings check (hence
the CLI's start) imports this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from runtime.media import MediaInfo
    from runtime.pipeline import AnalysisRequest
    from runtime.track import Track

# None = the arm has nothing to read in this input (e.g. no video stream for the face arm).
ArmFunction = Callable[["AnalysisRequest"], "Track | list[Track] | None"]


@dataclass(frozen=True)
class Arm:
    """One arm as the runtime sees it; an arm runs when its settings section says enabled = true."""

    section: str  # its settings section, and the name of its track
    stream: Literal["audio", "video"] | None  # the input's stream it reads; None: a recording given beside the input
    model_settings: tuple[str, ...]  # the settings of its section that name a model ("" where one allows none)
    run: ArmFunction
    measurement_names: Callable[[], set[str]]  # what its track carries beside the emotion spectrum
    # Those measurements that are activation scores in [0, 1] (0.5 the session's usual level), which fusion can
    # read for arousal; the others are on scales of their own (bpm, Hz, px, fractions of time).
    activation_measurements: tuple[str, ...] = ()
    # Its model's labels outside the emotion spectrum whose probability is an activation (physio's "stress", not
    # "no_stress", which would move arousal the wrong way).
    activation_labels: tuple[str, ...] = ()
    recording_extra: str = ""  # stream None: the request's extras key naming that recording (none given: no track)
    run_first: bool = False  # reads a separate file in seconds: a bad one fails before minutes of video work
    # stream None: its track cut to where the input was read to, once the arms reading the input ran (a file's
    # header may give no length, or more than the file holds)
    fit_to_input: Callable[[Track, float], Track] | None = None
    # stream None: how its recording was placed against the input, where that is worth a warning ("" where not);
    # said once the tracks stand (after fit_to_input, whose refusal says it itself)
    placement_note: Callable[[Track], str] | None = None
    emotion: bool = True  # False: its track judges no emotion (physio's stress), fusion reads it for arousal only

    def reads_input(self, media: MediaInfo, extras: dict[str, Any]) -> bool:
        """Whether it will read something of this input (as the arm itself decides)."""
        if self.stream is None:
            return bool(extras.get(self.recording_extra))
        return media.has_audio if self.stream == "audio" else media.has_video

    def stream_problem(self, media: MediaInfo) -> str:
        """Why the stream it reads cannot be decoded ("" when it can, or it reads none)."""
        if self.stream is None:
            return ""
        return media.audio_problem if self.stream == "audio" else media.video_problem


def _run_audio(request: AnalysisRequest) -> Track | None:
    from runtime.arms.audio.arm import analyze_audio_request

    return analyze_audio_request(request)


def _audio_measurements() -> set[str]:
    from runtime.arms.audio.band import BAND_MEASUREMENT
    from runtime.arms.audio.voice_quality import VOICE_MEASUREMENTS

    return {"speech_fraction", *VOICE_MEASUREMENTS, BAND_MEASUREMENT}


def _run_face(request: AnalysisRequest) -> Track | list[Track] | None:
    from runtime.arms.face.arm import analyze_face_request

    return analyze_face_request(request)  # a list when face.person = "all"


def _face_measurements() -> set[str]:
    from runtime.arms.face.arm import measurement_names

    return measurement_names()


def _run_body(request: AnalysisRequest) -> Track | None:
    from runtime.arms.body.arm import analyze_body_request

    return analyze_body_request(request)


def _body_measurements() -> set[str]:
    from runtime.arms.body.arm import measurement_names

    return measurement_names()


def _run_physio(request: AnalysisRequest) -> Track | None:
    from runtime.arms.physio.arm import analyze_physio_request

    return analyze_physio_request(request)  # None unless extras["physio_path"] names a recording


def _fit_physio_to_input(track: Track, input_end_s: float) -> Track:
    from runtime.arms.physio.arm import fit_to_input

    return fit_to_input(track, input_end_s)


def _physio_placement_note(track: Track) -> str:
    from runtime.arms.physio.arm import placement_note

    return placement_note(track)


def _physio_measurements() -> set[str]:
    from runtime.arms.physio.features import MEASUREMENTS

    return set(MEASUREMENTS)


# In the order of the timeline's tracks. Face and body both read one pass over the video
# (runtime.arms.video.scan.shared_scan, made once per input and kept in the request's extras).
ARM_REGISTRY: tuple[Arm, ...] = (
    Arm("audio", stream="audio", model_settings=("model",), run=_run_audio, measurement_names=_audio_measurements),
    Arm("face", stream="video", model_settings=("detector", "landmarks", "model", "iris"), run=_run_face,
        measurement_names=_face_measurements),
    Arm("body", stream="video", model_settings=("detector", "landmarks", "model"), run=_run_body,
        measurement_names=_body_measurements, activation_measurements=("activation",)),
    Arm("physio", stream=None, recording_extra="physio_path", model_settings=("model",), run=_run_physio,
        measurement_names=_physio_measurements, activation_labels=("stress",), run_first=True, emotion=False,
        fit_to_input=_fit_physio_to_input, placement_note=_physio_placement_note),
)


def arm_named(section: str) -> Arm:
    """The registered arm of settings section ``section`` (a KeyError for none)."""
    return {arm.section: arm for arm in ARM_REGISTRY}[section]


def reads_beside(stream: str, settings: dict[str, dict[str, Any]], media: MediaInfo, extras: dict[str, Any]) -> bool:
    """Whether an enabled arm reads something of this input other than its ``stream`` ("audio", "video"): another
    stream, or a recording given beside it. Where it does, that stream found empty loses its arms, not the
    analysis."""
    from runtime.media import known_end_s

    # a recording beside it needs the input's end to be placed against (``pipeline.fit_to_input``): with no other
    # stream read and no end known before reading, the empty stream stays the error
    return any(arm.stream != stream and settings.get(arm.section, {}).get("enabled", False)
               and arm.reads_input(media, extras)
               and (arm.stream is not None or arm.fit_to_input is None or known_end_s(media) > 0)
               for arm in ARM_REGISTRY)


def reads_video(settings: dict[str, dict[str, Any]]) -> bool:
    """Whether any enabled arm reads the input's picture (the face or the body arm, as the registry says)."""
    return any(arm.stream == "video" and settings.get(arm.section, {}).get("enabled", False) for arm in ARM_REGISTRY)
