"""Tracks onto one window grid, as arrays every fusion method reads.

Each track is resampled onto the common grid by the time its windows stand for: a grid window stands for the hop
around its centre, a track window for the time nearer its centre than its neighbours' (as the reading's stretches
read a track), and a grid window takes the overlap- and quality-weighted mean of the claims of the track windows
whose time overlaps its own (on the track's own grid, the track itself; a label a window gives no probability,
null, is the mean of those that give it, and withheld where none does), and a quality equal to their mean quality
times the share of the grid window the track's windows cover (a stretch with no window, or a window with no claim,
counts as quality 0). Measurements are averaged by overlap alone, not by quality: the overlap-weighted mean of
the finite values of the windows that measured them, claim or none; each gets its own quality on the grid the way
a claim does (the mean quality of the windows that measured it, times the share of the grid window they cover).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from runtime.arms.registry import ARM_REGISTRY
from runtime.track import (
    CANONICAL_LABELS,
    WEAK_QUALITY,
    Track,
    outside_canonical,
    time_stood_for_s,
    track_family,
    window_grid,
)


@dataclass
class FusionInput:
    """Emotion evidence per window and modality, on one grid.

    probs:     (n_windows, n_modalities, n_labels) over the canonical labels, 0 where no claim, unsupported or
    withheld
    quality:   (n_windows, n_modalities) in [0, 1], 0 where no claim
    supported: (n_modalities, n_labels) bool: which labels each modality can speak about
    sequence:  (n_windows,) id of the session a window belongs to (windows of one id are consecutive, in time
    order)
    withheld:  (n_windows, n_modalities, n_labels) bool: a supported label the modality's claim gives no
    probability in the window (null in its track); it abstains on it there as on an unsupported label
    """

    modalities: list[str]
    probs: np.ndarray
    quality: np.ndarray
    supported: np.ndarray
    sequence: np.ndarray = field(default=None)  # type: ignore[assignment]
    labels: tuple[str, ...] = CANONICAL_LABELS
    withheld: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.probs = np.asarray(self.probs, dtype=np.float64)
        self.quality = np.clip(np.asarray(self.quality, dtype=np.float64), 0.0, 1.0)
        self.supported = np.asarray(self.supported, dtype=bool)
        n_windows, n_modalities, n_labels = self.probs.shape
        if self.quality.shape != (n_windows, n_modalities) or self.supported.shape != (
            n_modalities,
            n_labels,
        ):
            raise ValueError("probs, quality and supported disagree in shape")
        if self.sequence is None:
            self.sequence = np.zeros(n_windows, dtype=np.int64)
        self.withheld = (np.zeros(self.probs.shape, dtype=bool) if self.withheld is None
                         else np.asarray(self.withheld, dtype=bool))
        if self.withheld.shape != self.probs.shape:
            raise ValueError("probs and withheld disagree in shape")
        self.probs = np.where(self.speaks, np.nan_to_num(self.probs), 0.0)

    @property
    def present(self) -> np.ndarray:
        """(n_windows, n_modalities) bool: the modality made a claim in the window."""
        return self.quality > 0

    @property
    def speaks(self) -> np.ndarray:
        """(n_windows, n_modalities, n_labels) bool: the modality claims in the window and gives the label a
        probability there (supported, not withheld). Where it does not, it abstains on the label: no vote of 0."""
        return self.present[:, :, None] & self.supported[None] & ~self.withheld

    @property
    def n_windows(self) -> int:
        return self.probs.shape[0]

    def with_quality(self, quality: np.ndarray) -> FusionInput:
        """The same evidence with each modality's ``quality`` per window replaced (0: absent there)."""
        return FusionInput(list(self.modalities), self.probs, quality, self.supported, self.sequence, self.labels,
                           self.withheld)

    def without_weak(self, min_quality: float = WEAK_QUALITY) -> FusionInput:
        """The windows with each modality whose quality there is under ``min_quality`` left out (a face seen in 2 %
        of a window says little of it), except a window's best one where all are that weak: some evidence beats
        none. The quality method's floor, and the learned fusers', which were trained on clip-level outputs of
        quality 1 and would otherwise give such a claim its full say."""
        quality = np.where(self.quality >= min_quality, self.quality, 0.0)
        if not np.array_equal(quality > 0, self.present):
            best = self.quality.argmax(1)
            rows = np.flatnonzero(~(quality > 0).any(1) & self.present.any(1))
            quality[rows, best[rows]] = self.quality[rows, best[rows]]
        return self.with_quality(quality)

    def subset(self, rows: np.ndarray) -> FusionInput:
        return FusionInput(
            list(self.modalities),
            self.probs[rows],
            self.quality[rows],
            self.supported,
            self.sequence[rows],
            self.labels,
            self.withheld[rows],
        )

    def select(self, modalities: Sequence[str]) -> FusionInput:
        """The same windows with only ``modalities`` (in that order); a modality not here is absent
        throughout.
        """
        n = self.n_windows
        probs = np.zeros((n, len(modalities), len(self.labels)))
        quality = np.zeros((n, len(modalities)))
        supported = np.ones((len(modalities), len(self.labels)), dtype=bool)
        withheld = np.zeros(probs.shape, dtype=bool)
        for j, name in enumerate(modalities):
            if name in self.modalities:
                i = self.modalities.index(name)
                probs[:, j], quality[:, j], supported[j], withheld[:, j] = (
                    self.probs[:, i],
                    self.quality[:, i],
                    self.supported[i],
                    self.withheld[:, i],
                )
        return FusionInput(list(modalities), probs, quality, supported, self.sequence, self.labels, withheld)


@dataclass
class AlignedTracks:
    grid: list[tuple[float, float]]
    emotion: FusionInput  # the tracks with canonical labels
    measurements: dict[str, dict[str, np.ndarray]]  # track name → measurement → (n_windows,)
    other_probs: dict[
        str, dict[str, np.ndarray]
    ]  # track name → non-canonical label (e.g. "stress") → (n_windows,)
    other_quality: dict[str, np.ndarray]  # track name → (n_windows,)
    # track name → measurement → (n_windows,): the quality of the windows behind each measured value
    measurement_quality: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)


def common_grid(tracks: Sequence[Track], window_s: float, hop_s: float) -> list[tuple[float, float]]:
    ends = [w.end_s for t in tracks for w in t.windows]
    return window_grid(max(ends) if ends else 0.0, window_s, hop_s)


# Grid windows resampled at a time. A track window overlaps only the few grid windows near it in time, so the
# overlap matrix of a block against the track windows near that block is small; the whole session's matrix grew
# with the square of its length (n_grid × n_track_windows float64: 415 MB for an hour's audio track on the
# 0.5 s fusion grid, several copies at once, 14 GB for three hours) and its products took quadratic time.
GRID_BLOCK_WINDOWS = 512


def _overlaps(starts_s: np.ndarray, ends_s: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """(n_grid, n_track_windows) seconds of overlap of ``grid`` ((n, 2) start, end) with the track windows."""
    overlap = np.minimum(grid[:, 1:2], ends_s[None]) - np.maximum(grid[:, 0:1], starts_s[None])
    return np.clip(overlap, 0.0, None)


def _covered_s(starts_s: np.ndarray, ends_s: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """(n_grid,) seconds of each ``grid`` window ((n, 2) start, end) inside at least one of the track windows
    (any order): time two overlapping windows both cover counts once."""
    order = np.argsort(starts_s, kind="stable")
    first = np.maximum(grid[:, 0:1], starts_s[order][None])
    last = np.minimum(grid[:, 1:2], ends_s[order][None])
    last = np.where(last > first, last, -np.inf)  # a window outside the grid window reaches nothing
    reached = np.maximum.accumulate(last, axis=1)  # in start order: how far the windows before reach
    before = np.concatenate([np.full((len(grid), 1), -np.inf), reached[:, :-1]], axis=1)
    return np.clip(last - np.maximum(first, before), 0.0, None).sum(1)


def resample_track(
    track: Track, grid: list[tuple[float, float]], labels: Sequence[str], hop_s: float | None = None
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """A track on ``grid`` (windows every ``hop_s``, by default the grid's smallest step): probs (n, len(labels))
    (NaN where no claim), quality (n,), measurements."""
    probs, quality, measurements, _ = _resample(track, grid, labels, hop_s)
    return probs, quality, measurements


def grid_stands_for_s(grid: np.ndarray, hop_s: float | None = None) -> np.ndarray:
    """(n, 2) the time each grid window ((n, 2) start, end) stands for: the ``hop_s`` around its centre (by
    default the grid's smallest step between starts, a lone window's own length), inside the window. Fixed by
    the window and the hop alone, not by the grid's other windows, so live mode's short grid gives a window what
    file mode's whole grid gives it."""
    if hop_s is None:
        steps = np.diff(np.unique(grid[:, 0]))
        hop_s = float(steps.min()) if len(steps) else float(np.max(grid[:, 1] - grid[:, 0], initial=0.0))
    centres_s = grid.mean(1)
    return np.stack([np.maximum(grid[:, 0], centres_s - hop_s / 2), np.minimum(grid[:, 1], centres_s + hop_s / 2)],
                    axis=1)


def _track_stands_for_s(starts_s: np.ndarray, ends_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(from, to) of the time each track window (any order) stands for (``time_stood_for_s``)."""
    order = np.argsort(starts_s, kind="stable")
    stood = np.array(time_stood_for_s(list(zip(starts_s[order], ends_s[order], strict=True))),
                     dtype=float).reshape(-1, 2)
    from_s, to_s = np.empty(len(order)), np.empty(len(order))
    from_s[order], to_s[order] = stood[:, 0], stood[:, 1]
    return from_s, to_s


def _resample(
    track: Track, grid: list[tuple[float, float]], labels: Sequence[str], hop_s: float | None = None
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``resample_track`` and, per measurement, its quality on the grid: the mean quality of the windows that
    measured it (whether or not they make a claim), weighed as for claims, times the share of the grid window they
    cover (a stretch without a finite value counts 0).

    Each grid window stands for the hop around its centre (``grid_stands_for_s``) and each track window for the
    time nearer its centre than its neighbours' (``time_stood_for_s``, as the reading's stretches); a grid window
    takes the track windows by the overlap of those times. On the track's own grid that is the track itself, a
    face at a 1 s hop on the 0.5 s grid gives each grid window the face window at its centre or the two it lies
    between, and a 30 s physio window the grid windows nearest it: a one-window event stays one window, where
    the overlap of whole windows blended seven 2 s audio windows into each grid window (an angry 0.95 window
    between neutral ones came out neutral). Where a grid window's time spans several finer track windows they
    are averaged by overlap.

    The grid is taken ``GRID_BLOCK_WINDOWS`` windows at a time, each block against only the track windows near
    its span (any order of windows works), so time and memory grow with the session's length, not its
    square."""
    g = np.asarray(grid, dtype=float).reshape(-1, 2)
    stands_for = grid_stands_for_s(g, hop_s) if len(g) else g
    lengths = np.array([max(end - start, 1e-9) for start, end in grid])
    starts = np.array([w.start_s for w in track.windows], dtype=float)
    ends = np.array([w.end_s for w in track.windows], dtype=float)
    from_s, to_s = _track_stands_for_s(starts, ends)
    quality_w = np.array([w.quality if w.has_claim else 0.0 for w in track.windows])
    matrix = track.probs_matrix(labels) if track.windows else np.zeros((0, len(labels)))
    # a label a window gives no probability (null) is left out of its mean, not read as 0 ("certainly not")
    given = np.isfinite(matrix)
    matrix = np.where(given, matrix, 0.0)
    window_quality = np.array([min(max(float(w.quality), 0.0), 1.0) for w in track.windows])
    values = {name: np.array([w.measurements.get(name, np.nan) for w in track.windows], dtype=float)
              for name in track.measurement_names}
    probs = np.empty((len(g), len(labels)))
    quality = np.empty(len(g))
    measurements = {name: np.empty(len(g)) for name in values}
    measured_quality = {name: np.empty(len(g)) for name in values}
    for first in range(0, len(g), GRID_BLOCK_WINDOWS):
        rows = slice(first, first + GRID_BLOCK_WINDOWS)
        block = g[rows]
        near = np.flatnonzero((np.minimum(starts, from_s) < block[:, 1].max())
                              & (np.maximum(ends, to_s) > block[:, 0].min()))
        overlap = _overlaps(from_s[near], to_s[near], stands_for[rows])
        weights = overlap * quality_w[near][None]
        total = weights @ given[near]  # per label: the weight of the claims that give it
        with np.errstate(invalid="ignore", divide="ignore"):
            probs[rows] = np.where(total > 0, (weights @ matrix[near]) / total, np.nan)
        # The mean quality of the windows taken, times the share of the grid window the track's windows cover: a
        # stretch no window covers counts 0 (a 30 s physio window half over the grid window's end gives half).
        coverage = overlap.sum(1)
        covered_s = _covered_s(starts[near], ends[near], block)
        with np.errstate(invalid="ignore", divide="ignore"):
            quality[rows] = np.where(coverage > 0, (overlap @ quality_w[near]) / coverage * (covered_s / lengths[rows]),
                                     0.0)
        # Measurements taken in the same windows (a face's every AU: one mask of finite values) share their
        # overlaps, their time measured and its quality, worked out once a mask (per measurement, they were most
        # of a long session's fusion)
        by_mask: dict[bytes, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for name, column in values.items():
            ok = np.isfinite(column[near])
            mask = ok.tobytes()
            if mask not in by_mask:
                w = overlap * ok[None]
                measured = w.sum(1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    measured_q = np.where(
                        measured > 0,
                        (w @ window_quality[near]) / measured
                        * (covered_s if ok.all() else _covered_s(starts[near][ok], ends[near][ok], block))
                        / lengths[rows],
                        0.0,
                    )
                by_mask[mask] = w, measured, measured_q
            w, measured, measured_quality[name][rows] = by_mask[mask]
            with np.errstate(invalid="ignore", divide="ignore"):
                measurements[name][rows] = np.where(
                    measured > 0, (w @ np.where(ok, column[near], 0.0)) / measured, np.nan
                )
    return probs, quality, measurements, measured_quality


def supported_mask(track: Track, labels: Sequence[str] = CANONICAL_LABELS) -> np.ndarray:
    return np.array([label in track.labels and label not in track.unsupported_labels for label in labels])


def own_labels(track: Track) -> list[str]:
    """The labels of an emotion arm's track outside the canonical ones: a voice model trained on a manifest's own
    labels (train audio --labels-as-given). Fusion works over the canonical labels, so these have no say in the fused
    track (``fusion.arousal_from`` may still read one, as it reads physio's stress, which no emotion arm's track
    carries); the track's canonical labels, if any, fuse as a fewer-label model's do."""
    family = track_family(track.name)
    if not any(arm.section == family and arm.emotion for arm in ARM_REGISTRY):  # physio's stress is no own label
        return []
    return outside_canonical(track.labels)


def read_for_arousal(track: Track, arousal_from: Sequence[str]) -> list[str]:
    """What of ``track`` the ``fusion.arousal_from`` entries read into the fused track's arousal, in their order: its
    labels outside the canonical ones and its measurements (``affect.arousal_sources``; an entry naming anything else,
    a typo, reads nothing)."""
    carried = set(outside_canonical(track.labels)).union(*(w.measurements for w in track.windows))
    named = [source.partition(".") for source in arousal_from]
    return list(dict.fromkeys(name for owner, _, name in named if owner == track.name and name in carried))


def own_labels_line(track: Track, fused_track: bool = True, arousal_from: Sequence[str] = ()) -> str:
    """What fusion says of a track's own labels (``own_labels``; '' for none): left out of the fused track but those
    ``arousal_from`` reads into its arousal, what else of the track fuses (its canonical labels) and what else of it
    arousal reads (a measurement); where no fused track was made (``fused_track`` False: fusion skipped a track it
    reads nothing of), that it reads nothing of it."""
    own = own_labels(track)
    if not own:
        return ""
    fused = [label for label, kept in zip(CANONICAL_LABELS, supported_mask(track), strict=True) if kept]
    said = (f"{track.name}'s label{'s' if len(own) > 1 else ''} {', '.join(own)} {'are' if len(own) > 1 else 'is'} "
            "none of the canonical emotions fusion works over")
    if not fused_track:  # nothing was left out of a fused track that was never made
        return said + ", so it reads nothing of this track"
    read = read_for_arousal(track, arousal_from)
    feeding = [label for label in own if label in read]  # an own label moves arousal as physio's stress does
    left = [label for label in own if label not in read]
    measured = [name for name in read if name not in own]  # what else of it arousal reads (a body's activation)
    if feeding:
        said += f": {moves_arousal(feeding)}" + (
            f", {', '.join(left)} {'are' if len(left) > 1 else 'is'} left out of the fused track" if left else "")
    else:
        said += ": left out of the fused track"
    if fused:
        said += (f"; {', '.join(fused)} {shares_fused(fused)}" if feeding else
                 f" ({', '.join(fused)} {shares_fused(fused)})")
    if measured:
        return said + f"; its {moves_arousal(measured)}"
    return said + ("" if feeding or fused else ", so nothing of this track is fused")


def moves_arousal(names: list[str]) -> str:
    """'high moves the fused track's arousal (fusion.arousal_from)', said of one name or several."""
    verb = "moves" if len(names) == 1 else "move"
    return f"{', '.join(names)} {verb} the fused track's arousal (fusion.arousal_from)"


def shares_fused(labels: list[str]) -> str:
    """How a track's canonical ``labels`` beside its own are fused: 'are fused, weighed by their share' (of each
    window's belief, as a fewer-label model's are), said of one label or several."""
    return f"{'is' if len(labels) == 1 else 'are'} fused, weighed by {'its' if len(labels) == 1 else 'their'} share"


def is_emotion_track(track: Track) -> bool:
    """A track that speaks about canonical emotions (audio, face, a trained body model) — not physio's
    stress.
    """
    return bool(supported_mask(track).any()) and any(w.probs is not None for w in track.windows)


def align_tracks(
    tracks: Sequence[Track], window_s: float, hop_s: float, grid: list[tuple[float, float]] | None = None
) -> AlignedTracks:
    grid = grid if grid is not None else common_grid(tracks, window_s, hop_s)
    emotion = [t for t in tracks if is_emotion_track(t)]
    n = len(grid)
    probs = np.zeros((n, len(emotion), len(CANONICAL_LABELS)))
    quality = np.zeros((n, len(emotion)))
    supported = np.zeros((len(emotion), len(CANONICAL_LABELS)), dtype=bool)
    withheld = np.zeros(probs.shape, dtype=bool)
    measurements: dict[str, dict[str, np.ndarray]] = {}
    other_probs: dict[str, dict[str, np.ndarray]] = {}
    other_quality: dict[str, np.ndarray] = {}
    measurement_quality: dict[str, dict[str, np.ndarray]] = {}
    for track in tracks:
        extra = outside_canonical(track.labels)
        p, q, m, mq = _resample(track, grid, [*CANONICAL_LABELS, *extra], hop_s)
        measurements[track.name] = m
        measurement_quality[track.name] = mq
        if extra:
            other_probs[track.name] = {
                label: p[:, len(CANONICAL_LABELS) + k] for k, label in enumerate(extra)
            }
        # a label no window there gives (NaN) is weighed 0 where it is read (``affect.arousal_sources``)
        other_quality[track.name] = np.where(np.isfinite(p).any(1), q, 0.0) if p.shape[1] else q
        if track in emotion:
            j = emotion.index(track)
            mask = supported_mask(track)
            given = np.isfinite(p[:, : len(CANONICAL_LABELS)])
            canonical = np.where(given, p[:, : len(CANONICAL_LABELS)], 0.0) * mask
            sums = canonical.sum(1)
            has = given.any(1) & (sums > 0)
            probs[has, j] = canonical[has] / sums[has, None]
            withheld[:, j] = has[:, None] & mask & ~given
            # a track of own labels too (train audio --labels-as-given) speaks of the canonical emotions with the
            # share of its belief it puts on them: a window mostly 'anxious' is no confident claim of happy or sad
            share = sums / np.nan_to_num(p).sum(1).clip(1e-12) if own_labels(track) else 1.0
            quality[:, j] = np.where(has, q * share, 0.0)
            supported[j] = mask
    fusion_input = FusionInput([t.name for t in emotion], probs, quality, supported, withheld=withheld)
    return AlignedTracks(grid, fusion_input, measurements, other_probs, other_quality, measurement_quality)
