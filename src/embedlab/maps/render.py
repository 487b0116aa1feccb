"""Draw maps: interactive HTML (plotly, WebGL, script embedded so it works offline) and PNG (matplotlib).

Both use the same colours (matplotlib's tab20 without its greys; grey is 'other' and 'noise'),
the same cluster labels and the same point labels, from one `MapView` per map.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.io import files

PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5",
)  # fmt: skip
GREY = "#b0b0b0"
OTHER = "other"
NUMERIC_ABOVE = 12
POINT_LABELS_UP_TO = 150
OUTPUT_SUFFIXES = (".html", ".png")
HOVER_CHARS = 300
HOVER_CHARS_LARGE = 120
HOVER_COLUMNS = 8
LABEL_NEIGHBOURS = 15
THUMBNAILS_ON_POINTS_UP_TO = 60  # PNG maps of image collections draw each thumbnail at its point up to this size


@dataclass
class Coloring:
    """How points are coloured: by category (legend) or by a number (colour bar)."""

    title: str
    kind: str
    values: list[Any]
    colors: dict[str, str]

    def color_of_points(self) -> list[str] | np.ndarray:
        if self.kind == "numeric":
            return np.asarray(self.values, dtype=np.float64)
        return [self.colors[v] for v in self.values]


def make_coloring(values: Sequence[Any], title: str) -> Coloring:
    """Numbers with many distinct values get a colour scale; anything else gets one colour per category.

    The most common categories get the palette's colours; the rest share grey as 'other'.
    Missing values show as '(none)'; 'noise' (HDBSCAN) is grey.
    """
    present = [v for v in values if v is not None]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in present)
    if present and numeric and len(set(present)) > NUMERIC_ABOVE:
        return Coloring(title, "numeric", [math.nan if v is None else float(v) for v in values], {})
    names = ["(none)" if v is None else str(v) for v in values]
    ranked = [name for name, _ in sorted(Counter(names).items(), key=lambda kv: (-kv[1], kv[0]))]
    colored = [n for n in ranked if n != "noise"][: len(PALETTE) - (1 if len(ranked) > len(PALETTE) else 0)]
    colors = {name: PALETTE[i] for i, name in enumerate(colored)}
    names = [n if n in colors or n == "noise" else OTHER for n in names]
    if OTHER in names:
        colors[OTHER] = GREY
    if "noise" in names:
        colors["noise"] = GREY
    return Coloring(title, "category", names, colors)


@dataclass
class MapView:
    """One map ready to draw: coordinates, hover texts, colours and labels."""

    title: str
    coords: np.ndarray
    hover: list[str]
    coloring: Coloring
    cluster_labels: list[tuple[np.ndarray, str]]
    point_labels: list[str] | None = None
    axis_titles: tuple[str, ...] | None = None
    thumbnails: list[bytes | None] | None = None  # JPEG thumbnails of image collections


def data_uri(jpeg: bytes | None) -> str | None:
    """A stored JPEG thumbnail as a data: URI for HTML."""
    return None if not jpeg else "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def hover_texts(
    ids: Sequence[str],
    texts: Sequence[str | None] | None,
    columns: dict[str, Sequence[Any]],
    titles: Sequence[Any] | None = None,
) -> list[str]:
    """Hover HTML per point: a bold title (label column or id), the text (cut), then metadata."""
    limit = HOVER_CHARS if len(ids) <= 20_000 else HOVER_CHARS_LARGE
    shown = list(columns.items())[:HOVER_COLUMNS]
    out = []
    for row, item_id in enumerate(ids):
        head = html.escape(str(titles[row] if titles is not None else item_id))
        parts = [f"<b>{head}</b>"]
        if texts is not None and texts[row] and str(texts[row]) != str(titles[row] if titles is not None else item_id):
            parts.append(wrap(cut(str(texts[row]), limit)))
        parts += [f"{html.escape(str(k))}: {html.escape(str(v[row]))}" for k, v in shown]
        out.append("<br>".join(parts))
    return out


def cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(text.rfind(" ", 0, limit), limit // 2)] + " …"


def wrap(text: str, width: int = 70) -> str:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + len(word) + 1 > width:
            lines.append(html.escape(line))
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join([*lines, html.escape(line)])


def label_positions(coords: np.ndarray, labels: np.ndarray, names: dict[int, str]) -> list[tuple[np.ndarray, str]]:
    """Where to write each cluster's name: at its member with the most same-cluster neighbours on the map.

    That is inside the cluster's densest part even when some members lie elsewhere (the median of a
    scattered cluster can fall inside another one). Ties go to the member nearest the median. Noise gets no label.
    """
    from sklearn.neighbors import NearestNeighbors

    k = min(LABEL_NEIGHBOURS, len(coords))
    _, neighbours = NearestNeighbors(n_neighbors=k).fit(coords).kneighbors(coords)
    same = (labels[neighbours] == labels[:, None]).sum(axis=1)
    positions = []
    for cluster in sorted(c for c in names if c >= 0):
        members = np.flatnonzero(labels == cluster)
        if not len(members):
            continue
        distance = np.linalg.norm(coords[members] - np.median(coords[members], axis=0), axis=1)
        best = members[np.lexsort((distance, -same[members]))[0]]
        positions.append((coords[best], names[cluster]))
    return positions


def check_output(path: str | Path, allowed: Sequence[str] = OUTPUT_SUFFIXES) -> Path:
    """An output path whose folder exists and whose extension says what to write."""
    return files.check_output(path, allowed)


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temp file beside `path`, then rename: a failure never leaves a half-written file."""
    with files.atomic_write(path) as temp:
        temp.write_bytes(data)


# ---- HTML (plotly) -------------------------------------------------------------------------
def _traces(view: MapView, col: int, show_legend: bool, linked: bool) -> list[Any]:
    import plotly.graph_objects as go

    n = len(view.coords)
    dims = view.coords.shape[1]
    size = float(np.clip(90 / math.sqrt(n), 3, 10))
    mode = "markers+text" if view.point_labels is not None else "markers"
    axes = {} if col == 1 else {"xaxis": f"x{col}", "yaxis": f"y{col}"}
    if dims == 3:
        axes = {} if col == 1 else {"scene": f"scene{col}"}
    groups: list[tuple[str, np.ndarray, dict[str, Any]]] = []
    if view.coloring.kind == "numeric":
        marker = {
            "color": view.coloring.color_of_points(),
            "colorscale": "Viridis",
            "showscale": show_legend,
            "colorbar": {"title": {"text": view.coloring.title}},
        }
        groups.append((view.coloring.title, np.arange(n), marker))
    else:
        values = np.asarray(view.coloring.values, dtype=object)
        for name, color in view.coloring.colors.items():
            rows = np.flatnonzero(values == name)
            groups.append((name, rows, {"color": color}))
    traces = []
    for name, rows, marker in groups:
        common = {
            "mode": mode,
            "name": name,
            "legendgroup": name,
            "showlegend": show_legend and view.coloring.kind == "category",
            "hovertext": [view.hover[i] for i in rows],
            "hoverinfo": "text",
            "customdata": rows.tolist() if linked or view.thumbnails is not None else None,
            "text": [view.point_labels[i] for i in rows] if view.point_labels is not None else None,
            "textposition": "top center",
            "textfont": {"size": 10, "color": "#333"},
            **axes,
        }
        if marker.get("showscale") is None:
            marker = {**marker, "opacity": 0.8 if n > 2000 else 0.9}
        if dims == 3:
            traces.append(
                go.Scatter3d(
                    x=view.coords[rows, 0],
                    y=view.coords[rows, 1],
                    z=view.coords[rows, 2],
                    marker={**marker, "size": size * 0.6},
                    **common,
                )
            )
        else:
            traces.append(
                go.Scattergl(x=view.coords[rows, 0], y=view.coords[rows, 1], marker={**marker, "size": size}, **common)
            )
    return traces


def _annotations(view: MapView, col: int) -> list[dict[str, Any]]:
    style = {
        "showarrow": False,
        "font": {"size": 12, "color": "#111"},
        "bgcolor": "rgba(255,255,255,0.75)",
        "bordercolor": "rgba(0,0,0,0.25)",
        "borderpad": 2,
    }
    if view.coords.shape[1] == 3:
        return [
            {"x": float(p[0]), "y": float(p[1]), "z": float(p[2]), "text": html.escape(t), **style}
            for p, t in view.cluster_labels
        ]
    refs = {"xref": "x" if col == 1 else f"x{col}", "yref": "y" if col == 1 else f"y{col}"}
    return [
        {"x": float(p[0]), "y": float(p[1]), "text": html.escape(t), **refs, **style} for p, t in view.cluster_labels
    ]


def figure(views: Sequence[MapView], title: str, linked: bool = False) -> Any:
    """A plotly figure with the maps side by side (one or two)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    dims = views[0].coords.shape[1]
    spec = {"type": "scene"} if dims == 3 else {"type": "xy"}
    fig = make_subplots(
        rows=1, cols=len(views), subplot_titles=[v.title for v in views] if len(views) > 1 else None, specs=[[spec] * len(views)],
        horizontal_spacing=0.04,
    )  # fmt: skip
    for col, view in enumerate(views, start=1):
        for trace in _traces(view, col, show_legend=col == 1, linked=linked):
            fig.add_trace(trace, row=1, col=col)
        axis_titles = view.axis_titles or ("", "", "")
        if dims == 3:
            scene = "scene" if col == 1 else f"scene{col}"
            fig.layout[scene].annotations = _annotations(view, col)
            fig.layout[scene].xaxis.title.text = axis_titles[0]
            fig.layout[scene].yaxis.title.text = axis_titles[1]
            fig.layout[scene].zaxis.title.text = axis_titles[2] if len(axis_titles) > 2 else ""
        else:
            for annotation in _annotations(view, col):
                fig.add_annotation(annotation)
            fig.update_xaxes(title_text=axis_titles[0], showticklabels=False, zeroline=False, row=1, col=col)
            fig.update_yaxes(title_text=axis_titles[1], showticklabels=False, zeroline=False, row=1, col=col)
    if linked and dims == 2:
        for col in range(1, len(views) + 1):
            fig.add_trace(
                go.Scatter(
                    x=[None], y=[None], mode="markers", name="hovered", showlegend=False, hoverinfo="skip",
                    marker={"size": 16, "symbol": "circle-open", "color": "#000", "line": {"width": 3}},
                ),
                row=1, col=col,
            )  # fmt: skip
    fig.update_layout(
        title={"text": html.escape(title)},
        template="plotly_white",
        height=800,
        legend={"itemsizing": "constant", "title": {"text": views[0].coloring.title}},
        hoverlabel={"align": "left"},
        margin={"l": 20, "r": 20, "t": 80, "b": 20},
    )
    return fig


LINK_SCRIPT = """
var gd = document.getElementById('{plot_id}');
var where = %s;
var marks = %s;
gd.on('plotly_hover', function (event) {
  var item = event.points[0].customdata;
  if (item === undefined || item === null) { return; }
  Plotly.restyle(gd, {x: where.map(function (w) { return [w[item][0]]; }),
                      y: where.map(function (w) { return [w[item][1]]; })}, marks);
});
gd.on('plotly_unhover', function () {
  Plotly.restyle(gd, {x: marks.map(function () { return [null]; }), y: marks.map(function () { return [null]; })}, marks);
});
"""


THUMBNAIL_SCRIPT = """
var gd = document.getElementById('{plot_id}');
var thumbs = %s;
var tip = document.createElement('img');
tip.style.cssText = 'position:fixed;display:none;pointer-events:none;z-index:1000;max-width:128px;'
  + 'max-height:128px;border:1px solid #888;background:#fff;box-shadow:0 1px 4px rgba(0,0,0,.3)';
document.body.appendChild(tip);
gd.on('plotly_hover', function (event) {
  var row = event.points[0].customdata;
  if (row === undefined || row === null || !thumbs[row]) { tip.style.display = 'none'; return; }
  var e = event.event || {};
  tip.src = thumbs[row];
  tip.style.left = Math.max(0, (e.clientX || 0) - 150) + 'px';
  tip.style.top = Math.max(0, (e.clientY || 0) - 64) + 'px';
  tip.style.display = 'block';
});
gd.on('plotly_unhover', function () { tip.style.display = 'none'; });
"""


def write_html(views: Sequence[MapView], path: Path, title: str, linked: bool = False) -> None:
    """Self-contained HTML: plotly's script is embedded, so the page works offline.

    Maps of image collections show each point's thumbnail beside the hover text.
    """
    fig = figure(views, title, linked)
    post_script: list[str] = []
    if linked and views[0].coords.shape[1] == 2:
        where = [np.round(v.coords, 5).tolist() for v in views]
        marks = list(range(len(fig.data) - len(views), len(fig.data)))
        post_script.append(LINK_SCRIPT % (json.dumps(where), json.dumps(marks)))
    thumbnails = next((v.thumbnails for v in views if v.thumbnails is not None), None)
    if thumbnails is not None:
        post_script.append(THUMBNAIL_SCRIPT % json.dumps([data_uri(t) for t in thumbnails]))
    page = fig.to_html(
        include_plotlyjs=True,
        full_html=True,
        config={"displaylogo": False, "responsive": True, "scrollZoom": True},
        post_script=post_script or None,
    )
    page = page.replace("<head>", f"<head><title>{html.escape(title)}</title>", 1)
    write_atomic(path, page.encode("utf-8"))


# ---- PNG (matplotlib) ----------------------------------------------------------------------
def write_png(views: Sequence[MapView], path: Path, title: str, dpi: int = 150) -> None:
    """A static picture with the same colours and labels as the HTML."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dims = views[0].coords.shape[1]
    fig = plt.figure(figsize=(9 * len(views) + 2.5, 8.5))
    try:
        for col, view in enumerate(views, start=1):
            ax = fig.add_subplot(1, len(views), col, projection="3d" if dims == 3 else None)
            _draw(ax, view, fig, show_legend=col == len(views))
        if len(views) > 1:
            fig.suptitle(title, fontsize=14)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    write_atomic(path, buffer.getvalue())


def _draw(ax: Any, view: MapView, fig: Any, show_legend: bool) -> None:
    n = len(view.coords)
    dims = view.coords.shape[1]
    size = float(np.clip(4000 / n, 0.5, 40))
    columns = [view.coords[:, i] for i in range(dims)]
    if view.coloring.kind == "numeric":
        points = ax.scatter(*columns, c=view.coloring.color_of_points(), cmap="viridis", s=size, linewidths=0)
        fig.colorbar(points, ax=ax, label=view.coloring.title, shrink=0.7)
    else:
        values = np.asarray(view.coloring.values, dtype=object)
        for name, color in view.coloring.colors.items():
            rows = values == name
            ax.scatter(*(c[rows] for c in columns), color=color, s=size, linewidths=0, label=name, alpha=0.85)
        if show_legend:
            ax.legend(
                title=view.coloring.title, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, markerscale=max(1, 20 / size) ** 0.5,
                frameon=False,
            )  # fmt: skip
    box = {"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.75, "edgecolor": "#888"}
    for position, name in view.cluster_labels:
        ax.text(*position, name, fontsize=9, ha="center", va="center", bbox=box, zorder=3)
    pictures = view.thumbnails is not None and n <= THUMBNAILS_ON_POINTS_UP_TO and dims == 2
    if pictures:
        _draw_thumbnails(ax, view)
    if view.point_labels is not None:
        for row, label in enumerate(view.point_labels):
            if pictures:  # under the picture
                ax.annotate(label, view.coords[row], xytext=(0, -24), textcoords="offset points", ha="center",
                            va="top", fontsize=7, color="#333")  # fmt: skip
            else:
                ax.text(*view.coords[row], f" {label}", fontsize=7, color="#333")
    ax.set_title(view.title, fontsize=11)
    titles = view.axis_titles or ("", "", "")
    ax.set_xlabel(titles[0])
    ax.set_ylabel(titles[1])
    ax.set_xticks([])
    ax.set_yticks([])
    if dims == 3:
        ax.set_zticks([])
    else:
        ax.set_aspect("equal", adjustable="datalim")
        for spine in ax.spines.values():
            spine.set_visible(False)


def _draw_thumbnails(ax: Any, view: MapView) -> None:
    """Each point's thumbnail (about 40 pixels) drawn at the point, framed in the point's colour."""
    import io

    from matplotlib.offsetbox import AnnotationBbox, OffsetImage
    from PIL import Image

    colors = view.coloring.color_of_points() if view.coloring.kind == "category" else None
    for row, jpeg in enumerate(view.thumbnails or []):
        if not jpeg:
            continue
        with Image.open(io.BytesIO(jpeg)) as thumb:
            pixels = np.asarray(thumb.convert("RGB"))
        zoom = 40 / max(pixels.shape[:2])
        box = AnnotationBbox(OffsetImage(pixels, zoom=zoom), view.coords[row], frameon=True, pad=0.15, zorder=1)
        box.patch.set_edgecolor(colors[row] if colors is not None else "#888")
        box.patch.set_linewidth(2)
        ax.add_artist(box)
