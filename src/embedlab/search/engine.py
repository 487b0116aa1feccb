"""The search engine of one collection: exact and ANN semantic search, BM25 keyword search and hybrid RRF.

It works on a LanceDB table (id, text, metadata columns, vector) and the folder of its ANN index, and
knows nothing of encoders: callers give it query vectors and query texts. Results are (id, score) pairs,
best first; the collection turns them into `SearchResult`s.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from embedlab.errors import EmbedlabError
from embedlab.search import reciprocal_rank_fusion, top_k_scores
from embedlab.search.ann import EF_SEARCH, LIBRARY, AnnIndex, ann_threshold, recorded

Hits = list[tuple[str, float]]
HYBRID_POOL = 50  # each ranking fused by hybrid search holds max(HYBRID_POOL, 4 k) items
# A filter keeping at most this many rows is searched exactly over them. Measured at 100k (search_latency.py):
# 10,000 kept rows, exact 5,940 q/s against 85 for the filtered graph walk; 50,000 rows, exact 561 against 728.
# The kept rows' vectors are cached per filter (25,000 x 384 float32 = 37 MiB, at most MASK_CACHE filters).
FILTER_EXACT_ROWS = 25_000
BUILD_BATCH = 20_000  # rows read from the table per step while building the index
MASK_CACHE = 8  # filters whose row masks are kept (per table version)


def filtered_ef(k: int, kept: float) -> int:
    """efSearch for a graph walk that only returns rows passing a filter that keeps `kept` of them: the
    walk steps over about 1/kept rejected rows per accepted one, so its candidate list is widened, by
    1/sqrt(kept) (a compromise between recall and time), up to 2,048."""
    return int(min(max(EF_SEARCH, k) / max(kept, 1e-3) ** 0.5, 2048))


def tuned_ef(folder: Path) -> int:
    """The efSearch a user tuned for this collection's index (kept when the index is rebuilt), else the default."""
    try:
        ef = int(json.loads((folder / "index.json").read_text(encoding="utf-8")).get("ef_search", EF_SEARCH))
    except (OSError, ValueError, TypeError, AttributeError):
        return EF_SEARCH
    return ef if 1 <= ef <= 4096 else EF_SEARCH


def _pairs(ids: list[np.ndarray], scores: list[np.ndarray]) -> list[Hits]:
    return [
        [(str(i), float(s)) for i, s in zip(row_ids, row_scores, strict=True)]
        for row_ids, row_scores in zip(ids, scores, strict=True)
    ]


def _exact(ids: np.ndarray, vectors: np.ndarray, queries: np.ndarray, k: int) -> list[Hits]:
    """Exact cosine top-k of each query over `vectors` (one matrix product for the batch)."""
    out = []
    for start in range(0, len(queries), 64):
        scores = queries[start : start + 64] @ vectors.T
        for row in scores:
            order, best = top_k_scores(row, k)
            out.append([(str(ids[r]), float(s)) for r, s in zip(order, best, strict=True)])
    return out


def sql_string(value: str) -> str:
    """A SQL string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


class SearchEngine:
    """Search over one table. `vectors()` is cached per table version; the ANN index is used when fresh."""

    def __init__(self, table: Any, ann_folder: Path, versions_folder: Path | None = None) -> None:
        self.table = table
        self.ann_folder = ann_folder
        self.versions_folder = versions_folder  # the table's `_versions` folder: a commit adds a file there
        self._version: tuple[tuple[int, int] | None, int] | None = None
        self._matrix: tuple[int, np.ndarray, np.ndarray] | None = None
        self._ann: AnnIndex | None = None
        self._ann_loaded: tuple[int, int] | None = None
        self._rows: tuple[int, int] | None = None  # (table version, its row count)
        self._masks: dict[tuple[str, int, int], tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {}

    # ---- data ------------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return int(self.table.schema.field("vector").type.list_size)

    def _arrays(self, data: Any) -> tuple[np.ndarray, np.ndarray]:
        ids = np.asarray(data["id"].to_numpy(zero_copy_only=False))
        if len(data) == 0:
            return ids.astype(str), np.zeros((0, self.dim), dtype=np.float32)
        vectors = data["vector"].combine_chunks().flatten().to_numpy().reshape(len(data), -1)
        return ids, vectors

    def table_version(self) -> int:
        """The table's current version, as any process last committed it.

        Asking LanceDB costs about 140 microseconds (a look at the manifests on disk through its async
        runtime), as much as a whole HNSW query, and a single-query search needs it. So the answer is reused
        while the table's `_versions` folder is unchanged (every commit, by any process, adds a manifest
        file there, which changes the folder's mtime); without that folder LanceDB is asked every time.
        """
        stamp = None
        if self.versions_folder is not None:
            try:
                found = self.versions_folder.stat()
                stamp = (found.st_mtime_ns, found.st_ino)
            except OSError:
                stamp = None
        if stamp is None or self._version is None or self._version[0] != stamp:
            self._version = (stamp, int(self.table.version))  # the stamp is read first: never older than it
        return self._version[1]

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """All ids and vectors (float32, unit length), in one order; cached for this table version."""
        version = self.table_version()
        if self._matrix is None or self._matrix[0] != version:
            data = self.table.search().select(["id", "vector"]).limit(None).to_arrow()
            self._matrix = (version, *self._arrays(data))
        return self._matrix[1], self._matrix[2]

    def forget(self) -> None:
        """Drop the cached vectors (after a write)."""
        self._matrix = None

    def check_where(self, where: str | None, columns: list[str]) -> str | None:
        """Validate a SQL filter against the table, with an error that lists the columns."""
        if where is None or not where.strip():
            return None
        try:
            self.table.search().where(where).select(["id"]).limit(1).to_arrow()
        except Exception as exc:  # lance raises ValueError/RuntimeError/pyarrow errors for bad SQL
            raise EmbedlabError(
                f"the filter {where!r} does not work: {str(exc).splitlines()[0]}",
                f"write SQL like \"year > 2000 AND lang = 'en'\"; columns: {', '.join(columns) or 'none'}.",
                param="where",
            ) from None
        return where

    # ---- searches ------------------------------------------------------------------------------
    def semantic(self, query: np.ndarray, k: int, where: str | None = None) -> Hits:
        """Cosine top-k of one query vector (see `semantic_many`)."""
        return self.semantic_many(np.asarray(query, dtype=np.float32).reshape(1, -1), k, where)[0]

    def semantic_many(self, queries: np.ndarray, k: int, where: str | None = None) -> list[Hits]:
        """Cosine top-k of each row of `queries`, in one batched index call.

        Without a filter: the ANN index when it is fresh, else exact. With a filter and a fresh index, the
        filter is turned into a mask over the index's rows (cached per filter and table version); a filter
        that keeps at most `FILTER_EXACT_ROWS` rows is answered exactly over just those rows' vectors, a
        broader one by walking the graph with the mask (hnswlib's filter), with efSearch raised as the
        filter gets narrower (`filtered_ef`). Without a fresh index a filter is answered exactly.
        """
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        ann = self.fresh_ann()
        if ann is not None:
            if where is None:
                return _pairs(*ann.search_many(queries, k))
            mask, labels, kept = self._mask(ann, where)
            if len(labels) <= FILTER_EXACT_ROWS:
                if kept is None:  # the kept rows' vectors, copied once per filter and table version
                    kept = ann.vectors_of(labels)
                    self._masks[(where, self.table_version(), len(ann.ids))] = (mask, labels, kept)
                return _exact(ann.ids[labels], kept, queries, k)
            ef = filtered_ef(k, len(labels) / max(ann.count, 1))
            return _pairs(*ann.search_many(queries, k, ef=ef, allowed=mask))
        if where is None:
            ids, vectors = self.vectors()
        else:
            data = self.table.search().where(where).select(["id", "vector"]).limit(None).to_arrow()
            ids, vectors = self._arrays(data)
        return _exact(ids, vectors, queries, k)

    def _mask(self, ann: AnnIndex, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(boolean mask over the index's labels, the labels it keeps, their vectors if copied yet) of the
        rows that pass `where`."""
        key = (where, self.table_version(), len(ann.ids))
        if key in self._masks:
            self._masks[key] = self._masks.pop(key)  # most recently used last
            return self._masks[key]
        found = self.table.search().where(where).select(["id"]).limit(None).to_arrow()["id"].to_pylist()
        lookup = ann.labels
        labels = np.fromiter((lookup[i] for i in found if i in lookup), dtype=np.int64)
        labels.sort()
        mask = np.zeros(len(ann.ids), dtype=bool)
        mask[labels] = True
        self._masks[key] = (mask, labels, None)
        while len(self._masks) > MASK_CACHE:
            self._masks.pop(next(iter(self._masks)))
        return mask, labels, None

    def keyword(self, text: str, k: int, where: str | None = None) -> Hits:
        """BM25 over the text column (LanceDB's full-text index)."""
        from lancedb.query import MatchQuery

        search = self.table.search(MatchQuery(text, "text"), query_type="fts")
        if where:
            search = search.where(where, prefilter=True)
        found = search.select(["id", "_score"]).limit(k).to_arrow()
        return list(zip(found["id"].to_pylist(), (float(s) for s in found["_score"].to_pylist()), strict=True))

    def hybrid(
        self, text: str, query: np.ndarray, k: int, where: str | None, weights: tuple[float, float] = (1.0, 1.0)
    ) -> Hits:
        """Weighted reciprocal rank fusion of the semantic and keyword rankings."""
        pool = max(HYBRID_POOL, 4 * k)
        return self.fuse(self.semantic(query, pool, where), self.keyword(text, pool, where), k, weights)

    @staticmethod
    def fuse(semantic: Hits, keyword: Hits, k: int, weights: tuple[float, float] = (1.0, 1.0)) -> Hits:
        """The best k of two rankings fused by weighted RRF."""
        fused = reciprocal_rank_fusion([[i for i, _ in semantic], [i for i, _ in keyword]], list(weights))
        return fused[:k]

    # ---- the ANN index ---------------------------------------------------------------------------
    def fresh_ann(self) -> AnnIndex | None:
        """The saved ANN index when it holds exactly the current table's vectors, else None."""
        stamp = self._ann_stamp()
        if self._ann is None or stamp != self._ann_loaded:  # none yet, or another process saved a newer one
            self._ann, self._ann_loaded = AnnIndex.load(self.ann_folder), stamp
        if self._ann is not None:
            version = self.table_version()
            if self._rows is None or self._rows[0] != version:  # a version's row count never changes
                self._rows = (version, self.table.count_rows())
            if self._ann.matches(version, self._rows[1]):
                return self._ann
        return None

    def _ann_stamp(self) -> tuple[int, int] | None:
        try:
            meta = (self.ann_folder / "index.json").stat()
        except OSError:
            return None
        return meta.st_mtime_ns, meta.st_ino

    def ann_state(self) -> str:
        """One line: whether the ANN index is used, and if not, why."""
        ann = self.fresh_ann()
        if ann is not None:
            return f"hnsw ({LIBRARY}), up to date, efSearch {ann.ef_search}"
        meta = recorded(self.ann_folder)
        if meta == "missing":
            return f"none (exact search; built at {ann_threshold():,} items)"
        later = "exact search until the next write rebuilds it"
        if isinstance(meta, str):
            return f"damaged: {meta}; {later}"
        version, rows = self.table.version, self.table.count_rows()
        if meta == (version, rows):
            return f"damaged: {self.ann_folder} cannot be loaded; {later}"
        return (
            f"stale (holds {meta[1]:,} items of table version {meta[0]}; the table has {rows:,} at version "
            f"{version}); {later}"
        )

    def tune_ann(self, queries: np.ndarray, target: float, k: int) -> dict[int, float] | None:
        """Tune the fresh index's efSearch on these query vectors and save it (the caller holds the write
        lock); None when there is no fresh index (exact search answers, recall is 1)."""
        ann = self.fresh_ann()
        if ann is None:
            return None
        recalls = ann.tune(queries, target, k)
        ann.save(self.ann_folder)
        self._ann, self._ann_loaded = ann, self._ann_stamp()
        return recalls

    def base_ann(self) -> AnnIndex | None:
        """The fresh index an ingest may extend, or None (the ingest's end then rebuilds it if needed)."""
        return self.fresh_ann()

    def extend_ann(self, base: AnnIndex | None, ids: list[str], vectors: np.ndarray) -> None:
        """Put items just committed (new or with changed vectors) into the index an ingest extends.

        Called after each batch's commit, so the in-memory index is never ahead of a table version it
        claims; it is saved (with the final table version) only by `update_ann`. Nothing is kept besides
        the index itself, so extending a large index holds no second copy of the vectors.
        """
        if base is not None and len(ids):
            base.upsert(np.asarray(ids), vectors)

    def update_ann(self, base: AnnIndex | None) -> None:
        """Bring the ANN index up to date at the end of an ingest.

        `base` is the index that was fresh before the ingest, already extended with every batch it wrote
        (`extend_ann`); else the index is built from the table, streamed in batches. Collections under the
        threshold have no index. The caller holds the collection's write lock, so the table does not change
        while the index is made and the version it records is the right one.
        """
        rows = self.table.count_rows()
        self._masks.clear()
        if rows < ann_threshold():
            if self.ann_folder.exists():
                shutil.rmtree(self.ann_folder)
            self._ann = None
            return
        index = base
        if index is None or index.count != rows:  # none yet, or another writer changed the table meanwhile
            self._ann = index = None  # let the old graph go before the new one is built
            index = self.build_ann()
        index.table_version = self.table.version
        index.save(self.ann_folder)
        self._ann, self._ann_loaded = index, self._ann_stamp()

    def build_ann(self) -> AnnIndex:
        """A new index of the whole table, read in batches (the table's vectors are never all in memory
        besides the index)."""
        self._matrix = None
        version, rows = self.table.version, self.table.count_rows()
        reader = self.table.search().select(["id", "vector"]).limit(None).to_batches(BUILD_BATCH)
        batches = (self._arrays(pa.Table.from_batches([batch])) for batch in reader)
        return AnnIndex.build(batches, self.dim, rows, version, ef_search=tuned_ef(self.ann_folder))
