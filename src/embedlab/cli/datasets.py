"""`embedlab datasets`: write the sample inputs the tutorials use (photos, a tiny CLIP, an STS file, a word list).

Everything comes from installed packages or from embedlab itself; nothing is downloaded.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from embedlab.cli.common import app, note
from embedlab.errors import AlreadyExistsError
from embedlab.io.files import check_output

datasets_app = typer.Typer(
    help="Write sample inputs for the tutorials: photos, a tiny CLIP, an STS file, example files.",
    no_args_is_help=True,
)
app.add_typer(datasets_app, name="datasets", rich_help_panel="Start here")

FolderArg = Annotated[Path, typer.Argument(help="A new (or empty) folder to create.")]
FileArg = Annotated[Path, typer.Argument(help="The file to write.")]
OverwriteOption = Annotated[bool, typer.Option("--overwrite", help="Replace an existing file.")]


def _new_file(output: Path, overwrite: bool) -> None:
    check_output(output)
    if output.exists() and not overwrite:
        raise AlreadyExistsError(f"{output} already exists.", "choose another name, or pass overwrite=True.")


@datasets_app.command("photos")
def photos(
    folder: FolderArg,
    bad_files: Annotated[
        bool, typer.Option("--bad-files", help="Also write 4 files an indexer must skip (text, truncated, bombs).")
    ] = False,
) -> None:
    """10 real sample photos of scikit-image and scikit-learn (cat, rocket, coins ...) in 6 formats."""
    from embedlab.images.samples import sample_photos

    names = sample_photos(folder, bad_files=bad_files)
    note(f"wrote {len(names)} files to {folder}: {', '.join(names)}")


@datasets_app.command("tiny-clip")
def tiny_clip(folder: FolderArg, seed: Annotated[int, typer.Option("--seed", help="torch seed.")] = 0) -> None:
    """A randomly initialised 16-dim CLIP: runs the image commands offline; its scores mean nothing."""
    from embedlab.images.samples import tiny_clip as save

    save(folder, seed=seed)
    note(f"wrote a tiny random CLIP to {folder}; use it as --model clip:{folder}")


@datasets_app.command("lee-sts")
def lee_sts(output: FileArg, overwrite: OverwriteOption = False) -> None:
    """Lee's 1,225 human-rated document pairs as an STS-B file (for `embedlab evaluate sts --data`)."""
    from embedlab.evaluate.sts import write_lee_sts

    _new_file(output, overwrite)
    pairs = write_lee_sts(output)
    note(f"wrote {pairs:,} rated pairs to {output} (STS-B layout, scores 0-5)")


@datasets_app.command("example")
def example(
    name: Annotated[str, typer.Argument(help="words.txt (25 words for maps) or landmarks.csv (6 landmarks).")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Where to write it (default: NAME).")] = None,
    overwrite: OverwriteOption = False,
) -> None:
    """Copy a bundled example input of the tutorials: words.txt or landmarks.csv."""
    from embedlab.datasets import example as bundled

    source = bundled(name)
    target = output or Path(name)
    _new_file(target, overwrite)
    shutil.copyfile(source, target)
    note(f"wrote {target}")
