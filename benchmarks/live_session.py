"""A whole live session (voice + face + body on one clock), replayed from a recording at real-time pace.

    python benchmarks/live_session.py [VIDEO] [--seconds 40]

VIDEO defaults to the bundled examples/session.mp4 (a face with speech, 320x240). Reported: the voice
windows' latency after their end (max, p95), frames sampled and dropped to keep up, the sampled rate, and
how many windows of each track carry evidence. The session runs as `emotrace live --replay` runs it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime.config import load_settings  # noqa: E402
from runtime.live import LiveInputs, run_live  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("video", nargs="?", type=Path, default=Path("examples/session.mp4"))
    parser.add_argument("--seconds", type=float, default=40.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        timeline = run_live(Path(tmp), load_settings(), LiveInputs(replay=args.video), args.seconds,
                            on_line=lambda line: None)
    audio, face = timeline.track("audio"), timeline.track("face")
    frames = face.settings["frames"]
    result = {
        "input": str(args.video), "session_s": timeline.duration_s,
        "voice_latency_s_max": audio.settings["latency_s_max"], "voice_latency_s_p95": audio.settings["latency_s_p95"],
        "frames_sampled": frames["sampled"], "frames_dropped": frames["dropped"],
        "sampled_fps": round(frames["sampled"] / timeline.duration_s, 2),
        "windows_with_evidence": {t.name: f"{sum(w.quality > 0 for w in t.windows)}/{len(t.windows)}"
                                  for t in timeline.tracks},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
