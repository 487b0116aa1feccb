"""An approximate nearest-neighbour index (hnswlib HNSW) kept beside a collection's table.

LanceDB is the record store; its own vector search was measured far slower than HNSW at 100k
vectors, so large collections get this index for semantic search. hnswlib was chosen over faiss and
usearch from the sweep in `benchmarks/search_latency.py` (the fastest single query at recall@10 >= 0.99
on both benchmark data sets), and because it can remove a point (`mark_deleted`), filter during the
graph walk, and grow in place (its storage is one block that `realloc` extends), so an upsert needs no
rebuild and extending a 1M-vector index never holds a second copy of it.

The index records exactly what it holds: the table version it was built (or last extended) from and its
number of live vectors. It is used only while both match the table; otherwise exact search answers until
the next write brings it up to date. The index folder is written whole or not at all
(`embedlab.io.files.write_folder`), by a writer that holds the collection's
write lock, so the version it records is the one its vectors came from.

Rows of the graph are labels 0..n-1; `ids[label]` is the item id, `""` for a deleted row.

efSearch defaults to `EF_SEARCH`, the value the hard benchmark data needs for recall@10 0.99 (100k points
mixed from 2,100 sentences: dozens of near-duplicates per query). Most collections need far less (100k
distinct texts reach 0.99 at efSearch 48-96, several times faster), so `tune` sets it per index from a
sample of the user's own queries: the smallest value of `EF_CHOICES` whose recall@10 against exact search
reaches the target. The sample must be real queries: the index's own vectors used as queries were tried
and are far too easy (they chose efSearch 32 where new queries needed 256). hnswlib has no such tuning,
so it is written here. The value is kept in index.json, through extensions and rebuilds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from embedlab.io.files import write_folder

LIBRARY = "hnswlib"
HNSW_M = 32
EF_CONSTRUCTION = 200
EF_SEARCH = 256  # efSearch of an index that was never calibrated (and the base of filtered walks)
EF_CHOICES = (32, 48, 64, 96, 128, 192, 256, 384, 512)
TARGET_RECALL = 0.99
EXACT_CHUNK = 65_536  # rows compared at a time by the exact search of `tune`
ANN_THRESHOLD = 50_000  # collections of at least this many items get an index
GROWTH = 1.25  # capacity headroom when the index must grow (one realloc per 25% of growth)
THRESHOLD_ENV = "EMBEDLAB_ANN_THRESHOLD"  # overrides ANN_THRESHOLD (tests and stress runs use a small one)


def ann_threshold() -> int:
    """The collection size from which an HNSW index is kept: $EMBEDLAB_ANN_THRESHOLD, else ANN_THRESHOLD."""
    value = os.environ.get(THRESHOLD_ENV, "").strip()
    try:
        return max(1, int(value)) if value else ANN_THRESHOLD
    except ValueError:
        return ANN_THRESHOLD


def recorded(folder: Path) -> tuple[int, int] | str:
    """(table_version, count) that a saved index records, or what is wrong with its index.json.

    Reads only the small JSON file, so a reader can tell whether the index is worth loading.
    """
    path = folder / "index.json"
    if not path.exists():
        return "missing"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        version, count = meta["table_version"], meta["count"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        return f"{path} is damaged ({type(exc).__name__}: {exc})"
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (version, count)):
        return f"{path} is damaged (table_version and count must be whole numbers)"
    return version, count


class AnnIndex:
    """hnswlib Index over unit vectors with inner product, plus the id of each label."""

    def __init__(
        self,
        index: object,
        ids: np.ndarray,
        table_version: int,
        deleted: int = 0,
        ef_search: int = EF_SEARCH,
    ) -> None:
        self.index = index
        self.ids = np.asarray(ids, dtype=object)
        self.table_version = table_version
        self.deleted = deleted
        self.ef_search = ef_search  # set by `tune`; kept through extensions and rebuilds
        self._labels: dict[str, int] | None = None

    @property
    def count(self) -> int:
        """Live vectors (deleted rows excluded)."""
        return len(self.ids) - self.deleted

    @property
    def labels(self) -> dict[str, int]:
        """id -> label of every live row (built on first use)."""
        if self._labels is None:
            self._labels = {str(i): n for n, i in enumerate(self.ids) if i != ""}
        return self._labels

    def matches(self, table_version: int, rows: int) -> bool:
        """Whether this index holds exactly the vectors of that table version."""
        return self.table_version == table_version and self.count == rows

    @classmethod
    def empty(cls, dim: int, capacity: int, table_version: int) -> AnnIndex:
        import hnswlib

        index = hnswlib.Index(space="ip", dim=dim)
        index.init_index(max_elements=max(capacity, 1), ef_construction=EF_CONSTRUCTION, M=HNSW_M)
        index.set_ef(EF_SEARCH)
        return cls(index, np.empty(0, dtype=object), table_version)

    @classmethod
    def build(
        cls,
        batches: Iterable[tuple[np.ndarray, np.ndarray]],
        dim: int,
        rows: int,
        table_version: int,
        ef_search: int = EF_SEARCH,
    ) -> AnnIndex:
        """Build from (ids, vectors) batches, e.g. streamed from the table: only one batch is held besides
        the index itself."""
        ann = cls.empty(dim, rows, table_version)
        ann.ef_search = ef_search
        for ids, vectors in batches:
            ann.upsert(np.asarray(ids), vectors)
        return ann

    def upsert(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Insert new items; an id already present has its old row deleted first (its vector changed)."""
        if not len(ids):
            return
        ids = np.asarray(ids).astype(str)
        labels = self.labels if len(self.ids) else {}
        old = [labels.pop(i) for i in ids if i in labels]
        for label in old:
            self.index.mark_deleted(label)
            self.ids[label] = ""
        self.deleted += len(old)
        start = len(self.ids)
        needed = start + len(ids)
        if needed > self.index.get_max_elements():
            self.index.resize_index(max(needed, int(self.index.get_max_elements() * GROWTH)))
        new_labels = np.arange(start, needed)
        self.index.add_items(np.ascontiguousarray(vectors, dtype=np.float32), new_labels)
        self.ids = np.concatenate([self.ids, np.asarray(ids, dtype=object)])
        if self._labels is not None:
            self._labels.update(zip(ids.tolist(), new_labels.tolist(), strict=True))

    def search_many(
        self, queries: np.ndarray, k: int, ef: int | None = None, allowed: np.ndarray | None = None
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per query: (ids, scores) of the k best live rows, best first. `allowed` (a boolean mask over
        labels) restricts the walk's results to those rows (hnswlib's filter)."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, self.count)
        if k == 0:
            return [np.empty(0, dtype=object)] * len(queries), [np.empty(0, dtype=np.float32)] * len(queries)
        self.index.set_ef(max(ef or self.ef_search, k))
        test = None if allowed is None else allowed.__getitem__
        try:
            labels, distances = self.index.knn_query(queries, k=k, filter=test, num_threads=1 if test else -1)
        except RuntimeError:  # fewer than k reachable rows pass the filter
            return self._search_each(queries, k, test)
        return [self.ids[row] for row in labels], [1.0 - row for row in distances]

    def _search_each(self, queries: np.ndarray, k: int, test: object) -> tuple[list[np.ndarray], list[np.ndarray]]:
        ids, scores = [], []
        for query in queries:
            for want in range(k, 0, -1):
                try:
                    labels, distances = self.index.knn_query(query, k=want, filter=test, num_threads=1)
                    break
                except RuntimeError:
                    continue
            else:
                labels, distances = np.empty((1, 0), dtype=np.int64), np.empty((1, 0), dtype=np.float32)
            ids.append(self.ids[labels[0]])
            scores.append(1.0 - distances[0])
        return ids, scores

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of the k best rows, best first."""
        ids, scores = self.search_many(query.reshape(1, -1), k)
        return ids[0], scores[0]

    def vectors_of(self, labels: np.ndarray) -> np.ndarray:
        """The stored vectors of some rows (hnswlib keeps them, unquantised)."""
        if not len(labels):
            return np.zeros((0, self.index.dim), dtype=np.float32)
        return np.asarray(self.index.get_items(np.asarray(labels), return_type="numpy"), dtype=np.float32)

    def exact_kth(self, queries: np.ndarray, k: int) -> np.ndarray:
        """The k-th best exact score of each query over the live rows, computed over chunks of
        `EXACT_CHUNK` rows so that no second copy of the vectors is held."""
        best = np.full((len(queries), 0), -np.inf, dtype=np.float32)
        for start in range(0, len(self.ids), EXACT_CHUNK):
            labels = np.arange(start, min(start + EXACT_CHUNK, len(self.ids)))
            labels = labels[self.ids[labels] != ""]
            scores = np.concatenate([best, queries @ self.vectors_of(labels).T], axis=1)
            keep = min(k, scores.shape[1])
            best = -np.partition(-scores, keep - 1, axis=1)[:, :keep]
        return best.min(axis=1)

    def tune(self, queries: np.ndarray, target: float = TARGET_RECALL, k: int = 10) -> dict[int, float]:
        """Set `ef_search` to the smallest of `EF_CHOICES` whose recall@k on `queries` (unit vectors of real
        queries) reaches `target` (the largest choice if none does); return the recall at each value tried.

        A found row counts as a hit when its score reaches the k-th exact score, so ties among duplicates are
        not misses."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, self.count)
        kth = self.exact_kth(queries, k)
        recalls: dict[int, float] = {}
        for ef in EF_CHOICES:
            self.index.set_ef(max(ef, k))
            _, distances = self.index.knn_query(queries, k=k)
            recalls[ef] = round(float(np.mean(1.0 - distances >= kth[:, None] - 1e-5)), 4)
            if recalls[ef] >= target:
                break
        self.ef_search = next((ef for ef, r in recalls.items() if r >= target), EF_CHOICES[-1])
        self.index.set_ef(self.ef_search)
        return recalls

    def save(self, folder: Path) -> None:
        """Write the index, its ids and what it holds into `folder`, replacing it whole."""

        def fill(temp: Path) -> None:
            self.index.save_index(str(temp / "hnsw.bin"))
            np.save(temp / "ids.npy", self.ids.astype(str), allow_pickle=False)
            meta = {
                "library": LIBRARY,
                "table_version": self.table_version,
                "count": self.count,
                "rows": len(self.ids),
                "deleted": self.deleted,
                "dim": int(self.index.dim),
                "M": HNSW_M,
                "ef_construction": EF_CONSTRUCTION,
                "ef_search": self.ef_search,
            }
            (temp / "index.json").write_text(json.dumps(meta), encoding="utf-8")

        write_folder(folder, overwrite=True, fill=fill)

    @classmethod
    def load(cls, folder: Path) -> AnnIndex | None:
        """The saved index, or None when there is none, it cannot be read, it is of another library (an
        older faiss index: rebuilt by the next write) or it is inconsistent."""
        import hnswlib

        if isinstance(recorded(folder), str):  # missing or damaged index.json: exact search answers
            return None
        try:
            meta = json.loads((folder / "index.json").read_text(encoding="utf-8"))
            if meta.get("library") != LIBRARY:
                return None
            version, count, deleted = int(meta["table_version"]), int(meta["count"]), int(meta["deleted"])
            ef_search = int(meta.get("ef_search", EF_SEARCH))  # indexes written before `tune` existed
            if not 1 <= ef_search <= 4096:
                return None
            ids = np.load(folder / "ids.npy", allow_pickle=False)
            if len(ids) != count + deleted or int(np.count_nonzero(ids == "")) != deleted:
                return None
            index = hnswlib.Index(space="ip", dim=int(meta["dim"]))
            index.load_index(str(folder / "hnsw.bin"), max_elements=len(ids))
        except (OSError, ValueError, RuntimeError, KeyError, TypeError):
            return None
        if index.element_count != len(ids):
            return None
        index.set_ef(ef_search)
        return cls(index, ids.astype(object), version, deleted, ef_search)
