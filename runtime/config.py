"""Settings: defaults here, a TOML file over them, command-line overrides over that; validated by key.

Each section belongs to one part of the runtime. An unknown key, a value of the wrong type, a value outside what
``RULES`` allows (a range, a choice; NaN and infinity never) or settings that contradict each other are an
``InputError`` naming the file (or the command line) and the key, so a typo in a clinic's config never passes
silently and nothing is found wrong after minutes of work.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from runtime.arms.registry import ARM_REGISTRY
from runtime.audio_rate import AUDIO_RATE_HZ
from runtime.errors import InputError
from runtime.files import existing_file
from runtime.fusion import FUSERS, parse_weights
from runtime.fusion.methods import weighs_any
from runtime.models.card import is_model_id
from runtime.track import CANONICAL_LABELS, is_number, json_kind

log = logging.getLogger(__name__)

_Section = TypeVar("_Section", bound="ConfigSection")

DEFAULTS: dict[str, dict[str, Any]] = {
    "runtime": {
        "backend": "onnxruntime",  # onnxruntime | openvino | tflite | tensorrt
        "realtime": False,  # replay a file at real-time pace, as a live device delivers it
        "checkpoint_every_s": 120.0,  # a live session's timeline so far written this often (0: at its start only)
    },
    "audio": {
        "enabled": True,
        "model": "audio-emotion",  # a model id under models/, or a folder path (./DIR)
        "sample_rate_hz": AUDIO_RATE_HZ,
        "window_s": 2.0,  # as the shipped model was trained (other lengths are warned about: arm.check_windows)
        "hop_s": 0.5,
        "speaker_baseline": "session",  # session | none
        "min_baseline_speech_s": 20.0,  # less speech than this: no session baseline, said in the settings
        "min_speech_fraction": 0.3,  # a window with less speech makes no claim
        # which of the input's audio streams holds the voice (1: the first); a recording with a stream per
        # microphone or participant says how many it has, and the voice track says which one it heard
        "stream": 1,
    },
    # face: expression + face geometry from sampled video frames (docs/face-body.md); no video stream, no track
    "face": {
        "enabled": True,
        "model": "face-expression",  # expression model id, or a folder path (./DIR) ("" = geometry only)
        "detector": "face-detector",
        "landmarks": "face-landmarks",
        "iris": "iris-landmarks",  # iris model id, or a folder path (./DIR) ("" = no gaze measurements, head pose only)
        "sample_fps": 5.0,
        "window_s": 2.0,
        "hop_s": 1.0,
        "person": "patient",  # patient (present longest and largest) | all (one track each) | a person number
        "min_face_px": 24,
        "max_side_px": 1280,  # frames are scaled down to this longer side before detection
        # seconds between searches of the whole frame, square by square, for faces too small for one look at it
        # (a person a few metres from the camera); followed from frame to frame once found. 0 = no search
        "search_every_s": 1.0,
        # CPU threads for the expression CNN, the scan's costliest step. A file scan already runs it in a worker
        # beside decoding, detection and pose, so on 2 cores 1 is fastest (2 contend: 3.6-3.8x real time,
        # docs/face-body.md); more pay where cores are spare
        "expression_threads": 1,
    },
    # body: pose landmarks on the same frames, movement relative to the session's own baseline
    "body": {
        "enabled": True,
        "detector": "body-pose-detector",
        "landmarks": "body-pose-landmarks",
        "model": "",  # a classifier from 'emotrace train body' (labelled segments); "" = measurements only
        "sample_fps": 5.0,  # used when the face arm is off (otherwise the face arm's frames are shared)
        "window_s": 2.0,
        "hop_s": 1.0,
    },
    # physio: a wearable recording beside the video (--physio PATH); none given, no track (docs/physio.md)
    "physio": {
        "enabled": True,
        "model": "physio-stress",  # a model id under models/, or a folder path (./DIR)
        "window_s": 30.0,  # as the shipped model was trained (its card says; other values are warned about)
        "hop_s": 5.0,
        # emotrace live: stress judged as each window ends, by this model, once this much of the session has passed
        "live_model": "physio-stress-live",
        "live_baseline_s": 300.0,
    },
    # fusion: the tracks on one window grid, combined into the "fused" track (docs/fusion.md)
    "fusion": {
        "enabled": True,
        "method": "stacking",  # FUSION_METHODS; learned ones may fall back to quality (docs/fusion.md)
        "when": "multiple",  # multiple: fuse when two or more tracks have something to say; always: also one
        "weights": "",  # for method "weighted": "audio=0.3,face=0.7"
        "model": "",  # learned methods: a model id, or a folder path (./DIR) ("" = models/fusion-<method>)
        "window_s": 2.0,
        "hop_s": 0.5,
        "arousal_from": ["body.activation", "physio.stress"],  # track.measurement or track.label
        "incongruence_confidence": 0.5,  # both modalities this sure of different labels ...
        "incongruence_divergence": 0.4,  # ... and this far apart (Jensen-Shannon, bits): flagged
    },
}

# The settings that name a model: an id under models/, or a folder.
MODEL_SETTINGS = (*(f"{arm.section}.{key}" for arm in ARM_REGISTRY for key in arm.model_settings),
                  "physio.live_model", "fusion.model")
BACKENDS = ("onnxruntime", "openvino", "tflite", "tensorrt")
FUSION_METHODS = tuple(FUSERS)  # the registry's names, in its order
LEARNED_FUSION = tuple(name for name, make in FUSERS.items() if getattr(make, "learned", False))
# The tracks the arms write ("face-<n>" for each person when face.person = "all"): what fusion settings may name.
ARM_TRACKS = tuple(arm.section for arm in ARM_REGISTRY)
EMOTION_TRACKS = tuple(arm.section for arm in ARM_REGISTRY if arm.emotion)
MAX_WEIGHT = 1000.0
MIN_CHECKPOINT_S = 10.0
SECONDS = {"low": 0.1, "high": 86400.0, "what": "a number of seconds"}  # 0.1 s: finer steps only multiply work
# 0.1: a frame every 10 s, already fewer than one a default 2 s window; slower leaves windows without frames.
FRAME_RATE = {"low": 0.1, "high": 120.0, "what": "frames per second"}
FRACTION = {"low": 0.0, "high": 1.0, "what": "a fraction"}


@dataclasses.dataclass(frozen=True)
class Rule:
    """What a setting may hold beyond the type of its default (a float must also be finite).

    ``low``..``high`` inclusive (``low`` itself excluded when ``above``), one of ``choices``, or ``check``: a
    function that says what is wrong with a value (None when nothing is).
    """

    low: float | None = None
    high: float | None = None
    what: str = "a number"
    above: bool = False
    choices: tuple[Any, ...] = ()
    check: Callable[[Any], str | None] | None = None

    def problem(self, value: Any) -> str | None:
        if self.choices and value not in self.choices:
            return f"must be one of {', '.join(map(str, self.choices))}, not {value!r}"
        if self.low is not None or self.high is not None:
            low_ok = value > self.low if self.above else value >= self.low
            if not (low_ok and value <= self.high):  # also NaN
                bound = f"above {self.low:g} and at most" if self.above else f"from {self.low:g} to"
                return f"must be {self.what} {bound} {self.high:g}, not {value!r}"
        return self.check(value) if self.check else None


# A length of time (a session's, a baseline's): above 0, at most a day, as every window and hop.
DURATION = Rule(0.0, SECONDS["high"], SECONDS["what"], above=True)


def _model_named(value: str) -> str | None:
    return None if value.strip() else "must name a model (an id under models/ or a model folder), not ''"


def _audio_rate(value: int) -> str | None:
    if value == AUDIO_RATE_HZ:
        return None
    return (f"must be {AUDIO_RATE_HZ}, the rate the voice-activity detector and the audio models were trained on "
            f"(the input is resampled to it), not {value!r}")


def _person(value: str) -> str | None:
    if value in ("patient", "all") or (value.isascii() and value.isdigit() and int(value) >= 1):
        return None
    return f"must be patient, all or a person number (1, 2, ... in order of appearance), not {value!r}"


def _track_name(name: str) -> bool:
    """An arm's track, or one person's face track as the face arm names it: ``face-<n>``, n from 1, no leading 0."""
    base, dash, number = name.partition("-")
    person = number.isascii() and number.isdigit() and not number.startswith("0")
    return name in ARM_TRACKS or (base == "face" and bool(dash) and person)


def _weights(text: str) -> str | None:
    """``audio=0.3,face=0.7`` as ``runtime.fusion.parse_weights`` reads them, each naming a track and at most
    MAX_WEIGHT."""
    if not text.strip():
        return None
    try:
        weights = parse_weights(text)
    except InputError as error:
        return error.problem
    unknown = [name for name in weights if not _track_name(name)]
    if unknown:
        return f"names no track: {', '.join(unknown)} (tracks: {', '.join(ARM_TRACKS)}, face-<n>)"
    one_face = [name for name in weights if name.startswith("face-")]  # may weigh when face is 0
    if not weighs_any(weights, [*EMOTION_TRACKS, *one_face]):
        return f"weighs every emotion track ({', '.join(EMOTION_TRACKS)}) 0: nothing would be fused"
    if max(weights.values()) > MAX_WEIGHT:
        return f"must hold weights from 0 to {MAX_WEIGHT:g} (relative: 3 and 7 say what 0.3 and 0.7 say)"
    return None


def _arousal_sources(value: list) -> str | None:
    for entry in value:
        track, dot, name = entry.partition(".") if isinstance(entry, str) else ("", "", "")
        if not (dot and _track_name(track) and name):
            return (f"must list TRACK.NAME entries (e.g. \"body.activation\", \"physio.stress\"; tracks: "
                    f"{', '.join(ARM_TRACKS)}), not {entry!r}")
        if name in CANONICAL_LABELS:
            return (f"names the emotion label {entry!r}: arousal reads activation measurements and labels outside the "
                    "emotion spectrum (e.g. body.activation, physio.stress), the spectrum itself already counts")
    if len(set(value)) < len(value):
        return "lists a source twice"
    return None


def _checkpoint_interval(value: float) -> str | None:
    # A checkpoint rewrites the whole timeline so far (2 s of work an hour in): more often than this only
    # slows the session down.
    if value == 0 or MIN_CHECKPOINT_S <= value <= 86400:
        return None
    return f"must be 0 (no checkpoints while the session runs) or {MIN_CHECKPOINT_S:g} to 86400 seconds, not {value:g}"


# Every setting with more to it than its type. Cross-setting rules are in _check_together.
RULES: dict[str, Rule] = {
    "runtime.backend": Rule(choices=BACKENDS),
    "runtime.checkpoint_every_s": Rule(check=_checkpoint_interval),
    "audio.model": Rule(check=_model_named),
    "audio.sample_rate_hz": Rule(check=_audio_rate),
    "audio.window_s": Rule(**SECONDS),
    "audio.hop_s": Rule(**SECONDS),
    "audio.speaker_baseline": Rule(choices=("session", "none")),
    "audio.min_baseline_speech_s": DURATION,
    "audio.min_speech_fraction": Rule(**FRACTION),
    "audio.stream": Rule(1, 64, "an audio stream's number"),
    "face.detector": Rule(check=_model_named),
    "face.landmarks": Rule(check=_model_named),
    "face.sample_fps": Rule(**FRAME_RATE),
    "face.window_s": Rule(**SECONDS),
    "face.hop_s": Rule(**SECONDS),
    "face.person": Rule(check=_person),
    "face.min_face_px": Rule(1, 4096, "a size in pixels"),
    "face.max_side_px": Rule(128, 16384, "a size in pixels"),  # below 128 px a face is too small to find
    "face.search_every_s": Rule(0.0, 3600.0, "a number of seconds"),
    "face.expression_threads": Rule(1, 64, "a number of threads"),
    "body.detector": Rule(check=_model_named),
    "body.landmarks": Rule(check=_model_named),
    "body.sample_fps": Rule(**FRAME_RATE),
    "body.window_s": Rule(**SECONDS),
    "body.hop_s": Rule(**SECONDS),
    "physio.model": Rule(check=_model_named),
    "physio.window_s": Rule(**SECONDS),
    "physio.hop_s": Rule(**SECONDS),
    "physio.live_model": Rule(check=_model_named),
    "physio.live_baseline_s": Rule(0.0, 86400.0, "a number of seconds"),
    "fusion.method": Rule(choices=FUSION_METHODS),
    "fusion.when": Rule(choices=("multiple", "always")),
    "fusion.weights": Rule(check=_weights),
    "fusion.window_s": Rule(**SECONDS),
    "fusion.hop_s": Rule(**SECONDS),
    "fusion.arousal_from": Rule(check=_arousal_sources),
    "fusion.incongruence_confidence": Rule(**FRACTION),
    "fusion.incongruence_divergence": Rule(0.0, 1.0, "a Jensen-Shannon divergence in bits"),
}


class Settings(dict):
    """The settings by section (a plain dict to every reader, and what a timeline records) that also know where
    each value came from, for messages about them: ``source("fusion.model")`` is the config file, "command line"
    or "defaults"; ``options`` the command-line option that set a setting, where one did."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.sources: dict[str, str] = {}
        self.options: dict[str, str] = {}

    def source(self, dotted: str) -> str:
        return self.sources.get(dotted, "defaults")

    def told(self, dotted: str) -> str:
        """What a line about ``dotted`` names as its source: the option the user typed (``--window-s``) where one
        set it, not a setting's name they never typed; else the config file, "command line" or "defaults"."""
        return self.options.get(dotted) or self.source(dotted)

    def given(self, dotted: str) -> Any:
        """The value where a config file or the command line set it, else None: a caller whose own default differs
        from the settings' (a model's own windows) keeps it."""
        section, _, key = dotted.partition(".")
        return None if self.source(dotted) == "defaults" else self[section][key]


def setting_error(settings: Mapping[str, Any], dotted: str, problem: str) -> InputError:
    """An ``InputError`` about one setting: where it came from, its name and value, and ``problem``."""
    source = settings.told(dotted) if isinstance(settings, Settings) else "settings"
    section, _, key = dotted.partition(".")
    value = settings.get(section, {}).get(key)
    return InputError(source, f"setting '{dotted}' = {value!r}: {problem}")


class ConfigSection:
    """Base of a part's settings dataclass, built from its (already validated) config section.

    Keys of the section that the dataclass does not hold (``enabled``, settings of another step) are left to
    their owners; fields the section lacks keep the dataclass defaults.
    """

    @classmethod
    def from_config(cls: type[_Section], section: Mapping[str, Any]) -> _Section:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in section.items() if key in names})


def load_settings(path: Path | None = None, overrides: dict[str, Any] | None = None,
                  options: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then the TOML file at ``path``, then ``overrides`` ("section.key": value, None = unset), each
    given by the command-line option ``options`` names for it, if any.

    Every value is checked against its type and ``RULES``, and the settings together (``_check_together``);
    anything wrong is an ``InputError`` naming the file (or the option, else "command line") and the setting.
    """
    settings = Settings(copy.deepcopy(DEFAULTS))
    if path is not None:
        for section, values in _read_toml(Path(path)).items():
            if not isinstance(values, dict):
                raise InputError(path, f"'{section}' must be a [section]")
            for key, value in values.items():
                _set(settings, f"{section}.{key}", _from_file(path, f"{section}.{key}", value), str(path))
    for dotted, value in (overrides or {}).items():
        if value is not None:
            if options and dotted in options:
                settings.options[dotted] = options[dotted]
            _set(settings, dotted, value, "command line")
    _check_together(settings)
    return settings


def _from_file(path: Path, dotted: str, value: Any) -> Any:
    """A model folder a config file names by a relative path, as a path from the file's own folder: a service
    started from / reads the folder the file beside it names. The folder is the one the file was named in, a
    symbolic link's own, not its target's. ``~`` and ``~user`` are the home folder, as in a shell; a ``~user`` of
    no user here is refused, not read as a folder of that name beside the file. A model id (no slash) stays an id."""
    if dotted not in MODEL_SETTINGS or not isinstance(value, str) or not value or is_model_id(value):
        return value
    expanded = os.path.expanduser(value)  # was: '~/models/voice' looked for under the config's folder, in a '~' folder
    if expanded.startswith("~"):  # left as it was: a shell would too, but a '~user' folder is surely a typo
        head = value.split("/")[0]
        raise InputError(path, f"setting '{dotted}': {head} in {value!r} names no home folder here (no such user)")
    value = expanded
    if Path(value).is_absolute():
        return value
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(path)), value))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = existing_file(path, "config file").read_bytes().decode("utf-8-sig")  # a BOM (Windows editors): no error
        return tomllib.loads(text)
    except FileNotFoundError:  # gone since it was looked at
        raise InputError(path, "no such config file") from None
    except OSError as error:
        raise InputError(path, f"cannot read it: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(path, f"not valid TOML ({error})") from None
    except ValueError as error:  # a number tomllib will not convert (an integer of over 4300 digits)
        raise InputError(path, f"not valid TOML ({str(error).split(':')[0]})") from None


def _set(settings: Settings, dotted: str, value: Any, source: str) -> None:
    section, _, key = dotted.partition(".")
    if section not in DEFAULTS or key not in DEFAULTS[section]:
        raise InputError(source, f"unknown setting '{dotted}'")
    told = settings.options.get(dotted, source)  # the refusals below name the option that gave the value
    default = DEFAULTS[section][key]
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        if not is_number(value):  # an integer no float can hold
            raise InputError(told, f"setting '{dotted}' must be a finite number, not {json_kind(value)}")
        value = float(value)
    if isinstance(default, bool) != isinstance(value, bool) or not isinstance(value, type(default)):
        raise InputError(told, f"setting '{dotted}' must be {type(default).__name__}, not {value!r}")
    if isinstance(value, float) and not math.isfinite(value) and dotted not in RULES:
        raise InputError(told, f"setting '{dotted}' must be a finite number, not {value!r}")
    problem = RULES[dotted].problem(value) if dotted in RULES else None
    if problem:
        raise InputError(told, f"setting '{dotted}' {problem}")
    settings[section][key] = value
    settings.sources[dotted] = source


def _check_together(settings: Settings) -> None:
    """Rules across settings; the message names the layer that set the last of them (command line, file)."""
    face = settings["face"]
    if face["min_face_px"] > face["max_side_px"]:
        raise _conflict(settings, "face.min_face_px", "face.max_side_px",
                        f"is larger than the frames (face.max_side_px = {face['max_side_px']})")
    fusion = settings["fusion"]
    _drop_left_behind(settings, "fusion.weights", fusion["method"] != "weighted")
    _drop_left_behind(settings, "fusion.model", fusion["method"] not in LEARNED_FUSION)
    if fusion["weights"].strip() and fusion["method"] != "weighted":
        raise _conflict(settings, "fusion.weights", "fusion.method",
                        f"is for fusion.method 'weighted' only; fusion.method is {fusion['method']!r}, which would "
                        "ignore them")
    if fusion["model"].strip() and fusion["method"] not in LEARNED_FUSION:
        raise _conflict(settings, "fusion.model", "fusion.method",
                        f"is for the learned methods ({', '.join(LEARNED_FUSION)}) only; fusion.method is "
                        f"{fusion['method']!r}, which would ignore it")


def _drop_left_behind(settings: Settings, dotted: str, ignored: bool) -> None:
    """A method chosen by a later layer than ``dotted`` (``--fusion quality`` over a config's weighted method and
    its weights) leaves ``dotted`` behind: it is cleared, with a warning, rather than refused or recorded unused
    (a clinic's config may hold weights measured for it: the one running the command is told they are not used)."""
    section, _, key = dotted.partition(".")
    if not (ignored and settings[section][key].strip()):
        return
    order = _layers(settings)
    if order.index(settings.source("fusion.method")) > order.index(settings.source(dotted)):
        log.warning("%s: %s = %r left out: fusion.method %r from %s does not use it", settings.source(dotted), dotted,
                 settings[section][key], settings["fusion"]["method"], settings.told("fusion.method"))
        settings[section][key] = ""
        settings.sources[dotted] = settings.source("fusion.method")


def _layers(settings: Settings) -> list[str]:
    """The settings' layers, earliest first: the defaults, config files, the command line."""
    return ["defaults", *[s for s in settings.sources.values() if s not in ("defaults", "command line")],
            "command line"]


def _conflict(settings: Settings, dotted: str, other: str, problem: str) -> InputError:
    """``problem`` with ``dotted``, told by the later of the two settings' layers (the one that made it)."""
    order = _layers(settings)
    later = max((dotted, other), key=lambda name: order.index(settings.source(name)))
    section, _, key = dotted.partition(".")
    return InputError(settings.told(later), f"setting '{dotted}' = {settings[section][key]!r} {problem}")
