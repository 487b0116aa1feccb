"""Images: safe reading (pixel limit, first GIF frame, EXIF dates, thumbnails), indexing, zero-shot labels."""

from embedlab.images.ingest import ImageRecords, check_image_encoder, index_images, search_image
from embedlab.images.zeroshot import DEFAULT_TEMPLATE, Classification, classify_images, parse_labels
from embedlab.io.images import (
    DEFAULT_MAX_PIXELS,
    FORMATS,
    ImageFacts,
    ImageSkipped,
    image_facts,
    image_files,
    load_image,
)

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_TEMPLATE",
    "FORMATS",
    "Classification",
    "ImageFacts",
    "ImageRecords",
    "ImageSkipped",
    "check_image_encoder",
    "classify_images",
    "image_facts",
    "image_files",
    "index_images",
    "load_image",
    "parse_labels",
    "search_image",
]
