"""``emotrace evaluate face``: an installed expression model scored on labelled faces someone brings.

The set is a FER-2013-style split folder (``<class>/<row>.png``: FER-2013's PrivateTest, or crops laid out so), read
as ``train face`` reads a split (``export.face.data.load_split``: FER-2013's class folder names, 'fear', 'surprise',
as the canonical labels 'fearful', 'surprised'), or a CSV ``path,emotion`` (paths relative to its folder, an
emotion in any word the label lists know: 'Anger' is angry). Each image is judged as ``emotrace face classify
--cropped`` judges it (``grey_crop``: an already aligned face crop; one under the face arm's ``min_face_px`` or too
dark and flat or blank is left without a claim, counted wrong); each is kept only as that (its crop at the model's
input, or why there is none) and its pixel digest, reduced as it is read: a set of large photographs is not held in
memory. Figures are image-level, from ``export.metrics``: UA, macro-F1, ECE, accuracy, confusion, per-label recall,
and 95 % intervals of UA and macro-F1 over resampled images (FER-2013 records no identities, so no interval over
people can be drawn).

What cannot be scored is said, never dropped silently: images whose label the model lacks (left out, counted by
label), model labels no image has, images without a claim. An image that cannot be read refuses the set, as the
training reader refuses it. What the model learnt from and was selected on (its card's ``training.data.train`` and
``.selection``, over an ensemble's members) is judged by content, never by folder names: each image's pixel digest
is looked up in the shipped digests of FER-2013's Training and PublicTest (``export.face.fer_digests``). Copies of
the training split are counted (all of them: no held-out figures), with the figures without them beside (they are
scored); copies of the selection split are said to give optimistic figures; training data the digests do not
cover is said to be unchecked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from export import BOOTSTRAP_RESAMPLES
from export.evaluation import (
    check_resamples,
    coverage,
    coverage_notes,
    figures_line,
    label_tables,
    reason_kind,
    resolve_model,
    scored,
    write_report,
)
from export.face import fer_digests
from export.face.data import FACE_LABELS, load_split, pixel_digest
from export.metrics import classification_metrics
from runtime.arms.face.expression import DEFAULT_EXPRESSION_MODEL, ExpressionModel
from runtime.arms.face.settings import FaceSettings
from runtime.errors import InputError
from runtime.files import check_output_folder, missing_input, path_text, read_csv_rows, unreadable_files
from runtime.track import canonical_label, tidy_label

REPORT_NAME = "face_evaluation"
CSV_COLUMNS = ("path", "emotion")
FER_PREFIX = "FER-2013 "  # how a face card names a FER-2013 split ("FER-2013 Training", "FER-2013 PublicTest ...")
BATCH = 256  # crops a call of the model


@dataclass(frozen=True)
class Reduced:
    """A grey image reduced, as it is read, to what the evaluation needs of it: the digest of its pixels
    (``copies``), and what ``face classify --cropped`` judges of it (``grey_crop``): the crop at each side the model
    reads (``ExpressionModel.fitted``), or None and why it makes no claim."""

    digest: int
    crop: dict[int, np.ndarray] | None
    reason: str


@dataclass
class Faces:
    """A labelled set's grey images (reduced), their labels (canonical where the label lists know the word) and
    what names each in the report (a split's FER-2013 row number, a CSV's path)."""

    images: list[Reduced]
    emotions: list[str]
    names: list[dict[str, Any]]


def reduced(grey: np.ndarray, model: ExpressionModel, min_face_px: int) -> Reduced:
    """A grey image as the evaluation keeps it: a photograph of megapixels held as a few kB."""
    from runtime.arms.face.classify import grey_crop

    crop, reason = grey_crop(grey, min_face_px)
    return Reduced(pixel_digest(grey), None if crop is None else model.fitted(crop), reason)


def read_faces(data: Path, model: ExpressionModel, min_face_px: int) -> Faces:
    """The set ``data`` names, a FER-2013-style split folder or a ``path,emotion`` CSV, each image reduced for
    ``model`` as it is read."""
    if not data.exists():
        raise missing_input(data, "FER-2013 split folder or path,emotion CSV")
    if data.is_file():
        if data.suffix.lower() != ".csv":
            raise InputError(data, "not a FER-2013 split folder (<emotion>/<row>.png) or a path,emotion CSV")
        return read_csv_faces(data, model, min_face_px)
    folder = data.resolve()
    split = load_split(folder.parent, folder.name)
    return Faces([reduced(image, model, min_face_px) for image in split.images], [FACE_LABELS[i] for i in split.labels],
                 [{"row": int(row)} for row in split.indices])


def read_csv_faces(csv_path: Path, model: ExpressionModel, min_face_px: int) -> Faces:
    """A CSV's faces: each row's image read as ``face classify`` reads one, in grey, and reduced (``reduced``); any
    image that cannot be read refuses the set (their count and the first ones named)."""
    hint = f"a face set CSV's first line is the header {','.join(CSV_COLUMNS)} (paths relative to its folder)"
    header, rows = read_csv_rows(csv_path, "face set CSV", header_hint=hint)
    columns = {column.strip().lower() for column in header}
    if {"emotion", "pixels"} <= columns:  # FER-2013's own fer2013.csv: the faces are in it, not files beside it
        raise InputError(csv_path, "is FER-2013's own CSV (emotion,pixels,Usage): its faces are pixel rows, not image "
                         "files; score one split of it laid out as <split>/<class>/<row>.png (48×48 grey; the class "
                         "folders angry, disgust, fear, happy, sad, surprise, neutral for emotion 0-6) and give that "
                         "folder, e.g. .../PrivateTest")
    missing = [name for name in CSV_COLUMNS if name not in columns]
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
            images.append(read_reduced(path, model, min_face_px))
        except InputError as error:
            failed.append(error)
            continue
        emotions.append(canonical_label(row["emotion"]) or tidy_label(row["emotion"]))
        names.append({"path": path_text(path)})
    if failed:
        raise unreadable_files(csv_path, failed, len(rows), "image")
    return Faces(images, emotions, names)


def read_reduced(path: Path, model: ExpressionModel, min_face_px: int) -> Reduced:
    """One image file read as ``face classify`` reads it, in grey, and reduced: only one is held at full size."""
    import cv2

    from runtime.arms.face.classify import read_rgb

    return reduced(cv2.cvtColor(read_rgb(path), cv2.COLOR_RGB2GRAY), model, min_face_px)


def judge(images: list[Reduced], model: ExpressionModel) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Each image's probabilities over the model's labels as ``face classify --cropped`` gives them (uniform where
    it makes no claim), whether it made one, and why not (by the image's position)."""
    probs = np.full((len(images), len(model.labels)), 1.0 / len(model.labels))
    claimed = np.array([image.crop is not None for image in images], dtype=bool)
    where = np.flatnonzero(claimed)
    for start in range(0, len(where), BATCH):
        probs[where[start:start + BATCH]] = model.predict([images[i].crop for i in where[start:start + BATCH]])
    return probs, claimed, {i: image.reason for i, image in enumerate(images) if image.crop is None}


def trained_on(model: ExpressionModel, key: str = "train") -> tuple[set[str], list[str]]:
    """The data the model learnt from as its card names it (``training.data.train``, e.g. 'FER-2013 Training'), or
    was selected on (``key`` 'selection'), over an ensemble's members; and the ids of the cards that name none."""
    if model.members:
        members = [trained_on(member, key) for member in model.members]
        return set().union(*(named for named, _ in members)), [card for _, unnamed in members for card in unnamed]
    data = model.card.extra.get("training", {}).get("data", {}) if isinstance(model.card.extra.get("training"),
                                                                              dict) else {}
    named = data.get(key) if isinstance(data, dict) else None
    return ({named}, []) if isinstance(named, str) and named.strip() else (set(), [model.card.id])


def copies(ours: np.ndarray, named: set[str],
           digests: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], list[str]]:
    """Which of the images whose pixel digests are ``ours`` ((n,) uint64, ``pixel_digests``) are pixel-for-pixel
    copies of each FER-2013 split a card names ('FER-2013 <split>' → (n,) bool), by their digests, whatever the
    folders are called; and the names the digests do not cover (not checked)."""
    masks: dict[str, np.ndarray] = {}
    unchecked: list[str] = []
    for name in sorted(named):
        split = (name[len(FER_PREFIX):].split() or [None])[0] if name.startswith(FER_PREFIX) else None
        if split not in digests:
            unchecked.append(name)
        else:
            masks[f"{FER_PREFIX}{split}"] = np.isin(ours, digests[split]) | masks.get(f"{FER_PREFIX}{split}", False)
    return masks, unchecked


def _without(mask: np.ndarray, y_true: np.ndarray, probs: np.ndarray, claimed: np.ndarray,
             labels: list[str]) -> dict[str, float] | None:
    """UA, macro-F1 and accuracy over the images ``mask`` leaves out; None where it leaves none."""
    fresh = ~mask
    if not fresh.any():
        return None
    figures = classification_metrics(y_true[fresh], probs[fresh], labels, claimed[fresh])
    return {"ua_without": figures["ua"], "macro_f1_without": figures["macro_f1"], "accuracy_without": figures["wa"]}


def notes(report: dict[str, Any]) -> list[str]:
    """What the figures leave out or count as wrong, one line each."""
    lines = []
    if report["trained_on"] is None:
        lines.append("the model's card names no training data: whether these images are held out is unknown")
    elif report["cards_naming_no_training_data"]:
        lines.append(f"the card of {', '.join(report['cards_naming_no_training_data'])} names no training data: "
                     "whether these images are held out from it is unknown")
    copied = report["training_copies"]
    if report["is_training_split"]:
        lines.append(f"all {report['images']} images are pixel-for-pixel copies of {copied['split']} images the model "
                     "learnt from: these figures are not held-out ones")
    elif copied:
        lines.append(f"{copied['images']} image(s) are pixel-for-pixel copies of {copied['split']} images the model "
                     f"learnt from, scored with the rest: not held-out; without them "
                     f"({report['images'] - copied['images']} images): UA {copied['ua_without']:.3f}, accuracy "
                     f"{copied['accuracy_without']:.3f}")
    selected = report["selection_copies"]
    if selected:
        rest = (f"; without them and any training copies ({selected['images_left']} images): UA "
                f"{selected['ua_without']:.3f}, accuracy {selected['accuracy_without']:.3f}"
                if selected.get("ua_without") is not None else "")
        lines.append(f"{selected['images']} image(s) are copies of {selected['split']} images, the split the model "
                     f"was selected on: figures on them are optimistic{rest}")
    if report["unchecked_training_data"]:
        lines.append(f"the model's card names training data the shipped FER-2013 digests do not cover "
                     f"({', '.join(report['unchecked_training_data'])}): whether these images are copies of it was "
                     "not checked")
    lines += coverage_notes(report, "image")
    if report["no_claim"]:
        kinds: dict[str, int] = {}
        for item in report["unclaimed"]:
            kind = reason_kind(item["reason"])
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
    check_resamples(resamples)
    data, out = Path(data), Path(out)
    check_output_folder(out, {"data folder": data})
    expression = ExpressionModel(resolve_model(model, models_dir, DEFAULT_EXPRESSION_MODEL))
    labels = list(expression.labels)
    faces = read_faces(data, expression, min_face_px)
    outside, without = coverage(faces.emotions, labels)
    kept = [i for i, emotion in enumerate(faces.emotions) if emotion in labels]
    if not kept:
        raise InputError(data, f"no image has a label the model {expression.card.id} has ({', '.join(labels)}); "
                         f"the set's labels: {', '.join(sorted(set(faces.emotions)))}")
    probs, claimed, unclaimed = judge([faces.images[i] for i in kept], expression)
    y_true = np.array([labels.index(faces.emotions[i]) for i in kept], dtype=int)
    trained, unnamed = trained_on(expression)
    selected, _ = trained_on(expression, "selection")
    digests = fer_digests.read_digests() if trained | selected else {}
    if digests is None:  # the package is incomplete: no figure is given as held out unchecked
        raise InputError(fer_digests.DIGESTS_FILE, "missing or unreadable: reinstall emotrace, or remake it with "
                         "python -m export.face.fer_digests FER2013_DIR")
    ours = np.array([faces.images[i].digest for i in kept], dtype=np.uint64)
    learnt, unchecked = copies(ours, trained, digests)
    chosen, _ = copies(ours, selected, digests)
    learnt_mask = np.logical_or.reduce([np.zeros(len(kept), dtype=bool), *learnt.values()])
    chosen_mask = np.logical_or.reduce([np.zeros(len(kept), dtype=bool), *chosen.values()]) & ~learnt_mask
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
        "trained_on": sorted(trained) or None,
        "cards_naming_no_training_data": unnamed if trained else [],
        "is_training_split": bool(learnt_mask.all()),
        "training_copies": None,
        "selection_copies": None,
        "unchecked_training_data": unchecked,
        "predictions": [
            {**faces.names[i], "label": faces.emotions[i], "predicted": labels[int(row.argmax())] if ok else None,
             "confidence": round(float(row.max()), 4) if ok else None}
            for i, row, ok in zip(kept, probs, claimed, strict=True)
        ],
    }
    if learnt_mask.any():
        report["training_copies"] = {"split": ", ".join(name for name, mask in learnt.items() if mask.any()),
                                     "images": int(learnt_mask.sum()),
                                     **(_without(learnt_mask, y_true, probs, claimed, labels) or {})}
    if chosen_mask.any():
        report["selection_copies"] = {"split": ", ".join(name for name, mask in chosen.items() if mask.any()),
                                      "images": int(chosen_mask.sum()),
                                      "images_left": int((~(chosen_mask | learnt_mask)).sum()),
                                      **(_without(chosen_mask | learnt_mask, y_true, probs, claimed, labels) or {})}
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
