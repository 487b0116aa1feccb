"""An approximate nearest-neighbour index (faiss HNSW) kept beside a collection's table.

LanceDB is the record store; its own vector search was measured far slower than HNSW at 100k
vectors, so large collections get this index for unfiltered semantic search. It remembers the
table version it was built from, and is ignored (exact search is used) once the table changes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

HNSW_M = 32
EF_CONSTRUCTION = 80
EF_SEARCH = 256


class AnnIndex:
    """faiss IndexHNSWFlat over unit vectors with inner product, plus the id of each row."""

    def __init__(self, index: object, ids: np.ndarray, table_version: int) -> None:
        self.index = index
        self.ids = ids
        self.table_version = table_version

    @classmethod
    def build(cls, vectors: np.ndarray, ids: np.ndarray, table_version: int) -> AnnIndex:
        import faiss

        index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = EF_CONSTRUCTION
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index, ids, table_version)

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        """Insert more unit vectors (new items) into the graph."""
        if len(ids):
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))
            self.ids = np.concatenate([self.ids.astype(str), ids.astype(str)])

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of the k best rows, best first."""
        import faiss

        params = faiss.SearchParametersHNSW(efSearch=max(EF_SEARCH, 2 * k))
        scores, rows = self.index.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        keep = rows[0] >= 0
        return self.ids[rows[0][keep]], scores[0][keep]

    def save(self, folder: Path) -> None:
        import faiss

        folder.mkdir(parents=True, exist_ok=True)
        (folder / "index.json").unlink(missing_ok=True)  # an index without index.json is never used
        faiss.write_index(self.index, str(folder / "hnsw.faiss"))
        np.save(folder / "ids.npy", self.ids.astype(str), allow_pickle=False)
        (folder / "index.json").write_text(json.dumps({"table_version": self.table_version}), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> AnnIndex | None:
        """The saved index, or None when there is none or it cannot be read."""
        import faiss

        try:
            meta = json.loads((folder / "index.json").read_text(encoding="utf-8"))
            ids = np.load(folder / "ids.npy", allow_pickle=False)
            index = faiss.read_index(str(folder / "hnsw.faiss"))
        except (OSError, ValueError, RuntimeError):
            return None
        if index.ntotal != len(ids):
            return None
        return cls(index, ids, int(meta["table_version"]))
