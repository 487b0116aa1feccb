"""Collections: ids, texts, metadata and vectors in LanceDB, with the recipe that made the vectors.

A store is a folder. Each collection is a LanceDB table `<name>.lance` plus a sidecar folder
`_embedlab/<name>/` holding `collection.json` (model, options, recipe), a fitted vectorizer for
count/tfidf collections, and an HNSW index for large collections.

A `Collection` reads, searches and describes; writing is an `Ingest` (`embedlab.store.ingest`), and
searching is delegated to a `SearchEngine` (`embedlab.search.engine`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from embedlab.encoders import Encoder, ModelSpec
from embedlab.errors import DamagedError, EmbedlabError, EmptyInputError, NotFoundError, UnsupportedInputError
from embedlab.io.files import write_json
from embedlab.io.records import MAX_CHARS, Record, count_items, read_records
from embedlab.search import SearchResult, check_k, check_mode
from embedlab.search.ann import ann_threshold
from embedlab.search.engine import HYBRID_POOL, SearchEngine, sql_string
from embedlab.store import recipe as recipes
from embedlab.store.ingest import FILE_HASH, OWN_COLUMNS, WRITE_BATCH, Ingest, IngestSummary, Records
from embedlab.store.store import CONFIG, PARTIAL_CONFIG, unfinished

if TYPE_CHECKING:
    from embedlab.store.store import Store

IMAGE_TYPES: tuple[type, ...] = (Path, bytes)
Query = str | Path | bytes | np.ndarray


class Collection:
    """Items with vectors from one encoder; search them, find similar ones, add more."""

    def __init__(
        self,
        store: Store,
        name: str,
        config: dict[str, Any],
        encoder: Encoder | None = None,
        config_file: str = CONFIG,
    ) -> None:
        self.store = store
        self.name = name
        self.config = config
        self.config_file = config_file  # PARTIAL_CONFIG for a reembed target until it is complete
        self._encoder = encoder
        self._table: Any = None
        self._engine: SearchEngine | None = None

    def __repr__(self) -> str:
        return f"Collection({self.name!r}, model={self.config['model']!r})"

    # ---- model and recipe ----------------------------------------------------------------
    @property
    def spec(self) -> ModelSpec:
        """The model and options the collection's vectors are made with."""
        return ModelSpec(self.config["model"], self.config["model_options"])

    @property
    def recipe(self) -> dict[str, Any]:
        """The recipe the stored vectors were made with (or will be, for a new collection)."""
        return self.config["recipe"] or recipes.vector_recipe(self.encoder)

    @property
    def encoder(self) -> Encoder:
        """The collection's encoder, checked against the stored recipe (a changed model is an error)."""
        if self._encoder is None:
            stored = self.config["recipe"]
            spec = self.spec
            encoder = spec.load(state=self.store.side(self.name) / "encoder" if spec.requires_fit else None)
            current = recipes.vector_recipe(encoder)
            if not recipes.same(stored, current, spec):
                raise recipes.changed(self.name, stored, current)
            self._encoder = encoder
        return self._encoder

    def use_encoder(self, encoder: Encoder) -> None:
        """Use an already loaded encoder (of this collection's recipe) instead of loading it again."""
        self._encoder = encoder

    def check_same_model(self, model: str | ModelSpec | Encoder, options: dict[str, Any]) -> None:
        """Refuse to add items made by another model, dimension or recipe."""
        stored = self.config["recipe"]
        spec = self.spec
        if isinstance(model, Encoder):
            if not model.fitted:
                raise recipes.mismatch(self.name, stored, {"encoder": model.kind, "fitted": False}, self.spec.name)
            current = recipes.vector_recipe(model)
        else:
            requested = model if isinstance(model, ModelSpec) else ModelSpec(str(model), options)
            if requested.name == spec.name and dict(requested.options) == dict(spec.options):
                current = recipes.vector_recipe(self.encoder)
            elif requested.requires_fit:  # compare the settings; a fit on other texts would be another space
                wanted, stored_settings = requested.load().config, ModelSpec(spec.name, spec.options).load().config
                same = requested.kind == spec.kind and wanted == stored_settings
                current = recipes.vector_recipe(self.encoder) if same else {"encoder": requested.kind, **wanted}
            else:
                current = recipes.vector_recipe(requested.load())
        if not recipes.same(stored, current, spec):
            raise recipes.mismatch(self.name, stored, current, spec.name)

    # ---- table ---------------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        """Whether the collection has been written (a new collection is written with its first items)."""
        return self.config["recipe"] is not None

    @property
    def table(self) -> Any:
        if self._table is None:
            if not self.exists:
                raise EmptyInputError(f"collection {self.name!r} has no items yet.", "add items first.")
            try:
                self._table = self.store.db.open_table(self.name)
            except Exception as exc:  # a missing or unreadable table folder
                raise DamagedError(
                    f"collection {self.name!r} is damaged: its table {self.store.path / (self.name + '.lance')} "
                    f"cannot be opened ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}).",
                    f"remove it with Store.drop({self.name!r}) (`embedlab collections drop {self.name}`) and index "
                    "it again.",
                ) from None
        return self._table

    def writing(self) -> Any:
        """`with collection.writing():` hold this collection's write lock (see `Store.lock`)."""
        return self.store.lock(self.name)

    def sync_for_write(self) -> None:
        """Under the write lock, before a commit: catch up with what other processes did meanwhile.

        A collection this process saw as new may have been created by another writer (its recipe must
        then be ours), and one it saw may have been dropped.
        """
        side = self.store.side(self.name)
        if self.exists:
            if not (side / self.config_file).is_file():
                raise NotFoundError(
                    f"collection {self.name!r} was dropped by another process while items were being added.",
                    "run the command again to create it anew.",
                    param="collection",
                )
            return
        if self.config_file == CONFIG and (side / PARTIAL_CONFIG).is_file() and not (side / CONFIG).is_file():
            raise unfinished(self.name)
        if (side / self.config_file).is_file():
            config = self.store.read_config(self.name, self.config_file)
            current = recipes.vector_recipe(self.encoder)
            if not recipes.same(config["recipe"], current, self.spec):
                raise recipes.mismatch(self.name, config["recipe"], current, self.spec.name)
            self.config, self._table, self._engine = config, None, None

    @property
    def engine(self) -> SearchEngine:
        """The search engine over the collection's table and ANN index."""
        if self._engine is None:
            self._engine = SearchEngine(
                self.table, self.store.side(self.name) / "ann", self.store.path / f"{self.name}.lance" / "_versions"
            )
        return self._engine

    def created(self, config: dict[str, Any], table: Any) -> None:
        """Record that an ingest created the table: write the recipe (atomically) and use the new table."""
        write_json(self.store.side(self.name) / self.config_file, config)
        self.config = config
        self._table = table
        self._engine = None

    def __len__(self) -> int:
        return self.table.count_rows() if self.exists else 0

    @property
    def metadata_columns(self) -> list[str]:
        return [f.name for f in self.table.schema if f.name not in OWN_COLUMNS] if self.exists else []

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
                raise EmbedlabError(
                    f"got {len(texts)} texts but {len(other)} {label}.", "pass one per text.", param=label
                )
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
        max_chars: int = MAX_CHARS,
    ) -> IngestSummary:
        """Stream a text/CSV/TSV/JSONL/Parquet file into the collection, `batch_size` items per commit.
        A line longer than `max_chars` characters is refused with its line number (see `read_records`)."""
        path = Path(path).expanduser()
        first = read_records(path, text_column, id_column, fmt, max_chars)  # checks columns before any write
        opened = [first]

        def records() -> Iterator[Record]:
            return opened.pop() if opened else read_records(path, text_column, id_column, fmt, max_chars)

        return self.add_records(records, count_items(path, fmt), show_progress, batch_size)

    def add_files(
        self,
        inputs: str | Path | Sequence[str | Path],
        text_column: str | None = None,
        id_column: str | None = None,
        fmt: str | None = None,
        show_progress: bool = False,
        batch_size: int = WRITE_BATCH,
        engine: str = "local",
        address: str | None = None,
        workers: int | None = None,
        gpus_per_worker: float = 0,
        max_chars: int = MAX_CHARS,
    ) -> IngestSummary:
        """Embed many files, folders or glob patterns into the collection, `batch_size` items per commit.

        `engine="local"` streams them through this process (as `add_file`); `engine="ray"` reads and embeds
        them on Ray Data actors (`workers` of them, `gpus_per_worker` GPUs each) and commits here, with the
        same upserts and summary (see `embedlab.store.distributed`). Without `address` a local Ray runtime
        runs for the call; `address="auto"` or `"ray://HOST:PORT"` joins a cluster, whose nodes must all
        reach the store's path.
        """
        from embedlab.io.records import expand_inputs

        if engine not in ("local", "ray"):
            raise EmbedlabError(f"unknown engine {engine!r}.", "use engine='local' or engine='ray'.", param="engine")
        if engine == "local" and (address is not None or workers is not None or gpus_per_worker):
            raise EmbedlabError(
                "address, workers and gpus_per_worker apply to engine='ray' only.",
                "pass engine='ray', or drop them.",
                param="engine",
            )
        files = expand_inputs(inputs, fmt)
        if engine == "ray":
            from embedlab.store.distributed import ray_ingest

            return ray_ingest(
                self, files, text_column, id_column, fmt, show_progress, batch_size, address, workers, gpus_per_worker
            )
        for path in files:  # checks every file's columns before anything is written
            read_records(path, text_column, id_column, fmt, max_chars)

        def records() -> Iterator[Record]:
            for path in files:
                yield from read_records(path, text_column, id_column, fmt, max_chars)

        counts = [count_items(p, fmt) for p in files]
        total = None if None in counts else sum(c for c in counts if c is not None)
        return self.add_records(records, total, show_progress, batch_size)

    def add_records(
        self, records: Records, total: int | None = None, show_progress: bool = False, batch_size: int = WRITE_BATCH
    ) -> IngestSummary:
        """Embed and upsert records from `records()` (a callable giving a fresh iterator each time).

        Each batch of `batch_size` items is one atomic commit: an interrupted ingest leaves a readable
        collection, and running it again completes it (unchanged items are not re-embedded).
        """
        return Ingest(self, batch_size, show_progress).run(records, total)

    # ---- reading -------------------------------------------------------------------------
    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """All ids and their stored vectors (float32, unit length), in one order; cached per table version."""
        return self.engine.vectors()

    def get(self, item_id: str) -> SearchResult:
        """One item by id (score 1.0)."""
        rows = self._rows([item_id])
        if item_id not in rows:
            raise NotFoundError(
                f"collection {self.name!r} has no item with id {item_id!r}.",
                "search for it first to see its id.",
                param="item_id",
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

    def _results(self, hits: list[tuple[str, float]]) -> list[SearchResult]:
        rows = self._rows([i for i, _ in hits], dict(hits))
        return [rows[i] for i, _ in hits if i in rows]

    def check_where(self, where: str | None) -> str | None:
        """Validate a SQL filter against the table, with an error that lists the columns."""
        return self.engine.check_where(where, self.metadata_columns)

    # ---- search --------------------------------------------------------------------------
    def search(
        self,
        query: Query | Any,
        k: int = 5,
        mode: str = "semantic",
        where: str | None = None,
        weights: tuple[float, float] = (1.0, 1.0),
    ) -> list[SearchResult]:
        """Best `k` items for `query`.

        The query is a text (`str`), an image (`pathlib.Path`, encoded `bytes` or a PIL image; for image and
        CLIP models) or a vector (`np.ndarray` made by the collection's model). Texts search in any `mode`:
        semantic (cosine), keyword (BM25) or hybrid (weighted RRF); images and vectors search semantically.
        """
        check_k(k)
        check_mode(mode)
        where = self.check_where(where)
        vector = self._query_vector(query, mode)
        if mode == "semantic":
            hits = self.engine.semantic(vector, k, where)  # type: ignore[arg-type]
        elif mode == "keyword":
            hits = self.engine.keyword(query, k, where)
        else:
            hits = self.engine.hybrid(query, vector, k, where, weights)  # type: ignore[arg-type]
        return self._results(hits)

    def _query_matrix(self, queries: np.ndarray) -> np.ndarray:
        """`queries` as float32 (n, dim), or the error that says what shape the collection needs."""
        vectors = np.asarray(queries, dtype=np.float32)
        dim = self.recipe.get("dim")
        if vectors.ndim != 2 or (isinstance(dim, int) and vectors.shape[1] != dim):
            raise EmbedlabError(
                f"the query vectors have shape {vectors.shape}; collection {self.name!r} needs (n, {dim}).",
                "pass a 2-D array with one query vector per row, made by the collection's own model.",
                param="queries",
            )
        return vectors

    def tune_search(
        self, queries: Sequence[str] | np.ndarray, target_recall: float = 0.99, k: int = 10
    ) -> dict[str, Any]:
        """Make semantic search as fast as `target_recall` allows, from a sample of your real queries.

        The HNSW index (collections of 50,000+ items) searches with efSearch 256 by default, the value
        the hardest benchmark data needs for recall@10 0.99; most collections reach it with far less. This
        measures recall@`k` of `queries` (texts, or a 2-D array of query vectors) against exact search at
        rising efSearch values, keeps the smallest that reaches `target_recall` and saves it with the index
        (it is kept when the index grows or is rebuilt). Give a few hundred queries like the ones users send;
        they are not stored. Returns {"ef_search", "recall" (at each efSearch tried), "queries"}.
        """
        if not 0 < target_recall <= 1:
            raise EmbedlabError(
                f"target_recall must be in (0, 1], got {target_recall!r}.", "e.g. 0.99.", param="target_recall"
            )
        check_k(k)
        if isinstance(queries, np.ndarray):
            vectors = self._query_matrix(queries)
            if not len(vectors):
                raise EmbedlabError("queries holds no query vector.", param="queries")
            vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        else:
            texts = [queries] if isinstance(queries, str) else list(queries)
            if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
                raise EmbedlabError("queries must be a non-empty list of non-empty texts.", param="queries")
            vectors = self.encoder.encode(texts)
        with self.writing():
            recalls = self.engine.tune_ann(vectors, target_recall, k)
        if recalls is None:
            raise UnsupportedInputError(
                f"collection {self.name!r} has no HNSW index to tune: it is searched exactly (recall 1).",
                f"tuning applies from {ann_threshold():,} items (info()['ann_index'] says why there is none).",
            )
        chosen = self.engine.fresh_ann()
        return {"ef_search": chosen.ef_search if chosen else None, "recall": recalls, "queries": len(vectors)}

    def search_many(
        self,
        queries: Sequence[str] | np.ndarray,
        k: int = 5,
        mode: str = "semantic",
        where: str | None = None,
        weights: tuple[float, float] = (1.0, 1.0),
    ) -> list[list[SearchResult]]:
        """`search` for many queries at once: one result list per query, in order.

        `queries` is a list of texts or a 2-D array of query vectors (one per row, semantic mode). Texts are
        embedded in one batch and the semantic part is one batched index (or matrix) call, so this is much
        faster per query than looping `search`; the results are the same.
        """
        check_k(k)
        check_mode(mode)
        where = self.check_where(where)
        if isinstance(queries, str):
            raise EmbedlabError(
                "queries must be a list of texts, not one text.", "pass [text] or use search().", param="queries"
            )
        if isinstance(queries, np.ndarray):
            if mode != "semantic":
                raise UnsupportedInputError(
                    f"{mode} search needs text queries, not vectors.",
                    "search vectors with mode='semantic'.",
                    param="mode",
                )
            vectors = self._query_matrix(queries)
            texts: list[str] = []
        else:
            texts = list(queries)
            for i, text in enumerate(texts):
                if not isinstance(text, str) or not text.strip():
                    raise EmbedlabError(
                        f"query {i} is empty or not a text: {text!r}.", "pass non-empty texts.", param="queries"
                    )
            vectors = None
            if mode != "keyword" and texts:
                encoder = self.encoder
                if not encoder.supports_text:
                    from embedlab.encoders.image import text_refused

                    raise text_refused(encoder.name, texts[0])
                vectors = encoder.encode(texts)
        count = len(texts) if vectors is None else len(vectors)
        if count == 0:
            return []
        if mode == "semantic":
            ranked = self.engine.semantic_many(vectors, k, where)  # type: ignore[arg-type]
        elif mode == "keyword":
            ranked = [self.engine.keyword(text, k, where) for text in texts]
        else:
            pool = max(HYBRID_POOL, 4 * k)
            semantic = self.engine.semantic_many(vectors, pool, where)  # type: ignore[arg-type]
            ranked = [
                self.engine.fuse(sem, self.engine.keyword(text, pool, where), k, weights)
                for sem, text in zip(semantic, texts, strict=True)
            ]
        rows = self._rows(list(dict.fromkeys(i for hits in ranked for i, _ in hits)))
        return [
            [SearchResult(i, float(s), rows[i].text, rows[i].metadata) for i, s in hits if i in rows] for hits in ranked
        ]

    def _query_vector(self, query: Any, mode: str) -> np.ndarray | None:
        """Check the query against the mode and the model's capabilities, and embed it (None for keyword)."""
        if isinstance(query, str):
            if not query.strip():
                raise EmbedlabError("the query is empty.", "pass some words to search for.", param="query")
            if mode == "keyword":
                return None
            encoder = self.encoder
            if not encoder.supports_text:
                from embedlab.encoders.image import text_refused

                raise text_refused(encoder.name, query)
            vector = encoder.encode([query])[0]
            if not vector.any():  # cosine with a zero vector ranks every item equally: the order would be arbitrary
                raise EmbedlabError(
                    f"model {encoder.name} knows no word of the query {query!r}: its vector is all zeros, so "
                    "every item would score the same.",
                    "search by keyword with mode='keyword' (BM25), or use a model that knows these words"
                    + (
                        " (count/tfidf keep every term unless max_features= or stop_words= was set)."
                        if encoder.requires_fit
                        else "."
                    ),
                    param="query",
                )
            return vector
        if mode != "semantic":
            raise UnsupportedInputError(
                f"{mode} search needs a text query, not a {type(query).__name__}.",
                "search images and vectors with mode='semantic'.",
                param="mode",
            )
        if isinstance(query, np.ndarray):
            vector = np.asarray(query, dtype=np.float32).ravel()
            dim = self.recipe.get("dim")
            if isinstance(dim, int) and vector.shape[0] != dim:
                raise EmbedlabError(
                    f"the query vector has {vector.shape[0]} dimensions, collection {self.name!r} has {dim}.",
                    "embed the query with the collection's own model.",
                    param="query",
                )
            return vector
        if isinstance(query, IMAGE_TYPES) or type(query).__module__.startswith("PIL."):
            encoder = self.encoder
            if not encoder.supports_images:
                raise UnsupportedInputError(
                    f"model {encoder.name} embeds text only; it cannot embed an image query.",
                    "use an image model: clip:PATH (texts and images) or image:PATH (ResNet, ViT ...).",
                    param="query",
                )
            if isinstance(query, Path) and not query.expanduser().is_file():
                raise NotFoundError(f"the query image {query} does not exist.", "check the path.", param="query")
            return encoder.encode([query.expanduser() if isinstance(query, Path) else query])[0]
        raise EmbedlabError(
            f"the query is a {type(query).__name__}, not a text, an image or a vector.",
            "pass a str (text), a pathlib.Path / bytes / PIL image (image) or a numpy vector.",
            param="query",
        )

    def similar(self, item_id: str, k: int = 5, where: str | None = None) -> list[SearchResult]:
        """Items most like item `item_id` (content-based recommendation), the item itself excluded."""
        check_k(k)
        where = self.check_where(where)
        hits = [(i, s) for i, s in self.engine.semantic(self.vector(item_id), k + 1, where) if i != item_id][:k]
        return self._results(hits)

    def search_vector(self, vector: np.ndarray, k: int = 5, where: str | None = None) -> list[SearchResult]:
        """Items nearest a query vector made by this collection's encoder (the same as `search(vector)`)."""
        return self.search(np.asarray(vector), k=k, where=where)

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
        return {
            "name": self.name,
            "items": len(self),
            "model": self.config["model"],
            "model_options": self.config["model_options"],
            "dim": self.recipe.get("dim"),
            "recipe": self.recipe,
            "metadata_columns": self.metadata_columns,
            "created": self.config.get("created"),
            "ann_index": self.engine.ann_state()
            if self.exists
            else f"none (exact search; built at {ann_threshold():,} items)",
            "store": str(self.store.path),
        }
