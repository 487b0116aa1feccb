"""Export to the TensorBoard Embedding Projector: vectors.tsv, metadata.tsv and projector_config.pbtxt.

Load the folder in TensorBoard (`tensorboard --logdir FOLDER`, Projector tab) or upload the two
TSV files at projector.tensorflow.org ("Load").
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import EmbedlabError
from embedlab.io import files

FILES = ("vectors.tsv", "metadata.tsv", "projector_config.pbtxt")


def tsv_cell(value: Any) -> str:
    """A value as one TSV cell: tabs and line breaks become spaces."""
    return "" if value is None else " ".join(str(value).replace("\t", " ").split())


def export_projector(
    folder: str | Path,
    vectors: np.ndarray,
    columns: dict[str, Sequence[Any]],
    tensor_name: str = "embedlab",
) -> list[Path]:
    """Write the projector files into `folder` (created if its parent exists); returns their paths.

    Files are written to a temp folder first and moved in last, so a failure leaves nothing half-written.
    """
    folder = check_projector_folder(folder)
    names = list(columns)
    rows = len(vectors)
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise EmbedlabError(
            f"cannot create the projector folder {folder}: {exc.strerror or exc}.", "pick another folder."
        ) from exc
    return _write(folder, vectors, columns, names, rows, tensor_name)


def check_projector_folder(folder: str | Path) -> Path:
    """The projector folder, checked before any work: its parent exists and it can be written."""
    folder = Path(folder).expanduser()
    if not folder.parent.is_dir():
        raise EmbedlabError(
            f"the folder {folder.parent} for the projector export does not exist.",
            f"create it first (mkdir -p {folder.parent}).",
        )
    if folder.exists() and not folder.is_dir():
        raise EmbedlabError(f"{folder} is a file, not a folder.", "give a folder for the projector files.")
    writable = folder if folder.is_dir() else folder.parent
    if not os.access(writable, os.W_OK | os.X_OK):
        raise EmbedlabError(
            f"cannot write the projector files in {folder}: {writable} is not writable.", "pick another folder."
        )
    return folder


def _write(
    folder: Path, vectors: np.ndarray, columns: dict[str, Sequence[Any]], names: list[str], rows: int, tensor_name: str
) -> list[Path]:
    with files.atomic_write(folder / "vectors.tsv") as temp, open(temp, "w", encoding="utf-8") as handle:
        for vector in vectors:
            handle.write("\t".join(f"{x:.6g}" for x in vector) + "\n")
    with files.atomic_write(folder / "metadata.tsv") as temp, open(temp, "w", encoding="utf-8") as handle:
        if len(names) > 1:  # a single-column metadata file has no header line
            handle.write("\t".join(tsv_cell(n) for n in names) + "\n")
        for row in range(rows):
            handle.write("\t".join(tsv_cell(columns[n][row]) for n in names) + "\n")
    files.write_text(
        folder / "projector_config.pbtxt",
        "embeddings {\n"
        f"  tensor_name: {json.dumps(tensor_name)}\n"
        f"  tensor_shape: {rows}\n  tensor_shape: {vectors.shape[1]}\n"
        '  tensor_path: "vectors.tsv"\n'
        '  metadata_path: "metadata.tsv"\n'
        "}\n",
    )
    return [folder / name for name in FILES]
