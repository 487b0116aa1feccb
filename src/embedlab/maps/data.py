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

VECTOR_SUFFIXES = (".npy", ".parquet", ".pq")
METADATA_SUFFIXES = (".csv", ".tsv", ".tab", ".jsonl", ".ndjson", ".parquet", ".pq")
SHOWN_BAD_ROWS = 10
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

    def column(self, name: str, role: str = "--color-by") -> list[Any]:
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
            raise EmbedlabError(f"--sample must be at least 1, got {n}.")
        rows = np.sort(np.random.default_rng(seed).choice(len(self), size=n, replace=False))
        picked = self.subset(rows)
        if picked.cache_key is not None:
            picked.cache_key = {**picked.cache_key, "sample": n, "sample_seed": seed}
        return picked


def check_vectors(vectors: Any, name: str = "vectors") -> np.ndarray:
    """A finite float32 (n, dim) array, or an error saying what is wrong (and which rows)."""
    array = np.asarray(vectors) if not isinstance(vectors, np.ndarray) else vectors
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise EmbedlabError(
            f"{name}: the vectors are not numeric (dtype {array.dtype}).",
            "give a 2-D array of numbers, one row per item.",
        )
    if np.issubdtype(array.dtype, np.complexfloating):
        raise EmbedlabError(f"{name}: the vectors are complex numbers.", "give real numbers.")
    if array.ndim != 2 or array.shape[1] == 0:
        raise EmbedlabError(
            f"{name}: expected a 2-D array (items x dimensions), got shape {array.shape}.",
            "give one row per item, e.g. shape (1000, 384).",
        )
    array = array.astype(np.float32, copy=False)
    bad = np.flatnonzero(~np.isfinite(array).all(axis=1))
    if len(bad):
        shown = ", ".join(str(int(r)) for r in bad[:SHOWN_BAD_ROWS]) + (" ..." if len(bad) > SHOWN_BAD_ROWS else "")
        raise EmbedlabError(
            f"{name}: {len(bad)} row(s) hold NaN or infinite values (0-based rows {shown}).",
            "drop or fix those rows before mapping.",
        )
    return array


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
    """Vectors from .npy (2-D numbers) or .parquet (a list column `vector`, or all-numeric columns).

    Parquet columns other than `vector` become metadata (`id` and `text` have their usual roles).
    A metadata file (.csv/.tsv/.jsonl/.parquet) gives one row per vector, in the same order.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise EmbedlabError(f"vectors file {path} does not exist.", "check the path.")
    columns: dict[str, list[Any]] = {}
    if path.suffix.lower() == ".npy":
        try:
            vectors = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise EmbedlabError(
                f"{path.name}: the vectors are not numeric ({exc}).",
                "save a numeric array, e.g. np.save(path, vectors.astype('float32')).",
            ) from None
        except OSError as exc:
            raise EmbedlabError(f"{path.name} is not a readable .npy file: {exc}", "check the file.") from None
    elif path.suffix.lower() in (".parquet", ".pq"):
        vectors, columns = _read_parquet_vectors(path)
    else:
        raise EmbedlabError(
            f"{path.name} is not a vectors file.", "give a .npy or .parquet file (or a collection name)."
        )
    vectors = check_vectors(vectors, path.name)
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


def _read_parquet_vectors(path: Path) -> tuple[np.ndarray, dict[str, list[Any]]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise EmbedlabError(f"{path.name} is not a readable Parquet file: {exc}", "check the file.") from None
    if "vector" in table.column_names:
        column = table["vector"].combine_chunks()
        if not (pa.types.is_list(column.type) or pa.types.is_fixed_size_list(column.type)):
            raise EmbedlabError(
                f"{path.name}: column 'vector' holds {column.type}, not lists of numbers.",
                "store each vector as a list of floats.",
            )
        lengths = set(column.value_lengths().to_pylist()) if pa.types.is_list(column.type) else {column.type.list_size}
        if len(lengths) > 1 or None in lengths:
            raise EmbedlabError(f"{path.name}: the vectors have different lengths ({sorted(lengths)[:5]} ...).")
        values = column.flatten()
        if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
            raise EmbedlabError(f"{path.name}: the vectors are not numeric ({values.type}).", "store lists of floats.")
        vectors = values.to_numpy(zero_copy_only=False).reshape(len(table), -1)
        rest = table.drop_columns(["vector"])
        return vectors, {name: rest[name].to_pylist() for name in rest.column_names}
    numeric = [
        n for n in table.column_names if pa.types.is_integer(table[n].type) or pa.types.is_floating(table[n].type)
    ]
    if len(numeric) != len(table.column_names):
        others = [n for n in table.column_names if n not in numeric]
        raise EmbedlabError(
            f"{path.name} has no 'vector' column and non-numeric columns: {', '.join(others)}.",
            "store vectors in a list column named 'vector' (other columns become metadata), "
            "or make every column a number.",
        )
    return np.column_stack([table[n].to_numpy() for n in numeric]), {}


def read_metadata(path: str | Path) -> dict[str, list[Any]]:
    """Columns of a .csv/.tsv/.jsonl/.parquet file, types inferred."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise EmbedlabError(f"metadata file {path} does not exist.", "check the path.")
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv", ".tab"):
            import pyarrow.csv as pcsv

            table = pcsv.read_csv(path, parse_options=pcsv.ParseOptions(delimiter="," if suffix == ".csv" else "\t"))
        elif suffix in (".jsonl", ".ndjson"):
            import pyarrow.json as pjson

            table = pjson.read_json(path)
        elif suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        else:
            raise EmbedlabError(
                f"cannot read metadata from {path.name}.", f"use one of: {', '.join(METADATA_SUFFIXES)}."
            )
    except EmbedlabError:
        raise
    except Exception as exc:  # pyarrow raises ArrowInvalid and OSError subclasses
        raise EmbedlabError(f"metadata file {path.name} cannot be read: {exc}", "check the file.") from None
    return {name: table[name].to_pylist() for name in table.column_names}


def read_word_list(path: str | Path) -> list[str]:
    """Words (or short texts), one per line; blank lines and repeats are dropped."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise EmbedlabError(f"word list {path} does not exist.", "give a text file with one word per line.")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise EmbedlabError(f"{path.name} is not UTF-8: {exc}", "re-save it as UTF-8.") from None
    words = list(dict.fromkeys(line.strip() for line in lines if line.strip()))
    if not words:
        raise EmbedlabError(f"the word list {path.name} is empty.", "put one word per line.")
    return words


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
