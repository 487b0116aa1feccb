"""Stream records (id, text, metadata) out of text, CSV/TSV, JSONL and Parquet files, and read word lists.

Everything is read lazily, one line or one Parquet row group at a time, so a file of millions of
lines never sits in memory whole. Errors name the file, the line and what to do.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedlab.errors import EmbedlabError, EmptyInputError, NotFoundError

FORMATS = {
    ".txt": "text",
    ".text": "text",
    ".md": "text",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
TYPE_SAMPLE = 1000
# The longest text (in characters) a reader hands on: 10 million characters, about a 2,000-page book.
# A longer line or field is refused with its line number before it is decoded or embedded, so one
# hostile line cannot exhaust memory; raise it with max_chars= (`--max-chars`). Every encoder then
# embeds a text of any length in bounded pieces (see `embedlab.encoders.base.text_pieces`).
MAX_CHARS = 10_000_000
csv.field_size_limit(MAX_CHARS)


@dataclass
class Record:
    """One item to embed: `text` may be None or blank (it is then skipped and counted).

    `image` names an image file: encoders that embed images (modality "image" or "text+image") embed
    it instead of the text, which then only labels the item (e.g. its path).
    """

    id: str | None
    text: str | None
    line: int
    metadata: dict[str, Any] = field(default_factory=dict)
    image: Path | None = None


def file_format(path: Path, fmt: str | None = None) -> str:
    """The reader to use for `path`: from `fmt` or the file extension."""
    if fmt:
        if fmt not in set(FORMATS.values()):
            raise EmbedlabError(
                f"unknown input format {fmt!r}.", f"use one of {sorted(set(FORMATS.values()))}.", param="fmt"
            )
        return fmt
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise EmbedlabError(
            f"cannot tell the format of {path.name} from its extension.",
            "use .txt (one item per line), .csv, .tsv, .jsonl or .parquet, or pass fmt=.",
            param="fmt",
        ) from None


def read_records(
    path: str | Path,
    text_column: str | None = None,
    id_column: str | None = None,
    fmt: str | None = None,
    max_chars: int = MAX_CHARS,
) -> Iterator[Record]:
    """Yield the records of a file, lazily. Blank texts are yielded too (the caller counts them).

    A line (text, CSV, JSONL) or text (Parquet) longer than `max_chars` characters is an error naming it.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise NotFoundError(f"input file {path} does not exist.", "check the path.")
    check_max_chars(max_chars)
    kind = file_format(path, fmt)
    if kind == "text":
        if text_column or id_column:
            raise EmbedlabError(
                "a plain text file has no columns.", "drop text_column and id_column, or use CSV.", param="text_column"
            )
        return (Record(None, line, number) for number, line in decoded_lines(path, max_chars))
    if kind in ("csv", "tsv"):
        return read_delimited(path, "\t" if kind == "tsv" else ",", text_column, id_column, max_chars)
    if kind == "jsonl":
        return read_jsonl(path, text_column, id_column, max_chars)
    return read_parquet(path, text_column, id_column, max_chars)


def check_max_chars(max_chars: int) -> None:
    if not isinstance(max_chars, int) or max_chars < 1:
        raise EmbedlabError(f"max_chars must be a positive number of characters, got {max_chars!r}.", param="max_chars")


def too_long(path: Path, line: int, max_chars: int) -> EmbedlabError:
    return EmbedlabError(
        f"{path.name} line {line} is longer than max_chars={max_chars:,} characters.",
        "split the text into several items, or raise the limit with max_chars= if you mean it "
        "(every model embeds long texts in bounded pieces; the limit bounds what is read at once).",
        param="max_chars",
    )


def decoded_lines(path: Path, max_chars: int = MAX_CHARS) -> Iterator[tuple[int, str]]:
    """(line number, text without newline) for each line; a non-UTF-8 line is an error naming it, and so
    is a line of more than `max_chars` characters (refused after reading at most 4 bytes per character)."""
    limit = 4 * max_chars + 2  # UTF-8 takes at most 4 bytes a character, plus \r\n
    with open(path, "rb") as handle:
        for number, raw in enumerate(iter(lambda: handle.readline(limit), b""), start=1):
            if len(raw) >= limit and not raw.endswith(b"\n"):
                raise too_long(path, number, max_chars)
            if len(raw) > max_chars + 2 and len(raw.rstrip(b"\r\n").decode("utf-8", "replace")) > max_chars:
                raise too_long(path, number, max_chars)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise EmbedlabError(
                    f"{path.name} is not UTF-8: line {number}, byte {exc.start + 1} ({raw[exc.start : exc.start + 1]!r}).",
                    "re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8).",
                ) from None
            if number == 1:
                text = text.removeprefix("\ufeff")
            yield number, text.rstrip("\r\n")


def pick_columns(
    columns: list[str], text_column: str | None, id_column: str | None, path: Path
) -> tuple[str, str | None]:
    """Resolve the text and id columns (defaults: 'text' and 'id' when present)."""
    if text_column is None:
        if "text" in columns:
            text_column = "text"
        elif len(columns) == 1:
            text_column = columns[0]
        else:
            raise EmbedlabError(
                f"{path.name} has no 'text' column; columns are: {', '.join(columns)}.",
                "name the column that holds the text with text_column=.",
                param="text_column",
            )
    for role, name in (("text", text_column), ("id", id_column)):
        if name is not None and name not in columns:
            raise EmbedlabError(
                f"{path.name} has no column {name!r} (for the {role}); columns are: {', '.join(columns)}.",
                f"pass one of them as {role}_column=.",
                param=f"{role}_column",
            )
    if id_column is None and "id" in columns and text_column != "id":
        id_column = "id"
    return text_column, id_column


def read_delimited(
    path: Path, delimiter: str, text_column: str | None, id_column: str | None, max_chars: int = MAX_CHARS
) -> Iterator[Record]:
    csv.field_size_limit(max(max_chars, csv.field_size_limit()))
    lines = decoded_lines(path, max_chars)
    line_number = [0]

    def feed() -> Iterator[str]:
        for number, text in lines:
            line_number[0] = number
            yield text

    reader = csv.reader(feed(), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        raise EmptyInputError(f"{path.name} is empty.", "give a file with a header row and at least one row.")
    header = [name.strip() for name in header]
    text_column, id_column = pick_columns(header, text_column, id_column, path)
    meta_columns = [c for c in header if c not in (text_column, id_column)]

    def rows() -> Iterator[Record]:
        try:
            for values in reader:
                if not values:
                    continue
                if len(values) != len(header):
                    raise EmbedlabError(
                        f"{path.name} line {line_number[0]} has {len(values)} fields, the header has {len(header)}.",
                        "fix the row (quote fields that contain the delimiter).",
                    )
                row = dict(zip(header, values, strict=True))
                if len(row[text_column]) > max_chars:  # a quoted field may run over many lines
                    raise too_long(path, line_number[0], max_chars)
                yield Record(
                    row[id_column] or None if id_column else None,
                    row[text_column],
                    line_number[0],
                    {c: row[c] for c in meta_columns},
                )
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise too_long(path, line_number[0], max_chars) from None
            raise EmbedlabError(f"{path.name} line {line_number[0]}: {exc}", "fix the CSV quoting.") from exc

    return typed_metadata(rows(), meta_columns)


def typed_metadata(records: Iterator[Record], columns: list[str]) -> Iterator[Record]:
    """Give CSV strings real types (int, float, bool) decided on the first rows; '' becomes None."""
    head: list[Record] = []
    for record in records:
        head.append(record)
        if len(head) >= TYPE_SAMPLE:
            break
    parsers = {c: infer_parser([r.metadata[c] for r in head]) for c in columns}

    def convert(record: Record) -> Record:
        for column, parse in parsers.items():
            value = record.metadata[column]
            try:
                record.metadata[column] = parse(value) if value != "" else None
            except ValueError:
                record.metadata[column] = value
        return record

    yield from (convert(r) for r in head)
    yield from (convert(r) for r in records)


def infer_parser(values: Iterable[str]) -> Any:
    present = [v for v in values if v != ""]
    for parse in (int, float, parse_bool):
        try:
            for value in present:
                parse(value)
        except ValueError:
            continue
        return parse if present else str
    return str


def parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ValueError(value)


def json_objects(
    path: Path, expected: str = "one {...} object per line", max_chars: int = MAX_CHARS
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSON-lines file; a bad line is an error naming it."""
    for number, line in decoded_lines(path, max_chars):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EmbedlabError(
                f"{path.name} line {number} is not valid JSON: {exc.msg}.", f"expected {expected}."
            ) from None
        if not isinstance(obj, dict):
            raise EmbedlabError(f"{path.name} line {number} is not a JSON object.", f"expected {expected}.")
        yield number, obj


def read_jsonl(
    path: Path, text_column: str | None, id_column: str | None, max_chars: int = MAX_CHARS
) -> Iterator[Record]:
    columns: tuple[str, str | None] | None = None
    for number, obj in json_objects(path, max_chars=max_chars):
        if columns is None:
            columns = pick_columns(list(obj), text_column, id_column, path)
        text_key, id_key = columns
        text = obj.pop(text_key, None)
        item_id = obj.pop(id_key, None) if id_key else None
        yield Record(None if item_id is None else str(item_id), text if isinstance(text, str) else None, number, obj)


def read_parquet(
    path: Path, text_column: str | None, id_column: str | None, max_chars: int = MAX_CHARS
) -> Iterator[Record]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise EmbedlabError(f"{path.name} is not a readable Parquet file: {exc}", "check the file.") from exc
    names = parquet.schema_arrow.names
    text_key, id_key = pick_columns(names, text_column, id_column, path)
    number = 0
    for batch in parquet.iter_batches(batch_size=1024):
        for row in batch.to_pylist():
            number += 1
            text = row.pop(text_key)
            if isinstance(text, str) and len(text) > max_chars:
                raise too_long(path, number, max_chars)
            item_id = row.pop(id_key) if id_key else None
            metadata = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            yield Record(None if item_id is None else str(item_id), text, number, metadata)


def count_items(path: Path, fmt: str | None = None) -> int | None:
    """A quick upper bound on the number of items in a file, for the progress bar."""
    kind = file_format(path, fmt)
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(path).metadata.num_rows
        except Exception:  # the reader reports a damaged file with a better message
            return None
    with open(path, "rb") as handle:
        lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    return max(0, lines - (1 if kind in ("csv", "tsv") else 0))


def read_word_list(path: str | Path) -> list[str]:
    """Words (or short texts), one per line; blank lines and repeats are dropped."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise NotFoundError(f"word list {path} does not exist.", "give a text file with one word per line.")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise EmbedlabError(f"{path.name} is not UTF-8: {exc}", "re-save it as UTF-8.") from None
    words = list(dict.fromkeys(line.strip() for line in lines if line.strip()))
    if not words:
        raise EmptyInputError(f"the word list {path.name} is empty.", "put one word per line.")
    return words


def line_error(path: Path, line: int, problem: str, expected: str) -> EmbedlabError:
    """A file-format error that names the file and line."""
    return EmbedlabError(f"{path} line {line}: {problem}", f"expected {expected}.")


def expand_inputs(inputs: str | Path | Iterable[str | Path], fmt: str | None = None) -> list[Path]:
    """The record files named by `inputs`: files, glob patterns (`data/*.jsonl`, `**` recurses) and folders.

    A folder stands for the files under it (recursively) whose extension names a record format (or, with
    `fmt`, every file). Order is kept, and within a folder or pattern the paths are sorted, so two runs read
    the same files in the same order; a file named twice is read once. Nothing matching is an error.
    """
    import glob

    items = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    if not items:
        raise EmptyInputError("no input files were given.", "pass one or more files, folders or patterns.")
    found: dict[Path, None] = {}
    for item in items:
        text = str(Path(item).expanduser())
        path = Path(text)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and (fmt or p.suffix.lower() in FORMATS))
            if not files:
                raise EmptyInputError(
                    f"folder {path} holds no .txt, .csv, .tsv, .jsonl or .parquet file.",
                    "point at the files, or pass fmt= to read every file in it.",
                )
        elif path.is_file():
            files = [path]
        elif glob.has_magic(text):
            files = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
            if not files:
                raise NotFoundError(f"no file matches {text}.", "check the pattern (quote it so the shell keeps it).")
        else:
            raise NotFoundError(f"input file {path} does not exist.", "check the path.")
        for file in files:
            found.setdefault(file.resolve(), None)
    return list(found)
