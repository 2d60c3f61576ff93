"""The timeline: every track of one analysed input, with what produced it, written atomically.

``timeline.json`` is the exact record; ``timeline.csv`` is its long-form view (one row per window per track).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.errors import InputError
from runtime.track import CANONICAL_LABELS, Track, _json_number

TIMELINE_FORMAT = "emotrace-timeline/1"
CAVEAT = (
    "emotrace assists a clinician's own judgement; it estimates expressed emotion and does not diagnose."
)


@dataclass
class Timeline:
    input_path: str
    duration_s: float
    tracks: list[Track] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    software: dict[str, Any] = field(default_factory=dict)

    def track(self, name: str) -> Track:
        for track in self.tracks:
            if track.name == name:
                return track
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": TIMELINE_FORMAT,
            "caveat": CAVEAT,
            "input": {"path": self.input_path, "duration_s": self.duration_s},
            "labels": list(CANONICAL_LABELS),
            "settings": self.settings,
            "software": self.software,
            "tracks": [t.to_dict() for t in self.tracks],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Timeline:
        if data.get("format") != TIMELINE_FORMAT:
            raise ValueError(f"not an {TIMELINE_FORMAT} document")
        return cls(
            input_path=data["input"]["path"],
            duration_s=float(data["input"]["duration_s"]),
            tracks=[Track.from_dict(t) for t in data["tracks"]],
            settings=dict(data.get("settings", {})),
            software=dict(data.get("software", {})),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> Timeline:
        return cls.from_dict(json.loads(text))

    def to_csv(self) -> str:
        """Long form: ``track,start_s,end_s,quality,reason,<label>...,<measurement>...``."""
        labels = _all_labels(self.tracks)
        measurements: dict[str, None] = {}
        for track in self.tracks:
            measurements.update(dict.fromkeys(track.measurement_names))
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["track", "start_s", "end_s", "quality", "reason", *labels, *measurements])
        for track in self.tracks:
            index = {label: i for i, label in enumerate(track.labels)}
            for w in track.windows:
                probs = [
                    "" if w.probs is None or label not in index else _fmt(w.probs[index[label]])
                    for label in labels
                ]
                values = [_fmt(w.measurements[m]) if m in w.measurements else "" for m in measurements]
                writer.writerow([track.name, _fmt(w.start_s), _fmt(w.end_s), _fmt(w.quality), w.reason,
                                 *probs, *values])
        return buffer.getvalue()


def write_timeline(timeline: Timeline, out_dir: Path) -> tuple[Path, Path]:
    """Write ``timeline.json`` and ``timeline.csv`` into ``out_dir``; each file appears whole or not at all."""
    json_text, csv_text = timeline.to_json(), timeline.to_csv()  # before the folder: a failure leaves nothing
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(out_dir, f"cannot make the folder: {error.strerror or error}") from None
    json_path, csv_path = out_dir / "timeline.json", out_dir / "timeline.csv"
    write_atomically(csv_path, csv_text.encode())
    write_atomically(json_path, json_text.encode())
    return json_path, csv_path


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` and rename it into place.

    The file gets the permissions any new file gets (0666 less the umask), not mkstemp's 0600: a clinic sets
    who reads its session files with the service's umask, as for every other file it writes. A failure to
    create, write or rename (no permission, disk full, folder gone) is an ``InputError`` naming ``path``; the
    temporary file is removed.
    """
    path = Path(path)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.part"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise
    except OSError as error:
        raise InputError(path, f"cannot write it: {error.strerror or error}") from None


def _all_labels(tracks: list[Track]) -> list[str]:
    labels = list(CANONICAL_LABELS)
    for track in tracks:
        labels += [label for label in track.labels if label not in labels]
    return labels


def _fmt(value: float) -> str:
    number = _json_number(value)
    if number is None:
        return "nan"
    return number if isinstance(number, str) else repr(round(number, 6))
