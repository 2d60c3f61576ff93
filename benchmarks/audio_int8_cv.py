"""The shipped voice recipe scored as it ships: every fold's model exported to ONNX and quantized to INT8.

    python benchmarks/audio_int8_cv.py ../shared/data/speech/ravdess --trained runs/audio

``emotrace train audio`` reports the float models' out-of-fold figures; this benchmark refits each fold with
the same rows (speed-perturbed copies of the training speakers included), writes it through the same ONNX
graph and INT8 quantization as ``emotrace export audio``, and scores every clip with the INT8 graph of the
fold that never heard its speaker. Reuses the feature cache of a ``--trained`` folder.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.audio_cv import corpus_windows, run_report  # noqa: E402
from export.audio.export import build_onnx, quantize, run_onnx  # noqa: E402
from export.audio.extract import extract_windows  # noqa: E402
from export.audio.train import (  # noqa: E402
    LABELS,
    SPEED_FACTORS,
    TrainingRows,
    clip_level,
    speaker_folds,
)
from export.metrics import classification_metrics  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--trained", type=Path, help="a folder written by 'emotrace train audio' (its cache)")
    parser.add_argument("--cv-folds", type=int, default=5)
    parser.add_argument("--mode", choices=["session", "none"], default="session")
    args = parser.parse_args()
    run_report(report, args)


def report(args: argparse.Namespace) -> None:
    corpus, cache, table = corpus_windows(args.data, args.trained)
    augmented = tuple(extract_windows(corpus.clips, cache_dir=cache, speed_factor=f) for f in SPEED_FACTORS)
    y_clip = np.array([LABELS.index(c.emotion) for c in corpus.clips])
    speaker_clip = np.array([c.speaker for c in corpus.clips])
    rows = TrainingRows.build(table, y_clip, speaker_clip, args.mode, augmented)
    features, groups = rows.features[rows.original], rows.groups[rows.original]
    probs = {"float": np.zeros((features.shape[0], len(LABELS))), "int8": np.zeros((features.shape[0], len(LABELS)))}
    with tempfile.TemporaryDirectory() as scratch:
        for k, fold in enumerate(speaker_folds(corpus.speakers, args.cv_folds)):
            test = np.isin(groups, fold)
            float_path, int8_path = Path(scratch) / f"{k}.float.onnx", Path(scratch) / f"{k}.int8.onnx"
            float_path.write_bytes(build_onnx(rows.fit(fold), f"fold{k}").SerializeToString())
            quantize(float_path, int8_path)
            probs["float"][test] = run_onnx(float_path, features[test])
            probs["int8"][test] = run_onnx(int8_path, features[test])
            print(f"fold {k + 1}: {', '.join(fold)}", flush=True)
    for name, window_probs in probs.items():
        clip_probs, claimed = clip_level(window_probs, table.clip_index, len(table.clips))
        m = classification_metrics(y_clip, clip_probs, LABELS, claimed)
        print(f"{args.mode} {name}: clip UA {m['ua']:.3f}, WA {m['wa']:.3f}, macro-F1 {m['macro_f1']:.3f}, "
              f"ECE {m['ece']:.3f}")


if __name__ == "__main__":
    main()
