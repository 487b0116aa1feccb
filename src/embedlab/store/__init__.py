"""The store: collections of ids, texts, metadata and vectors, with the recipe that made them."""

from embedlab.store.collection import (
    ANN_THRESHOLD,
    Collection,
    IngestSummary,
    Store,
    default_store_path,
    reembed,
    text_id,
)
from embedlab.store.readers import Record, read_records

__all__ = [
    "ANN_THRESHOLD",
    "Collection",
    "IngestSummary",
    "Record",
    "Store",
    "default_store_path",
    "read_records",
    "reembed",
    "text_id",
]
