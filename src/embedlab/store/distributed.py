"""Distributed ingest with Ray Data: read and embed on a pool of actors, commit on the driver.

The work that grows with the corpus, reading files and running the model, runs on Ray: Ray Data's own
readers (`read_text`, `read_csv`, `read_json`, `read_parquet`) split the files into blocks, and
`map_batches` hands them to a pool of actors (`EncodeBatch`), each of which builds the collection's
encoder once from its recipe (`ModelSpec.from_dict`) and returns the vectors as an Arrow
`fixed_size_list<float32, dim>` column. An actor looks up the stored fingerprints of its batch first and
embeds only new or changed texts, so a rerun embeds nothing.

The commits stay on the driver, one LanceDB `merge_insert` on `id` per batch, through the very same
`Ingest.write` as the single-process path. That keeps every promise of a collection: ids upserted (no
duplicates after a rerun or a killed worker), changed texts replaced, whole commits only, one summary.
Why not lance-ray's writer or `Dataset.write_lance`: both write fragments from the workers and commit
them as one append (or overwrite); an append keyed on nothing duplicates every id on a rerun and cannot
replace a changed text, and a single commit at the end keeps nothing of a run that is killed. The
driver's share is the commit of vectors already made (no model runs there), measured in
`benchmarks/scale_ingest.py`.

Without an address a local Ray runtime starts inside the call and stops after it; with one (`auto`,
`ray://HOST:PORT`) the ingest joins that cluster, and the store must then be a path every node reaches.
Ray is imported inside the functions: it is an optional dependency (`pip install 'embedlab[scale]'`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from embedlab.errors import EmbedlabError, ModelUnavailableError
from embedlab.io.records import TYPE_SAMPLE, Record, file_format, infer_parser, pick_columns, read_records
from embedlab.store.ingest import WRITE_BATCH, Ingest, IngestSummary, fingerprint, text_id

if TYPE_CHECKING:
    from embedlab.store.collection import Collection

KEY, VECTOR, MADE = "__embedlab_key", "__embedlab_vector", "__embedlab_made"
LONG, UNKNOWN = "__embedlab_long", "__embedlab_unknown"
WORK_COLUMNS = (KEY, VECTOR, MADE, LONG, UNKNOWN)
LOCAL_OBJECT_STORE = 1 << 30  # the local runtime's shared memory: batches stream through it, 1 GiB is ample


@dataclass
class Plan:
    """How one group of files is read: one Ray dataset per group of files of one format and header."""

    kind: str
    text_column: str | None
    id_column: str | None
    columns: tuple[str, ...] = ()
    parsers: dict[str, Any] = field(default_factory=dict)  # CSV: the types of the single-process reader
    files: list[Path] = field(default_factory=list)

    def key(self) -> tuple[Any, ...]:
        return (self.kind, self.text_column, self.id_column, self.columns, tuple(sorted(self.parsers.items())))


def require_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise ModelUnavailableError(
            "engine='ray' needs Ray Data, which is not installed.",
            "pip install 'embedlab[scale]' (or use engine='local').",
            param="engine",
        ) from exc
    return ray


def plan_files(files: list[Path], text_column: str | None, id_column: str | None, fmt: str | None) -> list[Plan]:
    """Check every file's columns on the driver (before any work starts) and group files read alike."""
    plans: dict[tuple[Any, ...], Plan] = {}
    for path in files:
        kind = file_format(path, fmt)
        if kind == "text":
            next(iter(read_records(path, text_column, id_column, fmt)), None)  # refuses column options
            plan = Plan("text", None, None)
        elif kind in ("csv", "tsv"):
            head = list(islice(read_records(path, text_column, id_column, fmt), TYPE_SAMPLE))
            header = _csv_header(path, "\t" if kind == "tsv" else ",")
            text_key, id_key = pick_columns(header, text_column, id_column, path)
            meta = [c for c in header if c not in (text_key, id_key)]
            raw = [{c: ("" if r.metadata[c] is None else str(r.metadata[c])) for c in meta} for r in head]
            parsers = {c: infer_parser([row[c] for row in raw]) for c in meta}
            plan = Plan(kind, text_key, id_key, tuple(header), parsers)
        elif kind == "jsonl":
            from embedlab.io.records import json_objects

            first = next(json_objects(path), None)  # the single-process reader takes the columns from it
            if first is None:
                continue
            text_key, id_key = pick_columns(list(first[1]), text_column, id_column, path)
            plan = Plan(kind, text_key, id_key)
        else:
            import pyarrow.parquet as pq

            next(iter(read_records(path, text_column, id_column, fmt)), None)
            names = pq.ParquetFile(path).schema_arrow.names
            text_key, id_key = pick_columns(names, text_column, id_column, path)
            plan = Plan(kind, text_key, id_key, tuple(names))
        plans.setdefault(plan.key(), plan).files.append(path)
    return list(plans.values())


def _csv_header(path: Path, delimiter: str) -> list[str]:
    import csv

    with open(path, encoding="utf-8-sig", newline="") as handle:
        return [name.strip() for name in next(csv.reader(handle, delimiter=delimiter), [])]


def read_dataset(ray: Any, plan: Plan) -> Any:
    """The Ray dataset of one plan's files, read by Ray Data's own reader for the format."""
    import pyarrow.csv as pacsv

    paths = [str(p) for p in plan.files]
    common = {"file_extensions": None, "num_cpus": 0}  # reading is light; the CPUs are the actors'
    if plan.kind == "text":
        return ray.data.read_text(paths, drop_empty_lines=False, **common)
    if plan.kind in ("csv", "tsv"):
        return ray.data.read_csv(
            paths,
            parse_options=pacsv.ParseOptions(delimiter="\t" if plan.kind == "tsv" else ","),
            # every column as text: the types are the single-process reader's, decided on the driver
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(plan.columns, pa.string())),
            **common,
        )
    if plan.kind == "jsonl":  # lines as text: Ray's JSON reader goes through pandas, which retypes gaps
        return ray.data.read_text(paths, drop_empty_lines=False, **common)
    return ray.data.read_parquet(paths, **common)


class EncodeBatch:
    """A Ray actor's work: build the encoder once, then embed the new or changed texts of each batch."""

    def __init__(
        self,
        spec: dict[str, Any],
        recipe: dict[str, Any] | None,
        state: str | None,
        fitted: Any,
        store: str,
        name: str,
        plan: Plan,
    ) -> None:
        from embedlab.encoders import ModelSpec
        from embedlab.store import recipe as recipes

        if fitted is not None:
            self.encoder = fitted  # fitted once on the driver (count, tfidf): every actor gets the same one
        else:
            model = ModelSpec.from_dict(spec)
            self.encoder = model.load(state=state if state and Path(state).is_dir() else None)
            current = recipes.vector_recipe(self.encoder)
            if recipe is not None and not recipes.same(recipe, current, model):
                raise recipes.changed(name, recipe, current)  # e.g. a node with another model version
        self.store, self.name, self.plan = store, name, plan
        self.table: Any = None

    def _stored(self, keys: list[str]) -> dict[str, str]:
        """id -> fingerprint of the stored items among `keys` (nothing while the table does not exist)."""
        from embedlab.search.engine import sql_string

        if self.table is None:
            import lancedb

            db = lancedb.connect(self.store)
            if self.name not in db.list_tables().tables:
                return {}
            try:
                self.table = db.open_table(self.name)
            except ValueError:  # listed while the driver's first commit is still creating it: nothing stored yet
                return {}
        else:
            self.table.checkout_latest()
        found = (
            self.table.search()
            .where(f"id IN ({', '.join(sql_string(k) for k in keys)})")
            .select(["id", "text"])
            .limit(len(keys))
            .to_arrow()
        )
        return dict(
            zip(found["id"].to_pylist(), (fingerprint(t, None) for t in found["text"].to_pylist()), strict=True)
        )

    def __call__(self, batch: pa.Table) -> pa.Table:
        records = _records(self.plan, batch)
        texts = [None if r is None or r.text is None or not str(r.text).strip() else str(r.text) for r in records]
        keys = [
            None if t is None or r is None else (r.id if r.id not in (None, "") else text_id(t))
            for r, t in zip(records, texts, strict=True)
        ]
        present = [k for k in dict.fromkeys(keys) if k is not None]
        known = self._stored(present) if present else {}
        todo = [n for n, k in enumerate(keys) if k is not None and known.get(k) != fingerprint(texts[n], None)]
        dim = int(self.encoder.dim)
        flat = np.zeros((len(texts), dim), dtype=np.float32)
        valid = np.zeros(len(texts), dtype=bool)
        stats = {"long_texts": 0, "texts_without_known_words": 0}
        if todo:
            flat[todo] = self.encoder.encode([texts[n] for n in todo], batch_size=64, normalize=True)
            valid[todo] = True
            stats = {k: int(self.encoder.last_stats.get(k, 0)) for k in stats}
        vectors = pa.FixedSizeListArray.from_arrays(pa.array(flat.ravel(), pa.float32()), dim)
        first = [1] + [0] * (len(texts) - 1)
        return (
            batch.append_column(KEY, pa.array(keys, pa.string()))
            .append_column(VECTOR, vectors)
            .append_column(MADE, pa.array(valid, pa.bool_()))
            .append_column(LONG, pa.array([stats["long_texts"] * f for f in first], pa.int64()))
            .append_column(UNKNOWN, pa.array([stats["texts_without_known_words"] * f for f in first], pa.int64()))
        )


def _records(plan: Plan, batch: pa.Table) -> list[Record | None]:
    """The records of a raw batch exactly as the single-process reader makes them (None: a blank JSONL line,
    which that reader skips). Line numbers are left 0: a file that fails to parse is found and named by
    reading it again with that reader (`_explain`)."""
    import json
    import math

    if plan.kind == "text":
        return [Record(None, line.removeprefix("\ufeff"), 0) for line in batch.column("text").to_pylist()]
    if plan.kind == "jsonl":  # Ray's JSON reader goes through pandas (ints with gaps become floats): parse here
        out: list[Record | None] = []
        for line in batch.column("text").to_pylist():
            if not line.strip():
                out.append(None)
                continue
            obj = json.loads(line)  # a bad line raises; `_explain` names file and line
            if not isinstance(obj, dict):
                raise ValueError("a JSON-lines row is not an object")
            text = obj.pop(plan.text_column, None)
            item_id = obj.pop(plan.id_column, None) if plan.id_column else None
            out.append(
                Record(None if item_id is None else str(item_id), text if isinstance(text, str) else None, 0, obj)
            )
        return out
    meta = [n for n in batch.column_names if n not in (*WORK_COLUMNS, plan.text_column, plan.id_column)]
    texts = batch.column(str(plan.text_column)).to_pylist()
    ids = batch.column(plan.id_column).to_pylist() if plan.id_column else [None] * len(texts)
    columns = {name: batch.column(name).to_pylist() for name in meta}
    records: list[Record | None] = []
    for n, text in enumerate(texts):
        metadata = {name: values[n] for name, values in columns.items()}
        if plan.kind in ("csv", "tsv"):
            for name, parse in plan.parsers.items():
                value = metadata[name]
                try:
                    metadata[name] = parse(value) if value not in ("", None) else None
                except ValueError:
                    metadata[name] = value
            item_id = ids[n] or None
        else:
            metadata = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in metadata.items()}
            item_id = None if ids[n] is None else str(ids[n])
        records.append(Record(item_id, text, 0, metadata))
    return records


def records_of(plan: Plan, batch: pa.Table, line: int) -> tuple[list[Record], dict[str, np.ndarray], dict[str, int]]:
    """The records of one embedded batch and the vectors the workers made for them."""
    keys = batch.column(KEY).to_pylist()
    flat = batch.column(VECTOR).combine_chunks().flatten().to_numpy(zero_copy_only=False).reshape(len(keys), -1)
    valid = batch.column(MADE).to_numpy(zero_copy_only=False)
    records, made = [], {}
    for n, record in enumerate(_records(plan, batch)):
        if record is None:
            continue
        record.line = line + n + 1
        records.append(record)
        if valid[n]:
            made[keys[n]] = flat[n]
    stats = {"long_texts": int(pa.compute.sum(batch.column(LONG)).as_py() or 0)}
    stats["texts_without_known_words"] = int(pa.compute.sum(batch.column(UNKNOWN)).as_py() or 0)
    return records, made, stats


def ray_ingest(
    collection: Collection,
    files: list[Path],
    text_column: str | None = None,
    id_column: str | None = None,
    fmt: str | None = None,
    show_progress: bool = False,
    batch_size: int = WRITE_BATCH,
    address: str | None = None,
    workers: int | None = None,
    gpus_per_worker: float = 0,
) -> IngestSummary:
    """Embed `files` into `collection` on Ray (see the module docs); returns the single-process summary."""
    import pyarrow.compute  # noqa: F401  (pa.compute in records_of)

    for name, value in (("workers", workers), ("gpus_per_worker", gpus_per_worker)):
        if value is not None and (not isinstance(value, (int, float)) or value < (1 if name == "workers" else 0)):
            raise EmbedlabError(f"{name} must be at least {1 if name == 'workers' else 0}, got {value!r}.", param=name)
    ingest = Ingest(collection, batch_size, show_progress)  # checks batch_size
    ray = require_ray()
    plans = plan_files(files, text_column, id_column, fmt)  # every file's columns, before any work

    def all_records() -> Iterator[Record]:
        return chain.from_iterable(read_records(p, text_column, id_column, fmt) for p in files)

    ingest.start(all_records)  # store writable; fits count/tfidf on the driver, once
    encoder = collection.encoder
    spec = collection.spec.to_dict()
    state = collection.store.side(collection.name) / "encoder"
    fitted = encoder if encoder.requires_fit else None
    recipe = collection.config["recipe"]
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(
            address=address,
            num_cpus=((workers or os.cpu_count() or 1) + 1) if address is None else None,  # +1: see actor_cpus
            object_store_memory=LOCAL_OBJECT_STORE if address is None else None,
            include_dashboard=False,
            log_to_driver=show_progress,
            configure_logging=False,
        )
    try:
        with write_lock(collection):
            _run(ray, ingest, collection, plans, spec, recipe, state, fitted, batch_size, workers, gpus_per_worker)
    except BaseException as exc:
        raise _explain(exc, files, text_column, id_column, fmt) from exc
    finally:
        if started_here:
            ray.shutdown()
    return ingest.complete()


@contextmanager
def write_lock(collection: Collection) -> Iterator[None]:
    """The collection's write lock around the driver's commits, so a Ray ingest and any other writer never
    commit at once (each `Ingest.write` takes it too; it is reentrant within a process)."""
    with collection.writing():
        yield


def _run(
    ray: Any,
    ingest: Ingest,
    collection: Collection,
    plans: list[Plan],
    spec: dict[str, Any],
    recipe: dict[str, Any] | None,
    state: Path,
    fitted: Any,
    batch_size: int,
    workers: int | None,
    gpus_per_worker: float,
) -> None:
    """Read, embed on the actor pool and commit, one Ray dataset per group of files."""
    from ray.data import ActorPoolStrategy, DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = ingest.show_progress
    # Batches reach the driver in input order, so they commit in the order the single-process ingest
    # commits them: the first batch creates the table and its metadata columns, and a field first seen in a
    # later batch is ignored (and reported) the same way on both paths. Without it, whichever actor
    # finished first decided the table's columns (a test caught a field kept by one run and dropped by the next).
    context.execution_options.preserve_order = True
    cpus = float(ray.cluster_resources().get("CPU", 1))
    size = workers or max(1, int(cpus))
    if gpus_per_worker:
        size = workers or max(1, int(ray.cluster_resources().get("GPU", 0) // gpus_per_worker))
    # Ray Data's small tasks (listing and reading files) need a CPU slot too: actors that took every
    # slot would wait for input forever, so together they leave one free.
    actor_cpus = max(0.1, min(1.0, (cpus - 1) / size)) // 0.01 * 0.01
    for plan in plans:
        dataset = read_dataset(ray, plan).map_batches(
            EncodeBatch,
            fn_constructor_kwargs={
                "spec": spec,
                "recipe": recipe,
                "state": str(state),
                "fitted": fitted,
                "store": str(collection.store.path),
                "name": collection.name,
                "plan": plan,
            },
            batch_size=batch_size,
            batch_format="pyarrow",
            compute=ActorPoolStrategy(size=size),
            num_cpus=actor_cpus,
            num_gpus=gpus_per_worker or None,
        )
        _commit(ingest, plan, dataset, batch_size)


def _commit(ingest: Ingest, plan: Plan, dataset: Any, batch_size: int) -> None:
    """Commit the embedded batches as they come, one `merge_insert` each (the single-process `Ingest.write`)."""
    line = 0
    for batch in dataset.iter_batches(batch_size=batch_size, batch_format="pyarrow", prefetch_batches=2):
        records, made, stats = records_of(plan, batch, line)
        line += len(records)
        ingest.summary.long_texts += stats["long_texts"]
        ingest.summary.texts_without_known_words += stats["texts_without_known_words"]
        ingest.write(records, made)


def _explain(
    exc: BaseException, files: list[Path], text_column: str | None, id_column: str | None, fmt: str | None
) -> BaseException:
    """A failed run's error as the single-process path gives it: ours when it is ours, the file and line of a
    file that does not parse (found by reading the files again with the single-process reader), else a
    clear message with Ray's own error."""
    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
        return exc
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, EmbedlabError):
            return _plain(cause)
        cause = cause.__cause__ or getattr(cause, "cause", None)
    for path in files:
        try:
            for _ in read_records(path, text_column, id_column, fmt):
                pass
        except EmbedlabError as found:
            return found
    first = str(exc).strip().splitlines()
    return EmbedlabError(
        f"the distributed ingest failed: {type(exc).__name__}: {first[-1] if first else ''}",
        "the collection keeps every batch committed before the failure; run the same command again to complete "
        "it (nothing is duplicated), or use engine='local' to see the error without Ray.",
        param="engine",
    )


def _plain(error: EmbedlabError) -> EmbedlabError:
    """An EmbedlabError raised in a worker arrives wrapped in Ray's error class; give back the plain one."""
    if type(error).__module__.startswith("embedlab"):
        return error
    for base in type(error).__mro__:
        if issubclass(base, EmbedlabError) and base.__module__.startswith("embedlab"):
            return base(error.message, error.hint, param=error.param)
    return error
