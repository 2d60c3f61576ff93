"""Face + body speed on a 720p 30 fps video sampled at 5 fps: file mode (× real time) and live mode (drops).

    python benchmarks/face_body.py [--seconds 30] [--live] [--expression-threads N]

The input is made on the spot from a real photograph (scikit-image's astronaut) drifting and zooming.
File mode: one pass decodes every frame, samples 5 fps, runs face detection, face mesh, expression,
pose detection/landmarks; speed = video seconds / wall seconds; face_frame_ms spreads the face stage's time per
frame (median, 90th percentile, longest). Live mode replays the file at real-time
pace through the live source and counts frames dropped to keep up (a backlog never forms by design).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from runtime.arms.body.arm import BodySettings  # noqa: E402
from runtime.arms.face.observer import FaceObserver  # noqa: E402
from runtime.arms.face.settings import FaceSettings  # noqa: E402
from runtime.arms.video.scan import make_observers, scan_frames  # noqa: E402
from runtime.sources.video import FileVideoSource, VideoFrame  # noqa: E402
from tests.arms.face.video_factory import write_video  # noqa: E402


def file_mode(video: Path, duration_s: float, face: FaceSettings) -> dict:
    started = time.perf_counter()
    source = FileVideoSource(video, sample_fps=face.sample_fps, max_side_px=face.max_side_px)
    faces, bodies = make_observers(face, BodySettings())
    frame_ms: list[float] = []
    time_each_frame(faces, frame_ms)
    scan = scan_frames(source.frames(), faces, bodies, source.stats)
    wall_s = time.perf_counter() - started
    return {"mode": "file", "video_s": duration_s, "wall_s": round(wall_s, 2),
            "x_real_time": round(duration_s / wall_s, 2), "frames_sampled": len(scan.frame_times_s),
            "stage_s": scan.seconds, "face_frame_ms": spread_ms(frame_ms), "faces": len(scan.faces),
            "poses": len(scan.bodies)}


def time_each_frame(faces: FaceObserver, frame_ms: list[float]) -> None:
    """Adds each frame's face-stage time (detection, mesh, irises, the search; not the expression CNN) to
    ``frame_ms``: a frame that takes much longer than the others holds up a live camera's next frames."""
    process = faces.process

    def timed(frame: VideoFrame, **kwargs) -> list:
        started = time.perf_counter()
        try:
            return process(frame, **kwargs)
        finally:
            frame_ms.append(1000 * (time.perf_counter() - started))

    faces.process = timed


def spread_ms(frame_ms: list[float]) -> dict[str, float]:
    """The median, 90th percentile and longest of the frames' times, in milliseconds."""
    values = np.asarray(frame_ms, dtype=float)
    return {"median": round(float(np.median(values)), 1), "p90": round(float(np.percentile(values, 90)), 1),
            "max": round(float(values.max()), 1)}


def live_mode(video: Path, duration_s: float, face: FaceSettings) -> dict:
    from runtime.sources.video import LiveVideoSource

    source = LiveVideoSource(video, replay=True, sample_fps=5.0)
    scan = scan_frames(source.frames(), *make_observers(face, BodySettings()), source.stats)
    return {"mode": "live (real-time replay)", "video_s": duration_s, "frames_decoded": source.stats.decoded,
            "frames_sampled": source.stats.sampled, "frames_dropped": source.stats.dropped,
            "sampled_fps": round(source.stats.sampled / duration_s, 2), "poses": len(scan.bodies)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--live", action="store_true", help="also run the live-mode drop count")
    parser.add_argument("--expression-threads", type=int, default=FaceSettings.expression_threads,
                        help="CPU threads for the expression CNN (the [face] expression_threads setting)")
    parser.add_argument("--search-every-s", type=float, default=FaceSettings.search_every_s,
                        help="seconds between searches for small faces (the [face] search_every_s setting; 0 = none)")
    args = parser.parse_args()
    if args.expression_threads < 1:
        raise SystemExit(f"--expression-threads {args.expression_threads}: must be at least 1")
    if not (math.isfinite(args.search_every_s) and args.search_every_s >= 0):
        raise SystemExit(f"--search-every-s {args.search_every_s}: must be 0 or more")
    if not (math.isfinite(args.seconds) and args.seconds >= 1):
        raise SystemExit(f"--seconds {args.seconds}: must be at least 1 (a video to time)")
    face = FaceSettings(expression_threads=args.expression_threads, search_every_s=args.search_every_s)
    with tempfile.TemporaryDirectory() as tmp:
        video = write_video(Path(tmp) / "bench720p30.mp4", args.seconds, fps=30, width=1280, height=720)
        results = [file_mode(video, args.seconds, face)]
        if args.live:
            results.append(live_mode(video, args.seconds, face))
    for result in results:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
