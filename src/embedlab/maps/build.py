"""Make a map (or two side by side) from a SOURCE: validate, sample, project, cluster, draw, export.

Everything the user can get wrong (output folder, columns, too few points, bad vectors) is checked
before the first projection starts and before anything is written.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import EmbedlabError
from embedlab.io.records import read_word_list
from embedlab.io.vectors import READ_SUFFIXES as VECTOR_SUFFIXES
from embedlab.maps.clusters import CLUSTER_METHODS, Clusters, find_clusters
from embedlab.maps.compare import neighbourhood_jaccard
from embedlab.maps.data import MapData, from_collection, from_model, from_vectors_file
from embedlab.maps.project import Projection, check_projection, project
from embedlab.maps.projector import check_projector_folder, export_projector
from embedlab.maps.render import (
    POINT_LABELS_UP_TO,
    MapView,
    check_output,
    hover_texts,
    label_positions,
    make_coloring,
    write_html,
    write_png,
)

METHOD_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}


@dataclass
class MapSummary:
    """What `make_map` / `compare_map` did (printed by the CLI, `--json` prints `as_dict()`)."""

    source: str
    points: int
    method: str
    dims: int
    seed: int
    output: str | None
    seconds: float
    projection_seconds: float
    cached: bool
    color_by: str
    explained_variance: list[float] | None = None
    clusters: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    projector: list[str] = field(default_factory=list)
    compare: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def open_source(
    source: str,
    store: Any = None,
    metadata: str | Path | None = None,
    words: str | Path | None = None,
) -> MapData:
    """Points of a SOURCE: a model with a word list (`words`), a .npy/.parquet vectors file, or a collection."""
    from embedlab.store import Store

    if words is not None:
        if metadata is not None:
            raise EmbedlabError("metadata= goes with a vectors file, not with words=.", param="metadata")
        return from_model(source, read_word_list(words))
    path = Path(source).expanduser()
    if path.suffix.lower() in VECTOR_SUFFIXES:
        return from_vectors_file(path, metadata)
    if metadata is not None:
        raise EmbedlabError(
            "metadata= goes with a .npy/.parquet vectors file.", "collections carry their own.", param="metadata"
        )
    opened = store if isinstance(store, Store) else Store(store)
    if source not in opened.names() and _looks_like_model(source):
        raise EmbedlabError(
            f"{source!r} is a model, not a collection; a model map needs the words to show.",
            f"give a word list, one word per line, as words=FILE (`embedlab map {source} --words FILE -o map.html`).",
            param="words",
        )
    return from_collection(opened.collection(source))


def _looks_like_model(name: str) -> bool:
    """Whether `name` is a model name or PREFIX:PATH (not a local path or hub id, which a collection cannot be)."""
    from embedlab.encoders import parse

    try:
        return parse(name).kind not in ("folder", "file", "hub")
    except EmbedlabError:
        return False


def _check_columns(data: MapData, color_by: str | None, label_column: str | None) -> None:
    if color_by is not None and color_by != "cluster":
        data.column(color_by, "color_by")
    if label_column is not None:
        data.column(label_column, "label_column")


def _pick_clusters(clusters: str | None, color_by: str | None) -> str:
    """Cluster by k-means unless the map is coloured by a column (then only when asked)."""
    chosen = clusters or ("none" if color_by not in (None, "cluster") else "kmeans")
    if chosen not in CLUSTER_METHODS:
        raise EmbedlabError(f"unknown cluster method {chosen!r}.", f"choose one of: {', '.join(CLUSTER_METHODS)}.")
    if chosen == "none" and color_by == "cluster":
        raise EmbedlabError("color_by=cluster needs clusters.", "drop clusters=none.", param="clusters")
    return chosen


def _view(
    data: MapData,
    projection: Projection,
    title: str,
    color_by: str | None,
    label_column: str | None,
    clusters: Clusters | None,
    extra: dict[str, list[Any]] | None = None,
) -> MapView:
    titles = data.column(label_column, "label_column") if label_column else None
    columns: dict[str, list[Any]] = dict(data.columns)
    if clusters is not None:
        columns = {"cluster": clusters.point_names(), **columns}
    columns = {**(extra or {}), **columns}
    if color_by is None or color_by == "cluster":
        coloring = make_coloring(clusters.point_names() if clusters else ["all"] * len(data), "cluster")
    else:
        coloring = make_coloring(data.column(color_by), color_by)
    point_labels = None
    if len(data) <= POINT_LABELS_UP_TO:
        if titles is not None:
            point_labels = [str(t) for t in titles]
        elif data.texts is not None and all(t is not None and len(t) <= 30 for t in data.texts):
            point_labels = list(data.texts)  # type: ignore[arg-type]
    axis_titles = None
    if projection.explained_variance is not None:
        axis_titles = tuple(f"PC{i + 1} ({r:.1%} of variance)" for i, r in enumerate(projection.explained_variance))
    return MapView(
        title=title,
        coords=projection.coords,
        hover=hover_texts(data.ids, data.texts, columns, titles),
        coloring=coloring,
        cluster_labels=label_positions(projection.coords, clusters.labels, clusters.names) if clusters else [],
        point_labels=point_labels,
        axis_titles=axis_titles,
        thumbnails=data.thumbnails,
    )


def make_map(
    data: MapData,
    output: str | Path | None,
    method: str = "umap",
    dims: int = 2,
    color_by: str | None = None,
    label_column: str | None = None,
    sample: int | None = None,
    seed: int = 0,
    clusters: str | None = None,
    n_clusters: int | None = None,
    projector: str | Path | None = None,
    cache: bool = True,
    **params: Any,
) -> MapSummary:
    """Draw `data` to `output` (.html or .png) and/or export it for the TensorBoard projector.

    Colour by `color_by` (a metadata column, or 'cluster'); without it points are coloured by
    k-means clusters named by their top TF-IDF terms. `params` go to the projection method.
    """
    started = time.perf_counter()
    if output is None and projector is None:
        raise EmbedlabError(
            "nothing to write.", "give output=map.html or map.png, and/or projector=FOLDER.", param="output"
        )
    path = check_output(output) if output is not None else None
    if projector is not None:
        check_projector_folder(projector)
    _check_columns(data, color_by, label_column)
    cluster_method = _pick_clusters(clusters, color_by)
    data = data.sample(sample, seed)
    check_projection(method, dims, len(data))
    found = None
    if cluster_method != "none":
        found = find_clusters(data.vectors, data.texts, cluster_method, n_clusters, seed=seed)
    exported: list[str] = []
    if projector is not None:
        columns = {"id": data.ids, **({"text": data.texts} if data.texts is not None else {})}
        if found is not None:
            columns["cluster"] = found.point_names()
        columns.update(data.columns)
        exported = [str(p) for p in export_projector(projector, data.vectors, columns, data.name)]
    projection = None
    if path is not None:
        projection = project(
            data.vectors,
            method,
            dims,
            seed,
            cache_dir=data.cache_dir if cache else None,
            cache_key=data.cache_key,
            **params,
        )
        title = f"{data.name}: {METHOD_NAMES[method]} of {len(data):,} points"
        view = _view(data, projection, title, color_by, label_column, found)
        (write_html if path.suffix.lower() == ".html" else write_png)([view], path, title)
    return MapSummary(
        source=data.name,
        points=len(data),
        method=method,
        dims=dims,
        seed=seed,
        output=str(path) if path else None,
        seconds=round(time.perf_counter() - started, 3),
        projection_seconds=projection.seconds if projection else 0.0,
        cached=bool(projection and projection.cached),
        color_by=color_by or ("cluster" if found else "none"),
        explained_variance=projection.explained_variance if projection else None,
        clusters=found.as_list() if found else [],
        dropped=data.dropped,
        projector=exported,
    )


def compare_sources(
    first: str,
    second: str,
    store: Any = None,
    source: str | None = None,
    words: str | Path | None = None,
    sample: int | None = None,
    seed: int = 0,
) -> tuple[MapData, MapData]:
    """The same items under two embeddings: each side is a collection of the store or a model.

    A model embeds the texts of `source` (a collection), of `words` (a word list), or of the
    other side when that one is a collection; with `sample`, only a random sample of them.
    """
    from embedlab.store import Store

    opened = store if isinstance(store, Store) else Store(store)
    names = opened.names()
    base: MapData | None = None
    base_collection = None
    word_list = read_word_list(words) if words is not None else None
    if source is not None and word_list is None:
        base = open_source(source, opened)
        base_collection = source if source in names else None
    elif word_list is None:
        base_collection = next((n for n in (first, second) if n in names), None)
        base = from_collection(opened.collection(base_collection)) if base_collection else None
    if base is not None:
        base = base.sample(sample, seed)

    def side(name: str) -> MapData:
        if name == base_collection and base is not None:
            return base
        if name in names:
            return from_collection(opened.collection(name))
        if word_list is not None:
            return from_model(name, word_list)
        if base is None or base.texts is None:
            raise EmbedlabError(
                f"{name!r} is not a collection, and there are no texts to embed with it.",
                "give a collection as SOURCE or a word list with words=FILE.",
            )
        embedded = from_model(name, [t or "" for t in base.texts], name=name)
        if embedded.dropped:
            raise EmbedlabError(
                f"model {name} gives no vector for {len(embedded.dropped)} of the texts "
                f"(e.g. {embedded.dropped[0][:60]!r}).",
                "compare with models that know these texts' words.",
            )
        embedded.ids, embedded.columns = list(base.ids), dict(base.columns)
        return embedded

    return side(first), side(second)


def align(a: MapData, b: MapData) -> tuple[MapData, MapData]:
    """Both sides restricted to their shared ids, in the order of `a`."""
    position = {item: row for row, item in enumerate(b.ids)}
    rows_a = [row for row, item in enumerate(a.ids) if item in position]
    if not rows_a:
        raise EmbedlabError(f"{a.name} and {b.name} share no ids.", "compare two collections made from the same items.")
    return a.subset(np.array(rows_a)), b.subset(np.array([position[a.ids[r]] for r in rows_a]))


def compare_map(
    a: MapData,
    b: MapData,
    output: str | Path,
    method: str = "umap",
    color_by: str | None = None,
    label_column: str | None = None,
    sample: int | None = None,
    seed: int = 0,
    clusters: str | None = None,
    n_clusters: int | None = None,
    k: int = 10,
    cache: bool = True,
    **params: Any,
) -> MapSummary:
    """Two maps of the same items side by side (linked hover in HTML), and how far neighbourhoods moved.

    Points are coloured the same on both sides (by `color_by`, else by clusters of `a`), so one
    sees where A's groups went under B. Each item's hover shows the Jaccard overlap of its
    k nearest neighbours under A and B; the summary reports the mean and the items that moved most.
    """
    started = time.perf_counter()
    path = check_output(output)
    _check_columns(a, color_by, label_column)
    cluster_method = _pick_clusters(clusters, color_by)
    a, b = align(a, b)
    if sample is not None and sample < len(a):
        rows = np.sort(np.random.default_rng(seed).choice(len(a), size=sample, replace=False))
        a, b = a.sample(sample, seed), b.subset(rows)
    check_projection(method, 2, len(a))
    if not 1 <= k < len(a):
        raise EmbedlabError(f"-k must be between 1 and {len(a) - 1} for {len(a)} shared items, got {k}.")
    jaccard = neighbourhood_jaccard(a.vectors, b.vectors, k)
    found = (
        find_clusters(a.vectors, a.texts, cluster_method, n_clusters, seed=seed) if cluster_method != "none" else None
    )
    projections = [
        project(d.vectors, method, 2, seed, d.cache_dir if cache else None, d.cache_key, **params) for d in (a, b)
    ]
    extra = {f"neighbours kept (k={k})": [f"{j:.2f}" for j in jaccard]}
    views = [
        _view(d, p, f"{d.name}: {METHOD_NAMES[method]}", color_by, label_column, found, extra)
        for d, p in zip((a, b), projections, strict=True)
    ]
    title = f"{a.name} vs {b.name}: mean Jaccard of {k}-NN sets {jaccard.mean():.3f} over {len(a):,} items"
    if path.suffix.lower() == ".html":
        write_html(views, path, title, linked=True)
    else:
        write_png(views, path, title)
    order = np.argsort(jaccard, kind="stable")
    moved = [
        {"id": a.ids[r], "text": (a.texts[r] or "")[:100] if a.texts else None, "jaccard": round(float(jaccard[r]), 4)}
        for r in order[:5]
    ]
    return MapSummary(
        source=f"{a.name} vs {b.name}",
        points=len(a),
        method=method,
        dims=2,
        seed=seed,
        output=str(path),
        seconds=round(time.perf_counter() - started, 3),
        projection_seconds=round(sum(p.seconds for p in projections), 3),
        cached=all(p.cached for p in projections),
        color_by=color_by or ("cluster" if found else "none"),
        clusters=found.as_list() if found else [],
        compare={
            "a": a.name,
            "b": b.name,
            "k": k,
            "mean_jaccard": round(float(jaccard.mean()), 4),
            "median_jaccard": round(float(np.median(jaccard)), 4),
            "unchanged_share": round(float(np.mean(jaccard == 1.0)), 4),
            "most_changed": moved,
        },
    )
