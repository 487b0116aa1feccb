"""The search engine of one collection: exact and ANN semantic search, BM25 keyword search and hybrid RRF.

It works on a LanceDB table (id, text, metadata columns, vector) and the folder of its ANN index, and
knows nothing of encoders: callers give it query vectors and query texts. Results are (id, score) pairs,
best first; the collection turns them into `SearchResult`s.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import EmbedlabError
from embedlab.search import reciprocal_rank_fusion, top_k
from embedlab.search.ann import AnnIndex, ann_threshold, recorded

Hits = list[tuple[str, float]]
HYBRID_POOL = 50  # each ranking fused by hybrid search holds max(HYBRID_POOL, 4 k) items


def sql_string(value: str) -> str:
    """A SQL string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


class SearchEngine:
    """Search over one table. `vectors()` is cached per table version; the ANN index is used when fresh."""

    def __init__(self, table: Any, ann_folder: Path) -> None:
        self.table = table
        self.ann_folder = ann_folder
        self._matrix: tuple[int, np.ndarray, np.ndarray] | None = None
        self._ann: AnnIndex | None = None

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

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """All ids and vectors (float32, unit length), in one order; cached for this table version."""
        version = self.table.version
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
        """Cosine top-k: through the ANN index when it is fresh and there is no filter, else exact."""
        if where is None:
            ann = self.fresh_ann()
            if ann is not None:
                ids, scores = ann.search(query, k)
                return [(str(i), float(s)) for i, s in zip(ids, scores, strict=True)]
            ids, vectors = self.vectors()
        else:
            data = self.table.search().where(where).select(["id", "vector"]).limit(None).to_arrow()
            ids, vectors = self._arrays(data)
        rows, scores = top_k(vectors, query, k)
        return [(str(ids[r]), float(s)) for r, s in zip(rows, scores, strict=True)]

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
        semantic = self.semantic(query, pool, where)
        keyword = self.keyword(text, pool, where)
        fused = reciprocal_rank_fusion([[i for i, _ in semantic], [i for i, _ in keyword]], list(weights))
        return fused[:k]

    # ---- the ANN index ---------------------------------------------------------------------------
    def fresh_ann(self) -> AnnIndex | None:
        """The saved ANN index when it holds exactly the current table's vectors, else None.

        Another process may have saved a newer index since this one was loaded: when the loaded one does
        not match, the small index.json on disk says whether loading the saved one is worth it.
        """
        version, rows = self.table.version, self.table.count_rows()
        if self._ann is not None and self._ann.matches(version, rows):
            return self._ann
        if recorded(self.ann_folder) != (version, rows):
            return None
        self._ann = AnnIndex.load(self.ann_folder)
        if self._ann is not None and self._ann.matches(version, rows):
            return self._ann
        return None

    def ann_state(self) -> str:
        """One line: whether the ANN index is used, and if not, why."""
        if self.fresh_ann() is not None:
            return "hnsw (faiss), up to date"
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

    def update_ann(self, base: AnnIndex | None, added: list[tuple[list[str], np.ndarray]], changed: bool) -> None:
        """Bring the ANN index up to date after a write.

        `base` is the index that was fresh before the write; when the write only added items (`changed`
        is False) those are inserted into it, else (HNSW cannot remove points) it is rebuilt from the table.
        Collections under the threshold have no index. The caller holds the collection's write lock, so
        the table does not change while the index is made and the version it records is the right one.
        """
        rows = self.table.count_rows()
        if rows < ann_threshold():
            if self.ann_folder.exists():
                shutil.rmtree(self.ann_folder)
            self._ann = None
            return
        if base is not None and not changed:
            for ids, vectors in added:
                base.add(vectors, np.asarray(ids))
            base.table_version = self.table.version
            index = base
        else:
            ids, vectors = self.vectors()
            index = AnnIndex.build(vectors, ids, self.table.version)
            self._matrix = None  # the index holds its own copy; searches use it from now on
        if index.count != rows:  # another writer changed the table meanwhile: rebuild from what is there
            ids, vectors = self.vectors()
            index = AnnIndex.build(vectors, ids, self.table.version)
            self._matrix = None
        index.save(self.ann_folder)
        self._ann = index
