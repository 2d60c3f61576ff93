"""Per-modality probability tables (the classify CSV format) and the true labels and people behind each row.

A table is what ``emotrace audio classify`` / ``emotrace face classify`` write: ``path,emotion,<label>...``.
Labels and people come from a labels CSV (``path,label,person``) or, without one, from the corpora's own
naming:
RAVDESS file names (emotion and actor fields) and FER-2013 folders (``<split>/<class>/<index>.png``; every FER
row is its own person, since FER-2013 records no identities). A labels CSV's label words ('fear', 'Surprise',
'joy', 'neu') are read as manifests read them (``runtime.track.canonical_label``); a folder's name by whole label
words alone (``runtime.track.folder_label``: a folder 'n' or 'ps' may be a person's initials, so it is refused).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from runtime.errors import InputError
from runtime.files import first_named, read_csv_rows
from runtime.track import CANONICAL_LABELS, canonical_label, folder_label

log = logging.getLogger(__name__)

RAVDESS_EMOTIONS = dict(zip(("01", "02", "03", "04", "05", "06", "07", "08"), CANONICAL_LABELS, strict=True))


@dataclass
class ProbTable:
    """One modality's rows: probabilities over the canonical labels, which labels it supports, truth per row.
    """

    modality: str
    paths: list[str]
    probs: np.ndarray  # (n, 8), rows sum to 1 over the supported labels
    supported: np.ndarray  # (8,) bool
    labels: np.ndarray  # (n,) canonical label index
    people: np.ndarray  # (n,) str person id (speaker, face)


def _is_ravdess(name: str) -> bool:
    parts = Path(name).stem.split("-")
    return len(parts) == 7 and all(p.isdigit() for p in parts) and parts[2] in RAVDESS_EMOTIONS


def label_from_path(path: str | Path) -> str:
    """The canonical label a corpus's naming gives a file (RAVDESS name, or a class folder named by a whole label
    word)."""
    path = Path(path)
    if _is_ravdess(path.name):
        return RAVDESS_EMOTIONS[path.stem.split("-")[2]]
    label = folder_label(path.parent.name)
    if label is not None:
        return label
    raise InputError(path, "no label: not a RAVDESS file name or a FER-style class folder (give --labels)")


def person_from_path(path: str | Path) -> str:
    path = Path(path)
    if _is_ravdess(path.name):
        return f"ravdess-{path.stem.split('-')[6]}"
    return f"{path.parent.parent.name}-{path.stem}"  # FER-2013: each image its own (unknown) person


def read_labels_csv(path: Path) -> dict[str, tuple[str, str]]:
    """``path,label,person`` rows → {path: (canonical label, person)}."""
    header, rows = read_csv_rows(path)
    missing = {"path", "label", "person"} - set(header) if rows else {"path", "label", "person"}
    if missing:
        raise InputError(path, f"labels CSV lacks column(s) {', '.join(sorted(missing))}")
    out = {}
    for number, row in rows:
        label = canonical_label(row["label"])
        if label is None:
            raise InputError(path, f"line {number}: label {row['label']!r} has no canonical mapping")
        out[row["path"]] = (label, row["person"])
    return out


def read_table(
    path: Path, modality: str, labels_csv: Path | None = None, unsupported: tuple[str, ...] = ()
) -> ProbTable:
    """Read a classify CSV. A label column that is absent, empty or all zero is unsupported (no evidence), not 0
    evidence (``face classify`` writes only the labels its model has). A row of empty cells is an input the
    classifier could not read (``face classify``'s image without a readable face, its reason beside it): left out,
    said in one warning; a row of numbers none of which falls on a supported label is refused, naming its line.
    """
    header, numbered = read_csv_rows(path)
    if not numbered:
        raise InputError(path, "probability table is empty")
    if "path" not in header or not any(c in header for c in CANONICAL_LABELS):
        raise InputError(path, "not a classify table: needs a path column and canonical label columns")
    rows = [row for _, row in numbered]
    # a label column cut off or spelt another way reads as a label the model cannot name: said, not refused, since
    # a model of fewer labels writes fewer columns
    other = [c for c in header if c.strip() and c not in ("path", "emotion", "reason", *CANONICAL_LABELS)]
    if other:
        log.warning("%s: column(s) %s are none of the canonical labels (%s): left out", path, ", ".join(other),
                    ", ".join(CANONICAL_LABELS))
    known = read_labels_csv(labels_csv) if labels_csv else None
    probs = np.zeros((len(rows), len(CANONICAL_LABELS)))
    truth, people = [], []
    for i, (line, row) in enumerate(numbered):
        probs[i] = [_probability(path, line, label, row.get(label)) for label in CANONICAL_LABELS]
        if np.isnan(probs[i]).all():  # an input the classifier could not read: left out below, no label needed
            truth.append(-1)
            people.append("")
            continue
        if known is not None:
            if row["path"] not in known:
                raise InputError(labels_csv, f"no label for {row['path']}")
            label, person = known[row["path"]]
        else:
            label, person = label_from_path(row["path"]), person_from_path(row["path"])
        truth.append(CANONICAL_LABELS.index(label))
        people.append(person)
    supported = ~np.all(np.isnan(probs) | (probs == 0), axis=0)
    for label in unsupported:
        supported[CANONICAL_LABELS.index(label)] = False
    unread = np.array(truth) < 0  # every cell empty: no evidence, not a spoilt row
    probs = np.where(supported, np.nan_to_num(probs), 0.0)  # nan here is only an empty cell: no evidence
    totals = probs.sum(1, keepdims=True)
    spoilt = [line for (line, _), total, empty in zip(numbered, totals[:, 0], unread, strict=True)
              if total <= 0 and not empty]
    if spoilt:
        raise InputError(path, f"line {spoilt[0]}: no probability mass on the supported labels")
    if unread.all():
        raise InputError(path, "no row holds probabilities: the classifier read none of its inputs")
    if unread.any():
        lines = [line for (line, _), empty in zip(numbered, unread, strict=True) if empty]
        log.warning("%s: %d row(s) without probabilities left out (inputs the classifier could not read; their "
                    "reason column says why): %s", path, len(lines), first_named([f"line {n}" for n in lines]))
    kept = ~unread
    return ProbTable(modality, [r["path"] for r, keep in zip(rows, kept, strict=True) if keep],
                     probs[kept] / totals[kept], supported, np.array(truth)[kept], np.array(people)[kept])


def _probability(path: Path, line: int, label: str, cell: str | None) -> float:
    """One cell of a table: empty (or absent) is nan, "label unsupported"; anything else must be a probability.
    Checked cell by cell, before empty cells become 0, so that a written "nan" or "inf" is not taken for one."""
    text = (cell or "").strip()
    if not text:
        return np.nan
    try:
        value = float(text)
    except ValueError:
        raise InputError(path, f"line {line}: the {label} probability {text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:  # also false for nan
        raise InputError(path, f"line {line}: the {label} probability {text!r} is not a number from 0 to 1")
    return value
