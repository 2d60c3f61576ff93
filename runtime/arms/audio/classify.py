"""``emotrace audio classify``: one emotion per audio file, with probabilities, to CSV.

Each file is judged over its speech windows (the mean of their probabilities). With ``speaker_baseline="folder"``
the files of one folder are taken as one speaker and their windows are z-scored against that speaker's own
baseline before the "session" variant judges them; folders all named after emotions (a folder per label) are
refused for it, as each would be z-scored against its own label. A speaker (a folder) with less speech than the
runtime's default for a session baseline (``MIN_BASELINE_SPEECH_S``, 20 s) is judged by the population variant, as
the runtime judges a session that short: z-scored over a few seconds, the emotion itself is taken away. A caller
that knows each file's speaker (a labelled corpus, ``emotrace evaluate audio``) names them, and they are grouped
instead of the folders.
"""

from __future__ import annotations

import csv
import io
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from runtime.arms.audio import SPEAKER_BASELINES
from runtime.arms.audio.arm import baseline_variant, narrowband_note, read_samples, without_dc
from runtime.arms.audio.band import speech_high_band_db
from runtime.arms.audio.features import (
    clip_probabilities,
    frame_descriptors,
    window_features,
    zscore_by_group,
)
from runtime.arms.audio.level import (
    FOLDER_BASELINE_HINT,
    clipped_speech_percent,
    clipping_note,
    frame_clipped_counts,
    gain_note,
    speech_level_dbfs,
    trained_range_dbfs,
)
from runtime.arms.audio.model import DEFAULT_AUDIO_MODEL, AudioEmotionModel, WaveformEmotionModel, load_audio_model
from runtime.arms.audio.vad import VAD_FRAME_S, detect_speech, no_speech_reason, peak_dbfs, quiet_note
from runtime.arms.audio.windows import judged_windows
from runtime.audio_rate import AUDIO_RATE_HZ
from runtime.checks import model_cards
from runtime.config import DEFAULTS, Settings
from runtime.errors import InputError
from runtime.files import batch_failures, check_output_file, find_files, path_text, write_atomically
from runtime.media import other_audio_streams_note, probe
from runtime.track import canonical_label

log = logging.getLogger(__name__)
AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".webm", ".mp4", ".mkv", ".mov"}
# the runtime's default: with less speech than this a speaker has no baseline of their own (the population variant)
MIN_BASELINE_SPEECH_S = float(DEFAULTS["audio"]["min_baseline_speech_s"])
CSV_LEADING_COLUMNS = ("path", "emotion")  # then one column per label of the model


class NoSpeech(InputError):
    """A file that was read but holds no speech window: a clip to judge as no claim, not an unreadable file."""


@dataclass
class FileFeatures:
    path: Path
    speaker: str
    features: np.ndarray  # (n_windows, n_features)
    speech_s: float  # speech the VAD found in the file
    speech_level_dbfs: float | None  # its speech's level (``level.speech_level_dbfs``)
    clipped: bool = False  # its speech is clipped (``level.clipping_note``): no baseline advised for its level
    variant: str = "none"  # the model variant that judges it


@dataclass
class Classified:
    """What ``classify_files`` gives: each read file's clip probabilities (in order), the error of each file that
    gave none, the speakers judged without a baseline (too little speech), and a line for each speaker whose
    baseline is over only some of their files."""

    clips: list[tuple[Path, np.ndarray]]
    failed: list[InputError]
    without_baseline: list[str] = field(default_factory=list)
    baseline_lines: list[str] = field(default_factory=list)


def find_audio_files(paths: Iterable[Path]) -> list[Path]:
    """Files as given, and audio files under folders (recursively, sorted)."""
    return find_files(paths, AUDIO_SUFFIXES, "audio files")


def _file_speech(path: Path, card_extra: dict, sample_rate_hz: int = AUDIO_RATE_HZ):
    """The file's samples, its speech windows, its seconds of speech, its speech's level and whether it is
    clipped; ``NoSpeech`` where it has no window."""
    read = read_samples(path, sample_rate_hz)  # probed below; its clipping is counted as read
    samples = without_dc(read)  # as ``judged_samples`` gives them
    speech = detect_speech(samples)
    windows = judged_windows(speech, samples.size / sample_rate_hz, card_extra.get("window_s", 2.0),
                             card_extra.get("hop_s", 0.5), card_extra.get("min_speech_fraction", 0.3))
    level_note = quiet_note(peak_dbfs(samples))
    clipped_note = clipping_note(clipped_speech_percent(frame_clipped_counts(read), speech))
    media = probe(path)
    streams_note = other_audio_streams_note(media, 1)  # classify reads the first: the voice may be on another
    if not windows:
        raise NoSpeech(path, no_speech_reason(level_note, samples.size / sample_rate_hz)
                       + (f"; {streams_note}" if streams_note else ""))
    for note in (level_note, clipped_note, streams_note):
        if note:
            log.warning("%s: %s", path, note)
    # by the file's rate, else by its speech's sound (telephone-band speech in a wideband file)
    band_note = narrowband_note(media.audio_sample_rate_hz, speech_high_band_db(samples, sample_rate_hz, speech))
    if band_note:
        log.warning("%s: %s", path, band_note)
    return (samples, windows, float(speech.sum() * VAD_FRAME_S), speech_level_dbfs(samples, speech),
            clipped_note is not None)


def file_window_features(path: Path, card_extra: dict, sample_rate_hz: int = AUDIO_RATE_HZ) -> np.ndarray:
    """Features of every speech window of one file; an error if the file holds no speech."""
    return _file_features(path, card_extra, sample_rate_hz)[0]


def _file_features(path: Path, card_extra: dict,
                   sample_rate_hz: int = AUDIO_RATE_HZ) -> tuple[np.ndarray, float, float | None, bool]:
    samples, windows, speech_s, level_dbfs, clipped = _file_speech(path, card_extra, sample_rate_hz)
    descriptors = frame_descriptors(samples, sample_rate_hz)
    features = np.array([window_features(descriptors, w.start_s, w.end_s) for w in windows], dtype=np.float32)
    return features, speech_s, level_dbfs, clipped


def refuse_label_folders(files: list[Path]) -> None:
    """An ``InputError`` when every file's folder is named after an emotion: a folder baseline takes each folder as
    one speaker, and a folder per label z-scores each label against itself, which erases the emotion."""

    folders = sorted({path.parent for path in files})
    # the codes too ('neu', 'hap', 'ang', as IEMOCAP lays out): a refusal costs a line, a miss a chance-level result
    if folders and all(canonical_label(folder.name) for folder in folders):
        names = ", ".join(folder.name for folder in folders)
        raise InputError(folders[0].parent, f"--speaker-baseline folder takes each folder as one speaker, but the "
                         f"folders are named after emotions ({names}): put each speaker's files in a folder of "
                         "their own, or use --speaker-baseline none")


def classify_files(files: list[Path], model: AudioEmotionModel | WaveformEmotionModel, speaker_baseline: str,
                   speakers: list[str] | None = None, min_baseline_speech_s: float = MIN_BASELINE_SPEECH_S,
                   on_failed: Callable[[InputError], None] | None = None,
                   baseline_hint: str = FOLDER_BASELINE_HINT) -> Classified:
    """Clip probabilities of each file that could be read, in order, and the error of each that gave none (a
    ``NoSpeech`` where it was read but holds no speech): one bad file in a folder of clips costs that file alone.
    A bad ``speaker_baseline`` is refused before any file.

    ``speakers``: each file's speaker where the caller knows it (a labelled corpus's), grouped for the "folder"
    baseline instead of the files' folders. ``min_baseline_speech_s`` (the runtime's default unless given; 0: any):
    a speaker whose readable files hold less speech (or one window) is judged by the population variant, as the
    runtime judges a short session (``baseline_variant``): a baseline over a few seconds z-scores the emotion away.
    ``on_failed``: told each file's error as it is met (a long batch says its failures as they come).
    ``baseline_hint``: how the caller's user asks for a speaker baseline, named in a file's gain note."""
    if speaker_baseline not in SPEAKER_BASELINES:
        raise InputError(speaker_baseline, f"speaker baseline must be {' or '.join(map(repr, SPEAKER_BASELINES))}")
    failed, fail = batch_failures(on_failed)
    if isinstance(model, WaveformEmotionModel):  # reads samples; no speaker baseline applies
        return Classified(_waveform_clips(files, model, fail), failed)
    if speaker_baseline == "folder" and speakers is None:
        refuse_label_folders(files)
    speakers = [str(path.parent) for path in files] if speakers is None else speakers
    items = []
    lost: dict[str, Counter[str]] = defaultdict(Counter)  # speaker -> files without speech / unreadable
    for path, speaker in zip(files, speakers, strict=True):
        try:
            items.append(FileFeatures(path, speaker, *_file_features(path, model.card.extra)))
        except InputError as error:
            fail(error)
            lost[speaker]["held no speech" if isinstance(error, NoSpeech) else "could not be read"] += 1
    result = Classified([], failed)
    if speaker_baseline == "folder":
        _folder_baselines(items, lost, min_baseline_speech_s, result)
    trained_dbfs = trained_range_dbfs(model.card.extra)
    for item in items:  # the population variant reads the microphone's gain as emotion: a level far off is said
        note = (gain_note(item.speech_level_dbfs, trained_dbfs, min_baseline_speech_s,
                          None if speaker_baseline != "none" else baseline_hint, item.clipped)
                if item.variant == "none" else None)
        if note:
            log.warning("%s: %s", item.path, note)
    result.clips = [(item.path, clip_probabilities(model.predict(item.features, item.variant))) for item in items]
    return result


def _waveform_clips(files: list[Path], model: WaveformEmotionModel,
                    fail: Callable[[InputError], None]) -> list[tuple[Path, np.ndarray]]:
    """Clip probabilities of each file a waveform model reads over its speech windows; ``fail`` told the rest."""
    clips = []
    for path in files:
        try:
            samples, windows, *_ = _file_speech(path, {"window_s": model.window_samples / model.sample_rate_hz})
        except InputError as error:
            fail(error)
            continue
        rate = model.sample_rate_hz
        segments = [samples[int(round(w.start_s * rate)):int(round(w.end_s * rate))] for w in windows]
        clips.append((path, clip_probabilities(model.predict_segments(segments))))
    return clips


def _folder_baselines(items: list[FileFeatures], lost: dict[str, Counter[str]], min_baseline_speech_s: float,
                      result: Classified) -> None:
    """Z-score each speaker's windows against the speaker's files that could be read and judge them by the
    "session" variant; a speaker with too little speech keeps the population variant and is named in ``result``,
    as is a speaker whose baseline misses some of their files (``lost``)."""
    by_speaker: dict[str, list[FileFeatures]] = defaultdict(list)
    for item in items:
        by_speaker[item.speaker].append(item)
    for speaker, group in by_speaker.items():
        stacked = np.vstack([item.features for item in group])
        if baseline_variant(
                "session", sum(item.speech_s for item in group), len(stacked), min_baseline_speech_s)[0] == "none":
            result.without_baseline.append(speaker)
            continue
        if lost[speaker]:  # what the baseline is short of, the files' own lines aside
            why = ", ".join(f"{n} {what}" for what, n in sorted(lost[speaker].items()))
            result.baseline_lines.append(f"{speaker}: the speaker's baseline is from {len(group)} of its "
                                         f"{len(group) + sum(lost[speaker].values())} files ({why})")
        z = zscore_by_group(stacked, np.zeros(len(stacked), dtype=int))
        offsets = np.cumsum([0] + [len(item.features) for item in group])
        for item, a, b in zip(group, offsets[:-1], offsets[1:], strict=True):
            item.features, item.variant = z[a:b], "session"
    result.without_baseline.sort()


def classify_configured(paths: list[Path], csv_path: Path, settings: Settings, speaker_baseline: str = "none",
                        on_failed: Callable[[InputError], None] | None = None) -> tuple[int, list[InputError]]:
    """``classify_paths`` with the model ``settings`` name (``audio.model``), its card checked first: a model a
    config file names is refused naming its key, before any file is read."""
    model_cards("audio", settings, ["model"])
    return classify_paths(paths, csv_path, model=settings["audio"]["model"], speaker_baseline=speaker_baseline,
                          on_failed=on_failed)


def classify_paths(paths: list[Path], csv_path: Path, model: str | None = None, speaker_baseline: str = "none",
                   on_failed: Callable[[InputError], None] | None = None) -> tuple[int, list[InputError]]:
    """Classify files/folders and write ``path,emotion,<one probability per label>`` for each file read; returns
    their count and the error of each file that could not be read (no row), each also told to ``on_failed`` as it
    is met. Nothing is written when no file
    could be read; a bad setting or model is refused before any file is. With the "folder" baseline, a folder
    with under ``MIN_BASELINE_SPEECH_S`` of speech is judged by the population variant, said in one line."""
    files = find_audio_files(paths)
    emotion_model = load_audio_model(model or DEFAULT_AUDIO_MODEL)
    check_output_file(csv_path, files)
    classified = classify_files(files, emotion_model, speaker_baseline, on_failed=on_failed)
    clips, failed = classified.clips, classified.failed
    for line in classified.baseline_lines:
        log.warning("%s", line)
    if classified.without_baseline:
        log.warning("%s", without_baseline_line(classified.without_baseline, "folder"))
    if not clips:
        return 0, failed
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*CSV_LEADING_COLUMNS, *emotion_model.labels])
    for path, p in clips:
        writer.writerow([path_text(path), emotion_model.labels[int(np.argmax(p))], *(f"{v:.6f}" for v in p)])
    write_atomically(Path(csv_path), buffer.getvalue().encode())
    return len(clips), failed


def without_baseline_line(speakers: list[str], kind: str) -> str:
    """One line naming the speakers (``kind``: "speaker", "folder") judged without a baseline of their own."""
    return (f"{len(speakers)} {kind}(s) with under the runtime's default {MIN_BASELINE_SPEECH_S:g} s of speech "
            "judged without a baseline of their own (the population variant), as the runtime judges a session that "
            f"short: {', '.join(speakers)}")
