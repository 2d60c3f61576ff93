"""How many faces of a FER-2013 split the face arm would call too dark or blank to read (``unreadable_crop``).

    python benchmarks/face_dark_share.py ../shared/data/images/fer2013 [--split PublicTest]     # a few seconds

The face arm (and ``emotrace face classify``) leaves a face crop darker than DARK_MEAN_GREY on average, with less
spread than FLAT_SPREAD_GREY, unread ("face too dark to read its expression"), and one with less spread than
BLANK_SPREAD_GREY at any light ("face crop blank"). FER-2013's images are such crops already (48x48 grey, the whole
image the face); this counts the ones the rule would leave unread, per emotion folder.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime.arms.face.expression import unreadable_crop  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the FER-2013 folder (class folders under Training/, PublicTest/)")
    parser.add_argument("--split", default="PublicTest")
    args = parser.parse_args()
    images = sorted((args.data / args.split).glob("*/*.png"))
    if not images:
        raise SystemExit(f"{args.data / args.split}: no .png images in class folders")
    dark: Counter[str] = Counter()
    for path in images:
        crop = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if crop is None:
            raise SystemExit(f"{path}: not an image this machine reads")
        dark[path.parent.name] += bool(unreadable_crop(crop))
    dark = +dark  # the emotions with none left out
    print(f"{args.split}: {sum(dark.values())} of {len(images)} faces too dark or blank to read"
          + (f" ({', '.join(f'{label} {n}' for label, n in sorted(dark.items()))})" if dark else ""))


if __name__ == "__main__":
    main()
