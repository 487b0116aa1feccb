"""Vector files: read and write .npy, .parquet and .jsonl, and check that an array is a usable vector matrix.

- `.npy`: a 2-D numeric array (read without pickle).
- `.parquet`: a list column `vector` (other columns are metadata; `id` and `text` keep their roles), or
  all-numeric columns, one per dimension.
- `.jsonl`: one object per line with a `vector` list (other keys are metadata).

Writes are atomic (`embedlab.io.files.atomic_write`): an interrupted write leaves the old file or none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import EmbedlabError, NotFoundError
from embedlab.io.files import atomic_write, check_output
from embedlab.io.records import json_objects, line_error

READ_SUFFIXES = (".npy", ".parquet", ".pq", ".jsonl")
WRITE_SUFFIXES = (".npy", ".parquet", ".jsonl")
METADATA_SUFFIXES = (".csv", ".tsv", ".tab", ".jsonl", ".ndjson", ".parquet", ".pq")
SHOWN_BAD_ROWS = 10


@dataclass
class VectorFile:
    """What a vectors file holds: the (n, dim) float32 matrix and one list per metadata column."""

    vectors: np.ndarray
    columns: dict[str, list[Any]] = field(default_factory=dict)


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
            "drop or fix those rows first.",
        )
    return array


def read_vectors(path: str | Path) -> VectorFile:
    """Vectors (checked: numeric, 2-D, finite) and metadata columns from a .npy, .parquet or .jsonl file."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise NotFoundError(f"vectors file {path} does not exist.", "check the path.")
    suffix = path.suffix.lower()
    columns: dict[str, list[Any]] = {}
    if suffix == ".npy":
        try:
            vectors = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise EmbedlabError(
                f"{path.name}: the vectors are not numeric ({exc}).",
                "save a numeric array, e.g. np.save(path, vectors.astype('float32')).",
            ) from None
        except OSError as exc:
            raise EmbedlabError(f"{path.name} is not a readable .npy file: {exc}", "check the file.") from None
    elif suffix in (".parquet", ".pq"):
        vectors, columns = _read_parquet(path)
    elif suffix == ".jsonl":
        vectors, columns = _read_jsonl(path)
    else:
        raise EmbedlabError(f"{path.name} is not a vectors file.", f"give a {', '.join(READ_SUFFIXES)} file.")
    return VectorFile(check_vectors(vectors, path.name), columns)


def _read_parquet(path: Path) -> tuple[np.ndarray, dict[str, list[Any]]]:
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


def _read_jsonl(path: Path) -> tuple[np.ndarray, dict[str, list[Any]]]:
    rows: list[list[float]] = []
    columns: dict[str, list[Any]] = {}
    expected = '{"vector": [...], ...}'
    for number, obj in json_objects(path, expected):
        if not isinstance(obj.get("vector"), list):
            raise line_error(path, number, "has no 'vector' list", expected)
        if rows and len(obj["vector"]) != len(rows[0]):
            raise line_error(path, number, f"holds a vector of length {len(obj['vector'])}", f"{len(rows[0])} values")
        for key in columns.keys() | (obj.keys() - {"vector"}):
            columns.setdefault(key, [None] * len(rows)).append(obj.get(key))
        rows.append(obj["vector"])
    if not rows:
        raise EmbedlabError(f"{path.name} holds no vectors.", 'write one {"vector": [...]} per line.')
    try:
        return np.asarray(rows, dtype=np.float64), columns
    except (TypeError, ValueError):
        raise EmbedlabError(f"{path.name}: the vectors are not numeric.", "store lists of numbers.") from None


def read_metadata(path: str | Path) -> dict[str, list[Any]]:
    """Columns of a .csv/.tsv/.jsonl/.parquet file, types inferred."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise NotFoundError(f"metadata file {path} does not exist.", "check the path.")
    suffix = path.suffix.lower()
    if suffix not in METADATA_SUFFIXES:
        raise EmbedlabError(f"cannot read metadata from {path.name}.", f"use one of: {', '.join(METADATA_SUFFIXES)}.")
    try:
        if suffix in (".csv", ".tsv", ".tab"):
            import pyarrow.csv as pcsv

            table = pcsv.read_csv(path, parse_options=pcsv.ParseOptions(delimiter="," if suffix == ".csv" else "\t"))
        elif suffix in (".jsonl", ".ndjson"):
            import pyarrow.json as pjson

            table = pjson.read_json(path)
        else:
            import pyarrow.parquet as pq

            table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid and OSError subclasses
        raise EmbedlabError(f"metadata file {path.name} cannot be read: {exc}", "check the file.") from None
    return {name: table[name].to_pylist() for name in table.column_names}


def check_vectors_output(path: str | Path) -> Path:
    """An output path for `write_vectors`: a known extension in a folder that exists."""
    return check_output(path, WRITE_SUFFIXES, "vectors file")


def write_vectors(path: str | Path, vectors: np.ndarray, texts: list[str] | None = None) -> Path:
    """Write vectors as .npy, or (with their texts) as Parquet or JSON lines; atomically."""
    path = check_vectors_output(path)
    suffix = path.suffix.lower()
    with atomic_write(path) as temp:
        if suffix == ".npy":
            np.save(temp, vectors, allow_pickle=False)
        elif suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            column = pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel(), pa.float32()), vectors.shape[1])
            table = pa.table({"vector": column} if texts is None else {"text": texts, "vector": column})
            pq.write_table(table, temp)
        else:
            with open(temp, "w", encoding="utf-8") as handle:
                for i, vector in enumerate(vectors):
                    row = (
                        {"vector": vector.tolist()} if texts is None else {"text": texts[i], "vector": vector.tolist()}
                    )
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path
