"""``emotrace face classify``: one expression per image, with probabilities, to CSV.

Photographs are scaled as analyze scales a video's frames (``face.max_side_px``) and go through the face arm's finder
(``FaceFinder``: small faces searched for) and the face mesh; the largest face the mesh reads is classified, as the
face arm counts only such faces as people (a large false box beside a real face is none). ``cropped=True`` takes
each image as an already aligned face crop (e.g. FER-2013's 48×48 images) and skips detection. As in the face
arm, a face whose detected box is under ``min_face_px`` on its longer side (a crop: on its shorter side) is too small
to read, and a crop too dark and flat or blank (``unreadable_crop``) has nothing to read: its row is left empty, with
the reason.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

from runtime.arms.face.arm import FaceSettings
from runtime.arms.face.expression import DEFAULT_EXPRESSION_MODEL, ExpressionModel, face_crop_roi, unreadable_crop
from runtime.arms.face.finding import FaceFinder
from runtime.arms.face.observer import MIN_LANDMARK_PRESENCE
from runtime.checks import model_cards
from runtime.config import Settings, setting_error
from runtime.errors import InputError
from runtime.files import (
    batch_failures,
    check_output_file,
    find_files,
    nonempty_file,
    path_text,
    unreadable,
    write_atomically,
)
from runtime.native import native_stderr
from runtime.sources.video import scaled_size

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".bmp", ".webp", ".tif", ".tiff", ".gif"}
MULTI_PAGE_SUFFIXES = {".tif", ".tiff", ".gif"}  # pages (or frames) past the first are not read: said

log = logging.getLogger(__name__)


def image_paths(paths: list[Path]) -> list[Path]:
    return find_files(paths, IMAGE_SUFFIXES, "images")


def read_rgb(path: Path) -> np.ndarray:
    nonempty_file(path)
    with opencv_name(path) as name, native_stderr(keep=lambda line: False) as said:  # the codecs' words said once
        try:
            image = cv2.imread(name, cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH)  # 16-bit kept, scaled in to_8bit
            if image is None:  # OpenCV's colour read fails on some images it reads as stored (a grey float TIFF)
                image = _as_bgr(cv2.imread(name, cv2.IMREAD_UNCHANGED))
        except cv2.error as error:  # OpenCV refuses before decoding, e.g. a header declaring billions of pixels
            raise InputError(path, f"not a readable image ({_opencv_refusal(error)})") from None
    codec_said = [line.strip() for line in said if line.strip() and not OPENCV_LOG_LINE.match(line.strip())
                  and not line.lstrip().startswith(">")]  # an OpenCV error's continuation lines ('> Internal ...')
    if image is None:
        raise InputError(path, f"not a readable image ({codec_said[0][:120]})" if codec_said
                         else "not a readable image")
    damage = [line for line in codec_said if not line.startswith("libpng warning:")]  # e.g. a colour profile ignored
    if damage:
        log.warning("%s: damaged image, read as far as it goes (%s)", path, damage[0][:120])
    if path.suffix.lower() in MULTI_PAGE_SUFFIXES:
        _say_pages(path)
    return cv2.cvtColor(to_8bit(image, path), cv2.COLOR_BGR2RGB)


def _say_pages(path: Path) -> None:
    """One line for a multi-page TIFF or an animated GIF: its first page (frame) alone is read."""
    with opencv_name(path) as name, native_stderr(keep=lambda line: False):
        try:
            pages = cv2.imcount(name)
        except cv2.error:  # read above, though its pages cannot be counted: the first is all there is to say
            return
    if pages > 1:
        log.warning("%s: %d pages (or frames); the first alone is read", path, pages)


# OpenCV's own log lines ("[ERROR:0@0.470] global loadsave.cpp:621 imread_ ..."): its internals, not the image's
# problem; the codecs' lines (libjpeg's "Premature end of JPEG file") say what is wrong with the file
OPENCV_LOG_LINE = re.compile(r"^\[\s*(ERROR|WARN|INFO|DEBUG|VERBOSE|FATAL)\s*:")


def _as_bgr(image: np.ndarray | None) -> np.ndarray | None:
    """An image read as stored, in BGR as OpenCV's colour read gives it: grey repeated, an alpha channel dropped."""
    if image is None or image.ndim == 3 and image.shape[2] == 3:
        return image
    if image.ndim == 2 or image.shape[2] == 1:
        return np.repeat(image.reshape(*image.shape[:2], 1), 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3])


LOW_BITS_MAX = 4095  # a 16-bit image no brighter than this uses 12 bits or fewer: a sensor's raw range


def to_8bit(image: np.ndarray, path: Path) -> np.ndarray:
    """An image's 8-bit grey levels. A 16-bit one is read on its format's full range (65535 is white), not stretched
    to its own brightest pixel: stretching would invent contrast in a dark picture. A 16-bit image whose values sit in
    its low bits (a 10- or 12-bit sensor's) is thus nearly black, and said so in one line naming it. Other samples
    (floating-point, signed) are refused: their range is not known (a float TIFF may hold 0-1 or 0-255), and a NaN
    has no grey level; OpenCV's imread without IMREAD_ANYDEPTH refused most of them too."""
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        brightest = int(image.max())
        if brightest <= LOW_BITS_MAX:
            log.warning("%s: 16-bit image whose values reach only %d of 65535 (a 12-bit or smaller range?): read on "
                        "the full 16-bit range, so it is nearly black", path, brightest)
        scaled = image.astype(np.uint32)  # (x + 128) // 257 rounds as x / 257 does (no ties), without float copies:
        scaled += 128  # an 8000x6000 photograph's float64 copies took 2.3 GB
        scaled //= 257
        return scaled.astype(np.uint8)
    kind = "floating-point" if np.issubdtype(image.dtype, np.floating) else f"{image.dtype.itemsize * 8}-bit signed"
    raise InputError(path, f"not a readable image ({kind} samples)")


@contextmanager
def opencv_name(path: Path) -> Iterator[str]:
    """A name by which OpenCV's imread opens ``path``. OpenCV takes a name as UTF-8 text and crashes the process on
    one that is not (a Latin-1 name): such a file is opened here and named by its descriptor (/dev/fd/N), so that
    it is read as any other (imdecode of its bytes would not do: it gives nothing of a JPEG cut short, which imread
    reads as far as it goes)."""
    if path_text(path) == str(path):  # UTF-8: as given
        yield str(path)
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as error:
        raise unreadable(path, error) from None
    try:
        yield f"/dev/fd/{fd}"
    finally:
        os.close(fd)


def _opencv_refusal(error: cv2.error) -> str:
    if "CV_IO_MAX_IMAGE_PIXELS" in str(error):
        return "it declares more pixels than OpenCV reads"
    return " ".join(str(error).split())[-120:]


def classify_configured(paths: list[Path], csv_path: Path, settings: Settings, cropped: bool = False,
                        on_failed: Callable[[InputError], None] | None = None) -> tuple[int, int, list[InputError]]:
    """``classify_paths`` with the models and face settings ``settings`` give, their cards checked first (the
    detector's and landmarks' too where faces are found, not ``cropped``): a model a config file names is refused
    naming its key, before any image is read, and so is no expression model ("" is analyze's geometry alone)."""
    face = settings["face"]
    if not face["model"].strip():
        raise setting_error(settings, "face.model", "names no expression model, which face classify needs")
    model_cards("face", settings, ["model"] if cropped else ["model", "detector", "landmarks"])
    return classify_paths(paths, csv_path, model=face["model"], cropped=cropped, min_face_px=face["min_face_px"],
                          detector_model=face["detector"], landmarks_model=face["landmarks"],
                          max_side_px=face["max_side_px"], search_every_s=face["search_every_s"],
                          on_failed=on_failed)


def classify_paths(paths: list[Path], csv_path: Path, model: str | None = None, cropped: bool = False,
                   min_face_px: int = FaceSettings.min_face_px, detector_model: str = FaceSettings.detector,
                   landmarks_model: str = FaceSettings.landmarks, max_side_px: int = FaceSettings.max_side_px,
                   search_every_s: float = FaceSettings.search_every_s,
                   on_failed: Callable[[InputError], None] | None = None) -> tuple[int, int, list[InputError]]:
    """Write ``path,emotion,<probability per label>,reason`` rows, and return (images read, classified, the error
    of each image that could not be read, each also told to ``on_failed`` as it is met: a long batch says its
    failures as they come). An image without a readable face gets an empty emotion and probabilities, and the
    reason; one that cannot be read gets no row (the batch goes on past it), and nothing is written when none
    could be. A bad model is refused before any image is read."""
    expression = ExpressionModel(model or DEFAULT_EXPRESSION_MODEL)
    files = image_paths(paths)
    check_output_file(csv_path, files)
    detector = landmarker = None
    if not cropped:
        from runtime.arms.video.detect import SsdDetector
        from runtime.arms.video.landmarks import CropLandmarker

        detector, landmarker = SsdDetector(detector_model), CropLandmarker(landmarks_model)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["path", "emotion", *expression.labels, "reason"])
    unread: dict[str, int] = {}
    failed, fail = batch_failures(on_failed)
    for path in files:
        try:
            image = read_rgb(path)
        except InputError as error:
            fail(error)
            continue
        if cropped:
            crop, reason = _crop(image, min_face_px)
        else:
            # a fresh finder: a photograph is a first frame, whose small faces are searched for over all of it
            finder = FaceFinder(detector, search_every_s)
            crop, reason = _face(image, expression, finder, landmarker, min_face_px, max_side_px)
        if crop is None:
            writer.writerow([path_text(path), "", *[""] * len(expression.labels), reason])
            kind = reason.split(" (")[0]  # one count per kind of reason, not per measured detail (mean grey N)
            unread[kind] = unread.get(kind, 0) + 1
            continue
        probs = expression.predict(crop[None])[0]
        writer.writerow([path_text(path), expression.labels[int(np.argmax(probs))], *[f"{p:.6f}" for p in probs], ""])
    for reason, count in unread.items():
        log.warning("%d image(s) left unclassified (empty emotion): %s", count, reason)
    images = len(files) - len(failed)
    if images:
        write_atomically(Path(csv_path), buffer.getvalue().encode())
    return images, images - sum(unread.values()), failed


def _crop(image: np.ndarray, min_face_px: int) -> tuple[np.ndarray | None, str]:
    """An already aligned face crop in grey, or None and why it cannot be read."""
    return grey_crop(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), min_face_px)


def grey_crop(grey: np.ndarray, min_face_px: int) -> tuple[np.ndarray | None, str]:
    """A grey image taken as an already aligned face crop (``--cropped``), or None and why it cannot be read: under
    ``min_face_px`` on its shorter side, or too dark and flat or blank (``unreadable_crop``)."""
    if min(grey.shape[:2]) < min_face_px:
        return None, f"crop under {min_face_px} px"
    reason = unreadable_crop(grey)
    return (None, reason) if reason else (grey, "")


def as_analyzed(image: np.ndarray, max_side_px: int) -> np.ndarray:
    """A photograph at the size analyze gives a video's frames (``scaled_size``), so that its faces are found and
    measured against ``min_face_px`` as the face arm's are."""
    height_px, width_px = image.shape[:2]
    if max(height_px, width_px) <= max_side_px:
        return image
    return cv2.resize(image, scaled_size(width_px, height_px, max_side_px), interpolation=cv2.INTER_AREA)


def _face(photo: np.ndarray, expression: ExpressionModel, finder: FaceFinder, landmarker, min_face_px: int,
          max_side_px: int) -> tuple[np.ndarray | None, str]:
    """The expression crop of the largest face the face mesh reads in ``photo`` scaled as analyze scales frames,
    or None and why there is none."""
    from runtime.arms.video.landmarks import face_roi

    image = as_analyzed(photo, max_side_px)
    detections = finder.find(image, 0.0, [])
    if not detections:
        return None, _no_face(image, finder.detector.input_px, min_face_px)
    readable = sorted((d for d in detections if d.size_px >= min_face_px), key=lambda d: -d.size_px)
    if not readable:
        scaled = "" if image is photo else f" (in the image scaled to {max(image.shape[:2])} px, face.max_side_px)"
        return None, f"face under {min_face_px} px{scaled}"
    # The face arm's rule (tracking.py): a box the mesh does not read is no face, however large (a false box
    # beside a real face), so the largest read one is the face.
    for detection in readable:
        landmarks = landmarker.run(image, face_roi(detection, landmarker.roi_scale))
        if landmarks.presence >= MIN_LANDMARK_PRESENCE:
            break
    else:
        return None, "face mesh not found on the face"
    crop = expression.crop(image, face_crop_roi(landmarks.points, landmarks.roi.direction))
    reason = unreadable_crop(crop)  # the face arm's rule: a face found but too dark or blank to read
    return (None, reason) if reason else (crop, "")


def _no_face(image: np.ndarray, finder_input_px: int, min_face_px: int) -> str:
    """Why no face is found, with a hint where the image is smaller than the finder's own input: a face crop
    (FER-2013's are 48 px) fills it with no surroundings, which the finder, made for photographs, does not see; no
    hint for an image under ``min_face_px``, which --cropped refuses too."""
    height_px, width_px = image.shape[:2]
    if max(height_px, width_px) >= finder_input_px or min(height_px, width_px) < min_face_px:
        return "no face found"
    return (f"no face found (a {width_px}x{height_px} image, smaller than the face finder's {finder_input_px}-px "
            "input: a face crop? --cropped reads it as one)")
