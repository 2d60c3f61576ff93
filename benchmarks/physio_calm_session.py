"""What the stress track says of a session that is calm throughout, or stressed throughout.

    python benchmarks/physio_calm_session.py ../shared/data/physio/stress_predict --cache runs/physio-cache

The stress model judges each window against its own session (ranks over the session, a local baseline, a
context): every Stress-Predict session holds about a third of stress, so its figures are those of sessions with
that mix. Here the shipped recipe, trained on the 20 development subjects, judges each of the 7 held-out subjects'
E4 sessions as recorded, then the same session with every window that touches a stress second cut out (a calm
session), then with only the windows wholly within stress (a stressed one). Cutting windows out is an
approximation of such sessions: a kept window's context and local baseline then reach across the cut. Nothing is
chosen by this script; ≈ 2 min from the feature cache of ``emotrace train physio --cache``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from export.physio.dataset import SubjectWindows  # noqa: E402
from export.physio.train import E4, HELD_OUT_SUBJECTS, fit, load_sources, source_xy, split_subjects  # noqa: E402
from runtime.arms.physio.stress import called_stress  # noqa: E402
from runtime.errors import InputError  # noqa: E402

SESSIONS = ("as recorded", "calm throughout", "stressed throughout")


def session_kept(windows: SubjectWindows, keep: np.ndarray) -> SubjectWindows:
    """The session made of the ``keep`` windows alone, in their order."""
    return SubjectWindows(windows.subject, windows.starts_s[keep], windows.features[keep], windows.quality[keep],
                          windows.stress_fraction[keep])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--cache", type=Path, help="the feature cache of 'emotrace train physio --cache'")
    args = parser.parse_args()
    try:
        report(args)
    except InputError as error:  # a missing data folder, a damaged recording: one line, as the commands give it
        raise SystemExit(str(error)) from None


def report(args: argparse.Namespace) -> None:
    subjects, development, held_out = split_subjects(args.data, HELD_OUT_SUBJECTS)
    windows = load_sources(args.data, cache_dir=args.cache, subjects=subjects)  # every source: the shipped recipe
    model = fit(windows, development)
    print("| subject | rest windows called rest, as recorded | stress called stress, as recorded | "
          "windows called stress in the calm session | windows called stress in the stressed session |")
    print("|---|---|---|---|---|")
    shares: dict[str, list[float]] = {name: [] for name in ("rest", "stress", "calm", "stressed")}
    for subject in held_out:
        session = windows[E4.without][subject]
        fraction = session.stress_fraction
        cuts = {"calm": np.isfinite(fraction) & (fraction == 0), "stressed": np.isfinite(fraction) & (fraction == 1)}
        x, y = source_xy(windows, subject, E4, False)
        called = called_stress(model.predict_proba(x)[:, 1])
        row = {"rest": float(np.mean(~called[y == 0])), "stress": float(np.mean(called[y == 1]))}
        for name, keep in cuts.items():
            cut = {E4.without: {subject: session_kept(session, keep)}}
            x_cut, _ = source_xy(cut, subject, E4, False)
            row[name] = float(np.mean(called_stress(model.predict_proba(x_cut)[:, 1])))
        for name, value in row.items():
            shares[name].append(value)
        print(f"| {subject} | {row['rest']:.2f} | {row['stress']:.2f} | {row['calm']:.2f} | {row['stressed']:.2f} |",
              flush=True)
    print(f"| mean | {np.mean(shares['rest']):.3f} | {np.mean(shares['stress']):.3f} | "
          f"{np.mean(shares['calm']):.3f} | {np.mean(shares['stressed']):.3f} |")


if __name__ == "__main__":
    main()
