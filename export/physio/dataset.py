"""Stress-Predict (Empatica E4, S01-S28) as labelled feature windows, through the device's own feature code.

``raw/SXX.zip`` are E4 exports; ``labels/stress_labels_S02-S28.csv`` has one row per second
(``Participant,HR,respr,Time(sec),Label``), ``Time(sec)`` UNIX UTC on the E4's clock, ``Label`` 1 during the
three stress tasks. A label row with time T covers [T, T + 1). S01 has no labels and is not used.
"""

from __future__ import annotations

import csv
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from export.arrays import save_npz
from runtime.arms.physio.features import MEASUREMENTS, feature_matrix, recording_features
from runtime.arms.physio.recording import read_e4
from runtime.errors import InputError

log = logging.getLogger("emotrace.physio")

LABELS_FILE = Path("labels") / "stress_labels_S02-S28.csv"
MIN_LABELLED_FRACTION = 0.8  # windows with fewer labelled seconds than this are left out


@dataclass
class SubjectWindows:
    subject: str
    starts_s: np.ndarray  # window starts on the recording clock
    features: np.ndarray  # (n, len(MEASUREMENTS))
    quality: np.ndarray
    stress_fraction: np.ndarray  # share of the window's labelled seconds marked stress


def load_labels(data_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Subject id ('S02') -> (UNIX second starts, 0/1 labels), sorted by time."""
    path = Path(data_dir) / LABELS_FILE
    if not path.is_file():
        raise InputError(path, "no Stress-Predict label file there")
    rows: dict[str, list[tuple[float, int]]] = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            subject = f"S{int(float(row['Participant'])):02d}"
            rows.setdefault(subject, []).append((float(row["Time(sec)"]), int(float(row["Label"]))))
    out = {}
    for subject, pairs in rows.items():
        pairs.sort()
        out[subject] = (np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs], dtype=float))
    return out


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
    times, labels = label_table
    keep, fractions = [], []
    for i, w in enumerate(windows):
        covered, fraction = window_stress_fraction(
            times, labels, recording.start_unix_s + w.start_s, recording.start_unix_s + w.end_s
        )
        if w.end_s - w.start_s >= window_s - 1e-6 and covered >= MIN_LABELLED_FRACTION:
            keep.append(i)
            fractions.append(fraction)
    # Session statistics use every window of the recording, as on the device; the kept ones are labelled.
    all_features = feature_matrix(windows)
    return SubjectWindows(
        subject=subject,
        starts_s=np.array([windows[i].start_s for i in range(len(windows))]),
        features=all_features,
        quality=np.array([w.quality for w in windows]),
        stress_fraction=_scatter(len(windows), keep, fractions),
    )


def _scatter(n: int, index: list[int], values: list[float]) -> np.ndarray:
    out = np.full(n, np.nan)
    out[index] = values
    return out


def load_dataset(
    data_dir: Path,
    window_s: float,
    hop_s: float,
    subjects: list[str] | None = None,
    cache_dir: Path | None = None,
    without: tuple[str, ...] = (),
) -> list[SubjectWindows]:
    """Every labelled subject's windows (``without`` those channels); cached as .npz per subject and setting."""
    table = load_labels(data_dir)
    result = []
    for subject in sorted(subjects or table):
        cache = None
        if cache_dir is not None:
            left_out = "".join(f"_without-{c}" for c in without)
            cache = Path(cache_dir) / f"{subject}_w{window_s:g}_h{hop_s:g}{left_out}.npz"
            cached = read_cached_windows(cache, subject)
            if cached is not None:
                result.append(cached)
                continue
        windows = subject_windows(data_dir, subject, table[subject], window_s, hop_s, without)
        if cache is not None:
            write_cached_windows(cache, windows)
        result.append(windows)
    return result


def write_cached_windows(path: Path, windows: SubjectWindows) -> None:
    """The windows as .npz, whole or not at all (an interrupted run leaves no truncated file), with the names
    of the feature columns so that a cache from another feature set is not read as this one."""
    save_npz(path, starts_s=windows.starts_s, features=windows.features, quality=windows.quality,
             stress_fraction=windows.stress_fraction, measurements=np.array(MEASUREMENTS))


def read_cached_windows(path: Path, subject: str) -> SubjectWindows | None:
    """Cached windows, or None (computed again) when there are none, they are unreadable or their feature
    columns are not today's."""
    if not path.is_file():
        return None
    try:
        with np.load(path) as data:
            columns = tuple(data["measurements"].tolist()) if "measurements" in data else None
            if columns not in (None, MEASUREMENTS) or data["features"].shape[1] != len(MEASUREMENTS):
                log.warning("%s: cached with other feature columns; computed again", path)
                return None
            return SubjectWindows(subject, data["starts_s"], data["features"], data["quality"],
                                  data["stress_fraction"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        log.warning("%s: unreadable cache (%s); computed again", path, error)
        return None


__all__ = ["MEASUREMENTS", "SubjectWindows", "load_dataset", "load_labels", "subject_windows"]
