"""Fusion window by window, for a live dashboard: ``LiveFusion.window`` fuses one grid window when called.

(``emotrace live`` does not call it yet: a live session fuses its tracks at each checkpoint and as it ends, as
file mode does.) The same ``Fuser`` runs over the tracks as they stand at the call, on a short grid that ends at
the window being judged: the fuser's own context (``Fuser.context_windows``: attention's card says 8) in grid
steps, so the causal attention fuser sees the past it was trained to see and nothing later. File mode gives
attention the same last windows of time (a window with no claim is an absent input in both) and runs its graph
on one such context at a time, as here, so a window fused live equals file mode's when the tracks already hold
every window that overlaps its context. Fused as soon as it ends, it does not: a face or body window (2 s, at a
1 s hop) that overlaps a grid window ends up to 1.5 s after it, a physio window (30 s) up to 28 s after it, and a
window fused without them reads less evidence than file mode does (on the example, fused at each window's end,
up to 0.91 apart in a label's probability with attention, 0.83 with stacking, 0.22 with quality, over the 74
windows where both make a claim, none where only file mode does: benchmarks/live_fusion_lag.py). A caller that
wants file mode's result waits for those windows.

The fuser is handed each track cut to the windows near the short grid (found by bisection on an index of the
track kept from call to call), not the whole track: resampling every window of a two-hour session once per grid
step cost 0.24 s a step at two hours (half the 0.5 s hop; 24 ms at eight minutes) and grew with the session.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from array import array
from collections.abc import Sequence
from typing import Any

from runtime.fusion import fuse_arguments, fuser_from_settings
from runtime.fusion.base import Fuser
from runtime.track import Track, Window


@dataclasses.dataclass
class _TrackIndex:
    """What ``LiveFusion`` knows of one track's windows, extended with each call by the windows added since."""

    windows: list[Window]  # the list indexed: a track given another list is indexed anew
    count: int = 0  # windows indexed, the first ``count`` of the list
    starts_s: array = dataclasses.field(default_factory=lambda: array("d"))
    in_order: bool = True  # starts never go back (a live track's do not): the windows near a span are bisected
    longest_s: float = 0.0
    claim: Window | None = None  # a window with probabilities: the track is an emotion track for the fuser
    last: Window | None = None  # the last window indexed, to tell a list that grew from one changed

    def extend(self) -> None:
        # one slice, counted by itself: a window an arm's thread appends meanwhile waits for the next call
        new = self.windows[self.count:]
        for window in new:
            start_s = window.start_s
            # NaN is never in order: such a track is handed to the fuser whole
            self.in_order = self.in_order and start_s >= (self.starts_s[-1] if self.starts_s else -math.inf)
            self.starts_s.append(start_s)
            if window.end_s - start_s > self.longest_s:
                self.longest_s = window.end_s - start_s
            if self.claim is None and window.probs is not None:
                self.claim = window
        self.count += len(new)
        self.last = new[-1] if new else self.last


class LiveFusion:
    """``window(tracks, start_s, end_s)`` → the fused window for that grid step."""

    def __init__(
        self,
        fuser: Fuser,
        window_s: float = 2.0,
        hop_s: float = 0.5,
        context_windows: int | None = None,
        arousal_from: Sequence[str] = (),
        incongruence_settings: dict[str, float] | None = None,
    ):
        self.fuser = fuser
        self.window_s = window_s
        self.hop_s = hop_s
        # None: the fuser's own context (attention: its card's context_windows; 1 for a rule); never less than
        # it, so a window fused live sees the past it sees in file mode.
        self.context_windows = context_windows
        self.arousal_from = list(arousal_from)
        self.incongruence_settings = dict(incongruence_settings or {})
        self._indexes: dict[str, _TrackIndex] = {}

    @classmethod
    def from_settings(cls, section: dict[str, Any], backend: str = "onnxruntime") -> LiveFusion:
        fuser = fuser_from_settings(section, backend=backend)
        return cls(fuser, **fuse_arguments(section))

    def window(self, tracks: Sequence[Track], start_s: float, end_s: float) -> Window:
        """The fused grid window ``start_s``..``end_s``; a ``ValueError`` for one starting before the session (or at
        NaN), which no grid holds."""
        if not start_s >= -1e-9:
            raise ValueError(f"start_s {start_s!r} is before the session's start (0 s)")
        context = max(int(self.context_windows or 0), self.fuser.context_windows())
        # the judged window (k = 0) and up to context - 1 before it, none before the session's start
        grid = [
            (round(start_s - k * self.hop_s, 6), round(end_s - k * self.hop_s, 6))
            for k in reversed(range(context))
            if start_s - k * self.hop_s >= -1e-9
        ]
        span = (grid[0][0], grid[-1][1])
        fused = self.fuser.fuse(
            [self._near(track, *span) for track in tracks],
            self.window_s,
            self.hop_s,
            grid=grid,
            arousal_from=self.arousal_from,
            incongruence_settings=self.incongruence_settings,
        )
        return fused.windows[-1]

    def _near(self, track: Track, start_s: float, end_s: float) -> Track:
        """``track`` with only the windows that may overlap ``start_s``..``end_s`` (in their order), which is all
        resampling onto a grid inside that span reads, and one window with probabilities if none of those has
        any, so that the fuser takes it for the emotion track it is (``align.is_emotion_track``)."""
        index = self._indexes.get(track.name)
        windows = track.windows
        # Live tracks only grow; a new list, a shorter one or its last indexed window replaced is indexed anew (a
        # window replaced further back is not noticed: live arms only append).
        if index is None or index.windows is not windows or len(windows) < index.count or (
                index.count and windows[index.count - 1] is not index.last):
            index = self._indexes[track.name] = _TrackIndex(windows)
        index.extend()
        if not index.in_order:
            return track
        # A window starting more than the longest window's length before the span ends before it; a second more
        # keeps rounding in the length from dropping one that touches it (an extra window overlaps nothing).
        first = bisect.bisect_right(index.starts_s, start_s - index.longest_s - 1.0)
        last = bisect.bisect_left(index.starts_s, end_s)
        near = windows[first:last]
        if index.claim is not None and not any(w.probs is not None for w in near):
            near = [index.claim, *near]
        return dataclasses.replace(track, windows=near)
