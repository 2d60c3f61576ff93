"""The Track: the one data type every arm produces and fusion, the store and the dashboard consume.

A track is a sequence of windows on the session clock. Each window carries probabilities over the
track's labels (or none, when it makes no claim), a quality in [0, 1] with a reason when it is 0,
and named measurements. Tracks round-trip exactly through JSON.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# The canonical label set, in canonical order (RAVDESS's eight emotions).
CANONICAL_LABELS: tuple[str, ...] = (
    "neutral",
    "calm",
    "happy",
    "sad",
    "angry",
    "fearful",
    "disgust",
    "surprised",
)
# The whole words for each label a labelled dataset, a folder or a checkpoint's class may use.
LABEL_WORDS: dict[str, str] = {
    **{label: label for label in CANONICAL_LABELS},
    "neutrality": "neutral",
    "calmness": "calm", "relaxed": "calm",
    "mad": "angry",
    "happiness": "happy", "joy": "happy", "joyful": "happy",
    "sadness": "sad",
    "anger": "angry",
    "fear": "fearful", "afraid": "fearful", "scared": "fearful",
    "disgusted": "disgust",
    "surprise": "surprised", "surprize": "surprised", "pleasant_surprise": "surprised",
}
# Corpus codes and slang (IEMOCAP's 'neu', 'hap+exc', TESS's 'ps'): fine in a manifest's label column, but a
# folder so named may as well be a person's initials, so a folder's name is read by whole words alone.
LABEL_SHORT_FORMS: dict[str, str] = {
    "neu": "neutral", "n": "neutral",
    "hap": "happy", "hap+exc": "happy",
    "ang": "angry",
    "fea": "fearful",
    "dis": "disgust",
    "sur": "surprised", "ps": "surprised",
}
# Every word for each label (a manifest's label column, a fine-tuned model's class names:
# export/audio/backbones/labels.py matches them word by word).
LABEL_SYNONYMS: dict[str, str] = {**LABEL_WORDS, **LABEL_SHORT_FORMS}


def tidy_label(word: str) -> str:
    """A label word as the label lists read it: Unicode NFC (a Mac's 'é' decomposed is the same), case-folded, '_'
    read as a space, spaces one ('Very_Anxious', ' very  anxious ' are 'very anxious')."""
    return " ".join(unicodedata.normalize("NFC", word).casefold().replace("_", " ").split())


def _label_key(word: str) -> str:
    return tidy_label(word).replace(" ", "_")


def canonical_label(word: str) -> str | None:
    """The canonical label ``word`` names ('joy', 'Anger', 'pleasant surprise', 'neu'), or None."""
    return LABEL_SYNONYMS.get(_label_key(word))


def folder_label(name: str) -> str | None:
    """The canonical label a folder's name gives, by whole label words alone ('happy', 'Fear', 'joy'), or None:
    a folder named 'n', 'ps' or 'neu' is as likely a person's initials as an emotion's code."""
    return LABEL_WORDS.get(_label_key(name))


def given_label(word: str) -> str:
    """A label a user wrote where own labels are asked for (``train audio --labels-as-given``, ``train body``),
    tidied first (``tidy_label``: 'Very_Anxious' and 'very  anxious' are 'very anxious'); then the canonical label
    its whole words name ('Joy_' is happy, 'pleasant  surprise' surprised; a short form, 'N', 'ps', 'dis', may be
    anything in a clinic's scheme, so it stays its own, as a folder's name does: ``folder_label``), else the tidied
    word."""
    tidied = tidy_label(word)
    return folder_label(tidied) or tidied


def outside_canonical(labels: Iterable[str]) -> list[str]:
    """Those of ``labels`` that are none of the canonical ones, in their order: a model's own (a voice model's
    trained with --labels-as-given, a body classifier's words)."""
    return [label for label in labels if label not in CANONICAL_LABELS]


def label_order(labels: Iterable[str]) -> list[str]:
    """``labels`` once each: the canonical ones in canonical order (a track keeps it), then the others sorted."""
    present = set(labels)
    return [label for label in CANONICAL_LABELS if label in present] + sorted(outside_canonical(present))


@dataclass
class Window:
    """One analysis window of a track. ``probs`` follow the track's ``labels`` order, None on a label the window
    gives no probability (the fused track's, where none of the modalities it read there can name the label):
    ``null`` in timeline.json, an empty cell in timeline.csv. None, not NaN: NaN passes silently through
    ``argmax`` and ``==``, None fails loudly where a reader forgets it."""

    start_s: float
    end_s: float
    probs: list[float | None] | None = None
    quality: float = 0.0
    reason: str = ""
    measurements: dict[str, float] = field(default_factory=dict)

    @property
    def has_claim(self) -> bool:
        return self.probs is not None and self.quality > 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_s": self.start_s,
            "end_s": self.end_s,
            "probs": None if self.probs is None else list(self.probs),
            "quality": self.quality,
            "reason": self.reason,
            "measurements": {k: _json_number(v) for k, v in self.measurements.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Window:
        """A window as ``to_dict`` writes it; anything else is a ``TrackFormatError`` saying which field."""
        if not isinstance(data, dict):
            raise TrackFormatError(f"is {json_kind(data)}, not an object")
        for key in ("start_s", "end_s"):
            if key not in data:
                raise TrackFormatError(f"lacks {key}")
        probs = data.get("probs")
        if probs is not None and not isinstance(probs, list):
            raise TrackFormatError(f"probs is {json_kind(probs)}, not a list or null")
        measurements = data.get("measurements", {})
        if not isinstance(measurements, dict):
            raise TrackFormatError(f"measurements is {json_kind(measurements)}, not an object")
        return cls(
            start_s=_field_number(data["start_s"], "start_s"),
            end_s=_field_number(data["end_s"], "end_s"),
            probs=None if probs is None else [None if p is None else _field_number(p, "probs") for p in probs],
            quality=_field_number(data.get("quality", 0.0), "quality"),
            reason=data.get("reason", ""),  # checked with the rest (``problem``), as the writer checks it
            measurements={str(k): _number_from_json(v, f"measurement {k!r}") for k, v in measurements.items()},
        )

    def problem(self, n_labels: int) -> str | None:
        """What breaks the window's rules (finite times with end after start, quality in [0, 1], a probability
        from 0 to 1 or None per label, not all None, or none at all, a reason in text, measurements that are
        numbers), or None. The reader checks a window it has read with this, the writer one it is about to
        write."""
        for name in ("start_s", "end_s", "quality"):
            value = getattr(self, name)
            if not is_number(value) or not math.isfinite(value):
                return f"{name} is {json_kind(value)}, not a finite number"
        if not isinstance(self.reason, str):
            return f"reason is {json_kind(self.reason)}, not text"
        if not isinstance(self.measurements, dict):
            return f"measurements is {json_kind(self.measurements)}, not an object"
        for name, value in self.measurements.items():
            if not isinstance(name, str):
                return f"a measurement's name is {json_kind(name)}, not text"
            if not name:
                return "a measurement's name is empty"
            if not is_number(value):  # NaN and infinities are numbers: written as null, "inf", "-inf"
                return f"measurement {name!r} is {json_kind(value)}, not a number"
        if not self.end_s > self.start_s:
            return f"end_s {self.end_s!r} is not after start_s {self.start_s!r}"
        if not -TOLERANCE <= self.quality <= 1.0 + TOLERANCE:
            return f"quality {self.quality!r} is outside [0, 1]"
        if self.probs is not None:
            if len(self.probs) != n_labels:
                return f"{len(self.probs)} probabilities for {n_labels} labels"
            for p in self.probs:
                if not (p is None or (is_number(p) and -TOLERANCE <= p <= 1.0 + TOLERANCE)):  # NaN too
                    return f"probability {p!r} is not a number from 0 to 1 or null"
            if all(p is None for p in self.probs):  # [] too, the probabilities of a track of no labels
                return "no label has a probability (a window without a claim has probs null)"
        return None


class TrackFormatError(ValueError):
    """A track or window that breaks the Track's rules (on reading a timeline, or before writing one); the
    message says which track, which window and what."""


@dataclass
class Track:
    """Windows from one source of evidence (an arm, or fusion) with what produced them."""

    name: str
    labels: list[str] = field(default_factory=lambda: list(CANONICAL_LABELS))
    windows: list[Window] = field(default_factory=list)
    unsupported_labels: list[str] = field(default_factory=list)
    model: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Non-canonical labels (e.g. a physiological "stress") are allowed; canonical ones keep their order.
        canonical = [label for label in self.labels if label in CANONICAL_LABELS]
        if canonical != [label for label in CANONICAL_LABELS if label in canonical]:
            raise ValueError(f"track {self.name!r}: canonical labels must keep the canonical order")

    @property
    def measurement_names(self) -> list[str]:
        names: dict[str, None] = {}
        for window in self.windows:
            names.update(dict.fromkeys(window.measurements))
        return list(names)

    def probs_matrix(self, labels: Sequence[str] = CANONICAL_LABELS) -> np.ndarray:
        """Probabilities as a (n_windows, len(labels)) array; NaN rows where a window has no claim, NaN where it
        gives a label no probability (None).

        Labels the track does not speak about are 0.
        """
        matrix = np.full((len(self.windows), len(labels)), np.nan)
        index = {label: i for i, label in enumerate(self.labels)}
        for row, window in enumerate(self.windows):
            if window.probs is None:
                continue
            matrix[row] = [window.probs[index[label]] if label in index else 0.0 for label in labels]
        return matrix

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "labels": list(self.labels),
            "unsupported_labels": list(self.unsupported_labels),
            "model": self.model,
            "settings": self.settings,
            "windows": [w.to_dict() for w in self.windows],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Track:
        """A track as ``to_dict`` writes it, checked (``check``); anything else is a ``TrackFormatError``."""
        if not isinstance(data, dict):
            raise TrackFormatError(f"a track is {json_kind(data)}, not an object")
        name = data.get("name")
        if problem := _name_problem(name):
            raise TrackFormatError(problem)
        where = f"track {name!r}"
        for key in ("labels", "unsupported_labels", "windows", "model", "settings"):
            if key in data and (problem := _field_problem(key, data[key])):  # absent: as Track's default
                raise TrackFormatError(f"{where}: {problem}")
        if "labels" not in data:
            raise TrackFormatError(f"{where}: lacks labels")
        windows = []
        for i, window in enumerate(data.get("windows", [])):
            try:
                windows.append(Window.from_dict(window))
            except TrackFormatError as error:
                raise TrackFormatError(f"{where}, window {i}: {error}") from None
        try:
            track = cls(name=name, labels=list(data["labels"]),
                        unsupported_labels=list(data.get("unsupported_labels", [])),
                        model=dict(data.get("model", {})), settings=dict(data.get("settings", {})), windows=windows)
        except ValueError as error:
            raise TrackFormatError(str(error)) from None
        track.check()
        return track

    def stopped_reason(self) -> str:
        """Why the stream the track reads stopped before its end (a file cut short or unreadable past a point, the
        user's stop, a failure), as the track records it: the voice's ``status`` where it is not "complete", the
        face's and body's ``frames.stopped_reason``; "" for a stream read to its end."""
        status = self.settings.get("status", "complete")
        if status != "complete":
            return str(status)
        return str((self.settings.get("frames") or {}).get("stopped_reason") or "")

    def check(self) -> None:
        """Raise ``TrackFormatError`` naming what breaks the rules: the track's own fields (a name, labels and
        unsupported labels each a word once, a model and settings that are objects) or the window (number and
        span) that does, its own (``Window.problem``: finite times, quality in [0, 1], one probability per label,
        measurements that are numbers) or the order (by start). The reader checks a track it has read with this,
        the writer one it is about to write: what is written can be read."""
        if problem := _name_problem(self.name):
            raise TrackFormatError(problem)
        for key in ("labels", "unsupported_labels", "windows", "model", "settings"):
            if problem := _field_problem(key, getattr(self, key)):
                raise TrackFormatError(f"track {self.name!r}: {problem}")
        previous = -math.inf
        for i, window in enumerate(self.windows):
            problem = window.problem(len(self.labels))
            if problem is None and window.start_s < previous:
                problem = "starts before the window ahead of it (windows go in time order)"
            if problem:
                span = f"{window.start_s!r}-{window.end_s!r} s"
                raise TrackFormatError(f"track {self.name!r}, window {i} ({span}): {problem}")
            previous = window.start_s


def _name_problem(name: Any) -> str | None:
    if isinstance(name, str):
        return None if name else "a track's name is empty"
    return f"a track's name is {json_kind(name)}, not text"


def _field_problem(key: str, value: Any) -> str | None:
    """What is wrong with a track's field ``key`` (labels and unsupported_labels: lists of words, each once;
    windows: a list; model and settings: objects), or None."""
    if key in ("model", "settings"):
        return None if isinstance(value, dict) else f"{key} is {json_kind(value)}, not an object"
    if not isinstance(value, list):
        return f"{key} is {json_kind(value)}, not a list" + (" of labels" if key != "windows" else "")
    if key == "windows":
        return None
    for label in value:
        if not isinstance(label, str) or not label:
            return f"{key} holds {json_kind(label)}, not a label (a word)"
    if len(set(value)) < len(value):
        return f"a label is listed twice in {key} ({', '.join(value)})"
    return None


# A recording reaching less than this past the regular grid's last window gets no shorter tail window: a
# timestamped file's last stamps jitter by fractions of a millisecond, which would otherwise add a window.
TAIL_MIN_S = 1e-3


def track_family(name: str) -> str:
    """The arm a track's name comes from: ``face-2`` (one person's face, face.person = "all") is a ``face``."""
    return name.partition("-")[0]


def time_stood_for_s(spans_s: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The time each window stands for, (from_s, to_s), for windows (start_s, end_s) in order of start: windows
    that overlap or touch meet half-way between their centres, so each stands for the time nearer its centre than
    its neighbours'; where no window covers the time (a hop longer than the window, a gap in a track) the window
    before stands for time up to the furthest end reached so far and the next from its own start, so no window
    stands for time nothing covers; the spans are in order and the last reaches the furthest end. The one rule the
    reading's stretches and fusion's alignment share."""
    stood: list[tuple[float, float]] = []
    reach_s = -math.inf
    for i, (start_s, end_s) in enumerate(spans_s):
        if i == 0 or reach_s < start_s:
            begin_s = start_s
            if stood:
                stood[-1] = (stood[-1][0], reach_s)
        else:
            previous_start_s, previous_end_s = spans_s[i - 1]
            half_way_s = ((previous_start_s + previous_end_s) / 2 + (start_s + end_s) / 2) / 2
            # a window inside a longer one whose centre is later: in order, never past its own end
            begin_s = min(max(half_way_s, stood[-1][0]), end_s)
            stood[-1] = (stood[-1][0], begin_s)
        stood.append((begin_s, end_s))
        reach_s = max(reach_s, end_s)
    if stood:  # the last stands for the time up to the furthest end reached (it may lie inside a longer one)
        stood[-1] = (stood[-1][0], reach_s)
    return stood


def window_grid(duration_s: float, window_s: float, hop_s: float) -> list[tuple[float, float]]:
    """Regular (start_s, end_s) windows covering ``duration_s``; the last one may be shorter.

    A recording shorter than one window still gets one window spanning it. Every window ends after it starts.
    Windows start every ``hop_s``; a hop longer than the window leaves gaps between them (allowed: a coarse
    view of a long session), and no window starts at or after the end. The end of a recording reaching less
    than ``TAIL_MIN_S`` past the regular windows gets no window of its own.
    """
    if not (window_s > 0 and hop_s > 0 and math.isfinite(window_s) and math.isfinite(hop_s)):
        raise ValueError("window_s and hop_s must be positive finite numbers")
    if not duration_s > 0:
        return []
    if not math.isfinite(duration_s):  # a length not known (a header's inf) is the caller's to settle
        raise ValueError(f"duration_s must be finite, not {duration_s}")
    end = round(float(duration_s), 6)
    starts = np.arange(0.0, max(duration_s - window_s, 0.0) + 1e-9, hop_s)
    grid = [(round(float(s), 6), round(float(min(s + window_s, duration_s)), 6)) for s in starts]
    tail = round(float(starts[-1] + hop_s), 6)
    if grid[-1][1] < end - TAIL_MIN_S and tail < end - TAIL_MIN_S:
        grid.append((tail, end))
    return [(start, stop) for start, stop in grid if stop > start]


class InstantsByWindow:
    """Which of a series of instants fall in a window ``[start_s, end_s)``, by binary search over them sorted.

    Masking every instant for every window grows with the square of a session's length; this is logarithmic
    per window. ``indices`` are positions in the original series, ascending, so a window's items keep their
    original order, as a mask would give them.
    """

    def __init__(self, times_s: Sequence[float] | np.ndarray):
        times = np.asarray(times_s, dtype=float)
        self._order = np.argsort(times, kind="stable")
        self._sorted_s = times[self._order]

    def _span(self, start_s: float, end_s: float) -> tuple[int, int]:
        first, stop = np.searchsorted(self._sorted_s, [start_s, end_s], side="left")
        return int(first), int(stop)

    def count(self, start_s: float, end_s: float) -> int:
        first, stop = self._span(start_s, end_s)
        return max(stop - first, 0)

    def indices(self, start_s: float, end_s: float) -> np.ndarray:
        first, stop = self._span(start_s, end_s)
        return np.sort(self._order[first:stop])


class Coverage:
    """How much of a window lies within what a series of instants spans: from the first to ``reach_s`` after the
    last (a camera's frames, the last standing for the time until the next was due). A window the camera saw
    only in part, because it started late or was lost or stalled for good within it, is covered in part.
    Between the first and the last instant all is covered: frames sparse there come from a scan slower than the
    camera or a recording that writes no frame while the picture stands still, which a short stall or a stretch
    of corrupt packets cannot be told from."""

    def __init__(self, times_s: Sequence[float] | np.ndarray, reach_s: float):
        times = np.asarray(times_s, dtype=float)
        self._span_s = (float(times.min()), float(times.max()) + reach_s) if times.size else None

    def fraction(self, start_s: float, end_s: float) -> float:
        if end_s <= start_s or self._span_s is None:
            return 0.0
        covered_s = min(end_s, self._span_s[1]) - max(start_s, self._span_s[0])
        return float(min(1.0, max(0.0, covered_s) / (end_s - start_s)))


def leading_label_index(probs: Sequence[float | None]) -> int:
    """The index of a claim's largest probability, the labels it gives none (None) passed over."""
    return max((i for i, p in enumerate(probs) if p is not None), key=lambda i: probs[i])


def _json_number(value: float) -> float | str | None:
    # JSON has no NaN/Infinity: keep them explicit so the round trip is exact.
    value = float(value)
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def csv_number(value: float, missing: str = "") -> str:
    """A number for a CSV cell: to six decimals, ``inf``/``-inf`` as such, and NaN as ``missing`` (an empty cell,
    which spreadsheets and pandas alike read as missing; ``nan`` is text to a spreadsheet)."""
    number = _json_number(value)
    if number is None:
        return missing
    return number if isinstance(number, str) else repr(round(number, 6))


def _number_from_json(value: float | str | None, what: str = "a value") -> float:
    if value is None:
        return math.nan
    if value == "inf":
        return math.inf
    if value == "-inf":
        return -math.inf
    if not is_number(value):
        raise TrackFormatError(f"{what} is {json_kind(value)}, not a number, null, \"inf\" or \"-inf\"")
    return float(value)


TOLERANCE = 1e-6  # rounding in probabilities and qualities written to 6 places
# A window's quality under which little evidence stands behind its claim (a face seen in a tenth of it): fusion
# leaves such a modality's claim out (kept where it is all there is), and what is printed says so.
WEAK_QUALITY = 0.2


def is_number(value: Any) -> bool:
    """A number as JSON or numpy gives it, that a float can hold: not a bool, not an integer of hundreds of digits
    (float() and math.isfinite() would raise on it)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    try:
        float(value)
    except OverflowError:
        return False
    return True


def _field_number(value: Any, name: str) -> float:
    if not is_number(value):
        raise TrackFormatError(f"{name} is {json_kind(value)}, not a number")
    return float(value)


def json_kind(value: Any) -> str:
    """How a JSON value reads in a message: null, a number, text '...', a list, an object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f"text {value[:40]!r}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, int) and not is_number(value):
        return f"an integer of {len(str(abs(value)))} digits"
    return repr(value)
