"""Voice-emotion candidates side by side on the same speaker-independent folds, clip-level metrics.

    python benchmarks/audio_candidates.py ../shared/data/speech/ravdess --trained runs/audio

Candidates: this project's window features with logistic regression and with the shipped MLP, each with the
per-speaker baseline ("session") and without ("none"); and the reference pipeline, openSMILE ComParE 2016
functionals per clip + logistic regression (openSMILE is non-commercial: training host only, for comparison;
skipped when the `opensmile` package is absent). No candidate trains on speed-perturbed copies, so the MLP row is
the shipped recipe without them; the shipped model's own figures, with them, are those ``emotrace train audio``
reports. With ``--trained`` (a folder written by ``emotrace train audio``) the table is saved there as
``comparison.md`` (and ``.json``), and ``emotrace export audio`` puts it into the model card; it reuses that
folder's feature cache.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.audio_cv import corpus_windows, run_report  # noqa: E402
from export.audio.extract import WindowTable  # noqa: E402
from export.audio.train import CLASSIFIER, LABELS, cross_validate, speaker_folds  # noqa: E402

LOGREG = {"kind": "logreg", "C": 0.01}
COMPARE_LOGREG = {"kind": "logreg", "C": 0.001}


def compare_table(clips, cache: Path) -> WindowTable | None:
    """openSMILE ComParE 2016 functionals, one row per clip (cached)."""
    try:
        import opensmile
    except ImportError:
        return None
    path = cache / "compare2016.npy"
    if path.is_file():
        features = np.load(path)
    else:
        smile = opensmile.Smile(opensmile.FeatureSet.ComParE_2016, opensmile.FeatureLevel.Functionals)
        features = np.stack([smile.process_file(str(c.path)).to_numpy()[0] for c in clips]).astype(np.float32)
        cache.mkdir(parents=True, exist_ok=True)
        np.save(path, features)
    return WindowTable(np.nan_to_num(features), np.arange(len(clips)), list(clips), [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--trained", type=Path, help="a folder written by 'emotrace train audio'")
    parser.add_argument("--cv-folds", type=int, default=5)
    args = parser.parse_args()
    run_report(report, args)


def report(args: argparse.Namespace) -> None:
    corpus, cache, table = corpus_windows(args.data, args.trained)
    y_clip = np.array([LABELS.index(c.emotion) for c in corpus.clips])
    speaker_clip = np.array([c.speaker for c in corpus.clips])
    folds = speaker_folds(corpus.speakers, args.cv_folds)
    rows = {}
    for name, candidate_table, spec in [
        ("emotrace window features + logistic regression", table, LOGREG),
        ("emotrace window features + MLP (the shipped recipe without speed perturbation)", table, CLASSIFIER),
        ("openSMILE ComParE 2016 (per clip) + logistic regression", compare_table(corpus.clips, cache),
         COMPARE_LOGREG),
    ]:
        if candidate_table is None:
            continue
        cv = cross_validate(candidate_table, y_clip, speaker_clip, folds, spec)
        for mode in ("session", "none"):
            m = cv[f"{mode}/clip"]
            rows[f"{name} [{mode}]"] = {k: round(m[k], 3) for k in ("ua", "wa", "macro_f1", "ece")}
            print(f"{name} [{mode}]: UA {m['ua']:.3f} macro-F1 {m['macro_f1']:.3f} ECE {m['ece']:.3f}", flush=True)
    lines = [f"Clip level, the same {len(folds)} speaker folds for every candidate, none trained on speed-perturbed "
             "copies (the shipped model is: its card's own figures are with them). Command: "
             "`python benchmarks/audio_candidates.py DATA --trained TRAINED`.", "",
             "| candidate [baseline] | UA | WA | macro-F1 | ECE |", "|---|---|---|---|---|"]
    lines += [f"| {name} | {m['ua']:.3f} | {m['wa']:.3f} | {m['macro_f1']:.3f} | {m['ece']:.3f} |"
              for name, m in rows.items()]
    print("\n".join(lines))
    if args.trained:
        (args.trained / "comparison.md").write_text("\n".join(lines) + "\n")
        (args.trained / "comparison.json").write_text(json.dumps({"folds": folds, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
