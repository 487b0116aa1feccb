"""`embedlab demo`: the main job on bundled models and data, printed for a newcomer."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.panel import Panel
from rich.table import Table

from embedlab.cli.collections import print_results, print_summary
from embedlab.cli.common import JsonOption, StoreOption, app, console, note, print_json


@app.command(rich_help_panel="Start here")
def demo(
    k: Annotated[int, typer.Option("-k", help="Results per search.")] = 3,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Index 300 real news stories with all-MiniLM-L6-v2, search them three ways, recommend, compare."""
    from embedlab import demo as demo_job
    from embedlab.store import Store

    opened = Store(store)
    if not as_json:
        console.print(
            Panel(
                "Turning 300 ABC news stories (the Lee corpus, shipped with gensim) into 384-dim vectors with "
                "all-MiniLM-L6-v2, storing them in a LanceDB collection, then searching and recommending.",
                title="embedlab demo",
            )
        )
    report = demo_job.run(opened, k=k, show_progress=not as_json)
    if as_json:
        print_json(report.as_dict())
        return
    print_summary(report.ingest["demo-news"])
    console.rule("1. Search: semantic (meaning), keyword (BM25 words), hybrid (both, fused)")
    for search in report.searches:
        print_results(search["results"], f"{search['mode']}: {search['query']!r}", False)
    console.rule("2. Recommend: stories most like story lee-1")
    note(f"lee-1: {report.recommendation['text'][:150]}…")
    print_results(report.recommendation["results"], "similar to lee-1", False)
    console.rule("3. Similarity matrix (cosine, 1 = same meaning)")
    table = Table()
    table.add_column("")
    texts = report.similarity["texts"]
    for i in range(len(texts)):
        table.add_column(f"[{i + 1}]", justify="right")
    for i, text in enumerate(texts):
        table.add_row(f"[{i + 1}] {text}", *(f"{v:.2f}" for v in report.similarity["cosine"][i]))
    console.print(table)
    console.rule("4. The tutorial examples")
    print_results(report.landmarks["results"], f"minilm: {report.landmarks['query']!r}", False)
    print_results(report.movies["results"], "TF-IDF: movies like 'The Dark Knight'", False)
    note(
        f"\nThe collections stay in {opened.path}. Try:\n"
        '  embedlab search demo-news "floods and storms" --mode hybrid\n'
        "  embedlab similar demo-news lee-10\n"
        "  embedlab collections info demo-news"
    )
