"""Videos made on the spot from a real photograph (scikit-image's public-domain astronaut portrait)."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np


def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()  # 512×512 RGB, one face near the top left


# The astronaut's face in the photograph, (x0, y0, x1, y1) pixels, as the shipped face detector boxes it.
ASTRONAUT_FACE_BOX = (172.0, 66.0, 278.0, 172.0)


def distant_face_frame(face_px: float, centre_px: tuple[float, float], width: int = 1280,
                       height: int = 720) -> np.ndarray:
    """A person far from a room camera: the photograph scaled so that the face is ``face_px`` across, its face
    centred on ``centre_px``, over scikit-image's (public-domain) coffee photograph stretched to the frame."""
    from skimage import data

    frame = cv2.resize(data.coffee(), (width, height), interpolation=cv2.INTER_AREA)
    x0, y0, x1, y1 = ASTRONAUT_FACE_BOX
    scale = face_px / max(x1 - x0, y1 - y0)
    matrix = np.float32([[scale, 0, centre_px[0] - scale * (x0 + x1) / 2],
                         [0, scale, centre_px[1] - scale * (y0 + y1) / 2]])
    person = cv2.warpAffine(astronaut(), matrix, (width, height), flags=cv2.INTER_AREA)
    inside = cv2.warpAffine(np.ones(astronaut().shape[:2], np.uint8), matrix, (width, height)) > 0
    frame[inside] = person[inside]
    return frame


def moving_frame(photo: np.ndarray, t_s: float, width: int, height: int) -> np.ndarray:
    """The photograph drifting sideways and slowly zooming over a grey background."""
    scale = 0.9 + 0.1 * np.sin(2 * np.pi * t_s / 4.0)
    shift_x = 40 * np.sin(2 * np.pi * t_s / 3.0)
    matrix = np.float32([[scale, 0, (width - photo.shape[1] * scale) / 2 + shift_x],
                         [0, scale, (height - photo.shape[0] * scale) / 2]])
    return cv2.warpAffine(photo, matrix, (width, height), borderValue=(90, 90, 90))


def walking_out_frame(t_s: float, width: int = 640, height: int = 480, leaves_s: float = 1.5,
                      speed_px_s: float = 200.0, back_s: float = 4.0) -> np.ndarray:
    """The photograph at half size in its seat until ``leaves_s``, then sliding right out of view at
    ``speed_px_s``, and back in its seat from ``back_s``: a patient who stands up, walks out and sits back down."""
    x_px = 200 + speed_px_s * min(max(t_s - leaves_s, 0.0), width) if t_s < back_s else 200
    matrix = np.float32([[0.5, 0, x_px], [0, 0.5, 100]])
    return cv2.warpAffine(astronaut(), matrix, (width, height), flags=cv2.INTER_AREA, borderValue=(90, 90, 90))


def write_video(path: Path, duration_s: float, fps: float = 15, width: int = 640, height: int = 480,
                no_face: tuple[float, float] | None = None, rotation_deg: int = 0,
                frame_times_s: list[float] | None = None, two_people: bool = False,
                codec: str = "libx264", display_matrix: list[int] | None = None,
                stored_from_shown: Callable[[np.ndarray], np.ndarray] | None = None,
                frame_at: Callable[[float], np.ndarray] | None = None) -> Path:
    """An H.264 (or other codec) file of the moving astronaut; ``no_face`` is a stretch of blank frames.

    ``rotation_deg`` stores display-rotation metadata, with the pixels turned the other way, as a phone does.
    ``display_matrix`` (FFmpeg's nine integers) is stored instead, with each picture stored as
    ``stored_from_shown`` makes it from the one to be shown.
    ``frame_times_s`` gives explicit (variable-rate) timestamps. ``frame_at(t_s)``: the picture at each time, in
    place of the moving astronaut.
    """
    photo = astronaut()
    if two_people:
        photo = np.concatenate([photo, photo[:, ::-1]], axis=1)
        photo = cv2.resize(photo, (photo.shape[1] * 3 // 4, photo.shape[0] * 3 // 4))
    times = frame_times_s if frame_times_s is not None else list(np.arange(0, duration_s, 1.0 / fps))
    time_base = Fraction(1, 1000)
    stored_w, stored_h = (height, width) if rotation_deg % 180 else (width, height)
    if stored_from_shown is not None:
        stored_h, stored_w = stored_from_shown(np.zeros((height, width, 1))).shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=int(round(fps)))
        stream.width, stream.height, stream.pix_fmt = stored_w, stored_h, "yuv420p"
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        if codec == "libx264":
            stream.options = {"preset": "ultrafast"}
        if rotation_deg:
            stream.set_display_rotation(rotation_deg)
        if display_matrix is not None:
            stream.set_display_matrix(display_matrix)
        for t_s in times:
            image = frame_at(t_s) if frame_at is not None else moving_frame(photo, t_s, width, height)
            if no_face and no_face[0] <= t_s < no_face[1]:
                image = np.full_like(image, 90)
            if rotation_deg:
                image = np.ascontiguousarray(np.rot90(image, k=-(rotation_deg // 90)))
            if stored_from_shown is not None:
                image = np.ascontiguousarray(stored_from_shown(image))
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = int(round(t_s * 1000))
            frame.time_base = time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def with_irises_moved(image: np.ndarray, centres: np.ndarray, shift_px: int, radius_px: int = 5) -> np.ndarray:
    """The photograph with a small patch around each iris centre ((n, 2) x, y) pasted ``shift_px`` to the right:
    eyes that look elsewhere while the face stays still."""
    out = image.copy()
    for x, y in np.round(centres).astype(int):
        patch = image[y - radius_px:y + radius_px + 1, x - radius_px:x + radius_px + 1].copy()
        out[y - radius_px:y + radius_px + 1, x - radius_px + shift_px:x + radius_px + 1 + shift_px] = patch
    return out
