"""Files in and out, for every other part of embedlab.

- `records.py`: stream records (id, text, metadata) from text, CSV/TSV, JSONL and Parquet files; word lists;
- `vectors.py`: read and write vector files (.npy, .parquet, .jsonl) and check vector matrices;
- `labelled.py`: labelled texts (fastText `__label__X` lines, or files with a label column);
- `images.py`: read images safely (pixel limit before decoding, EXIF dates, thumbnails);
- `files.py`: `atomic_write`, `write_folder` and the output checks every writer uses.
"""
