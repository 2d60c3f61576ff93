"""Fusion window by window, for a live session: each grid window is fused as soon as it ends.

The same ``Fuser`` runs over the tracks as they stand, on a short grid that ends at the window being judged:
the fuser's own context (``Fuser.context_windows``: attention's card says 8) in grid steps, so the causal
attention fuser sees the past it was trained to see and nothing later. A window fused live is the same as that
window fused in file mode over the whole recording, given the same track windows up to its end: file mode gives
attention the same last windows of time (a window with no claim is an absent input in both) and runs its graph
on one such context at a time, as here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runtime.fusion import fuser_from_settings
from runtime.fusion.base import Fuser
from runtime.track import Track, Window


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

    @classmethod
    def from_settings(cls, section: dict[str, Any], backend: str = "onnxruntime") -> LiveFusion:
        fuser = fuser_from_settings(section, backend=backend)
        return cls(
            fuser,
            section["window_s"],
            section["hop_s"],
            arousal_from=section.get("arousal_from", []),
            incongruence_settings={
                "min_confidence": section["incongruence_confidence"],
                "min_divergence": section["incongruence_divergence"],
            },
        )

    def window(self, tracks: Sequence[Track], start_s: float, end_s: float) -> Window:
        context = max(int(self.context_windows or 0), self.fuser.context_windows())
        grid = [
            (round(start_s - k * self.hop_s, 6), round(end_s - k * self.hop_s, 6))
            for k in reversed(range(context))
            if start_s - k * self.hop_s >= -1e-9
        ]
        fused = self.fuser.fuse(
            tracks,
            self.window_s,
            self.hop_s,
            grid=grid,
            arousal_from=self.arousal_from,
            incongruence_settings=self.incongruence_settings,
        )
        return fused.windows[-1]
