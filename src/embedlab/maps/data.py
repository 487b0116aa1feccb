"""What a map shows: points with ids, vectors, texts and metadata columns, from any map SOURCE.

A SOURCE is a collection of a store, a vectors file (.npy or .parquet) with an optional metadata
file, or a model (e.g. `wordllama`, `vectors:PATH`) with a word list. Vectors are checked here,
once, before anything is projected or written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import EmbedlabError, close_matches
from embedlab.io.vectors import check_vectors, read_metadata, read_vectors

THUMBNAIL = "thumbnail"  # the JPEG bytes column of image collections (embedlab.images)


@dataclass
class MapData:
    """Points of a map. `columns` holds one list per metadata column, aligned with `ids`.

    `cache_dir` and `cache_key` are set for collections: projections of them are cached there.
    `dropped` names items left out (e.g. words the model does not know). `thumbnails` holds the
    JPEG thumbnail of each point of an image collection (shown on hover and, for small maps, on the points).
    """

    name: str
    ids: list[str]
    vectors: np.ndarray
    texts: list[str] | None = None
    columns: dict[str, list[Any]] = field(default_factory=dict)
    cache_dir: Path | None = None
    cache_key: dict[str, Any] | None = None
    dropped: list[str] = field(default_factory=list)
    thumbnails: list[bytes | None] | None = None

    def __post_init__(self) -> None:
        self.vectors = check_vectors(self.vectors, self.name)
        n = len(self.vectors)
        if len(self.ids) != n:
            raise EmbedlabError(f"{self.name}: {len(self.ids)} ids for {n} vectors.", "give one id per vector.")
        if self.texts is not None and len(self.texts) != n:
            raise EmbedlabError(f"{self.name}: {len(self.texts)} texts for {n} vectors.", "give one text per vector.")
        for column, values in self.columns.items():
            if len(values) != n:
                raise EmbedlabError(
                    f"{self.name}: metadata column {column!r} has {len(values)} values for {n} vectors.",
                    "give a metadata file with one row per vector, in the same order.",
                )

    def __len__(self) -> int:
        return len(self.ids)

    def column(self, name: str, role: str = "color_by") -> list[Any]:
        """The values of a metadata column ('id' and 'text' work too), or an error listing the columns."""
        if name == "id":
            return list(self.ids)
        if name == "text" and self.texts is not None:
            return list(self.texts)
        if name not in self.columns:
            names = ["id", *(["text"] if self.texts is not None else []), *self.columns]
            close = close_matches(name, names)
            raise EmbedlabError(
                f"{self.name} has no column {name!r} for {role}."
                + (f" Did you mean: {', '.join(close)}?" if close else ""),
                f"columns are: {', '.join(names)}.",
            )
        return list(self.columns[name])

    def subset(self, rows: np.ndarray) -> MapData:
        """The points at `rows` (in that order)."""
        rows = np.asarray(rows, dtype=np.int64)
        return replace(
            self,
            ids=[self.ids[i] for i in rows],
            vectors=self.vectors[rows],
            texts=None if self.texts is None else [self.texts[i] for i in rows],
            columns={k: [v[i] for i in rows] for k, v in self.columns.items()},
            thumbnails=None if self.thumbnails is None else [self.thumbnails[i] for i in rows],
        )

    def sample(self, n: int | None, seed: int = 0) -> MapData:
        """A random subset of `n` points (all of them when n is None or not smaller), in original order."""
        if n is None or n >= len(self):
            return self
        if n < 1:
            raise EmbedlabError(f"sample must be at least 1, got {n}.", param="sample")
        rows = np.sort(np.random.default_rng(seed).choice(len(self), size=n, replace=False))
        picked = self.subset(rows)
        if picked.cache_key is not None:
            picked.cache_key = {**picked.cache_key, "sample": n, "sample_seed": seed}
        return picked


def from_collection(collection: Any) -> MapData:
    """A collection's items: stored vectors, texts and metadata, cached per table version."""
    ids, vectors = collection.vectors()
    records = {r.id: r for r in collection.iter_records()}
    columns = [c for c in collection.metadata_columns if c != THUMBNAIL]
    ordered = [records[str(i)] for i in ids]
    return MapData(
        name=collection.name,
        ids=[str(i) for i in ids],
        vectors=vectors,
        texts=[r.text for r in ordered],
        columns={c: [r.metadata.get(c) for r in ordered] for c in columns},
        thumbnails=[r.metadata.get(THUMBNAIL) for r in ordered] if THUMBNAIL in collection.metadata_columns else None,
        cache_dir=collection.store.side(collection.name) / "maps",
        cache_key={"collection": collection.name, "version": int(collection.table.version)},
    )


def from_vectors_file(path: str | Path, metadata: str | Path | None = None) -> MapData:
    """Vectors from a .npy, .parquet or .jsonl file (see `embedlab.io.vectors`), with an optional metadata file
    (.csv/.tsv/.jsonl/.parquet) holding one row per vector, in the same order."""
    path = Path(path).expanduser()
    found = read_vectors(path)
    vectors, columns = found.vectors, found.columns
    if metadata is not None:
        extra = read_metadata(metadata)
        for key, values in extra.items():
            if len(values) != len(vectors):
                raise EmbedlabError(
                    f"metadata file {Path(metadata).name} has {len(values)} rows for {len(vectors)} vectors.",
                    "give one metadata row per vector, in the same order.",
                )
            columns[key] = values
    ids = [str(v) for v in columns.pop("id")] if "id" in columns else [str(i) for i in range(len(vectors))]
    texts = [None if t is None else str(t) for t in columns.pop("text")] if "text" in columns else None
    return MapData(name=path.name, ids=ids, vectors=vectors, texts=texts, columns=columns)  # type: ignore[arg-type]


def from_model(model: Any, words: Sequence[str], name: str | None = None) -> MapData:
    """Embed `words` (or short texts) with an encoder: a name for `embedlab.load` or an Encoder.

    Words that a static model maps to a zero vector (not in its vocabulary) are left out and listed in `dropped`.
    """
    from embedlab.encoders import Encoder, load

    encoder = model if isinstance(model, Encoder) else load(model)
    vectors = encoder.encode(list(words), normalize=False)
    known = np.linalg.norm(vectors, axis=1) > 0
    if not known.any():
        raise EmbedlabError(
            f"model {encoder.name} knows none of the {len(words)} words.",
            "check the word list (and the model's casing).",
        )
    kept = [w for w, k in zip(words, known, strict=True) if k]
    dropped = [w for w, k in zip(words, known, strict=True) if not k]
    return MapData(name=name or encoder.name, ids=kept, vectors=vectors[known], texts=kept, dropped=dropped)
