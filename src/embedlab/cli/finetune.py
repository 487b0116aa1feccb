"""Fine-tuning: `embedlab train classifier|bag|contrastive` and `embedlab predict`. The logic lives in
`embedlab.finetune`; this module parses and prints."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from embedlab.cli.common import (
    JsonOption,
    LongTextOption,
    PoolingOption,
    app,
    console,
    err_console,
    model_options,
    note,
    print_json,
)
from embedlab.cli.words import train_app

PANEL = "Fine-tune"
DataArg = Annotated[
    str,
    typer.Argument(
        help="Labelled CSV/TSV/JSONL/Parquet, a fastText '__label__X text' file, or 'pang-lee' (bundled sentiment)."
    ),
]
OutputOption = Annotated[Path, typer.Option("--output", "-o", help="Folder to write the trained model to.")]
LabelColumn = Annotated[str, typer.Option(help="Column with the labels (rows without one are counted and skipped).")]
TextColumn_ = Annotated[str | None, typer.Option("--text-column", help="Column with the text (default 'text').")]
SeedOption = Annotated[int, typer.Option(help="Seed of the split and the training.")]
ValidationOption = Annotated[float, typer.Option(help="Fraction of examples for validation (early stopping).")]
TestOption = Annotated[float, typer.Option(help="Fraction of examples held out for the test metrics.")]
EpochsOption = Annotated[int, typer.Option(help="Most epochs (early stopping may end sooner).")]
PatienceOption = Annotated[int, typer.Option(help="Stop after this many epochs without a lower validation loss.")]
BatchOption = Annotated[int, typer.Option(help="Examples per batch.")]
OverwriteOption = Annotated[bool, typer.Option("--overwrite", help="Replace the output folder if it exists.")]


@contextmanager
def _epoch_bar(what: str, as_json: bool) -> Iterator[Callable[[int, int, dict[str, float]], None]]:
    """A rich progress bar fed by the library's progress(step, total, info) callback."""
    with Progress(
        TextColumn(f"training {what}"),
        BarColumn(),
        TextColumn("{task.fields[unit]} {task.completed}/{task.total}"),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        console=err_console,
        disable=as_json,
    ) as bar:
        task = bar.add_task(what, total=None, unit="", info="")

        def progress(done: int, total: int, info: dict[str, float]) -> None:
            if "val_loss" in info:
                text, unit = f"val loss {info['val_loss']:.4f}  val acc {info['val_accuracy']:.3f}", "epoch"
            else:
                text, unit = f"loss {info['loss']:.4f}", "step"
            bar.update(task, completed=done, total=total, unit=unit, info=text)

        yield progress


@contextmanager
def _interrupt_exit() -> Iterator[None]:
    """Ctrl-C during training: say where the checkpoint went and exit 130."""
    from embedlab.finetune import TrainingInterrupted

    try:
        yield
    except TrainingInterrupted as stop:
        note(f"interrupted: {stop.detail} saved to {stop.path}")
        raise SystemExit(130) from None  # typer.Exit would become exit code 0 under standalone_mode=False


def _print_classification(result: Any) -> None:
    if any(result.skipped.values()):
        parts = [f"{n} {what.replace('_', ' ')}" for what, n in result.skipped.items() if n]
        note(f"skipped {', '.join(parts)} row(s)")
    sizes = ", ".join(f"{k} {v}" for k, v in result.split.items())
    console.print(f"{result.kind} on {result.model} - {result.data} ({sizes})", highlight=False)
    table = Table()
    for column in ("", "accuracy", "macro-F1"):
        table.add_column(column, justify="right" if column else "left")
    table.add_row("validation", f"{result.validation['accuracy']:.3f}", f"{result.validation['macro_f1']:.3f}")
    table.add_row("test", f"{result.test['accuracy']:.3f}", f"{result.test['macro_f1']:.3f}")
    table.add_row(
        f"majority baseline ({result.baseline['predicts']})",
        f"{result.baseline['accuracy']:.3f}",
        f"{result.baseline['macro_f1']:.3f}",
    )
    console.print(table)
    confusion = Table(title="test confusion matrix")
    confusion.add_column("true \\ predicted")
    for name in result.classes:
        confusion.add_column(name, justify="right")
    for name, row in zip(result.classes, result.test["confusion"], strict=True):
        confusion.add_row(name, *(str(v) for v in row))
    console.print(confusion)


@train_app.command("classifier", rich_help_panel=PANEL)
def train_classifier_command(
    data: DataArg,
    output: OutputOption,
    model: Annotated[str, typer.Option("--model", "-m", help="Encoder (frozen); see `embedlab models`.")] = "minilm",
    head: Annotated[str, typer.Option(help="logreg (scikit-learn), linear or mlp (PyTorch).")] = "logreg",
    label_column: LabelColumn = "label",
    text_column: TextColumn_ = None,
    seed: SeedOption = 0,
    validation: ValidationOption = 0.2,
    test: TestOption = 0.2,
    epochs: EpochsOption = 200,
    lr: Annotated[float, typer.Option(help="Learning rate (torch heads).")] = 1e-2,
    hidden: Annotated[int, typer.Option(help="Hidden units of the mlp head.")] = 256,
    batch_size: BatchOption = 32,
    patience: PatienceOption = 10,
    pooling: PoolingOption = None,
    long_text: LongTextOption = None,
    overwrite: OverwriteOption = False,
    as_json: JsonOption = False,
) -> None:
    """Train a classifier head on frozen embeddings; prints accuracy, macro-F1 and the confusion matrix."""
    from embedlab.finetune import train_classifier

    with _interrupt_exit(), _epoch_bar(head, as_json or head == "logreg") as progress:
        result = train_classifier(
            data, output, model=model, head=head, label_column=label_column, text_column=text_column, seed=seed,
            validation=validation, test=test, epochs=epochs, lr=lr, hidden=hidden, batch_size=batch_size,
            patience=patience, overwrite=overwrite, encoder_options=model_options(pooling, long_text),
            progress=progress,
        )  # fmt: skip
    if as_json:
        print_json(result.as_dict())
        return
    _print_classification(result)
    note(f'saved to {result.path}; try: embedlab predict {result.path} "some text"')


@train_app.command("bag", rich_help_panel=PANEL)
def train_bag_command(
    data: DataArg,
    output: OutputOption,
    init: Annotated[
        str | None,
        typer.Option(help="Start from static vectors: vectors:PATH (word2vec/GloVe), wordllama, word2vec:DIR ..."),
    ] = None,
    freeze: Annotated[
        bool, typer.Option("--freeze", help="Keep the pretrained vectors fixed; train the head.")
    ] = False,
    compare: Annotated[
        bool, typer.Option("--compare", help="Also train random init (and frozen / fine-tuned) and compare.")
    ] = False,
    dim: Annotated[int, typer.Option(help="Vector size with random init.")] = 100,
    min_count: Annotated[int, typer.Option(help="Keep words seen at least this often in training.")] = 1,
    label_column: LabelColumn = "label",
    text_column: TextColumn_ = None,
    seed: SeedOption = 0,
    validation: ValidationOption = 0.2,
    test: TestOption = 0.2,
    epochs: EpochsOption = 200,
    lr: Annotated[float, typer.Option(help="Learning rate.")] = 1e-2,
    batch_size: BatchOption = 32,
    patience: PatienceOption = 10,
    overwrite: OverwriteOption = False,
    as_json: JsonOption = False,
) -> None:
    """Train an embedding layer (nn.Embedding, mean-pooled) with a linear head end to end."""
    from embedlab.finetune import train_bag

    with _interrupt_exit(), _epoch_bar("bag", as_json) as progress:
        result = train_bag(
            data, output, init=init, freeze=freeze, dim=dim, min_count=min_count, label_column=label_column,
            text_column=text_column, seed=seed, validation=validation, test=test, epochs=epochs, lr=lr,
            batch_size=batch_size, patience=patience, compare=compare, overwrite=overwrite, progress=progress,
        )  # fmt: skip
    if as_json:
        print_json(result.as_dict())
        return
    _print_classification(result)
    comparison = result.details["comparison"]
    if len(comparison) > 1:
        table = Table(title="embedding layer: test metrics by initialisation (same split)")
        for column in ("set-up", "accuracy", "macro-F1", "epochs"):
            table.add_column(column, justify="left" if column == "set-up" else "right")
        for name, row in comparison.items():
            table.add_row(name, f"{row['test']['accuracy']:.3f}", f"{row['test']['macro_f1']:.3f}", str(row["epochs"]))
        console.print(table)
    note(f"saved to {result.path} (vocabulary {result.details['vocabulary']:,} words)")


@train_app.command("contrastive", rich_help_panel=PANEL)
def train_contrastive_command(
    pairs: Annotated[
        str, typer.Argument(help="CSV/TSV/JSONL/Parquet with anchor,positive[,negative] columns, or 'lee' (bundled).")
    ],
    output: OutputOption,
    model: Annotated[str, typer.Option("--model", "-m", help="minilm or a BERT-style model folder.")] = "minilm",
    heldout: Annotated[
        str | None, typer.Option(help="Pairs to evaluate on (default: keep --holdout of PAIRS out of training).")
    ] = None,
    holdout: Annotated[float, typer.Option(help="Fraction of PAIRS held out for before/after.")] = 0.2,
    epochs: Annotated[int, typer.Option(help="Passes over the training pairs.")] = 1,
    batch_size: Annotated[int, typer.Option(help="Pairs per batch (more = more in-batch negatives).")] = 16,
    lr: Annotated[float, typer.Option(help="Learning rate.")] = 2e-5,
    max_tokens: Annotated[int, typer.Option(help="Cut training texts to this many tokens.")] = 128,
    train_layers: Annotated[
        int | None, typer.Option(help="Train only the top N transformer layers (faster on a CPU).")
    ] = None,
    max_words: Annotated[int | None, typer.Option(help="lee: cut each positive to this many words.")] = None,
    seed: SeedOption = 0,
    overwrite: OverwriteOption = False,
    as_json: JsonOption = False,
) -> None:
    """Fine-tune a sentence encoder on pairs with in-batch negatives; prints held-out MRR@10 before and after."""
    from embedlab.finetune import train_contrastive

    with _interrupt_exit(), _epoch_bar("contrastive", as_json) as progress:
        result = train_contrastive(
            pairs, output, model=model, heldout=heldout, holdout=holdout, epochs=epochs, batch_size=batch_size,
            lr=lr, max_tokens=max_tokens, train_layers=train_layers, max_words=max_words, seed=seed,
            overwrite=overwrite, progress=progress,
        )  # fmt: skip
    if as_json:
        print_json(result.as_dict())
        return
    table = Table(title=f"held-out retrieval ({result.heldout_pairs} pairs not trained on)")
    for column in ("model", *result.before):
        table.add_column(column, justify="left" if column == "model" else "right")
    table.add_row(f"before ({result.base_model})", *(f"{v:.3f}" for v in result.before.values()))
    table.add_row(f"after ({result.path.name})", *(f"{result.after[k]:.3f}" for k in result.before))
    console.print(table)
    note(
        f"saved to {result.path} ({result.train_pairs} training pairs, "
        f"{result.training['steps_done']} steps, {result.training['seconds']:.0f} s on {result.training['device']}); "
        f"use it as --model {result.path} or SentenceTransformer('{result.path}')"
    )


@app.command(rich_help_panel=PANEL)
def predict(
    model_dir: Annotated[Path, typer.Argument(help="Folder written by `embedlab train classifier` or `train bag`.")],
    texts: Annotated[list[str], typer.Argument(help="One or more texts to label.")],
    as_json: JsonOption = False,
) -> None:
    """Label TEXTS with a trained head (re-embedded with the encoder it was trained on)."""
    from embedlab.finetune import load_head

    predictions = load_head(model_dir).predictions(texts)
    if as_json:
        print_json([p.as_dict() for p in predictions])
        return
    table = Table()
    for column in ("text", "label", "probability"):
        table.add_column(column, justify="right" if column == "probability" else "left")
    for p in predictions:
        table.add_row(p.text, p.label, f"{p.probabilities[p.label]:.3f}")
    console.print(table)
