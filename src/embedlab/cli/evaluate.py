"""`embedlab evaluate TASK --model M [--model M2 ...]`: scores on real benchmarks and a comparison table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from embedlab.cli.common import JsonOption, app, console, note, print_json
from embedlab.errors import EmbedlabError


@app.command(rich_help_panel="See and evaluate")
def evaluate(
    task: Annotated[str, typer.Argument(help="wordsim, analogy, docsim, sts, retrieval, classify, or all.")],
    models: Annotated[
        list[str] | None, typer.Option("--model", "-m", help="Model to evaluate; repeat to compare several.")
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(help="Your dataset: word pairs, analogies, STS-B TSV, BEIR folder or labelled CSV/JSONL."),
    ] = None,
    outputs: Annotated[
        list[Path] | None, typer.Option("--output", "-o", help="Also write a report: .md or .html (repeatable).")
    ] = None,
    restrict_vocab: Annotated[
        int | None, typer.Option(help="wordsim/analogy: only the N most frequent words (analogy default 30000).")
    ] = None,
    k: Annotated[int | None, typer.Option("--k", help="retrieval: recall@k depth (default 100).")] = None,
    split: Annotated[str | None, typer.Option(help="retrieval: qrels split (default test).")] = None,
    folds: Annotated[int | None, typer.Option(help="classify: cross-validation folds (default 5).")] = None,
    text_column: Annotated[str | None, typer.Option(help="classify: text column (default 'text').")] = None,
    label_column: Annotated[str | None, typer.Option(help="classify: label column (default 'label').")] = None,
    as_json: JsonOption = False,
) -> None:
    """Evaluate one or more models on a task; several models give one table with the best per column marked."""
    from embedlab.evaluate import evaluate as run_evaluation
    from embedlab.evaluate.report import check_output, rich_tables, skipped_lines, write_report

    for output in outputs or []:
        check_output(output)
    given: dict[str, Any] = {
        "restrict_vocab": restrict_vocab,
        "k": k,
        "split": split,
        "folds": folds,
        "text_column": text_column,
        "label_column": label_column,
    }
    options = {name: value for name, value in given.items() if value is not None}
    if not models:
        raise EmbedlabError("no model given.", f"e.g. embedlab evaluate {task} --model minilm --model tfidf")
    report = run_evaluation(task, models, data, **options)
    for output in outputs or []:
        write_report(report, output)
    if as_json:
        print_json(report.as_dict())
    else:
        for table, sources in rich_tables(report):
            console.print(table)
            for source in sources:
                console.print(f"  {source}", highlight=False)
        for line in skipped_lines(report):
            note(f"skipped {line}")
    for output in outputs or []:
        note(f"wrote {output}")
