"""Whole `emotrace analyze` on long 720p 30 fps sessions (voice, face, body): wall time and peak memory by length.

    python benchmarks/video_long.py [--minutes 5 15 30] [--work DIR]

The session is the bundled example's recipe (examples/make_example.py: the astronaut photograph drifting, the face
leaving for 4 s, espeak-ng speech) drawn at 1280×720, 30 fps, with the example's own audio packets, then looped by
stream copy to each length (whole 40 s loops). Each length runs as its own process under `/usr/bin/time -v`; one
JSON line each: minutes, wall_s, cpu_s, x_real_time, peak_rss_mb. The videos (about 48 MB per 10 minutes) go to --work,
a temporary folder by default.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))

import make_example as example  # noqa: E402

WIDTH_PX, HEIGHT_PX, FPS = 1280, 720, 30


def cv2_square(patch: np.ndarray, side_px: int) -> np.ndarray:
    """The example's square resize by cv2: skimage's takes 0.13 s a frame at 720p."""
    return cv2.resize(patch, (side_px, side_px), interpolation=cv2.INTER_AREA)


def make_clip(path: Path) -> Path:
    """40 s at 720p30 (H.264) with examples/session.mp4's audio packets copied as they are."""
    from skimage.data import astronaut

    image = astronaut()
    with av.open(str(ROOT / "examples" / "session.mp4")) as source, av.open(str(path), "w") as out:
        audio_in = source.streams.audio[0]
        video = out.add_stream("libx264", rate=FPS, options={"crf": "23", "preset": "veryfast", "g": "60"})
        video.width, video.height, video.pix_fmt = WIDTH_PX, HEIGHT_PX, "yuv420p"
        audio_out = out.add_stream_from_template(audio_in)
        for i in range(int(example.DURATION_S * FPS)):
            picture = example.picture(i / FPS, image, (HEIGHT_PX, WIDTH_PX), cv2_square)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = i
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        for packet in source.demux(audio_in):
            if packet.dts is not None:
                packet.stream = audio_out
                out.mux(packet)
    return path


def loop(clip: Path, minutes: float, path: Path) -> float:
    """``clip`` repeated by stream copy to about ``minutes`` (whole loops); returns the length in seconds."""
    loops = max(1, int(round(minutes * 60 / example.DURATION_S)))
    with av.open(str(clip)) as source, av.open(str(path), "w") as out:
        outs = {s.index: out.add_stream_from_template(s) for s in source.streams}
        per_loop = {s.index: int(round(example.DURATION_S / s.time_base)) for s in source.streams}
        packets = [(p.stream.index, p.stream.type, p.stream.time_base, p.pts, p.dts, bytes(p), p.is_keyframe,
                    p.duration) for p in source.demux() if p.dts is not None]
        for k in range(loops):
            for index, kind, time_base, pts, dts, data, keyframe, duration in packets:
                if kind == "audio" and (pts + (duration or 0) > per_loop[index] or (k and pts < 0)):
                    continue  # audio past the loop's end, or the AAC priming packet, would overlap the next loop
                packet = av.Packet(data)
                packet.pts, packet.dts = pts + k * per_loop[index], dts + k * per_loop[index]
                packet.time_base, packet.is_keyframe, packet.stream = time_base, keyframe, outs[index]
                if duration:
                    packet.duration = duration
                out.mux(packet)
    return loops * example.DURATION_S


def analyze(video: Path, out_dir: Path) -> dict:
    """One `emotrace analyze` process under /usr/bin/time -v: wall seconds and peak resident memory."""
    run = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "runtime.cli", "analyze", str(video),
                          "--out", str(out_dir)], cwd=ROOT, capture_output=True, text=True, check=True)
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", run.stderr)
    hours, minutes, seconds = (float(g) if g else 0.0 for g in wall.groups())
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr).group(1))
    # CPU seconds as well: on a shared host the wall time follows the cores it is given.
    cpu_s = sum(float(re.search(rf"{kind} time \(seconds\): ([\d.]+)", run.stderr).group(1))
                for kind in ("User", "System"))
    return {"wall_s": round(hours * 3600 + minutes * 60 + seconds, 1), "cpu_s": round(cpu_s, 1),
            "peak_rss_mb": round(rss_kb / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, nargs="+", default=[5.0, 15.0, 30.0])
    parser.add_argument("--work", type=Path, help="folder for the videos and timelines (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        clip = make_clip(work / "clip720p30.mp4")
        for minutes in args.minutes:
            video = work / f"session_{minutes:g}min.mp4"
            length_s = loop(clip, minutes, video)
            result = analyze(video, work / f"out_{minutes:g}min")
            print(json.dumps({"minutes": round(length_s / 60, 2), **result,
                              "x_real_time": round(length_s / result["wall_s"], 2)}), flush=True)


if __name__ == "__main__":
    main()
