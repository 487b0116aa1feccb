"""`embedlab index`, `search`, `similar`, `collections` and `reembed`."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from embedlab.cli.common import (
    BackendOption,
    JsonOption,
    LongTextOption,
    MaxCharsOption,
    MaxFeaturesOption,
    NoWaitOption,
    PoolingOption,
    StopWordsOption,
    StoreOption,
    app,
    console,
    model_options,
    note,
    print_json,
)
from embedlab.errors import EmbedlabError
from embedlab.io.records import MAX_CHARS

if TYPE_CHECKING:  # the store (lancedb, pyarrow) is imported when a command runs
    from embedlab.search import SearchResult
    from embedlab.serve.client import RemoteResult
    from embedlab.store import IngestSummary, Store

ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="EMBEDLAB_SERVER",
        help="Ask a running `embedlab serve` at this URL (key from $EMBEDLAB_API_KEY) instead of opening the store.",
        show_default=False,
    ),
]

collections_app = typer.Typer(
    help="List collections, show one (info NAME) or delete one (drop NAME).", invoke_without_command=True
)
app.add_typer(collections_app, name="collections", rich_help_panel="Collections and search")


@app.command(rich_help_panel="Collections and search")
def index(
    collection: Annotated[str, typer.Argument(help="Collection name (created if new).")],
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Files (.txt one item per line, .csv, .tsv, .jsonl, .parquet), folders of them, or glob patterns "
            "(quoted); or one folder of images.",
            show_default=False,
        ),
    ],
    model: Annotated[str, typer.Option("--model", "-m", help="Model for a new collection.")] = "minilm",
    text_column: Annotated[str | None, typer.Option(help="Column with the text (default: 'text').")] = None,
    id_column: Annotated[
        str | None, typer.Option(help="Column with ids (default: 'id' if present, else a hash of the text).")
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="text, csv, tsv, jsonl or parquet (default: from the extension).")
    ] = None,
    image_column: Annotated[
        str | None, typer.Option(help="Column with image file paths (relative to the file): index those images.")
    ] = None,
    max_pixels: Annotated[
        int, typer.Option(help="Images: skip any with more pixels than this (checked before decoding).")
    ] = 100_000_000,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Items per commit (and per Ray batch).")] = 512,
    engine: Annotated[
        str,
        typer.Option(
            help="local: this process; ray: read and embed on Ray Data actors (pip install 'embedlab[scale]')."
        ),
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(
            help="Ray: join this cluster (auto, or ray://HOST:PORT); default: a local Ray runtime for the run."
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Ray: actors that embed (default: one per CPU, or per GPU with --gpus-per-worker)."),
    ] = None,
    gpus_per_worker: Annotated[float, typer.Option(help="Ray: GPUs each actor reserves (e.g. 1, or 0.5).")] = 0,
    max_chars: MaxCharsOption = MAX_CHARS,
    pooling: PoolingOption = None,
    long_text: LongTextOption = None,
    stop_words: StopWordsOption = None,
    max_features: MaxFeaturesOption = None,
    backend: BackendOption = None,
    store: StoreOption = None,
    no_wait: NoWaitOption = False,
    as_json: JsonOption = False,
) -> None:
    """Embed files (or a folder of images) into a collection. Re-running it updates items by id, never duplicates.

    Several `index` runs into one collection may run at once: each commit waits for the others.
    """
    options = model_options(pooling, long_text, stop_words, max_features, backend)
    target = writer(store, no_wait).create(collection, model, **options)
    file = files[0]
    if image_column or (len(files) == 1 and file.is_dir() and engine == "local" and not _holds_records(file, fmt)):
        if engine != "local":
            raise EmbedlabError("engine='ray' indexes text files; images use engine='local'.", param="engine")
        if len(files) > 1:
            raise EmbedlabError("images are indexed from one folder or one file at a time.", "index each in turn.")
        from embedlab.images import index_images

        if text_column:
            raise EmbedlabError("--text-column does not apply to images.", "name the path column with --image-column.")
        summary = index_images(
            target, file, image_column, id_column, fmt, max_pixels, show_progress=not as_json, batch_size=batch_size
        )
    else:
        summary = target.add_files(
            files,
            text_column=text_column,
            id_column=id_column,
            fmt=fmt,
            show_progress=not as_json,
            batch_size=batch_size,
            max_chars=max_chars,
            engine=engine,
            address=address,
            workers=workers,
            gpus_per_worker=gpus_per_worker,
        )
    if as_json:
        print_json(summary.as_dict())
    else:
        print_summary(summary)


def writer(store: Path | None, no_wait: bool) -> Store:
    """The store as a writer opens it: waits for other writers (saying so), or fails at once with --no-wait."""
    from embedlab.store import Store

    return Store(store, wait=not no_wait, on_wait=note)


def _holds_records(folder: Path, fmt: str | None) -> bool:
    """Whether a folder is read as record files: with --format, or when every file in it is one (.txt, .csv,
    .tsv, .jsonl, .parquet ...). Any other folder is a folder of images, as before several inputs were taken."""
    from embedlab.io.records import FORMATS

    files = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
    return bool(fmt) or (bool(files) and all(p.suffix.lower() in FORMATS for p in files))


def print_summary(summary: IngestSummary) -> None:
    parts = [f"{summary.added} added", f"{summary.updated} updated", f"{summary.unchanged} unchanged"]
    if summary.skipped_empty:
        parts.append(f"{summary.skipped_empty} skipped (empty text)")
    if summary.duplicate_ids:
        parts.append(f"{summary.duplicate_ids} repeated ids (last one kept)")
    note(
        f"{summary.collection}: read {summary.read} items: "
        + ", ".join(parts)
        + f"; {summary.total} in the collection ({summary.seconds:.1f}s)"
    )
    if summary.long_texts:
        note(f"{summary.long_texts} long text(s) exceeded the model's token limit (see the recipe's long_text policy)")
    if summary.texts_without_known_words:
        note(f"{summary.texts_without_known_words} text(s) had no word the model knows (zero vectors)")
    if summary.ignored_fields:
        note(f"fields not in the collection's columns were ignored: {', '.join(summary.ignored_fields)}")
    if summary.skipped_files:
        note(f"{len(summary.skipped_files)} file(s) skipped:")
        for name, reason in summary.skipped_files.items():
            note(f"  {name}: {reason}")


def snippet(text: str, limit: int = 110) -> str:
    """The start of a text, cut at a word boundary, for tables."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: text.rfind(" ", 0, limit)] + " …"


def json_ready(result: SearchResult) -> dict[str, Any]:
    """A result as JSON values: binary metadata (image thumbnails) becomes a base64 data URI."""
    data = result.as_dict()
    data["metadata"] = {
        k: "data:image/jpeg;base64," + base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else v
        for k, v in data["metadata"].items()
    }
    return data


def print_results(results: list[SearchResult] | list[RemoteResult], title: str, as_json: bool) -> None:
    if as_json:
        print_json([json_ready(r) for r in results])
        return
    table = Table(title=title)
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("id")
    table.add_column("text", overflow="fold", max_width=70)
    table.add_column("metadata", overflow="fold", max_width=40)
    for rank, result in enumerate(results, start=1):
        meta = ", ".join(f"{k}={v}" for k, v in result.metadata.items() if v is not None and not isinstance(v, bytes))
        table.add_row(str(rank), f"{result.score:.4f}", result.id, snippet(result.text), meta)
    console.print(table)
    if not results:
        note("no results")


@app.command(rich_help_panel="Collections and search")
def search(
    collection: Annotated[str, typer.Argument(help="Collection name.")],
    query: Annotated[str | None, typer.Argument(help="What to look for (text).")] = None,
    image: Annotated[
        Path | None, typer.Option("--image", help="Search by this image instead of a text (image or CLIP models).")
    ] = None,
    k: Annotated[int, typer.Option("-k", "--k", help="Number of results.")] = 5,
    mode: Annotated[str, typer.Option(help="semantic (cosine), keyword (BM25) or hybrid (RRF of both).")] = "semantic",
    where: Annotated[str | None, typer.Option(help='SQL filter on metadata, e.g. "year > 2000".')] = None,
    weights: Annotated[str, typer.Option(help="Hybrid weights SEMANTIC,KEYWORD.")] = "1,1",
    server: ServerOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Search a collection by text, or by image with --image."""
    if (query is None) == (image is None):
        raise EmbedlabError("give either a text query or --image FILE.", 'e.g. embedlab search photos "a dog".')
    try:
        pair = tuple(float(w) for w in weights.split(","))
    except ValueError:
        pair = ()
    if len(pair) != 2:
        raise EmbedlabError(f"--weights must be two numbers like 1,0.5, got {weights!r}.")
    if server:
        from embedlab.serve.client import search as remote_search

        if image is not None:
            raise EmbedlabError("--image does not go through --server.", "leave out --server to search by image.")
        results = remote_search(server, collection, query or "", k, mode, where, (pair[0], pair[1]))
        print_results(results, f"{mode} search in {collection} at {server}: {query!r}", as_json)
        return
    from embedlab.store import Store

    target = query if image is None else image
    results = (
        Store(store).collection(collection).search(target, k=k, mode=mode, where=where, weights=(pair[0], pair[1]))
    )
    title = f"{mode} search in {collection}: {query!r}" if image is None else f"search in {collection} by image {image}"
    print_results(results, title, as_json)


@app.command(rich_help_panel="Collections and search")
def similar(
    collection: Annotated[str, typer.Argument(help="Collection name.")],
    item_id: Annotated[str, typer.Argument(metavar="ID", help="Id of the item to find neighbours of.")],
    k: Annotated[int, typer.Option("-k", "--k", help="Number of results.")] = 5,
    where: Annotated[str | None, typer.Option(help="SQL filter on metadata.")] = None,
    server: ServerOption = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Items most like item ID (content-based recommendation); the item itself is left out."""
    if server:
        from embedlab.serve.client import similar as remote_similar

        results = remote_similar(server, collection, item_id, k, where)
        print_results(results, f"most similar to {item_id!r} in {collection} at {server}", as_json)
        return
    from embedlab.store import Store

    target = Store(store).collection(collection)
    results = target.similar(item_id, k=k, where=where)
    print_results(results, f"most similar to {item_id!r} in {collection}", as_json)


@collections_app.callback()
def collections_list(ctx: typer.Context, store: StoreOption = None, as_json: JsonOption = False) -> None:
    """List the collections of the store; damaged or unfinished ones with what is wrong."""
    from embedlab.store import Store

    if ctx.invoked_subcommand is not None:
        return
    opened = Store(store)
    rows = []
    problems = opened.problems()
    for name in sorted(set(opened.names()) | set(problems)):
        if name in problems:
            rows.append({"name": name, "problem": problems[name]})
            continue
        try:
            info = opened.collection(name).info()
        except EmbedlabError as exc:  # damaged between the listing and now, or unreadable: say so, go on
            rows.append({"name": name, "problem": exc.message})
            continue
        rows.append({k: info[k] for k in ("name", "items", "model", "dim", "created")})
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"collections in {opened.path}")
    for column in ("name", "items", "model", "dim", "created"):
        table.add_column(column, overflow="fold")
    for row in rows:
        if "problem" in row:
            table.add_row(row["name"], "[red]damaged[/]", escape(row["problem"]), "", "")
        else:
            table.add_row(*(str(row[c]) for c in ("name", "items", "model", "dim", "created")))
    console.print(table)
    if problems:
        note("remove a damaged or unfinished collection with `embedlab collections drop NAME`")
    if not rows:
        note("no collections yet: create one with `embedlab index NAME FILE`")


@collections_app.command("info")
def collections_info(
    name: Annotated[str, typer.Argument(help="Collection name.")],
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Size, model, recipe, columns and indexes of one collection."""
    from embedlab.store import Store

    info = Store(store).collection(name).info()
    if as_json:
        print_json(info)
        return
    table = Table(title=f"collection {name}", show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in info.items():
        if key == "recipe":
            value = "\n".join(f"{k}: {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(value) or "-"
        table.add_row(key, str(value))
    console.print(table)


@collections_app.command("drop")
def collections_drop(
    name: Annotated[str, typer.Argument(help="Collection name.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    store: StoreOption = None,
    no_wait: NoWaitOption = False,
    as_json: JsonOption = False,
) -> None:
    """Delete a collection and its files (also a damaged or unfinished one)."""
    opened = writer(store, no_wait)
    if name not in opened.names() and name not in opened.problems():
        opened.collection(name)  # not found, with close names
    if not yes and not typer.confirm(f"delete collection {name!r} from {opened.path}?"):
        raise typer.Abort()
    opened.drop(name)
    if as_json:
        print_json({"dropped": name})
    else:
        note(f"dropped {name}")


@app.command("reembed", rich_help_panel="Collections and search")
def reembed_command(
    source: Annotated[str, typer.Argument(help="Existing collection.")],
    target: Annotated[str, typer.Argument(help="New collection to create.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Model for the new vectors.")] = "minilm",
    pooling: PoolingOption = None,
    long_text: LongTextOption = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Items per commit.")] = 512,
    backend: BackendOption = None,
    store: StoreOption = None,
    no_wait: NoWaitOption = False,
    as_json: JsonOption = False,
) -> None:
    """Copy a collection's items into a new collection with vectors from another model.

    The new collection appears only when complete; run the same command again after an interrupt to finish it.
    """
    from embedlab.store import reembed

    summary = reembed(
        writer(store, no_wait),
        source,
        target,
        model,
        show_progress=not as_json,
        batch_size=batch_size,
        **model_options(pooling, long_text, backend=backend),
    )
    if as_json:
        print_json(summary.as_dict())
    else:
        print_summary(summary)
