"""Emotional-speech corpora as one list of clips (path, speaker, emotion: canonical, or a manifest's own label).

A folder is read through its ``manifest.csv`` (columns path, speaker, emotion; paths relative to the manifest's folder)
when it has one, and a CSV file given itself is read as a manifest. Without one, each audio file's name is read with the
documented naming convention of RAVDESS, CREMA-D, TESS, EmoDB or SAVEE. Corpus labels are mapped onto the canonical
eight; a corpus file whose label has no canonical counterpart (EmoDB's boredom, say) is left out and reported. In a
manifest, missing or unreadable files (all named in one error, with their lines, as are rows without a speaker or with
an unmappable label), a header without those columns (what it has is said; an empty file, or a ``manifest.csv`` that is
a folder, is said to be that), a file named twice, the same recording under two names or one speaker id spelt two ways
(``P01``/``p01``/``P 01``/``P_01``, ``1``/``01``/``1.0``) is an ``InputError``: a manifest is a promise; a speaker id is
read in Unicode NFC, without zero-width characters or surrounding spaces (``speaker_id``). A row with every field blank
(a spreadsheet's empty line) is skipped. Without a manifest, labels come from the corpus names, and a file in a folder
named after another label is refused rather than overruled. A manifest's file name matches a file whose name differs
only in Unicode normal form (a Mac writes 'é' decomposed). Found by name, a second copy of a recording is left out and
reported.

A clinic's own label set: with ``own_labels`` (``LABELS_AS_GIVEN``: ``train audio --labels-as-given``; or a model's own
labels, as ``evaluate audio`` reads a set for one), a manifest label that maps onto no canonical label is kept as
written (``given_label``: NFC, case-folded, '_' a space, inner spaces one), while one whose whole words, so tidied,
map onto one ('joy', 'Joy_') still becomes it, so 'joy' and 'happy' stay one class; a short form ('N', 'ps') is
then a label of its own. Without it the default stands: such a label is refused, so that a typo ('hapy') never becomes
a class of its own.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Container
from dataclasses import dataclass, field
from pathlib import Path

from runtime.arms.audio.classify import CSV_LEADING_COLUMNS
from runtime.checks import column_taken
from runtime.errors import InputError
from runtime.files import existing_file, files_under, first_named, missing_input, read_csv_rows
from runtime.media import wav_frames
from runtime.models.card import file_sha256
from runtime.track import CANONICAL_LABELS, canonical_label, folder_label, given_label, label_order, outside_canonical

MANIFEST_NAME = "manifest.csv"
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac")

# Label words seen in corpora and manifests, mapped onto the canonical labels.


@dataclass(frozen=True)
class Clip:
    path: Path
    speaker: str
    emotion: str  # one of CANONICAL_LABELS, or a manifest's own label (``given_label``) where they are asked for
    corpus: str


@dataclass
class Corpus:
    clips: list[Clip]
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count of files left out
    manifest: Path | None = None  # the manifest the clips were read from (None: found by corpus names)
    # what a model of it is trained over: the eight canonical labels, or with a manifest's own labels, those the
    # clips hold (``label_order``): a clinic's scheme is not judged on canonical labels it never had
    labels: list[str] = field(default_factory=lambda: list(CANONICAL_LABELS))

    @property
    def speakers(self) -> list[str]:
        return sorted({clip.speaker for clip in self.clips})

    def counts(self) -> dict[str, int]:
        counted = Counter(clip.emotion for clip in self.clips)
        return {label: counted.get(label, 0) for label in self.labels}

    def speakers_by_label(self) -> dict[str, list[str]]:
        """The speakers with clips of each of its labels, sorted (a label of one speaker is never judged on a
        speaker it was learnt from in another)."""
        speakers: dict[str, set[str]] = {label: set() for label in self.labels}
        for clip in self.clips:
            speakers[clip.emotion].add(clip.speaker)
        return {label: sorted(names) for label, names in speakers.items()}


class Unmapped(ValueError):
    """A file that follows a corpus convention but whose label has no canonical counterpart."""


# --- corpus naming conventions: each returns (speaker, emotion) or None when the name does not fit ---------

_RAVDESS = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
_RAVDESS_EMOTIONS = dict(zip(("01", "02", "03", "04", "05", "06", "07", "08"), CANONICAL_LABELS, strict=True))


def parse_ravdess(path: Path) -> tuple[str, str] | None:
    """``MM-VV-EE-II-SS-RR-AA``: modality, vocal channel (01 speech, 02 song), emotion 01-08, ..., actor."""
    match = _RAVDESS.match(path.stem)
    if not match:
        return None
    modality, channel, emotion, _, _, _, actor = match.groups()
    if modality == "02":
        raise Unmapped("RAVDESS video-only file (no audio)")
    if channel != "01":
        raise Unmapped("RAVDESS song, not speech")
    if emotion not in _RAVDESS_EMOTIONS:
        raise Unmapped(f"RAVDESS emotion code {emotion}")
    return f"ravdess-{actor}", _RAVDESS_EMOTIONS[emotion]


_CREMA = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})$")
_CREMA_EMOTIONS = {"ANG": "angry", "DIS": "disgust", "FEA": "fearful", "HAP": "happy", "NEU": "neutral",
                   "SAD": "sad"}


def parse_crema_d(path: Path) -> tuple[str, str] | None:
    """``ActorID_Sentence_Emotion_Level``, e.g. ``1001_DFA_ANG_XX``."""
    match = _CREMA.match(path.stem)
    if not match:
        return None
    actor, _, emotion, _ = match.groups()
    if emotion not in _CREMA_EMOTIONS:
        raise Unmapped(f"CREMA-D emotion {emotion}")
    return f"crema-{actor}", _CREMA_EMOTIONS[emotion]


_TESS = re.compile(r"^(OAF|YAF)_([A-Za-z]+)_([A-Za-z]+)$", re.IGNORECASE)
_TESS_EMOTIONS = {"angry": "angry", "disgust": "disgust", "fear": "fearful", "happy": "happy",
                  "neutral": "neutral", "ps": "surprised", "sad": "sad"}


def parse_tess(path: Path) -> tuple[str, str] | None:
    """``OAF_word_emotion`` / ``YAF_word_emotion`` (older / younger speaker; ``ps`` = pleasant surprise)."""
    match = _TESS.match(path.stem)
    if not match:
        return None
    speaker, _, emotion = match.groups()
    emotion = emotion.lower()
    if emotion not in _TESS_EMOTIONS:
        raise Unmapped(f"TESS emotion {emotion}")
    return f"tess-{speaker.upper()}", _TESS_EMOTIONS[emotion]


_EMODB = re.compile(r"^(\d\d)([a-z]\d\d)([A-Z])([a-z])$")
# German initials: Wut/Ärger, Langeweile, Ekel, Angst, Freude, Trauer, Neutral.
_EMODB_EMOTIONS = {"W": "angry", "E": "disgust", "A": "fearful", "F": "happy", "T": "sad", "N": "neutral"}
_EMODB_UNMAPPED = {"L": "EmoDB boredom (Langeweile)"}


def parse_emodb(path: Path) -> tuple[str, str] | None:
    """``SSTTTEV``: speaker 03-16, text code, emotion initial, version letter (e.g. ``03a01Fa``)."""
    match = _EMODB.match(path.stem)
    if not match:
        return None
    speaker, _, emotion, _ = match.groups()
    if emotion in _EMODB_UNMAPPED:
        raise Unmapped(_EMODB_UNMAPPED[emotion])
    if emotion not in _EMODB_EMOTIONS:
        raise Unmapped(f"EmoDB emotion code {emotion}")
    return f"emodb-{speaker}", _EMODB_EMOTIONS[emotion]


_SAVEE_SPEAKERS = ("DC", "JE", "JK", "KL")
_SAVEE_FLAT = re.compile(r"^(DC|JE|JK|KL)_(sa|su|a|d|f|h|n)(\d\d)$")
_SAVEE_IN_FOLDER = re.compile(r"^(sa|su|a|d|f|h|n)(\d\d)$")
_SAVEE_EMOTIONS = {"a": "angry", "d": "disgust", "f": "fearful", "h": "happy", "n": "neutral", "sa": "sad",
                   "su": "surprised"}


def parse_savee(path: Path) -> tuple[str, str] | None:
    """``DC_a01`` (flat) or ``DC/a01`` (per-speaker folders): speaker, emotion code, sentence number."""
    match = _SAVEE_FLAT.match(path.stem)
    if match:
        speaker, emotion, _ = match.groups()
    else:
        match = _SAVEE_IN_FOLDER.match(path.stem)
        if not match or path.parent.name not in _SAVEE_SPEAKERS:
            return None
        speaker, emotion = path.parent.name, match.group(1)
    return f"savee-{speaker}", _SAVEE_EMOTIONS[emotion]


PARSERS: dict[str, Callable[[Path], tuple[str, str] | None]] = {
    "ravdess": parse_ravdess,
    "crema-d": parse_crema_d,
    "tess": parse_tess,
    "emodb": parse_emodb,
    "savee": parse_savee,
}


def parse_file_name(path: Path) -> tuple[str, str, str] | None:
    """(corpus, speaker, emotion) from a corpus file name; None if no convention fits; ``Unmapped`` if the
    name fits but its label has no canonical counterpart."""
    for corpus, parser in PARSERS.items():
        parsed = parser(path)
        if parsed is not None:
            return corpus, *parsed
    return None


# --- loading ------------------------------------------------------------------------------------------


def load_corpus(data: str | Path, own_labels: Container[str] = ()) -> Corpus:
    """All labelled clips under ``data``: its manifest.csv if present, else the corpora's file names; ``data`` may
    also be the manifest CSV itself. ``own_labels``: a manifest's labels outside the canonical ones that are kept
    (``LABELS_AS_GIVEN``: any); corpus file names give canonical labels alone."""
    data = Path(data)
    if not data.exists():
        raise missing_input(data, "folder or manifest")  # a manifest CSV is taken as well
    if data.is_file() and data.suffix.lower() == ".csv":
        return read_manifest(data, own_labels)
    if not data.is_dir():
        raise InputError(data, "not a folder or a manifest CSV (expected a corpus folder, one with manifest.csv, "
                         "or a .csv with columns path, speaker, emotion)")
    manifest = data / MANIFEST_NAME
    if manifest.exists() and not manifest.is_file():  # else read as a corpus without one, "no manifest.csv"
        raise InputError(manifest, f"is {'a folder' if manifest.is_dir() else 'no regular file'}, not a manifest: a "
                         f"CSV file with the columns {','.join(MANIFEST_COLUMNS)}")
    corpus = read_manifest(manifest, own_labels) if manifest.is_file() else scan_corpus_names(data)
    if not corpus.clips:
        if data.suffix.lower() == ".csv":  # named as a manifest is: one was meant
            raise InputError(data, f"is a folder, not a manifest CSV ({','.join(MANIFEST_COLUMNS)}), and holds no "
                             "labelled audio clips")
        raise InputError(data, "holds no labelled audio clips (no manifest.csv and no known corpus naming)")
    return corpus


MANIFEST_COLUMNS = ("path", "speaker", "emotion")
MANIFEST_PROMISE = (f"a manifest's first line is the header {','.join(MANIFEST_COLUMNS)} (comma-separated, paths "
                    "relative to its folder)")
def read_manifest(manifest: Path, own_labels: Container[str] = ()) -> Corpus:
    """Clips from a manifest (path, speaker, emotion); any missing file, row without a speaker, unmappable label (one
    neither canonical nor among ``own_labels``) or file named twice is an error. Paths are relative to the manifest's
    folder."""
    header, all_rows = read_csv_rows(manifest, header_hint=f"{MANIFEST_PROMISE}, then one row per clip")
    # a row of empty fields (",,") is a spreadsheet's blank line, as a blank line is to the csv module
    rows = [(line, row) for line, row in all_rows if any(str(v or "").strip() for v in row.values())]
    refuse_other_columns(manifest, header)
    if not rows:
        raise InputError(manifest, f"has the header {', '.join(MANIFEST_COLUMNS)} but no row: one row per clip")
    rows = [(line, {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}) for line, row in rows]
    for _, row in rows:  # one person's id however it was typed or copied (an id of format characters alone is none)
        row["speaker"] = speaker_id(row["speaker"])
    emotions = row_labels(manifest, rows, own_labels)
    paths = manifest_files(manifest, rows)
    clips = []
    named: list[tuple[int, str]] = []  # each clip's line and path as the manifest gives it
    first_line: dict[Path, int] = {}  # resolved file -> the line that named it first
    for (line, row), path, emotion in zip(rows, paths, emotions, strict=True):
        # the same recording twice would weigh double, and under two speakers sit on both sides of a fold
        earlier = first_line.setdefault(path.resolve(), line)
        if earlier != line:
            raise InputError(manifest, f"line {line}: file {row['path']!r} is already named on line {earlier}")
        clips.append(Clip(path=path, speaker=row["speaker"], emotion=emotion, corpus="manifest"))
        named.append((line, row["path"]))
    refuse_respelled_speakers(manifest, [clip.speaker for clip in clips], [line for line, _ in named])
    for later, earlier in earlier_copies([clip.path for clip in clips]).items():
        (line, name), (first, first_name) = named[later], named[earlier]
        raise InputError(manifest, f"line {line}: file {name!r} holds the same recording as {first_name!r} on line "
                         f"{first} (a copy would weigh double and could sit on both sides of a fold)")
    return Corpus(clips=clips, manifest=manifest,
                  labels=label_order(emotions) if own_labels and outside_canonical(emotions)
                  else list(CANONICAL_LABELS))


def refuse_other_columns(manifest: Path, header: list[str]) -> None:
    """An ``InputError`` naming the columns found and the ones expected, when the header lacks any of them; a
    header of one field holding semicolons (a spreadsheet's CSV in some locales) or tabs (a sheet saved as text) is
    said to be that."""
    found = [c.strip() for c in header if c and c.strip()]
    missing = [c for c in MANIFEST_COLUMNS if c not in {f.lower() for f in found}]
    if not missing:
        return
    if not found:  # blank lines only: read_csv_rows refuses a first line naming no column above anything else
        raise InputError(manifest, f"is empty: {MANIFEST_PROMISE}, then one row per clip")
    hint = ""
    separators = {";": "semicolons", "\t": "tabs"}
    if len(found) == 1 and (kind := next((separators[c] for c in separators if c in found[0]), None)):
        hint = f"; its fields are separated by {kind}: save it with commas (CSV, comma-separated)"
    elif "emotion" in missing and "label" in {f.lower() for f in found}:
        hint = "; name the label column 'emotion'"
    shown = ", ".join(repr(f) for f in found)
    raise InputError(manifest, f"has column(s) {shown} and lacks column(s) {', '.join(missing)}: {MANIFEST_PROMISE}"
                     f"{hint}")


class _AnyLabel:
    """Every label: a manifest's labels taken as written (``train audio --labels-as-given``)."""

    def __contains__(self, label: object) -> bool:
        return True

    def __bool__(self) -> bool:
        return True


LABELS_AS_GIVEN: Container[str] = _AnyLabel()


def row_labels(manifest: Path, rows: list[tuple[int, dict[str, str]]], own_labels: Container[str] = ()) -> list[str]:
    """Each row's label: canonical (where own labels are asked for, by whole words alone), or where ``own_labels``
    holds it (``given_label``), its own; every row without a
    speaker or with a label that is neither is named in one ``InputError`` (their count and the first
    ``MAX_NAMED_FILES``, with their lines), as missing files are."""
    labels = [given_label(row["emotion"]) if own_labels else canonical_label(row["emotion"]) or "" for _, row in rows]
    labels = [label if label in CANONICAL_LABELS or (label and label in own_labels) else "" for label in labels]
    bad = []
    kinds: set[str] = set()  # of the problems found, for the refusal's lead-in
    for (line, row), label in zip(rows, labels, strict=True):
        problems = [] if label else [
            "no label" if not row["emotion"] else f"label {row['emotion']!r} holds no word"
            if own_labels is LABELS_AS_GIVEN else f"label {row['emotion']!r} cannot be mapped"]
        # a second column of its name where the labels are written (audio classify's leading ones; timeline.csv's
        # fixed and measurement ones; a name with '_' never, as an own label reads it as a space): every runtime
        # command would refuse the model
        column = label not in CANONICAL_LABELS and (label in CSV_LEADING_COLUMNS or column_taken(label))
        if column:
            problems.append(f"label {row['emotion']!r} is the name of a column its labels are written beside "
                            "(timeline.csv's, audio classify's)")
        problems += [] if row["speaker"] else ["no speaker"]
        kinds |= {kind for kind, found in (("label", not label), ("column", column), ("speaker", not row["speaker"]))
                  if found}
        if problems:
            bad.append(f"line {line}: {', '.join(problems)}")
    if bad:
        raise (UnmappedLabels if "label" in kinds else InputError)(
            manifest, f"{len(bad)} of {len(rows)} row(s) {refusal_lead_in(kinds, own_labels)}: {first_named(bad)}")
    return labels


def refusal_lead_in(kinds: set[str], own_labels: Container[str]) -> str:
    """What the refused rows lack or hold, by the ``kinds`` of problem found among them ('speaker', 'label',
    'column'): a label named as a column is no label that cannot be mapped, and where any label is taken
    (``LABELS_AS_GIVEN``) a row refused for its label has none."""
    own = ", ".join(sorted(own_labels)) if isinstance(own_labels, Collection) else ""
    label = ("a label" if own_labels is LABELS_AS_GIVEN else
             f"a label that maps onto {', '.join(CANONICAL_LABELS)}{f' or is one of {own}' if own else ''}")
    lacks = [what for kind, what in (("speaker", "a speaker"), ("label", label)) if kind in kinds]
    said = [f"lack {' or '.join(lacks)}"] if lacks else []
    return " or ".join(said + (["have a label named as an output column"] if "column" in kinds else []))


class UnmappedLabels(InputError):
    """A manifest refused for labels it cannot map (among other rows' problems): what training answers with
    --labels-as-given."""


def manifest_files(manifest: Path, rows: list[tuple[int, dict[str, str]]]) -> list[Path]:
    """Each row's file, found as named or by Unicode normal form (a name a Mac wrote decomposed, 'Se\u0301ance',
    named composed in the manifest, or the other way round); every row whose file is missing or unreadable is
    named in one ``InputError`` (their count and the first ``MAX_NAMED_FILES``, with their lines)."""
    listings: dict[Path, dict[str, str]] = {}  # folder -> NFC name -> name on disk, listed once
    paths: list[Path] = []
    bad: list[str] = []
    for line, row in rows:
        name = row["path"]
        path = find_by_normal_form(manifest.parent / name, listings) if name else None
        if path is None and "\\" in name:  # written on Windows (audio\P01\a.wav), not a name's own
            path = find_by_normal_form(manifest.parent / name.replace("\\", "/"), listings)
        if path is None or not path.is_file():
            bad.append(f"line {line}: {name!r} does not exist" if name else f"line {line}: no path")
        elif not os.access(path, os.R_OK):
            bad.append(f"line {line}: {name!r} cannot be read (permissions)")
        else:
            paths.append(path)
    if bad:
        raise InputError(manifest, f"{len(bad)} of {len(rows)} file(s) missing or unreadable (paths are relative to "
                         f"the manifest's folder, {manifest.parent.resolve()}): {first_named(bad)}")
    return paths


def find_by_normal_form(path: Path, listings: dict[Path, dict[str, str]]) -> Path | None:
    """``path`` as it is on disk: itself where it exists, else each missing part matched to an entry of its folder
    whose name has the same NFC form (``listings`` caches each folder's entries); None where none matches."""
    if path.exists():
        return path
    found = Path(path.anchor) if path.is_absolute() else Path()
    for part in path.parts[len(found.parts):]:
        if not (found / part).exists():
            if found not in listings:
                try:
                    listings[found] = {unicodedata.normalize("NFC", p.name): p.name for p in found.iterdir()}
                except OSError:  # not a folder, or one that cannot be listed
                    listings[found] = {}
            part = listings[found].get(unicodedata.normalize("NFC", part))
            if part is None:
                return None
        found = found / part
    return found


def data_checksum(data: Path, corpus: Corpus) -> dict[str, str]:
    """Which data a run read, as a sha256 of sorted lines, one per clip kept: ``PATH<TAB>SIZE`` for a corpus tree,
    ``PATH<TAB>SPEAKER<TAB>EMOTION<TAB>SIZE`` for a manifest's clips (its rows as read: the speaker id as ``speaker_id``
    reads it, the label canonical, or an own label as ``given_label`` tidies it, so neither the manifest's line endings
    nor its row order count, while a clip swapped for audio of another length or a relabelled row does). Each path is
    relative to the data folder (a manifest's: its own folder; a clip a manifest names outside it, absolute) in POSIX
    form and Unicode NFC (a Mac's copy spells 'é' decomposed), so the same corpus moved elsewhere keeps its checksum.
    Clip sizes are what duplicate detection reads already; a file rewritten to the same size goes unseen."""
    folder = corpus.manifest.parent if corpus.manifest is not None else data

    def line(clip: Clip) -> str:
        name = _relative_or_absolute(clip.path, folder).as_posix()
        labelled = f"\t{clip.speaker}\t{clip.emotion}" if corpus.manifest is not None else ""
        return unicodedata.normalize("NFC", f"{name}{labelled}\t{clip.path.stat().st_size}\n")

    lines = sorted(line(clip) for clip in corpus.clips)
    of = (f"the sorted lines 'PATH<TAB>SPEAKER<TAB>EMOTION<TAB>SIZE' of the clips of {corpus.manifest.name}"
          if corpus.manifest is not None else "the sorted lines 'PATH<TAB>SIZE' of its clips")
    return {"sha256": hashlib.sha256("".join(lines).encode()).hexdigest(),
            "of": of + ", paths relative to the data folder (NFC)"}


def _relative_or_absolute(path: Path, folder: Path) -> Path:
    """``path`` relative to ``folder`` where it lies under it as named, else absolute."""
    try:
        return path.relative_to(folder)
    except ValueError:
        return path.absolute()


def truncated_wavs(clips: list[Clip]) -> dict[Path, str]:
    """A line for each WAV clip that ends before the length its header declares (a copy cut short), by its path:
    it is read as the shorter clip it holds, so the run says which ones, with how much of each is there."""
    lines = {}
    for clip in clips:
        frames = wav_frames(clip.path) if clip.path.suffix.lower() == ".wav" else None
        if frames is not None and frames[1] < frames[0]:
            declared, held, _ = frames
            lines[clip.path] = (f"{clip.path}: holds {held} of the {declared} frames its header declares "
                                f"({held / declared:.0%}): cut short, read as what is there")
    return lines


def ravdess_clips(clips: list[Clip]) -> int:
    """How many of ``clips`` are RAVDESS recordings by their file names, whatever speaker a manifest gave them."""
    return sum(parse_ravdess(clip.path) is not None for clip in clips)


def speaker_id(written: str) -> str:
    """A speaker id as read: Unicode NFC (a Mac writes 'é' decomposed), without zero-width and other format
    characters (invisible, so never meant) or surrounding whitespace. Unlike ``speaker_key``'s variants, these
    spellings cannot be told apart on screen, so they are one id rather than refused."""
    visible = "".join(c for c in unicodedata.normalize("NFC", written) if unicodedata.category(c) != "Cf")
    return visible.strip()


def speaker_key(speaker: str) -> str:
    """What two spellings of one speaker id share: ``speaker_id``'s form with case, spaces, hyphens, underscores, a
    number's leading zeros and a trailing '.0' (a spreadsheet's number, '1.0') ignored. Between two numbers any such
    separator is one: it parts them ('1-12', site 1's person 12, is not '11-2')."""
    bare = re.sub(r"(?<=\d)[\s_-]+(?=\d)", "-", speaker_id(speaker).casefold())
    bare = re.sub(r"[\s_]+|(?<!\d)-|-(?!\d)", "", bare)
    bare = re.sub(r"(?<=\d)\.0+$", "", bare)
    return re.sub(r"\d+", lambda number: str(int(number.group())), bare)


def speaker_list(text: str) -> list[str]:
    """The speaker ids of ``--validation-speakers``, read as a CSV line (a space after a comma skipped): an id that
    holds a comma is written in double quotes ('"Doe, Jane",P02'), as ``speaker_list_text`` writes it. A value that
    is no such line (a line break in it) is an ``InputError`` naming the option."""
    try:
        return next(csv.reader([text], skipinitialspace=True, strict=True), [])
    except csv.Error:  # its words speak of files ("universal-newline mode"), not of an option's value
        raise InputError("--validation-speakers", f"{text!r} is not a comma-separated list of speakers (no line "
                         "breaks; an id in double quotes closes them)") from None


def speaker_list_text(speakers: list[str]) -> str:
    """``speakers`` as ``speaker_list`` reads them back: comma-separated, an id with a comma or a quote quoted."""
    line = io.StringIO()
    csv.writer(line, lineterminator="").writerow(speakers)
    return line.getvalue()


def refuse_respelled_speakers(manifest: Path, speakers: list[str], lines: list[int]) -> None:
    """An ``InputError`` when two speaker ids differ only by ``speaker_key``: one person under two ids would sit
    on both sides of a speaker-independent fold and inflate its figures."""
    first: dict[str, tuple[str, int]] = {}  # key -> the first spelling and its line
    for speaker, line in zip(speakers, lines, strict=True):
        spelling, first_line = first.setdefault(speaker_key(speaker), (speaker, line))
        if spelling != speaker:
            raise InputError(manifest, f"line {line}: speaker {speaker!r} and speaker {spelling!r} (line {first_line}) "
                             "differ only in case, spaces, hyphens, underscores, leading zeros or a trailing '.0': "
                             "name each person once, with one id")


def earlier_copies(paths: list[Path]) -> dict[int, int]:
    """For each file whose bytes equal an earlier one's, its position -> the first such file's position.

    Only files of equal size are hashed, so a corpus without copies costs a ``stat`` per file.
    """
    by_size: dict[int, list[int]] = {}
    for i, path in enumerate(paths):
        by_size.setdefault(path.stat().st_size, []).append(i)
    copies: dict[int, int] = {}
    # empty files are no recording, let alone one twice: reading them says what they are
    for size, same_size in by_size.items():
        if size == 0 or len(same_size) < 2:
            continue
        first_with: dict[str, int] = {}
        for i in same_size:
            try:
                digest = file_sha256(paths[i])
            except OSError as error:
                raise InputError(paths[i], f"cannot be read ({error.strerror or error})") from None
            first = first_with.setdefault(digest, i)
            if first != i:
                copies[i] = first
    return dict(sorted(copies.items()))


def refuse_folder_labels_against_names(data: Path, clips: list[Clip]) -> None:
    """An ``InputError`` when clips found by corpus name sit in folders named after another label (``angry/`` holding
    a RAVDESS name that says happy): labels are read from the names, so a folder's label that disagrees would be
    silently overruled; the count and the first few such files are named."""
    clashes = [f"{clip.path.relative_to(data)} (folder {folder}, name {clip.emotion})" for clip in clips
               if (folder := folder_label(clip.path.parent.name)) is not None and folder != clip.emotion]
    if clashes:
        raise InputError(data, f"{len(clashes)} file(s) sit in a folder named after another label than their corpus "
                         f"name gives (labels are read from the names): {first_named(clashes)}. Move them, or "
                         "give a manifest.csv (path,speaker,emotion) with the labels meant")


def scan_corpus_names(data: Path) -> Corpus:
    """Clips found by corpus naming conventions; unknown names and unmappable labels are counted, not kept."""
    clips: list[Clip] = []
    skipped: Counter[str] = Counter()
    for path in files_under(data, set(AUDIO_SUFFIXES)):
        existing_file(path)  # a link to nothing or a pipe: refused now, never opened (a pipe waits)
        try:
            parsed = parse_file_name(path)
        except Unmapped as reason:
            skipped[f"label not mappable: {reason}"] += 1
            continue
        if parsed is None:
            skipped["name fits no known corpus convention"] += 1
            continue
        corpus, speaker, emotion = parsed
        clips.append(Clip(path=path, speaker=speaker, emotion=emotion, corpus=corpus))
    refuse_folder_labels_against_names(data, clips)
    copies = earlier_copies([clip.path for clip in clips])
    if copies:
        skipped["same recording as another file"] += len(copies)
        clips = [clip for i, clip in enumerate(clips) if i not in copies]
    return Corpus(clips=clips, skipped=dict(skipped))
