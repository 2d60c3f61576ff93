"""``replace_together`` keeps each target's old file aside while it renames: a rename that fails onto a target that
had a file gives that file back (also where the file system has no hard links and the old file was renamed
aside), and neither a success nor a failure leaves a ``.NAME.*.old`` file behind."""

import errno
import os
from pathlib import Path

import pytest

from runtime.errors import InputError
from runtime.files import replace_together, stage_file


def _failing_onto(monkeypatch, failing: Path) -> None:
    renamed = os.replace

    def replace(source, target):
        if Path(target) == failing and Path(source).suffix == ".part":
            raise OSError(errno.ENOSPC, "No space left on device")
        renamed(source, target)

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("hard_links", [True, False], ids=["hard-links", "no-hard-links"])
def test_a_failed_rename_onto_an_existing_file_gives_it_back_and_leaves_no_old_copy(tmp_path, monkeypatch,
                                                                                       hard_links):
    target = tmp_path / "timeline.json"
    target.write_bytes(b"the earlier run's")
    staged = stage_file(target, b"new")
    if not hard_links:  # e.g. a FAT stick: the old file is renamed aside instead
        def no_link(*_):
            raise OSError(errno.EPERM, "Operation not permitted")
        monkeypatch.setattr(os, "link", no_link)
    _failing_onto(monkeypatch, target)
    with pytest.raises(InputError, match=r"timeline\.json: cannot write it: No space left on device"):
        replace_together([(staged, target)])
    assert target.read_bytes() == b"the earlier run's"
    assert not list(tmp_path.glob(".*.old"))


def test_files_replaced_together_leave_no_old_copies_behind(tmp_path):
    targets = [tmp_path / "timeline.csv", tmp_path / "timeline.json"]
    for target in targets:
        target.write_bytes(b"old")
    replace_together([(stage_file(target, b"new"), target) for target in targets])
    assert [t.read_bytes() for t in targets] == [b"new", b"new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["timeline.csv", "timeline.json"]
