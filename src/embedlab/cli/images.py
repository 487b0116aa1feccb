"""`embedlab classify`: zero-shot labels for images with a CLIP model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from embedlab.cli.common import JsonOption, app, console, note, print_json

# the library's defaults, written here so that `--help` imports no image library (tests/cli/test_fast.py
# checks they stay equal to embedlab.images.DEFAULT_TEMPLATE and DEFAULT_MAX_PIXELS)
DEFAULT_TEMPLATE = "a photo of a {label}"
DEFAULT_MAX_PIXELS = 100_000_000


@app.command(rich_help_panel="Images")
def classify(
    images: Annotated[list[Path], typer.Argument(help="Image files and/or folders of images.")],
    labels: Annotated[str, typer.Option("--labels", "-l", help='Comma-separated labels, e.g. "cat,dog,car".')],
    model: Annotated[str, typer.Option("--model", "-m", help="A CLIP model: clip:FOLDER or clip:ORG/NAME.")],
    template: Annotated[
        str, typer.Option(help="Sentence each label is put in; {label} is replaced.")
    ] = DEFAULT_TEMPLATE,
    max_pixels: Annotated[
        int, typer.Option(help="Refuse images with more pixels than this (checked before decoding).")
    ] = DEFAULT_MAX_PIXELS,
    as_json: JsonOption = False,
) -> None:
    """Zero-shot labels: the probability of each label for each image (softmax over the labels)."""
    from embedlab.encoders import load
    from embedlab.images import classify_images, parse_labels
    from embedlab.images.zeroshot import check_template

    names = parse_labels(labels)  # options are checked before the model loads
    check_template(template)
    results, skipped = classify_images(load(model), images, names, template, max_pixels)
    if as_json:
        print_json(
            {
                "labels": names,
                "template": template,
                "results": [r.as_dict() for r in results],
                "skipped": skipped,
            }
        )
        return
    table = Table(title=f"zero-shot labels ({template!r})")
    table.add_column("image", overflow="fold")
    table.add_column("label", style="bold")
    for name in names:
        table.add_column(name, justify="right")
    for result in results:
        table.add_row(result.image, result.label, *(f"{result.probabilities[n]:.3f}" for n in names))
    console.print(table)
    for name, reason in skipped.items():
        note(f"skipped {name}: {reason}")
