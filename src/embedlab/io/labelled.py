"""Labelled texts for classification: fastText `__label__X text` lines, or CSV/TSV/JSONL/Parquet with a
text and a label column. One reader for evaluation and fine-tuning."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from embedlab.errors import EmbedlabError, NotFoundError
from embedlab.io.records import line_error, read_records

PREFIX = "__label__"
FASTTEXT_SUFFIXES = (".txt", ".cor")


@dataclass
class LabelledRows:
    """Texts with their labels, in file order; `skipped` counts rows left out ('missing_label', 'empty_text')."""

    path: Path
    texts: list[str]
    labels: list[str]
    skipped: dict[str, int] = field(default_factory=lambda: {"missing_label": 0, "empty_text": 0})


def read_fasttext(path: Path, encoding: str = "utf-8", skip_bad: bool = False) -> LabelledRows:
    """`__label__X text` lines (fastText format). A line without label or text is an error, or with
    `skip_bad` counted in `skipped` and left out."""
    rows = LabelledRows(path, [], [])
    try:
        lines = path.read_text(encoding=encoding).splitlines()
    except UnicodeDecodeError as exc:
        raise EmbedlabError(f"{path} is not {encoding} text ({exc}).", "re-save it as UTF-8.") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        label, _, text = line.strip().partition(" ")
        labelled = label.startswith(PREFIX) and len(label) > len(PREFIX)
        if skip_bad and not (labelled and text.strip()):
            rows.skipped["missing_label" if not labelled else "empty_text"] += 1
            continue
        if not labelled or not text.strip():
            raise line_error(path, number, "does not start with '__label__NAME ' followed by text", "'__label__X text'")
        rows.labels.append(label[len(PREFIX) :])
        rows.texts.append(text.strip())
    return rows


def read_labelled(
    path: str | Path, text_column: str | None = None, label_column: str = "label", skip_bad: bool = False
) -> LabelledRows:
    """A labelled file: fastText .txt, or CSV/TSV/JSONL/Parquet with text and label columns.

    A row without label or text is an error naming its line, or with `skip_bad` counted in `skipped`.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise NotFoundError(f"dataset file {path} does not exist.", "pass a labelled CSV/JSONL file.", param="data")
    if path.suffix.lower() in FASTTEXT_SUFFIXES:
        return read_fasttext(path, skip_bad=skip_bad)
    rows = LabelledRows(path, [], [])
    for record in read_records(path, text_column):
        if label_column not in record.metadata:
            raise EmbedlabError(
                f"{path.name} has no label column {label_column!r}; columns are: "
                f"{', '.join(['text', *record.metadata])}.",
                "name the column that holds the labels with label_column=.",
                param="label_column",
            )
        label = record.metadata[label_column]
        if label is None or str(label).strip() == "":
            if not skip_bad:
                raise line_error(path, record.line, f"field {label_column!r} (label) is empty", "a label on every row")
            rows.skipped["missing_label"] += 1
        elif record.text is None or not str(record.text).strip():
            if not skip_bad:
                raise line_error(path, record.line, "the text is empty", "a text on every row")
            rows.skipped["empty_text"] += 1
        else:
            rows.texts.append(str(record.text))
            rows.labels.append(str(label).strip())
    return rows
