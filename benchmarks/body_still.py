"""Does a still person read as still? The body arm on a still photograph and on the same photograph moving.

    python benchmarks/body_still.py
    python benchmarks/body_still.py --against OLD_CHECKOUT   # also measured by an older checkout's runtime

The videos are those of ``tests/arms/body/test_body_arm.py``'s still-picture test, made by this checkout's
``tests.arms.face.video_factory``: the astronaut photograph at 640x480, 6 s at 5 frames a second, H.264, once still
(its first frame throughout) and once drifting ±40 px and zooming ±10 %. Each is analysed by the body arm alone
(face and fusion off), as ``analyze`` does; per 2 s window with evidence it prints ``movement_overall`` (SW/s),
``stillness`` and ``activation``, then each video's range. ``--against``: each video is measured again by that
checkout's runtime and models, in a child process started there (the videos stay this checkout's).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DURATION_S, FPS = 6.0, 5
MEASURED = ("movement_overall", "stillness", "activation")


def make_videos(folder: Path) -> dict[str, Path]:
    """The still and the moving video, written into ``folder``."""
    sys.path.insert(0, str(REPO_ROOT))  # the factory is this checkout's, whichever runtime measures
    from tests.arms.face.video_factory import astronaut, moving_frame, write_video

    still_image = moving_frame(astronaut(), 0.0, 640, 480)
    return {"still photograph": write_video(folder / "still.mp4", DURATION_S, fps=FPS,
                                            frame_at=lambda t_s: still_image),
            "photograph drifting and zooming": write_video(folder / "moving.mp4", DURATION_S, fps=FPS)}


def measure(video: Path, tree: Path) -> list[dict[str, float]]:
    """Each body window with evidence as ``tree``'s runtime measures it: its start and the ``MEASURED`` values."""
    sys.path.insert(0, str(tree))  # imported here, from the tree asked for
    from runtime.config import load_settings
    from runtime.pipeline import analyze_file

    settings = load_settings(None, {"fusion.enabled": False, "face.enabled": False})
    with tempfile.TemporaryDirectory() as out:
        track = analyze_file(video, Path(out) / "timeline", settings).track("body")
    return [{"start_s": w.start_s, **{name: float(w.measurements[name]) for name in MEASURED}}
            for w in track.windows if w.quality > 0]


def measured_by(video: Path, tree: Path) -> list[dict[str, float]]:
    """``measure`` run by ``tree``'s runtime in a child process started there; its one line read back."""
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--measure", str(video.resolve()),
                           "--tree", str(tree.resolve())], cwd=tree, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{tree}: the measurement failed there: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(name: str, tree: Path, windows: list[dict[str, float]]) -> None:
    """Per window, then the range, of one video as one tree measured it."""
    print(f"{name} ({tree}): {len(windows)} windows with evidence")
    for w in windows:
        print(f"  {w['start_s']:4.1f} s: movement_overall {w['movement_overall']:.3f} SW/s, "
              f"stillness {w['stillness']:.2f}, activation {w['activation']:.3f}")
    if windows:
        print("  range: " + ", ".join(f"{m} {min(w[m] for w in windows):.3f}-{max(w[m] for w in windows):.3f}"
                                      for m in MEASURED))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="an older checkout of this project, measured in turn")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child's: one video, one JSON line
    parser.add_argument("--tree", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.tree)))
        return
    if args.against and not (args.against / "runtime" / "arms" / "body").is_dir():
        raise SystemExit(f"{args.against}: not a checkout of this project (no runtime/arms/body)")
    with tempfile.TemporaryDirectory() as folder:
        for name, video in make_videos(Path(folder)).items():
            report(name, REPO_ROOT, measure(video, REPO_ROOT))
            if args.against:
                report(name, args.against, measured_by(video, args.against))


if __name__ == "__main__":
    main()
