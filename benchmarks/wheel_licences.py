"""Licence metadata and bundled native libraries of a folder of wheels: the check behind the README's Licences table.

    python benchmarks/wheel_licences.py --requirements          # the device install's dependencies, one a line
    python benchmarks/wheel_licences.py WHEELS_FOLDER           # per wheel: licence, licence files, bundled libraries

The folder is filled by ``pip download --only-binary=:all:`` for the platform checked (the README gives the
command). Per wheel it prints the distribution's licence as its metadata states it, the licence files it carries and
each shared library that is not a Python extension module (those in its ``*.libs/`` folder, grafted there by
auditwheel, and any ``lib*.so``), with the licence-relevant strings found inside one: FFmpeg's build licence and the
configure options that change it, OpenSSL's, libsndfile's and LAME's versions. Last, the [project] dependencies of
pyproject.toml that have no wheel in the folder: each would be built from source on that platform.
"""

from __future__ import annotations

import argparse
import re
import zipfile
from collections.abc import Iterable
from email.parser import HeaderParser
from pathlib import Path, PurePosixPath

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO_ROOT = Path(__file__).resolve().parents[1]

# What a wheel calls its licence texts: the dist-info's own, and those beside a bundled library
# (_soundfile_data/COPYING, cv2/LICENSE-3RD-PARTY.txt, licensing/license_notes.md).
LICENCE_FILE = re.compile(r"licen[cs]e|copying|notice|copyright", re.IGNORECASE)
SHARED_OBJECT = re.compile(r"\.so(\.\d+)*$")
# An extension module's ABI tag (pandas/_libs/lib.cpython-310-aarch64-linux-gnu.so is pandas' own code, not a library).
EXTENSION_TAG = re.compile(r"\.(cpython-\d+|abi3|cp\d+)[^/]*\.so$")
# Strings inside a library that tell its licence when its file name does not. The FFmpeg options are those that
# make a build GPL (or unredistributable) or move it to (L)GPL version 3.
MARKERS = (
    re.compile(rb"libavcodec license: [ -~]+"),
    re.compile(rb"--enable-(?:gpl|nonfree|version3|libx264|libx265|libxvid|librubberband|libvidstab|frei0r|libcdio)"
               rb"(?![\w-])"),
    re.compile(rb"OpenSSL \d+\.\d+\.\d+[a-z]*"),
    re.compile(rb"libsndfile-\d+\.\d+\.\d+"),
    re.compile(rb"LAME ?\d\.\d+"),
)


def requirement_name(requirement: str) -> str:
    """A requirement's distribution name, normalised as PEP 503 compares names (``Praat_Parselmouth>=1`` →
    ``praat-parselmouth``)."""
    name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if name is None:
        raise ValueError(f"no distribution name in requirement {requirement!r}")
    return re.sub(r"[-_.]+", "-", name.group(1)).lower()


def device_requirements(pyproject_text: str) -> list[str]:
    """The [project] dependencies (the device install; the extras are the training host's), each without its
    environment marker: pip download is told the target Python itself, and a marker would split the line."""
    dependencies = tomllib.loads(pyproject_text)["project"]["dependencies"]
    return [dependency.split(";")[0].replace(" ", "") for dependency in dependencies]


def wheel_distribution(wheel_name: str) -> tuple[str, str]:
    """A wheel file's distribution name (normalised) and version, from the file name (PEP 427)."""
    parts = wheel_name.split("-")
    if not wheel_name.endswith(".whl") or len(parts) < 5:
        raise ValueError(f"{wheel_name}: not a wheel's file name")
    return requirement_name(parts[0]), parts[1]


def licence_of(metadata_text: str) -> str:
    """The licence a distribution's METADATA states: License-Expression (PEP 639) where it has one, else the
    License field's first line and the licence classifiers; 'none stated' where it says nothing."""
    metadata = HeaderParser().parsestr(metadata_text)
    if metadata.get("License-Expression"):
        return metadata["License-Expression"].strip()
    stated = []
    license_field = (metadata.get("License") or "").strip()
    if license_field:
        # some packages paste the whole licence text here: its first line with a word in it stands for it
        first_line = next((line.strip() for line in license_field.splitlines() if re.search(r"[A-Za-z]", line)), "")
        stated.append(first_line if len(first_line) <= 60 else first_line[:57] + "...")
    stated += [classifier.split("::")[-1].strip() for classifier in metadata.get_all("Classifier") or []
               if classifier.startswith("License ::")]
    return "; ".join(stated) or "none stated"


def licence_files(names: Iterable[str]) -> list[str]:
    """The wheel's members that are licence texts (by name; Python modules that merely mention a licence left out)."""
    return sorted(name for name in names if LICENCE_FILE.search(PurePosixPath(name).name)
                  and not name.endswith(("/", ".py", ".pyi", ".pyc")))  # "/": a zip's entry for a folder


def bundled_libraries(names: Iterable[str]) -> list[str]:
    """The shared libraries in a wheel that are no Python extension module: everything auditwheel grafted into a
    ``*.libs/`` folder, and any other ``lib*.so`` (a library the package ships beside its extension, its own or a
    third party's: libsndfile, libonnxruntime, libllvmlite). Extension modules carry an ABI tag or no ``lib``
    prefix."""
    found = []
    for name in names:
        path = PurePosixPath(name)
        if not SHARED_OBJECT.search(path.name) or EXTENSION_TAG.search(path.name):
            continue
        grafted = any(part.endswith(".libs") for part in path.parts[:-1])
        if grafted or path.name.startswith("lib"):
            found.append(name)
    return sorted(found)


def markers_in(data: bytes) -> list[str]:
    """The licence-relevant strings of ``MARKERS`` found in a library's bytes, each once, in ``MARKERS`` order."""
    found: list[str] = []
    for marker in MARKERS:
        for match in marker.finditer(data):
            text = match.group().decode("ascii").strip()
            if text not in found:
                found.append(text)
    return found


def describe_wheel(wheel: Path) -> list[str]:
    """The report's lines for one wheel: name, version and licence, then its licence files and bundled libraries."""
    name, version = wheel_distribution(wheel.name)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next((n for n in names if n.endswith(".dist-info/METADATA") and n.count("/") == 1), None)
        licence = licence_of(archive.read(metadata).decode("utf-8", "replace")) if metadata else "no METADATA"
        lines = [f"{name} {version}: {licence}  ({wheel.name})"]
        lines += [f"    licence file: {file}" for file in licence_files(names)]
        for library in bundled_libraries(names):
            # read whole: the largest (libllvmlite, some 170 MB) still fits in memory, once, one at a time
            found = markers_in(archive.read(library))
            lines.append(f"    library: {library}" + (f"  [{', '.join(found)}]" if found else ""))
    return lines


def without_wheel(requirements: Iterable[str], wheels: Iterable[Path]) -> list[str]:
    """The requirements that no wheel in ``wheels`` provides (by distribution name; versions are pip's business)."""
    provided = {wheel_distribution(wheel.name)[0] for wheel in wheels}
    return [requirement for requirement in requirements if requirement_name(requirement) not in provided]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", help="a folder of wheels (pip download -d FOLDER)")
    parser.add_argument("--requirements", action="store_true",
                        help="print the device install's dependencies, one a line, for pip download, and stop")
    parser.add_argument("--pyproject", type=Path, default=REPO_ROOT / "pyproject.toml", help=argparse.SUPPRESS)
    args = parser.parse_args()
    requirements = device_requirements(args.pyproject.read_text(encoding="utf-8"))
    if args.requirements:
        print("\n".join(requirements))
        return
    if args.folder is None or not args.folder.is_dir():
        raise SystemExit(f"{args.folder}: not a folder of wheels (give the folder pip download -d filled)")
    wheels = sorted(args.folder.glob("*.whl"))
    if not wheels:
        raise SystemExit(f"{args.folder}: no wheels in it")
    for wheel in wheels:
        try:
            print("\n".join(describe_wheel(wheel)))
        except (ValueError, zipfile.BadZipFile) as error:  # a misnamed or damaged download: named, not a traceback
            raise SystemExit(f"{wheel}: {error}") from None
    for requirement in without_wheel(requirements, wheels):
        print(f"no wheel in the folder: {requirement} (pip would build it from source)")


if __name__ == "__main__":
    main()
