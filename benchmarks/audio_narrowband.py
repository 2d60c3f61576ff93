"""The shipped voice model on wideband speech and on the same speech as a telephone line carries it.

    python benchmarks/audio_narrowband.py ../shared/data/speech/ravdess     # ≈ 3 min for RAVDESS 01-20

Each clip is judged twice: as recorded (16 kHz) and band-limited as a telephone call or an 8 kHz recorder gives it
(down to 8 kHz, G.711 mu-law, back up to the 16 kHz the model reads: nothing above 4 kHz). Both with the session
baseline (each speaker's clips z-scored against their own, of the same band) and without one (the population
variant: a short call, `audio classify`). Printed: how often the narrowband clip keeps the wideband clip's
emotion, the share of clips called each emotion, and the accuracy against the corpus's labels. The shipped model
was trained on these speakers (RAVDESS 01-20), so the wideband accuracy is far above what unseen people get; the
point is what the band alone changes.

Then whether the arm recognises the telephone band from the sound (``runtime.arms.audio.band``: the speech frames'
power above 4.5 kHz against their 0.3-3.4 kHz band), as it must when a call is carried in a wideband file: the
share of clips called narrowband as recorded, quiet (loudest sample at -45 dBFS, 16-bit) and noisy (white noise,
10 dB SNR), and band-limited (the line above; resampled through 8 kHz alone, without mu-law; low-passed at 3.4 kHz,
8th-order Butterworth; and two it is known to miss: the line with white noise 30 dB under the speech added
after it, and the line at a -40 dBFS peak in 16 bits), each with the range of the measure, over the clips the VAD
finds speech in. Last, per window (``window_high_band_db``, from 1 s of a window's speech), one session per speaker
of their clips in a row, as recorded and with every other clip through the line (a phone participant beside
wideband speech): the windows read as telephone-band, and the sessions said to hold some (a tenth of the windows).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np
from scipy.signal import butter, resample_poly, sosfilt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audio_dc_check import clip_probs, corpus_tables  # noqa: E402  (this folder: the clips' features and judging)

from runtime.arms.audio import band  # noqa: E402
from runtime.arms.audio.arm import AudioSettings, judged_samples  # noqa: E402
from runtime.arms.audio.model import load_audio_model  # noqa: E402
from runtime.arms.audio.vad import detect_speech  # noqa: E402
from runtime.arms.audio.windows import judged_windows  # noqa: E402
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


def band_variants(samples: np.ndarray, seed: int) -> dict[str, tuple[bool, np.ndarray]]:
    """The clip as the band measure meets it: (whether it is band-limited, the 16 kHz samples)."""
    rms = np.sqrt(np.mean(samples.astype(np.float64) ** 2))
    white = np.random.default_rng(seed).normal(0, rms, samples.size)
    line = telephone_band(samples)

    def at_peak_16_bit(heard: np.ndarray, peak_dbfs: float) -> np.ndarray:
        scaled = heard * 10 ** (peak_dbfs / 20) / max(float(np.max(np.abs(heard))), 1e-9)
        return np.round(scaled * 32767) / 32767

    return {
        "as recorded": (False, samples),
        "quiet, -45 dBFS": (False, at_peak_16_bit(samples, -45)),
        "noisy, 10 dB SNR": (False, samples + white * 10 ** (-10 / 20)),
        "telephone line": (True, line),
        "through 8 kHz": (True, resample_poly(resample_poly(samples, 1, 2), 2, 1)[: samples.size]),
        "low-passed 3.4 kHz": (True, sosfilt(butter(8, 3400, fs=AUDIO_RATE_HZ, output="sos"), samples)),
        # where the measure is known to fail: wideband sound after the line, or its rounding noise
        "telephone line, white noise 30 dB under": (True, line + white * 10 ** (-30 / 20)),
        "telephone line, -40 dBFS, 16-bit": (True, at_peak_16_bit(line, -40)),
    }


def band_detection(clips) -> None:
    """Print the share of each variant of the clips the band measure calls narrowband, and its range."""
    measured: dict[str, list[float]] = {}
    band_limited: dict[str, bool] = {}
    for index, clip in enumerate(clips):
        samples = judged_samples(clip.path, AUDIO_RATE_HZ)
        for name, (limited, heard) in band_variants(samples, index).items():
            heard = np.asarray(heard, dtype=np.float32)  # the speech frames the arm finds in what it hears
            db = band.speech_high_band_db(heard, AUDIO_RATE_HZ, detect_speech(heard))
            band_limited[name] = limited
            if db is not None:
                measured.setdefault(name, []).append(db)
    print(f"band from the sound (narrowband under {band.NARROWBAND_HIGH_BAND_DB:g} dB above 4.5 kHz):")
    for name, values in measured.items():
        flagged = np.mean([band.sounds_narrowband(v) for v in values])
        what = "flagged" if band_limited[name] else "wrongly flagged"
        print(f"  {name}: {len(values)} clips, {what} {flagged:.3f} ({int(round(flagged * len(values)))}); "
              f"{min(values):.1f} to {max(values):.1f} dB, median {np.median(values):.1f}")


def window_band_detection(clips) -> None:
    """Print, per speaker, a session of their clips as recorded and one with every other clip through a telephone
    line: the judged windows whose speech reads as telephone-band, and whether the session is said to hold some."""
    settings = AudioSettings()
    by_speaker: dict[str, list[np.ndarray]] = {}
    for clip in clips:
        by_speaker.setdefault(clip.speaker, []).append(judged_samples(clip.path, AUDIO_RATE_HZ))
    print(f"windows ({settings.window_s:g} s every {settings.hop_s:g} s) of one session per speaker, its clips "
          "in a row:")
    for name, line_every in (("as recorded", 0), ("every other clip through a telephone line", 2)):
        counted, said = np.zeros(2, dtype=int), 0
        for speaker_clips in by_speaker.values():
            session = np.concatenate([telephone_band(samples) if line_every and i % line_every else samples
                                      for i, samples in enumerate(speaker_clips)])
            speech = detect_speech(session)
            powers = band.frame_band_powers(session, AUDIO_RATE_HZ)
            windows = judged_windows(speech, session.size / AUDIO_RATE_HZ, settings.window_s, settings.hop_s,
                                     settings.min_speech_fraction)  # the windows the arm judges
            session_count = band.narrowband_count([band.window_high_band_db(powers, speech, w.start_s, w.end_s)
                                              for w in windows])
            counted += session_count
            said += band.some_windows_narrowband(session_count)
        print(f"  {name}: {counted[0]} of {counted[1]} measured windows telephone-band; "
              f"{said} of {len(by_speaker)} sessions said to hold some")


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
        wide, narrow = (clip_labels(model, *tables[heard_as], speakers, variant) for heard_as in tables)
        both = sorted(set(wide) & set(narrow))
        kept = np.mean([wide[c] == narrow[c] for c in both])
        print(f"{variant}: {len(both)} clips; the telephone band keeps the wideband emotion in {kept:.2f}")
        for heard_as, labels in (("wideband", wide), ("telephone", narrow)):
            shares = Counter(labels[c] for c in both)
            accuracy = np.mean([labels[c] == truth[c] for c in both])
            print(f"  {heard_as}: accuracy {accuracy:.2f}; called " +
                  ", ".join(f"{label} {shares[label] / len(both):.2f}" for label in CANONICAL_LABELS))
    band_detection(clips)
    window_band_detection(clips)


if __name__ == "__main__":
    main()
