"""Paired multi-window sessions for fusion training and evaluation.

No audio-visual emotion corpus is at hand, so the honest substitute pairs per-modality rows of the same label
from different people: each synthetic session belongs to one anchor person of the first table (a RAVDESS
speaker), holds labelled segments of a few windows each, and every window draws that speaker's clip of the
segment's label plus a row of the same label from each other table (a FER-2013 face). Labels a table cannot
produce (FER has no "calm") take the row of ``stand_in`` instead (calm → a neutral face), and that table
abstains on them. People are split into a training and a test part before pairing, so no person, clip or face
is in both.

Real paired data takes the same road: ``sessions_from_manifest`` reads analysed sessions (timeline.json, or a
video/audio file it analyses) with labelled segments, and yields the same ``PairedData``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from export.fusion.tables import ProbTable
from runtime.errors import InputError
from runtime.files import read_csv_rows
from runtime.fusion.align import FusionInput
from runtime.track import CANONICAL_LABELS, canonical_label

STAND_IN = {"calm": "neutral"}


@dataclass
class PairedData:
    data: FusionInput
    targets: np.ndarray  # (n,) canonical label index; -1 where the window is not scored
    split: np.ndarray  # (n,) "train" | "test"
    people: np.ndarray  # (n,) the anchor person of each window's session
    description: dict[str, Any]
    test_rows: dict[str, np.ndarray] = field(default_factory=dict)  # modality → (rows,) bool: the row is test
    # (n,) bool: a labelled window with a claim, to fit on and score; default every window. Real sessions keep
    # their other windows too, as the context a temporal fuser reads (analyze's: the last windows of time).
    scored: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.scored is None:
            self.scored = np.ones(len(self.targets), dtype=bool)

    def part(self, name: str) -> tuple[FusionInput, np.ndarray]:
        """The scored windows of the ``name`` part, strung together, and their targets: what a fuser is fitted
        on (and, for a fuser that judges each window alone, scored on)."""
        rows = (self.split == name) & self.scored
        return self.data.subset(rows), self.targets[rows]

    def context(self, name: str) -> tuple[FusionInput, np.ndarray, np.ndarray]:
        """Every window of the ``name`` part's sessions, which of them are scored, and the scored ones'
        targets: what ``evaluate.scored_probs`` fuses as analyze does."""
        rows = self.split == name
        scored = self.scored[rows]
        return self.data.subset(rows), scored, self.targets[rows][scored]


def split_people(people: Sequence[str], test_fraction: float, rng: np.random.Generator) -> set[str]:
    """The test people: a seeded random share of the distinct people."""
    unique = sorted(set(people))
    n_test = max(1, round(len(unique) * test_fraction)) if len(unique) > 1 else 0
    return set(rng.permutation(unique)[:n_test].tolist())


def _split_rows(
    table: ProbTable, test_people: set[str] | None, test_fraction: float, rng: np.random.Generator
) -> np.ndarray:
    """(n,) bool: the row belongs to the test part (by person when people repeat, else per row by label)."""
    if test_people is not None:
        return np.isin(table.people, list(test_people))
    is_test = np.zeros(len(table.paths), dtype=bool)
    for label in np.unique(table.labels):  # stratified, so rare classes land in both parts
        rows = rng.permutation(np.flatnonzero(table.labels == label))
        is_test[rows[: int(round(len(rows) * test_fraction))]] = True
    return is_test


def _segments(
    n_windows: int, labels: Sequence[int], min_len: int, max_len: int, rng: np.random.Generator
) -> np.ndarray:
    out: list[int] = []
    previous = -1
    while len(out) < n_windows:
        choices = [c for c in labels if c != previous] or list(labels)
        label = int(rng.choice(choices))
        out += [label] * int(rng.integers(min_len, max_len + 1))
        previous = label
    return np.array(out[:n_windows])


def pair_tables(
    tables: Sequence[ProbTable],
    test_fraction: float = 0.5,
    sessions_per_person: int = 6,
    windows_per_session: int = 24,
    segment_windows: tuple[int, int] = (3, 8),
    seed: int = 0,
) -> PairedData:
    """Sessions anchored on the first table's people, the other tables paired by label (see module
    docstring).
    """
    if len(tables) < 2:
        raise InputError("--table", "fusion needs at least two modality tables")
    rng = np.random.default_rng(seed)
    anchor, others = tables[0], list(tables[1:])
    test_people = split_people(anchor.people, test_fraction, rng)
    anchor_test = np.isin(anchor.people, list(test_people))
    other_test = []
    for table in others:
        repeated = len(set(table.people)) < len(table.people)
        overlap = set(table.people) & set(anchor.people)
        if overlap:
            raise InputError(
                table.modality,
                f"shares people with {anchor.modality} ({', '.join(sorted(map(str, overlap))[:3])}); "
                "pairs must come from disjoint people",
            )
        people = split_people(table.people, test_fraction, rng) if repeated else None
        other_test.append(_split_rows(table, people, test_fraction, rng))
    labels_all = sorted(set(anchor.labels.tolist()))
    probs, quality, targets, split, persons, sequence = [], [], [], [], [], []
    session_id = 0
    for person in sorted(set(anchor.people)):
        part = "test" if person in test_people else "train"
        mine = np.flatnonzero(anchor.people == person)
        own_labels = sorted(set(anchor.labels[mine].tolist()))
        for _ in range(sessions_per_person):
            labels = _segments(windows_per_session, own_labels, *segment_windows, rng)
            for label in labels:
                row = [anchor.probs[rng.choice(mine[anchor.labels[mine] == label])]]
                for table, is_test in zip(others, other_test, strict=True):
                    wanted = label
                    if not table.supported[label]:
                        wanted = CANONICAL_LABELS.index(STAND_IN.get(CANONICAL_LABELS[label], "neutral"))
                    pool = np.flatnonzero((table.labels == wanted) & (is_test == (part == "test")))
                    if pool.size == 0:
                        raise InputError(table.modality, f"no {part} row labelled {CANONICAL_LABELS[wanted]}")
                    row.append(table.probs[rng.choice(pool)])
                probs.append(row)
                quality.append([1.0] * len(tables))
                targets.append(label)
                split.append(part)
                persons.append(person)
                sequence.append(session_id)
            session_id += 1
    supported = np.stack([t.supported for t in tables])
    data = FusionInput(
        [t.modality for t in tables], np.array(probs), np.array(quality), supported, np.array(sequence)
    )
    description = {
        "kind": "paired tables",
        "anchor": anchor.modality,
        "test_people": sorted(test_people),
        "train_people": sorted(set(anchor.people) - test_people),
        "tables": {
            t.modality: {"rows": len(t.paths), "test_rows": int(is_t.sum())}
            for t, is_t in zip(tables, [anchor_test, *other_test], strict=True)
        },
        "labels": [CANONICAL_LABELS[c] for c in labels_all],
        "stand_in": STAND_IN,
        "sessions_per_person": sessions_per_person,
        "windows_per_session": windows_per_session,
        "segment_windows": list(segment_windows),
        "seed": seed,
        "test_fraction": test_fraction,
    }
    test_rows = {t.modality: is_t for t, is_t in zip(tables, [anchor_test, *other_test], strict=True)}
    _check_split(anchor.modality, np.array(targets), np.array(split), persons, seed, "add people to it")
    return PairedData(data, np.array(targets), np.array(split), np.array(persons), description, test_rows)


# --- real sessions ------------------------------------------------------------------------------------


def read_manifest(path: Path) -> list[dict[str, str]]:
    """``session,start_s,end_s,label[,person]`` rows; session = a timeline.json or a recording to analyse. A
    session is one person's: its rows name the same person, or none (then the session is its own person)."""
    header, numbered = read_csv_rows(path, "CSV manifest")
    if not {"session", "start_s", "end_s", "label"} <= set(header):
        raise InputError(path, "manifest needs columns session,start_s,end_s,label (person optional)")
    if not numbered:
        raise InputError(path, "manifest has its header alone: no labelled segment")
    rows = [row for _, row in numbered]
    first_person: dict[str, tuple[int, str]] = {}  # session → (line, person) of its first row
    for number, row in numbered:
        if canonical_label(row["label"]) is None:
            raise InputError(path, f"line {number}: label {row['label']!r} has no canonical mapping")
        try:
            # written so that NaN, which compares false with everything, is no interval either
            if not float(row["end_s"]) > float(row["start_s"]):
                raise ValueError
        except ValueError:
            raise InputError(path, f"line {number}: start_s/end_s ({row['start_s']}, {row['end_s']}) are not an "
                                   "interval (a number, then a larger one)") from None
        person = (row.get("person") or "").strip()
        line, first = first_person.setdefault(row["session"], (number, person))
        if person != first:
            said, before = (f"the person {p!r}" if p else "no person" for p in (person, first))
            raise InputError(path, f"line {number}: {said}, but line {line} gives session {row['session']} "
                                   f"{before}; a session is one person's")
    _check_no_conflicting_segments(path, numbered)
    return rows


def _check_no_conflicting_segments(path: Path, numbered: list[tuple[int, dict[str, str]]]) -> None:
    """Two segments of one session that overlap with different labels are refused, naming both lines: a window
    between them has no one label (it took the first listed's, without a word). Overlaps of one label are one
    longer segment."""
    by_session: dict[str, list[tuple[float, float, str, int]]] = {}
    for number, row in numbered:
        by_session.setdefault(row["session"], []).append(
            (float(row["start_s"]), float(row["end_s"]), canonical_label(row["label"]), number))
    for session, segments in by_session.items():
        segments.sort()
        for k, (start_s, end_s, label, number) in enumerate(segments):
            for later_start_s, later_end_s, later_label, later_number in segments[k + 1:]:
                if later_start_s >= end_s:
                    break
                if later_label != label:
                    first, second = sorted(((number, start_s, end_s, label),
                                            (later_number, later_start_s, later_end_s, later_label)))
                    raise InputError(path, f"line {second[0]}: session {session}'s {second[3]} segment "
                                           f"{second[1]:g}-{second[2]:g} s overlaps line {first[0]}'s {first[3]} "
                                           f"segment {first[1]:g}-{first[2]:g} s; a window there has no one label")


def _session_tracks(session: Path, cache_dir: Path, settings: dict) -> list:
    from runtime.timeline import Timeline

    if not session.exists():
        raise InputError(session, "session in the manifest does not exist")
    if session.suffix == ".json":
        return [t for t in Timeline.read(session).tracks if t.name != "fused"]
    from runtime.pipeline import analyze_file

    out = cache_dir / session.stem
    return [t for t in analyze_file(session, out, settings, fuse=False).tracks if t.name != "fused"]


def _check_split(source: Path | str, targets: np.ndarray, split: np.ndarray, persons: list[str], seed: int,
                 remedy: str = "label more segments, or add people") -> None:
    """Each part of the people split needs windows of at least two labels: a learner cannot be fitted on one
    class, nor scored on telling apart what the part does not hold two of (a table of one person held none out,
    and its figures were all 0 over no test window). ``source``: the manifest, or the anchor table, the split's
    people come from."""
    for part in ("train", "test"):
        rows = split == part
        people = sorted({p for p, r in zip(persons, rows, strict=True) if r})
        labels = sorted({CANONICAL_LABELS[t] for t in targets[rows]})
        if not people:
            problem = f"the split leaves no {part} people ({len(set(persons))} person(s) in {source})"
        elif len(labels) < 2:
            problem = f"the {part} people ({', '.join(people)}) have labelled windows of {labels[0]} only"
        else:
            continue
        raise InputError(source, f"{problem} with --seed {seed} and this --test-fraction; each part needs windows "
                                 f"of at least two labels ({remedy})")


def sessions_from_manifest(
    manifest: Path,
    window_s: float = 2.0,
    hop_s: float = 0.5,
    test_fraction: float = 0.5,
    seed: int = 0,
    cache_dir: Path | None = None,
    settings: dict | None = None,
) -> PairedData:
    """Analysed sessions with labelled segments → windows on the fusion grid, labelled by segment midpoints.
    Recordings are analysed into ``cache_dir``, or into a temporary folder removed once they are read (on an error
    too); each run analyses them again."""
    import tempfile

    from runtime.config import load_settings
    from runtime.fusion.align import align_tracks

    rows = read_manifest(manifest)
    settings = settings or load_settings()
    by_session: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_session.setdefault(row["session"], []).append(row)
    aligned, modalities = [], []
    # without a folder of the caller's, the analyses (per-patient emotion timelines) go once the sessions are read
    with contextlib.ExitStack() as stack:
        cache = Path(cache_dir) if cache_dir else Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="fusion-sessions-")))
        for name, segments in by_session.items():
            path = Path(name) if Path(name).is_absolute() else Path(manifest).parent / name
            tracks = _session_tracks(path, cache, settings)
            a = align_tracks(tracks, window_s, hop_s)
            aligned.append((a, segments, (segments[0].get("person") or "").strip() or name))
            modalities += [m for m in a.emotion.modalities if m not in modalities]
    probs, quality, withheld, targets, persons, sequence = [], [], [], [], [], []
    supported = np.ones((len(modalities), len(CANONICAL_LABELS)), dtype=bool)
    for session_id, (a, segments, person) in enumerate(aligned):
        data = a.emotion.select(modalities)
        for j, m in enumerate(modalities):
            if m in a.emotion.modalities:
                supported[j] = a.emotion.supported[a.emotion.modalities.index(m)]
        for i, (start_s, end_s) in enumerate(a.grid):
            middle = 0.5 * (start_s + end_s)
            label = next(
                (
                    canonical_label(s["label"])
                    for s in segments
                    if float(s["start_s"]) <= middle < float(s["end_s"])
                ),
                None,
            )
            # every grid window is kept, scored or not: a temporal fuser's context is the session's real time
            probs.append(data.probs[i])
            quality.append(data.quality[i])
            withheld.append(data.withheld[i])  # a track's null stays an abstention, as at run time
            targets.append(-1 if label is None or not data.present[i].any() else CANONICAL_LABELS.index(label))
            persons.append(person)
            sequence.append(session_id)
    targets_array = np.array(targets, dtype=np.int64)
    scored = targets_array >= 0
    if not scored.any():
        raise InputError(manifest, "no labelled window with any modality's claim")
    rng = np.random.default_rng(seed)
    scored_persons = [p for p, s in zip(persons, scored, strict=True) if s]
    test_people = split_people(scored_persons, test_fraction, rng)
    data = FusionInput(modalities, np.array(probs), np.array(quality), supported, np.array(sequence),
                       withheld=np.array(withheld))
    split = np.where(np.isin(persons, list(test_people)), "test", "train")
    _check_split(manifest, targets_array[scored], split[scored], scored_persons, seed)
    description = {
        "kind": "labelled sessions",
        "manifest": str(manifest),
        "sessions": len(aligned),
        "test_people": sorted(test_people),
        "train_people": sorted(set(scored_persons) - test_people),
        "window_s": window_s,
        "hop_s": hop_s,
        "seed": seed,
        "test_fraction": test_fraction,
    }
    return PairedData(data, targets_array, split, np.array(persons), description, scored=scored)
