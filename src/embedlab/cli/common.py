"""Shared pieces of the CLI: the app, consoles, common options and output helpers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

app = typer.Typer(
    name="embedlab",
    help="Create, compare, see, evaluate, store and search embeddings. Every command takes --json.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True, soft_wrap=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]
StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        envvar="EMBEDLAB_STORE",
        help="Store folder (default: $XDG_DATA_HOME/embedlab, i.e. ~/.local/share/embedlab).",
        show_default=False,
    ),
]
ModelOption = Annotated[str, typer.Option("--model", "-m", help="Model name; see `embedlab models`.")]
PoolingOption = Annotated[
    str | None, typer.Option("--pooling", help="Transformer pooling: mean, cls or max (default: the model's own).")
]
LongTextOption = Annotated[
    str | None,
    typer.Option("--long-text", help="Transformer texts longer than the model's limit: window (default) or truncate."),
]


def model_options(pooling: str | None = None, long_text: str | None = None) -> dict[str, Any]:
    """Only the options the user set, so a model's defaults stay its own."""
    options: dict[str, Any] = {}
    if pooling:
        options["pooling"] = pooling
    if long_text:
        options["long_text"] = long_text
    return options


def print_json(data: Any) -> None:
    """JSON to stdout, plain (no colours), for scripts."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def note(message: str) -> None:
    """Progress notes and summaries go to stderr so stdout stays clean for --json."""
    err_console.print(message, highlight=False)
