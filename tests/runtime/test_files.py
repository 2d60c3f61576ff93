"""Files named on a command line: what a command may write."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from runtime.errors import InputError
from runtime.files import (
    check_output_file,
    check_output_folder,
    existing_file,
    find_files,
    path_text,
    read_csv_rows,
    read_json_object,
    replace_together,
    stage_file,
    write_atomically,
    writing_folder,
)
from tests.conftest import analysis_software


def test_an_output_file_in_an_existing_folder_is_accepted(tmp_path):
    assert check_output_file(tmp_path / "out.csv", [tmp_path / "in.csv"]) == tmp_path / "out.csv"


@pytest.mark.parametrize(
    ("name", "problem"),
    [(".", "is a folder"), ("missing/out.csv", "output folder does not exist"), ("in.csv", "overwrite the input"),
     # was: 'output folder does not exist'
     ("in.csv/out.csv", r"out\.csv: .*in\.csv is a file, not a folder, so nothing can be written under it$"),
     ("in.csv/deeper/out.csv", r"in\.csv is a file, not a folder"),
     # was: 'output folder does not exist', as said of a folder not made yet
     ("dl/out.csv", r"dl is a link to .*nowhere, which does not exist, so nothing can be written under it$")],
)
def test_an_output_that_cannot_or_must_not_be_written_is_refused_before_any_work(tmp_path, name, problem):
    (tmp_path / "in.csv").write_text("x\n")
    (tmp_path / "dl").symlink_to(tmp_path / "nowhere")
    with pytest.raises(InputError, match=problem):
        check_output_file(tmp_path / name, [tmp_path / "in.csv"])


def test_an_output_that_is_the_input_under_another_name_is_refused(tmp_path):
    (tmp_path / "in.csv").write_text("x\n")
    (tmp_path / "link.csv").symlink_to(tmp_path / "in.csv")
    with pytest.raises(InputError, match="overwrite the input"):
        check_output_file(tmp_path / "link.csv", [tmp_path / "in.csv"])


def test_an_existing_file_inside_an_input_folder_is_refused_and_left_as_it_was(tmp_path):
    (tmp_path / "e4" / "sub").mkdir(parents=True)
    for name in ("EDA.csv", "sub/BVP.csv"):
        (tmp_path / "e4" / name).write_text("raw\n")
        with pytest.raises(InputError, match="in the input folder") as refused:
            check_output_file(tmp_path / "e4" / name, [tmp_path / "e4"])
        assert str(tmp_path / "e4" / name) in str(refused.value)
        assert (tmp_path / "e4" / name).read_text() == "raw\n"


def test_a_link_to_a_file_inside_an_input_folder_is_refused(tmp_path):
    (tmp_path / "e4").mkdir()
    (tmp_path / "e4" / "EDA.csv").write_text("raw\n")
    (tmp_path / "out.csv").symlink_to(tmp_path / "e4" / "EDA.csv")
    with pytest.raises(InputError, match="in the input folder"):
        check_output_file(tmp_path / "out.csv", [tmp_path / "e4"])


def test_a_new_file_in_an_input_folder_is_accepted(tmp_path):
    (tmp_path / "e4").mkdir()
    (tmp_path / "e4" / "EDA.csv").write_text("raw\n")
    assert check_output_file(tmp_path / "e4" / "out.csv", [tmp_path / "e4"]) == tmp_path / "e4" / "out.csv"


def test_an_output_that_is_a_pipe_is_refused_and_left_a_pipe(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(InputError, match="not a regular file") as refused:
        check_output_file(tmp_path / "fifo", [tmp_path / "in.csv"])
    assert str(refused.value).startswith(str(tmp_path / "fifo"))
    assert stat.S_ISFIFO((tmp_path / "fifo").stat().st_mode)


def test_an_output_that_is_a_device_is_refused():
    with pytest.raises(InputError, match="not a regular file"):
        check_output_file("/dev/null")


@pytest.mark.parametrize(("check", "path", "problem"), [
    (check_output_file, "/dev/null/out.csv", "/dev/null/out.csv: /dev/null is a device, pipe or socket, not a folder"),
    (check_output_folder, "/dev/null", "/dev/null: is a device, pipe or socket; give a folder to write into$"),
    (check_output_folder, "/dev/null/out", "/dev/null/out: /dev/null is a device, pipe or socket, not a folder")])
def test_an_output_under_or_in_place_of_a_device_calls_it_a_device_not_a_file(check, path, problem):
    with pytest.raises(InputError, match=problem):  # was: '/dev/null is a file, not a folder'
        check(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to any folder")
def test_an_output_in_a_folder_that_cannot_be_written_is_refused_before_any_work(tmp_path):
    (tmp_path / "locked").mkdir(mode=0o555)
    with pytest.raises(InputError, match=r"cannot write to .* \(no permission\)"):
        check_output_file(tmp_path / "locked" / "out.csv")


def _refusing_new_files(monkeypatch, folder: Path, code: int) -> None:
    """``os.open`` failing with ``code`` for a new file in ``folder``, as the file system would (root included)."""
    real_open = os.open

    def refusing(path, flags, *args, **kwargs):
        if Path(path).parent == folder and flags & os.O_CREAT:
            raise OSError(code, os.strerror(code), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing)


def test_an_output_folder_without_write_access_is_refused(tmp_path, monkeypatch):
    _refusing_new_files(monkeypatch, tmp_path, errno.EACCES)
    with pytest.raises(InputError, match=r"cannot write to .* \(no permission\)") as refused:
        check_output_file(tmp_path / "out.csv")
    assert str(refused.value).startswith(str(tmp_path / "out.csv"))


def test_a_stop_just_after_the_write_check_makes_its_probe_file_leaves_none_behind(tmp_path, monkeypatch):
    real_close = os.close

    def closing_then_stopped(fd: int) -> None:  # Ctrl-C landing between the probe's making and its removal
        real_close(fd)
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "close", closing_then_stopped)
    with pytest.raises(KeyboardInterrupt):
        check_output_file(tmp_path / "out.csv")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []  # was: .emotrace-probe-XXXX left in the output folder


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_an_output_folder_that_cannot_be_made_is_refused_before_any_work_even_for_root(tmp_path, capsys):
    from runtime.cli import main

    # was, as root: accepted (os.access passes for root), and refused only once the analysis was done
    with pytest.raises(InputError, match=r"^/proc/emotrace-run: cannot write to /proc \("):
        check_output_folder("/proc/emotrace-run")
    with pytest.raises(InputError, match=r"^/proc/out\.csv: cannot write to /proc \("):
        check_output_file("/proc/out.csv")
    assert main(["analyze", str(tmp_path / "never-read.wav"), "--out", "/proc/emotrace-run"]) == 2
    assert "cannot write to /proc" in capsys.readouterr().err  # the output is checked before the input is read


def test_the_write_check_leaves_nothing_behind(tmp_path):
    check_output_folder(tmp_path / "new" / "run")
    check_output_file(tmp_path / "out.csv")
    assert list(tmp_path.iterdir()) == []


def test_a_timeline_folder_that_is_a_file_or_under_one_is_refused_before_any_work(tmp_path, capsys):
    from runtime.cli import main
    from runtime.files import check_output_folder

    taken = tmp_path / "taken"
    taken.write_text("")
    with pytest.raises(InputError, match="is a file; give a folder"):
        check_output_folder(taken)
    with pytest.raises(InputError, match="is a file, not a folder, so nothing can be written under it"):
        check_output_folder(taken / "out")
    assert check_output_folder(tmp_path / "new" / "out") == tmp_path / "new" / "out"
    assert main(["analyze", str(tmp_path / "never-read.wav"), "--out", str(taken)]) == 2
    assert "is a file; give a folder" in capsys.readouterr().err  # not the missing input: the folder is checked first


@pytest.mark.parametrize(("out", "problem"),
                         [("data", "is the data folder"), ("data/sub/run", "lies inside the data folder")])
def test_an_output_folder_that_is_or_lies_inside_an_input_is_refused(tmp_path, out, problem):
    (tmp_path / "data" / "sub").mkdir(parents=True)
    with pytest.raises(InputError, match=problem):
        check_output_folder(tmp_path / out, {"data folder": tmp_path / "data"})
    assert sorted(p.name for p in (tmp_path / "data").rglob("*")) == ["sub"]


def test_a_run_that_fails_removes_every_folder_it_made_and_begin_drops_only_markers(tmp_path):
    with pytest.raises(KeyboardInterrupt), writing_folder(tmp_path / "new" / "run", ("report.json",)) as run:
        run.begin()
        raise KeyboardInterrupt
    assert not (tmp_path / "new").exists()
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "report.json").write_text("{}")
    (earlier / "cache.npz").write_text("kept")
    with pytest.raises(InputError), writing_folder(earlier, ("report.json",)):
        raise InputError("data", "refused before begin")
    assert (earlier / "report.json").exists()  # refused before begin: the earlier run stays finished
    with writing_folder(earlier, ("report.json",)) as run:
        run.begin()
    assert sorted(p.name for p in earlier.iterdir()) == ["cache.npz"]


def test_a_first_run_that_fails_keeps_its_caches_for_a_retry_and_nothing_else(tmp_path, caplog):
    out = tmp_path / "new" / "run"
    with caplog.at_level("WARNING"), pytest.raises(KeyboardInterrupt), \
            writing_folder(out, ("report.json",), caches=("cache", "pooled-*.npz")) as run:
        (run.for_caches() / "cache" / "deeper").mkdir(parents=True)
        (out / "cache" / "deeper" / "windows-1.npz").write_bytes(b"features")
        (out / "pooled-ab.npz").write_bytes(b"pooled")
        (out / "model.joblib").write_bytes(b"half a model")
        (out / "models").mkdir()
        raise KeyboardInterrupt  # stopped in the fitting, after minutes of feature work
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == [
        "cache", "cache/deeper", "cache/deeper/windows-1.npz", "pooled-ab.npz"]
    assert sorted(caplog.messages) == [f"kept {out / 'cache'} for a retry", f"kept {out / 'pooled-ab.npz'} for a retry"]


def test_a_first_run_whose_cache_holds_nothing_yet_is_removed_whole(tmp_path, caplog):
    with caplog.at_level("WARNING"), pytest.raises(KeyboardInterrupt), \
            writing_folder(tmp_path / "new" / "run", caches=("cache",)) as run:
        (run.for_caches() / "cache").mkdir()  # stopped before the first clip's features were stored
        raise KeyboardInterrupt
    assert not (tmp_path / "new").exists() and caplog.messages == []


def test_a_folder_that_cannot_be_listed_is_said_so_not_taken_for_an_empty_one(tmp_path, monkeypatch, caplog):
    locked = tmp_path / "clips" / "locked"
    locked.mkdir(parents=True)
    (tmp_path / "clips" / "a.wav").write_bytes(b"RIFF")
    real_scandir = os.scandir

    def scandir(path):  # the OS refusing to list a folder without read permission (tests may run as root)
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(locked))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(InputError) as refused:  # was: "no audio files found"
        find_files([locked], {".wav"}, "audio files")
    assert str(refused.value) == f"{locked}: cannot be listed (Permission denied)"
    with caplog.at_level("WARNING"):  # a subfolder (a stick's lost+found) is skipped, said, not the whole run
        assert find_files([tmp_path / "clips"], {".wav"}, "audio files") == [tmp_path / "clips" / "a.wav"]
    assert f"{locked}: cannot be listed (Permission denied); skipped" in caplog.text


def test_an_output_folder_that_is_a_link_to_nothing_is_refused_before_any_work(tmp_path):
    dangling = tmp_path / "out"
    dangling.symlink_to(tmp_path / "nowhere" / "deeper")
    with pytest.raises(InputError) as refused:  # was: accepted, then "cannot make the folder: File exists" at the end
        check_output_folder(dangling)
    assert str(refused.value) == f"{dangling}: is a link to {tmp_path / 'nowhere' / 'deeper'}, which does not exist; " \
        "give a folder"


def test_a_json_file_with_an_integer_json_will_not_read_is_one_line(tmp_path):
    report = tmp_path / "report.json"
    report.write_text('{"epochs": 1' + "0" * 5000 + "}")
    with pytest.raises(InputError) as refused:  # was: internal error ValueError (json's 4300-digit limit)
        read_json_object(report, what="face training report")
    assert str(refused.value).startswith(f"{report}: not a readable face training report (")


def test_an_output_folder_under_a_link_to_nothing_is_refused_before_any_work(tmp_path):
    dangling = tmp_path / "dl"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(InputError) as refused:  # was: accepted, then "File exists" when the run wrote, after its work
        check_output_folder(dangling / "run" / "sub")
    assert str(refused.value) == f"{dangling / 'run' / 'sub'}: {dangling} is a link to {tmp_path / 'nowhere'}, " \
                                 "which does not exist, so nothing can be written under it"


def test_an_output_folder_behind_a_chain_or_loop_of_links_says_where_it_leads(tmp_path):
    (tmp_path / "dl").symlink_to(tmp_path / "nowhere")
    (tmp_path / "chain").symlink_to("dl")
    (tmp_path / "loop-a").symlink_to("loop-b")
    (tmp_path / "loop-b").symlink_to("loop-a")
    for link, target, leads in (("chain", "dl", "leads to a link to nothing"),
                                ("loop-a", "loop-b", "leads back to itself (a loop of links)")):
        with pytest.raises(InputError) as refused:  # was: "... a link to dl, which does not exist" though dl does
            check_output_folder(tmp_path / link / "run")
        assert str(refused.value).endswith(f"{tmp_path / link} is a link to {target}, which {leads}, so nothing can "
                                           "be written under it")


def test_an_output_folder_on_a_read_only_file_system_says_so(tmp_path, monkeypatch):
    _refusing_new_files(monkeypatch, tmp_path, errno.EROFS)  # a stick whose lock is on, a disk remounted read-only
    with pytest.raises(InputError) as refused:
        check_output_folder(tmp_path / "out")
    # was: accepted (root may write anywhere), and failing when the run wrote
    assert str(refused.value) == f"{tmp_path / 'out'}: cannot write to {tmp_path} (read-only file system)"


def test_files_in_a_folder_are_found_whatever_the_case_of_their_suffix_and_in_sorted_order(tmp_path):
    for name in ("b/SESSION.WAV", "a.wav", "c.Wav", "notes.txt", "b/a.flac"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    found = find_files([tmp_path], {".wav", ".flac"}, "audio files")
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.wav", "b/SESSION.WAV", "b/a.flac", "c.Wav"]


def test_a_folder_whose_parents_cannot_be_looked_at_is_said_as_a_folder_that_cannot_be_made(tmp_path, monkeypatch):
    from runtime.timeline import Timeline, write_timeline

    locked = tmp_path / "locked"
    real_exists = Path.exists

    def exists(self, *args, **kwargs):  # a parent without search permission (root cannot be refused here)
        if self == locked or locked in self.parents:
            raise PermissionError(13, "Permission denied")
        return real_exists(self, *args, **kwargs)

    def mkdir(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "exists", exists)
    monkeypatch.setattr(Path, "mkdir", mkdir)
    with pytest.raises(InputError, match="cannot make the folder: Permission denied"):  # was: a raw PermissionError
        write_timeline(Timeline("x.wav", 1.0, software=analysis_software()), locked / "out")


def test_a_failed_atomic_write_names_the_output_and_leaves_no_file(tmp_path, monkeypatch):
    def fail(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("runtime.files.os.replace", fail)
    with pytest.raises(InputError, match="cannot write it: No space left on device") as refused:
        write_atomically(tmp_path / "x.json", b"abc")
    assert refused.value.source == str(tmp_path / "x.json")
    assert list(tmp_path.iterdir()) == []


def test_a_stop_landing_as_the_staged_file_is_made_leaves_none(tmp_path, monkeypatch):
    import os

    made = os.open

    def stopped(*args, **kwargs):  # the file made, the stop landing before the call returns
        made(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr("runtime.files.os.open", stopped)
    with pytest.raises(KeyboardInterrupt):
        stage_file(tmp_path / "x.json", b"abc")
    assert list(tmp_path.iterdir()) == []  # was: an empty '.x.json.<hex>.part'


def test_an_atomic_write_into_a_vanished_folder_names_the_output(tmp_path):
    with pytest.raises(InputError, match="cannot write it: No such file or directory") as refused:
        write_atomically(tmp_path / "gone" / "x.csv", b"abc")
    assert refused.value.source == str(tmp_path / "gone" / "x.csv")
    assert ".part" not in str(refused.value)


def test_an_atomic_write_that_is_not_permitted_names_the_output(tmp_path, monkeypatch):
    def deny(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / ".x.csv.0.part"))

    monkeypatch.setattr("runtime.files.os.open", deny)
    with pytest.raises(InputError, match="cannot write it: Permission denied") as refused:
        write_atomically(tmp_path / "x.csv", b"abc")
    assert str(refused.value) == f"{tmp_path / 'x.csv'}: cannot write it: Permission denied"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600)])
def test_written_files_take_the_permissions_the_umask_gives(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        write_atomically(tmp_path / "x.csv", b"abc")
    finally:
        os.umask(previous)
    assert (tmp_path / "x.csv").stat().st_mode & 0o777 == mode
    assert (tmp_path / "x.csv").read_bytes() == b"abc"


def synced_as_written(monkeypatch) -> list[tuple[str, bytes | None]]:
    """Each path ``os.fsync`` is given as ``runtime.files`` writes, with what ``x.csv`` beside a synced folder then
    holds (None while it has no such file): the folder's sync must come after the rename."""
    real, synced = os.fsync, []

    def recording(fd: int) -> None:
        path = os.readlink(f"/proc/self/fd/{fd}")
        target = Path(path) / "x.csv"
        synced.append((path, target.read_bytes() if target.is_file() else None))
        real(fd)

    monkeypatch.setattr("runtime.files.os.fsync", recording)
    return synced


needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads paths from /proc/self/fd")


@needs_proc
def test_an_atomic_write_syncs_its_folder_after_the_rename(tmp_path, monkeypatch):
    (tmp_path / "x.csv").write_bytes(b"old")
    synced = synced_as_written(monkeypatch)
    write_atomically(tmp_path / "x.csv", b"new")
    assert synced[-1] == (str(tmp_path), b"new")  # was: the file alone, the rename lost to a power cut


@needs_proc
def test_files_replaced_together_sync_each_of_their_folders_after_the_renames(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    targets = [tmp_path / "a" / "x.csv", tmp_path / "b" / "x.csv"]
    staged = [stage_file(target, b"new") for target in targets]
    synced = synced_as_written(monkeypatch)
    replace_together(list(zip(staged, targets, strict=True)))
    assert synced == [(str(tmp_path / "a"), b"new"), (str(tmp_path / "b"), b"new")]  # each once, renamed


def test_a_folder_that_cannot_be_opened_to_sync_leaves_the_write_done(tmp_path, monkeypatch):
    real_open = os.open

    def no_folders(path, flags, *args):  # as on Windows
        if os.path.isdir(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr("runtime.files.os.open", no_folders)
    write_atomically(tmp_path / "x.csv", b"abc")
    assert (tmp_path / "x.csv").read_bytes() == b"abc"


@needs_proc
def test_a_timelines_new_folders_are_synced_into_each_parent_they_were_made_in(tmp_path, monkeypatch):
    from runtime.timeline import Timeline, write_timeline

    synced = synced_as_written(monkeypatch)
    write_timeline(Timeline("session.mp4", 1.0, software=analysis_software()), tmp_path / "sessions" / "p1")
    # was: only the files inside were synced; a power cut could lose the new folders' entries, and the session
    assert [path for path, _ in synced if not path.endswith(".part")][:2] == [str(tmp_path / "sessions"),
                                                                           str(tmp_path)]
    synced.clear()
    # there already: its files alone
    write_timeline(Timeline("session.mp4", 2.0, software=analysis_software()), tmp_path / "sessions" / "p1")
    assert str(tmp_path / "sessions") not in [path for path, _ in synced]


def test_a_failed_write_takes_back_its_own_new_folders_not_one_another_run_put_beside(tmp_path):
    from runtime.files import removed_if_failed

    day = tmp_path / "day"
    with pytest.raises(OSError), removed_if_failed(day / "room1"):
        (day / "room1").mkdir(parents=True)
        (day / "room2").mkdir()  # another run's, made meanwhile
        (day / "room2" / "timeline.json").write_text("{}")
        raise OSError(28, "No space left on device")
    # was: day/ removed whole, the other run's folder with it
    assert not (day / "room1").exists() and (day / "room2" / "timeline.json").read_text() == "{}"


def test_the_first_missing_folder_is_found_on_the_path_as_it_resolves(tmp_path):
    from runtime.files import topmost_missing

    (tmp_path / "a").mkdir()
    assert topmost_missing(tmp_path / "new" / ".." / "a" / "room") == tmp_path / "a" / "room"  # was: 'new'


def test_files_under_linked_folders_are_found_once_and_a_link_back_up_is_no_loop(tmp_path):
    (tmp_path / "corpus" / "a").mkdir(parents=True)
    (tmp_path / "corpus" / "a" / "one.wav").write_bytes(b"")
    (tmp_path / "split").mkdir()
    (tmp_path / "split" / "a").symlink_to(tmp_path / "corpus" / "a", target_is_directory=True)
    (tmp_path / "split" / "a-again").symlink_to(tmp_path / "corpus" / "a", target_is_directory=True)
    (tmp_path / "corpus" / "a" / "up").symlink_to(tmp_path / "split", target_is_directory=True)  # a loop
    found = find_files([tmp_path / "split"], {".wav"}, "audio files")
    assert len(found) == 1 and found[0].name == "one.wav"  # was: none (linked folders not followed)


def test_files_under_a_folder_that_are_no_regular_file_are_listed_for_the_reading_to_say_what_they_are(tmp_path):
    (tmp_path / "one.wav").write_bytes(b"RIFF")
    (tmp_path / "visit2.wav").symlink_to(tmp_path / "unmounted" / "visit2.wav")
    os.mkfifo(tmp_path / "p.wav")
    (tmp_path / "notes.txt").symlink_to(tmp_path / "gone.txt")  # not of the kind asked for: not listed
    found = find_files([tmp_path], {".wav"}, "audio files")
    assert [p.name for p in found] == ["one.wav", "p.wav", "visit2.wav"]  # was: one.wav alone, the rest unsaid


@pytest.mark.parametrize("first_line", ["", " , ,", ",,"])
def test_a_csv_whose_first_line_names_no_column_is_said_to_be_that_before_any_rows_width(tmp_path, first_line):
    path = tmp_path / "rows.csv"
    path.write_text(f"{first_line}\npath,speaker,emotion\none.wav,ann,sad\n")  # a spreadsheet's empty first row
    # was, for the blank line: 'line 2: more fields than the header's 0 (a comma inside a field ...)'
    with pytest.raises(InputError, match=r"rows\.csv: has a first line that names no column: a CSV's first line "
                                         r"is its header, naming its columns$"):
        read_csv_rows(path)
    with pytest.raises(InputError, match=r"names no column: the header is a,b$"):
        read_csv_rows(path, header_hint="the header is a,b")


def test_a_csv_of_blank_lines_has_no_header_and_no_rows_and_a_header_alone_no_rows(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("\n\n")
    assert read_csv_rows(path) == ([], [])
    path.write_text("a,b\n\n1,2\n")
    assert read_csv_rows(path) == (["a", "b"], [(3, {"a": "1", "b": "2"})])


def test_a_file_named_twice_is_found_once_and_said(tmp_path, caplog):
    (tmp_path / "clips").mkdir()
    for name in ("a.wav", "b.wav"):
        (tmp_path / "clips" / name).write_bytes(b"")
    (tmp_path / "alias.wav").symlink_to(tmp_path / "clips" / "b.wav")
    named = [tmp_path / "clips" / "a.wav", tmp_path / "clips", tmp_path / "alias.wav", tmp_path / "clips" / "a.wav"]
    found = find_files(named, {".wav"}, "audio files")
    assert found == [tmp_path / "clips" / "a.wav", tmp_path / "clips" / "b.wav"]  # was: a.wav three times, b.wav twice
    [record] = [r for r in caplog.records if "named more than once" in r.getMessage()]
    assert record.getMessage().endswith(f"left out: {tmp_path / 'clips' / 'a.wav'}, {tmp_path / 'alias.wav'}, "
                                        f"{tmp_path / 'clips' / 'a.wav'}")
    assert record.getMessage().startswith("3 of the audio files named more than once")


def test_a_name_that_is_not_utf8_is_written_with_its_bytes_escaped_and_encodes_as_strict_utf8():
    latin1 = Path(os.fsdecode(b"/clips/s\xe9ance.wav"))  # 'séance' as an old Latin-1 stick names it
    assert path_text(latin1) == "/clips/s\\xe9ance.wav"
    assert path_text(latin1).encode("utf-8")  # strict: a CSV or a line of it is valid UTF-8
    assert path_text("/clips/séance.wav") == "/clips/séance.wav"  # a UTF-8 name is written as it is


def test_an_input_that_is_a_loop_of_links_or_a_link_to_nothing_is_said_as_such_not_as_missing(tmp_path):
    (tmp_path / "loop-a").symlink_to("loop-b")
    (tmp_path / "loop-b").symlink_to("loop-a")
    (tmp_path / "dangling.wav").symlink_to("gone.wav")
    for path, problem in ((tmp_path / "loop-a", "is a link to loop-b, which leads back to itself (a loop of links)"),
                          (tmp_path / "dangling.wav", "is a link to gone.wav, which does not exist"),
                          (tmp_path / "absent.wav", "no such file or folder")):
        with pytest.raises(InputError) as refused:  # was: "no such file or folder" for the links too
            find_files([path], {".wav"}, "audio files")
        assert str(refused.value) == f"{path}: {problem}"


def test_a_link_leading_into_a_loop_it_is_not_part_of_is_said_so_not_as_leading_back_to_itself(tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("c")
    (tmp_path / "c").symlink_to("b")
    for name, problem in (("a", "is a link to b, which leads into a loop of links"),
                          ("b", "is a link to c, which leads back to itself (a loop of links)")):
        with pytest.raises(InputError) as refused:
            find_files([tmp_path / name], {".wav"}, "audio files")
        assert str(refused.value) == f"{tmp_path / name}: {problem}"  # was: a 'leads back to itself' too


def test_an_input_file_that_is_a_pipe_or_a_folder_is_refused_at_once_naming_what_it_is(tmp_path):
    fifo = tmp_path / "settings.toml"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="settings.toml: is a device, pipe or socket; give a config file$"):
        existing_file(fifo, "config file")
    with pytest.raises(InputError, match="is a folder; give a config file$"):
        existing_file(tmp_path, "config file")
    assert existing_file(__file__) == Path(__file__)


def test_files_replaced_together_are_all_replaced_or_none_when_a_later_rename_fails(tmp_path, monkeypatch):
    old, new, failing = tmp_path / "timeline.json", tmp_path / "timeline.csv", tmp_path / "report.txt"
    old.write_bytes(b"the earlier run's")
    staged = [stage_file(target, b"new") for target in (old, new, failing)]
    renamed = os.replace

    def replace(source, target):
        if Path(target) == failing:
            raise OSError(errno.ENOSPC, "No space left on device")
        renamed(source, target)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(InputError, match=r"report\.txt: cannot write it: No space left on device"):
        replace_together(list(zip(staged, (old, new, failing), strict=True)))
    # the earlier run's file back, and no new file beside it that the failed run alone wrote
    assert old.read_bytes() == b"the earlier run's"
    assert not new.exists() and not failing.exists()


def test_a_csv_saved_with_a_byte_order_mark_names_its_first_column_without_it(tmp_path):
    path = tmp_path / "manifest.csv"
    path.write_bytes("video,start_s,end_s,label\nclip.mp4,0,2,calm\n".encode("utf-8-sig"))  # Excel's "CSV UTF-8"
    header, rows = read_csv_rows(path)
    assert header == ["video", "start_s", "end_s", "label"]  # was it read as UTF-8: "\ufeffvideo", no video column
    assert rows == [(2, {"video": "clip.mp4", "start_s": "0", "end_s": "2", "label": "calm"})]
