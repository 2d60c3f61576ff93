"""Stress-Predict (Empatica E4, S01-S28) as labelled feature windows, through the device's own feature code.

``raw/SXX.zip`` are E4 exports; ``labels/stress_labels_S02-S28.csv`` (and any ``labels/stress_labels*.csv``
beside it: more subjects' labels in the same form) has one row per second
(``Participant,HR,respr,Time(sec),Label``), ``Time(sec)`` UNIX UTC on the E4's clock, ``Label`` 1 during the
three stress tasks. A label row with time T covers [T, T + 1). S01 has no labels and is not used.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

import runtime.arms.physio as physio_code
import runtime.track as track_code
from export.arrays import read_cache, save_npz
from runtime.arms.physio.features import MEASUREMENTS, feature_matrix, recording_features
from runtime.arms.physio.readers.e4 import read_e4
from runtime.errors import InputError
from runtime.files import read_csv_rows
from runtime.models.card import file_sha256
from runtime.stopping import raise_if_stop_asked
from runtime.timeline import installed_versions

log = logging.getLogger("emotrace.physio")

LABELS_DIR = Path("labels")
LABELS_FILE = LABELS_DIR / "stress_labels_S02-S28.csv"  # the corpus's own
LABEL_FILES = "stress_labels*.csv"  # every one is read: more subjects may come in a file of their own
LABEL_FILES_TEXT = f"{LABELS_DIR}/{LABEL_FILES}"
MIN_LABELLED_FRACTION = 0.8  # windows with fewer labelled seconds than this are left out
LABEL_COLUMNS = ("Participant", "Time(sec)", "Label")
# The libraries whose processing the features are (neurokit2's peaks and EDA decomposition, run on numpy, scipy
# and pandas): another version of one can move every figure, so cached windows name them.
WINDOW_LIBRARIES = ("neurokit2", "numpy", "scipy", "pandas")


@dataclass
class SubjectWindows:
    subject: str
    starts_s: np.ndarray  # window starts on the recording clock
    features: np.ndarray  # (n, len(MEASUREMENTS))
    quality: np.ndarray
    stress_fraction: np.ndarray  # share of the window's labelled seconds marked stress


class Spanned(Protocol):
    """A window on a recording's clock: the feature code's and the stress model's windows alike."""

    start_s: float
    end_s: float


def load_labels(data_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Subject id ('S02') -> (UNIX second starts, 0/1 labels), sorted by time, from each ``labels/stress_labels*.csv``.

    Every row is checked (the line named): a participant number, a finite time, a label of 0 or 1, and no
    second labelled twice for one subject (a repeated row would count twice, a contradicting one as half stress);
    a subject is labelled in one file only.
    """
    rows: dict[str, dict[float, int]] = {}
    where: dict[str, Path] = {}
    for path in _label_paths(data_dir):
        read = _read_label_rows(path)
        if not read:
            raise InputError(path, "no label rows")
        for subject in read:
            if subject in where:
                raise InputError(path, f"labels {subject}, whom {where[subject].name} labels too: one file a subject")
            where[subject] = path
        rows |= read
    return {subject: (np.array(sorted(seconds)), np.array([seconds[t] for t in sorted(seconds)], dtype=float))
            for subject, seconds in sorted(rows.items())}


def label_file(data_dir: Path, subject: str) -> Path:
    """The label file that labels ``subject`` (``load_labels`` has read them all: this reads them again, for a
    message that names the file)."""
    return next(path for path in _label_paths(data_dir) if subject in _read_label_rows(path))


def _label_paths(data_dir: Path) -> list[Path]:
    paths = sorted((Path(data_dir) / LABELS_DIR).glob(LABEL_FILES))
    if not paths:
        raise InputError(Path(data_dir) / LABELS_DIR, f"no Stress-Predict label file there ({LABEL_FILES})")
    return paths


def _read_label_rows(path: Path) -> dict[str, dict[float, int]]:
    rows: dict[str, dict[float, int]] = {}
    header, lines = read_csv_rows(path)
    missing = [c for c in LABEL_COLUMNS if c not in header]
    if missing:
        raise InputError(path, f"needs the columns {', '.join(LABEL_COLUMNS)} (comma-separated); "
                         f"found {', '.join(header) or 'none'}")
    for line, row in lines:
        subject, time_s, label = _label_row(path, line, row)
        seconds = rows.setdefault(subject, {})
        if time_s in seconds:
            raise InputError(path, f"line {line}: {subject} has a label for {time_s:.0f} already")
        seconds[time_s] = label
    return rows


def _label_row(path: Path, line: int, row: dict[str, str]) -> tuple[str, float, int]:
    """(subject id, UNIX second, 0/1 label) of one row, or an InputError naming the line."""
    try:
        participant, time_s, label = (float(row[c]) for c in LABEL_COLUMNS)
    except (TypeError, ValueError):
        cells = ", ".join(f"{c} {row.get(c)!r}" for c in LABEL_COLUMNS)
        raise InputError(path, f"line {line}: {cells}: not all numbers") from None
    if not (participant.is_integer() and participant > 0):
        raise InputError(path, f"line {line}: Participant {row['Participant']!r} is not a participant number")
    if not math.isfinite(time_s):
        raise InputError(path, f"line {line}: Time(sec) {row['Time(sec)']!r} is not a time")
    if label not in (0.0, 1.0):
        raise InputError(path, f"line {line}: Label {row['Label']!r} is neither 0 nor 1")
    return f"S{int(participant):02d}", time_s, int(label)


def stress_label(stress_fraction: np.ndarray) -> np.ndarray:
    """A window's label: stress (1) when at least half of its labelled seconds are (a window split evenly is
    stress), else 0 (the fraction must be finite)."""
    return (np.asarray(stress_fraction) >= 0.5).astype(int)


def window_stress_fraction(
    label_times_unix_s: np.ndarray, labels: np.ndarray, start_unix_s: float, end_unix_s: float
) -> tuple[float, float]:
    """(share of the window covered by label seconds, share of those seconds that are stress)."""
    lo = int(np.searchsorted(label_times_unix_s, start_unix_s - 1e-9, side="left"))
    hi = int(np.searchsorted(label_times_unix_s, end_unix_s - 1.0 + 1e-9, side="right"))
    covered = hi - lo
    if covered <= 0:
        return 0.0, float("nan")
    return covered / (end_unix_s - start_unix_s), float(np.mean(labels[lo:hi]))


def subject_windows(
    data_dir: Path,
    subject: str,
    label_table: tuple[np.ndarray, np.ndarray],
    window_s: float,
    hop_s: float,
    without: tuple[str, ...] = (),
) -> SubjectWindows:
    """The subject's windows; ``without`` names channels to leave out, as a source that lacks them would."""
    recording = read_e4(Path(data_dir) / "raw" / f"{subject}.zip")
    for channel in without:
        recording.channels.pop(channel, None)
    windows = recording_features(recording, window_s, hop_s)
    # Session statistics use every window of the recording, as on the device; the kept ones are labelled.
    all_features = feature_matrix(windows)
    return SubjectWindows(
        subject=subject,
        starts_s=np.array([windows[i].start_s for i in range(len(windows))]),
        features=all_features,
        quality=np.array([w.quality for w in windows]),
        stress_fraction=labelled_fractions(windows, recording.start_unix_s, label_table, window_s),
    )


def labelled_fractions(windows: Sequence[Spanned], start_unix_s: float, label_table: tuple[np.ndarray, np.ndarray],
                       window_s: float) -> np.ndarray:
    """Each window's share of stress seconds where it is kept, NaN where not: a window is kept when it is whole
    (``window_s`` long) and at least ``MIN_LABELLED_FRACTION`` of it is labelled. ``windows``: their ``start_s`` and
    ``end_s`` on the clock of a recording starting at UNIX ``start_unix_s``."""
    times, labels = label_table
    out = np.full(len(windows), np.nan)
    for i, w in enumerate(windows):
        covered, fraction = window_stress_fraction(times, labels, start_unix_s + w.start_s, start_unix_s + w.end_s)
        if w.end_s - w.start_s >= window_s - 1e-6 and covered >= MIN_LABELLED_FRACTION:
            out[i] = fraction
    return out


CACHE_SUFFIX = ".npz"  # of each subject's cached windows in a cache folder


def load_dataset(
    data_dir: Path,
    window_s: float,
    hop_s: float,
    subjects: list[str] | None = None,
    cache_dir: Path | None = None,
    without: tuple[str, ...] = (),
) -> list[SubjectWindows]:
    """Every labelled subject's windows (``without`` those channels); cached as .npz per subject and setting,
    and read back only when computed from the same recording, labels, settings, code (reading, window grid,
    features, labelling) and feature libraries' versions (``windows_key``)."""
    table = load_labels(data_dir)
    result = []
    for subject in sorted(subjects or table):
        raise_if_stop_asked()  # a library can swallow the signal's own KeyboardInterrupt
        zip_path = Path(data_dir) / "raw" / f"{subject}.zip"
        cache = key = None
        if cache_dir is not None:
            if not zip_path.is_file():
                raise InputError(zip_path, f"no recording for {subject}, who has labels")
            left_out = "".join(f"_without-{c}" for c in without)
            cache = Path(cache_dir) / f"{subject}_w{window_s:g}_h{hop_s:g}{left_out}{CACHE_SUFFIX}"
            key = windows_key(zip_path, table[subject], window_s, hop_s, without)
            cached = read_cached_windows(cache, subject, key)
            if cached is not None:
                result.append(cached)
                continue
        windows = subject_windows(data_dir, subject, table[subject], window_s, hop_s, without)
        if not np.isfinite(windows.stress_fraction).any():
            raise InputError(zip_path, f"no window of {subject}'s recording is labelled: the labels "
                             f"({_unix_span(table[subject][0])}) do not cover it")
        if cache is not None:
            write_cached_windows(cache, windows, key)
        result.append(windows)
    return result


def _unix_span(times_unix_s: np.ndarray) -> str:
    return f"UNIX {times_unix_s[0]:.0f}..{times_unix_s[-1] + 1:.0f}"


def windows_key(
    zip_path: Path, label_table: tuple[np.ndarray, np.ndarray], window_s: float, hop_s: float, without: tuple[str, ...]
) -> str:
    """What a subject's windows are computed from: the recording's bytes, its label seconds, the window settings,
    the source of the code that reads, windows, computes and labels them, and the versions of the libraries the
    features are computed with. Cached windows with another key are stale."""
    digest = hashlib.sha256()
    digest.update(file_sha256(zip_path).encode())
    for array in label_table:
        digest.update(np.ascontiguousarray(array, dtype=float).tobytes())
    digest.update(repr((window_s, hop_s, without, MEASUREMENTS)).encode())
    for path in window_code_files():
        digest.update(file_sha256(path).encode())
    digest.update(repr(library_versions()).encode())
    return digest.hexdigest()


def window_code_files() -> list[Path]:
    """The code a subject's windows are computed by: the physio arm's package, what a recording is, its readers
    and the features; the window grid; and this module, which labels them (which windows are kept and how)."""
    folder = Path(physio_code.__file__).parent
    return [folder / "__init__.py", folder / "recording.py", folder / "features.py",
            *sorted((folder / "readers").glob("*.py")), Path(track_code.__file__), Path(__file__)]


def library_versions() -> tuple[tuple[str, str], ...]:
    """(name, installed version) of each of WINDOW_LIBRARIES ("none" where it is not installed)."""
    return tuple((name, found or "none") for name, found in installed_versions(WINDOW_LIBRARIES).items())


def write_cached_windows(path: Path, windows: SubjectWindows, key: str) -> None:
    """The windows as .npz, whole or not at all (an interrupted run leaves no truncated file), with the key of
    what they were computed from (``windows_key``)."""
    save_npz(path, starts_s=windows.starts_s, features=windows.features, quality=windows.quality,
             stress_fraction=windows.stress_fraction, measurements=np.array(MEASUREMENTS), key=np.array(key))


def read_cached_windows(path: Path, subject: str, key: str) -> SubjectWindows | None:
    """Cached windows, or None (computed again) when there are none, they are unreadable, or they were computed
    from another recording, other labels, other settings, other code or other library versions."""
    if not path.is_file():
        return None
    data = read_cache(path, ("key", "starts_s", "features", "quality", "stress_fraction"))
    if data is None:  # unreadable, or of a kind written before caches had keys
        return None
    if str(data["key"]) != key:
        log.warning("%s: computed from other data, settings, code or library versions; computed again", path)
        return None
    return SubjectWindows(subject, data["starts_s"], data["features"], data["quality"], data["stress_fraction"])


__all__ = ["MEASUREMENTS", "SubjectWindows", "load_dataset", "load_labels", "subject_windows"]
