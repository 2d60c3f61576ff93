"""Files in and out: inputs named on a command line (files as given, and files of the right kind under folders),
the checks on an output before it is written, and writing it whole or not at all (``write_atomically``; several
files together, ``stage_file`` and ``replace_together``)."""

from __future__ import annotations

import contextlib
import csv
import errno
import json
import logging
import lzma
import os
import secrets
import shutil
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from runtime.errors import InputError

log = logging.getLogger(__name__)


def read_json_object(path: Path | str, required: Sequence[str] = (), what: str = "JSON object") -> dict:
    """A JSON file that must hold an object with the ``required`` keys (a run's report or description, a model's
    config); anything else is one ``InputError`` naming the file. ``what`` names what it should be, e.g.
    "face training report"."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError, RecursionError) as error:  # ValueError: bad JSON, not UTF-8, an integer of over
        # 4300 digits; RecursionError: arrays or objects nested thousands deep
        raise InputError(path, f"not a readable {what} ({str(error).split(';')[0]})") from None
    if not isinstance(data, dict):
        raise InputError(path, f"holds a JSON {type(data).__name__}, not a {what}")
    missing = [key for key in required if key not in data]
    if missing:
        raise InputError(path, f"not a {what} (no {', '.join(missing)})")
    return data


def path_text(path: Path | str) -> str:
    """``path`` (or a line naming paths) as it is written into a CSV or printed: always valid UTF-8. A name's bytes
    that are not UTF-8 (a Latin-1 name copied from an old stick), which Python holds as lone surrogates, are
    written as ``\\xNN``, the byte's value in hex: readable and honest, where the bytes themselves would make the
    whole file invalid UTF-8 and a strict encoder refuses them. A name that truly holds a backslash and an x reads
    the same; the shell names the file as ``$'\\xNN'``."""
    text = str(path)
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate no file name gives (text from elsewhere): as Python escapes it
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def check_output_file(path: Path | str, inputs: Iterable[Path | str] = ()) -> Path:
    """The file a command will write, checked before any work: its folder exists and may be written, it is not
    itself a folder nor a device, pipe or socket (writing would replace the node with a plain file), it is none
    of ``inputs``, and it is no existing file inside an input that is a folder (writing it would replace what
    was, or may be, read). A new file in an input folder is fine."""
    path = Path(path)
    try:
        if path.is_dir():
            raise InputError(path, "is a folder; give a file name to write")
        if not path.parent.is_dir():
            _nearest_folder(path.parent, path)  # a file or a link to nothing above it is said as that
            raise InputError(path, "output folder does not exist")
        if path.exists() and not path.is_file():
            raise InputError(path, "is not a regular file (a device, pipe or socket); give a file name to write")
        _check_writable(path, path.parent)
        if path.exists() and any(Path(p).exists() and path.samefile(p) for p in inputs):
            raise InputError(path, "output would overwrite the input")
        if path.exists() or path.is_symlink():
            for folder in (Path(p) for p in inputs):
                if folder.is_dir() and _inside(path, folder.resolve()):
                    raise InputError(path, f"output would overwrite a file in the input folder {folder}")
    except OSError as error:
        raise InputError(path, f"cannot check it: {error.strerror or error}") from None
    return path


def check_output_folder(path: Path | str, inputs: Mapping[str, Path | str] | None = None) -> Path:
    """The folder a command will write into, checked before any work: not a file, neither one of the folders the
    command reads (``inputs``, by what they are: "data folder") nor inside one (a run folder inside a corpus is
    read as part of it next time), and the nearest folder of it that exists can be written (the rest is made when
    the command writes)."""
    path = Path(path)
    try:
        if path.is_symlink() and not path.exists():  # else found only when the run writes, after its work
            raise InputError(path, f"{_link_to_nothing(path)}; give a folder")
        if path.exists() and not path.is_dir():
            raise InputError(path, f"is {node_kind(path)}; give a folder to write into")
        for what, folder in (inputs or {}).items():
            if not Path(folder).is_dir():
                continue
            if path.is_dir() and path.samefile(folder):
                raise InputError(path, f"is the {what}; give another folder to write into")
            if _inside(path, Path(folder).resolve()):
                raise InputError(path, f"lies inside the {what} {folder}; give a folder outside it")
        _check_writable(path, _nearest_folder(path, path))
    except OSError as error:
        raise InputError(path, f"cannot check it: {error.strerror or error}") from None
    return path


def _nearest_folder(folder: Path, output: Path) -> Path:
    """The nearest of ``folder`` and the folders above it that exists, where ``output`` is to be written; one that is
    a file, or a link to nothing (else "File exists" when the run writes, after its work), is an ``InputError``
    naming ``output``: nothing can be written under either."""
    existing = next(p for p in (folder, *folder.parents) if p.exists() or p.is_symlink())
    if not existing.exists():
        raise InputError(output, f"{existing} {_link_to_nothing(existing)}, so nothing can be written under it")
    if not existing.is_dir():
        raise InputError(output, f"{existing} is {node_kind(existing)}, not a folder, so nothing can be written "
                                 "under it")
    return existing


def node_kind(path: Path) -> str:
    """What stands at ``path`` (which exists), in the words the checks say it in: a device, pipe or socket (/dev/null)
    is no file."""
    if path.is_dir():
        return "a folder"
    return "a file" if path.is_file() else "a device, pipe or socket"


def _link_to_nothing(link: Path) -> str:
    target = os.readlink(link)
    if not os.path.lexists(link.parent / target):
        return f"is a link to {target}, which does not exist"
    try:
        os.stat(link)
    except OSError as error:
        if error.errno == errno.ELOOP:
            leads = "back to itself (a loop of links)" if _in_its_loop(link) else "into a loop of links"
            return f"is a link to {target}, which leads {leads}"
    return f"is a link to {target}, which leads to a link to nothing"


def _in_its_loop(link: Path) -> bool:
    """Whether following ``link`` link by link comes back to it (a -> b -> a), not into a loop further on (a -> b,
    b -> c -> b: a is outside it). Links are told by their inode: a loop's names may differ (./b, ../dir/b)."""
    first = os.lstat(link)
    seen = {(first.st_dev, first.st_ino)}
    node = str(link)
    while True:
        node = os.path.join(os.path.dirname(node), os.readlink(node))
        try:
            status = os.lstat(node)
        except OSError:
            return False
        key = (status.st_dev, status.st_ino)
        if key == (first.st_dev, first.st_ino):
            return True
        if key in seen or not stat.S_ISLNK(status.st_mode):
            return False
        seen.add(key)


def missing_input(path: Path | str, what: str = "file") -> InputError:
    """The error for an input ``path`` that does not exist: a link to nothing, or one that leads back to itself, is
    said as such (it stands in the folder listing, where "no such file" would send one looking for a typo)."""
    path = Path(path)
    if path.is_symlink():
        return InputError(path, _link_to_nothing(path))
    return InputError(path, f"no such {what}")


def existing_file(path: Path | str, what: str = "file") -> Path:
    """``path`` as an input that must be a regular file (``what`` names it: "config file"): one that does not exist
    (``missing_input``), a folder, or a device, pipe or socket is an ``InputError`` naming it. A pipe is refused at
    once: reading one waits for a writer that may never come."""
    path = Path(path)
    if not path.exists():
        raise missing_input(path, what)
    if not path.is_file():
        raise InputError(path, f"is {node_kind(path)}; give a {what}")
    return path


class RunFolder:
    """The folder a run writes into (``writing_folder``). ``begin`` marks the moment the run starts to replace
    what an earlier run left: its done markers go, so that a run stopped after that never leaves an old marker
    beside new files; before it, a refused run leaves an earlier finished one as it was."""

    def __init__(self, path: Path, done_markers: Iterable[str]):
        self.path = path
        self.done_markers = tuple(done_markers)

    def for_caches(self) -> Path:
        """The folder, made, for caches that serve a rerun: an earlier finished run in it stays whole."""
        self.path.mkdir(parents=True, exist_ok=True)
        return self.path

    def begin(self) -> Path:
        """Call right before the first result is written, not before the long work: a run stopped before this
        (Ctrl-C in the middle of training) leaves an earlier finished run as it was."""
        self.for_caches()
        for name in self.done_markers:
            (self.path / name).unlink(missing_ok=True)
        return self.path


@contextmanager
def writing_folder(out: Path, done_markers: Iterable[str] = (), inputs: Mapping[str, Path | str] | None = None,
                   caches: Iterable[str] = ()) -> Iterator[RunFolder]:
    """A run's output folder: checked first (``check_output_folder``), and removed again, with any folders made
    above it, if this run made it and fails (bad input met late, Ctrl-C, a defect), but for its ``caches``
    (``removed_if_failed``). The run calls ``begin`` right before it writes its first result, after its long
    work. (A model to install goes through ``export.install.installing`` instead, which keeps the old one whole
    until the new one is complete.)"""
    out = Path(out)
    check_output_folder(out, inputs)
    with removed_if_failed(out, caches):
        yield RunFolder(out, done_markers)


@contextmanager
def removed_if_failed(folder: Path, caches: Iterable[str] = ()) -> Iterator[None]:
    """Whatever of ``folder`` and the folders above it does not exist yet is removed again should the block
    fail: a failed run leaves no empty folder behind. A folder that existed before is never touched.

    ``caches``: patterns (``Path.glob``) of entries in ``folder`` that are kept, each said in a warning, with the
    folders holding them, while the rest of a folder this run made goes: minutes of feature work serve the retry
    of a first run stopped in its fitting."""
    made = topmost_missing(Path(folder))
    try:
        yield
    except BaseException:
        if made is not None:
            kept = _kept_caches(Path(folder), caches)
            for entry in _entries(Path(folder)):  # the run's own files, made by it
                if entry in kept:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        entry.unlink()
            for entry in kept:
                log.warning("kept %s for a retry", entry)
            remove_empty_folders(Path(folder), made)
        raise


def _kept_caches(folder: Path, caches: Iterable[str]) -> set[Path]:
    """The entries of ``folder`` that match ``caches`` and hold something (an empty cache folder serves nothing)."""
    try:
        return {entry for pattern in caches for entry in folder.glob(pattern)
                if entry.is_file() or any(p.is_file() for p in entry.rglob("*"))}
    except OSError:
        return set()


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:  # never made (refused before it), or gone
        return []


def remove_empty_folders(folder: Path, up_to: Path) -> None:
    """``folder`` and the folders above it up to ``up_to``, each only while it is empty: another run may have put
    a folder of its own beside the one taken back."""
    folder, up_to = Path(os.path.abspath(folder)), Path(os.path.abspath(up_to))
    for path in (folder, *folder.parents):
        if path != up_to and up_to not in path.parents:
            return
        try:
            path.rmdir()
        except OSError:
            return


def topmost_missing(folder: Path) -> Path | None:
    """The first of ``folder``'s parents (or itself) that does not exist; None when all do, or when one cannot be
    looked at (no permission): then nothing is removed, and making the folder says what is wrong."""
    folder = Path(os.path.abspath(folder))  # "new/../room" made "new" too
    for path in reversed((folder, *folder.parents)):
        try:
            if not path.exists():
                return path
        except OSError:
            return None
    return None


def _check_writable(path: Path, folder: Path) -> None:
    """A file made in ``folder`` and removed again: the permission bits say nothing for root, nor for file systems
    that refuse new entries whatever they say (/proc, /sys), and a refusal found only when the run writes comes
    after all its work."""
    probe = folder / f".emotrace-probe-{secrets.token_hex(6)}"  # 48 random bits: no other file's name
    try:
        try:
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        finally:  # made and removed in this one try: a stop landing just after it is made takes it back too
            with contextlib.suppress(OSError):
                probe.unlink(missing_ok=True)
    except OSError as error:
        why = {errno.EROFS: "read-only file system", errno.EACCES: "no permission", errno.EPERM: "no permission"}
        raise InputError(path, f"cannot write to {folder} ({why.get(error.errno, error.strerror or error)})") from None


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` (as named, or the file it links to) lies anywhere under ``folder`` (resolved)."""
    named = path.parent.resolve() / path.name
    return any(candidate.is_relative_to(folder) for candidate in (named, path.resolve()))


def find_files(paths: Iterable[Path | str], suffixes: set[str], kind: str) -> list[Path]:
    """Each path that is a file, and every file with one of ``suffixes`` under each folder (``files_under``), each
    file once (``once_each``).

    A path that does not exist, or nothing of ``kind`` found at all, is an ``InputError``.
    """
    paths = [Path(p) for p in paths]
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += files_under(path, suffixes)
        elif path.is_file():
            found.append(path)
        elif path.exists():
            raise InputError(path, f"is {node_kind(path)}; give a file or folder")
        else:
            raise missing_input(path, "file or folder")
    if not found:
        raise InputError(", ".join(str(p) for p in paths), f"no {kind} found")
    return once_each(found, kind)


def once_each(files: list[Path], kind: str) -> list[Path]:
    """``files`` with each real file only at its first name, and one line naming those left out: a file named twice
    (given twice, or given and under a folder given) read twice would count twice (a speaker's baseline)."""
    kept: dict[str, Path] = {}
    again: list[Path] = []
    for path in files:
        real = os.path.realpath(path)
        if real in kept:
            again.append(path)
        else:
            kept[real] = path
    if again:
        shown = ", ".join(map(str, again[:5])) + (", ..." if len(again) > 5 else "")
        log.warning("%d of the %s named more than once (the same file as one named before); each read once, "
                    "left out: %s", len(again), kind, shown)
    return list(kept.values())


# macOS writes '._a.jpg' beside 'a.jpg' on a FAT or exFAT stick or a share: the file's Finder metadata, never media
APPLE_DOUBLE_PREFIX = "._"


def files_under(folder: Path, suffixes: set[str]) -> list[Path]:
    """Every file with one of ``suffixes`` (lower case, with the dot) under ``folder``, recursively, sorted.

    Linked folders are followed, each real folder once: a data set laid out as links to the folders of a corpus
    (one split of its speakers) is found, and a link back up the tree is no endless loop. The folder itself that
    cannot be listed is an error, not a folder without files; a subfolder that cannot be (a stick's root-only
    lost+found) is skipped with a warning. An entry of such a name that is no regular file (a link to nothing, a
    pipe) is listed too: reading it says what it is, in the one line a file that cannot be read gets, where
    leaving it out lost it without a word. macOS's metadata files (``APPLE_DOUBLE_PREFIX``) are no media: left out.
    """
    def skip_or_refuse(error: OSError) -> None:
        if Path(error.filename) == folder:
            raise InputError(error.filename, f"cannot be listed ({error.strerror or error})")
        log.warning("%s: cannot be listed (%s); skipped", error.filename, error.strerror or error)

    found: list[Path] = []
    seen: set[str] = set()
    for root, folders, names in os.walk(folder, onerror=skip_or_refuse, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            folders.clear()
            continue
        seen.add(real)
        found += (Path(root) / name for name in names
                  if Path(name).suffix.lower() in suffixes and not name.startswith(APPLE_DOUBLE_PREFIX))
    return sorted(found)


# Errors a zip member can raise while being decompressed (RuntimeError: encrypted; NotImplementedError:
# a compression method zipfile lacks).
ZIP_MEMBER_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, RuntimeError, NotImplementedError, OSError,
                     EOFError)
MAX_NAMED_FILES = 10  # files named in one line (missing, unreadable, in a clashing folder); the rest are counted


def first_named(items: list[str]) -> str:
    """The first ``MAX_NAMED_FILES`` of ``items`` joined, and how many more: what a line naming files lists."""
    more = f"; and {len(items) - MAX_NAMED_FILES} more" if len(items) > MAX_NAMED_FILES else ""
    return "; ".join(items[:MAX_NAMED_FILES]) + more


def unreadable_files(source: Path | str, errors: list[InputError], n_files: int, what: str = "file") -> InputError:
    """The one error naming the files of ``source`` (a data set) that could not be read: their count among
    ``n_files`` and the first ``MAX_NAMED_FILES``, each with its problem; ``what`` they are ("image")."""
    return InputError(source, f"{len(errors)} of {n_files} {what}(s) could not be read: "
                      + first_named([str(error) for error in errors]))


def unreadable(path: Path | str, error: OSError) -> InputError:
    """The one error for a file this process may not read (permissions), or that went while it was read."""
    return InputError(path, f"cannot be read ({error.strerror or error})")


def batch_failures(on_failed: Callable[[InputError], None] | None = None
                   ) -> tuple[list[InputError], Callable[[InputError], None]]:
    """A batch's list of the errors of the files it could not read, and the call that adds one to it and tells
    ``on_failed`` of it as it is met (a long batch says its failures as they come, not all after its last file)."""
    failed: list[InputError] = []

    def fail(error: InputError) -> None:
        failed.append(error)
        if on_failed is not None:
            on_failed(error)

    return failed, fail


def read_csv_rows(path: Path | str, what: str = "CSV",
                  header_hint: str = "") -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """A CSV's header and its rows, each with its line number, read as UTF-8 (a byte-order mark, as a spreadsheet's
    "CSV UTF-8" writes, is not part of the first name); any failure is one ``InputError`` naming the file, and so
    is a row with more or fewer fields than the header (csv reads those as a None key or None values), and a first
    line that names no column (blank, or blank fields) where the file holds more than blank lines: said first, with
    ``header_hint`` (what the first line should be) where given, as each row's width against it would mislead. A
    file of blank lines only gives no header and no rows, for the caller to call empty."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            read = [(reader.line_num, row) for row in reader]
            header = list(reader.fieldnames or [])
            if (header or read) and not any(name.strip() for name in header):
                raise InputError(path, "has a first line that names no column: "
                                 + (header_hint or f"a {what}'s first line is its header, naming its columns"))
            return header, [(line, _whole_row(path, line, row)) for line, row in read]
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a folder, not a file") from None
    except OSError as error:
        raise unreadable(path, error) from None
    except UnicodeDecodeError as error:
        raise InputError(path, f"is not UTF-8 text (byte {error.object[error.start]:#04x} at offset {error.start}); "
                               "save it as CSV UTF-8") from None
    except csv.Error as error:
        raise InputError(path, f"not a readable {what} ({error})") from None


def _whole_row(path: Path | str, line: int, row: dict) -> dict[str, str]:
    if None in row:  # the fields past the header's
        raise InputError(path, f"line {line}: more fields than the header's {len(row) - 1} (a comma inside a field "
                         "needs the field in double quotes)")
    if None in row.values():
        given = sum(value is not None for value in row.values())
        raise InputError(path, f"line {line}: {given} field(s) where the header has {len(row)}")
    return row


def nonempty_file(path: str | Path) -> Path:
    """``existing_file`` that holds something this process may read: an empty one is said as that, not as whatever a
    decoder makes of no bytes ("not a readable image", "no streams")."""
    path = existing_file(path)
    if path.stat().st_size == 0:
        raise InputError(path, "empty file")
    return check_readable(path)


def check_readable(path: Path) -> Path:
    """``path``, or an error naming it when this process may not read it (permissions), said as such rather
    than as whatever a reader makes of the failure ("corrupt", "not a zip")."""
    try:
        with open(path, "rb"):
            return path
    except OSError as error:
        raise unreadable(path, error) from None


MAX_NAME_BYTES = 255  # a file name's longest on the file systems a device writes to (ext4, tmpfs, overlay, exFAT)


def staging_path(path: Path) -> Path:
    """A new temporary name beside ``path`` for ``stage_file``. Named before anything is written, so that a caller
    removes it in the same try that stages it: a stop landing as ``stage_file`` returns leaves no file behind."""
    path = Path(path)
    suffix = f".{secrets.token_hex(6)}.part"
    # the name cut to fit the file system's 255 bytes with the dot and suffix: a name the check accepted is written
    name = os.fsdecode(os.fsencode(path.name)[:MAX_NAME_BYTES - 1 - len(suffix)])
    return path.parent / f".{name}{suffix}"


def stage_file(path: Path, data: bytes, tmp: Path | None = None) -> Path:
    """``data`` written and synced to a new temporary file beside ``path`` (``tmp``, default a new
    ``staging_path``; returned); on any failure or stop none is left and an ``OSError`` is an ``InputError`` naming
    ``path``. The file gets the permissions any new file gets (0666 less the umask), not mkstemp's 0600: a clinic
    sets who reads its session files with the service's umask."""
    path = Path(path)
    tmp = Path(tmp) if tmp is not None else staging_path(path)
    try:
        try:
            # made and removed in this one try: a stop landing just after the file is made takes it back too
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise
    except OSError as error:
        raise InputError(path, f"cannot write it: {error.strerror or error}") from None
    return tmp


def replace_together(moves: list[tuple[Path, Path]]) -> None:
    """Rename each staged file onto its target; should one rename fail, the targets already replaced get their
    old files back, so all are replaced or none (the error names the target that failed). The targets' folders
    are synced once all are renamed (``sync_folder``)."""
    done: list[tuple[Path, Path | None]] = []  # (target, its old file kept aside, or None where it had none)
    try:
        for tmp, target in moves:
            try:
                aside, linked = _keep_aside(target)
            except OSError as error:
                raise InputError(target, f"cannot replace it: {error.strerror or error}") from None
            try:
                os.replace(tmp, target)
            except OSError as error:
                with contextlib.suppress(OSError):  # the target is as it was: drop its second name, or rename back
                    if aside is not None and linked:
                        aside.unlink()
                    elif aside is not None:
                        os.replace(aside, target)
                raise InputError(target, f"cannot write it: {error.strerror or error}") from None
            done.append((target, aside))
    except BaseException:  # a failure, or a stop landing between the renames: all the old files back
        for target, aside in reversed(done):
            with contextlib.suppress(OSError):
                if aside is None:
                    target.unlink(missing_ok=True)
                else:
                    os.replace(aside, target)
        raise
    try:
        for folder in dict.fromkeys(target.parent for target, _ in done):
            sync_folder(folder)
    finally:  # the new files are in place: the old ones go, whatever stops the syncs
        for _, aside in done:
            if aside is not None:
                with contextlib.suppress(OSError):
                    aside.unlink()


def _keep_aside(target: Path) -> tuple[Path | None, bool]:
    """A second name for ``target``'s current file, and whether it is a hard link (where the file system has none,
    the file is renamed aside); (None, False) when there is no file yet."""
    if not target.exists():
        return None, False
    aside = target.parent / f".{target.name}.{secrets.token_hex(6)}.old"
    try:
        os.link(target, aside)
        return aside, True
    except OSError:
        os.replace(target, aside)
        return aside, False


def write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` (``stage_file``), rename it into place and sync its folder.

    A failure to create, write or rename (no permission, disk full, folder gone) is an ``InputError`` naming
    ``path``; the temporary file is removed.
    """
    path = Path(path)
    tmp = staging_path(path)
    try:
        os.replace(stage_file(path, data, tmp), path)
    except OSError as error:
        raise InputError(path, f"cannot write it: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    sync_folder(path.parent)


def make_folder(folder: Path) -> None:
    """``folder`` and any folder missing above it, each new one's entry synced into its parent: syncing the files
    written inside a new folder does not write the folder's own entry, and a power cut could lose it."""
    folder = Path(os.path.abspath(folder))
    made = topmost_missing(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if made is None:
        return
    for new in (folder, *folder.parents):
        sync_folder(new.parent)
        if new == made:
            return


def sync_folder(folder: Path) -> None:
    """Sync ``folder`` itself: a rename lives in the folder's entries, which syncing the file does not write, so a
    power cut just after a session ends could bring back the old file, or none. Skipped quietly where a folder
    cannot be opened or synced (Windows; some network file systems): the rename is done either way."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
