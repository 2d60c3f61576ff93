"""Arrays the training host keeps on disk: caches written whole, and read back only when whole."""

from __future__ import annotations

import numpy as np
import pytest

from export.arrays import read_cache, save_npz


def test_a_cache_reads_back_as_written(tmp_path):
    save_npz(tmp_path / "deep" / "c.npz", a=np.arange(3), b=np.eye(2))
    back = read_cache(tmp_path / "deep" / "c.npz", ("a", "b"))
    assert back is not None and np.array_equal(back["a"], np.arange(3)) and np.array_equal(back["b"], np.eye(2))


def _npy_named_npz(path):
    np.save(path.with_suffix(".npy"), np.zeros(2))
    path.with_suffix(".npy").replace(path)


def _lzma_npz(path):
    import io
    import zipfile

    member = io.BytesIO()
    np.save(member, np.zeros(2))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_LZMA) as archive:
        archive.writestr("a.npy", member.getvalue())
        archive.writestr("b.npy", member.getvalue())
    data = bytearray(path.read_bytes())
    start = data.index(b"a.npy", 30) + 5 + 4 + 20  # into the first member's compressed stream, past its header
    data[start:start + 40] = bytes(40)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("spoil, problem", [
    (lambda path: path.write_bytes(path.read_bytes()[:200]), ""),  # power lost mid-copy
    (lambda path: path.write_text("not an archive"), ""),
    (_npy_named_npz, "not an .npz archive"),
    (lambda path: save_npz(path, a=np.zeros(2)), "no b"),  # a cache of an older kind
    (lambda path: _lzma_npz(path), ""),  # a file not ours: numpy raises what zipfile's LZMA reader does
], ids=["truncated", "text", "npy", "older kind", "lzma member"])
def test_a_cache_that_cannot_serve_is_computed_again_with_a_warning_naming_it(tmp_path, caplog, spoil, problem):
    path = tmp_path / "c.npz"
    save_npz(path, a=np.zeros(2), b=np.ones(2))
    spoil(path)
    with caplog.at_level("WARNING"):
        assert read_cache(path, ("a", "b")) is None
    assert f"{path}: unreadable cache ({problem}" in caplog.text and "computed again" in caplog.text


def test_a_cache_holding_pickled_objects_is_not_unpickled_but_computed_again(tmp_path, caplog):
    path = tmp_path / "c.npz"
    np.savez(path, a=np.array([{"code": "a pickle runs code when loaded"}], dtype=object), b=np.zeros(2))
    with caplog.at_level("WARNING"):
        assert read_cache(path, ("a", "b")) is None
    assert f"{path}: unreadable cache" in caplog.text
