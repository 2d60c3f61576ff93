"""The live voice stream against file mode on one recording: what a live session counts and judges differently.

    python benchmarks/live_voice_vs_file.py examples/session.mp4      # ≈ 20 s
    python benchmarks/live_voice_vs_file.py examples/session.mp4 --min-baseline-speech-s 10  # the setting changed

File mode (``analyze_audio``) sees the whole recording; the live stream (``AudioStream``, as ``emotrace live``
and ``analyze --realtime`` run it) sees the audio as it arrives, unpaced here, pushed whole and in 0.1 s chunks
as a microphone delivers it. Printed: the speech each counts for the speaker baseline and the variants that
judged; how many windows' speech fractions differ from file mode's by more than 0.01, and by how much at most;
the windows one mode judges and the other does not; the top label's agreement where both judge, of the windows
as the stream judged each as it ended (a live session's lines) and as its track records them (``VoiceSoFar.track``:
all judged again against the baseline of them all, as file mode judges a recording's), and the lines' against the
track's (what a clinician saw during the session against what the session keeps).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime.arms.audio.arm import AudioSettings, analyze_audio  # noqa: E402
from runtime.arms.audio.model import load_audio_model  # noqa: E402
from runtime.arms.audio.stream import VoiceSoFar  # noqa: E402
from runtime.config import load_settings  # noqa: E402
from runtime.errors import InputError  # noqa: E402
from runtime.media import read_audio  # noqa: E402
from runtime.track import Track, Window  # noqa: E402

FRACTION_DIFFERS = 0.01


def live_voice(samples: np.ndarray, model, settings: AudioSettings,
               chunk_samples: int) -> tuple[list[Window], Track, VoiceSoFar]:
    """The windows as the stream judged each as it ended, the track made of them, and the voice that made it."""
    voice = VoiceSoFar(model, settings, "live")
    said = []
    for first in range(0, samples.size, chunk_samples):
        said += voice.keep(voice.stream.push(samples[first:first + chunk_samples]), 0.0)
    said += voice.keep(voice.stream.finish(), 0.0)
    return said, voice.track(), voice


def top_label_agreement(file_windows: list[Window], windows: list[Window]) -> tuple[float, int]:
    """The share of the windows judged in both whose top label is file mode's, and how many those are."""
    both = [(a, b) for a, b in zip(file_windows, windows, strict=True) if a.has_claim and b.has_claim]
    agree = np.mean([np.argmax(a.probs) == np.argmax(b.probs) for a, b in both]) if both else float("nan")
    return float(agree), len(both)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", type=Path, help="an audio or video file")
    parser.add_argument("--min-baseline-speech-s", type=float,
                        help="audio.min_baseline_speech_s, as a config file would set it (default: the setting's)")
    args = parser.parse_args()
    try:  # a setting out of range (nan), a recording that cannot be read: one line, as the commands give it
        config = load_settings(None, {"audio.min_baseline_speech_s": args.min_baseline_speech_s},
                               {"audio.min_baseline_speech_s": "--min-baseline-speech-s"})
        samples = read_audio(args.recording)
    except InputError as error:
        raise SystemExit(str(error)) from None
    settings = AudioSettings.from_config(config["audio"])
    model = load_audio_model(config["audio"]["model"])
    file_track = analyze_audio(samples, model, settings)
    print(f"file mode: {file_track.settings.get('speech_s')} s of speech, judged by the "
          f"'{file_track.settings['speaker_baseline']}' variant; {len(file_track.windows)} windows")
    for name, chunk in (("pushed whole", samples.size), ("in 0.1 s chunks", settings.sample_rate_hz // 10)):
        windows, track, voice = live_voice(samples, model, settings, max(chunk, 1))
        pairs = list(zip(file_track.windows, windows, strict=True))
        fractions = np.array([[a.measurements["speech_fraction"], b.measurements["speech_fraction"]]
                              for a, b in pairs])
        differ = np.abs(fractions[:, 0] - fractions[:, 1])
        claims = [(a.has_claim, b.has_claim) for a, b in pairs]
        said_agree, n_both = top_label_agreement(file_track.windows, windows)
        stored_agree, _ = top_label_agreement(file_track.windows, track.windows)
        lines_vs_track, n_lines_track = top_label_agreement(track.windows, windows)
        claiming = [w for w in windows if w.has_claim]
        first_kind = sum(voice.stream.before_baseline(w) for w in claiming)  # '(...; no speaker baseline yet)'
        print(f"live, {name}: {voice.stream.speech_s:.3f} s of speech, variants {track.settings['live_variants_used']} "
              f"as each window ended, {track.settings['variants_used']} in the track; speech fraction differs by more "
              f"than {FRACTION_DIFFERS} in {int(np.sum(differ > FRACTION_DIFFERS))} of {len(pairs)} windows (at most "
              f"{differ.max():.2f}); judged in one mode only: {sum(a != b for a, b in claims)} windows; top label "
              f"agrees in {said_agree:.2f} as each window ended, {stored_agree:.2f} in the track, of {n_both} judged "
              f"in both; the lines' with the track's in {lines_vs_track:.2f} of {n_lines_track}; {first_kind} of the "
              f"{len(claiming)} lines that make a claim judged before the speaker's baseline")


if __name__ == "__main__":
    main()
