"""Shared pieces of the CLI: the app, consoles, common options and output helpers."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

app = typer.Typer(
    name="embedlab",
    help="Create, compare, see, evaluate, store and search embeddings. Every command takes --json.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Nothing embedlab prints is read as Rich markup: texts, ids, file names, filters and messages come from
# users and may hold brackets (`[/bold]`, `[red]`), which must print as they are (styles go in `style=`).
console = Console(markup=False)
err_console = Console(stderr=True, soft_wrap=True, markup=False)

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
NoWaitOption = Annotated[
    bool,
    typer.Option(
        "--no-wait",
        help="Fail at once (exit 2) if another process is writing the collection, instead of waiting for it.",
    ),
]
ModelOption = Annotated[str, typer.Option("--model", "-m", help="Model name; see `embedlab models`.")]
PoolingOption = Annotated[
    str | None, typer.Option("--pooling", help="Transformer pooling: mean, cls or max (default: the model's own).")
]
LongTextOption = Annotated[
    str | None,
    typer.Option(
        "--long-text",
        help="Transformer texts longer than the model's limit: window (default: mean of overlapping windows, "
        "unlike sentence-transformers) or truncate (sentence-transformers' vectors).",
    ),
]

MaxCharsOption = Annotated[
    int,
    typer.Option(
        "--max-chars",
        help="Refuse (naming the line) any text longer than this many characters, before reading it whole. "
        "Long texts below it are embedded in bounded pieces.",
    ),
]
StopWordsOption = Annotated[
    str | None,
    typer.Option(
        "--stop-words", help="count/tfidf: 'english' drops scikit-learn's English stop words (default: none)."
    ),
]
MaxFeaturesOption = Annotated[
    int | None,
    typer.Option(
        "--max-features", help="count/tfidf: keep only the N most frequent terms (default: all, as scikit-learn)."
    ),
]

BackendOption = Annotated[
    str | None,
    typer.Option(
        "--backend",
        help="Transformer forward pass: torch (default), onnx (ONNX Runtime, same vectors) or onnx-int8 "
        "(int8, fastest on CPU, slightly different vectors).",
        show_default=False,
    ),
]

def model_options(
    pooling: str | None = None,
    long_text: str | None = None,
    stop_words: str | None = None,
    max_features: int | None = None,
    backend: str | None = None,
) -> dict[str, Any]:
    """Only the options the user set, so a model's defaults stay its own."""
    options: dict[str, Any] = {}
    if stop_words:
        options["stop_words"] = stop_words
    if max_features is not None:
        options["max_features"] = max_features
    if backend:
        options["backend"] = backend
    if pooling:
        options["pooling"] = pooling
    if long_text:
        options["long_text"] = long_text
    return options


def print_json(data: Any) -> None:
    """JSON to stdout, plain (no colours), for scripts."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def note(message: str, style: str | None = None) -> None:
    """Progress notes and summaries go to stderr so stdout stays clean for --json; printed literally."""
    err_console.print(message, highlight=False, style=style)


@functools.cache
def flags() -> dict[str, str]:
    """Python argument name -> the command-line flag that sets it (e.g. text_column -> --text-column)."""
    found: dict[str, str] = {}

    def walk(command: Any) -> None:
        for param in getattr(command, "params", []):
            opts = [o for o in getattr(param, "opts", []) if o.startswith("-")]
            if not opts or param.name in found:
                continue
            short = f"-{param.name}"
            longs = [o for o in opts if o.startswith("--")]
            found[param.name] = short if short in opts else (longs or opts)[0]
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(typer.main.get_command(app))
    return found


IDENTIFIER = r"\b([a-z][a-z0-9]*(?:_[a-z0-9]+)*)"


def for_cli(text: str, param: str | None = None) -> str:
    """A library message (which names Python arguments) as the command line says it: `text_column=` and
    `text_column` become `--text-column`, `overwrite=True` becomes `--overwrite`, `k=5` becomes `-k 5`, and a
    message that starts with the argument at fault (`dims must be 2 or 3`) names its flag."""
    known = flags()
    if param in known and text.startswith(f"{param} "):
        text = known[param] + text[len(param) :]

    def flag(match: re.Match[str], after: str = "") -> str:
        name = match.group(1)
        return known[name] + after if name in known else match.group(0)

    text = re.sub(IDENTIFIER + r"=True\b", flag, text)
    text = re.sub(IDENTIFIER + r"=(?=[\w'\"\[(-])", lambda m: flag(m, " "), text)
    text = re.sub(IDENTIFIER + r"=", flag, text)
    return re.sub(r"\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b", flag, text)


def print_error(message: str, hint: str | None, param: str | None = None) -> None:
    """An error and its hint on stderr, printed literally (never read as Rich markup)."""
    err_console.print(Text.assemble(("error:", "bold red"), " ", for_cli(message, param)), highlight=False)
    if hint:
        err_console.print(Text.assemble(("hint:", "yellow"), " ", for_cli(hint)), highlight=False)
