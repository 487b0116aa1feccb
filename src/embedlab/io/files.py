"""Writing files so that an interrupted write never leaves a half-written file or folder behind.

`atomic_write(path)` gives a temporary path in the same folder; when the block ends normally the
temporary file is flushed to disk and renamed over `path` in one step (`os.replace`), so readers see
either the old file or the new one, never a mixture. On any exception, Ctrl-C included, the temporary
file is removed and the old file is left as it was. `write_folder` does the same for whole folders.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from embedlab.errors import AlreadyExistsError, EmbedlabError

PARTIAL = ".partial"


def cache_home() -> Path:
    """embedlab's cache folder: $EMBEDLAB_CACHE, else $XDG_CACHE_HOME/embedlab, else ~/.cache/embedlab.

    The same convention as the store ($EMBEDLAB_STORE, else $XDG_DATA_HOME/embedlab).
    """
    if os.environ.get("EMBEDLAB_CACHE"):
        return Path(os.environ["EMBEDLAB_CACHE"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser() / "embedlab"


def _temp_sibling(path: Path, tag: str = PARTIAL) -> Path:
    # keeps the suffix, so writers that add one when it is missing (np.save) use the name as given
    return path.with_name(f".{path.stem}-{secrets.token_hex(4)}{tag}{path.suffix}")


def check_output(path: str | Path, suffixes: Sequence[str] | None = None, what: str = "output") -> Path:
    """An output file path whose folder exists and is writable and whose extension is one of `suffixes`.

    Checked before any work is done, so a long job never ends in an error about where to write.
    """
    path = Path(path).expanduser()
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise EmbedlabError(
            f"cannot tell what to write from {path.name!r} (unknown {what} type).",
            f"end the {what} name with {' or '.join(suffixes)}.",
            param="output",
        )
    if path.is_dir():
        raise EmbedlabError(f"the {what} {path} is a folder.", "give a file name.", param="output")
    folder = path.parent
    if not folder.is_dir():
        raise EmbedlabError(
            f"the folder {folder} of the {what} does not exist.",
            f"create it first (mkdir -p {folder}).",
            param="output",
        )
    if not os.access(folder, os.W_OK):
        raise EmbedlabError(f"the folder {folder} of the {what} is not writable.", "pick another path.", param="output")
    return path


@contextmanager
def atomic_write(path: str | Path, durable: bool = True) -> Iterator[Path]:
    """`with atomic_write(target) as temp: write(temp)`: `target` is replaced only when the block succeeds.

    `durable` flushes the file to disk before the rename (survives a power cut, not just a kill).
    An `OSError` while writing (disk full, no permission) becomes an `EmbedlabError` naming the file.
    """
    target = Path(path).expanduser()
    if target.exists() and not target.is_file():  # never replace a device, a pipe or a folder
        raise EmbedlabError(f"cannot write {target}: it is not a regular file.", "give a file name.", param="output")
    temp = _temp_sibling(target)
    try:
        yield temp
        if durable and temp.is_file():
            with open(temp, "rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(temp, target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise EmbedlabError(
            f"cannot write {target}: {exc.strerror or exc}.", "check that the folder exists, is writable and has space."
        ) from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str, durable: bool = True) -> None:
    """Write a UTF-8 text file atomically."""
    with atomic_write(path, durable) as temp:
        temp.write_text(text, encoding="utf-8")


def write_json(path: str | Path, data: Any, durable: bool = True) -> None:
    """Write JSON (indented, UTF-8) atomically."""
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str), durable)


def save_npy(path: str | Path, array: Any, durable: bool = True) -> None:
    """Write a .npy file (never pickled) atomically."""
    with atomic_write(path, durable) as temp:
        import numpy as np  # here, so that the command line's start-up imports no numpy

        np.save(temp, array, allow_pickle=False)


def check_output_dir(output: Path, overwrite: bool) -> None:
    """Refuse to replace a file, or a non-empty folder unless `overwrite`, and a folder that cannot be made
    (its nearest existing parent is not a writable folder). Checked before any work is done."""
    output = Path(output).expanduser()
    parent = output.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise EmbedlabError(
            f"cannot create {output}: {parent} is not a writable folder.", "pick another path.", param="output"
        )
    if output.exists() and not output.is_dir():
        raise EmbedlabError(f"{output} is a file, not a folder.", "choose a new folder name.", param="output")
    if output.is_dir() and any(output.iterdir()) and not overwrite:
        raise AlreadyExistsError(
            f"{output} already exists and is not empty.", "choose a new folder, or pass overwrite=True.", param="output"
        )


def write_folder(output: str | Path, overwrite: bool, fill: Callable[[Path], None]) -> None:
    """Fill a temporary sibling folder, then rename it into place; on any error nothing is left behind.

    With `overwrite`, an existing `output` is moved aside first and removed only once the new folder is in place.
    """
    output = Path(output).expanduser()
    temp = output.with_name(f".{output.name}-{secrets.token_hex(4)}{PARTIAL}")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        temp.mkdir()
    except OSError as exc:
        raise EmbedlabError(
            f"cannot create {output}: {exc.strerror or exc}.", "check that the folder is writable.", param="output"
        ) from exc
    try:
        fill(temp)
        if output.exists():
            if not overwrite and not (output.is_dir() and not any(output.iterdir())):
                raise AlreadyExistsError(
                    f"{output} already exists.", "pass overwrite=True to replace it.", param="output"
                )
            old = output.with_name(f".{output.name}-{secrets.token_hex(4)}.old")
            output.rename(old)
            temp.rename(output)
            shutil.rmtree(old)
        else:
            temp.rename(output)
    except OSError as exc:  # disk full, permissions: nothing half-written is left, and the error says where
        shutil.rmtree(temp, ignore_errors=True)
        raise EmbedlabError(
            f"cannot write {output}: {exc.strerror or exc}.", "check that the folder is writable and has space."
        ) from exc
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


def file_sha256(path: Path, limit: int | None = None) -> str:
    """Hex SHA-256 of a file (first `limit` bytes when given), read in 1 MiB blocks."""
    digest = hashlib.sha256()
    remaining = limit
    with open(path, "rb") as handle:
        while remaining is None or remaining > 0:
            block = handle.read(1 << 20 if remaining is None else min(1 << 20, remaining))
            if not block:
                break
            digest.update(block)
            if remaining is not None:
                remaining -= len(block)
    return digest.hexdigest()
