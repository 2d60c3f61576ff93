"""A second stage over the shipped stress model, measured as ``emotrace train physio`` measures a model.

    python benchmarks/physio_second_stage.py ../shared/data/physio/stress_predict --cache runs/physio-cache

The second stage is a logistic regression over the first stage's stress log-odds of the window and of its
neighbours 15, 30, 60, 120 and 240 s either side (in 5 s hops): a learnt filter over the session's stress curve,
since stress lasts minutes and the curve's shape around a window (rising into a task, falling in the recovery
after it) may say more than the window alone. It learns from out-of-fold log-odds (each subject's session judged
by a first stage that never saw them: in-sample ones are more confident than an unseen person's), of every
source (``export.physio.train.SOURCES``), as the first stage does. Its offsets were chosen on the development
subjects (``benchmarks/physio_variants.py --only "second stage"``); this script then scores it once on the
held-out subjects, beside the first stage alone (the shipped recipe), with the same splits and the first-stage
fits training makes, less its final one on every subject (48; ≈ 21 min on 2 cores):

- development subjects, leave-one-subject-out: the second stage for a left-out subject learns from the others'
  out-of-fold judgements (those came from first stages that saw the left-out subject's labels, a second-order
  overlap the held-out figure does not have);
- held-out subjects: the first stage fitted on the development subjects, the second stage on their out-of-fold
  judgements;
- all subjects, leave-one-subject-out, in the same way as the development figure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from export.metrics import paired_gain  # noqa: E402
from export.physio import train as shipped  # noqa: E402
from export.physio.dataset import stress_label  # noqa: E402
from runtime.arms.physio.model import model_inputs  # noqa: E402
from runtime.errors import InputError  # noqa: E402

OFFSETS_WINDOWS: tuple[int, ...] = (0, -3, 3, -6, 6, -12, 12, -24, 24, -48, 48)
LOG_ODDS_CLIP = 1e-4  # probabilities kept inside [1e-4, 1 - 1e-4]: log-odds within ±9.2


class SessionStress(NamedTuple):
    """A first stage's judgement of one session: what a second stage reads and is scored on."""

    p_usable: np.ndarray  # stress probability of every window with quality > 0, in time order
    labelled: np.ndarray  # which of those windows are labelled (the rows ``shipped.subject_xy`` scores)
    y: np.ndarray  # their 0/1 labels


def shifted(x: np.ndarray, offsets: Sequence[int]) -> np.ndarray:
    """Row t gets the rows t + k for each offset k side by side; beyond the recording's ends the end row (as the
    shipped context's filter repeats it)."""
    rows = np.arange(len(x))
    return np.hstack([x[np.clip(rows + k, 0, len(x) - 1)] for k in offsets])


def neighbour_log_odds(p_stress: np.ndarray, offsets_windows: Sequence[int]) -> np.ndarray:
    """(n, k): the stress log-odds of window t + k for each offset k, row t."""
    p = np.clip(np.asarray(p_stress, dtype=float), LOG_ODDS_CLIP, 1.0 - LOG_ODDS_CLIP)
    return shifted(np.log(p / (1.0 - p))[:, None], offsets_windows)


def fit_second_stage(sessions: list[SessionStress], offsets_windows: Sequence[int] = OFFSETS_WINDOWS):
    """A logistic regression over ``neighbour_log_odds`` learnt from the sessions' labelled windows."""
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([neighbour_log_odds(s.p_usable, offsets_windows)[s.labelled] for s in sessions])
    stage = LogisticRegression(C=shipped.REGULARISATION_C, class_weight="balanced", max_iter=1000)
    return stage.fit(x, np.concatenate([s.y for s in sessions]))


def second_stage_stress(stage, p_usable: np.ndarray, offsets_windows: Sequence[int] = OFFSETS_WINDOWS) -> np.ndarray:
    """The second stage's stress probability of each usable window of a session."""
    return stage.predict_proba(neighbour_log_odds(p_usable, offsets_windows))[:, 1]


def session_stress(model, windows: shipped.Windows, subject: str, source: shipped.Source) -> SessionStress:
    """The first stage's stress probability of every usable window of the subject's session as ``source``
    records it (the same inputs and labelled rows as ``shipped.source_xy``)."""
    session = windows[source.without][subject]
    x = model_inputs(shipped.source_features(session, source), session.quality, shipped.CONTEXT_WINDOWS,
                     shipped.SCALING, shipped.LOCAL_BASELINE_WINDOWS)
    usable = session.quality > 0
    fraction = session.stress_fraction[usable]
    labelled = np.isfinite(fraction)
    return SessionStress(model.predict_proba(x[usable])[:, 1], labelled, stress_label(fraction[labelled]))


def judged_out_of_fold(windows: shipped.Windows, subjects: list[str]) -> dict[str, dict[str, SessionStress]]:
    """Source name -> subject -> the session judged by a first stage fitted on the other ``subjects``."""
    judged: dict[str, dict[str, SessionStress]] = {source.name: {} for source in shipped.SOURCES}
    for s in subjects:
        model = shipped.fit(windows, [t for t in subjects if t != s])
        for source in shipped.SOURCES:
            judged[source.name][s] = session_stress(model, windows, s, source)
        print(f"  {s} judged", file=sys.stderr, flush=True)
    return judged


def judgements_without(judged: dict[str, dict[str, SessionStress]], left_out: str | None) -> list[SessionStress]:
    """Every source's judgement of every subject but ``left_out``."""
    return [j for by_subject in judged.values() for s, j in by_subject.items() if s != left_out]


def both_stages(judged: dict[str, SessionStress], stage_for) -> tuple[dict, dict]:
    """Subject -> (p, y) of the first stage alone and after the second stage ``stage_for(subject)``."""
    first = {s: (j.p_usable[j.labelled], j.y) for s, j in judged.items()}
    second = {s: (second_stage_stress(stage_for(s), j.p_usable)[j.labelled], j.y) for s, j in judged.items()}
    return first, second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the Stress-Predict folder")
    parser.add_argument("--cache", type=Path, help="the feature cache of 'emotrace train physio --cache'")
    args = parser.parse_args()
    try:
        subjects, development, held_out = shipped.split_subjects(args.data, shipped.HELD_OUT_SUBJECTS)
        windows = shipped.load_sources(args.data, cache_dir=args.cache, subjects=subjects)
    except InputError as error:
        raise SystemExit(str(error)) from None
    dev_judged = judged_out_of_fold(windows, development)
    all_judged = judged_out_of_fold(windows, subjects)
    first = shipped.fit(windows, development)
    held_stage = fit_second_stage(judgements_without(dev_judged, None))
    e4 = shipped.E4.name
    rows = {
        "development subjects, leave-one-subject-out": both_stages(
            dev_judged[e4], lambda s: fit_second_stage(judgements_without(dev_judged, s))),
        "held-out subjects, trained on the development ones": both_stages(
            {t: session_stress(first, windows, t, shipped.E4) for t in held_out}, lambda _: held_stage),
        "all subjects, leave-one-subject-out": both_stages(
            all_judged[e4], lambda s: fit_second_stage(judgements_without(all_judged, s))),
    }
    for source in shipped.SOURCES[1:]:
        rows[f"held-out subjects as {source.name}"] = both_stages(
            {t: session_stress(first, windows, t, source) for t in held_out}, lambda _: held_stage)
    print("BA / macro-F1 / ECE of the first stage alone (the shipped recipe) and with the second stage; gain: "
          "per-subject BA, second minus first, mean ± its standard error (subjects gaining)")
    print("| evaluation | first stage | with the second stage | gain |\n|---|---|---|---|")
    for name, (alone, stacked) in rows.items():
        a, b = shipped.evaluate(alone), shipped.evaluate(stacked)
        print(f"| {name} | {a['balanced_accuracy']:.3f} / {a['macro_f1']:.3f} / {a['ece']:.3f} | "
              f"{b['balanced_accuracy']:.3f} / {b['macro_f1']:.3f} / {b['ece']:.3f} | "
              f"{paired_gain(b['per_subject_ba'], a['per_subject_ba'])} |", flush=True)
    a, b = (shipped.evaluate(p)["per_subject_ba"] for p in rows["held-out subjects, trained on the development ones"])
    per_subject = ", ".join(f"{s} {a[s]:.2f} -> {b[s]:.2f}" for s in held_out)
    print(f"\nheld-out subjects, first stage -> with the second: {per_subject}")


if __name__ == "__main__":
    main()
