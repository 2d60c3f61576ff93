"""Does this machine's ONNX Runtime compute the shipped INT8 models as they were measured? Run it on a new device.

    python benchmarks/int8_check.py [--fer ../shared/data/images/fer2013] [--audio examples/session.mp4 | FOLDER ...]

ONNX Runtime's fast integer kernels differ by CPU: without VNNI (AVX2, AVX-512 without VNNI) uint8 x int8 products
are summed in pairs into a saturating 16-bit value, so a graph quantized with full-range weights can lose accuracy
on one CPU and not on another. This compares, on real inputs, each INT8 model as the device runs it with a
reference that has no such shortcut (the device side runs through ``runtime.models.load_model``, as the arms do):

- ``face-expression-cnn`` (static QDQ): the same graph with ONNX Runtime's optimisations off, so every
  DequantizeLinear runs and the convolutions are float; inputs are FER-2013 PublicTest crops (``--fer``) or,
  without it, crops cut from scikit-image's astronaut photograph.
- ``audio-emotion`` (dynamic quantization, both variants): the ONNX reference evaluator, which does the integer
  matrix products in exact int32; inputs are the speech windows of the ``--audio`` recordings (files, or folders
  searched for audio; default: the bundled example). Recordings in one folder form one session (in RAVDESS, one
  actor), the ``session`` variant z-scored over its windows; each window is run alone, as the device runs it
  (``run_each_row``: the graphs scale their input by the range of what one call is given).

Agreement is the share of inputs (windows; for audio also recordings, by the mean of their windows) whose top label
is the same; below 0.98 the line says so.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime.errors import InputError  # noqa: E402
from runtime.models.card import REPO_MODELS_DIR, load_card  # noqa: E402

MIN_AGREEMENT = 0.98
FACE_ROWS = 64


def face_inputs(fer_root: Path | None) -> tuple[np.ndarray, str]:
    if fer_root is not None:
        from export.face.data import load_split

        images = load_split(fer_root, "PublicTest").images[:FACE_ROWS]
        return images[:, None].astype(np.float32), f"{len(images)} FER-2013 PublicTest crops"
    import cv2
    from skimage import data

    grey = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    rng = np.random.default_rng(0)
    crops = []
    for _ in range(FACE_ROWS):
        size = int(rng.integers(60, 200))
        top, left = (int(rng.integers(0, grey.shape[i] - size)) for i in (0, 1))
        crops.append(cv2.resize(grey[top:top + size, left:left + size], (48, 48), interpolation=cv2.INTER_AREA))
    return np.array(crops, dtype=np.float32)[:, None], f"{FACE_ROWS} crops of the astronaut photograph"


def agreement(device: np.ndarray, reference: np.ndarray) -> float:
    return float(np.mean(device.argmax(1) == reference.argmax(1)))


def check_face(models_dir: Path, fer_root: Path | None) -> tuple[str, str, float, float]:
    import onnxruntime as ort

    from runtime.models import load_model

    device = load_model(models_dir / "face-expression-cnn")
    path, input_name = str(device.card.path()), device.card.extra["input_name"]
    x, described = face_inputs(fer_root)
    plain = ort.SessionOptions()
    plain.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    reference = ort.InferenceSession(path, plain, providers=["CPUExecutionProvider"]).run(None, {input_name: x})[0]
    ours = device.run({input_name: x})[0]
    return (f"{device.card.id} ({device.card.version})", described, agreement(ours, reference),
            float(np.abs(ours - reference).max()))


def check_audio(models_dir: Path, recordings: list[Path]) -> list[tuple[str, str, float, float]]:
    import onnx
    from onnx.reference import ReferenceEvaluator

    from runtime.arms.audio.classify import file_window_features, find_audio_files
    from runtime.arms.audio.features import zscore_by_group
    from runtime.models import load_model
    from runtime.models.runner import run_each_row

    files = find_audio_files(recordings)
    extra = load_card(models_dir / "audio-emotion").extra
    sessions: dict[Path, list[np.ndarray]] = {}
    for f in files:
        sessions.setdefault(f.parent, []).append(file_window_features(f, extra))
    rows = []
    for variant in ("none", "session"):
        device = load_model(models_dir / "audio-emotion", variant)
        path = device.card.path(variant)
        reference = ReferenceEvaluator(onnx.load(str(path)))
        name = reference.input_names[0]
        ours, theirs = [], []  # per recording
        for per_file in sessions.values():
            x = np.vstack(per_file)
            if variant == "session":
                x = zscore_by_group(x, np.zeros(len(x))).astype(np.float32)
            bounds = np.cumsum([0, *map(len, per_file)])
            a = run_each_row(device.run, name, x)
            b = run_each_row(partial(reference.run, None), name, x)
            ours += [a[i:j] for i, j in zip(bounds[:-1], bounds[1:], strict=True)]
            theirs += [b[i:j] for i, j in zip(bounds[:-1], bounds[1:], strict=True)]
        windows = agreement(np.vstack(ours), np.vstack(theirs))
        recordings_agree = agreement(np.array([o.mean(0) for o in ours]), np.array([r.mean(0) for r in theirs]))
        described = (f"{sum(len(o) for o in ours)} speech windows of {len(files)} recording(s) in "
                     f"{len(sessions)} session(s); recordings agree {recordings_agree:.3f}")
        rows.append((f"{device.card.id}:{variant} ({device.card.version})", described, windows,
                     float(max(np.abs(o - r).max() for o, r in zip(ours, theirs, strict=True)))))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fer", type=Path, help="FER-2013 folder (default: crops of a bundled photograph)")
    parser.add_argument("--audio", type=Path, nargs="+", default=[Path("examples/session.mp4")],
                        help="recordings with speech, or folders of them (default: the bundled example)")
    parser.add_argument("--models-dir", type=Path, default=REPO_MODELS_DIR)
    args = parser.parse_args()
    try:
        rows = [check_face(args.models_dir, args.fer), *check_audio(args.models_dir, args.audio)]
    except InputError as error:
        raise SystemExit(str(error)) from None
    print("| model | inputs | top-label agreement with the reference (windows) | max probability difference |")
    print("|---|---|---|---|")
    for name, described, share, max_diff in rows:
        print(f"| {name} | {described} | {share:.3f} | {max_diff:.3f} |")
    for name, _, share, _ in rows:
        if share < MIN_AGREEMENT:
            print(f"{name}: this CPU's INT8 kernels change {100 * (1 - share):.0f} % of top labels against "
                  "the reference; quantize its weights to 7 bits (as emotrace export face does) or ship float")


if __name__ == "__main__":
    main()
