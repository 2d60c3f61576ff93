"""How clipping at the microphone moves the voice's emotions: RAVDESS speech turned up and hard-clipped.

    python benchmarks/audio_clipping.py ../shared/data/speech/ravdess

One actor's (03) first four strong-intensity clips of five emotions (angry, sad, happy, fearful, disgust) end to
end, about 79 s, are multiplied by each gain, clipped at full scale and rounded to 16-bit, as a recording made with
the microphone's gain that much too high would be, and analysed as ``analyze`` does (file mode, the session
baseline). For each gain it prints the share of the speech's samples at full scale as the arm measures it
(``runtime.arms.audio.level.clipped_speech_percent``), how many judged windows' top label is the emotion of the
clip under their centre, and how many agree with the unclipped recording's. Then the most clipped of the corpus's
clips (actors 01-20, the shipped model's training speech), measured the same way. The arm's warning share
(``CLIPPED_SPEECH_PERCENT``) is chosen from this table. Actor 03 is one of the model's training speakers: the
losses, not the figures themselves, are what the table shows.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.ravdess_clips import ravdess_clips  # noqa: E402
from runtime.arms.audio.arm import AudioSettings, analyze_audio, without_dc  # noqa: E402
from runtime.arms.audio.level import (  # noqa: E402
    CLIPPED_SPEECH_PERCENT,
    clipped_speech_percent,
    frame_clipped_counts,
)
from runtime.arms.audio.model import AudioEmotionModel  # noqa: E402
from runtime.arms.audio.vad import detect_speech  # noqa: E402
from runtime.audio_rate import AUDIO_RATE_HZ  # noqa: E402
from runtime.media import read_audio  # noqa: E402

EMOTIONS = ("angry", "sad", "happy", "fearful", "disgust")
STRONG = "02"  # RAVDESS's intensity code (the name's fourth field)
GAINS = (1, 4, 6, 8, 10, 14, 20)


def recording(corpus: Path) -> tuple[np.ndarray, list[tuple[str, float, float]]]:
    """Actor 03's first four strong clips of each emotion end to end, and each emotion's (label, start s, end s); a
    corpus lacking an emotion's ends the run in one line naming it."""
    clips = ravdess_clips(corpus, range(3, 4))
    parts, spans, at_s = [], [], 0.0
    for label in EMOTIONS:
        chosen = [clip.path for clip in clips if clip.emotion == label and clip.path.name.split("-")[3] == STRONG][:4]
        if not chosen:
            raise SystemExit(f"{corpus}: no strong-intensity {label} clip of actor 03 (03-01-EE-02-SS-RR-03)")
        start_s = at_s
        for path in chosen:
            parts.append(read_audio(path))
            at_s += parts[-1].size / AUDIO_RATE_HZ
        spans.append((label, start_s, at_s))
    return np.concatenate(parts), spans


def overdriven(samples: np.ndarray, gain: float) -> np.ndarray:
    """``samples`` times ``gain``, clipped at full scale and rounded to 16-bit."""
    return (np.round(np.clip(samples * gain, -1.0, 1.0) * 32767) / 32767).astype(np.float32)


def clipped_percent(samples: np.ndarray) -> float | None:
    """The arm's measure: the share of the speech's samples at full scale, as read (DC offset kept)."""
    return clipped_speech_percent(frame_clipped_counts(samples), detect_speech(without_dc(samples)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="RAVDESS's folder (its clips in any audio format train audio reads)")
    args = parser.parse_args()
    samples, spans = recording(args.corpus)
    model = AudioEmotionModel()
    print(f"{samples.size / AUDIO_RATE_HZ:.1f} s of actor 03; warning from {CLIPPED_SPEECH_PERCENT:g} % clipped")
    print("| gain | speech samples clipped | windows judged right | top label as unclipped |")
    print("|---|---|---|---|")
    unclipped = None
    for gain in GAINS:
        heard = overdriven(samples, gain)
        judged = [w for w in analyze_audio(heard, model, AudioSettings()).windows if w.probs is not None]
        top = {w.start_s: model.labels[int(np.argmax(w.probs))] for w in judged}
        right = sum(top[w.start_s] == label for w in judged for label, start_s, end_s in spans
                    if start_s <= (w.start_s + w.end_s) / 2 < end_s)
        unclipped = unclipped or top
        both = [start_s for start_s in top if start_s in unclipped]
        agree = sum(top[start_s] == unclipped[start_s] for start_s in both)
        print(f"| x{gain} | {clipped_percent(heard):.1f} % | {right} of {len(judged)} | {agree} of {len(both)} |")
    clips = [clip.path for clip in ravdess_clips(args.corpus, range(1, 21))]
    shares = [clipped_percent(read_audio(p)) or 0.0 for p in clips]
    print(f"training clips (actors 01-20, {len(clips)}): the most clipped {max(shares):.2f} % of its speech's samples, "
          f"{sum(s >= CLIPPED_SPEECH_PERCENT for s in shares)} at or over the warning share")


if __name__ == "__main__":
    main()
