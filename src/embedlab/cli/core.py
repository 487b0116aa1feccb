"""`embedlab models`, `embedlab embed` and `embedlab similarity`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from embedlab.cli.common import (
    BackendOption,
    JsonOption,
    LongTextOption,
    MaxCharsOption,
    MaxFeaturesOption,
    PoolingOption,
    StopWordsOption,
    app,
    console,
    model_options,
    note,
    print_json,
)
from embedlab.errors import EmbedlabError
from embedlab.io.records import MAX_CHARS


@app.command(rich_help_panel="Create and compare")
def models(as_json: JsonOption = False) -> None:
    """List the models embedlab can load here, with dimension, modality and offline availability."""
    from embedlab.encoders import list_models

    rows = [m.as_dict() for m in list_models()]
    if as_json:
        print_json(rows)
        return
    table = Table(title="models")
    for column in ("name", "dim", "modality", "offline", "description"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row["name"],
            str(row["dim"]),
            row["modality"],
            "yes" if row["offline"] else "needs network",
            row["description"],
        )
    console.print(table)


@app.command(rich_help_panel="Create and compare")
def embed(
    model: Annotated[str, typer.Argument(help="Model name (see `embedlab models`).")],
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to embed.", show_default=False)] = None,
    input_file: Annotated[
        Path | None, typer.Option("--input", "-i", help="File of texts (.txt/.csv/.tsv/.jsonl/.parquet).")
    ] = None,
    text_column: Annotated[str | None, typer.Option(help="Column holding the text (CSV/JSONL/Parquet).")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write vectors to .npy, .parquet or .jsonl.")
    ] = None,
    no_normalize: Annotated[bool, typer.Option("--no-normalize", help="Keep raw (not unit-length) vectors.")] = False,
    max_chars: MaxCharsOption = MAX_CHARS,
    pooling: PoolingOption = None,
    long_text: LongTextOption = None,
    stop_words: StopWordsOption = None,
    max_features: MaxFeaturesOption = None,
    backend: BackendOption = None,
    as_json: JsonOption = False,
) -> None:
    """Embed texts given as arguments or in a file; print a preview or write the vectors to a file."""
    import numpy as np

    from embedlab.encoders import load
    from embedlab.io.records import read_records
    from embedlab.io.vectors import check_vectors_output, write_vectors

    if texts and input_file:
        raise EmbedlabError("give texts as arguments or --input FILE, not both.")
    if input_file:
        items = [
            r.text for r in read_records(input_file, text_column, max_chars=max_chars) if r.text and str(r.text).strip()
        ]
    else:
        items = list(texts or [])
    if not items:
        raise EmbedlabError("there is nothing to embed.", "pass texts as arguments or --input FILE.")
    if output is not None:
        check_vectors_output(output)
    encoder = load(model, **model_options(pooling, long_text, stop_words, max_features, backend))
    if not encoder.fitted:
        encoder.fit(items)
    vectors = encoder.encode(items, normalize=not no_normalize, show_progress=len(items) > 256)
    summary = {
        "model": encoder.name,
        "items": len(items),
        "dim": encoder.dim,
        "stats": encoder.last_stats,
        "recipe": encoder.recipe,
    }
    if output is not None:
        write_vectors(output, vectors, items)
        summary["output"] = str(output)
        if as_json:
            print_json(summary)
        else:
            note(f"wrote {len(items)} vectors of dim {encoder.dim} to {output} ({encoder.name})")
            note_long_texts(encoder.last_stats, encoder.recipe)
        return
    if as_json:
        print_json({**summary, "vectors": vectors.round(6).tolist()})
        return
    table = Table(title=f"{encoder.name}: {len(items)} × {encoder.dim}")
    table.add_column("text", overflow="fold", max_width=50)
    table.add_column("vector (first 6 values)")
    table.add_column("norm", justify="right")
    for text, vector in zip(items, vectors, strict=True):
        table.add_row(text, " ".join(f"{v:+.3f}" for v in vector[:6]) + " …", f"{np.linalg.norm(vector):.3f}")
    console.print(table)
    note_long_texts(encoder.last_stats, encoder.recipe)


def note_long_texts(stats: dict, recipe: dict) -> None:
    """Say how many texts were longer than the model's token limit, and what was done with them."""
    if stats.get("long_texts"):
        note(
            f"{stats['long_texts']} text(s) were longer than the model's limit of {recipe.get('max_tokens')} tokens: "
            f"{stats.get('windowed', 0)} windowed (mean of overlapping windows), {stats.get('truncated', 0)} truncated "
            f"(long_text={recipe.get('long_text')}; --long-text truncate gives sentence-transformers' vectors)"
        )


@app.command(rich_help_panel="Create and compare")
def similarity(
    model: Annotated[str, typer.Argument(help="Model name (see `embedlab models`).")],
    texts: Annotated[list[str], typer.Argument(help="Two or more texts.")],
    pooling: PoolingOption = None,
    backend: BackendOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cosine similarity between every pair of texts, as a matrix."""
    from embedlab.encoders import load

    if len(texts) < 2:
        raise EmbedlabError("similarity needs at least two texts.", 'e.g. embedlab similarity minilm "a cat" "a dog"')
    encoder = load(model, **model_options(pooling, backend=backend))
    if not encoder.fitted:
        encoder.fit(texts)
    vectors = encoder.encode(texts, normalize=True)
    matrix = vectors @ vectors.T
    if as_json:
        print_json({"model": encoder.name, "texts": texts, "cosine": matrix.round(4).tolist()})
        return
    table = Table(title=f"cosine similarity ({encoder.name})")
    table.add_column("")
    for i in range(len(texts)):
        table.add_column(f"[{i + 1}]", justify="right")
    for i, text in enumerate(texts):
        short = text if len(text) <= 40 else text[:39] + "…"
        table.add_row(f"[{i + 1}] {short}", *(f"{v:.3f}" for v in matrix[i]))
    console.print(table)


@app.command(rich_help_panel="Create and compare")
def distill(
    model: Annotated[str, typer.Argument(help="Local transformer to distill (minilm or a model folder).")] = "minilm",
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the static model.")] = Path(
        "models/minilm-static"
    ),
    dims: Annotated[int, typer.Option("--dims", help="Vector size (model2vec's PCA dimensions).")] = 256,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing folder.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Distill a static model (model2vec) from a transformer, offline; load it as static:DIR."""
    from embedlab.encoders.distilled import distill as distill_static

    note(f"distilling {model} into {output} (one forward pass per vocabulary token; about a minute on 2 cores)")
    folder = distill_static(model, output, dims=dims, overwrite=overwrite)
    if as_json:
        print_json({"model": model, "output": str(folder), "dims": dims, "load_as": f"static:{folder}"})
    else:
        note(f"wrote {folder}; load it as static:{folder}")
