"""Collections: ids, texts, metadata and vectors in LanceDB, with the recipe that made the vectors.

A store is a folder. Each collection is a LanceDB table `<name>.lance` plus a sidecar folder
`_embedlab/<name>/` holding `collection.json` (model, options, recipe), a fitted vectorizer for
count/tfidf collections, and an HNSW index for large collections.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from tqdm.auto import tqdm

from embedlab import __version__
from embedlab.encoders import Encoder, SparseEncoder, load
from embedlab.errors import EmbedlabError, close_matches
from embedlab.search import SearchResult, check_k, check_mode, reciprocal_rank_fusion, top_k
from embedlab.search.ann import AnnIndex
from embedlab.store.readers import Record, file_format, read_records

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
OWN_COLUMNS = ("id", "text", "vector")
ANN_THRESHOLD = 50_000
WRITE_BATCH = 512
SIDE = "_embedlab"
FILE_HASH = "file_sha256"  # metadata of image items: a changed file is re-embedded even when its path is the same


def default_store_path() -> Path:
    """$EMBEDLAB_STORE, else $XDG_DATA_HOME/embedlab, else ~/.local/share/embedlab."""
    if os.environ.get("EMBEDLAB_STORE"):
        return Path(os.environ["EMBEDLAB_STORE"]).expanduser()
    return Path(os.environ.get("XDG_DATA_HOME") or "~/.local/share").expanduser() / "embedlab"


def text_id(text: str) -> str:
    """The id an item without one gets: a hash of its text, so re-ingesting it never duplicates it."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def fingerprint(text: str, file_hash: str | None) -> str:
    return text if file_hash is None else f"{text}\x00{file_hash}"


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass
class IngestSummary:
    """What an ingest did; `skipped_empty` counts blank or missing texts, `skipped_files` names bad image files."""

    collection: str
    read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_empty: int = 0
    duplicate_ids: int = 0
    long_texts: int = 0
    texts_without_known_words: int = 0
    ignored_fields: list[str] = field(default_factory=list)
    skipped_files: dict[str, str] = field(default_factory=dict)
    total: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Store:
    """A folder of collections (LanceDB, embedded)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path else default_store_path()
        if self.path.exists() and not self.path.is_dir():
            raise EmbedlabError(f"the store path {self.path} is a file, not a folder.", "pass a folder with --store.")
        self._db: Any = None

    @property
    def db(self) -> Any:
        if self._db is None:
            import lancedb

            # interval 0: every read sees the latest commit, also from other handles or processes
            self._db = lancedb.connect(str(self.path), read_consistency_interval=timedelta(0))
        return self._db

    def check_writable(self) -> None:
        """Refuse early, before anything is written, when the store folder cannot be written."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.path, prefix=".write-check-"):
                pass
        except OSError as exc:
            raise EmbedlabError(
                f"the store folder {self.path} is not writable ({exc.strerror or exc}).",
                "pick a writable folder with --store PATH (or EMBEDLAB_STORE), or fix its permissions.",
            ) from exc

    def side(self, name: str) -> Path:
        return self.path / SIDE / name

    def names(self) -> list[str]:
        """Names of the collections in this store."""
        folder = self.path / SIDE
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if (p / "collection.json").is_file())

    def __contains__(self, name: str) -> bool:
        return name in self.names()

    def collection(self, name: str) -> Collection:
        """Open an existing collection."""
        if name not in self.names():
            close = close_matches(name, self.names())
            raise EmbedlabError(
                f"there is no collection {name!r} in {self.path}."
                + (f" Did you mean: {', '.join(close)}?" if close else ""),
                "list them with `embedlab collections`, or create it with `embedlab index`.",
            )
        config = json.loads((self.side(name) / "collection.json").read_text(encoding="utf-8"))
        return Collection(self, name, config)

    def create(self, name: str, model: str | Encoder = "minilm", **options: Any) -> Collection:
        """A collection to add to: the existing one when its model and recipe match, else a new one.

        Nothing is written until the first items are added.
        """
        check_name(name)
        if name in self.names():
            existing = self.collection(name)
            existing.check_same_model(model, options)
            if isinstance(model, Encoder):
                existing._encoder = model
            return existing
        if isinstance(model, Encoder):
            encoder = model
            model, options = encoder.load_spec()
        else:
            encoder = load(model, **options)
            if not isinstance(encoder, SparseEncoder):  # count/tfidf reload from their saved vocabulary
                model, options = encoder.load_spec()  # absolute paths, every option: reopens from anywhere
        config = {"name": name, "model": model, "model_options": options, "recipe": None}
        return Collection(self, name, config, encoder=encoder)

    def drop(self, name: str) -> None:
        """Delete a collection and its sidecar files."""
        self.collection(name)
        self.check_writable()
        if name in self.db.list_tables().tables:
            self.db.drop_table(name)
        shutil.rmtree(self.side(name), ignore_errors=True)


def check_name(name: str) -> None:
    if not NAME_PATTERN.match(name or ""):
        raise EmbedlabError(
            f"{name!r} is not a valid collection name.",
            "use 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit.",
        )


class Collection:
    """Items with vectors from one encoder; search them, find similar ones, add more."""

    def __init__(self, store: Store, name: str, config: dict[str, Any], encoder: Encoder | None = None) -> None:
        self.store = store
        self.name = name
        self.config = config
        self._encoder = encoder
        self._table: Any = None
        self._matrix: tuple[int, np.ndarray, np.ndarray] | None = None
        self._ann: AnnIndex | None = None
        self._growing: AnnIndex | None = None
        self._added: list[tuple[list[str], np.ndarray]] = []

    # ---- model and recipe ----------------------------------------------------------------
    @property
    def recipe(self) -> dict[str, Any]:
        """The recipe the stored vectors were made with (or will be, for a new collection)."""
        return self.config["recipe"] or {**self.encoder.recipe, "normalize": True}

    @property
    def encoder(self) -> Encoder:
        """The collection's encoder, checked against the stored recipe (a changed model is an error)."""
        if self._encoder is None:
            stored = self.config["recipe"]
            if stored["encoder"] in ("count", "tfidf"):
                encoder: Encoder = SparseEncoder.load(self.store.side(self.name) / "encoder")
            else:
                encoder = load(self.config["model"], **self.config["model_options"])
            current = {**encoder.recipe, "normalize": True}
            if current != stored:
                raise EmbedlabError(
                    f"the model of collection {self.name!r} changed since its vectors were made.\n"
                    f"  stored recipe:  {json.dumps(stored, sort_keys=True)}\n"
                    f"  current recipe: {json.dumps(current, sort_keys=True)}",
                    f"rebuild the vectors with `embedlab reembed {self.name} NEW_NAME --model MODEL`, "
                    "or install the model version in the stored recipe.",
                )
            self._encoder = encoder
        return self._encoder

    def check_same_model(self, model: str | Encoder, options: dict[str, Any]) -> None:
        """Refuse to add items made by another model, dimension or recipe."""
        stored = self.config["recipe"]
        if isinstance(model, Encoder):
            current = {**model.recipe, "normalize": True} if not _unfitted(model) else None
        elif model == self.config["model"] and options == self.config["model_options"]:
            current = {**self.encoder.recipe, "normalize": True}
        elif model in ("count", "tfidf"):
            current = {"encoder": model, "options": options}
        else:
            current = {**load(model, **options).recipe, "normalize": True}
        if current != stored:
            raise EmbedlabError(
                f"collection {self.name!r} holds vectors of another recipe; adding these would mix two spaces.\n"
                f"  collection: {json.dumps(stored, sort_keys=True)}\n"
                f"  requested:  {json.dumps(current, sort_keys=True)}",
                f"add with --model {self.config['model']}, or build a new collection with "
                f"`embedlab reembed {self.name} NEW_NAME --model MODEL`.",
            )

    # ---- table ---------------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        return self.config["recipe"] is not None

    @property
    def table(self) -> Any:
        if self._table is None:
            if not self.exists:
                raise EmbedlabError(f"collection {self.name!r} has no items yet.", "add items first.")
            self._table = self.store.db.open_table(self.name)
        return self._table

    def __len__(self) -> int:
        return self.table.count_rows() if self.exists else 0

    @property
    def metadata_columns(self) -> list[str]:
        return [f.name for f in self.table.schema if f.name not in OWN_COLUMNS] if self.exists else []

    def _create_table(self, batch: pa.Table) -> None:
        self.store.check_writable()
        side = self.store.side(self.name)
        side.mkdir(parents=True, exist_ok=True)
        if isinstance(self.encoder, SparseEncoder):
            self.encoder.save(side / "encoder")
        self.config["recipe"] = {**self.encoder.recipe, "normalize": True}
        self.config["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.config["embedlab_version"] = __version__
        if self.name in self.store.db.list_tables().tables:
            self.store.db.drop_table(self.name)  # a table without config is a leftover of a failed create
        self._table = self.store.db.create_table(self.name, schema=batch.schema)
        tmp = side / "collection.json.tmp"
        tmp.write_text(json.dumps(self.config, indent=2), encoding="utf-8")
        tmp.replace(side / "collection.json")

    # ---- ingest --------------------------------------------------------------------------
    def add(
        self,
        texts: Sequence[str],
        ids: Sequence[str] | None = None,
        metadata: Sequence[dict[str, Any]] | None = None,
        show_progress: bool = False,
    ) -> IngestSummary:
        """Add (or update, by id) texts from Python. Without ids, an item's id is a hash of its text."""
        if isinstance(texts, str):
            texts = [texts]
        for label, other in (("ids", ids), ("metadata", metadata)):
            if other is not None and len(other) != len(texts):
                raise EmbedlabError(f"got {len(texts)} texts but {len(other)} {label}.", "pass one per text.")
        records = [
            Record(None if ids is None else str(ids[i]), text, i + 1, dict(metadata[i]) if metadata else {})
            for i, text in enumerate(texts)
        ]
        return self.add_records(lambda: iter(records), total=len(records), show_progress=show_progress)

    def add_file(
        self,
        path: str | Path,
        text_column: str | None = None,
        id_column: str | None = None,
        fmt: str | None = None,
        show_progress: bool = False,
        batch_size: int = WRITE_BATCH,
    ) -> IngestSummary:
        """Stream a text/CSV/TSV/JSONL/Parquet file into the collection, `batch_size` items per commit."""
        path = Path(path).expanduser()
        first = read_records(path, text_column, id_column, fmt)  # checks columns before anything is written
        opened = [first]

        def records() -> Iterator[Record]:
            return opened.pop() if opened else read_records(path, text_column, id_column, fmt)

        return self.add_records(records, count_items(path, fmt), show_progress, batch_size)

    def add_records(
        self, records: Any, total: int | None = None, show_progress: bool = False, batch_size: int = WRITE_BATCH
    ) -> IngestSummary:
        """Embed and upsert records from `records()` (a callable giving a fresh iterator each time).

        Each batch of `batch_size` items is one atomic commit: an interrupted ingest leaves a readable
        collection, and running it again completes it (unchanged items are not re-embedded).
        """
        if batch_size < 1:
            raise EmbedlabError(f"batch size must be at least 1, got {batch_size}.")
        self.store.check_writable()
        summary = IngestSummary(self.name)
        started = time.perf_counter()
        encoder = self.encoder if self.exists else self._encoder
        assert encoder is not None
        if _unfitted(encoder):
            texts = (r.text for r in records() if r.text and r.text.strip())
            encoder.fit(texts)  # type: ignore[attr-defined]
        self._growing = self._fresh_ann() if self.exists else None
        self._added: list[tuple[list[str], np.ndarray]] = []
        stream = records()
        with tqdm(total=total, desc=f"indexing {self.name}", unit="item", disable=not show_progress) as bar:
            while chunk := list(islice(stream, batch_size)):
                self._write_chunk(chunk, summary)
                bar.update(len(chunk))
        if summary.read == 0:
            raise EmbedlabError("the input has no items.", "give a file or list with at least one text.")
        if not self.exists:
            raise EmbedlabError(
                f"all {summary.read} items have empty text; nothing to index.",
                "check --text-column names the column that holds the text.",
            )
        self._after_write(summary)
        summary.total = len(self)
        summary.seconds = round(time.perf_counter() - started, 3)
        return summary

    def _write_chunk(self, chunk: list[Record], summary: IngestSummary) -> None:
        summary.read += len(chunk)
        rows: dict[str, Record] = {}
        for record in chunk:
            if record.text is None or not str(record.text).strip():
                summary.skipped_empty += 1
                continue
            record.text = str(record.text)
            key = record.id if record.id not in (None, "") else text_id(record.text)
            if key in rows:
                summary.duplicate_ids += 1
            rows[key] = record
        if not rows:
            return
        known = self._stored_texts(list(rows)) if self.exists else {}
        changed = {k: r for k, r in rows.items() if known.get(k) != fingerprint(r.text, r.metadata.get(FILE_HASH))}
        summary.unchanged += len(rows) - len(changed)
        summary.updated += sum(1 for k in changed if k in known)
        summary.added += sum(1 for k in changed if k not in known)
        if not changed:
            return
        encoder = self._encoder if self._encoder is not None else self.encoder
        if encoder.modality == "text" and any(r.image is not None for r in changed.values()):
            raise EmbedlabError(
                f"model {encoder.name} embeds text only, and these items are images.",
                "use a model that embeds images: clip:PATH (texts and images) or image:PATH (ResNet, ViT ...).",
            )
        items = [r.text if r.image is None else r.image for r in changed.values()]
        vectors = encoder.encode(items, batch_size=64, normalize=True)
        summary.long_texts += int(encoder.last_stats.get("long_texts", 0))
        summary.texts_without_known_words += int(encoder.last_stats.get("texts_without_known_words", 0))
        if self._growing is not None:
            new = [i for i, key in enumerate(changed) if key not in known]
            self._added.append(([list(changed)[i] for i in new], vectors[new]))
        batch = self._arrow_batch(list(changed), list(changed.values()), vectors, summary)
        if not self.exists:
            self._create_table(batch)
        self.table.merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(batch)
        self._matrix = None

    def _arrow_batch(
        self, ids: list[str], records: list[Record], vectors: np.ndarray, summary: IngestSummary
    ) -> pa.Table:
        dim = vectors.shape[1]
        columns: dict[str, pa.Array] = {
            "id": pa.array(ids, pa.string()),
            "text": pa.array([r.text for r in records], pa.string()),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel(), pa.float32()), dim),
        }
        keys = list(dict.fromkeys(k for r in records for k in r.metadata))
        for key in keys:
            if key in OWN_COLUMNS or key.startswith("_"):
                raise EmbedlabError(
                    f"metadata field {key!r} clashes with embedlab's own columns (id, text, vector, _*).",
                    "rename that field in the input, or pick it as --id-column/--text-column.",
                )
        schema = self.table.schema if self.exists else None
        for key in keys if schema is None else [f.name for f in schema if f.name not in OWN_COLUMNS]:
            values = [r.metadata.get(key) for r in records]
            kind = schema.field(key).type if schema is not None else None
            try:
                array = pa.array(values, type=kind)
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                lines = f"{records[0].line}-{records[-1].line}"
                raise EmbedlabError(
                    f"metadata field {key!r} has a value that is not {kind or 'of one type'} (items {lines}): {exc}",
                    "make every value of a field the same type.",
                ) from exc
            columns[key] = array.cast(pa.string()) if array.type == pa.null() else array
        if schema is not None:
            extra = sorted(set(keys) - set(schema.names))
            summary.ignored_fields = sorted(set(summary.ignored_fields) | set(extra))
            return pa.table(columns).select(schema.names).cast(schema)
        return pa.table(columns)

    def _stored_texts(self, ids: list[str]) -> dict[str, str]:
        """id -> what tells whether an item changed: its text, and for image files also the file's hash."""
        hashed = FILE_HASH in self.metadata_columns
        found = (
            self.table.search()
            .where(f"id IN ({', '.join(sql_string(i) for i in ids)})")
            .select(["id", "text", *([FILE_HASH] if hashed else [])])
            .limit(len(ids))
            .to_arrow()
            .to_pylist()
        )
        return {row["id"]: fingerprint(row["text"], row.get(FILE_HASH)) for row in found}

    def _after_write(self, summary: IngestSummary) -> None:
        """Bring the full-text index up to date, compact, and update the ANN index when large.

        An ingest that only added items extends the existing HNSW index; one that changed stored
        vectors rebuilds it (HNSW cannot remove points).
        """
        from lancedb.index import FTS

        if not any(index.index_type == "FTS" for index in self.table.list_indices()):
            self.table.create_index("text", config=FTS(), replace=True)
        else:
            self.table.optimize()
        ann_folder = self.store.side(self.name) / "ann"
        growing, added = self._growing, self._added
        self._growing, self._added = None, []
        if len(self) >= ANN_THRESHOLD:
            if growing is not None and summary.updated == 0:
                for ids, vectors in added:
                    growing.add(vectors, np.asarray(ids))
                growing.table_version = self.table.version
                index = growing
            else:
                ids, vectors = self._vectors()
                index = AnnIndex.build(vectors, ids, self.table.version)
                self._matrix = None  # the index holds its own copy; searches use it from now on
            index.save(ann_folder)
            self._ann = index
        elif ann_folder.exists():
            shutil.rmtree(ann_folder)

    # ---- reading -------------------------------------------------------------------------
    def _vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """All ids and vectors, cached for this table version."""
        version = self.table.version
        if self._matrix is None or self._matrix[0] != version:
            data = self.table.search().select(["id", "vector"]).limit(None).to_arrow()
            vectors = data["vector"].combine_chunks().flatten().to_numpy().reshape(len(data), -1)
            self._matrix = (version, np.asarray(data["id"].to_numpy(zero_copy_only=False)), vectors)
        return self._matrix[1], self._matrix[2]

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """All ids and their stored vectors (float32, unit length), in one order; cached per table version."""
        return self._vectors()

    def get(self, item_id: str) -> SearchResult:
        """One item by id (score 1.0)."""
        rows = self._rows([item_id])
        if item_id not in rows:
            raise EmbedlabError(
                f"collection {self.name!r} has no item with id {item_id!r}.",
                "search for it first to see its id, e.g. `embedlab search NAME QUERY`.",
            )
        return rows[item_id]

    def vector(self, item_id: str) -> np.ndarray:
        """The stored vector of an item."""
        self.get(item_id)
        found = self.table.search().where(f"id = {sql_string(item_id)}").select(["vector"]).limit(1).to_arrow()
        return np.asarray(found["vector"][0].as_py(), dtype=np.float32)

    def _rows(self, ids: list[str], scores: dict[str, float] | None = None) -> dict[str, SearchResult]:
        if not ids:
            return {}
        columns = ["id", "text", *self.metadata_columns]
        found = (
            self.table.search()
            .where(f"id IN ({', '.join(sql_string(i) for i in ids)})")
            .select(columns)
            .limit(len(ids))
            .to_arrow()
            .to_pylist()
        )
        results = {}
        for row in found:
            item_id, text = row.pop("id"), row.pop("text")
            results[item_id] = SearchResult(item_id, float((scores or {}).get(item_id, 1.0)), text, row)
        return results

    def check_where(self, where: str | None) -> str | None:
        """Validate a SQL filter against the table, with an error that lists the columns."""
        if where is None or not where.strip():
            return None
        try:
            self.table.search().where(where).select(["id"]).limit(1).to_arrow()
        except Exception as exc:  # lance raises ValueError/RuntimeError/pyarrow errors for bad SQL
            raise EmbedlabError(
                f"the filter {where!r} does not work: {str(exc).splitlines()[0]}",
                f"write SQL like \"year > 2000 AND lang = 'en'\"; columns: {', '.join(self.metadata_columns) or 'none'}.",
            ) from None
        return where

    # ---- search --------------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 5,
        mode: str = "semantic",
        where: str | None = None,
        weights: tuple[float, float] = (1.0, 1.0),
    ) -> list[SearchResult]:
        """Best `k` items for `query`: semantic (cosine), keyword (BM25) or hybrid (weighted RRF)."""
        if not isinstance(query, str):
            raise EmbedlabError(
                f"the query is a {type(query).__name__}, not a text.",
                "search by image with embedlab.images.search_image(collection, image), or by a vector with search_vector.",
            )
        if not query.strip():
            raise EmbedlabError("the query is empty.", "pass some words to search for.")
        check_k(k)
        check_mode(mode)
        where = self.check_where(where)
        if mode == "keyword":
            hits = self._keyword(query, k, where)
        elif mode == "semantic":
            hits = self._semantic(self.encoder.encode([query])[0], k, where)
        else:
            pool = max(50, 4 * k)
            semantic = self._semantic(self.encoder.encode([query])[0], pool, where)
            keyword = self._keyword(query, pool, where)
            fused = reciprocal_rank_fusion([[i for i, _ in semantic], [i for i, _ in keyword]], list(weights))
            hits = fused[:k]
        rows = self._rows([i for i, _ in hits], dict(hits))
        return [rows[i] for i, _ in hits if i in rows]

    def similar(self, item_id: str, k: int = 5, where: str | None = None) -> list[SearchResult]:
        """Items most like item `item_id` (content-based recommendation), the item itself excluded."""
        check_k(k)
        where = self.check_where(where)
        hits = [(i, s) for i, s in self._semantic(self.vector(item_id), k + 1, where) if i != item_id][:k]
        rows = self._rows([i for i, _ in hits], dict(hits))
        return [rows[i] for i, _ in hits if i in rows]

    def search_vector(self, vector: np.ndarray, k: int = 5, where: str | None = None) -> list[SearchResult]:
        """Items nearest a query vector made by this collection's encoder (e.g. an embedded image)."""
        check_k(k)
        where = self.check_where(where)
        query = np.asarray(vector, dtype=np.float32).ravel()
        dim = self.recipe.get("dim")
        if isinstance(dim, int) and query.shape[0] != dim:
            raise EmbedlabError(
                f"the query vector has {query.shape[0]} dimensions, collection {self.name!r} has {dim}.",
                "embed the query with the collection's own model.",
            )
        hits = self._semantic(query, k, where)
        rows = self._rows([i for i, _ in hits], dict(hits))
        return [rows[i] for i, _ in hits if i in rows]

    def _semantic(self, query: np.ndarray, k: int, where: str | None) -> list[tuple[str, float]]:
        if where is None:
            ann = self._fresh_ann()
            if ann is not None:
                ids, scores = ann.search(query, k)
                return [(str(i), float(s)) for i, s in zip(ids, scores, strict=True)]
            ids, vectors = self._vectors()
        else:
            data = self.table.search().where(where).select(["id", "vector"]).limit(None).to_arrow()
            ids = np.asarray(data["id"].to_numpy(zero_copy_only=False))
            vectors = data["vector"].combine_chunks().flatten().to_numpy().reshape(len(data), -1)
        rows, scores = top_k(vectors, query, k)
        return [(str(ids[r]), float(s)) for r, s in zip(rows, scores, strict=True)]

    def _fresh_ann(self) -> AnnIndex | None:
        if self._ann is None:
            self._ann = AnnIndex.load(self.store.side(self.name) / "ann")
        if self._ann is not None and self._ann.table_version == self.table.version:
            return self._ann
        return None

    def _keyword(self, query: str, k: int, where: str | None) -> list[tuple[str, float]]:
        from lancedb.query import MatchQuery

        search = self.table.search(MatchQuery(query, "text"), query_type="fts")
        if where:
            search = search.where(where, prefilter=True)
        found = search.select(["id", "_score"]).limit(k).to_arrow()
        return list(zip(found["id"].to_pylist(), (float(s) for s in found["_score"].to_pylist()), strict=True))

    # ---- whole collection ----------------------------------------------------------------
    def iter_records(self, batch_size: int = 1024) -> Iterator[Record]:
        """Every stored item as a Record (id, text, metadata; image items with their file), streamed."""
        columns = ["id", "text", *self.metadata_columns]
        line = 0
        for batch in self.table.search().select(columns).limit(None).to_batches(batch_size):
            for row in batch.to_pylist():
                line += 1
                image = Path(row["path"]) if row.get(FILE_HASH) and row.get("path") else None  # an image file
                yield Record(row.pop("id"), row.pop("text"), line, row, image=image)

    def info(self) -> dict[str, Any]:
        """Name, size, model, recipe, columns and indexes."""
        ann = self._fresh_ann() if self.exists else None
        return {
            "name": self.name,
            "items": len(self),
            "model": self.config["model"],
            "model_options": self.config["model_options"],
            "dim": self.recipe.get("dim"),
            "recipe": self.recipe,
            "metadata_columns": self.metadata_columns,
            "created": self.config.get("created"),
            "ann_index": "hnsw (faiss), up to date"
            if ann
            else f"none (exact search; built at {ANN_THRESHOLD:,} items)",
            "store": str(self.store.path),
        }


def _unfitted(encoder: Encoder) -> bool:
    return isinstance(encoder, SparseEncoder) and not encoder.fitted


def count_items(path: Path, fmt: str | None = None) -> int | None:
    """A quick upper bound on the number of items in a file, for the progress bar."""
    kind = file_format(path, fmt)
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(path).metadata.num_rows
        except Exception:  # the reader reports a damaged file with a better message
            return None
    with open(path, "rb") as handle:
        lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    return max(0, lines - (1 if kind in ("csv", "tsv") else 0))


def reembed(
    store: Store, source: str, target: str, model: str = "minilm", show_progress: bool = False, **options: Any
) -> IngestSummary:
    """Copy a collection's items into a new collection with vectors from another model."""
    origin = store.collection(source)
    if target in store.names():
        raise EmbedlabError(f"collection {target!r} already exists.", "pick a new name, or drop it first.")
    destination = store.create(target, model, **options)
    return destination.add_records(lambda: origin.iter_records(), total=len(origin), show_progress=show_progress)
