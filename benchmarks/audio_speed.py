"""Audio-arm speed: ``emotrace analyze`` on a 5-minute recording (process start included), per-window
latency when the same pipeline is fed at real-time pace, and the peak memory of ``analyze`` on longer
recordings.

    python benchmarks/audio_speed.py --data ../shared/data --minutes 5 --paced-s 60
    python benchmarks/audio_speed.py --repeats 0 --paced-s 0 --memory-minutes 10 30 60

The recording is one RAVDESS actor's clips played back to back (speech with the corpus's natural pauses),
written as 16 kHz FLAC; figures go to stdout as a markdown table (and to --json if given).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from runtime.media import read_audio  # noqa: E402


def make_recording(data: Path, minutes: float, path: Path, actor: str = "Actor_01") -> float:
    clips = sorted((data / "speech" / "ravdess" / actor).glob("*.flac"))
    target = int(minutes * 60 * 16000)
    parts, total = [], 0
    while total < target:
        for clip in clips:
            samples = read_audio(clip)
            parts.append(samples)
            total += samples.size
            if total >= target:
                break
    samples = np.concatenate(parts)[:target]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("flac", rate=16000, layout="mono")
        for start in range(0, samples.size, 4096):
            block = np.round(samples[start:start + 4096] * 32767).astype(np.int16).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(block, format="s16", layout="mono")
            frame.sample_rate = 16000
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return samples.size / 16000


def run_analyze(path: Path, out: Path, *extra: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "runtime.cli", "analyze", str(path), "--out", str(out), *extra],
                   check=True, cwd=REPO)
    return time.perf_counter() - started


# Runs the CLI in a child of its own, so that the peak resident memory read is that one run's.
_PEAK_RSS = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def peak_rss_mb(path: Path, out: Path) -> float:
    """Peak resident memory (MB) of one ``emotrace analyze`` of ``path``, process start included."""
    done = subprocess.run([sys.executable, "-c", _PEAK_RSS, sys.executable, "-m", "runtime.cli", "analyze",
                           str(path), "--out", str(out)], check=True, cwd=REPO, capture_output=True, text=True)
    return int(done.stdout.split()[-1]) / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--paced-s", type=float, default=60.0, help="length of the real-time-paced run (0: skip)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-minutes", type=float, nargs="*", default=[],
                        help="recording lengths whose analyze peak memory to measure")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        recording = tmp_path / "session.flac"
        duration_s = make_recording(args.data, args.minutes, recording)
        times = [run_analyze(recording, tmp_path / f"out{i}") for i in range(args.repeats)]
        if times:
            results["file_duration_s"] = duration_s
            results["file_wall_s_median"] = float(np.median(times))
            results["file_x_realtime"] = duration_s / float(np.median(times))
        for minutes in args.memory_minutes:
            long = tmp_path / f"long{minutes:g}.flac"
            make_recording(args.data, minutes, long)
            results[f"analyze_peak_rss_mb_{minutes:g}_min"] = peak_rss_mb(long, tmp_path / f"mem{minutes:g}")
            long.unlink()
        if args.paced_s > 0:
            short = tmp_path / "paced.flac"
            make_recording(args.data, args.paced_s / 60, short, actor="Actor_02")
            run_analyze(short, tmp_path / "paced", "--realtime")
            track = json.loads((tmp_path / "paced" / "timeline.json").read_text())["tracks"][0]
            results["paced_duration_s"] = args.paced_s
            results["paced_latency_s_max"] = track["settings"]["latency_s_max"]
            results["paced_latency_s_p95"] = track["settings"]["latency_s_p95"]
    print("| measure | value |\n|---|---|")
    for key, value in results.items():
        print(f"| {key} | {value:.3f} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
