"""How much of a vocal tremor a pretrained encoder's window embedding keeps: a measurement, per layer.

Real speech windows are copied with a synthetic tremor added — a slow periodic modulation of pitch (a
modulated delay line: the whole signal is sped up and slowed down, ±``f0_depth`` in frequency) and of
loudness (±``amplitude_depth``) at ``rate_hz`` — and a linear probe is asked to tell the copies from the
originals on each layer's time-averaged hidden states. Folds are grouped by speaker, so the probe has to
recognise the tremor in voices it never saw. An AUC near 0.5: a simple head on that layer cannot see the
tremor; near 1: it can.

    python -m export.audio.backbones.tremor_probe --backbone wavlm-base-plus \\
        --data /path/to/shared/data/speech/ravdess --emotion neutral --out tremor.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from export.audio.backbones.data import corpus_windows
from runtime.audio_rate import AUDIO_RATE_HZ


def add_tremor(
    samples: np.ndarray,
    sample_rate_hz: int = AUDIO_RATE_HZ,
    rate_hz: float = 6.0,
    f0_depth: float = 0.03,
    amplitude_depth: float = 0.10,
    phase: float = 0.0,
) -> np.ndarray:
    """``samples`` with a tremor: pitch and loudness modulated at ``rate_hz`` (depths as fractions).

    Pitch: reading the signal through a delay that swings by ``D·sin(ωt)`` samples scales its frequencies by
    ``1 − D·ω·cos(ωt)/sr``, so ``D = f0_depth·sr/ω`` gives a ±``f0_depth`` frequency swing.
    """
    samples = np.asarray(samples, dtype=np.float64)
    t_s = np.arange(samples.size) / sample_rate_hz
    omega = 2 * np.pi * rate_hz
    delay_samples = f0_depth * sample_rate_hz / omega * np.sin(omega * t_s + phase)
    read_at = np.clip(np.arange(samples.size) - delay_samples, 0, samples.size - 1)
    warped = np.interp(read_at, np.arange(samples.size), samples)
    return (warped * (1 + amplitude_depth * np.sin(omega * t_s + phase))).astype(np.float32)


def probe_auc(features: np.ndarray, has_tremor: np.ndarray, groups: np.ndarray, n_folds: int = 5) -> float:
    """Speaker-grouped cross-validated ROC AUC of a logistic-regression probe on ``features``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    scores = np.zeros(len(has_tremor))
    splitter = GroupKFold(n_splits=min(n_folds, len(np.unique(groups))))
    for train, test in splitter.split(features, has_tremor, groups):
        probe = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
        probe.fit(features[train], has_tremor[train])
        scores[test] = probe.predict_proba(features[test])[:, 1]
    return float(roc_auc_score(has_tremor, scores))


def tremor_sensitivity(
    pooled_original: np.ndarray, pooled_tremor: np.ndarray, speakers: np.ndarray, n_folds: int = 5
) -> dict:
    """Per-layer probe AUC from (n, n_layers, hidden) pooled states of windows without and with tremor."""
    features = np.concatenate([pooled_original, pooled_tremor])
    labels = np.r_[np.zeros(len(pooled_original)), np.ones(len(pooled_tremor))]
    groups = np.r_[speakers, speakers]
    per_layer = [probe_auc(features[:, k], labels, groups, n_folds) for k in range(features.shape[1])]
    return {
        "auc_per_layer": [round(a, 4) for a in per_layer],
        "best_layer": int(np.argmax(per_layer)),
        "best_auc": round(max(per_layer), 4),
        "n_windows": int(len(pooled_original)),
    }


def main(argv: list[str] | None = None) -> None:
    from export.audio.backbones.models import load_pretrained
    from export.audio.datasets import load_corpus

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", required=True, help="short name, cached hub id, or folder")
    parser.add_argument("--data", type=Path, required=True, help="corpus folder (as for train audio)")
    parser.add_argument("--emotion", default="neutral", help="which clips to use (default neutral)")
    parser.add_argument("--max-clips", type=int, default=200)
    parser.add_argument("--rate-hz", type=float, default=6.0)
    parser.add_argument("--f0-depth", type=float, default=0.03)
    parser.add_argument("--amplitude-depth", type=float, default=0.10)
    parser.add_argument("--out", type=Path, required=True, help="JSON file for the result")
    args = parser.parse_args(argv)
    clips = [c for c in load_corpus(args.data).clips if c.emotion == args.emotion][: args.max_clips]
    windows = corpus_windows(clips)
    speakers = np.array([windows.clips[i].speaker for i in windows.clip_index])
    rng = np.random.default_rng(0)
    tremored = np.stack(
        [
            add_tremor(
                w,
                rate_hz=args.rate_hz,
                f0_depth=args.f0_depth,
                amplitude_depth=args.amplitude_depth,
                phase=rng.uniform(0, 2 * np.pi),
            )
            for w in windows.waveforms
        ]
    )
    model = load_pretrained(args.backbone)
    result = tremor_sensitivity(model.pooled(windows.waveforms), model.pooled(tremored), speakers)
    result.update(
        {
            "backbone": args.backbone,
            "emotion": args.emotion,
            "rate_hz": args.rate_hz,
            "f0_depth": args.f0_depth,
            "amplitude_depth": args.amplitude_depth,
            "speakers": len(set(speakers.tolist())),
        }
    )
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
