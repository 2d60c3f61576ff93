"""Pixel digests of FER-2013's Training and PublicTest images, shipped so that ``evaluate face`` can tell by
content, whatever the folders are called, which images of a set a model learnt from or was selected on.

``fer2013_digests.npz`` (beside this file) holds, per split, the sorted 8-byte digests ``data.pixel_digests`` gives
each 48×48 grey image (not the images: a digest cannot be turned back into a face). Made from the shared FER-2013
folder by ``python -m export.face.fer_digests FER2013_DIR [--out FILE]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from export.arrays import save_npz
from export.face.data import load_split, pixel_digests
from runtime.errors import InputError

DIGESTS_FILE = Path(__file__).with_name("fer2013_digests.npz")
DIGEST_SPLITS = ("Training", "PublicTest")  # FER-2013's splits a model is trained or selected on


def write_digests(fer_root: Path, out: Path | None = None, splits: tuple[str, ...] = DIGEST_SPLITS) -> Path:
    """Each split of ``fer_root``'s images as sorted, distinct pixel digests, written to ``out`` (the shipped file
    unless told); the file written."""
    out = Path(out) if out is not None else DIGESTS_FILE
    save_npz(out, **{split: np.unique(pixel_digests(load_split(Path(fer_root), split).images)) for split in splits})
    return out


def read_digests(path: Path | None = None) -> dict[str, np.ndarray] | None:
    """The splits' digests (split name → sorted uint64 digests); None where the file is missing or unreadable."""
    path = Path(path) if path is not None else DIGESTS_FILE
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {split: stored[split] for split in DIGEST_SPLITS}
    except Exception:  # noqa: BLE001 - missing, damaged or foreign: the caller says the file is unusable
        return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("fer_root", type=Path, help="FER-2013 folder holding Training/ and PublicTest/")
    parser.add_argument("--out", type=Path, default=DIGESTS_FILE)
    args = parser.parse_args(argv)
    try:
        out = write_digests(args.fer_root, args.out)
    except InputError as error:  # a missing split, a damaged image: one line
        raise SystemExit(str(error)) from None
    print(f"{out}: " + ", ".join(f"{split} {len(d)}" for split, d in (read_digests(out) or {}).items()))


if __name__ == "__main__":
    main()
