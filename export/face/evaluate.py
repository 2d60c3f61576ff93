"""``emotrace evaluate face``: an installed expression model scored on labelled faces someone brings.

The set is a FER-2013-style split folder (``<class>/<row>.png``: FER-2013's PrivateTest, or crops laid out so), read
as ``train face`` reads a split (``export.face.data.load_split``: FER-2013's class folder names, 'fear', 'surprise',
as the canonical labels 'fearful', 'surprised'), or a CSV ``path,emotion`` (paths relative to its folder, an
emotion in any word the label lists know: 'Anger' is angry). Each image is judged as ``emotrace face classify
--cropped`` judges it (``grey_crop``: an already aligned face crop; one under the face arm's ``min_face_px`` or too
dark and flat or blank is left without a claim, counted wrong). Figures are image-level, from ``export.metrics``:
UA, macro-F1, ECE, accuracy, confusion, per-label recall, and 95 % intervals of UA and macro-F1 over resampled
images (FER-2013 records no identities, so no interval over people can be drawn).

What cannot be scored is said, never dropped silently: images whose label the model lacks (left out, counted by
label), model labels no image has, images without a claim. An image that cannot be read refuses the set, as the
training reader refuses it. Where the model's card names the split it was trained on: a set that is that split is
said to give no held-out figures, and a split beside it holding pixel-for-pixel copies of its images (FER-2013's
PublicTest holds 280 of Training's) has them counted, with the figures without them beside (they are scored).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from export import BOOTSTRAP_RESAMPLES
from export.evaluation import coverage, coverage_notes, figures_line, label_tables, resolve_model, scored, write_report
from export.face.data import FACE_LABELS, FaceSet, copies_of, load_split
from export.metrics import classification_metrics
from runtime.arms.face.expression import DEFAULT_EXPRESSION_MODEL, ExpressionModel
from runtime.arms.face.settings import FaceSettings
from runtime.errors import InputError
from runtime.files import check_output_folder, first_named, missing_input, path_text, read_csv_rows
from runtime.track import canonical_label, tidy_label

REPORT_NAME = "face_evaluation"
CSV_COLUMNS = ("path", "emotion")
FER_PREFIX = "FER-2013 "  # how a face card names a FER-2013 split it was trained on ("FER-2013 Training")
BATCH = 256  # crops a call of the model


@dataclass
class Faces:
    """A labelled set's grey images, their labels (canonical where the label lists know the word) and what names
    each in the report (a split's FER-2013 row number, a CSV's path); ``split``: the split as read, where it is one."""

    images: list[np.ndarray]
    emotions: list[str]
    names: list[dict[str, Any]]
    split: FaceSet | None = None


def read_faces(data: Path) -> Faces:
    """The set ``data`` names: a FER-2013-style split folder, or a ``path,emotion`` CSV."""
    if not data.exists():
        raise missing_input(data, "FER-2013 split folder or path,emotion CSV")
    if data.is_file():
        if data.suffix.lower() != ".csv":
            raise InputError(data, "not a FER-2013 split folder (<emotion>/<row>.png) or a path,emotion CSV")
        return read_csv_faces(data)
    folder = data.resolve()
    split = load_split(folder.parent, folder.name)
    return Faces(list(split.images), [FACE_LABELS[i] for i in split.labels],
                 [{"row": int(row)} for row in split.indices], split)


def read_csv_faces(csv_path: Path) -> Faces:
    """A CSV's faces: each row's image read as ``face classify`` reads one, in grey; any image that cannot be read
    refuses the set (their count and the first ones named)."""
    import cv2

    from runtime.arms.face.classify import read_rgb

    hint = f"a face set CSV's first line is the header {','.join(CSV_COLUMNS)} (paths relative to its folder)"
    header, rows = read_csv_rows(csv_path, "face set CSV", header_hint=hint)
    missing = [name for name in CSV_COLUMNS if name not in {column.strip().lower() for column in header}]
    if missing:
        raise InputError(csv_path, f"has no column {', '.join(missing)}: {hint}")
    rows = [(line, {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}) for line, row in rows]
    rows = [(line, row) for line, row in rows if any(row.values())]  # a spreadsheet's blank line
    if not rows:
        raise InputError(csv_path, f"has the header {', '.join(CSV_COLUMNS)} but no row: one row per image")
    images, emotions, names, failed = [], [], [], []
    for line, row in rows:
        if not row["path"] or not row["emotion"]:
            raise InputError(csv_path, f"line {line}: a row needs a path and an emotion")
        path = csv_path.parent / row["path"]
        try:
            images.append(cv2.cvtColor(read_rgb(path), cv2.COLOR_RGB2GRAY))
        except InputError as error:
            failed.append(str(error))
            continue
        emotions.append(canonical_label(row["emotion"]) or tidy_label(row["emotion"]))
        names.append({"path": path_text(path)})
    if failed:
        raise InputError(csv_path, f"{len(failed)} of {len(rows)} image(s) could not be read: {first_named(failed)}")
    return Faces(images, emotions, names)


def judge(images: list[np.ndarray], model: ExpressionModel, min_face_px: int) -> tuple[np.ndarray, np.ndarray,
                                                                                           dict[int, str]]:
    """Each image's probabilities over the model's labels as ``face classify --cropped`` gives them (uniform where
    it makes no claim), whether it made one, and why not (by the image's position)."""
    from runtime.arms.face.classify import grey_crop

    probs = np.full((len(images), len(model.labels)), 1.0 / len(model.labels))
    crops, where, unclaimed = [], [], {}
    for i, image in enumerate(images):
        crop, reason = grey_crop(image, min_face_px)
        if crop is None:
            unclaimed[i] = reason
        else:
            crops.append(crop)
            where.append(i)
    for start in range(0, len(crops), BATCH):
        probs[where[start:start + BATCH]] = model.predict(crops[start:start + BATCH])
    claimed = np.ones(len(images), dtype=bool)
    claimed[list(unclaimed)] = False
    return probs, claimed, unclaimed


def trained_on(model: ExpressionModel) -> set[str] | None:
    """The data the model learnt from as its card names it (``training.data.train``, e.g. 'FER-2013 Training'),
    over an ensemble's members; None where a card names none."""
    if model.members:
        members = [trained_on(member) for member in model.members]
        return None if any(named is None for named in members) else set().union(*members)
    data = model.card.extra.get("training", {}).get("data", {}) if isinstance(model.card.extra.get("training"),
                                                                              dict) else {}
    named = data.get("train") if isinstance(data, dict) else None
    return {named} if isinstance(named, str) and named else None


def training_overlap(data: Path, faces: Faces, trained: set[str] | None) -> tuple[bool, dict[str, Any] | None]:
    """Whether the split ``data`` is one the model was trained on, and which of its images are copies of such a
    split beside it (the split's name and a mask), for a split folder whose model's card names FER-2013 splits."""
    if faces.split is None or not trained:
        return False, None
    folder = data.resolve()
    splits = [name[len(FER_PREFIX):] for name in sorted(trained) if name.startswith(FER_PREFIX)]
    if folder.name in splits:
        return True, None
    for split in splits:
        if (folder.parent / split).is_dir():
            return False, {"split": split, "mask": copies_of(faces.split, load_split(folder.parent, split))}
    return False, None


def notes(report: dict[str, Any]) -> list[str]:
    """What the figures leave out or count as wrong, one line each."""
    lines = []
    if report["trained_on"] is None:
        lines.append("the model's card names no training data: whether these images are held out is unknown")
    elif report["is_training_split"]:
        lines.append(f"this is the split the model was trained on ({', '.join(report['trained_on'])}): these figures "
                     "are not held-out ones")
    copies = report["training_copies"]
    if copies:
        lines.append(f"{copies['images']} image(s) are pixel-for-pixel copies of {copies['split']} images the model "
                     f"learnt from, scored with the rest; without them ({report['images'] - copies['images']} "
                     f"images): UA {copies['ua_without']:.3f}, accuracy {copies['accuracy_without']:.3f}")
    lines += coverage_notes(report, "image")
    if report["no_claim"]:
        kinds: dict[str, int] = {}
        for item in report["unclaimed"]:
            kind = item["reason"].split(" (")[0]
            kinds[kind] = kinds.get(kind, 0) + 1
        lines.append(f"{report['no_claim']} image(s) the model could not read as a face, counted wrong (listed under "
                     f"unclaimed): " + ", ".join(f"{kind}: {n}" for kind, n in kinds.items()))
    interval = report["interval_95"]
    lines.append(interval.get("note") or f"the 95 % intervals resample images ({interval['resamples']} draws), not "
                 "people: FER-2013 records no identities, and one person's several images would make an interval "
                 "over people wider")
    return lines


def evaluate_face(data: Path, out: Path, model: str | None = None, models_dir: Path | None = None,
                  resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0,
                  min_face_px: int = FaceSettings.min_face_px) -> dict[str, Any]:
    """Score the expression model on the labelled faces ``data``; the report (also written to ``out``) with its
    notes."""
    if resamples < 1:
        raise InputError("--resamples", f"must be at least 1, not {resamples}")
    data, out = Path(data), Path(out)
    check_output_folder(out, {"data folder": data})
    expression = ExpressionModel(resolve_model(model, models_dir, DEFAULT_EXPRESSION_MODEL))
    labels = list(expression.labels)
    faces = read_faces(data)
    outside, without = coverage(faces.emotions, labels)
    kept = [i for i, emotion in enumerate(faces.emotions) if emotion in labels]
    if not kept:
        raise InputError(data, f"no image has a label the model {expression.card.id} has ({', '.join(labels)}); "
                         f"the set's labels: {', '.join(sorted(set(faces.emotions)))}")
    probs, claimed, unclaimed = judge([faces.images[i] for i in kept], expression, min_face_px)
    y_true = np.array([labels.index(faces.emotions[i]) for i in kept], dtype=int)
    trained = trained_on(expression)
    is_training_split, overlap = training_overlap(data, faces, trained)
    report = {
        "model": {"id": expression.card.id, "version": expression.card.version,
                  "folder": str(expression.card.folder), "labels": labels},
        "data": str(data),
        "judged_as": f"face classify --cropped (min_face_px {min_face_px})",
        "images_read": len(faces.images),
        "outside_model_labels": outside,
        "model_labels_without_images": without,
        **scored(y_true, probs, claimed, labels, "image", np.arange(len(kept)), "image", resamples, seed),
        "unclaimed": [{**faces.names[kept[i]], "reason": reason} for i, reason in unclaimed.items()],
        "trained_on": None if trained is None else sorted(trained),
        "is_training_split": is_training_split,
        "training_copies": None,
        "predictions": [
            {**faces.names[i], "label": faces.emotions[i], "predicted": labels[int(row.argmax())] if ok else None,
             "confidence": round(float(row.max()), 4) if ok else None}
            for i, row, ok in zip(kept, probs, claimed, strict=True)
        ],
    }
    if overlap is not None and overlap["mask"][kept].any():
        fresh = ~overlap["mask"][kept]
        without_copies = classification_metrics(y_true[fresh], probs[fresh], labels, claimed[fresh])
        report["training_copies"] = {"split": f"{FER_PREFIX}{overlap['split']}",
                                     "images": int((~fresh).sum()), "ua_without": without_copies["ua"],
                                     "macro_f1_without": without_copies["macro_f1"],
                                     "accuracy_without": without_copies["wa"]}
    report["notes"] = notes(report)
    write_report(report, out, REPORT_NAME, markdown_report(report))
    return report


def summary(report: dict[str, Any]) -> str:
    """A few lines: the model, the set, the headline figures and the notes."""
    lines = [f"{report['model']['id']} {report['model']['version']} on {report['data']}: {report['images']} images, "
             f"judged as {report['judged_as']}", figures_line(report)]
    return "\n".join(lines + [f"note: {line}" for line in report["notes"]])


def markdown_report(report: dict[str, Any]) -> str:
    lines = [f"# {report['model']['id']} {report['model']['version']} on {report['data']}", "",
             summary(report).replace("\n", "  \n"), "",
             *label_tables(report, "image", "images the model could not read as a face")]
    return "\n".join(lines) + "\n"
