"""atomic_write and write_folder: a write that fails, is interrupted or is killed never leaves a half-written file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from embedlab.errors import AlreadyExistsError, EmbedlabError
from embedlab.io.files import atomic_write, check_output, save_npy, write_folder, write_text

OLD = "the old contents\n" * 100


def test_a_successful_write_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text(OLD, encoding="utf-8")
    write_text(target, "new\n")
    assert target.read_text(encoding="utf-8") == "new\n" and os.listdir(tmp_path) == ["out.txt"]


@pytest.mark.parametrize("error", [RuntimeError("bug"), KeyboardInterrupt()])
def test_an_error_or_ctrl_c_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path, error: BaseException) -> None:
    target = tmp_path / "out.txt"
    target.write_text(OLD, encoding="utf-8")
    with pytest.raises(type(error)):
        with atomic_write(target) as temp:
            temp.write_text("half of the new", encoding="utf-8")
            raise error
    assert target.read_text(encoding="utf-8") == OLD and os.listdir(tmp_path) == ["out.txt"]


def test_a_write_killed_half_way_leaves_the_old_file(tmp_path: Path) -> None:
    """A real SIGKILL in the middle of writing: the target still holds the old bytes, whole."""
    target = tmp_path / "vectors.npy"
    np.save(target, np.arange(10.0))
    script = textwrap.dedent(
        f"""
        import os, signal
        from embedlab.io.files import atomic_write
        with atomic_write({str(target)!r}) as temp:
            with open(temp, "wb") as handle:
                handle.write(b"\\x93NUMPY" + b"x" * 1_000_000)
                handle.flush()
                os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.returncode == -signal.SIGKILL
    np.testing.assert_array_equal(np.load(target), np.arange(10.0))
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "vectors.npy"]
    assert all(name.startswith(".vectors-") and ".partial" in name for name in leftovers)


def test_npy_keeps_its_name(tmp_path: Path) -> None:
    save_npy(tmp_path / "a.npy", np.eye(2))
    assert os.listdir(tmp_path) == ["a.npy"] and np.load(tmp_path / "a.npy").shape == (2, 2)


def test_a_full_or_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbedlabError, match="cannot write .*/missing/out.txt"):
        write_text(tmp_path / "missing" / "out.txt", "x")
    target = tmp_path / "out.txt"
    target.write_text(OLD, encoding="utf-8")
    with pytest.raises(EmbedlabError, match="No space left on device"):
        with atomic_write(target) as temp, open("/dev/full", "w") as full:  # a real ENOSPC from the kernel
            temp.write_text("half")
            full.write("x" * 100_000)
            full.flush()
    assert target.read_text(encoding="utf-8") == OLD and os.listdir(tmp_path) == ["out.txt"]


@pytest.mark.parametrize("special", ["/dev/null", "/dev/full"])
def test_devices_are_never_replaced(special: str) -> None:
    with pytest.raises(EmbedlabError, match="not a regular file"):
        with atomic_write(special) as temp:
            temp.write_text("x")
    assert not Path(special).is_file()


def test_check_output(tmp_path: Path) -> None:
    assert check_output(tmp_path / "a.html", (".html",)) == tmp_path / "a.html"
    with pytest.raises(EmbedlabError, match="end the output name with .html"):
        check_output(tmp_path / "a.svg", (".html",))
    with pytest.raises(EmbedlabError, match="does not exist"):
        check_output(tmp_path / "no" / "a.html")
    with pytest.raises(EmbedlabError, match="is a folder"):
        check_output(tmp_path)


def test_write_folder_is_all_or_nothing(tmp_path: Path) -> None:
    out = tmp_path / "model"

    def fill(folder: Path) -> None:
        (folder / "a.txt").write_text("a", encoding="utf-8")

    write_folder(out, overwrite=False, fill=fill)
    assert (out / "a.txt").read_text() == "a"
    with pytest.raises(AlreadyExistsError):
        write_folder(out, overwrite=False, fill=fill)

    def broken(folder: Path) -> None:
        (folder / "b.txt").write_text("b", encoding="utf-8")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_folder(out, overwrite=True, fill=broken)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"] and os.listdir(out) == ["a.txt"]
