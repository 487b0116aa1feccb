"""One writer per collection at a time, across processes: a lock file next to the collection.

Every change to a collection (each ingest commit, its create, the ANN update at the end of an ingest,
`drop`, and the whole of a `reembed` into it) runs while holding `<store>/<name>.lock` (beside the table `<name>.lance`).
Readers (search, info, listing) never take it: LanceDB commits are atomic and every read sees one
committed version.

The lock is the `filelock` package's `FileLock` (fcntl `flock` on POSIX: the OS releases it when the
process dies, `kill -9` included, so a crashed writer never leaves a stale lock). It is reentrant within a
process (`is_singleton=True`: a reembed holds it for its whole run while each commit takes it again).
A writer that finds it taken waits, saying so after `NOTICE_AFTER` seconds; with `wait=False` it raises
`BusyError` at once.

Why a lock and not optimistic retries of LanceDB's commit conflicts: a retried `merge_insert` keeps
the table consistent, but not what embedlab keeps beside it: the choice of which process creates the
table and writes the recipe, the id check that decides add vs update, and the ANN index extended from
"the version before my commit". Each of those would need its own compare-and-retry loop; one lock
around read-check-commit makes all of them plain sequential code (docs/reliability.md has the figures).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from embedlab.errors import BusyError

NOTICE_AFTER = 1.0  # seconds a writer waits silently before saying that it waits


def stderr_notice(message: str) -> None:
    """The default way a waiting writer says so: one line on stderr."""
    print(message, file=sys.stderr, flush=True)


@contextmanager
def hold(
    path: Path, name: str, wait: bool = True, on_wait: Callable[[str], None] | None = stderr_notice
) -> Iterator[None]:
    """Hold the write lock at `path` for collection `name` for the duration of the block."""
    from filelock import FileLock, Timeout

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path), is_singleton=True)
    try:
        lock.acquire(timeout=NOTICE_AFTER if wait else 0)
    except Timeout:
        if not wait:
            raise BusyError(
                f"collection {name!r} is being written by another process.",
                "run it again when the other one has finished, or leave out wait=False (--no-wait) to wait for it.",
                param="wait",
            ) from None
        if on_wait is not None:
            on_wait(f"waiting for another process writing collection {name!r} to finish ...")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()
