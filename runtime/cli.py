"""The ``emotrace`` command: every subcommand is parsed here and handed to library code.

Nothing here computes anything. Bad input raised as ``InputError`` becomes one line on stderr and exit 2;
imports are lazy so that a command starts fast on a small device.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from runtime.errors import InputError

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emotrace",
        description="Emotion spectrum over time from voice, face, body and physiology. Assists; never diagnoses.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_extract_audio(sub)
    _add_analyze(sub)
    modality = {
        "audio": sub.add_parser("audio", help="the audio arm on its own").add_subparsers(
            dest="action", required=True, metavar="ACTION"),
    }
    train = sub.add_parser("train", help="train a model (training host)").add_subparsers(
        dest="modality", required=True, metavar="MODALITY")
    export = sub.add_parser("export", help="export a trained model to models/ (training host)").add_subparsers(
        dest="modality", required=True, metavar="MODALITY")
    _add_audio_commands(modality["audio"], train, export)
    return parser


# --- media and analysis -------------------------------------------------------------------------------


def _add_extract_audio(sub) -> None:
    p = sub.add_parser("extract-audio", help="write a video's audio track as mono WAV")
    p.add_argument("video", type=Path)
    p.add_argument("-o", "--out", type=Path, help="output WAV (default: VIDEO with .wav)")
    p.add_argument("--sr", type=int, default=16000, help="sample rate in Hz (default 16000)")
    p.set_defaults(run=_run_extract_audio)


def _run_extract_audio(args) -> None:
    from runtime.media import extract_audio

    out = args.out or args.video.with_suffix(".wav")
    if args.out is None and out == args.video:
        out = args.video.with_suffix(".audio.wav")
    if out.resolve() == args.video.resolve():
        raise InputError(out, "output would overwrite the input")
    duration_s = extract_audio(args.video, out, sample_rate_hz=args.sr)
    print(f"{out}: {duration_s:.3f} s, {args.sr} Hz mono")


def _add_analyze(sub) -> None:
    p = sub.add_parser("analyze", help="analyse a recorded video or audio file into timeline.json/.csv")
    p.add_argument("input", type=Path)
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--config", type=Path, help="TOML settings file (see deploy/emotrace.toml)")
    p.add_argument("--audio-model", help="audio model id or folder (default: the shipped one)")
    p.add_argument("--window-s", type=float, help="audio window length in seconds")
    p.add_argument("--hop-s", type=float, help="audio hop in seconds")
    p.add_argument("--speaker-baseline", choices=["session", "none"],
                   help="judge the voice against the session's own baseline (default) or not")
    p.add_argument("--backend", help="execution backend: onnxruntime, openvino, tflite, tensorrt")
    p.add_argument("--realtime", action="store_true",
                   help="replay the file at real-time pace, as a live device would deliver it")
    p.set_defaults(run=_run_analyze)


def _run_analyze(args) -> None:
    from runtime.config import load_settings
    from runtime.pipeline import analyze_file

    overrides = {
        "audio.model": args.audio_model,
        "audio.window_s": args.window_s,
        "audio.hop_s": args.hop_s,
        "audio.speaker_baseline": args.speaker_baseline,
        "runtime.backend": args.backend,
        "runtime.realtime": args.realtime or None,
    }
    settings = load_settings(args.config, overrides)
    timeline = analyze_file(args.input, args.out, settings)
    print(f"{args.out / 'timeline.json'}: {len(timeline.tracks)} track(s) over {timeline.duration_s:.1f} s")


# --- audio ------------------------------------------------------------------------------------------


def _add_audio_commands(audio, train, export) -> None:
    p = audio.add_parser("classify", help="one emotion per audio file, with probabilities, to CSV")
    p.add_argument("paths", nargs="+", type=Path, help="files or folders (searched recursively)")
    p.add_argument("--csv", type=Path, required=True, help="output CSV")
    p.add_argument("--model", help="audio model id or folder (default: the shipped one)")
    p.add_argument("--speaker-baseline", choices=["none", "folder"], default="none",
                   help="'folder': the files of one folder are one speaker, judged against their own baseline")
    p.set_defaults(run=_run_audio_classify)

    p = train.add_parser("audio", help="train the voice-emotion model with speaker-independent folds")
    p.add_argument("data", type=Path, help="folder with manifest.csv, or a RAVDESS/CREMA-D/TESS/EmoDB/SAVEE tree")
    p.add_argument("--out", type=Path, required=True, help="output folder for the trained model and report")
    p.add_argument("--cv-folds", type=int, default=5, help="speaker-independent folds (default 5)")
    p.add_argument("--validation-speakers", help="comma-separated speakers held out for the final check")
    p.set_defaults(run=_run_train_audio)

    p = export.add_parser("audio", help="ONNX export + INT8 quantization + model card into models/")
    p.add_argument("trained", type=Path, help="folder written by 'emotrace train audio'")
    p.add_argument("--models-dir", type=Path, help="where the model folder goes (default: the repo's models/)")
    p.set_defaults(run=_run_export_audio)


def _run_audio_classify(args) -> None:
    from runtime.arms.audio.classify import classify_paths

    count = classify_paths(args.paths, args.csv, model=args.model, speaker_baseline=args.speaker_baseline)
    print(f"{args.csv}: {count} file(s) classified")


def _run_train_audio(args) -> None:
    from export.audio.train import train_audio

    speakers = args.validation_speakers.split(",") if args.validation_speakers else None
    report = train_audio(args.data, args.out, cv_folds=args.cv_folds, validation_speakers=speakers)
    print(report.summary())


def _run_export_audio(args) -> None:
    from export.audio.export import export_audio

    folder = export_audio(args.trained, models_dir=args.models_dir)
    print(f"{folder}: exported")


# --- entry point ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except InputError as error:
        print(f"emotrace: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("emotrace: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug, not bad input: one line unless debugging is asked for
        if os.environ.get("EMOTRACE_DEBUG"):
            raise
        print(f"emotrace: internal error: {type(error).__name__}: {error} (EMOTRACE_DEBUG=1 for details)",
              file=sys.stderr)
        return EXIT_FAILURE
    return 0


if __name__ == "__main__":
    sys.exit(main())
