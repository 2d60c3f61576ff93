"""Stress judged as each window of a live session ends, against the session so far.

A finished recording is judged by ``stress.classify_session``: each window against the whole session (its ranks,
a centred context, a local baseline on both sides). A live session has only the past. ``LiveStress`` takes each
window's statistics as it ends, from the stretch of signal just before (``live_window_features``), makes its
inputs causal (``model.RunningInputs``: ranks among the windows so far, trailing context and baseline) and runs
the same model. No figure is given until the session holds a baseline (``PhysioSettings.live_baseline_s``).
The figure is provisional: the track of record is still judged over the whole session when it ends
(docs/physio.md measures both on the held-out subjects).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from contextlib import AbstractContextManager

import numpy as np

from runtime import log_filters
from runtime.arms.physio.features import MEASUREMENTS, WindowFeatures, process_recording, window_features
from runtime.arms.physio.model import RunningInputs, card_setting
from runtime.arms.physio.recording import Recording
from runtime.arms.physio.stress import (
    MIN_BASELINE_WINDOWS,
    PhysioSettings,
    PhysioWindow,
    input_settings,
    model_features,
    stress_probabilities,
)
from runtime.clock import seconds_below
from runtime.errors import InputError
from runtime.models import Model

log = logging.getLogger("emotrace.physio")
SAID_ONCE = (log, logging.getLogger("emotrace.firmware_bridge"))
NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")
LEAD_S = 60.0  # signal processed before a window's start, so that filters and beat detection have settled there


def live_window_features(recording: Recording, start_s: float, end_s: float) -> WindowFeatures:
    """One window's statistics from the signal in [start_s - LEAD_S, end_s) alone: what a live session has
    when the window ends, processed at a cost that does not grow with the session."""
    return window_features(process_recording(recording.between(start_s - LEAD_S, end_s)), start_s, end_s)


class LiveStress:
    """Each window's stress probability from the windows so far; ``add`` them in order."""

    def __init__(self, model: Model, settings: PhysioSettings) -> None:
        self.model = model
        self.settings = settings
        self.names = model_features(model)
        self.inputs = RunningInputs(**input_settings(model))
        extra = model.card.extra
        if card_setting(extra, "scope") != "running":
            log.warning("physio: %s was trained on whole-session inputs; judged live, window by window, its stress "
                        "figures are less well calibrated than a live model's (docs/physio.md)", model.card.id)
        elif settings.live_baseline_s < float(card_setting(extra, "live_baseline_s")):
            log.warning("physio: live stress from %g s into the session, but %s was trained on windows from %g s on; "
                        "its earlier figures are not measured", settings.live_baseline_s, model.card.id,
                        float(extra["live_baseline_s"]))
        self.windows: list[PhysioWindow] = []
        self._said: set[str] = set()

    def add(self, window: WindowFeatures) -> PhysioWindow:
        """The window judged against the session so far; no figure (quality 0) while the baseline forms."""
        row = np.array([window.measurements[n] for n in self.names], dtype=float)
        x = self.inputs.add(row, window.quality)
        forming = self._baseline_forming(window)
        if window.quality <= 0 or forming:
            reason = window.reason if window.quality <= 0 else forming  # what the window lacks comes first
            judged = PhysioWindow(window.start_s, window.end_s, None, 0.0, reason, window.measurements)
        else:
            try:
                p = float(stress_probabilities(self.model, x[None, :])[0])
                judged = PhysioWindow(window.start_s, window.end_s, p, window.quality, window.reason,
                                      window.measurements)
            except Exception as error:  # a defect in the model run costs this window, not the windows after it
                reason = f"the live stress model failed ({type(error).__name__}: {error})"
                with self.said_once():
                    log.warning("live stress: %s", reason)
                judged = PhysioWindow(window.start_s, window.end_s, None, 0.0, reason, window.measurements)
        self.windows.append(judged)
        return judged

    def unjudged(self, start_s: float, end_s: float, reason: str) -> PhysioWindow:
        """A window whose signal could not be read, kept in order with quality 0 and the reason."""
        return self.add(WindowFeatures(start_s, end_s, dict.fromkeys(MEASUREMENTS, math.nan), 0.0, reason))

    def judge(self, read_since: Callable[[float], Recording], start_s: float, end_s: float) -> PhysioWindow:
        """``add`` the window [start_s, end_s) of the recording ``read_since(start_s - LEAD_S)`` gives.

        Each log line is said once a session (numbers aside). Signal that cannot be read (or a defect in reading
        it) costs this window, not the session: it is kept without a figure and with the reason.
        """
        with self.said_once():
            try:
                window = live_window_features(read_since(start_s - LEAD_S), start_s, end_s)
            except Exception as error:
                reason = str(error) if isinstance(error, InputError) else f"{type(error).__name__}: {error}"
                log.warning("live stress: %s", reason)
                return self.unjudged(start_s, end_s, reason)
        return self.add(window)

    def _baseline_forming(self, window: WindowFeatures) -> str:
        baseline_s = self.settings.live_baseline_s
        if window.start_s < baseline_s:
            # cut, not rounded: a window short of the baseline never reads as having reached it ('300 of 300 s')
            return f"live baseline forming ({seconds_below(window.start_s).removesuffix('.0')} of {baseline_s:g} s)"
        if self.inputs.usable_windows < MIN_BASELINE_WINDOWS:
            return (f"live baseline forming ({self.inputs.usable_windows} of {MIN_BASELINE_WINDOWS} windows "
                    "with signal)")
        return ""

    def said_once(self) -> AbstractContextManager[None]:
        """A flat stretch or a channel with too few samples is logged each time it is read: every hop in a live
        session. Within this, the calling thread's lines are let through once a session each, their numbers (a
        time, a count) aside."""
        return log_filters.said_once(SAID_ONCE, self._said, key=lambda message: NUMBER.sub("#", message))

