"""FER-2013 as the training host reads it: 48×48 grey crops, labels mapped onto the canonical set.

Layout (see the shared data README): ``<root>/<Split>/<class>/<index>.png``; ``fer2013new.csv`` (FER+ votes)
lists the same rows in the same order as ``labels.csv``, so rows are matched by order, not by file name.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from export.arrays import read_cache, save_npz
from runtime.errors import InputError

# The expression models speak about these canonical labels, in canonical order; FER has no "calm".
FACE_LABELS: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "fearful", "disgust", "surprised")
FER_CLASS_TO_LABEL = {
    "angry": "angry", "disgust": "disgust", "fear": "fearful", "happy": "happy",
    "sad": "sad", "surprise": "surprised", "neutral": "neutral",
}
# FER+ vote columns that are one of our labels (contempt, unknown and NF are not).
FERPLUS_TO_LABEL = {
    "neutral": "neutral", "happiness": "happy", "surprise": "surprised", "sadness": "sad",
    "anger": "angry", "disgust": "disgust", "fear": "fearful",
}
CROP_SIZE_PX = 48
# Where faces that are no FER-2013 split go: said in the refusals a clinic's own crops meet
CSV_ROUTE = "; other images can be listed in a path,emotion CSV, which `evaluate face` reads"


@dataclass
class FaceSet:
    images: np.ndarray  # (n, 48, 48) uint8
    labels: np.ndarray  # (n,) int index into FACE_LABELS
    indices: np.ndarray  # (n,) FER-2013 row numbers
    not_face_votes: np.ndarray  # (n,) FER+ "NF" votes (0 where FER+ is absent)
    label_votes: np.ndarray  # (n, len(FACE_LABELS)) FER+ annotators' votes for our labels (0 where absent)


CACHE_ARRAYS = tuple(field.name for field in fields(FaceSet))  # what a split's cache holds


def check_splits(root: Path, splits: tuple[str, ...] = ("Training", "PublicTest")) -> None:
    """The split folders an export reads, checked before any work (the graph is built before they are read)."""
    for split in splits:
        if not (Path(root) / split).is_dir():
            raise InputError(Path(root) / split, "no such FER-2013 split folder")


def held_out_split(root: Path, split: str = "PublicTest", cache_dir: Path | None = None) -> tuple[FaceSet, int]:
    """A test split without its copies of Training images, and how many were left out.

    FER-2013's PublicTest holds 280 images whose pixels are exactly those of a Training image (some under
    another label): a model scored on them is scored on faces it learnt. Every figure and every choice made on
    the split uses this instead. Training itself is returned whole."""
    test = load_split(root, split, cache_dir)
    if split == "Training":
        return test, 0
    copies = copies_of(test, load_split(root, "Training", cache_dir))
    if copies.all():
        raise InputError(Path(root) / split, "holds only copies of Training images: nothing is held out")
    kept = FaceSet(**{name: getattr(test, name)[~copies] for name in CACHE_ARRAYS})
    return kept, int(copies.sum())


def copies_of(test: FaceSet, training: FaceSet) -> np.ndarray:
    """Which of ``test``'s images are pixel for pixel one of ``training``'s (whatever their labels), (n,) bool."""
    return np.isin(pixel_digests(test.images), pixel_digests(training.images))


def pixel_digests(images: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """Each grey image's pixels (with its size) as an 8-byte digest, (n,) uint64: equal digests are the same
    image pixel for pixel, whatever its file, name or label (a chance collision is one in 2**64)."""
    return np.array([pixel_digest(image) for image in images], dtype=np.uint64)


def pixel_digest(image: np.ndarray) -> int:
    """One grey image's digest (``pixel_digests``)."""
    digest = hashlib.blake2b(f"{image.shape}".encode(), digest_size=8)
    digest.update(np.ascontiguousarray(image, np.uint8))  # as one with the shape's text: no copy of a photograph
    return int.from_bytes(digest.digest(), "little")


def load_split(root: Path, split: str, cache_dir: Path | None = None) -> FaceSet:
    """Every image of one split (``Training`` or ``PublicTest``); cached as .npz when ``cache_dir`` is given."""
    import cv2

    root = Path(root)
    cache = Path(cache_dir) / f"fer2013-{split}-{_split_key(root, split)}.npz" if cache_dir else None
    if cache is not None and cache.is_file():
        data = read_cache(cache, CACHE_ARRAYS)  # None: unreadable, or written before the votes were kept
        if data is not None:
            return FaceSet(**data)
    folder = root / split
    if not folder.is_dir():
        raise InputError(folder, "no such FER-2013 split folder")
    votes_by_row = _ferplus_votes(root)
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # a corrupt PNG is our one line, not libpng's
    try:
        images, labels, indices = _read_images(folder)
    finally:
        cv2.utils.logging.setLogLevel(level)
    if not images:
        raise InputError(folder, "holds no images")
    no_votes = np.zeros(len(FACE_LABELS) + 1, dtype=np.int64)
    votes = np.stack([votes_by_row.get(i, no_votes) for i in indices])
    result = FaceSet(np.stack(images), np.asarray(labels, dtype=np.int64), np.asarray(indices, dtype=np.int64),
                     votes[:, -1], votes[:, :-1])
    if cache is not None:
        save_npz(cache, **{name: getattr(result, name) for name in CACHE_ARRAYS})
    return result


def _split_key(root: Path, split: str) -> str:
    """What a split's cache was read from: the folder, its images' names, sizes and times, and the label files
    (the FER+ votes come from them), so that a cache is never served for other data."""
    digest = hashlib.sha256(str((root / split).resolve()).encode())
    images = (p for p in (root / split).rglob("*") if p.suffix.lower() == ".png")  # as _read_images takes them
    for path in sorted(images) + [root / "labels.csv", root / "fer2013new.csv"]:
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _read_images(folder: Path) -> tuple[list[np.ndarray], list[int], list[int]]:
    """(images, label indices, row numbers) of a split folder's class folders, checked one by one."""
    import cv2

    _check_class_folders(folder)
    images, labels, indices = [], [], []
    for class_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        label = FACE_LABELS.index(FER_CLASS_TO_LABEL[class_dir.name.lower()])
        pngs = sorted(p for p in class_dir.iterdir() if p.suffix.lower() == ".png")
        if not pngs:  # else the model would silently never learn (or be judged on) this class
            others = sorted({p.suffix.lower() for p in class_dir.iterdir() if p.is_file() and p.suffix})
            raise InputError(class_dir, "holds no .png images" + (
                f" (it holds {', '.join(others)} files: a FER-2013 split is 48×48 .png crops){CSV_ROUTE}"
                if others else ""))
        for png in pngs:
            if not png.stem.isdigit():  # the row number matches FER+ votes to the image
                raise InputError(png, f"not named by its FER-2013 row number (<index>.png){CSV_ROUTE}")
            image = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
            if image is None:
                raise InputError(png, "not a readable PNG image (empty or damaged?)")
            if image.shape != (CROP_SIZE_PX, CROP_SIZE_PX):  # colour is read as its grey levels; a size cannot be
                raise InputError(png, f"a {image.shape[1]}×{image.shape[0]} image, not a 48×48 FER-2013 face crop"
                                      f"{CSV_ROUTE}")
            images.append(image)
            labels.append(label)
            indices.append(int(png.stem))
    return images, labels, indices


def _check_class_folders(folder: Path) -> None:
    """Only FER-2013 class folders, and every one of them: a missing one, like an empty one, would leave the model
    silently never learning (or judged on) that class. Checked before any image is read."""
    class_dirs = sorted(p for p in folder.iterdir() if p.is_dir())
    splits = [p.name for p in class_dirs if any(c.is_dir() and c.name.lower() in FER_CLASS_TO_LABEL
                                                for c in p.iterdir())]
    if splits:  # the folder that holds the splits, given for one
        raise InputError(folder, f"holds split folders ({', '.join(splits)}), not class folders: give one split, "
                         f"e.g. {folder / splits[-1]}")
    for class_dir in class_dirs:
        if class_dir.name.lower() not in FER_CLASS_TO_LABEL:
            raise InputError(class_dir, "unknown FER-2013 class folder (FER-2013 has "
                             f"{', '.join(sorted(FER_CLASS_TO_LABEL))})")
    named = [p.name.lower() for p in class_dirs]
    doubled = sorted({name for name in named if named.count(name) > 1})
    if doubled:
        raise InputError(folder, f"has class folder {', '.join(doubled)} twice (names differing in case)")
    missing = sorted(name for name in FER_CLASS_TO_LABEL if name not in named)
    if missing:
        raise InputError(folder, f"has no class folder {', '.join(missing)} (FER-2013 has {len(FER_CLASS_TO_LABEL)}"
                         f": {', '.join(sorted(FER_CLASS_TO_LABEL))})")


def _ferplus_votes(root: Path) -> dict[int, np.ndarray]:
    """FER-2013 row number → FER+ votes for each of FACE_LABELS, then "not a face"; matched by row order."""
    labels_csv, ferplus_csv = root / "labels.csv", root / "fer2013new.csv"
    if not labels_csv.is_file() or not ferplus_csv.is_file():
        return {}
    column_of = {label: column for column, label in FERPLUS_TO_LABEL.items()}
    columns = [column_of[label] for label in FACE_LABELS] + ["NF"]
    rows = _csv_rows(labels_csv, ["index"])
    votes = _csv_rows(ferplus_csv, columns)
    if len(rows) != len(votes):
        raise InputError(ferplus_csv, "does not list the same rows as labels.csv")
    result = {}
    for line, (r, v) in enumerate(zip(rows, votes, strict=True), start=2):
        try:
            result[int(r["index"])] = np.array([int(v[c] or 0) for c in columns], dtype=np.int64)
        except (TypeError, ValueError):
            raise InputError(f"{labels_csv} / {ferplus_csv}", f"line {line}: an index or a vote count is not a "
                             "whole number") from None
    return result


def _csv_rows(path: Path, columns: list[str]) -> list[dict[str, str]]:
    """The rows of a CSV that has ``columns``, or an ``InputError`` naming it."""
    try:
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(path, f"no column {', '.join(missing)}: not the FER-2013 file of that name")
            return list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(path, f"not a readable CSV ({error})") from None
