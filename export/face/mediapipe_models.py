"""Take the detector and landmark ``.tflite`` files out of MediaPipe 0.10.21's wheel into ``models/`` with cards.

    pip download --no-deps mediapipe==0.10.21 -d /tmp/face
    python -m export.face.mediapipe_models /tmp/face/mediapipe-0.10.21-*.whl

MediaPipe itself is never installed (it pins numpy<2); its model files are Apache-2.0 and run on LiteRT
(ai-edge-litert) with the project's own pre- and post-processing. The card says what the code needs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from export.install import installing, read_wheel_members, write_card
from runtime.errors import InputError
from runtime.models.card import REPO_MODELS_DIR

SOURCE = "MediaPipe 0.10.21 wheel (pip download --no-deps mediapipe==0.10.21)"
LICENCE = {"name": "Apache-2.0", "file": "LICENSE", "holder": "The MediaPipe Authors (Google LLC)"}

MODELS: dict[str, dict] = {
    "face-detector": {
        "member": "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
        "task": "face detection (BlazeFace full range: faces up to about 5 m from the camera)",
        "labels": ["face"],
        "input_px": 192, "value_range": [-1.0, 1.0], "keypoints": 6, "min_score": 0.5, "iou_threshold": 0.3,
        "anchors": {"strides": [4], "per_layer": 1},
        "keypoint_names": ["right_eye", "left_eye", "nose_tip", "mouth_centre", "right_ear_tragion",
                           "left_ear_tragion"],
    },
    "face-landmarks": {
        "member": "mediapipe/modules/face_landmark/face_landmark.tflite",
        "task": "468 face-mesh landmarks (x, y in crop pixels, z relative depth) and a face-presence logit",
        "labels": ["face"],
        "input_px": 192, "value_range": [0.0, 1.0], "roi_scale": 1.5, "n_landmarks": 468,
    },
    "iris-landmarks": {
        "member": "mediapipe/modules/iris_landmark/iris_landmark.tflite",
        "task": "5 iris points (centre, then four on the rim) and 71 eye-contour points of one eye crop",
        "labels": ["eye"],
        "input_px": 64, "value_range": [0.0, 1.0], "roi_scale": 2.3, "n_landmarks": 5,
        "iris_output": "output_iris", "trained_on": "the eye whose outer corner is on the crop's left: "
        "the other eye's crop is mirrored",
    },
    "body-pose-detector": {
        "member": "mediapipe/modules/pose_detection/pose_detection.tflite",
        "task": "person detection for pose (box + hip centre, body-circle point, shoulder centre, upper-body point)",
        "labels": ["person"],
        "input_px": 224, "value_range": [-1.0, 1.0], "keypoints": 4, "min_score": 0.5, "iou_threshold": 0.3,
        "anchors": {"strides": [8, 16, 32, 32, 32], "per_layer": 2},
        "keypoint_names": ["hip_centre", "full_body_scale", "shoulder_centre", "upper_body_scale"],
    },
    "body-pose-landmarks": {
        "member": "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
        "task": "33 BlazePose landmarks (+6 auxiliary; 33-34 align the next crop) with visibility logits and a "
        "pose-presence probability",
        "labels": ["person"],
        "input_px": 256, "value_range": [0.0, 1.0], "roi_scale": 1.25, "n_landmarks": 39,
        "values_per_landmark": 5, "presence_output": "probability",
    },
}


def extract(wheel: Path, models_dir: Path = REPO_MODELS_DIR) -> list[Path]:
    folders = []
    licence_text, *graphs = read_wheel_members(  # all read before any model is replaced
        wheel, ["mediapipe-0.10.21.dist-info/LICENSE", *(spec["member"] for spec in MODELS.values())],
        "mediapipe 0.10.21")
    for (model_id, spec), graph in zip(MODELS.items(), graphs, strict=True):
        folder = models_dir / model_id
        with installing(folder) as staging:  # a failed extraction leaves the shipped model whole
            file_name = Path(spec["member"]).name
            (staging / file_name).write_bytes(graph)
            (staging / "LICENSE").write_bytes(licence_text)
            extra = {k: v for k, v in spec.items() if k not in ("member", "task", "labels")}
            card = {
                "id": model_id, "version": "mediapipe-0.10.21", "task": spec["task"], "labels": spec["labels"],
                "files": {"default": file_name}, "sha256": {},
                "format": "tflite", "backend": "tflite", "source": f"{SOURCE}: {spec['member']}",
                "licence": LICENCE, **extra,
            }
            write_card(staging, card)
        folders.append(folder)
    return folders


if __name__ == "__main__":
    try:
        for path in extract(Path(sys.argv[1])):
            print(path)
    except InputError as error:  # a wrong, missing or damaged wheel: one line
        raise SystemExit(str(error)) from None
