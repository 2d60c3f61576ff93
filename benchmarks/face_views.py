"""Test-time views for the expression CNN on FER-2013 PublicTest: which views are worth their passes.

    python benchmarks/face_views.py RUN [RUN ...] [--data ../shared/data/images/fer2013]

RUN folders are written by ``emotrace train face``. Every candidate view (the crop, ±2 px shifts, zooms 0.93
and 1.08 about the centre), each with its mirror image, is scored once per run; the table gives accuracy, UA and
ECE of named view sets (logits averaged over views and runs, as the exported graph does) and, for each number
of views, the best subset. The shipped set (``TEST_ZOOMS`` in ``export/face/train.py``) was chosen from this
table, on PublicTest, so its gain is slightly optimistic.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from export.face.data import FACE_LABELS, held_out_split  # noqa: E402
from export.face.metrics import classification_report  # noqa: E402
from export.face.train import PIXEL_MEAN, PIXEL_STD, load_trained, view_matrix  # noqa: E402

# name -> (shift x px, shift y px, zoom)
VIEWS = {"crop": (0, 0, 1.0), "x+2": (2, 0, 1.0), "x-2": (-2, 0, 1.0), "y+2": (0, 2, 1.0), "y-2": (0, -2, 1.0),
         "zoom1.08": (0, 0, 1.08), "zoom0.93": (0, 0, 0.93)}
NAMED_SETS = {"crop": ["crop"], "crop+zoom1.08 (shipped)": ["crop", "zoom1.08"],
              "crop+zoom1.08+zoom0.93": ["crop", "zoom1.08", "zoom0.93"],
              "crop+shifts": ["crop", "x+2", "x-2", "y+2", "y-2"], "all": list(VIEWS)}


def view(x: torch.Tensor, shift_x_px: float, shift_y_px: float, zoom: float) -> torch.Tensor:
    """A batch of 48×48 crops with the content magnified by ``zoom`` and moved by the shift (border padding)."""
    size = x.shape[-1]
    along_y = torch.from_numpy(view_matrix(size, zoom, shift_y_px))
    along_x = torch.from_numpy(view_matrix(size, zoom, shift_x_px))
    return along_y @ x @ along_x.T


def view_logits(run: Path, images: np.ndarray) -> dict[str, np.ndarray]:
    """Logits of one run for every view and its mirror image: {name: (2, n, classes)}."""
    model = load_trained(run)
    x = torch.from_numpy((images.astype(np.float32) - PIXEL_MEAN) / PIXEL_STD).unsqueeze(1)
    out = {}
    with torch.no_grad():
        for name, params in VIEWS.items():
            shown = view(x, *params)
            out[name] = np.stack([np.concatenate([model(batch).numpy() for batch in torch.split(v, 512)])
                                  for v in (shown, torch.flip(shown, dims=[3]))])
    return out


def score(logits: list[dict[str, np.ndarray]], names: list[str], labels: np.ndarray) -> dict:
    mean = np.mean([run[name] for run in logits for name in names], axis=(0, 1))
    probs = np.exp(mean - mean.max(axis=1, keepdims=True))
    return classification_report(labels, probs / probs.sum(axis=1, keepdims=True), FACE_LABELS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+", help="folders written by 'emotrace train face'")
    parser.add_argument("--data", type=Path, default=Path("../shared/data/images/fer2013"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    public, copies = held_out_split(args.data, "PublicTest")
    logits = [view_logits(run, public.images) for run in args.runs]
    print(f"FER-2013 PublicTest without its {copies} copies of Training images (n={len(public.labels)}), runs: "
          f"{', '.join(str(r) for r in args.runs)}")
    print("| views (each with its mirror) | passes | accuracy | UA | ECE |\n|---|---|---|---|---|")
    for title, names in NAMED_SETS.items():
        r = score(logits, names, public.labels)
        print(f"| {title} | {2 * len(names)} | {r['accuracy']:.4f} | {r['balanced_accuracy']:.4f} | {r['ece']:.4f} |")
    others = [name for name in VIEWS if name != "crop"]
    for extra in range(1, len(others) + 1):
        subsets = [["crop", *c] for c in itertools.combinations(others, extra)]
        best = max(subsets, key=lambda names: score(logits, names, public.labels)["accuracy"])
        r = score(logits, best, public.labels)
        print(f"| best of {len(best)} views: {'+'.join(best)} | {2 * len(best)} | {r['accuracy']:.4f} | "
              f"{r['balanced_accuracy']:.4f} | {r['ece']:.4f} |")


if __name__ == "__main__":
    main()
