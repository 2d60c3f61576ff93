"""Settings: defaults here, a TOML file over them, command-line overrides over that; validated by key.

Each section belongs to one part of the runtime. An unknown key or a value of the wrong type is an
``InputError`` naming the file and the key, so a typo in a clinic's config never passes silently.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from runtime.errors import InputError

_Section = TypeVar("_Section", bound="ConfigSection")

DEFAULTS: dict[str, dict[str, Any]] = {
    "runtime": {
        "backend": "onnxruntime",  # onnxruntime | openvino | tflite | tensorrt
        "realtime": False,  # replay a file at real-time pace, as a live device delivers it
    },
    "audio": {
        "enabled": True,
        "model": "audio-emotion",  # a model id under models/, or a folder
        "sample_rate_hz": 16000,
        "window_s": 2.0,
        "hop_s": 0.5,
        "speaker_baseline": "session",  # session | none
        "min_baseline_speech_s": 20.0,  # less speech than this: no session baseline, said in the settings
        "min_speech_fraction": 0.3,  # a window with less speech makes no claim
    },
    # face: expression + face geometry from sampled video frames (docs/face-body.md); no video stream, no track
    "face": {
        "enabled": True,
        "model": "face-expression",  # expression model id or folder ("" = geometry only)
        "detector": "face-detector",
        "landmarks": "face-landmarks",
        "iris": "iris-landmarks",  # iris model id or folder ("" = no gaze measurements, head pose only)
        "sample_fps": 5.0,
        "window_s": 2.0,
        "hop_s": 1.0,
        "person": "patient",  # patient (present longest and largest) | all (one track each) | a person number
        "min_face_px": 24,
        "max_side_px": 1280,  # frames are scaled down to this longer side before detection
        # CPU threads for the expression CNN, the scan's costliest step. A file scan already runs it in a worker
        # beside decoding, detection and pose, so on 2 cores 1 is fastest (4.4-4.5x vs 3.6-3.8x real time with 2,
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
        "model": "physio-stress",  # a model id under models/, or a folder
        "window_s": 30.0,  # as the shipped model was trained (its card says; other values are warned about)
        "hop_s": 5.0,
    },
    # fusion: the tracks on one window grid, combined into the "fused" track (docs/fusion.md)
    "fusion": {
        "enabled": True,
        "method": "stacking",  # CHOICES["fusion.method"]; learned ones may fall back to quality (docs/fusion.md)
        "when": "multiple",  # multiple: fuse when two or more tracks have something to say; always: also one
        "weights": "",  # for method "weighted": "audio=0.3,face=0.7"
        "model": "",  # learned methods: a model id or folder ("" = models/fusion-<method>)
        "window_s": 2.0,
        "hop_s": 0.5,
        "arousal_from": ["body.activation", "physio.stress"],  # track.measurement or track.label
        "incongruence_confidence": 0.5,  # both modalities this sure of different labels ...
        "incongruence_divergence": 0.4,  # ... and this far apart (Jensen-Shannon, bits): flagged
    },
}

CHOICES: dict[str, tuple[str, ...]] = {
    "runtime.backend": ("onnxruntime", "openvino", "tflite", "tensorrt"),
    "audio.speaker_baseline": ("session", "none"),
    "fusion.method": ("mean", "weighted", "accuracy", "accuracy-class", "quality", "product", "stacking",
                      "attention"),
    "fusion.when": ("multiple", "always"),
}


class ConfigSection:
    """Base of a part's settings dataclass, built from its (already validated) config section.

    Keys of the section that the dataclass does not hold (``enabled``, settings of another step) are left to
    their owners; fields the section lacks keep the dataclass defaults.
    """

    @classmethod
    def from_config(cls: type[_Section], section: Mapping[str, Any]) -> _Section:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in section.items() if key in names})


def load_settings(path: Path | None = None, overrides: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Defaults, then the TOML file at ``path``, then ``overrides`` ("section.key": value, None = unset)."""
    settings = copy.deepcopy(DEFAULTS)
    source = "defaults"
    if path is not None:
        source = str(path)
        try:
            data = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise InputError(path, "no such config file") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise InputError(path, f"not valid TOML ({error})") from None
        for section, values in data.items():
            if not isinstance(values, dict):
                raise InputError(path, f"'{section}' must be a [section]")
            for key, value in values.items():
                _set(settings, f"{section}.{key}", value, source)
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _set(settings, dotted, value, "command line")
    return settings


def _set(settings: dict[str, dict[str, Any]], dotted: str, value: Any, source: str) -> None:
    section, _, key = dotted.partition(".")
    if section not in DEFAULTS or key not in DEFAULTS[section]:
        raise InputError(source, f"unknown setting '{dotted}'")
    default = DEFAULTS[section][key]
    if isinstance(default, bool) != isinstance(value, bool):
        raise InputError(source, f"setting '{dotted}' must be {type(default).__name__}, not {value!r}")
    if isinstance(default, float) and isinstance(value, int):
        value = float(value)
    if not isinstance(value, type(default)):
        raise InputError(source, f"setting '{dotted}' must be {type(default).__name__}, not {value!r}")
    if dotted in CHOICES and value not in CHOICES[dotted]:
        raise InputError(source, f"setting '{dotted}' must be one of {', '.join(CHOICES[dotted])}")
    if dotted == "face.person" and value not in ("patient", "all") and not value.isdigit():
        raise InputError(source, f"setting 'face.person' must be patient, all or a person number, not {value!r}")
    if isinstance(value, float) and key.endswith("_s") and not (math.isfinite(value) and value > 0):
        raise InputError(source, f"setting '{dotted}' must be a positive number of seconds, not {value!r}")
    if key.endswith("_threads") and value < 1:
        raise InputError(source, f"setting '{dotted}' must be at least 1")
    settings[section][key] = value
