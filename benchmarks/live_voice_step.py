"""The live voice stream's own work per window, apart from the rest of a live session, and against an older tree.

    python benchmarks/live_voice_step.py [VIDEO] [--repeats 5]
    python benchmarks/live_voice_step.py [VIDEO] --against /tmp/old [--rounds 3]

VIDEO defaults to the bundled examples/session.mp4. Its audio is cut into the 0.1 s chunks a replay delivers and
pushed, unpaced, through a fresh ``AudioStream`` (the configured model, warmed up as a live session warms it)
``--repeats`` times in one process; each push is timed, and each keeps its fastest time over the repeats, so that
another job on the host inflates few of them. Reported: the pushes that finished a window (the work a window's
latency is made of after its last chunk arrives: VAD, speech decision, voice measurements, features, model run),
their median, p95 and max in ms, and the median of the other pushes.

``--against DIR`` times an older checkout too (``git worktree add DIR COMMIT``): this file runs in a child process
per tree, timing that tree's runtime, alternating the trees ``--rounds`` times, so that both see the same
load; a line per run, then each tree's medians over its runs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]


def time_pushes(video: Path, repeats: int, tree: Path) -> dict[str, object]:
    """Each push's fastest time (s) over ``repeats`` fresh streams of ``tree``'s runtime, split by whether it
    finished a window."""
    sys.path.insert(0, str(tree))  # imported here, from the tree asked for
    import runtime
    from runtime.arms.audio.arm import AudioSettings
    from runtime.arms.audio.model import load_audio_model
    from runtime.arms.audio.stream import AudioStream, warm_up
    from runtime.config import load_settings
    from runtime.sources.audio import FileAudioSource

    settings = load_settings()
    audio = AudioSettings.from_config(settings["audio"])
    model = load_audio_model(settings["audio"]["model"], backend=settings["runtime"]["backend"])
    warm_up(model, audio)
    chunks = [chunk.samples for chunk in FileAudioSource(video, audio.sample_rate_hz).chunks()]
    spent_s = np.empty((repeats, len(chunks)))
    finished = np.zeros(len(chunks), dtype=bool)
    for repeat in range(repeats):
        stream = AudioStream(model, audio)
        for k, samples in enumerate(chunks):
            started = time.perf_counter()
            finished[k] = bool(stream.push(samples))
            spent_s[repeat, k] = time.perf_counter() - started
    fastest_ms = spent_s.min(axis=0) * 1000
    window_ms, other_ms = fastest_ms[finished], fastest_ms[~finished]
    return {"tree": str(Path(runtime.__file__).resolve().parents[1]), "windows": int(finished.sum()),
            "window_ms_median": round(float(np.median(window_ms)), 2),
            "window_ms_p95": round(float(np.percentile(window_ms, 95)), 2),
            "window_ms_max": round(float(window_ms.max()), 2),
            "other_push_ms_median": round(float(np.median(other_ms)), 3)}


def alternate(video: Path, trees: list[Path], rounds: int, repeats: int) -> dict[str, dict[str, float]]:
    """This file run in a child per tree (timing that tree's runtime), the trees alternated ``rounds`` times;
    each run's line printed as it comes, then each tree's medians over its runs."""
    runs: dict[str, list[dict[str, float]]] = {str(tree): [] for tree in trees}
    for _ in range(rounds):
        for tree in trees:
            done = subprocess.run([sys.executable, __file__, str(video.resolve()), "--repeats", str(repeats),
                                   "--tree", str(tree)], cwd=tree, capture_output=True, text=True, check=False)
            if done.returncode:
                sys.exit(f"{tree}: the timing run failed: {done.stderr.strip().splitlines()[-1:]}")
            print(done.stdout.strip(), flush=True)
            runs[str(tree)].append(json.loads(done.stdout))
    keys = ("window_ms_median", "window_ms_p95", "window_ms_max", "other_push_ms_median")
    return {tree: {key: round(float(np.median([run[key] for run in tree_runs])), 2) for key in keys}
            for tree, tree_runs in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", nargs="?", type=Path, default=REPO_ROOT / "examples" / "session.mp4")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--against", type=Path, help="an older checkout to time alternately with this one")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tree", type=Path, default=REPO_ROOT, help="the checkout whose runtime is timed")
    args = parser.parse_args()
    if args.repeats < 1 or args.rounds < 1:
        sys.exit("--repeats and --rounds: at least 1")
    if not args.video.is_file():
        sys.exit(f"{args.video}: no such file")
    if args.against is None:
        print(json.dumps(time_pushes(args.video, args.repeats, args.tree.resolve())))
        return
    if not (args.against / "runtime" / "arms" / "audio" / "stream.py").is_file():
        sys.exit(f"{args.against}: not a checkout of this project (no runtime/arms/audio/stream.py)")
    medians = alternate(args.video, [args.against.resolve(), REPO_ROOT], args.rounds, args.repeats)
    print(json.dumps({"medians_over_runs": medians}))


if __name__ == "__main__":
    main()
