"""Indexing images into a collection.

Images go through the collection's own ingest (`Collection.add_records`: batches, upserts, atomic
commits, recipe checks): each image becomes a Record whose text is its path relative to the folder
(also its id) and whose `image` is the file the encoder embeds. Files that are not images, truncated,
corrupt or over the pixel limit are skipped, counted and named in the summary; they never stop the ingest.
Searching by image is `Collection.search(pathlib.Path(...))`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from embedlab.encoders import Encoder
from embedlab.errors import EmbedlabError, EmptyInputError, UnsupportedInputError, shorten
from embedlab.io.images import DEFAULT_MAX_PIXELS, ImageSkipped, image_facts, image_files
from embedlab.io.records import Record, read_records
from embedlab.search import SearchResult
from embedlab.store import Collection, IngestSummary
from embedlab.store.ingest import WRITE_BATCH

IMAGE_MODELS = "clip:PATH (texts and images) or image:PATH (ResNet, ViT ...)"


def check_image_encoder(encoder: Encoder, what: str) -> None:
    """Refuse a text-only model for images, naming the kinds that embed images."""
    if not encoder.supports_images:
        raise UnsupportedInputError(
            f"model {encoder.name} embeds text only; it cannot embed {what}.",
            f"use an image model: {IMAGE_MODELS}.",
        )


class ImageRecords:
    """Records for the images of a folder, or of a CSV/JSONL/Parquet column of image paths.

    Call it for a fresh iterator; after a pass, `skipped` maps each bad file to the reason.
    """

    def __init__(
        self,
        source: str | Path,
        image_column: str | None = None,
        id_column: str | None = None,
        fmt: str | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        self.source = Path(source).expanduser()
        self.image_column, self.id_column, self.fmt = image_column, id_column, fmt
        self.max_pixels = max_pixels
        self.skipped: dict[str, str] = {}
        self._consumed = 0
        if self.source.is_dir():
            if image_column or id_column or fmt:
                raise EmbedlabError(
                    "a folder of images has no columns.",
                    "drop image_column, id_column and fmt for a folder.",
                    param="image_column",
                )
            self.files = image_files(self.source)
            if not self.files:
                raise EmptyInputError(f"the folder {self.source} is empty.", "put images in it (jpg, png, webp ...).")
            self.total = len(self.files)
        else:
            self.files = []
            self.total = None
            read_records(self.source, image_column, id_column, fmt)  # checks file and columns before any write

    def __call__(self) -> Iterator[Record]:
        self.skipped = {}
        self._consumed = 0
        return self._folder() if self.source.is_dir() else self._listed()

    def consumed(self) -> int:
        """Files (or rows) read so far, skipped ones included: what the progress bar counts."""
        return self._consumed

    def _folder(self) -> Iterator[Record]:
        for line, path in enumerate(self.files, start=1):
            self._consumed += 1
            name = path.relative_to(self.source).as_posix()
            record = self._record(name, name, path, line, {})
            if record is not None:
                yield record

    def _listed(self) -> Iterator[Record]:
        base = self.source.parent
        for row in read_records(self.source, self.image_column, self.id_column, self.fmt):
            self._consumed += 1
            if row.text is None or not str(row.text).strip():
                yield row  # counted as empty by the ingest
                continue
            name = str(row.text).strip()
            record = self._record(row.id or name, name, base / Path(name).expanduser(), row.line, row.metadata)
            if record is not None:
                yield record

    def _record(self, key: str, name: str, path: Path, line: int, extra: dict[str, Any]) -> Record | None:
        if not path.is_file():
            self.skipped[name] = "no such file"
            return None
        try:
            facts = image_facts(path, self.max_pixels)
        except ImageSkipped as exc:
            self.skipped[name] = exc.reason
            return None
        except OSError as exc:
            self.skipped[name] = f"cannot be read ({exc.strerror or exc})"
            return None
        return Record(key, name, line, {**extra, **facts.metadata()}, image=path)


def index_images(
    collection: Collection,
    source: str | Path,
    image_column: str | None = None,
    id_column: str | None = None,
    fmt: str | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    show_progress: bool = False,
    batch_size: int = WRITE_BATCH,
) -> IngestSummary:
    """Embed a folder of images (recursively), or the images a table's `image_column` names, into `collection`.

    Each image is stored with its path, width, height, format, EXIF date, a JPEG thumbnail and the
    file's hash; re-running re-embeds only new or changed files.
    """
    check_image_encoder(collection.encoder, "images")
    records = ImageRecords(source, image_column, id_column, fmt, max_pixels)
    try:
        summary = collection.add_records(records, records.total, show_progress, batch_size)
    except EmptyInputError:
        if records.skipped:
            listed = shorten((f"{name}: {why}" for name, why in records.skipped.items()), sep="; ")
            raise EmptyInputError(
                f"no usable image in {source} ({len(records.skipped)} file(s) skipped: {listed}).",
                "give a folder with jpg, png, webp, gif, bmp or tiff images.",
            ) from None
        raise
    summary.skipped_files = dict(records.skipped)
    return summary


def search_image(
    collection: Collection, image: Path | bytes | Any, k: int = 5, where: str | None = None
) -> list[SearchResult]:
    """The `k` items of `collection` nearest to an image (path, bytes or PIL image): `collection.search(image)`."""
    return collection.search(Path(image) if isinstance(image, str) else image, k=k, where=where)
