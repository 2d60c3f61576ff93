"""Does this machine's ONNX Runtime compute the shipped INT8 models as they were measured? Run it on a new device.

    python benchmarks/int8_check.py [--fer ../shared/data/images/fer2013] [--audio examples/session.mp4]

ONNX Runtime's fast integer kernels differ by CPU: without VNNI (AVX2, AVX-512 without VNNI) uint8 x int8 products
are summed in pairs into a saturating 16-bit value, so a graph quantized with full-range weights can lose accuracy
on one CPU and not on another. This compares, on real inputs, each INT8 model as the device runs it with a
reference that has no such shortcut:

- ``face-expression-cnn`` (static QDQ): the same graph with ONNX Runtime's optimisations off, so every
  DequantizeLinear runs and the convolutions are float; inputs are FER-2013 PublicTest crops (``--fer``) or,
  without it, crops cut from scikit-image's astronaut photograph.
- ``audio-emotion`` (dynamic quantization, both variants): the ONNX reference evaluator, which does the integer
  matrix products in exact int32; inputs are the speech windows of ``--audio`` (default: the bundled example).

Agreement is the share of inputs whose top label is the same; below 0.98 the line says so.
"""

from __future__ import annotations

import argparse
import sys
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


def compare(device: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    return float(np.mean(device.argmax(1) == reference.argmax(1))), float(np.abs(device - reference).max())


def check_face(models_dir: Path, fer_root: Path | None) -> tuple[str, str, float, float]:
    import onnxruntime as ort

    card = load_card(models_dir / "face-expression-cnn")
    path, input_name = str(card.path()), card.extra["input_name"]
    x, described = face_inputs(fer_root)
    plain = ort.SessionOptions()
    plain.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    device = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {input_name: x})[0]
    reference = ort.InferenceSession(path, plain, providers=["CPUExecutionProvider"]).run(None, {input_name: x})[0]
    return (f"{card.id} ({card.version})", described, *compare(device, reference))


def check_audio(models_dir: Path, audio: Path) -> list[tuple[str, str, float, float]]:
    import onnx
    import onnxruntime as ort
    from onnx.reference import ReferenceEvaluator

    from runtime.arms.audio.classify import file_window_features
    from runtime.arms.audio.features import zscore_by_group

    card = load_card(models_dir / "audio-emotion")
    features = file_window_features(audio, card.extra)
    rows = []
    for variant in ("none", "session"):
        x = features if variant == "none" else zscore_by_group(features, np.zeros(len(features))).astype(np.float32)
        path = str(card.path(variant))
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        device = session.run(None, {name: x})[0]
        reference = ReferenceEvaluator(onnx.load(path)).run(None, {name: x})[0]
        rows.append((f"{card.id}:{variant} ({card.version})", f"{len(x)} speech windows of {audio.name}",
                     *compare(device, reference)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fer", type=Path, help="FER-2013 folder (default: crops of a bundled photograph)")
    parser.add_argument("--audio", type=Path, default=Path("examples/session.mp4"), help="a recording with speech")
    parser.add_argument("--models-dir", type=Path, default=REPO_MODELS_DIR)
    args = parser.parse_args()
    try:
        rows = [check_face(args.models_dir, args.fer), *check_audio(args.models_dir, args.audio)]
    except InputError as error:
        raise SystemExit(str(error)) from None
    print("| model | inputs | top-label agreement with the reference | max probability difference |")
    print("|---|---|---|---|")
    for name, described, agreement, max_diff in rows:
        print(f"| {name} | {described} | {agreement:.3f} | {max_diff:.3f} |")
    for name, _, agreement, _ in rows:
        if agreement < MIN_AGREEMENT:
            print(f"{name}: this CPU's INT8 kernels change {100 * (1 - agreement):.0f} % of top labels; "
                  "requantize with 7-bit weights (emotrace export face --from-float) or run the float graph")


if __name__ == "__main__":
    main()
