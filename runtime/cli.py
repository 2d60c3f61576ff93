"""The ``emotrace`` command: every subcommand is parsed here and handed to library code.

Nothing here computes anything beyond an argument's default (an output's name), the settings the arguments
override and the line a command prints. Bad input raised as ``InputError`` becomes one line on stderr and exit 2;
a batch (``audio classify``, ``face classify``) goes on past a file it cannot read, with that line for each as it
is met, and exits 2 at the end, after a line counting the failed files where it held more than one (a single
file's own line says it all). Imports are lazy so that a command starts fast on a small device.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from runtime import __version__
from runtime.arms.audio import SPEAKER_BASELINES
from runtime.audio_rate import AUDIO_RATE_HZ, EXTRACT_RATES_HZ
from runtime.errors import InputError
from runtime.files import path_text
from runtime.stopping import stopping_on_signals

if TYPE_CHECKING:
    from export.fusion.pairs import PairedData
    from runtime.config import Settings

    Subparsers = argparse._SubParsersAction  # what add_subparsers returns: a command's parsers are added to it

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1
# What the training extra adds: a command needing one of them on a device install is told so, not an internal error.
# (scikit-learn and pandas come with the device install too, through librosa and neurokit2: not named here.)
TRAINING_HOST_MODULES = frozenset({"torch", "transformers", "onnx", "openpyxl", "skimage"})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emotrace",
        description="Emotion spectrum over time from voice, face, body and physiology. Assists; never diagnoses.",
    )
    parser.add_argument("--version", action="version", version=f"emotrace {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_extract_audio(sub)
    _add_analyze(sub)
    _add_live(sub)
    modality = {
        "audio": sub.add_parser("audio", help="the audio arm on its own").add_subparsers(
            dest="action", required=True, metavar="ACTION"),
        "physio": sub.add_parser("physio", help="the physiological arm on its own").add_subparsers(
            dest="action", required=True, metavar="ACTION"),
    }
    train = sub.add_parser("train", help="train a model (training host)").add_subparsers(
        dest="modality", required=True, metavar="MODALITY")
    export = sub.add_parser("export", help="export a trained model to models/ (training host)").add_subparsers(
        dest="modality", required=True, metavar="MODALITY")
    _add_audio_commands(modality["audio"], train, export)
    _add_physio_commands(modality["physio"], train, export)
    _add_face_body_commands(sub, train, export)
    _add_backbone_commands(sub, export)
    _add_fusion_commands(sub, train)
    return parser


MAX_SEED = 2**32 - 1  # the most numpy's legacy generator and scikit-learn's random_state take


def _whole_number(low: int, high: int, what: str) -> Callable[[str], int]:
    """An option's type: a whole number from ``low`` to ``high``, checked as the options are parsed; anything else
    is argparse's one line naming the option and ``what`` it takes."""
    def parsed(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            number = low - 1
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{text!r}: {what} is a whole number from {low} to {high}")
        return number

    return parsed


def _given_path(text: str) -> Path:
    """A path option's type: an empty value (a script's unset variable, ``--out "$OUT"``) is argparse's one line
    naming the option, not ``Path("")``, the current folder, written into or read from without a word; so is a URL
    (nothing here is fetched)."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path (an unset variable?)")
    if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*://", text):  # Path() would make 'http://x' 'http:/x', no such file
        raise argparse.ArgumentTypeError(f"{text}: a URL; give a file or folder on this device")
    return Path(text)


# Every library a run seeds takes it (was: an internal error after all the work, for -1 or 2**64).
_seed = _whole_number(0, MAX_SEED, "a seed")
MAX_REPEATS = 1000  # evaluate fusion's seeds: each a whole comparison, so more is hours of work, not a typo's luck
# Every export into the repo's models/ replaces a model there, which every command then reads, only when asked.
REPLACE_HELP = ("replace the model of that id in the repo's models/, which every command then reads (refused "
                "otherwise, where one is there), or, in any folder, one whose card cannot be read; never a model "
                "of another task")


def _check_seed_run(seed: int, repeats: int) -> None:
    """Every seed of ``seed``..``seed + repeats - 1`` is one ``_seed`` takes, checked before any work (was: the
    first seed past ``MAX_SEED`` an internal error, after the comparisons before it)."""
    last = seed + repeats - 1
    if last > MAX_SEED:
        raise InputError("--seed, --repeats", f"--seed {seed} with --repeats {repeats} runs seeds up to {last}; "
                                              f"a seed is a whole number from 0 to {MAX_SEED}")


# --- media and analysis -------------------------------------------------------------------------------


def _add_extract_audio(sub: Subparsers) -> None:
    p = sub.add_parser("extract-audio", help="write a video's audio track as mono WAV")
    p.add_argument("video", type=_given_path)
    p.add_argument("-o", "--out", type=_given_path, help="output WAV, replaced if it exists (default: VIDEO with .wav, "
                                                   "NAME.audio.wav for a .wav input, where no file of that name is)")
    p.add_argument("--sr", type=_whole_number(*EXTRACT_RATES_HZ, "a sample rate in Hz"), default=AUDIO_RATE_HZ,
                   help=f"sample rate in Hz, {EXTRACT_RATES_HZ[0]} to {EXTRACT_RATES_HZ[1]} (default {AUDIO_RATE_HZ})")
    p.add_argument("--audio-stream", type=int, default=1, metavar="N",
                   help="which of the file's audio streams, from 1 (default: the first)")
    p.set_defaults(run=_run_extract_audio)


def _run_extract_audio(args: argparse.Namespace) -> None:
    from runtime.media import extract_audio

    out = args.out or args.video.with_suffix(".wav")
    if args.out is None and args.video.suffix.lower() == ".wav":  # S.WAV too: one file on a FAT or exFAT card
        out = args.video.with_suffix(".audio.wav")
    if args.out is None and (out.exists() or out.is_symlink()):  # a file the user never named: maybe a session's
        raise InputError(out, "exists, and the default output replaces no file; name it with -o to replace it")
    duration_s = extract_audio(args.video, out, sample_rate_hz=args.sr, audio_stream=args.audio_stream)
    _say(f"{out}: {duration_s:.3f} s, {args.sr} Hz mono")


def _add_analyze(sub: Subparsers) -> None:
    p = sub.add_parser("analyze", help="analyse a recorded video or audio file into timeline.json/.csv")
    p.add_argument("input", type=_given_path)
    p.add_argument("--out", type=_given_path, required=True, help="output folder")
    p.add_argument("--config", type=_given_path, help="TOML settings file (see deploy/emotrace.toml)")
    p.add_argument("--audio-model", help="audio model id, or a folder path such as ./DIR (default: the shipped one)")
    p.add_argument("--window-s", type=float, help="audio window length in seconds")
    p.add_argument("--hop-s", type=float, help="audio hop in seconds")
    p.add_argument("--speaker-baseline", choices=["session", "none"],
                   help="judge the voice against the session's own baseline (default) or not")
    p.add_argument("--audio-stream", type=int, metavar="N",
                   help="which of the input's audio streams holds the voice, from 1 (default: the first)")
    p.add_argument("--backend", help="execution backend: onnxruntime, openvino, tflite, tensorrt")
    p.add_argument("--realtime", action="store_true",
                   help="replay the file at real-time pace, as a live device would deliver it")
    p.add_argument("--fusion", metavar="NAME",
                   help="fusion method, e.g. quality or stacking (docs/fusion.md lists them; an unknown name is "
                        "refused with the list); default from the config")
    p.add_argument("--weights", metavar="M=W,...",
                   help="fixed fusion weights, e.g. audio=0.3,face=0.7 (implies --fusion weighted)")
    p.add_argument("--physio", type=_given_path, metavar="PATH",
                   help="a wearable recording beside the input: E4 export folder/zip or CSV (docs/physio.md)")
    p.add_argument("--physio-offset", type=float, metavar="SECONDS",
                   help="where the physio recording starts on the input's clock (default: from wall clocks); "
                        "a negative one as --physio-offset=-1e3")
    p.add_argument("--physio-utc-offset", metavar="+HH:MM",
                   help="the UTC offset of the clock that wrote the --physio recording's local times, where they "
                        "carry none (a phone app's export), e.g. +01:00; a negative one as --physio-utc-offset=-05:00")
    p.set_defaults(run=_run_analyze)


def _run_analyze(args: argparse.Namespace) -> None:
    from runtime.fusion import parse_weights
    from runtime.pipeline import analyze_file
    from runtime.timeline import reading_lines

    given = {
        "audio.model": ("--audio-model", args.audio_model),
        "audio.window_s": ("--window-s", args.window_s),
        "audio.hop_s": ("--hop-s", args.hop_s),
        "audio.speaker_baseline": ("--speaker-baseline", args.speaker_baseline),
        "audio.stream": ("--audio-stream", args.audio_stream),
        "runtime.backend": ("--backend", args.backend),
        "runtime.realtime": ("--realtime", args.realtime or None),
        # --weights alone is the weighted method
        "fusion.method": ("--fusion", args.fusion) if args.fusion is not None else  # "" too: refused, as a typo is
                         ("--weights", "weighted" if args.weights is not None else None),
        "fusion.weights": ("--weights", args.weights),
    }
    if args.weights is not None:  # "" too (an unset shell variable): no weights, refused, not equal ones
        parse_weights(args.weights)
    if args.physio_offset is not None and args.physio is None:
        raise InputError("--physio-offset", "is where a --physio recording starts; no --physio was given")
    if args.physio_utc_offset is not None and args.physio is None:
        raise InputError("--physio-utc-offset", "is the clock of a --physio recording; no --physio was given")
    utc_offset_s = _utc_offset_s(args.physio_utc_offset, "--physio-utc-offset")
    settings = _settings(args.config, given)
    extras = {"physio_path": args.physio, "physio_offset_s": args.physio_offset,
              "physio_utc_offset_s": utc_offset_s} if args.physio else None
    timeline = analyze_file(args.input, args.out, settings, extras=extras)
    _say(*reading_lines(timeline),
         f"{args.out / 'timeline.json'}: {len(timeline.tracks)} track(s) over {timeline.duration_s:.1f} s")


def _settings(config: Path | None, given: dict[str, tuple[str, object]]) -> Settings:
    """The settings of the ``config`` file under the options given: ``given`` maps a setting to the option that
    sets it and the option's value (None: not given), so a refusal names the option the user typed."""
    from runtime.config import load_settings

    return load_settings(config, {dotted: value for dotted, (_, value) in given.items()},
                         {dotted: option for dotted, (option, _) in given.items()})


def _add_live(sub: Subparsers) -> None:
    p = sub.add_parser("live", help="a live session from microphone and camera; Ctrl-C ends it and writes the timeline")
    p.add_argument("--out", type=_given_path, required=True, help="output folder")
    # the device options default to None, so that one given with --replay or --no-mic can be refused, not ignored
    p.add_argument("--mic", help="capture device, as `arecord -L` names it (default: 'default')")
    p.add_argument("--no-mic", action="store_true",
                   help="no microphone: the camera's face and body, the sensors, or both")
    p.add_argument("--input-format", help="FFmpeg input format of the microphone (default alsa; "
                   "PyAV's wheels carry alsa, not pulse)")
    p.add_argument("--camera", help="camera device, e.g. /dev/video0 (default: none, voice only)")
    p.add_argument("--camera-format", help="FFmpeg input format of the camera (default v4l2)")
    p.add_argument("--replay", type=_given_path,
                   help="a recorded file standing in for microphone and camera, replayed at real-time pace (not "
                        "with --mic, --input-format, --camera or --camera-format)")
    p.add_argument("--serial", help="a sensor board's serial port (docs/serial-protocol.md), e.g. /dev/ttyACM0")
    p.add_argument("--ble", help="a BLE heart-rate sensor: its advertised name or its address")
    p.add_argument("--ble-thermometer", metavar="NAME|ADDRESS",
                   help="a BLE Health Thermometer (0x1809) for skin temperature: its name or its address")
    p.add_argument("--duration-s", type=float, help="stop after this many seconds")
    p.add_argument("--config", type=_given_path, help="TOML settings file")
    p.set_defaults(run=_run_live)


def _run_live(args: argparse.Namespace) -> None:
    from runtime.config import load_settings
    from runtime.live import LiveInputs, run_live
    from runtime.timeline import reading_lines

    inputs = LiveInputs(**_device_inputs(args), replay=args.replay, serial=args.serial, ble=args.ble,
                        ble_thermometer=args.ble_thermometer)
    timeline = run_live(args.out, load_settings(args.config), inputs, args.duration_s)
    _say(*reading_lines(timeline), f"{args.out / 'timeline.json'}: {timeline.duration_s:.1f} s")


def _device_inputs(args: argparse.Namespace) -> dict[str, str | None]:
    """The ``LiveInputs`` fields ``live``'s device options set (one not given keeps the inputs' default). One that
    would not be used (the replayed file stands in for both devices; --no-mic opens no microphone; a camera's format
    without a camera) is refused, naming both options: said, not silently ignored."""
    devices = {"--mic": ("microphone", args.mic), "--input-format": ("microphone_format", args.input_format),
               "--camera": ("camera", args.camera), "--camera-format": ("camera_format", args.camera_format)}
    for option in (option for option, (_, value) in devices.items() if value is not None):
        if args.replay is not None:
            raise InputError(option, "is not used with --replay: the replayed file stands in for the microphone "
                                     "and the camera")
        if args.no_mic and option in ("--mic", "--input-format"):
            raise InputError(option, "is not used with --no-mic: no microphone is opened")
    if args.camera_format is not None and args.camera is None:
        raise InputError("--camera-format", "is the format of a --camera; no --camera was given")
    given = {field: value for field, value in devices.values() if value is not None}
    return given | ({"microphone": None} if args.no_mic else {})


def _say(*lines: str) -> None:
    """What a command tells on stdout once its work (or a part of it) is written. Where stdout is gone (a terminal
    closed by a hangup, a pipe whose reader left: ``| head``) the lines are lost and the command goes on: its exit
    status tells of the work written, not of lines no one could read."""
    try:
        print(path_text("\n".join(lines)), flush=True)  # a name that is not UTF-8 as the CSVs write it
    except OSError:  # EPIPE, or EIO from a terminal hung up
        with contextlib.suppress(OSError):  # else the flush at exit fails on what stdout still holds: exit 120
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, sys.stdout.fileno())
            os.close(null)


# --- audio ------------------------------------------------------------------------------------------


def _add_audio_commands(audio: Subparsers, train: Subparsers, export: Subparsers) -> None:
    p = audio.add_parser("classify", help="one emotion per audio file, with probabilities, to CSV")
    p.add_argument("paths", nargs="+", type=_given_path, help="files or folders (searched recursively)")
    p.add_argument("--csv", type=_given_path, required=True, help="output CSV")
    p.add_argument("--model", help="audio model id, or a folder path such as ./DIR (default: the shipped one)")
    p.add_argument("--speaker-baseline", choices=SPEAKER_BASELINES, default="none",
                   help="'folder': the files of one folder are one speaker, judged against their own baseline "
                        "(a folder with under the runtime's default 20 s of speech by the population variant, said)")
    p.add_argument("--config", type=_given_path, help="TOML settings file (see deploy/emotrace.toml): its audio.model "
                   "applies where --model is not given")
    p.set_defaults(run=_run_audio_classify)

    p = train.add_parser("audio", help="train the voice-emotion model with speaker-independent folds")
    p.add_argument("data", type=_given_path,
                   help="folder with manifest.csv, or a RAVDESS/CREMA-D/TESS/EmoDB/SAVEE tree")
    p.add_argument("--out", type=_given_path, required=True, help="output folder for the trained model and report")
    p.add_argument("--cv-folds", type=int, default=5, help="speaker-independent folds (default 5)")
    p.add_argument("--validation-speakers",
                   help="comma-separated speakers held out for the final check (an id holding a comma in double "
                        "quotes: '\"Doe, Jane\",P02'; default: the last fifth of the speakers in sorted order)")
    p.add_argument("--speed-perturb", metavar="F,F",
                   help="train also on the training speakers' clips played F times as fast (default 0.9,1.1; "
                        "'none' to train on the clips as they are; not used with --audio-backbone)")
    p.add_argument("--varied-baselines", type=int, default=0, metavar="N",
                   help="train the session variant also on each speaker's windows against N more baselines of their "
                        "own clips (few emotions, a neutral start): sessions less varied than the corpus's speakers "
                        "are read better (default 0, as the shipped model; 0 to 10)")
    p.add_argument("--labels-as-given", action="store_true",
                   help="train on the manifest's own labels: one whose whole words map onto no canonical emotion is a "
                        "class of its own, as written (Unicode NFC, case-folded, '_' a space, spaces one; 'joy' still "
                        "is happy, while a short form such as N, neu, hap or ps becomes a class of its own), each "
                        "needing clips of two speakers or more; fusion leaves such labels out of the fused track "
                        "(default: such a label is refused, so that a typo never becomes a class; not used with "
                        "--audio-backbone)")
    p.add_argument("--audio-backbone", metavar="NAME_OR_PATH",
                   help="a pretrained speech model (short name, cached hub id, or folder) instead of the "
                        "default features; see 'emotrace models list'")
    p.set_defaults(run=_run_train_audio)

    p = export.add_parser("audio", help="ONNX export + INT8 quantization + model card into models/")
    p.add_argument("trained", type=_given_path, help="folder written by 'emotrace train audio'")
    p.add_argument("--models-dir", type=_given_path, help="where the model folder goes (default: the repo's models/)")
    p.add_argument("--replace", action="store_true",
                   help="replace the repo's models/audio-emotion though its card names other data than the run's, "
                        "or data that cannot be compared with it (such an export is refused otherwise), or, in any "
                        "folder, a model whose card cannot be read")
    p.set_defaults(run=_run_export_audio)


def _run_audio_classify(args: argparse.Namespace) -> int:
    from runtime.arms.audio.classify import classify_configured

    settings = _settings(args.config, {"audio.model": ("--model", args.model)})
    count, failed = classify_configured(args.paths, args.csv, settings, speaker_baseline=args.speaker_baseline,
                                        on_failed=_said_input_error)
    if count:
        _say(f"{args.csv}: {count} file(s) classified")
    return _said_failed_count(failed, count + len(failed), args.csv)


def _run_train_audio(args: argparse.Namespace) -> None:
    from export.audio.datasets import speaker_list

    speakers = speaker_list(args.validation_speakers) if args.validation_speakers else None
    if args.audio_backbone:
        from export.audio.backbones.train import train_backbone

        if args.speed_perturb is not None:  # said, not silently dropped: the encoder's windows are not perturbed
            raise InputError("--speed-perturb", "does not apply with --audio-backbone")
        if args.varied_baselines:
            raise InputError("--varied-baselines", "does not apply with --audio-backbone")
        if args.labels_as_given:
            raise InputError("--labels-as-given", "does not apply with --audio-backbone")

        _say(train_backbone(args.data, args.out, args.audio_backbone, cv_folds=args.cv_folds,
                             validation_speakers=speakers).summary())
        return
    from export.audio.train import SPEED_FACTORS, train_audio

    factors = SPEED_FACTORS if args.speed_perturb is None else _speed_factors(args.speed_perturb)
    report = train_audio(args.data, args.out, cv_folds=args.cv_folds, validation_speakers=speakers,
                         speed_factors=factors, varied_baselines=args.varied_baselines,
                         labels_as_given=args.labels_as_given)
    _say(report.summary())


def _utc_offset_s(text: str | None, option: str) -> float | None:
    from runtime.arms.physio.readers.text import parse_utc_offset_s

    return None if text is None else parse_utc_offset_s(text, option)


def _speed_factors(text: str) -> tuple[float, ...]:
    if text.strip().lower() == "none":
        return ()
    return tuple(sorted(set(_number_list(text, "--speed-perturb", "0.9,1.1, or 'none'"))))


def _number_list(text: str, option: str, example: str, kind: type = float) -> tuple:
    """A comma-separated option value as numbers; anything else is one input error naming the option."""
    try:
        numbers = tuple(kind(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise InputError(text, f"{option} takes numbers such as {example}") from None
    if not numbers:  # "," or "" would otherwise stand for an empty list, read as a choice ("none")
        raise InputError(repr(text), f"{option} takes numbers such as {example}")
    return numbers


def _run_export_audio(args: argparse.Namespace) -> None:
    from export.audio.export import export_audio

    folder = export_audio(args.trained, models_dir=args.models_dir, replace=args.replace)
    _say(f"{folder}: exported")


# --- pretrained speech models (training host) ----------------------------------------------------------


def _add_backbone_commands(sub: Subparsers, export: Subparsers) -> None:
    models = sub.add_parser("models", help="pretrained speech models in the local store (never downloaded)"
                            ).add_subparsers(dest="action", required=True, metavar="ACTION")
    p = models.add_parser("list", help="known models, their licences, and which are in the store")
    p.set_defaults(run=_run_models_list)
    p = models.add_parser("add", help="copy a model folder (config.json + weights) into the local store")
    p.add_argument("name", help="short name from 'emotrace models list', or a hub id")
    p.add_argument("folder", type=_given_path, help="the model's files, fetched where that is allowed")
    p.set_defaults(run=_run_models_add)

    p = export.add_parser("audio-backbone", help="ONNX + INT8 + card of a --audio-backbone model, or its "
                                                 "distilled student")
    p.add_argument("trained", type=_given_path, help="folder written by 'emotrace train audio --audio-backbone'")
    p.add_argument("--out", type=_given_path, required=True, help="model folder to write (card.json, ONNX files)")
    p.add_argument("--id", default=None, help="model id in the card")
    p.add_argument("--replace", action="store_true",
                   help="with --out naming a folder in the repo's models/: replace the model there, which every "
                        "command reading it then uses; in any folder, one whose card cannot be read")
    p.add_argument("--distil", action="store_true",
                   help="export a small student trained on the model's outputs")
    p.add_argument("--unlabelled", type=_given_path, help="with --distil: a folder of extra unlabelled speech")
    # no defaults here: given without --distil they are refused, not silently ignored (DistillSettings has them)
    p.add_argument("--steps", type=int, help="with --distil: training steps (default 3000)")
    p.add_argument("--hard-label-weight", type=float,
                   help="with --distil: share of the loss from true labels (default 0.3; 1 = labels only)")
    p.set_defaults(run=_run_export_audio_backbone)


def _run_models_list(args: argparse.Namespace) -> None:
    from export.audio.backbones.store import format_listing, list_models

    _say(format_listing(list_models()))


def _run_models_add(args: argparse.Namespace) -> None:
    from export.audio.backbones.store import add_model, model_licence, stored_model

    earlier = stored_model(args.name)
    folder = add_model(args.name, args.folder)
    done = "replaced" if earlier else "stored"
    _say(f"{args.name}: {done} in {folder} (licence: {model_licence(args.name, folder)})")


def _run_export_audio_backbone(args: argparse.Namespace) -> None:
    student_options = {"--unlabelled": args.unlabelled, "--steps": args.steps,
                       "--hard-label-weight": args.hard_label_weight}
    for option, value in student_options.items():
        if value is not None and not args.distil:  # they only shape a student
            raise InputError(option, "applies only with --distil")
    from export.audio.backbones.onnx_export import export_trained, summary_line

    if args.distil:
        from export.audio.backbones.distill import DistillSettings, distill_trained

        given = {"steps": args.steps, "hard_label_weight": args.hard_label_weight}
        settings = DistillSettings(**{k: v for k, v in given.items() if v is not None})
        metrics = distill_trained(args.trained, args.out, unlabelled=args.unlabelled, settings=settings,
                                  model_id=args.id or "audio-emotion-student", replace=args.replace)
    else:
        metrics = export_trained(args.trained, args.out, model_id=args.id or "audio-emotion-backbone",
                                 replace=args.replace)
    _say(summary_line(args.out, metrics))


# --- fusion -----------------------------------------------------------------------------------------


def _add_fusion_data_args(p: argparse.ArgumentParser, out_help: str | None = None) -> None:
    """The data options of train and evaluate fusion; ``out_help``: --out is optional, and this is what it holds
    (train fusion installs its fusers into the models folder, so only --sessions' analyses go there)."""
    p.add_argument("--table", action="append", default=[], metavar="MODALITY=CSV",
                   help="a classify table (path,emotion,<label probs>) per modality; the first anchors the "
                        "sessions (e.g. --table audio=a.csv --table face=f.csv)")
    p.add_argument("--labels", type=_given_path, help="path,label,person CSV (default: from corpus names)")
    p.add_argument("--sessions", type=_given_path,
                   help="real paired data instead of tables: CSV session,start_s,end_s,label[,person] where "
                        "session is a timeline.json or a recording to analyse")
    p.add_argument("--test-fraction", type=float, default=0.5, help="share of people held out (default 0.5)")
    p.add_argument("--seed", type=_seed, default=0,
                   help="the random draws: which people are held out, how rows are paired, the windows "
                        "taken out (default 0)")
    p.add_argument("--out", type=_given_path, required=out_help is None, help=out_help or "output folder")


def _add_fusion_commands(sub: Subparsers, train: Subparsers) -> None:
    p = train.add_parser("fusion", help="train the learned fusers on paired data; ONNX + card into models/")
    _add_fusion_data_args(p, "with --sessions: the folder the recordings are analysed into, kept after (default: a "
                             "temporary folder, removed once they are read); nothing else is written there")
    p.add_argument("--method", choices=["stacking", "attention", "both"], default="both",
                   help="which learned fuser to train (default: both)")
    p.add_argument("--models-dir", type=_given_path, help="where fusion-<method>/ goes (default: the repo's models/)")
    p.add_argument("--replace", action="store_true", help=REPLACE_HELP)
    p.add_argument("--arm-model", action="append", default=[], metavar="MODALITY=ID",
                   help="the arm model each table came from; at run time other models mean a fallback")
    p.set_defaults(run=_run_train_fusion)

    evaluate = sub.add_parser("evaluate", help="evaluate on held-out people (training host)").add_subparsers(
        dest="modality", required=True, metavar="PART")
    p = evaluate.add_parser("fusion", help="every fusion method vs the single modalities on the same "
                                           "held-out windows, also with each modality missing")
    _add_fusion_data_args(p)
    p.add_argument("--methods", help="comma-separated (default: all but 'weighted' unless --weights)")
    p.add_argument("--weights", metavar="M=W,...", help="fixed weights for the 'weighted' method")
    p.add_argument("--missing", type=float, default=0.3, help="share of windows a modality is missing (0.3)")
    p.add_argument("--repeats", type=_whole_number(1, MAX_REPEATS, "a number of seeds"), default=1,
                   help=f"seeds seed..seed+N-1, N from 1 to {MAX_REPEATS}: mean and spread (default 1)")
    p.set_defaults(run=_run_evaluate_fusion)

    p = _add_evaluate_parser(evaluate, "audio", "a voice-emotion model scored on a labelled set of clips (UA, "
                             "macro-F1, ECE, per speaker, intervals over speakers)", "manifest CSV (path,speaker,"
                             "emotion), a folder with manifest.csv, or a RAVDESS/CREMA-D/TESS/EmoDB/SAVEE tree (read "
                             "as 'train audio' reads it)", "speakers")
    from export import EVALUATION_BASELINES  # a constant alone: it loads nothing

    p.add_argument("--speaker-baseline", choices=EVALUATION_BASELINES, default="none",
                   help="'speaker': each speaker's clips judged against their own baseline, as audio classify's "
                        "'folder' judges a folder (one with under the runtime's default 20 s of speech by the "
                        "population variant, named)")
    p.set_defaults(run=_run_evaluate_audio)

    p = _add_evaluate_parser(evaluate, "face", "an expression model scored on labelled face crops (UA, macro-F1, "
                             "ECE, intervals over images)", "a FER-2013-style split folder (<emotion>/<row>.png, read "
                             "as 'train face' reads a split) or a CSV path,emotion", "images")
    p.set_defaults(run=_run_evaluate_face)

    p = _add_evaluate_parser(evaluate, "physio", "a stress model scored on labelled wrist recordings (BA, macro-F1, "
                             "ECE, per subject, an interval over subjects)", "a Stress-Predict folder (raw/SXX.zip E4 "
                             "exports and labels/stress_labels*.csv), read as 'train physio' reads it",
                             "subjects")
    p.set_defaults(run=_run_evaluate_physio)


def _add_evaluate_parser(evaluate: Subparsers, part: str, what: str, data_help: str,
                         resampled: str) -> argparse.ArgumentParser:
    """``evaluate PART``'s parser with what evaluate audio, face and physio share: the labelled set, the output
    folder, the model, the bootstrap."""
    from export import BOOTSTRAP_RESAMPLES  # a constant alone: it loads nothing

    p = evaluate.add_parser(part, help=what)
    p.add_argument("data", type=_given_path, help=data_help)
    p.add_argument("--out", type=_given_path, required=True, help=f"output folder ({part}_evaluation.json and .md)")
    p.add_argument("--model", help=f"{part} model id, or a folder path such as ./DIR (default: the shipped one)")
    p.add_argument("--models-dir", type=_given_path,
                   help="where the model id is looked for (default: the repo's models/)")
    p.add_argument("--resamples", type=int, default=BOOTSTRAP_RESAMPLES,
                   help=f"bootstrap resamples of {resampled} (default {BOOTSTRAP_RESAMPLES})")
    p.add_argument("--seed", type=_seed, default=0, help="the bootstrap's seed (default 0)")
    return p


def _run_evaluate_audio(args: argparse.Namespace) -> None:
    from export.audio.evaluate import REPORT_NAME, evaluate_audio, summary

    report = evaluate_audio(args.data, args.out, model=args.model, models_dir=args.models_dir,
                            speaker_baseline=args.speaker_baseline, resamples=args.resamples, seed=args.seed)
    _say(summary(report))
    _say(f"{args.out / REPORT_NAME}.md, {args.out / REPORT_NAME}.json: written")


def _run_evaluate_face(args: argparse.Namespace) -> None:
    from export.face.evaluate import REPORT_NAME, evaluate_face, summary

    report = evaluate_face(args.data, args.out, model=args.model, models_dir=args.models_dir,
                           resamples=args.resamples, seed=args.seed)
    _say(summary(report))
    _say(f"{args.out / REPORT_NAME}.md, {args.out / REPORT_NAME}.json: written")


def _run_evaluate_physio(args: argparse.Namespace) -> None:
    from export.physio.evaluate import REPORT_NAME, evaluate_physio, summary

    report = evaluate_physio(args.data, args.out, model=args.model, models_dir=args.models_dir,
                             resamples=args.resamples, seed=args.seed)
    _say(summary(report))
    _say(f"{args.out / REPORT_NAME}.md, {args.out / REPORT_NAME}.json: written")


def _fusion_data(args: argparse.Namespace, seed: int) -> PairedData:
    """The paired data the fusion data options name, split and paired with ``seed``."""
    from export.fusion.cli import paired_data

    return paired_data(args.table, args.labels, args.sessions, args.test_fraction, seed, args.out)


def _run_train_fusion(args: argparse.Namespace) -> None:
    from export.fusion.cli import check_trainable_tables, parse_tables, train_fusion

    arm_models = {m: str(i) for m, i in parse_tables(args.arm_model, "--arm-model", "ID")}
    check_trainable_tables(args.table, arm_models)
    for folder in train_fusion(lambda: _fusion_data(args, args.seed), args.method, args.models_dir, arm_models,
                               replace=args.replace):
        _say(f"{folder}: exported")


def _run_evaluate_fusion(args: argparse.Namespace) -> None:
    from export.fusion.cli import evaluate_fusion

    _check_seed_run(args.seed, args.repeats)
    json_path, md_path, summary = evaluate_fusion(lambda seed: _fusion_data(args, seed), args.methods, args.weights,
                                                  args.missing, args.seed, args.out, repeats=args.repeats)
    _say(summary)
    _say(f"{md_path}, {json_path}: written")


# --- physio -----------------------------------------------------------------------------------------


def _add_physio_commands(physio: Subparsers, train: Subparsers, export: Subparsers) -> None:
    p = physio.add_parser("classify", help="stress probability per window of a wearable recording, to CSV")
    p.add_argument("path", type=_given_path, help="E4 export folder or zip, or a CSV (docs/physio.md)")
    p.add_argument("--csv", type=_given_path, required=True, help="output CSV")
    p.add_argument("--model", help="model id, or a folder path such as ./DIR (default: the config's, else the shipped "
                   "one)")
    p.add_argument("--window-s", type=float, help="window length in seconds (default: the config's, else the model's "
                   "own, 30 s)")
    p.add_argument("--hop-s", type=float, help="hop in seconds (default: the config's, else the model's own, 5 s)")
    p.add_argument("--start-unix", type=float,
                   help="CSV without a time column: its UNIX start time (seconds since 1970; 2000 to 2100)")
    p.add_argument("--rate-hz", type=float, help="CSV without a time column: its sample rate")
    p.add_argument("--utc-offset", metavar="+HH:MM",
                   help="CSV whose local times carry no UTC offset (a phone app's export): its clock's, e.g. +01:00; "
                        "a negative one as --utc-offset=-05:00")
    p.add_argument("--config", type=_given_path, help="TOML settings file (see deploy/emotrace.toml): its "
                   "physio.model, window_s and hop_s apply where the options above are not given")
    p.set_defaults(run=_run_physio_classify)

    p = train.add_parser("physio", help="train the stress model on Stress-Predict, subject-independent")
    p.add_argument("data", type=_given_path, help="the Stress-Predict folder (raw/SXX.zip, labels/)")
    p.add_argument("--out", type=_given_path, required=True, help="output folder for report.json")
    p.add_argument("--cache", type=_given_path, help="folder to cache per-subject window features")
    p.add_argument("--live", action="store_true",
                   help="train the model a live session judges with: each window against the windows before it")
    p.set_defaults(run=_run_train_physio)

    p = export.add_parser("physio", help="ONNX export + model card into models/physio-stress (physio-stress-live "
                                         "for a run of 'train physio --live')")
    p.add_argument("trained", type=_given_path, help="folder written by 'emotrace train physio'")
    p.add_argument("--models-dir", type=_given_path, help="where the model folder goes (default: the repo's models/)")
    p.add_argument("--replace", action="store_true", help=REPLACE_HELP)
    p.set_defaults(run=_run_export_physio)


def _run_physio_classify(args: argparse.Namespace) -> None:
    from runtime.arms.physio.arm import classify_to_csv

    settings = _settings(args.config, {"physio.model": ("--model", args.model),
                                       "physio.window_s": ("--window-s", args.window_s),
                                       "physio.hop_s": ("--hop-s", args.hop_s)})
    # windows neither the config nor an option sets are the model's own (its card's), not the settings' defaults
    window_s, hop_s = settings.given("physio.window_s"), settings.given("physio.hop_s")
    count = classify_to_csv(args.path, args.csv, settings["physio"]["model"], window_s, hop_s, args.start_unix,
                            args.rate_hz, _utc_offset_s(args.utc_offset, "--utc-offset"))
    _say(f"{args.csv}: {count} window(s)")


def _run_train_physio(args: argparse.Namespace) -> None:
    from export.physio.train import train_physio

    scope = "running" if args.live else "session"
    _say(train_physio(args.data, args.out, cache_dir=args.cache, scope=scope).summary())


def _run_export_physio(args: argparse.Namespace) -> None:
    from export.physio.export import export_physio

    _say(f"{export_physio(args.trained, models_dir=args.models_dir, replace=args.replace)}: exported")


# --- face and body ----------------------------------------------------------------------------------


def _add_face_body_commands(sub: Subparsers, train: Subparsers, export: Subparsers) -> None:
    face = sub.add_parser("face", help="the face arm on its own").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    p = face.add_parser("classify", help="one expression per image, with probabilities, to CSV")
    p.add_argument("paths", nargs="+", type=_given_path, help="images or folders (searched recursively)")
    p.add_argument("--csv", type=_given_path, required=True, help="output CSV")
    p.add_argument("--model", help="expression model id, or a folder path such as ./DIR (default: the shipped one)")
    p.add_argument("--cropped", action="store_true", help="images are aligned face crops: no detection")
    p.add_argument("--config", type=_given_path, help="TOML settings file (see deploy/emotrace.toml): its face.model "
                   "(where --model is not given), face.detector, face.landmarks, face.min_face_px, face.max_side_px "
                   "and face.search_every_s apply")
    p.set_defaults(run=_run_face_classify)

    p = train.add_parser("face", help="train the expression model on FER-2013 (Training fits, PublicTest selects)")
    p.add_argument("data", type=_given_path, help="FER-2013 folder (Training/, PublicTest/, labels.csv)")
    p.add_argument("--out", type=_given_path, required=True, help="output folder for model.pt and report.json")
    p.add_argument("--epochs", type=int, help="training epochs (default: the shipped model's, in TrainConfig)")
    from export import MAX_TRAIN_THREADS  # a constant alone: it loads nothing

    p.add_argument("--threads", type=_whole_number(1, MAX_TRAIN_THREADS, "a number of threads"), default=2,
                   help=f"torch threads, 1 to {MAX_TRAIN_THREADS} (default 2)")
    p.add_argument("--seed", type=_seed, default=0, help="another seed gives another run to average at export")
    p.add_argument("--ferplus-weight", type=float,
                   help="share of each target from the FER+ annotators' votes (default: TrainConfig's)")
    p.add_argument("--widths", metavar="N[,N...]",
                   help="channels of each stage, one to six stages (default: the shipped model's, 64,128,256,512)")
    p.add_argument("--precision", choices=("auto", "bf16", "fp32"),
                   help="bf16: bfloat16 autocast, about 3x faster than fp32 on CPUs with AVX-512 BF16 or AMX and "
                        "far slower elsewhere; auto (default) picks bf16 only where the CPU has it")
    p.set_defaults(run=_run_train_face)

    p = export.add_parser("face", help="ONNX + INT8 + accuracy check + model card into models/face-expression-cnn;"
                                       " or --ensemble: the default models/face-expression from member models")
    p.add_argument("trained", type=_given_path, nargs="*", help="folder(s) written by 'emotrace train face'; several "
                   "runs (seeds) are averaged inside the one exported graph")
    p.add_argument("--ensemble", metavar="ID,ID", help="compose models/face-expression as the mean of these "
                   "model ids, measured beside each of them (e.g. face-expression-cnn,face-expression-fer)")
    p.add_argument("--data", type=_given_path, required=True, help="FER-2013 folder, for calibration and the check")
    p.add_argument("--models-dir", type=_given_path, help="where the model folder goes (default: the repo's models/)")
    p.add_argument("--replace", action="store_true", help=REPLACE_HELP)
    p.add_argument("--id", default="face-expression-cnn", help="model id and folder name (default: "
                   "face-expression-cnn)")
    p.add_argument("--zooms", metavar="Z,Z", help="test-time zooms averaged in the graph, each with its mirror "
                   "image (default: 1.0,1.08; 1.0 alone = the crop and its mirror)")
    p.add_argument("--from-float", type=_given_path, metavar="FLOAT.onnx", help="quantize this float graph (left "
                   "beside its first run by an earlier export) again into models/<id>, keeping that card's training "
                   "record")
    p.set_defaults(run=_run_export_face)

    p = train.add_parser("body", help="a body-language classifier from labelled segments (manifest CSV)")
    p.add_argument("manifest", type=_given_path, help="CSV with video,start_s,end_s,label")
    p.add_argument("--out", type=_given_path, required=True, help="model folder to write (card.json + ONNX)")
    p.set_defaults(run=_run_train_body)


def _run_face_classify(args: argparse.Namespace) -> int:
    from runtime.arms.face.classify import classify_configured

    settings = _settings(args.config, {"face.model": ("--model", args.model)})
    images, classified, failed = classify_configured(args.paths, args.csv, settings, cropped=args.cropped,
                                                     on_failed=_said_input_error)
    if images:
        _say(f"{args.csv}: {images} image(s), {classified} classified")
    return _said_failed_count(failed, images + len(failed), args.csv)


def _run_train_face(args: argparse.Namespace) -> None:
    from export.face.train import TrainConfig, summary_line, train_face

    config = TrainConfig(threads=args.threads, seed=args.seed)
    if args.epochs is not None:
        config.epochs = args.epochs
    if args.ferplus_weight is not None:
        config.ferplus_weight = args.ferplus_weight
    if args.widths is not None:
        config.widths = _number_list(args.widths, "--widths", "64,128,256,512", int)
    if args.precision is not None:
        config.precision = args.precision
    _say(summary_line(train_face(args.data, args.out, config), args.out))


def _run_export_face(args: argparse.Namespace) -> None:
    from export.face.export import compose_ensemble, export_face, installed_summary_line, requantize_face

    if args.ensemble:
        members = [m.strip() for m in args.ensemble.split(",") if m.strip()]
        if not members:
            raise InputError(f"--ensemble {args.ensemble}", "names no model id")
        if args.trained or args.from_float or args.zooms:  # said, not silently ignored
            raise InputError("export face", "--ensemble takes no trained folders, --from-float or --zooms")
        _say(installed_summary_line(compose_ensemble(members, args.data, models_dir=args.models_dir,
                                                         replace=args.replace), "composed"))
        return
    if args.from_float:
        if args.trained or args.zooms:  # the float graph's views are fixed; --zooms would be silently ignored
            raise InputError("export face", "--from-float takes no trained folders and no --zooms")
        folder = requantize_face(args.from_float, args.data, models_dir=args.models_dir, model_id=args.id,
                                 replace=args.replace)
        _say(installed_summary_line(folder, "requantized"))
        return
    if not args.trained:
        raise InputError("export face", "give a trained folder, --from-float FLOAT.onnx or --ensemble ID,ID")
    from export.face.train import TEST_ZOOMS

    zooms = TEST_ZOOMS if args.zooms is None else _number_list(args.zooms, "--zooms", "1.0,1.08")
    folder = export_face(args.trained, args.data, models_dir=args.models_dir, model_id=args.id, zooms=zooms,
                         replace=args.replace)
    _say(f"{folder}: exported")


def _run_train_body(args: argparse.Namespace) -> None:
    from export.body.train import train_body

    folder = train_body(args.manifest, args.out)
    _say(f"{folder}: trained")


# --- entry point ------------------------------------------------------------------------------------


def _said_input_error(error: InputError) -> None:
    """The one line of bad input: a command's refusal, or one file a batch could not read as it is met."""
    _complain(f"emotrace: error: {error}")


def _said_failed_count(failed: list[InputError], files: int, csv_path: Path) -> int:
    """How many of a batch's files could not be read, of how many, when there were several (the others' rows are in
    ``csv_path``; each failed file has had its own line): the command's exit code, non-zero when any failed."""
    if failed and files > 1:  # a single file's own line says it all, as for any other command
        kept = files - len(failed)
        written = f"{csv_path} holds the other {kept}" if kept else f"{csv_path} not written"
        _complain(f"emotrace: error: {len(failed)} of {files} files failed; {written}")
    return EXIT_BAD_INPUT if failed else 0


def main(argv: list[str] | None = None) -> int:
    """The command ``argv`` gives (None: the process's own command line, the process exiting after it: a stop
    after the command exits at once with its status, ``stopping_on_signals``' ``then_exit``); its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    outcome = None
    try:
        with stopping_on_signals(then_exit=argv is None) as outcome, _warnings_on_stderr():
            outcome.status = _run(args)
    except KeyboardInterrupt:  # a stop landing as the command ended, outside _run's own handling
        status = _interrupted()
        if outcome is not None:  # a stop after this exits with it, not with the status the command had returned
            outcome.status = status
        return status
    return outcome.status


def _interrupted() -> int:
    _complain("emotrace: interrupted")
    return 130


def _run(args: argparse.Namespace) -> int:
    """The parsed command run; its exit status, each failure said in one line."""
    try:
        code = args.run(args)  # None, or the exit code of a batch that went on past its bad files
    except InputError as error:
        _said_input_error(error)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return _interrupted()
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] not in TRAINING_HOST_MODULES:
            return _internal_error(error)
        command = " ".join(filter(None, (args.command, getattr(args, "modality", ""), getattr(args, "action", ""))))
        _complain(f"emotrace: error: {command}: needs the training host's {error.name}, which this install lacks "
                  "(pip install -e '.[train]')")
        return EXIT_BAD_INPUT
    except Exception as error:  # a bug, not bad input: one line unless debugging is asked for
        return _internal_error(error)
    return code or 0


class _EscapedBytes(logging.Formatter):
    """A warning line as the command's other lines are printed: a file name's bytes that are not UTF-8 as ``\\xNN``
    (``path_text``), not as the lone surrogates Python holds them in."""

    def format(self, record: logging.LogRecord) -> str:
        return path_text(super().format(record))


@contextlib.contextmanager
def _warnings_on_stderr() -> Iterator[None]:
    """Within this, warnings are said on stderr as logging's fallback says them (the message alone), with a file
    name's bytes escaped as every other printed line has them; the handler goes after (main called again adds its
    own). Where logging has handlers already (a program that set them up, a test's capture), they alone say the
    lines, as they did: no line twice."""
    root = logging.getLogger()
    if root.hasHandlers():
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(_EscapedBytes())
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


def _complain(line: str) -> None:
    """An error line on stderr; where stderr is gone too the exit status alone tells (not a traceback no one sees
    in place of it)."""
    with contextlib.suppress(OSError):
        print(path_text(line), file=sys.stderr, flush=True)


def _internal_error(error: Exception) -> int:
    """A bug, not bad input: one line unless debugging is asked for."""
    if os.environ.get("EMOTRACE_DEBUG"):
        raise error
    _complain(f"emotrace: internal error: {type(error).__name__}: {error} (EMOTRACE_DEBUG=1 for details)")
    return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
