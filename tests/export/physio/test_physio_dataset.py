"""The training host's per-subject window cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from export.physio.dataset import SubjectWindows, read_cached_windows, write_cached_windows
from runtime.arms.physio.features import MEASUREMENTS
from tests.physio_factory import write_labels


def windows(n: int = 4, columns: int = len(MEASUREMENTS)) -> SubjectWindows:
    rng = np.random.default_rng(0)
    return SubjectWindows("S99", np.arange(n) * 5.0, rng.normal(size=(n, columns)), np.ones(n), np.zeros(n))


def test_cached_windows_read_back_as_written(tmp_path):
    path = tmp_path / "S99.npz"
    write_cached_windows(path, windows(), "key")
    back = read_cached_windows(path, "S99", "key")
    assert back is not None and np.array_equal(back.features, windows().features)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left


def test_a_truncated_cache_is_computed_again_not_a_crash(tmp_path, caplog):
    path = tmp_path / "S99.npz"
    write_cached_windows(path, windows(), "key")
    path.write_bytes(path.read_bytes()[:100])  # a run killed mid-write, before writes were atomic
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        assert read_cached_windows(path, "S99", "key") is None
    assert "unreadable cache" in caplog.text


def test_a_cache_without_a_key_or_with_another_is_not_read(tmp_path, caplog):
    path = tmp_path / "S99.npz"
    stale = windows()
    np.savez(path, starts_s=stale.starts_s, features=stale.features, quality=stale.quality,
             stress_fraction=stale.stress_fraction)  # written before caches had keys
    assert read_cached_windows(path, "S99", "key") is None
    write_cached_windows(path, stale, "other recording or labels")
    with caplog.at_level("WARNING", logger="emotrace.physio"):
        assert read_cached_windows(path, "S99", "key") is None
    assert "computed from other data" in caplog.text
    assert read_cached_windows(tmp_path / "missing.npz", "S99", "key") is None


# --- the label file and what a cache is keyed on -------------------------------------------------------------


def test_labels_are_read_per_subject_in_time_order(tmp_path):
    from export.physio.dataset import load_labels

    write_labels(tmp_path, ["3,80,12,1000,1", "2,80,12,1001,0", "2,80,12,1000,1", "3,80,12,999,0"])
    table = load_labels(tmp_path)
    assert sorted(table) == ["S02", "S03"]
    assert table["S02"][0].tolist() == [1000.0, 1001.0] and table["S02"][1].tolist() == [1.0, 0.0]


@pytest.mark.parametrize(
    ("rows", "header", "problem"),
    [
        (["2,80,12,1000,2"], None, r"line 2: Label '2' is neither 0 nor 1"),
        (["2,80,12,1000,0.5"], None, r"line 2: Label '0.5' is neither 0 nor 1"),
        (["2,80,12,nan,1"], None, r"line 2: Time\(sec\) 'nan' is not a time"),
        (["2.6,80,12,1000,1"], None, r"line 2: Participant '2.6' is not a participant number"),
        (["2,80,12,1000,1", "2,80,12,1000,1"], None, r"line 3: S02 has a label for 1000 already"),
        (["2,80,12,1000,1", "2,80,12,1000,0"], None, r"line 3: S02 has a label for 1000 already"),
        (["2,80,12,1000,"], None, r"line 2: .*Label '': not all numbers"),
        (["2;80;12;1000;1"], "Participant;HR;respr;Time(sec);Label", r"needs the columns Participant, Time\(sec\)"),
        ([], None, "no label rows"),
    ],
    ids=["label 2", "label 0.5", "time nan", "participant 2.6", "repeated second", "contradicting second",
         "empty label", "semicolons", "header only"],
)
def test_a_label_file_row_that_is_no_label_is_refused_naming_its_line(tmp_path, rows, header, problem):
    from export.physio.dataset import load_labels
    from runtime.errors import InputError

    write_labels(tmp_path, rows, *([header] if header else []))
    with pytest.raises(InputError, match=problem):
        load_labels(tmp_path)


def test_every_label_file_beside_the_corpus_s_is_read_and_a_subject_labelled_in_two_is_refused(tmp_path):
    from export.physio.dataset import LABELS_FILE, load_labels
    from runtime.errors import InputError

    write_labels(tmp_path, ["2,80,12,1000,1", "2,80,12,1001,0"])
    more = tmp_path / LABELS_FILE.parent / "stress_labels_S29-S35.csv"  # subjects the corpus here does not hold
    more.write_text("Participant,HR,respr,Time(sec),Label\n29,80,12,5000,0\n29,80,12,5001,1\n")
    table = load_labels(tmp_path)
    assert sorted(table) == ["S02", "S29"]  # was: S29's file never read
    assert table["S29"][0].tolist() == [5000.0, 5001.0] and table["S29"][1].tolist() == [0.0, 1.0]
    more.write_text("Participant,HR,respr,Time(sec),Label\n2,80,12,2000,0\n")
    with pytest.raises(InputError, match="labels S02, whom stress_labels_S02-S28.csv labels too") as refused:
        load_labels(tmp_path)
    assert refused.value.source == str(more)


def test_a_label_file_that_is_no_text_is_one_line_naming_it(tmp_path):
    from export.physio.dataset import LABELS_FILE, load_labels
    from runtime.errors import InputError

    path = tmp_path / LABELS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(range(256)) * 4)  # random bytes over the file
    with pytest.raises(InputError, match="is not UTF-8 text") as refused:  # was: internal UnicodeDecodeError
        load_labels(tmp_path)
    assert str(refused.value).startswith(str(path))


def test_the_cache_key_changes_with_the_recording_the_labels_and_the_channels_left_out(tmp_path):
    from export.physio.dataset import windows_key

    recording = tmp_path / "S02.zip"
    recording.write_bytes(b"one recording")
    labels = (np.array([1000.0, 1001.0]), np.array([0.0, 1.0]))
    key = windows_key(recording, labels, 30.0, 5.0, ())
    assert windows_key(recording, labels, 30.0, 5.0, ()) == key
    assert windows_key(recording, (labels[0], 1 - labels[1]), 30.0, 5.0, ()) != key  # labels flipped
    assert windows_key(recording, labels, 30.0, 5.0, ("acc",)) != key
    assert windows_key(recording, labels, 60.0, 5.0, ()) != key
    recording.write_bytes(b"another recording")
    assert windows_key(recording, labels, 30.0, 5.0, ()) != key


# Project modules the window computation imports that do not shape the windows: errors, file and cache handling,
# Ctrl-C, what the model loader brings along, and the timeline module (its installed_versions: the versions
# themselves are in the key).
NOT_WINDOW_CODE = ("runtime", "runtime.errors", "runtime.files", "runtime.stopping", "runtime.native", "runtime.arms",
                   "runtime.models", "runtime.models.card", "runtime.models.runner", "runtime.timeline", "export",
                   "export.arrays", "export.physio")


def test_the_cache_key_changes_with_every_module_that_reads_an_e4_export_and_computes_its_windows(tmp_path,
                                                                                               monkeypatch):
    import subprocess
    import sys

    import export.physio.dataset as dataset

    # the project's modules that computing a subject's windows imports, in a fresh process: the reader, the
    # features, the window grid, and the module that labels them (its rules decide which windows are kept)
    listing = ("import sys, export.physio.dataset, runtime.arms.physio.readers.e4, runtime.arms.physio.features; "
               "print('\\n'.join(f'{n} {m.__file__}' for n, m in sys.modules.items() "
               "if n.split('.')[0] in ('runtime', 'export')))")
    modules = dict(line.split(" ", 1) for line in subprocess.run(
        [sys.executable, "-c", listing], capture_output=True, text=True, check=True).stdout.splitlines())
    imported = [path for name, path in modules.items() if name not in NOT_WINDOW_CODE]
    assert {"runtime.track", "export.physio.dataset", "runtime.arms.physio.features"} <= set(modules)
    assert len(imported) >= 8
    recording = tmp_path / "S02.zip"
    recording.write_bytes(b"one recording")
    labels = (np.array([1000.0, 1001.0]), np.array([0.0, 1.0]))
    key = dataset.windows_key(recording, labels, 30.0, 5.0, ())
    real_sha256 = dataset.file_sha256
    for changed in imported:
        monkeypatch.setattr(dataset, "file_sha256", lambda path, changed=changed:
                            "changed" if Path(path) == Path(changed) else real_sha256(path))
        assert dataset.windows_key(recording, labels, 30.0, 5.0, ()) != key, changed
    monkeypatch.setattr(dataset, "file_sha256", real_sha256)
    from importlib import metadata

    real_version = metadata.version
    for library in ("neurokit2", "numpy", "scipy", "pandas"):  # their processing is the features
        monkeypatch.setattr(metadata, "version", lambda name, library=library:
                            "0.0.other" if name == library else real_version(name))
        assert dataset.windows_key(recording, labels, 30.0, 5.0, ()) != key, library


def test_cached_windows_are_computed_again_when_the_labelling_rules_change(tmp_path, monkeypatch):
    import export.physio.dataset as dataset

    data = _subject_data(tmp_path, 0.0, [0] * 20 + [1] * 25)
    cached = dataset.load_dataset(data, 30.0, 5.0, cache_dir=tmp_path / "cache")[0]
    assert np.isfinite(cached.stress_fraction).any()
    # the labelling module edited (a stricter whole-window rule, say): its source is no longer the cached one's
    real_sha256 = dataset.file_sha256
    monkeypatch.setattr(dataset, "file_sha256", lambda path: "edited" if Path(path) == Path(dataset.__file__)
                        else real_sha256(path))
    monkeypatch.setattr(dataset, "MIN_LABELLED_FRACTION", 1.01)
    with pytest.raises(dataset.InputError, match="no window of S02's recording is labelled"):
        dataset.load_dataset(data, 30.0, 5.0, cache_dir=tmp_path / "cache")


def _subject_data(tmp_path, label_start_s: float, labels: list[int], duration_s: float = 100.0):
    """A Stress-Predict-like folder: S02's E4 export zipped in raw/, and one label row a second from
    ``label_start_s`` into the recording."""
    from tests.physio_factory import START_UNIX_S, write_e4, zip_e4

    data = tmp_path / "data"
    (data / "raw").mkdir(parents=True)
    zip_e4(write_e4(tmp_path / "e4", duration_s=duration_s), data / "raw" / "S02.zip")
    write_labels(data, [f"2,80,12,{START_UNIX_S + label_start_s + i:.0f},{label}" for i, label in enumerate(labels)])
    return data


def test_a_window_is_labelled_by_the_stress_share_of_its_seconds_when_whole_and_mostly_labelled(tmp_path):
    from export.physio.dataset import load_labels, subject_windows

    data = _subject_data(tmp_path, 0.0, [0] * 20 + [1] * 25)  # 45 labelled seconds, stress from 20 s
    windows = subject_windows(data, "S02", load_labels(data)["S02"], 30.0, 5.0)
    fraction = dict(zip(windows.starts_s.tolist(), windows.stress_fraction.tolist(), strict=True))
    assert fraction[0.0] == pytest.approx(10 / 30) and fraction[15.0] == pytest.approx(25 / 30)
    assert fraction[20.0] == 1.0  # 25 of its 30 seconds labelled: enough (80 %)
    assert all(np.isnan(fraction[start]) for start in fraction if start >= 25.0)  # 20 of 30 or fewer: none


def test_a_subject_whose_labels_cover_no_window_is_refused_naming_the_recording(tmp_path):
    from export.physio.dataset import load_dataset
    from runtime.errors import InputError

    data = _subject_data(tmp_path, 3600.0, [0, 1] * 30)  # labelled an hour after the recording ends
    with pytest.raises(InputError, match=r"S02\.zip: no window of S02's recording is labelled"):
        load_dataset(data, 30.0, 5.0)


def test_a_window_is_stress_when_at_least_half_its_labelled_seconds_are():
    from export.physio.dataset import stress_label

    assert stress_label(np.array([0.0, 0.1, 0.49, 0.5, 0.9])).tolist() == [0, 0, 0, 1, 1]
