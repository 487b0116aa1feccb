"""Zero-shot image labels with a CLIP model: each label becomes a sentence ("a photo of a {label}"),
and an image's probabilities are the softmax of its scaled cosine similarities to those sentences
(the scale is the model's learned logit scale, as in CLIP's paper and transformers' `logits_per_image`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from embedlab.encoders import Encoder
from embedlab.errors import EmbedlabError
from embedlab.io.images import DEFAULT_MAX_PIXELS, image_files, iter_images

DEFAULT_TEMPLATE = "a photo of a {label}"
BATCH = 32


@dataclass
class Classification:
    """The labels of one image: `label` is the most probable; `probabilities` keeps the given label order."""

    image: str
    label: str
    probabilities: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_labels(labels: str | Sequence[str]) -> list[str]:
    """Labels from "cat,dog,car" or a list; at least two, none empty, none repeated."""
    items = labels.split(",") if isinstance(labels, str) else list(labels)
    cleaned = [str(label).strip() for label in items]
    if any(not label for label in cleaned):
        raise EmbedlabError(f"an empty label in {labels!r}.", 'write labels like "cat,dog,car".')
    repeated = sorted({label for label in cleaned if cleaned.count(label) > 1})
    if repeated:
        raise EmbedlabError(f"labels repeated: {', '.join(repeated)}.", "give each label once.")
    if len(cleaned) < 2:
        raise EmbedlabError(
            "zero-shot labelling needs at least two labels.", 'e.g. labels="cat,dog,car".', param="labels"
        )
    return cleaned


def check_template(template: str) -> str:
    """A template with exactly the field {label}."""
    try:
        filled = template.format(label="\x00")
    except (KeyError, IndexError, ValueError) as exc:
        raise EmbedlabError(
            f"the template {template!r} does not work: {exc!r}.",
            'use {label} as its only field, e.g. "a photo of a {label}".',
        ) from None
    if "\x00" not in filled:
        raise EmbedlabError(f"the template {template!r} has no {{label}}.", 'e.g. "a photo of a {label}".')
    return template


def expand_images(inputs: Sequence[str | Path]) -> tuple[list[Path], Path | None]:
    """Files from files and folders (folders walked recursively), and the common root for display names."""
    files: list[Path] = []
    for item in inputs:
        path = Path(item).expanduser()
        if path.is_dir():
            files.extend(image_files(path))
        elif path.is_file():
            files.append(path)
        else:
            raise EmbedlabError(f"{path} does not exist.", "pass image files or folders of images.")
    if not files:
        raise EmbedlabError("no image files were given (the folders are empty).", "pass image files or folders.")
    first = Path(inputs[0]).expanduser()
    root = first if len(inputs) == 1 and first.is_dir() else None
    return files, root


def classify_images(
    encoder: Encoder,
    images: Sequence[str | Path],
    labels: str | Sequence[str],
    template: str = DEFAULT_TEMPLATE,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> tuple[list[Classification], dict[str, str]]:
    """Label image files (or folders of them) with a text+image encoder; returns results and skipped files."""
    if encoder.modality != "text+image":
        raise EmbedlabError(
            f"model {encoder.name} does not embed text and images in one space (modality {encoder.modality}).",
            "zero-shot labels need a CLIP model: model=clip:PATH.",
        )
    names = parse_labels(labels)
    check_template(template)
    files, root = expand_images(images)
    prompts = encoder.encode([template.format(label=name) for name in names])
    scale = float(getattr(encoder, "logit_scale", 100.0))
    skipped: dict[str, str] = {}
    results: list[Classification] = []
    decoded = iter_images(files, skipped, root, max_pixels)
    while batch := list(islice(decoded, BATCH)):
        vectors = encoder.encode([image for _, image in batch])
        logits = scale * vectors @ prompts.T
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        for (path, _), row in zip(batch, probs, strict=True):
            name = path.relative_to(root).as_posix() if root else str(path)
            shares = {label: round(float(p), 6) for label, p in zip(names, row, strict=True)}
            results.append(Classification(name, names[int(np.argmax(row))], shares))
    return results, skipped
