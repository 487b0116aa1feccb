"""Ingest: embed records and upsert them into a collection's table, one batch per commit.

An `Ingest` is one run: it owns the run's state (the summary, the ANN index being extended, the vectors
added so far) so that a `Collection` holds none. Each batch is one LanceDB commit (`merge_insert` on
`id`): an interrupted ingest leaves whole batches only, and running it again completes it. Items are
keyed by id (an item without one gets a hash of its text); an unchanged item is not re-embedded.

Several processes may add to one collection at once. Embedding runs in parallel; each commit holds the
collection's write lock (`Store.lock`), and under it the batch's ids are checked again against the table
(another writer may have stored some meanwhile), the table is created if it is still missing, and the
batch is upserted. So ids stay unique under any interleaving, and no process drops another's table.
"""

from __future__ import annotations

import hashlib
import os
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
from embedlab.errors import AlreadyExistsError, EmbedlabError, EmptyInputError, UnsupportedInputError, record_kept
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


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None elsewhere. Each batch's encode, Arrow conversion and LanceDB commit
    free their temporary memory, but glibc keeps the freed pages; measured with
    benchmarks/ingest_memory.py (60,000 lines, batches of 500), handing them back after every batch
    cut the growth after the first 10% from 1.40x to 1.34x. Most of the rest came from the heaps of the
    tokenizer's threads, which the wordllama encoder no longer uses (it tokenizes in the calling thread);
    see docs/scale.md."""
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


MALLOC_TRIM = _malloc_trim()


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
        self.base_ann: AnnIndex | None = None  # the index as it was before the first commit, extended batch by batch
        self.commits: list[tuple[int | None, int]] = []  # table version before and after each commit
        self.kept = 0  # records read in batches that are committed (or needed no commit)
        self.inflight = 0  # records of the batch being written
        self.marker: int | None = None  # table version just before its commit (-1: the table is being created)
        self.total: int | None = None
        self.started = time.perf_counter()

    def run(self, records: Records, total: int | None = None) -> IngestSummary:
        """Embed and upsert every record of `records()`; returns the summary.

        On an interrupt (Ctrl-C, SIGTERM) the exception says how many items were kept (`kept`).
        """
        collection = self.collection
        self.total = total
        try:
            self.start(records)
            stream = records()
            desc = f"indexing {collection.name}"
            # a source that skips inputs (bad image files) says how many it has read, so the bar reaches its total
            read = getattr(records, "consumed", None)
            with tqdm(total=total, desc=desc, unit="item", disable=not self.show_progress) as bar:
                while chunk := list(islice(stream, self.batch_size)):
                    self.inflight, self.marker = len(chunk), None
                    self.write(chunk)
                    self.kept, self.inflight = self.kept + len(chunk), 0
                    bar.update(len(chunk) if read is None else read() - bar.n)
                if read is not None:
                    bar.update(read() - bar.n)
            return self.complete()
        except BaseException as exc:
            if not isinstance(exc, Exception) and self.inflight and self._committed():
                self.kept += self.inflight  # the interrupt came just after the batch's commit
            record_kept(exc, self.kept_line())
            raise

    def start(self, records: Records | None = None) -> None:
        """Before the first batch: check the store, fit the encoder (on `records()`) if it must be fitted.

        `run` calls start, write (per batch) and complete; a distributed ingest calls them itself.
        """
        self.collection.store.check_writable()
        self.started = time.perf_counter()
        if not self.encoder.fitted:
            if records is None:
                raise EmbedlabError(f"model {self.encoder.name} must be fitted before this ingest.", param="model")
            self.encoder.fit(r.text for r in records() if r.text and r.text.strip())

    def complete(self) -> IngestSummary:
        """After the last batch: the empty-input checks, the finishing steps (FTS, ANN), the summary."""
        collection, summary = self.collection, self.summary
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

    def _committed(self) -> bool:
        """Whether the batch in flight when an interrupt came was committed."""
        try:
            if self.marker is None or not self.collection.exists:
                return False
            return self.marker == -1 or self.collection.table.version > self.marker
        except Exception:
            return False

    def kept_line(self) -> str:
        """What an interrupted run leaves: "kept 8,000 of 20,000 items in collection 'news'; ..."."""
        of = f" of {self.total:,}" if self.total else ""
        return (
            f"kept {self.kept:,}{of} items in collection {self.collection.name!r}; run the same command again to finish"
        )

    def write(self, chunk: list[Record], vectors: dict[str, np.ndarray] | None = None) -> None:
        """Upsert one batch as one commit (under the collection's write lock). `vectors` (id -> unit vector) are
        ones already made elsewhere (by the workers of a distributed ingest); changed items without one are
        embedded here."""
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
        if not changed:
            summary.unchanged += len(rows)
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
        matrix = np.stack([np.asarray(made[k], dtype=np.float32) for k in keys])
        with collection.writing():
            self._commit(keys, [changed[k] for k in keys], matrix, len(rows))
        collection.engine.forget()
        del matrix, made
        if MALLOC_TRIM is not None:
            MALLOC_TRIM(0)

    def _commit(self, keys: list[str], records: list[Record], vectors: np.ndarray, read: int) -> None:
        """Under the write lock: check the ids again, then create the table or upsert the batch (one commit)."""
        summary, collection = self.summary, self.collection
        collection.sync_for_write()  # another process may have created (or dropped) the collection meanwhile
        known: dict[str, str] = {}
        if collection.exists:  # another writer may have stored some of these items since they were embedded
            known = self._stored_fingerprints(keys)
            keep = [
                i
                for i, (k, r) in enumerate(zip(keys, records, strict=True))
                if known.get(k) != fingerprint(r.text, r.metadata.get(FILE_HASH))
            ]
            keys, records, vectors = [keys[i] for i in keep], [records[i] for i in keep], vectors[keep]
        updated = sum(1 for k in keys if k in known)
        summary.unchanged += read - len(keys)
        summary.updated += updated
        summary.added += len(keys) - updated
        if not keys:
            return
        batch = self._arrow_batch(keys, records, vectors)
        before: int | None = None
        self.marker = collection.table.version if collection.exists else -1
        if not collection.exists:
            self._create(batch)  # the table is created holding this batch: one commit
        else:
            table = collection.table
            before = table.version
            if not self.commits:
                self.base_ann = collection.engine.fresh_ann()
            table.merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(batch)
        if self.commits and before != self.commits[-1][1]:
            self.base_ann = None  # another process committed in between: the index will be rebuilt
        self.commits.append((before, collection.table.version))
        # new and changed items go into the index at once (hnswlib deletes a changed item's old row), so
        # no vectors are kept besides the index; it is saved only by _finish, with the final table version
        collection.engine.extend_ann(self.base_ann, keys, vectors)

    def _create(self, batch: pa.Table) -> None:
        """Create the table with its first batch, then write the recipe (the lock is held).

        A table without a recipe can only be left by a crashed create, drop or reembed (each holds the
        lock), so it is removed first; a table with a recipe is never dropped here. Until the recipe is
        written the collection does not exist for readers; a kill in between leaves an invisible table.
        """
        collection, store = self.collection, self.collection.store
        store.check_writable()
        store.remove_leftover(collection.name)
        side = store.side(collection.name)
        side.mkdir(parents=True, exist_ok=True)
        if self.encoder.requires_fit:
            self.encoder.save(side / "encoder")  # type: ignore[attr-defined]
        config = dict(collection.config)
        config["recipe"] = vector_recipe(self.encoder)
        config["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        config["embedlab_version"] = __version__
        table = store.db.create_table(collection.name, data=batch)
        collection.created(config, table)

    def _arrow_batch(self, ids: list[str], records: list[Record], vectors: np.ndarray) -> pa.Table:
        dim = vectors.shape[1]
        columns: dict[str, pa.Array] = {
            "id": pa.array(ids, pa.string()),
            "text": pa.array([r.text for r in records], pa.string()),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel(), pa.float32()), dim),
        }
        keys = list(dict.fromkeys(k for r in records for k in r.metadata))
        collection_exists = self.collection.exists  # an existing collection ignores fields it has no column for
        for key in keys:
            if not collection_exists and (not isinstance(key, str) or not key.strip() or "." in key or "`" in key):
                raise EmbedlabError(
                    f"metadata field {key!r} (item at line {records[0].line} or after) cannot be a column name: "
                    "LanceDB refuses empty names and names with '.' or '`'.",
                    "rename that field (column header or JSON key) in the input, e.g. 'a.b' to 'a_b'; "
                    "nothing was stored.",
                )
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
        """Bring the full-text index up to date, compact, and update the ANN index (holding the lock).

        The ANN index is extended with this run's new items only when it held exactly the table before
        this run's first commit and no other process committed between this run's commits; otherwise
        (or after updates, which HNSW cannot express) it is rebuilt from the table.
        """
        from lancedb.index import FTS

        collection = self.collection
        with collection.writing():
            collection.sync_for_write()
            table = collection.table
            if self.commits:
                chain = all(
                    after == before for (_, after), (before, _) in zip(self.commits, self.commits[1:], strict=False)
                )
                base = self.base_ann if chain and table.version == self.commits[-1][1] else None
            else:  # nothing written by this run: keep a fresh index, rebuild a stale one
                base = collection.engine.fresh_ann()
            if not any(index.index_type == "FTS" for index in table.list_indices()):
                table.create_index("text", config=FTS(), replace=True)
            else:
                table.optimize()
            collection.engine.update_ann(base)


def reembed(
    store: Any,
    source: str,
    target: str,
    model: str = "minilm",
    show_progress: bool = False,
    batch_size: int = WRITE_BATCH,
    **options: Any,
) -> IngestSummary:
    """Copy a collection's items into a new collection with vectors from another model.

    The target is built while holding its write lock, with its recipe under a temporary name
    (`collection.partial.json`), so it does not exist for anyone until it is complete; then the recipe
    is renamed into place in one step. Run again after an interrupt, it resumes (same source and model:
    items already copied are not embedded again) or starts over (another model); a target that is
    complete is an `AlreadyExistsError`.
    """
    from embedlab.store.collection import Collection
    from embedlab.store.store import CONFIG, PARTIAL_CONFIG, check_name

    check_name(target)
    origin = store.collection(source)
    with store.lock(target):
        if target in store.names():
            raise AlreadyExistsError(
                f"collection {target!r} already exists.", "pick a new name, or drop it first.", param="target"
            )
        destination: Collection | None = None
        side = store.side(target)
        if (side / PARTIAL_CONFIG).is_file() and store.table_exists(target):
            try:
                config = store.read_config(target, PARTIAL_CONFIG)
                if config.get("reembed_from") == source:
                    candidate = Collection(store, target, config, config_file=PARTIAL_CONFIG)
                    candidate.check_same_model(model, options)
                    destination = candidate  # resume
            except EmbedlabError:
                destination = None  # another source or model, or a damaged partial recipe: start over
        if destination is None:
            store.remove_leftover(target)
            destination = store.create(target, model, **options)
            destination.config_file = PARTIAL_CONFIG
            destination.config["reembed_from"] = source
        try:
            summary = destination.add_records(
                lambda: origin.iter_records(), total=len(origin), show_progress=show_progress, batch_size=batch_size
            )
        except BaseException as exc:
            try:
                done = f"{len(destination):,} of {len(origin):,}"
            except Exception:
                done = "some"
            record_kept(
                exc,
                f"kept {done} items in the unfinished collection {target!r} (it appears only when complete); "
                "run the same command again to finish",
            )
            raise
        os.replace(side / PARTIAL_CONFIG, side / CONFIG)  # publish: the collection exists from here on
        destination.config_file = CONFIG
    return summary
