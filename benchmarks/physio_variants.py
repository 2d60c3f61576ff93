"""Variants of the stress model scored by leave-one-subject-out on the development subjects only.

    emotrace train physio ../shared/data/physio/stress_predict --out runs/physio --cache runs/physio-cache
    python benchmarks/physio_variants.py ../shared/data/physio/stress_predict --cache runs/physio-cache

Every variant starts from the shipped model's inputs (``export.physio.train.subject_xy``: 15 statistics,
session rank, 30-minute local baseline, two-minute context) and, unless it names another, 2.2.0's classifier
(the logistic regression alone; the table in docs/physio.md was measured on it), and differs in one thing:

- ``lead``: the inputs of the window k hops later (k > 0) or earlier (k < 0) label window t. The body answers
  a stressor with a delay (heart rate in seconds, skin conductance and its recovery over minutes); a recorded
  session can look ahead, so a lead would re-align the response with the event that caused it.
- ``stack``: the inputs at several offsets side by side, so the classifier learns the response's time course.
- ``boosting``, ``MLPs`` and their means with the logistic regression: other classifiers on the same inputs;
  the mean of the logistic regression and the MLPs is 2.3.0's classifier (``export.physio.train.fit_xy``).
- ``respiration``: three more statistics from the wrist pulse wave (BVP), for the hyperventilation windows the
  shipped model misses most: the log power of the BVP's respiration band (0.1-0.7 Hz: breathing moves the pulse
  wave's baseline), that band's share of the pulse band's power, and the log power of the heart rate's
  respiration band (sinus arrhythmia; clean beats interpolated at 4 Hz), ranked and baselined like the others.
- ``HRV frequency bands``: the spectral HRV measures stress studies use besides RMSSD and SDNN: the power of the
  clean beat intervals in the low (0.04-0.15 Hz) and high (0.15-0.4 Hz, vagal, paced by breathing) bands and
  their ratio, by neurokit2 over two minutes centred on the window (one LF cycle lasts up to 25 s).
- ``EDA sympathetic index``: the power of skin conductance in 0.045-0.25 Hz (Posada-Quintero and colleagues
  found it more sensitive to stress than the tonic level or SCRs), by neurokit2 over two minutes centred on the
  window, and its normalised form.
- ``20 s windows``, ``60 s windows``: the same statistics over windows shorter or longer than the shipped 30 s
  (the hop, the labelling rule, the context and the baseline, counted in 5 s hops, unchanged): a shorter window
  follows changes sooner, a longer one averages more beats and skin-conductance responses.
- ``windows of ... averaged``: the stress probabilities of models trained on windows of several lengths,
  averaged at each window's centre (all hop 5 s, so the centres coincide).
- ``running``: what a live session could compute as it goes: each window ranked among the windows so far, a
  trailing 30-minute local baseline and a trailing two-minute context, scored from the sixth minute on (the
  first five have no baseline), against the shipped inputs on the same windows; the classifier learnt from
  running inputs, or (as a live session judges with the shipped model) from the shipped inputs of every window.

- ``adapted to the session``: transductive adaptation to the unseen person. The classifier fitted on the
  other subjects judges every window of the person's session; a logistic regression fitted on that session
  alone, its judged labels weighted by their confidence |2p - 1|, then learns which of this person's inputs
  separate the two states, and its stress probability is averaged with the first (or replaces it). A recorded
  session is available whole, so this costs no labels.
- ``two-state smoothing``: stress and no stress as the hidden states of a Markov chain over the session's
  windows, the stay probability per window from the training subjects' label changes between consecutive
  labelled windows (the few unlabelled windows between them aside), each window's stress
  probability as its evidence (raised to a power: neighbouring windows share five sixths of their samples, so
  their evidence is not independent), the forward-backward posterior as the window's stress probability.

- ``training without ...`` / ``with ... counted 3 times``: the edges of each task in the training labels. After
  a task the body stays aroused for minutes, and at its start it has not responded yet, so those windows carry
  one state's inputs under the other's label; training leaves them out (or counts the recovery several times,
  to make the classifier separate it). Every window is still scored.
- ``second stage``: a logistic regression over the first stage's stress log-odds of the window and of its
  neighbours at the given offsets (a learnt filter over the session's stress curve, where two-state smoothing
  fixed one), trained on each training subject's log-odds from a first stage that never saw them
  (``SECOND_STAGE_FOLDS`` groups of the training subjects); ``benchmarks/physio_second_stage.py`` scores the
  chosen offsets once on the held-out subjects.

The held-out subjects are not scored: a variant that wins here is then measured once by ``train physio`` (the
second stage by ``benchmarks/physio_second_stage.py``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.physio_second_stage import (  # noqa: E402
    SessionStress,
    fit_second_stage,
    second_stage_stress,
    shifted,
)
from export.metrics import paired_gain  # noqa: E402
from export.physio import train as shipped  # noqa: E402
from export.physio.dataset import load_dataset, load_labels, stress_label  # noqa: E402
from runtime.arms.physio.features import MEASUREMENTS, _segments, process_recording  # noqa: E402
from runtime.arms.physio.model import INPUT_SCOPES  # noqa: E402
from runtime.arms.physio.readers.e4 import read_e4  # noqa: E402
from runtime.arms.physio.stress import called_stress  # noqa: E402
from runtime.errors import InputError  # noqa: E402


class Variant(NamedTuple):
    name: str
    offsets_hops: tuple[int, ...] = (0,)  # 12 hops of 5 s = one minute
    classifiers: tuple[str, ...] = ("logistic",)  # their stress probabilities averaged
    inputs: str = "session"  # "session" (the shipped, whole-session inputs) or "running" (causal)
    trained_on: str = ""  # the inputs the classifier learns from, when not ``inputs`` (all windows then)
    first_window: int = 0  # windows before this one are not scored
    extra: str = ""  # a key of EXTRA_STATISTICS: more inputs, ranked and baselined like the others
    window_s: float = shipped.WINDOW_S  # statistics over windows this long (same 5 s hop, same labelling rule)
    ensemble_window_s: tuple[float, ...] = ()  # models at these window lengths, averaged at the window centres
    session_fit_share: float = 0.0  # the share of a logistic regression fitted on the person's own judged session
    smoothing_power: float = 0.0  # > 0: two-state smoothing, each window's evidence raised to this power
    recovery_left_out_s: float = 0.0  # training leaves out no-stress windows this soon after a stress window
    onset_left_out_s: float = 0.0  # training leaves out stress windows this soon after a no-stress window
    recovery_repeats: int = 1  # > 1: the no-stress windows of the RECOVERY_S after a stress window this often
    second_stage_hops: tuple[int, ...] = ()  # a second classifier over the first's log-odds at these offsets


RECOVERY_S = 120.0  # heart rate and skin conductance take minutes to come down after a task
NO_BASELINE_WINDOWS = 60  # the first 5 minutes at a 5 s hop
RESPIRATION_BAND_HZ = (0.1, 0.7)  # 6-42 breaths a minute: at rest to hyperventilating
PULSE_BAND_HZ = (0.5, 8.0)
HEART_RATE_RESAMPLE_HZ = 4.0
HRV_SPAN_S = 120.0
HRV_MIN_BEATS = 60
EDA_SPAN_S = 120.0  # the sympathetic index's method needs more than 64 s
SECOND_STAGE_FOLDS = 5  # the training subjects' log-odds for a second stage: each from a first stage without them
VARIANTS: tuple[Variant, ...] = (
    Variant("logistic regression (2.2.0)"),
    Variant("lead +15 s", (3,)),
    Variant("lead +30 s", (6,)),
    Variant("lead +45 s", (9,)),
    Variant("lead +60 s", (12,)),
    Variant("lag -15 s", (-3,)),
    Variant("stack 0, ±30 s", (0, -6, 6)),
    Variant("stack 0, ±60 s", (0, -12, 12)),
    Variant("stack 0, ±60, ±120 s", (0, -12, 12, -24, 24)),
    Variant("boosting", classifiers=("boosting",)),
    Variant("mean of logistic and boosting", classifiers=("logistic", "boosting")),
    Variant("MLPs (16 units, 3 seeds)", classifiers=("mlp",)),
    Variant("mean of logistic and MLPs (2.3.0)", classifiers=("logistic", "mlp")),
    Variant("respiration band from the BVP", extra="respiration"),
    Variant("HRV frequency bands (LF, HF, LF/HF over two minutes)", extra="hrv frequency"),
    Variant("EDA sympathetic index (0.045-0.25 Hz power over two minutes)", extra="eda sympathetic"),
    Variant("20 s windows", window_s=20.0),
    Variant("60 s windows (physio-stress 2.1.0)", window_s=60.0),
    Variant("windows of 30 and 60 s averaged", ensemble_window_s=(30.0, 60.0)),
    Variant("windows of 20, 30 and 60 s averaged", ensemble_window_s=(20.0, 30.0, 60.0)),
    Variant("adapted to the session: mean with its own fit", session_fit_share=0.5),
    Variant("adapted to the session: its own fit alone", session_fit_share=1.0),
    Variant("two-state smoothing, evidence to the power 1/6", smoothing_power=1 / 6),
    Variant("two-state smoothing, evidence to the power 1", smoothing_power=1.0),
    Variant("training without the 60 s after a stress stretch", recovery_left_out_s=60.0),
    Variant("training without the 120 s after a stress stretch", recovery_left_out_s=120.0),
    Variant("training without the 180 s after a stress stretch", recovery_left_out_s=180.0),
    Variant("training with the 120 s after a stress stretch counted 3 times", recovery_repeats=3),
    Variant("training without the first 30 s of a stress stretch", onset_left_out_s=30.0),
    Variant("training without the first 60 s of a stress stretch", onset_left_out_s=60.0),
    Variant("second stage over the log-odds at 0, ±30, ±60, ±120 s", second_stage_hops=(0, -6, 6, -12, 12, -24, 24)),
    Variant("second stage over the log-odds at 0, ±15, ±30, ±60, ±120, ±240 s",
            second_stage_hops=(0, -3, 3, -6, 6, -12, 12, -24, 24, -48, 48)),
    Variant("second stage over the log-odds at 0, ±60, ±120, ±240 s", second_stage_hops=(0, -12, 12, -24, 24, -48, 48)),
    Variant("second stage over the log-odds at 0, ±30, ±60, ±120, ±240, ±480 s",
            second_stage_hops=(0, -6, 6, -12, 12, -24, 24, -48, 48, -96, 96)),
    Variant("second stage on the mean of logistic and MLPs, log-odds at 0, ±15, ±30, ±60, ±120, ±240 s",
            classifiers=("logistic", "mlp"), second_stage_hops=(0, -3, 3, -6, 6, -12, 12, -24, 24, -48, 48)),
    Variant("shipped, from the sixth minute", first_window=NO_BASELINE_WINDOWS),
    Variant("running (causal), from the sixth minute", inputs="running", first_window=NO_BASELINE_WINDOWS),
    Variant("running (causal), from the sixth minute, judged by the model trained on session inputs",
            inputs="running", first_window=NO_BASELINE_WINDOWS, trained_on="session"),
)


def respiration_statistics(data_dir: Path, subject: str, starts_s: np.ndarray, window_s: float) -> np.ndarray:
    """(n, 3) per window: log BVP respiration-band power, its share of the pulse band, log heart-rate
    respiration-band power; NaN where under half the window has BVP or fewer than 20 clean beats."""
    import neurokit2 as nk

    recording = read_e4(data_dir / "raw" / f"{subject}.zip")
    bvp = recording.channels["bvp"]
    times, breath, pulse = [], [], []
    for _, _, stamps_s, values in _segments(bvp, {}):  # filtered per contiguous stretch, never across a gap
        times.append(stamps_s)
        breath.append(nk.signal_filter(values, bvp.rate_hz, *RESPIRATION_BAND_HZ))
        pulse.append(nk.signal_filter(values, bvp.rate_hz, *PULSE_BAND_HZ))
    times_s, breath, pulse = np.concatenate(times), np.concatenate(breath), np.concatenate(pulse)
    beats = process_recording(recording).ibi
    out = np.full((len(starts_s), 3), np.nan)
    for i, start_s in enumerate(starts_s):
        lo, hi = np.searchsorted(times_s, [start_s, start_s + window_s])
        if hi - lo >= 0.5 * window_s * bvp.rate_hz:
            out[i, 0] = np.log(np.var(breath[lo:hi]) + 1e-9)
            out[i, 1] = np.var(breath[lo:hi]) / (np.var(pulse[lo:hi]) + 1e-9)
        first, last = np.searchsorted(beats.times_s, [start_s, start_s + window_s])
        if last - first >= 20:
            grid_s = np.arange(beats.times_s[first], beats.times_s[last - 1], 1.0 / HEART_RATE_RESAMPLE_HZ)
            rate = np.interp(grid_s, beats.times_s[first:last], 60.0 / beats.values[first:last])
            band = nk.signal_filter(rate - rate.mean(), HEART_RATE_RESAMPLE_HZ, *RESPIRATION_BAND_HZ)
            out[i, 2] = np.log(np.var(band) + 1e-9)
    return out


def hrv_frequency_statistics(data_dir: Path, subject: str, starts_s: np.ndarray, window_s: float) -> np.ndarray:
    """(n, 3) per window: log LF (0.04-0.15 Hz) and HF (0.15-0.4 Hz) power of the clean beat intervals (ms²)
    and log LF/HF, by neurokit2 over the HRV_SPAN_S centred on the window (LF needs minutes, not 30 s); NaN
    where the span holds fewer than HRV_MIN_BEATS clean beats or they cover under half of it."""
    import warnings

    import neurokit2 as nk

    beats = process_recording(read_e4(data_dir / "raw" / f"{subject}.zip")).ibi
    out = np.full((len(starts_s), 3), np.nan)
    for i, start_s in enumerate(starts_s):
        centre_s = start_s + window_s / 2
        first, last = np.searchsorted(beats.times_s, [centre_s - HRV_SPAN_S / 2, centre_s + HRV_SPAN_S / 2])
        intervals_s = beats.values[first:last]
        if intervals_s.size < HRV_MIN_BEATS or intervals_s.sum() < HRV_SPAN_S / 2:
            continue
        with warnings.catch_warnings():  # neurokit2 warns that the span is too short for the VLF band
            warnings.simplefilter("ignore")
            bands = nk.hrv_frequency({"RRI": 1000.0 * intervals_s, "RRI_Time": beats.times_s[first:last]},
                                     interpolation_rate=HEART_RATE_RESAMPLE_HZ, normalize=False)
        lf, hf = float(bands["HRV_LF"].iloc[0]), float(bands["HRV_HF"].iloc[0])
        if lf > 0 and hf > 0:
            out[i] = np.log(lf), np.log(hf), np.log(lf / hf)
    return out


def eda_sympathetic_statistics(data_dir: Path, subject: str, starts_s: np.ndarray, window_s: float) -> np.ndarray:
    """(n, 2) per window: log of the EDA sympathetic index and of its normalised form (Posada-Quintero's power
    of skin conductance in 0.045-0.25 Hz, by neurokit2) over the EDA_SPAN_S centred on the window; NaN where
    the span is not inside one contiguous stretch of EDA."""
    import warnings

    import neurokit2 as nk

    eda = read_e4(data_dir / "raw" / f"{subject}.zip").channels["eda"]
    segments = list(_segments(eda, {}))
    out = np.full((len(starts_s), 2), np.nan)
    for i, start_s in enumerate(starts_s):
        span_start_s = start_s + window_s / 2 - EDA_SPAN_S / 2
        for segment_start_s, _, stamps_s, values in segments:
            first = int(np.searchsorted(stamps_s, span_start_s - 0.5 / eda.rate_hz))  # the sample nearest the start
            last = first + int(EDA_SPAN_S * eda.rate_hz)
            if span_start_s >= segment_start_s and last <= values.size:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    index = nk.eda_sympathetic(values[first:last], sampling_rate=eda.rate_hz)
                out[i] = np.log(index["EDA_Sympathetic"] + 1e-12), np.log(index["EDA_SympatheticN"] + 1e-12)
                break
    return out


EXTRA_STATISTICS = {
    "respiration": respiration_statistics,
    "hrv frequency": hrv_frequency_statistics,
    "eda sympathetic": eda_sympathetic_statistics,
}


class Table(NamedTuple):
    """One subject's session as a variant sees it: every window with quality > 0 (from ``first_window`` on)."""

    session_x: np.ndarray  # inputs, one row a window
    labelled: np.ndarray  # which rows are labelled
    y: np.ndarray  # 0/1 labels of the labelled rows
    centres_s: np.ndarray  # centres of the labelled rows' windows

    @property
    def x(self) -> np.ndarray:
        return self.session_x[self.labelled]


def subject_table(subject, variant: Variant, data_dir: Path) -> Table:
    """The subject's windows with quality > 0, their inputs and which are labelled."""
    columns = [MEASUREMENTS.index(name) for name in shipped.MODEL_FEATURES]
    features = subject.features[:, columns]
    if variant.extra:
        extra = EXTRA_STATISTICS[variant.extra](data_dir, subject.subject, subject.starts_s, variant.window_s)
        features = np.hstack([features, extra])
    x = INPUT_SCOPES[variant.inputs](features, subject.quality, shipped.CONTEXT_WINDOWS, shipped.SCALING,
                                     shipped.LOCAL_BASELINE_WINDOWS)
    session = (subject.quality > 0) & (np.arange(len(x)) >= variant.first_window)
    labelled = np.isfinite(subject.stress_fraction) & session
    return Table(shifted(x, variant.offsets_hops)[session], labelled[session],
                 stress_label(subject.stress_fraction[labelled]),
                 subject.starts_s[labelled] + variant.window_s / 2)


def classifiers(kinds: tuple[str, ...], x: np.ndarray, y: np.ndarray) -> list:
    """The fitted members whose stress probabilities the variant averages."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    fitted = []
    if "logistic" in kinds or "mlp" in kinds:
        model = shipped.fit_xy(x, y, mlp_seeds=shipped.MLP_SEEDS if "mlp" in kinds else ())
        fitted.append(model if "logistic" in kinds else _Mean(model.mlps))  # the model: its own mean of both
    if "boosting" in kinds:
        fitted.append(HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15,
                                                     min_samples_leaf=100, class_weight="balanced",
                                                     random_state=0).fit(x, y))
    return fitted


class _Mean:
    def __init__(self, models: list) -> None:
        self.models = models

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.mean([m.predict_proba(x) for m in self.models], axis=0)


def loso_predictions(subjects: list, variant: Variant, data_dir: Path) -> dict:
    """Subject -> (stress probabilities, labels, window centres in s) from models fitted on the others."""
    tables = {s.subject: subject_table(s, variant, data_dir) for s in subjects}
    learnt = tables
    if variant.trained_on:
        learnt_from = variant._replace(inputs=variant.trained_on, first_window=0)
        learnt = {s.subject: subject_table(s, learnt_from, data_dir) for s in subjects}
    predictions = {}
    for name, table in tables.items():
        train = [learnt[t] for t in tables if t != name]
        rows = [(t, training_rows(t, variant)) for t in train]
        fitted = classifiers(variant.classifiers, np.vstack([t.x[r] for t, r in rows]),
                             np.concatenate([t.y[r] for t, r in rows]))
        p_session = np.mean([m.predict_proba(table.session_x)[:, 1] for m in fitted], axis=0)
        if variant.second_stage_hops:
            p_session = second_stage(p_session, {t: learnt[t] for t in tables if t != name}, variant)
        if variant.session_fit_share:
            p_own = session_fit(table.session_x, p_session)
            p_session = (1 - variant.session_fit_share) * p_session + variant.session_fit_share * p_own
        if variant.smoothing_power:
            p_session = two_state_smoothing(p_session, stay_probability(train), variant.smoothing_power)
        predictions[name] = (p_session[table.labelled], table.y, table.centres_s)
    return predictions


def second_stage(p_session: np.ndarray, train: dict, variant: Variant) -> np.ndarray:
    """Stress probabilities from a second stage over the first stage's log-odds at the variant's offsets
    (``benchmarks/physio_second_stage.py``); it learns from each training subject's log-odds out of fold (a
    first stage fitted without them, SECOND_STAGE_FOLDS groups), since in-sample ones are more confident than an
    unseen person's."""
    judged = []
    names = sorted(train)
    for fold in range(SECOND_STAGE_FOLDS):
        left_out = names[fold::SECOND_STAGE_FOLDS]
        others = [train[n] for n in names if n not in left_out]
        fitted = classifiers(variant.classifiers, np.vstack([t.x for t in others]),
                             np.concatenate([t.y for t in others]))
        for table in (train[n] for n in left_out):
            p_own = np.mean([m.predict_proba(table.session_x)[:, 1] for m in fitted], axis=0)
            judged.append(SessionStress(p_own, table.labelled, table.y))
    stage = fit_second_stage(judged, variant.second_stage_hops)
    return second_stage_stress(stage, p_session, variant.second_stage_hops)


def training_rows(table: Table, variant: Variant) -> np.ndarray:
    """Indices of the labelled rows a classifier learns from: each once, less the no-stress windows whose centre
    lies within ``recovery_left_out_s`` after a stress window's and the stress windows within ``onset_left_out_s``
    after a no-stress window's; the recovery windows ``recovery_repeats`` times when that is above 1."""
    repeats = np.ones(len(table.y), dtype=int)
    for state, seconds in ((0, variant.recovery_left_out_s), (1, variant.onset_left_out_s)):
        if seconds > 0:
            repeats[(table.y == state) & (seconds_since_other_state(table) <= seconds)] = 0
    if variant.recovery_repeats > 1:
        recovery = (table.y == 0) & (seconds_since_other_state(table) <= RECOVERY_S)
        repeats[recovery] = variant.recovery_repeats
    return np.repeat(np.arange(len(table.y)), repeats)


def seconds_since_other_state(table: Table) -> np.ndarray:
    """Per labelled row, the seconds since the centre of the last earlier row with the other label (inf: none)."""
    since = np.full(len(table.y), np.inf)
    for state in (0, 1):
        other_centres = np.where(table.y != state, table.centres_s, -np.inf)
        rows = table.y == state
        since[rows] = (table.centres_s - np.maximum.accumulate(other_centres))[rows]
    return since


def session_fit(x: np.ndarray, p_stress: np.ndarray) -> np.ndarray:
    """Stress probabilities from a logistic regression fitted on one session's windows, labelled by ``p_stress``
    and weighted by its confidence; ``p_stress`` itself where it calls every window the same."""
    from sklearn.linear_model import LogisticRegression

    judged = called_stress(p_stress).astype(int)
    if judged.min() == judged.max():
        return p_stress
    own = LogisticRegression(C=shipped.REGULARISATION_C, solver="liblinear", class_weight="balanced")
    return own.fit(x, judged, sample_weight=np.abs(2 * p_stress - 1)).predict_proba(x)[:, 1]


def stay_probability(tables: list[Table]) -> float:
    """The chance that a labelled window's label equals the previous labelled window's, over ``tables``."""
    changes = sum(int(np.sum(np.diff(t.y) != 0)) for t in tables)
    return 1.0 - changes / sum(len(t.y) - 1 for t in tables)


def two_state_smoothing(p_stress: np.ndarray, stay: float, power: float) -> np.ndarray:
    """Forward-backward posterior of stress for a two-state chain that keeps its state with probability ``stay``
    per window; ``p_stress`` (a classifier's, balanced classes) gives each window's likelihood ratio, raised to
    ``power``."""
    evidence = np.stack([1 - p_stress, p_stress], axis=1) ** power
    transition = np.array([[stay, 1 - stay], [1 - stay, stay]])
    forward = np.empty_like(evidence)
    backward = np.ones_like(evidence)
    state = np.array([0.5, 0.5])
    for t in range(len(evidence)):
        state = evidence[t] * (state @ transition if t else state)
        forward[t] = state = state / state.sum()
    for t in range(len(evidence) - 2, -1, -1):
        backward[t] = transition @ (evidence[t + 1] * backward[t + 1])
        backward[t] /= backward[t].sum()
    posterior = forward * backward
    return posterior[:, 1] / posterior.sum(axis=1)


def development_loso(windows, variant: Variant, data_dir: Path) -> dict:
    """``windows(window_s)``: the development subjects' windows of that length."""
    if not variant.ensemble_window_s:
        predictions = loso_predictions(windows(variant.window_s), variant, data_dir)
        return shipped.evaluate({s: (p, y) for s, (p, y, _) in predictions.items()})
    members = {
        w: loso_predictions(windows(w), variant._replace(window_s=w), data_dir) for w in variant.ensemble_window_s
    }
    here = members.get(variant.window_s) or loso_predictions(windows(variant.window_s), variant, data_dir)
    return shipped.evaluate({
        s: (np.mean([np.interp(centres_s, m[s][2], m[s][0]) for m in members.values()], axis=0), y)
        for s, (_, y, centres_s) in here.items()
    })


def development_windows(data_dir: Path, window_s: float, cache_dir: Path | None) -> list:
    try:
        development = [s for s in load_labels(data_dir) if s not in shipped.HELD_OUT_SUBJECTS]
        return load_dataset(data_dir, window_s, shipped.HOP_S, subjects=development, cache_dir=cache_dir)
    except InputError as error:
        raise SystemExit(str(error)) from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the Stress-Predict folder")
    parser.add_argument("--cache", type=Path, help="the feature cache of 'emotrace train physio --cache'")
    parser.add_argument("--only", default="", help="run only the variants whose name contains this text")
    parser.add_argument("--reference", default=VARIANTS[0].name,
                        help="the variant (a part of its name) each row's gain is measured against; default: the first")
    args = parser.parse_args()
    if not (args.data / "raw").is_dir():
        raise SystemExit(f"{args.data}: not a Stress-Predict folder (no raw/ with SXX.zip)")
    development_subjects = {}  # window length -> the development subjects' windows

    def windows(window_s: float) -> list:
        if window_s not in development_subjects:
            development_subjects[window_s] = development_windows(args.data, window_s, args.cache)
        return development_subjects[window_s]

    matching = [v for v in VARIANTS if args.reference in v.name]
    if not matching:
        raise SystemExit(f"--reference {args.reference!r}: no variant's name contains it")
    reference = development_loso(windows, matching[0], args.data)["per_subject_ba"]
    print(f"development subjects, leave-one-subject-out; gain: per-subject BA minus that of '{matching[0].name}', "
          "mean ± its standard error (subjects gaining)")
    print("| variant | BA | macro-F1 | ECE | per-subject BA mean (min) | gain |\n|---|---|---|---|---|---|")
    for variant in (v for v in VARIANTS if args.only in v.name):
        m = development_loso(windows, variant, args.data)
        print(f"| {variant.name} | {m['balanced_accuracy']:.3f} | {m['macro_f1']:.3f} | {m['ece']:.3f} | "
              f"{m['per_subject_ba_mean']:.3f} ({m['per_subject_ba_min']:.2f}) | "
              f"{paired_gain(m['per_subject_ba'], reference)} |", flush=True)


if __name__ == "__main__":
    main()
