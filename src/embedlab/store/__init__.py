"""The store: collections of ids, texts, metadata and vectors, with the recipe that made them.

- `store.py`: `Store`, a folder of collections;
- `collection.py`: `Collection`, reading, searching and describing one collection;
- `ingest.py`: `Ingest`, one run of embedding records into a collection, and `reembed`;
- `recipe.py`: the stored recipe and the check that keeps two recipes from mixing.
"""

from embedlab.io.records import Record, read_records
from embedlab.search.ann import ANN_THRESHOLD
from embedlab.store.collection import Collection
from embedlab.store.ingest import Ingest, IngestSummary, reembed, text_id
from embedlab.store.store import Store, check_name, default_store_path

__all__ = [
    "ANN_THRESHOLD",
    "Collection",
    "Ingest",
    "IngestSummary",
    "Record",
    "Store",
    "check_name",
    "default_store_path",
    "read_records",
    "reembed",
    "text_id",
]
