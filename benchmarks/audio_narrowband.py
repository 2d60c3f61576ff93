"""The shipped voice model on wideband speech and on the same speech as a telephone line carries it.

    python benchmarks/audio_narrowband.py ../shared/data/speech/ravdess     # ≈ 2 min for RAVDESS 01-20

Each clip is judged twice: as recorded (16 kHz) and band-limited as a telephone call or an 8 kHz recorder gives it
(down to 8 kHz, G.711 mu-law, back up to the 16 kHz the model reads: nothing above 4 kHz). Both with the session
baseline (each speaker's clips z-scored against their own, of the same band) and without one (the population
variant: a short call, `audio classify`). Printed: how often the narrowband clip keeps the wideband clip's
emotion, the share of clips called each emotion, and the accuracy against the corpus's labels. The shipped model
was trained on these speakers (RAVDESS 01-20), so the wideband accuracy is far above what unseen people get; the
point is what the band alone changes.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audio_dc_check import clip_probs, corpus_tables  # noqa: E402  (this folder: the clips' features and judging)

from runtime.arms.audio.arm import judged_samples  # noqa: E402
from runtime.arms.audio.model import load_audio_model  # noqa: E402
from runtime.audio_rate import AUDIO_RATE_HZ  # noqa: E402
from runtime.config import load_settings  # noqa: E402
from runtime.track import CANONICAL_LABELS  # noqa: E402

MU = 255.0  # G.711 mu-law


def telephone_band(samples: np.ndarray) -> np.ndarray:
    """16 kHz samples as an 8 kHz mu-law line carries them, read back at 16 kHz."""
    narrow = np.clip(resample_poly(samples, 1, 2), -1.0, 1.0)
    companded = np.sign(narrow) * np.log1p(MU * np.abs(narrow)) / np.log1p(MU)
    quantised = np.round(companded * 127.0) / 127.0  # 8 bits a sample
    expanded = np.sign(quantised) * np.expm1(np.abs(quantised) * np.log1p(MU)) / MU
    return resample_poly(expanded, 2, 1).astype(np.float32)[: samples.size]


def clip_labels(model, features: np.ndarray, clip_index: np.ndarray, speakers: np.ndarray,
                variant: str) -> dict[int, str]:
    return {c: CANONICAL_LABELS[int(np.argmax(p))]
            for c, p in clip_probs(model, features, clip_index, speakers, variant).items()}


def main() -> None:
    clips, tables = corpus_tables(__doc__.splitlines()[0], {
        "wideband": lambda path: judged_samples(path, AUDIO_RATE_HZ),
        "telephone": lambda path: telephone_band(judged_samples(path, AUDIO_RATE_HZ))})
    model = load_audio_model(load_settings()["audio"]["model"])
    speakers = np.array([clip.speaker for clip in clips])
    truth = {i: clip.emotion for i, clip in enumerate(clips)}
    for variant in ("session", "none"):
        wide, narrow = (clip_labels(model, *tables[band], speakers, variant) for band in tables)
        both = sorted(set(wide) & set(narrow))
        kept = np.mean([wide[c] == narrow[c] for c in both])
        print(f"{variant}: {len(both)} clips; the telephone band keeps the wideband emotion in {kept:.2f}")
        for band, labels in (("wideband", wide), ("telephone", narrow)):
            shares = Counter(labels[c] for c in both)
            accuracy = np.mean([labels[c] == truth[c] for c in both])
            print(f"  {band}: accuracy {accuracy:.2f}; called " +
                  ", ".join(f"{label} {shares[label] / len(both):.2f}" for label in CANONICAL_LABELS))


if __name__ == "__main__":
    main()
