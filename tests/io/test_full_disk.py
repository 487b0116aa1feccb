"""A full disk (ENOSPC) while writing a file or a folder: a clear error naming it, nothing half-written."""

from __future__ import annotations

import errno

import numpy as np
import pytest

from embedlab.errors import EmbedlabError
from embedlab.io import files


def disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_full_disk_in_write_folder_leaves_nothing(tmp_path):
    target = tmp_path / "model"

    def fill(folder):
        (folder / "part.bin").write_bytes(b"x" * 1000)
        disk_full()

    with pytest.raises(EmbedlabError, match="No space left on device"):
        files.write_folder(target, overwrite=False, fill=fill)
    assert list(tmp_path.iterdir()) == []


def test_full_disk_in_atomic_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "vectors.npy"
    files.save_npy(target, np.ones(3))
    monkeypatch.setattr(np, "save", disk_full)
    with pytest.raises(EmbedlabError, match=r"cannot write .*vectors.npy: No space left on device"):
        files.save_npy(target, np.zeros(3))
    monkeypatch.undo()
    assert np.load(target).tolist() == [1.0, 1.0, 1.0]
    assert [p.name for p in tmp_path.iterdir()] == ["vectors.npy"]


def test_an_output_folder_under_a_file_is_refused_before_work(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(EmbedlabError, match="not a writable folder"):
        files.check_output_dir(tmp_path / "file" / "model", overwrite=False)
