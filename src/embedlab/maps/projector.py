"""Export to the TensorBoard Embedding Projector: vectors.tsv, metadata.tsv and projector_config.pbtxt.

Load the folder in TensorBoard (`tensorboard --logdir FOLDER`, Projector tab) or upload the two
TSV files at projector.tensorflow.org ("Load").
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.errors import EmbedlabError

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
    folder = Path(folder).expanduser()
    if not folder.parent.is_dir():
        raise EmbedlabError(
            f"the folder {folder.parent} for the projector export does not exist.",
            f"create it first (mkdir -p {folder.parent}).",
        )
    if folder.exists() and not folder.is_dir():
        raise EmbedlabError(f"{folder} is a file, not a folder.", "give a folder for the projector files.")
    names = list(columns)
    rows = len(vectors)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        with open(staging / "vectors.tsv", "w", encoding="utf-8") as handle:
            for vector in vectors:
                handle.write("\t".join(f"{x:.6g}" for x in vector) + "\n")
        with open(staging / "metadata.tsv", "w", encoding="utf-8") as handle:
            if len(names) > 1:  # a single-column metadata file has no header line
                handle.write("\t".join(tsv_cell(n) for n in names) + "\n")
            for row in range(rows):
                handle.write("\t".join(tsv_cell(columns[n][row]) for n in names) + "\n")
        (staging / "projector_config.pbtxt").write_text(
            "embeddings {\n"
            f"  tensor_name: {json.dumps(tensor_name)}\n"
            f"  tensor_shape: {rows}\n  tensor_shape: {vectors.shape[1]}\n"
            '  tensor_path: "vectors.tsv"\n'
            '  metadata_path: "metadata.tsv"\n'
            "}\n",
            encoding="utf-8",
        )
        folder.mkdir(exist_ok=True)
        for name in FILES:
            os.replace(staging / name, folder / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [folder / name for name in FILES]
