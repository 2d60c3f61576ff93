"""Face expression models on FER-2013 PublicTest without its copies of Training images, with bootstrap intervals.

    python benchmarks/face_held_out.py ../shared/data/images/fer2013 face-expression-cnn face-expression-fer \
        face-expression-cnn+face-expression-fer [--cache runs/face-cache]

FER-2013's PublicTest holds 280 images whose pixels are exactly those of a Training image (some under another
label); ``export.face.data.held_out_split`` leaves them out. ``--near-copies 0.95`` also leaves out the faces
whose pixels correlate with a Training image's at 0.95 or more (the same photograph cropped or processed a little
differently; found by an audit, not left out by training). A model spec ``a+b`` is the mean of both models'
probabilities. Each row gives accuracy and UA with their 2.5–97.5 % interval over faces resampled with
replacement (sampling error only, not the optimism of choices made on the same faces), macro-F1 and ECE.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.face_interval import bootstrap  # noqa: E402
from export.face.data import CACHE_ARRAYS, FACE_LABELS, FaceSet, held_out_split, load_split  # noqa: E402
from export.face.fer_baseline import dataset_probabilities  # noqa: E402
from export.face.metrics import classification_report  # noqa: E402
from runtime.arms.face.expression import ExpressionModel  # noqa: E402
from runtime.errors import InputError  # noqa: E402


def probabilities(models: list[ExpressionModel], images: np.ndarray) -> np.ndarray:
    """(n, len(FACE_LABELS)) probabilities of a model, or the mean of ``a+b``'s."""
    return sum(dataset_probabilities(model, images) for model in models) / len(models)


def relabelled_copies(args: argparse.Namespace) -> int:
    """How many PublicTest copies of Training images carry a label that no Training image of those pixels has."""
    training_labels: dict[bytes, set[int]] = {}
    training = load_split(args.data, "Training", args.cache)
    for image, label in zip(training.images, training.labels, strict=True):
        training_labels.setdefault(image.tobytes(), set()).add(int(label))
    public = load_split(args.data, "PublicTest", args.cache)
    return sum(image.tobytes() in training_labels and int(label) not in training_labels[image.tobytes()]
               for image, label in zip(public.images, public.labels, strict=True))


def near_copies(images: np.ndarray, training: np.ndarray, min_correlation: float, block: int = 4000) -> np.ndarray:
    """Which ``images`` have a Training image whose pixels correlate with theirs at ``min_correlation`` or more
    (the same photograph cropped, rescaled or processed a little differently)."""

    def centred_unit(rows: np.ndarray) -> np.ndarray:
        flat = rows.reshape(len(rows), -1).astype(np.float32)
        flat -= flat.mean(axis=1, keepdims=True)
        norms = np.linalg.norm(flat, axis=1, keepdims=True)
        return flat / np.where(norms > 0, norms, 1.0)

    test, best = centred_unit(images), np.full(len(images), -1.0, dtype=np.float32)
    for start in range(0, len(training), block):
        best = np.maximum(best, (test @ centred_unit(training[start:start + block]).T).max(axis=1))
    return best >= min_correlation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the FER-2013 folder (Training/, PublicTest/)")
    parser.add_argument("models", nargs="+", help="model ids or folders; a+b for the mean of two")
    parser.add_argument("--cache", type=Path, help="folder for the splits' .npz caches")
    parser.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples (at least 1)")
    parser.add_argument("--near-copies", type=float, metavar="CORRELATION",
                        help="also leave out faces whose pixels correlate with a Training image's at least this much "
                             "(e.g. 0.95: the same photograph cropped or processed a little differently)")
    args = parser.parse_args()
    if args.resamples < 1:
        parser.error("--resamples must be at least 1")
    if args.near_copies is not None and not 0 < args.near_copies <= 1:
        parser.error("--near-copies must be a correlation above 0 and at most 1")
    try:
        report(args)
    except (InputError, OSError) as error:  # a missing split, an unknown model, a cache that is a file: one line
        raise SystemExit(str(error)) from None


def report(args: argparse.Namespace) -> None:
    models = {spec: [ExpressionModel(member) for member in spec.split("+")] for spec in args.models}  # before any row
    test, copies = held_out_split(args.data, "PublicTest", args.cache)
    print(f"FER-2013 PublicTest without its {copies} copies of Training images ({relabelled_copies(args)} of them "
          f"under a label none of their Training twins has): {len(test.labels)} faces, {args.resamples} resamples")
    if args.near_copies is not None:
        near = near_copies(test.images, load_split(args.data, "Training", args.cache).images, args.near_copies)
        test = FaceSet(**{name: getattr(test, name)[~near] for name in CACHE_ARRAYS})
        print(f"and without {int(near.sum())} near copies (pixel correlation with a Training image >= "
              f"{args.near_copies:g}): {len(test.labels)} faces")
    print("| model | accuracy (95 %) | UA (95 %) | macro-F1 | ECE |\n|---|---|---|---|---|")
    for spec in args.models:
        probs = probabilities(models[spec], test.images)
        report = classification_report(test.labels, probs, FACE_LABELS)
        draws = bootstrap(test.labels, probs.argmax(1), args.resamples)
        low_acc, high_acc = np.percentile(draws["accuracy"], [2.5, 97.5])
        low_ua, high_ua = np.percentile(draws["UA"], [2.5, 97.5])
        print(f"| {spec} | {report['accuracy']:.3f} ({low_acc:.3f}–{high_acc:.3f}) | {report['balanced_accuracy']:.3f} "
              f"({low_ua:.3f}–{high_ua:.3f}) | {report['macro_f1']:.3f} | {report['ece']:.3f} |")


if __name__ == "__main__":
    main()
