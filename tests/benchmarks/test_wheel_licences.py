"""benchmarks/wheel_licences.py on wheels made here: licence metadata, licence files and bundled libraries found,
extension modules left out, and a dependency without a wheel named."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.conftest import load_script

FFMPEG_BYTES = (b"\x7fELF\x00libavcodec license: LGPL version 3 or later\x00"
                b"--disable-static --enable-version3 --enable-libx264 --enable-libdav1d\x00")
PYPROJECT = """
[project]
name = "device"
dependencies = ["numpy>=1.24", "tomli>=2; python_version < '3.11'", "Praat_Parselmouth>=0.4.3"]
[project.optional-dependencies]
train = ["torch"]
"""


@pytest.fixture(scope="module")
def wheel_licences():
    return load_script("benchmarks/wheel_licences.py")


def make_wheel(folder: Path, file_name: str, members: dict[str, bytes]) -> Path:
    """A zip file named like a wheel, holding ``members`` (a folder entry where a name ends in '/')."""
    path = folder / file_name
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def media_wheel(folder: Path) -> Path:
    """A wheel shaped like PyAV's and soundfile's: a grafted FFmpeg, a library beside the package, two extension
    modules and licence files."""
    return make_wheel(folder, "media_kit-1.2.0-cp310-cp310-manylinux_2_28_aarch64.whl", {
        "media_kit-1.2.0.dist-info/METADATA": b"Metadata-Version: 2.4\nName: media-kit\nVersion: 1.2.0\n"
                                              b"License-Expression: BSD-3-Clause\n",
        "media_kit-1.2.0.dist-info/licenses/": b"",
        "media_kit-1.2.0.dist-info/licenses/LICENSE.txt": b"BSD",
        "media_kit/__init__.py": b"",
        "media_kit/_license.py": b"# a module about licences, no licence text",
        "media_kit/_core.cpython-310-aarch64-linux-gnu.so": b"\x7fELF",
        "media_kit/_wrap.so": b"\x7fELF",
        "media_kit/lib.abi3.so": b"\x7fELF",
        "media_kit.libs/libavcodec-0a1b2c3d.so.62.28.101": FFMPEG_BYTES,
        "_media_data/libsndfile_arm64.so": b"\x00libsndfile-1.2.2\x00LAME3.100 \x00OpenSSL 1.1.1w  11 Sep 2023\x00",
        "_media_data/COPYING": b"LGPL-2.1",
    })


def test_a_wheel_is_described_by_its_licence_its_licence_files_and_its_libraries_with_their_markers(
        tmp_path, wheel_licences):
    lines = wheel_licences.describe_wheel(media_wheel(tmp_path))
    assert lines == [
        "media-kit 1.2.0: BSD-3-Clause  (media_kit-1.2.0-cp310-cp310-manylinux_2_28_aarch64.whl)",
        "    licence file: _media_data/COPYING",
        "    licence file: media_kit-1.2.0.dist-info/licenses/LICENSE.txt",
        "    library: _media_data/libsndfile_arm64.so  [OpenSSL 1.1.1w, libsndfile-1.2.2, LAME3.100]",
        "    library: media_kit.libs/libavcodec-0a1b2c3d.so.62.28.101  "
        "[libavcodec license: LGPL version 3 or later, --enable-version3, --enable-libx264]",
    ]


def test_a_licence_without_an_expression_is_the_license_field_s_first_worded_line_and_the_classifiers(
        wheel_licences):
    metadata = ("Name: kit\nLicense: =====\n        The Kit licensing terms\n        more text\n"
                "Classifier: License :: OSI Approved :: BSD License\nClassifier: Programming Language :: Python\n")
    assert wheel_licences.licence_of(metadata) == "The Kit licensing terms; BSD License"
    assert wheel_licences.licence_of("Name: kit\nVersion: 1\n") == "none stated"


def test_the_device_requirements_are_the_project_dependencies_without_markers_or_extras(wheel_licences):
    assert wheel_licences.device_requirements(PYPROJECT) == ["numpy>=1.24", "tomli>=2", "Praat_Parselmouth>=0.4.3"]


def test_a_dependency_with_no_wheel_in_the_folder_is_named_however_its_name_is_spelt(tmp_path, wheel_licences):
    wheels = [make_wheel(tmp_path, name, {}) for name in ("numpy-2.2.6-cp310-cp310-manylinux_2_17_aarch64.whl",
                                                          "tomli-2.5.0-py3-none-any.whl")]
    requirements = wheel_licences.device_requirements(PYPROJECT)
    assert wheel_licences.without_wheel(requirements, wheels) == ["Praat_Parselmouth>=0.4.3"]
    wheels.append(make_wheel(tmp_path, "praat_parselmouth-0.4.7-cp310-cp310-manylinux_2_12_x86_64.whl", {}))
    assert wheel_licences.without_wheel(requirements, wheels) == []


def test_the_command_reports_each_wheel_then_the_dependencies_left_to_build(tmp_path, wheel_licences, monkeypatch,
                                                                           capsys):
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    media_wheel(wheels)
    monkeypatch.setattr("sys.argv", ["wheel_licences", str(wheels), "--pyproject", str(tmp_path / "pyproject.toml")])
    wheel_licences.main()
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("media-kit 1.2.0: BSD-3-Clause")
    assert out[-3:] == [f"no wheel in the folder: {requirement} (pip would build it from source)"
                        for requirement in ("numpy>=1.24", "tomli>=2", "Praat_Parselmouth>=0.4.3")]


def test_a_folder_without_wheels_is_refused_in_one_line(tmp_path, wheel_licences, monkeypatch):
    monkeypatch.setattr("sys.argv", ["wheel_licences", str(tmp_path)])
    with pytest.raises(SystemExit) as ended:
        wheel_licences.main()
    assert ended.value.code == f"{tmp_path}: no wheels in it"


@pytest.mark.parametrize(("file_name", "said"), [
    ("media_kit-1.2.0-py3-none-any.whl", "File is not a zip file"),  # a download cut short
    ("media_kit.whl", "media_kit.whl: not a wheel's file name"),
])
def test_a_damaged_or_misnamed_wheel_is_refused_in_one_line_naming_it(tmp_path, wheel_licences, monkeypatch,
                                                                      file_name, said):
    (tmp_path / file_name).write_bytes(b"PK\x03\x04 cut short")
    monkeypatch.setattr("sys.argv", ["wheel_licences", str(tmp_path)])
    with pytest.raises(SystemExit) as ended:  # was: a traceback (BadZipFile, ValueError)
        wheel_licences.main()
    assert ended.value.code.startswith(f"{tmp_path / file_name}: ") and said in ended.value.code
