"""How far a window fused live, as soon as it ends, is from file mode's: the largest gap in any label's probability.

    emotrace analyze examples/session.mp4 --out OUT
    python benchmarks/live_fusion_lag.py OUT/timeline.json [--methods stacking quality attention]

Each fused window of the timeline is fused again by ``LiveFusion.window`` over the arms' tracks cut to the windows
that had ended by the grid window's end (a face or body window overlapping it ends up to 1.5 s later, a physio
window up to 28 s later), as a dashboard calling it at that moment would; reported per method: the largest
absolute difference of a label's probability from file mode's fusion of the whole tracks, over the windows both
make a claim in (``compared``), and how many windows file mode makes a claim in and live mode does not
(``live_silent``): those are not in the largest difference, which they would otherwise hide as 0.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime.fusion import make_fuser  # noqa: E402
from runtime.fusion.live import LiveFusion  # noqa: E402
from runtime.timeline import Timeline  # noqa: E402
from runtime.track import Track  # noqa: E402

WINDOW_S, HOP_S = 2.0, 0.5  # the fusion grid's defaults
ENDED_TOLERANCE_S = 1e-9


@dataclasses.dataclass(frozen=True)
class LiveGap:
    """How a method's windows fused live compare with file mode's."""

    largest: float  # the largest |live − file| of a label's probability over the windows compared
    compared: int  # windows both modes make a claim in
    live_silent: int  # windows file mode makes a claim in and live mode does not (not in ``largest``)


def live_gap(tracks: Sequence[Track], method: str) -> LiveGap:
    """Each file-mode window fused again live over the windows that had ended by its end, compared."""
    whole = make_fuser(method).fuse(tracks, WINDOW_S, HOP_S)
    live = LiveFusion(make_fuser(method), WINDOW_S, HOP_S)
    worst, compared, live_silent = 0.0, 0, 0
    for window in whole.windows:
        ended = [dataclasses.replace(t, windows=[w for w in t.windows if w.end_s <= window.end_s + ENDED_TOLERANCE_S])
                 for t in tracks]
        fused = live.window(ended, window.start_s, window.end_s)
        if window.probs is None:
            continue
        if fused.probs is None:
            live_silent += 1
            continue
        compared += 1
        # a label one mode gives no probability (None: nothing it read can name it) counts as 0 there
        file_probs, live_probs = (np.nan_to_num(np.asarray(w.probs, dtype=float)) for w in (window, fused))
        worst = max(worst, float(np.abs(file_probs - live_probs).max()))
    return LiveGap(worst, compared, live_silent)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("timeline", type=Path, help="an analysed session's timeline.json")
    parser.add_argument("--methods", nargs="+", default=["stacking", "quality", "attention"])
    args = parser.parse_args()
    tracks = [t for t in Timeline.read(args.timeline).tracks if t.name != "fused"]
    gaps = {method: live_gap(tracks, method) for method in args.methods}
    print(json.dumps({method: {"largest": round(gap.largest, 3), "compared": gap.compared,
                               "live_silent": gap.live_silent} for method, gap in gaps.items()}))


if __name__ == "__main__":
    main()
