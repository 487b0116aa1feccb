"""An approximate nearest-neighbour index (faiss HNSW) kept beside a collection's table.

LanceDB is the record store; its own vector search was measured far slower than HNSW at 100k
vectors, so large collections get this index for unfiltered semantic search. It records exactly what it
holds: the table version it was built (or last extended) from and its number of vectors. It is used only
while both match the table; otherwise exact search answers until the next write brings it up to date.
The index folder is written whole or not at all (`embedlab.io.files.write_folder`), by a writer that
holds the collection's write lock, so the version it records is the one its vectors came from.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from embedlab.io.files import write_folder

HNSW_M = 32
EF_CONSTRUCTION = 80
EF_SEARCH = 256
ANN_THRESHOLD = 50_000  # collections of at least this many items get an index
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
    """faiss IndexHNSWFlat over unit vectors with inner product, plus the id of each row."""

    def __init__(self, index: object, ids: np.ndarray, table_version: int) -> None:
        self.index = index
        self.ids = ids
        self.table_version = table_version

    @property
    def count(self) -> int:
        return len(self.ids)

    def matches(self, table_version: int, rows: int) -> bool:
        """Whether this index holds exactly the vectors of that table version."""
        return self.table_version == table_version and self.count == rows

    @classmethod
    def build(cls, vectors: np.ndarray, ids: np.ndarray, table_version: int) -> AnnIndex:
        import faiss

        index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = EF_CONSTRUCTION
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index, np.asarray(ids).astype(str), table_version)

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        """Insert more unit vectors (new items) into the graph."""
        if len(ids):
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))
            self.ids = np.concatenate([self.ids.astype(str), np.asarray(ids).astype(str)])

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of the k best rows, best first."""
        import faiss

        params = faiss.SearchParametersHNSW(efSearch=max(EF_SEARCH, 2 * k))
        scores, rows = self.index.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        keep = rows[0] >= 0
        return self.ids[rows[0][keep]], scores[0][keep]

    def save(self, folder: Path) -> None:
        """Write the index, its ids and what it holds into `folder`, replacing it whole."""
        import faiss

        def fill(temp: Path) -> None:
            faiss.write_index(self.index, str(temp / "hnsw.faiss"))
            np.save(temp / "ids.npy", self.ids.astype(str), allow_pickle=False)
            meta = {"table_version": self.table_version, "count": self.count}
            (temp / "index.json").write_text(json.dumps(meta), encoding="utf-8")

        write_folder(folder, overwrite=True, fill=fill)

    @classmethod
    def load(cls, folder: Path) -> AnnIndex | None:
        """The saved index, or None when there is none or it cannot be read or is inconsistent."""
        import faiss

        meta = recorded(folder)
        if isinstance(meta, str):
            return None
        version, count = meta
        try:
            ids = np.load(folder / "ids.npy", allow_pickle=False)
            index = faiss.read_index(str(folder / "hnsw.faiss"))
        except (OSError, ValueError, RuntimeError, KeyError, TypeError):
            return None
        if index.ntotal != len(ids) or len(ids) != count:
            return None
        return cls(index, ids, version)
