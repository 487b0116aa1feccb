"""Comparison reports: a rich table for the terminal, Markdown, and a self-contained HTML page with bar charts."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

from rich.table import Table
from rich.text import Text

from embedlab.encoders import REGISTRY
from embedlab.evaluate import Report
from embedlab.io import files

FORMATS = (".md", ".html", ".htm")
COLORS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f")


def groups(report: Report) -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    """Columns grouped by task, in order."""
    by_task: dict[str, list[tuple[str, str, str]]] = {}
    for column in report.columns():
        by_task.setdefault(column[0], []).append(column)
    yield from by_task.items()


def header(column: tuple[str, str, str], several_datasets: bool) -> str:
    return f"{column[1]} {column[2]}" if several_datasets else column[2]


def coverage(report: Report, task: str, model: str) -> str:
    """'used/total' per dataset, e.g. '185/353, 542/999' (the pairs or questions left after OOV)."""
    parts = []
    for result in report.results:
        if result.task == task and result.model == model:
            counts = result.counts
            if "used" in counts:
                total = counts.get("pairs", counts.get("questions", 0))
                parts.append(f"{counts['used']}/{total}")
    return ", ".join(parts)


def skipped_lines(report: Report) -> list[str]:
    """What was not run, one line per (task, reason): 'wordsim for tfidf, minilm: task does not fit this model'."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for skipped in report.skipped:
        grouped.setdefault((skipped["task"], skipped["reason"]), []).append(skipped["model"])
    return [f"{task} for {', '.join(models)}: {reason}" for (task, reason), models in grouped.items()]


def recipe_lines(report: Report) -> dict[str, str]:
    """Per model: its model and version; count/tfidf, fitted on each task's own texts, say so."""
    lines: dict[str, str] = {}
    for model in report.models():
        recipes = [r.recipe for r in report.results if r.model == model]
        first = recipes[0]
        text = f"{first.get('model')} ({first.get('version')})"
        if first.get("encoder") in REGISTRY and REGISTRY[first["encoder"]].requires_fit:
            text = f"{first.get('model')}, fitted on each task's own texts ({len(recipes)} fits)"
        lines[model] = text
    return lines


def sources(report: Report, task: str) -> list[str]:
    seen = {}
    for result in report.results:
        if result.task == task:
            info = result.dataset
            seen[info.name] = f"{info.name}: {info.citation} [{info.sha256}]"
    return list(seen.values())


def _cells(report: Report, task: str, columns: list[tuple[str, str, str]]) -> tuple[list[str], list[list[str]]]:
    several = len({c[1] for c in columns}) > 1
    best = report.best()
    heads = ["model", *(header(c, several) for c in columns)]
    with_coverage = any(coverage(report, task, m) for m in report.models())
    if with_coverage:
        heads.append("used (after OOV)")
    rows = []
    models = report.models(task)
    for model in models:
        row = [model]
        for column in columns:
            value = report.value(model, column)
            text = "–" if value is None else f"{value:.3f}"
            row.append(f"*{text}" if value is not None and model in best.get(column, []) and len(models) > 1 else text)
        if with_coverage:
            row.append(coverage(report, task, model))
        rows.append(row)
    return heads, rows


def rich_tables(report: Report) -> list[tuple[Table, list[str]]]:
    """One table per task (the best value per column in bold green with a ★) and its data sources."""
    tables = []
    for task, columns in groups(report):
        heads, rows = _cells(report, task, columns)
        table = Table(title=task)
        for i, head in enumerate(heads):
            table.add_column(head, justify="left" if i == 0 else "right", overflow="fold")
        for row in rows:
            # Text cells: model names and paths print literally, never as Rich markup
            table.add_row(*(Text(f"{c[1:]} ★", style="bold green") if c.startswith("*") else Text(c) for c in row))
        tables.append((table, sources(report, task)))
    return tables


def markdown(report: Report) -> str:
    """Markdown tables, one per task; the best value per column in bold."""
    lines = [f"# embedlab evaluation ({report.created})", ""]
    for task, columns in groups(report):
        heads, rows = _cells(report, task, columns)
        lines += [
            f"## {task}",
            "",
            "| " + " | ".join(heads) + " |",
            "|" + "|".join(["---"] + ["---:"] * (len(heads) - 1)) + "|",
        ]
        lines += ["| " + " | ".join(f"**{c[1:]}**" if c.startswith("*") else c for c in row) + " |" for row in rows]
        lines += ["", *(f"- {s}" for s in sources(report, task)), ""]
    if report.skipped:
        lines += ["Skipped:", "", *(f"- {line}" for line in skipped_lines(report)), ""]
    lines += ["Recipes (the full recipe of every result is in the --json output):", ""]
    lines += [f"- `{model}`: {text}" for model, text in recipe_lines(report).items()]
    return "\n".join(lines) + "\n"


def _bars(report: Report, task: str, columns: list[tuple[str, str, str]]) -> str:
    """An SVG bar chart: one group of bars (one per model of the task, coloured as in the legend) per column."""
    colour = {m: COLORS[i % len(COLORS)] for i, m in enumerate(report.models())}
    models = report.models(task)
    several = len({c[1] for c in columns}) > 1
    labels = [header(c, several) for c in columns]
    bar, gap, height, top = 16, 28, 160, 10
    group = bar * len(models) + gap
    left = max(60, int(6 * max(len(label) for label in labels)))  # room for the first rotated label
    width = left + group * len(columns)
    values = [v for c in columns for m in models if (v := report.value(m, c)) is not None]
    low = min([0.0, *values])
    span = (1.0 - low) or 1.0
    zero = top + height / span
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 80}" role="img">',
        f'<line x1="{left - 10}" y1="{zero:.1f}" x2="{width}" y2="{zero:.1f}" stroke="#999"/>',
    ]
    for tick in (0.0, 0.5, 1.0):
        y = top + height * ((1.0 - tick) / span)
        parts.append(f'<text x="{left - 14}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{tick:.1f}</text>')
    for ci, (column, label) in enumerate(zip(columns, labels, strict=True)):
        x0 = left + ci * group
        for mi, model in enumerate(models):
            value = report.value(model, column)
            if value is None:
                continue
            y, h = (top + height * ((1.0 - value) / span), height * (value / span))
            y, h = (y, h) if h >= 0 else (zero, -h)
            title = html.escape(f"{model}: {label} = {value:.3f}")
            parts.append(
                f'<rect x="{x0 + mi * bar}" y="{y:.1f}" width="{bar - 2}" height="{h:.1f}" '
                f'fill="{colour[model]}"><title>{title}</title></rect>'
            )
        middle, base = x0 + bar * len(models) / 2, top + height + 14
        parts.append(
            f'<text x="{middle:.1f}" y="{base}" font-size="10" text-anchor="end" '
            f'transform="rotate(-30 {middle:.1f} {base})">{html.escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def html_page(report: Report) -> str:
    """A self-contained HTML page (inline CSS and SVG, no scripts): tables, bar charts, sources, recipes."""
    esc = html.escape
    legend = "".join(
        f'<span class="key"><i style="background:{COLORS[i % len(COLORS)]}"></i>{esc(m)}</span>'
        for i, m in enumerate(report.models())
    )
    body = [f"<h1>embedlab evaluation</h1><p>{esc(report.created)}</p><p>{legend}</p>"]
    for task, columns in groups(report):
        heads, rows = _cells(report, task, columns)
        body.append(f"<h2>{esc(task)}</h2><table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in heads) + "</tr>")
        for row in rows:
            cells = "".join(
                f'<td class="best">{esc(c[1:])}</td>' if c.startswith("*") else f"<td>{esc(c)}</td>" for c in row
            )
            body.append(f"<tr>{cells}</tr>")
        body.append("</table>" + _bars(report, task, columns))
        body.append("<ul>" + "".join(f"<li>{esc(s)}</li>" for s in sources(report, task)) + "</ul>")
    if report.skipped:
        body.append(
            "<p>Skipped:</p><ul>" + "".join(f"<li>{esc(line)}</li>" for line in skipped_lines(report)) + "</ul>"
        )
    body.append(
        "<h2>recipes</h2><ul>"
        + "".join(f"<li><b>{esc(m)}</b>: {esc(text)}</li>" for m, text in recipe_lines(report).items())
        + "</ul>"
    )
    style = (
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:72em}table{border-collapse:collapse;margin:1em 0}"
        "th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}th:first-child,td:first-child{text-align:left}"
        "td.best{font-weight:bold;background:#e8f5e9}.key{margin-right:1em}"
        ".key i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}"
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>embedlab evaluation</title>'
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n"
    )


def check_output(path: Path) -> Path:
    """Refuse an output path we cannot write, before any work is done."""
    return files.check_output(path, FORMATS, "report")


def write_report(report: Report, path: Path) -> Path:
    """Write Markdown or HTML (by extension) atomically: a temp file renamed over the target."""
    path = check_output(path)
    text = markdown(report) if path.suffix.lower() == ".md" else html_page(report)
    files.write_text(path, text)
    return path
