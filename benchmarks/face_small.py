"""How often the face arm finds a distant face, with and without the search for small faces (``face.search_every_s``).

    python benchmarks/face_small.py          # about 2 minutes on 2 cores

A real photograph (scikit-image's public-domain astronaut) is scaled so that its face is a given share of a
1280x720 frame (the size the face arm scales 1080p video to) and pasted over another public-domain photograph
(coffee). Per face size: 15 places across the frame, each a 2 s clip at 5 frames a second with the face drifting
sideways. A frame counts as found when a face whose mesh was read lies within a third of a face size of the true
centre. The same faces at the same places with the search off (0) and on (the default, 1 s) give the two columns;
the milliseconds are per frame for detection, face mesh and the search (no expression model, no iris). A last row
counts faces found in face-less photographs (false faces), both ways.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime.arms.face.observer import FaceObserver  # noqa: E402
from runtime.arms.video.detect import box_centre  # noqa: E402
from runtime.sources.video import VideoFrame  # noqa: E402
from tests.arms.face.video_factory import distant_face_frame  # noqa: E402

WIDTH_PX, HEIGHT_PX = 1280, 720
FACE_SHARES = (0.025, 0.03, 0.04, 0.05, 0.06, 0.08, 0.10)
PLACES_PX = [(x, y) for x in (160, 400, 640, 880, 1120) for y in (150, 360, 570)]
FRAMES, FPS, DRIFT_PX_PER_FRAME = 10, 5.0, 6.0
FACELESS = ("coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "coins")


def found_share(face_px: float, search_every_s: float) -> tuple[float, float]:
    """Share of frames with the face found, and milliseconds per frame."""
    found = frames = 0
    seconds = 0.0
    for x, y in PLACES_PX:
        observer = FaceObserver(expression=None, iris=None, search_every_s=search_every_s)
        for k in range(FRAMES):
            centre = np.array([x + DRIFT_PX_PER_FRAME * k, y])
            image = distant_face_frame(face_px, tuple(centre), WIDTH_PX, HEIGHT_PX)
            started = time.perf_counter()
            observations = observer.process(VideoFrame(k / FPS, image))
            seconds += time.perf_counter() - started
            found += any(o.presence >= 0.5 and np.hypot(*(box_centre(o.box) - centre)) < face_px / 3
                         for o in observations)
            frames += 1
    return found / frames, 1000 * seconds / frames


def false_faces(search_every_s: float) -> int:
    from skimage import data

    count = 0
    for name in FACELESS:
        image = np.asarray(getattr(data, name)())
        image = np.stack([image] * 3, axis=-1) if image.ndim == 2 else image[..., :3]
        frame = cv2.resize(np.ascontiguousarray(image), (WIDTH_PX, HEIGHT_PX), interpolation=cv2.INTER_AREA)
        observer = FaceObserver(expression=None, iris=None, search_every_s=search_every_s)
        count += sum(o.presence >= 0.5 for o in observer.process(VideoFrame(0.0, frame)))
    return count


def main() -> None:
    print(f"| face width (share of {WIDTH_PX} px) | face px | found, search off | found, search every 1 s "
          "| ms/frame off | ms/frame on |")
    print("|---|---|---|---|---|---|")
    for share in FACE_SHARES:
        face_px = share * WIDTH_PX
        off, off_ms = found_share(face_px, 0.0)
        on, on_ms = found_share(face_px, 1.0)
        print(f"| {share:.3f} | {face_px:.0f} | {off:.2f} | {on:.2f} | {off_ms:.1f} | {on_ms:.1f} |")
    print(f"| false faces in {len(FACELESS)} face-less photographs | | {false_faces(0.0)} | {false_faces(1.0)} | | |")


if __name__ == "__main__":
    main()
