"""Ingest: embed records and upsert them into a collection's table, one batch per commit.

An `Ingest` is one run: it owns the run's state (the summary, the ANN index being extended, the vectors
added so far) so that a `Collection` holds none. Each batch is one LanceDB commit (`merge_insert` on
`id`): an interrupted ingest leaves whole batches only, and running it again completes it. Items are
keyed by id (an item without one gets a hash of its text); an unchanged item is not re-embedded.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from itertools import islice
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
from tqdm.auto import tqdm

from embedlab._version import __version__
from embedlab.encoders import Encoder
from embedlab.errors import EmbedlabError, EmptyInputError, UnsupportedInputError
from embedlab.io.records import Record
from embedlab.search.ann import AnnIndex
from embedlab.search.engine import sql_string
from embedlab.store.recipe import vector_recipe

if TYPE_CHECKING:
    from embedlab.store.collection import Collection

OWN_COLUMNS = ("id", "text", "vector")
WRITE_BATCH = 512
ENCODE_BATCH = 64
FILE_HASH = "file_sha256"  # metadata of image items: a changed file is re-embedded even when its path is the same

Records = Callable[[], Iterator[Record]]  # gives a fresh iterator each time it is called


def text_id(text: str) -> str:
    """The id an item without one gets: a hash of its text, so re-ingesting it never duplicates it."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def fingerprint(text: str, file_hash: str | None) -> str:
    """What tells whether a stored item changed: its text, and for image files also the file's hash."""
    return text if file_hash is None else f"{text}\x00{file_hash}"


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


class Ingest:
    """One run of embedding records into `collection`."""

    def __init__(self, collection: Collection, batch_size: int = WRITE_BATCH, show_progress: bool = False) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise EmbedlabError(f"batch_size must be at least 1, got {batch_size!r}.", param="batch_size")
        self.collection = collection
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.summary = IngestSummary(collection.name)
        self.encoder: Encoder = collection.encoder
        self.base_ann: AnnIndex | None = None
        self.added: list[tuple[list[str], np.ndarray]] = []
        self.started = time.perf_counter()

    def run(self, records: Records, total: int | None = None) -> IngestSummary:
        """Embed and upsert every record of `records()`; returns the summary."""
        self.start(records)
        stream = records()
        with tqdm(
            total=total, desc=f"indexing {self.collection.name}", unit="item", disable=not self.show_progress
        ) as bar:
            while chunk := list(islice(stream, self.batch_size)):
                self.write(chunk)
                bar.update(len(chunk))
        return self.complete()

    def start(self, records: Records | None = None) -> None:
        """Before the first batch: check the store, fit the encoder (on `records()`) if it must be fitted."""
        collection = self.collection
        collection.store.check_writable()
        self.started = time.perf_counter()
        if not self.encoder.fitted:
            if records is None:
                raise EmbedlabError(f"model {self.encoder.name} must be fitted before this ingest.", param="model")
            self.encoder.fit(r.text for r in records() if r.text and r.text.strip())
        self.base_ann = collection.engine.fresh_ann() if collection.exists else None

    def complete(self) -> IngestSummary:
        """After the last batch: the empty-input checks, the finishing steps (FTS, ANN), the summary."""
        collection = self.collection
        summary = self.summary
        if summary.read == 0:
            raise EmptyInputError("the input has no items.", "give a file or list with at least one text.")
        if not collection.exists:
            raise EmptyInputError(
                f"all {summary.read} items have empty text; nothing to index.",
                "check that text_column names the column that holds the text.",
                param="text_column",
            )
        self._finish()
        summary.total = len(collection)
        summary.seconds = round(time.perf_counter() - self.started, 3)
        return summary

    def write(self, chunk: list[Record], vectors: dict[str, np.ndarray] | None = None) -> None:
        """Upsert one batch as one commit. `vectors` (id -> unit vector) are ones already made elsewhere
        (by the workers of a distributed ingest); changed items without one are embedded here."""
        summary, collection = self.summary, self.collection
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
        known = self._stored_fingerprints(list(rows)) if collection.exists else {}
        changed = {k: r for k, r in rows.items() if known.get(k) != fingerprint(r.text, r.metadata.get(FILE_HASH))}
        summary.unchanged += len(rows) - len(changed)
        summary.updated += sum(1 for k in changed if k in known)
        summary.added += sum(1 for k in changed if k not in known)
        if not changed:
            return
        encoder = self.encoder
        if not encoder.supports_images and any(r.image is not None for r in changed.values()):
            raise UnsupportedInputError(
                f"model {encoder.name} embeds text only, and these items are images.",
                "use a model that embeds images: clip:PATH (texts and images) or image:PATH (ResNet, ViT ...).",
                param="model",
            )
        keys = list(changed)
        made = vectors or {}
        missing = [k for k in keys if k not in made]
        if missing:
            items = [changed[k].text if changed[k].image is None else changed[k].image for k in missing]
            fresh = encoder.encode(items, batch_size=ENCODE_BATCH, normalize=True)
            summary.long_texts += int(encoder.last_stats.get("long_texts", 0))
            summary.texts_without_known_words += int(encoder.last_stats.get("texts_without_known_words", 0))
            made = {**made, **dict(zip(missing, fresh, strict=True))}
        vectors = np.stack([np.asarray(made[k], dtype=np.float32) for k in keys])
        if self.base_ann is not None:
            new = [i for i, key in enumerate(keys) if key not in known]
            self.added.append(([keys[i] for i in new], vectors[new]))
        batch = self._arrow_batch(keys, list(changed.values()), vectors)
        if not collection.exists:
            self._create(batch)
        collection.table.merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(batch)
        collection.engine.forget()

    def _create(self, batch: pa.Table) -> None:
        """Create the table and write the recipe; the first batch's columns are the collection's columns."""
        collection, store = self.collection, self.collection.store
        store.check_writable()
        side = store.side(collection.name)
        side.mkdir(parents=True, exist_ok=True)
        if self.encoder.requires_fit:
            self.encoder.save(side / "encoder")  # type: ignore[attr-defined]
        config = dict(collection.config)
        config["recipe"] = vector_recipe(self.encoder)
        config["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        config["embedlab_version"] = __version__
        if collection.name in store.db.list_tables().tables:
            store.db.drop_table(collection.name)  # a table without config is a leftover of a failed create
        table = store.db.create_table(collection.name, schema=batch.schema)
        collection.created(config, table)

    def _arrow_batch(self, ids: list[str], records: list[Record], vectors: np.ndarray) -> pa.Table:
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
                    "rename that field in the input, or pick it as id_column or text_column.",
                    param="id_column",
                )
        collection = self.collection
        schema = collection.table.schema if collection.exists else None
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
            self.summary.ignored_fields = sorted(set(self.summary.ignored_fields) | set(extra))
            return pa.table(columns).select(schema.names).cast(schema)
        return pa.table(columns)

    def _stored_fingerprints(self, ids: list[str]) -> dict[str, str]:
        """id -> fingerprint of the stored item, for the ids of one batch that are already stored."""
        collection = self.collection
        hashed = FILE_HASH in collection.metadata_columns
        found = (
            collection.table.search()
            .where(f"id IN ({', '.join(sql_string(i) for i in ids)})")
            .select(["id", "text", *([FILE_HASH] if hashed else [])])
            .limit(len(ids))
            .to_arrow()
            .to_pylist()
        )
        return {row["id"]: fingerprint(row["text"], row.get(FILE_HASH)) for row in found}

    def _finish(self) -> None:
        """Bring the full-text index up to date, compact, and update the ANN index."""
        from lancedb.index import FTS

        table = self.collection.table
        if not any(index.index_type == "FTS" for index in table.list_indices()):
            table.create_index("text", config=FTS(), replace=True)
        else:
            table.optimize()
        self.collection.engine.update_ann(self.base_ann, self.added, changed=self.summary.updated > 0)


def reembed(
    store: Any,
    source: str,
    target: str,
    model: str = "minilm",
    show_progress: bool = False,
    batch_size: int = WRITE_BATCH,
    **options: Any,
) -> IngestSummary:
    """Copy a collection's items into a new collection with vectors from another model."""
    from embedlab.errors import AlreadyExistsError

    origin = store.collection(source)
    if target in store.names():
        raise AlreadyExistsError(
            f"collection {target!r} already exists.", "pick a new name, or drop it first.", param="target"
        )
    destination = store.create(target, model, **options)
    return destination.add_records(
        lambda: origin.iter_records(), total=len(origin), show_progress=show_progress, batch_size=batch_size
    )
