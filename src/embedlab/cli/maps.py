"""`embedlab map`: PCA, t-SNE and UMAP maps as interactive HTML or PNG, model comparison, projector export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from embedlab.cli.common import JsonOption, StoreOption, app, note, print_json
from embedlab.errors import EmbedlabError, shorten

if TYPE_CHECKING:  # the library (numpy, plotly, umap ...) is imported when a command runs
    from embedlab.maps import MapSummary


@app.command("map", rich_help_panel="See and evaluate")
def map_command(
    source: Annotated[
        str | None,
        typer.Argument(
            help="A collection, a .npy/.parquet vectors file, or a model with --words "
            "(e.g. wordllama, vectors:PATH). With --compare: the collection whose texts both models embed.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="map.html (interactive, offline) or map.png.")
    ] = None,
    method: Annotated[str, typer.Option(help="pca, tsne (openTSNE) or umap.")] = "umap",
    dims: Annotated[int, typer.Option(help="2 or 3.")] = 2,
    color_by: Annotated[
        str | None, typer.Option(help="Metadata column to colour by (default: clusters).", show_default=False)
    ] = None,
    label_column: Annotated[
        str | None, typer.Option(help="Column that names each point in hover (default: id).", show_default=False)
    ] = None,
    sample: Annotated[int | None, typer.Option(help="Map a random sample of N points.", show_default=False)] = None,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same map.")] = 0,
    clusters: Annotated[
        str | None,
        typer.Option(help="kmeans, hdbscan or none (default: kmeans unless --color-by).", show_default=False),
    ] = None,
    n_clusters: Annotated[
        int | None, typer.Option(help="k for k-means (default: about sqrt(n/2)).", show_default=False)
    ] = None,
    metadata: Annotated[
        Path | None,
        typer.Option(
            help="Metadata for a vectors file (.csv/.tsv/.jsonl/.parquet, one row per vector).", show_default=False
        ),
    ] = None,
    words: Annotated[
        Path | None, typer.Option(help="Word list (one per line) to embed with the model SOURCE.", show_default=False)
    ] = None,
    compare: Annotated[
        tuple[str, str] | None,
        typer.Option(
            help="Two models or collections (A B): maps side by side, neighbourhood change.", show_default=False
        ),
    ] = None,
    k: Annotated[int, typer.Option("-k", help="Neighbours per item for --compare.")] = 10,
    projector: Annotated[
        Path | None,
        typer.Option(help="Also write TensorBoard Embedding Projector files into this folder.", show_default=False),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Recompute instead of using a cached projection.")
    ] = False,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Draw a map of embeddings: `embedlab map SOURCE -o map.html [--method pca|tsne|umap]`."""
    from embedlab.maps import compare_map, compare_sources, make_map, open_source

    if compare is not None:
        if output is None:
            raise EmbedlabError("--compare needs an output.", "add -o compare.html (or .png).")
        if dims != 2:
            raise EmbedlabError("--compare draws 2-D maps.", "drop --dims.")
        first, second = compare_sources(compare[0], compare[1], store, source, words, sample, seed)
        summary = compare_map(
            first, second, output, method, color_by, label_column, sample, seed, clusters, n_clusters, k, not no_cache
        )
    else:
        if source is None:
            raise EmbedlabError("no SOURCE given.", "give a collection, a vectors file, or a model with --words.")
        data = open_source(source, store, metadata, words)
        summary = make_map(
            data, output, method, dims, color_by, label_column, sample, seed, clusters, n_clusters, projector,
            not no_cache,
        )  # fmt: skip
    if as_json:
        print_json(summary.as_dict())
    else:
        print_summary(summary)


def print_summary(summary: MapSummary) -> None:
    made = "cached projection" if summary.cached else f"projected in {summary.projection_seconds:.1f}s"
    if summary.output:
        note(f"{summary.output}: {summary.method} map of {summary.points:,} points ({made}).")
    if summary.explained_variance:
        note("variance explained: " + ", ".join(f"PC{i + 1} {r:.1%}" for i, r in enumerate(summary.explained_variance)))
    if summary.clusters:
        note(f"{len(summary.clusters)} clusters: " + "; ".join(f"{c['label']} ({c['size']})" for c in summary.clusters))
    if summary.dropped:
        shown = shorten(summary.dropped)
        note(f"{len(summary.dropped)} word(s) unknown to the model were left out: {shown}")
    if summary.projector:
        note(f"projector files: {', '.join(summary.projector)}")
    if summary.compare:
        c = summary.compare
        note(
            f"neighbourhoods ({c['k']} nearest): mean Jaccard {c['mean_jaccard']:.3f}, median {c['median_jaccard']:.3f}, "
            f"{c['unchanged_share']:.1%} of items keep all their neighbours"
        )
        for item in c["most_changed"]:
            note(f"  moved most: {item['id']} (Jaccard {item['jaccard']:.2f}) {item['text'] or ''}")
