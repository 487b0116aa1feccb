"""Maps and comparisons computed in background threads, with progress, for the explorer page.

A job is keyed by what it depends on (collection name and table version, method, k), so a second request
for the same map joins the running job or gets its finished result, and a changed collection gets a new one.
The projections themselves are `embedlab.maps.project` with its on-disk cache under the store, so a map
computed once (by the explorer or by `embedlab map`) is read back in milliseconds, also after a restart.
The finished payload is kept as JSON bytes (a few MB for 100,000 points) for the last few jobs only.

Progress is reported by stage (reading, projecting, clustering), with the seconds spent: UMAP and
openTSNE give no usable progress callback from inside their optimisation.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import EmbedlabError

KEEP_JOBS = 8
HOVER_CHARS = 160
MOVED = 50


@dataclass
class Job:
    """One background computation; `payload` (JSON bytes) is set when done, `error` when it failed."""

    key: tuple[Any, ...]
    stage: str = "queued"
    progress: float = 0.0
    started: float = field(default_factory=time.monotonic)
    payload: bytes | None = None
    error: dict[str, Any] | None = None
    data: Any = None  # the MapData of a finished map (columns, thumbnails), for follow-up requests
    done: threading.Event = field(default_factory=threading.Event)

    def status(self) -> dict[str, Any]:
        state = "failed" if self.error else ("done" if self.done.is_set() else "running")
        return {
            "status": state,
            "stage": self.stage,
            "progress": round(self.progress, 3),
            "elapsed": round(time.monotonic() - self.started, 1),
            **({"error": self.error} if self.error else {}),
        }

    def step(self, stage: str, progress: float) -> None:
        self.stage, self.progress = stage, progress


class Jobs:
    """The running and recent jobs of one server (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: OrderedDict[tuple[Any, ...], Job] = OrderedDict()

    def get_or_start(self, key: tuple[Any, ...], work: Callable[[Job], None], fresh: bool = False) -> Job:
        """The job for `key`: the running or finished one, else a new one (also with `fresh` once it finished)."""
        with self.lock:
            job = self.jobs.get(key)
            if job is not None and not job.error and not (fresh and job.done.is_set()):
                self.jobs.move_to_end(key)
                return job
            job = Job(key)
            self.jobs[key] = job
            while len(self.jobs) > KEEP_JOBS:
                self.jobs.popitem(last=False)
        threading.Thread(target=_run, args=(job, work), daemon=True, name=f"explorer-{key[0]}").start()
        return job

    def find(self, key: tuple[Any, ...]) -> Job | None:
        with self.lock:
            return self.jobs.get(key)


def _run(job: Job, work: Callable[[Job], None]) -> None:
    try:
        work(job)
    except EmbedlabError as exc:
        job.error = {"message": exc.message, "hint": exc.hint, "type": type(exc).__name__}
    except Exception as exc:  # shown on the page instead of a blank canvas; the server keeps running
        job.error = {"message": f"{type(exc).__name__}: {exc}", "hint": None, "type": "InternalError"}
    finally:
        job.step("failed" if job.error else "done", 1.0)
        job.done.set()


def coords(values: np.ndarray) -> list[float]:
    return [round(float(v), 4) for v in values]


def hover_texts(data: Any) -> list[str]:
    texts = data.texts or [None] * len(data)
    return [(t or "")[:HOVER_CHARS] for t in texts]


def jsonable(value: Any) -> Any:
    """A metadata value as JSON: bytes (thumbnails) become None, NaN None, anything else odd its str()."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, bytes):
        return None
    if isinstance(value, np.generic):
        return jsonable(value.item())
    return str(value)


def dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


PAYLOAD_FORMAT = 1


def payload_file(collection: Any, method: str) -> Path:
    """Where the finished map of a collection's current table version is kept (beside the projection cache)."""
    version = int(collection.table.version)
    return collection.store.side(collection.name) / "maps" / f"explorer-{method}-v{version}-f{PAYLOAD_FORMAT}.json"


def read_payload(collection: Any, method: str) -> bytes | None:
    """The finished map saved by an earlier run (projection, clusters and their names), or None."""
    try:
        return payload_file(collection, method).read_bytes()
    except OSError:
        return None


def save_payload(collection: Any, method: str, payload: bytes) -> None:
    """Keep the finished map for the next server; a store that is not writable is skipped."""
    from embedlab.io import files

    try:
        path = payload_file(collection, method)
        path.parent.mkdir(parents=True, exist_ok=True)
        with files.atomic_write(path, durable=False) as temp:
            temp.write_bytes(payload)
    except (OSError, EmbedlabError):
        return


def map_work(collection: Any, method: str, clusters: bool = True, fresh: bool = False) -> Callable[[Job], None]:
    """The job that projects a collection and names its clusters (as `embedlab map` does).

    Clustering 100,000 points takes far longer than reading a cached projection, so the finished map
    (JSON) is saved per table version and method, and the next server sends it without recomputing.
    """

    def work(job: Job) -> None:
        from embedlab.maps import find_clusters, from_collection, project

        job.step("reading the saved map", 0.02)
        saved = None if fresh else read_payload(collection, method)
        if saved is not None:
            job.payload = saved
            return
        job.step("reading vectors", 0.05)
        data = from_collection(collection)
        job.step(f"projecting with {method}", 0.2)
        projection = project(data.vectors, method=method, cache_dir=data.cache_dir, cache_key=data.cache_key)
        labels: list[int] | None = None
        names: dict[str, str] = {}
        if clusters and len(data) >= 4:
            job.step("clustering", 0.8)
            found = find_clusters(data.vectors, data.texts)
            labels = [int(c) for c in found.labels]
            names = {str(c): name for c, name in found.names.items()}
        job.step("sending", 0.95)
        job.data = data
        job.payload = dumps(
            {
                "status": "done",
                "collection": collection.name,
                "method": method,
                "cached": projection.cached,
                "seconds": projection.seconds,
                "ids": data.ids,
                "x": coords(projection.coords[:, 0]),
                "y": coords(projection.coords[:, 1]),
                "texts": hover_texts(data),
                "clusters": labels,
                "cluster_names": names,
                "columns": list(data.columns),
                "images": data.thumbnails is not None,
            }
        )
        save_payload(collection, method, job.payload)

    return work


def compare_work(first: Any, second: Any, method: str, k: int) -> Callable[[Job], None]:
    """The job for two collections of the same ids: both maps and each item's kNN Jaccard overlap."""

    def work(job: Job) -> None:
        from embedlab.maps import align, from_collection, neighbourhood_jaccard, project

        job.step("reading vectors", 0.05)
        a, b = align(from_collection(first), from_collection(second))
        if not 1 <= k < len(a):
            raise EmbedlabError(f"k must be between 1 and {len(a) - 1} for {len(a)} shared items, got {k}.", param="k")
        job.step(f"projecting {first.name} with {method}", 0.15)
        pa = project(a.vectors, method=method, cache_dir=a.cache_dir, cache_key=_sub_key(a, first))
        job.step(f"projecting {second.name} with {method}", 0.45)
        pb = project(b.vectors, method=method, cache_dir=b.cache_dir, cache_key=_sub_key(b, second))
        job.step(f"comparing {k} nearest neighbours", 0.75)
        jaccard = neighbourhood_jaccard(a.vectors, b.vectors, k=k)
        order = np.argsort(jaccard, kind="stable")[:MOVED]
        texts = hover_texts(a)
        job.payload = dumps(
            {
                "status": "done",
                "a": first.name,
                "b": second.name,
                "method": method,
                "k": k,
                "ids": a.ids,
                "texts": texts,
                "xa": coords(pa.coords[:, 0]),
                "ya": coords(pa.coords[:, 1]),
                "xb": coords(pb.coords[:, 0]),
                "yb": coords(pb.coords[:, 1]),
                "jaccard": [round(float(j), 4) for j in jaccard],
                "mean_jaccard": round(float(jaccard.mean()), 4),
                "moved": [
                    {"row": int(r), "id": a.ids[r], "text": texts[r], "jaccard": float(jaccard[r])} for r in order
                ],
            }
        )

    return work


def _sub_key(data: Any, collection: Any) -> dict[str, Any] | None:
    """The cache key of a collection's map restricted to shared ids (the whole map when nothing was dropped)."""
    if data.cache_key is None:
        return None
    if len(data) == len(collection):
        return data.cache_key
    return {**data.cache_key, "ids": hash_ids(data.ids)}


def hash_ids(ids: list[str]) -> str:
    import hashlib

    return hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()[:16]
