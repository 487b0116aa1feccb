"""Data for fine-tuning: labelled texts (with rows lacking a label counted and skipped), a seeded stratified
train/validation/test split, and (anchor, positive[, negative]) pairs for contrastive training."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embedlab.datasets import pang_lee_polarity
from embedlab.errors import EmbedlabError
from embedlab.io.labelled import read_labelled as read_labelled_file
from embedlab.io.records import read_records

SENTIMENT = "pang-lee"
SENTIMENT_SOURCE = (
    "Pang & Lee (2005) sentence polarity, 200 movie-review sentences (100 pos, 100 neg), "
    "gensim test data pang_lee_polarity.cor (gensim is LGPL-2.1)"
)


@dataclass
class LabelledData:
    """Texts with their labels; `skipped` counts rows dropped for a missing label or an empty text."""

    name: str
    source: str
    texts: list[str]
    labels: list[str]
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.labels))


def read_labelled(data: str | Path, label_column: str = "label", text_column: str | None = None) -> LabelledData:
    """`pang-lee` (bundled sentiment), a fastText `__label__X text` file, or CSV/TSV/JSONL/Parquet with columns."""
    if str(data) == SENTIMENT:
        bundled = pang_lee_polarity()
        dataset = LabelledData(SENTIMENT, SENTIMENT_SOURCE, bundled.texts, bundled.labels)
    else:
        path = Path(data).expanduser()
        if not path.is_file():
            raise EmbedlabError(
                f"data file {path} does not exist.",
                f"pass a labelled CSV/TSV/JSONL/Parquet or fastText .txt file, or `{SENTIMENT}` for the bundled set.",
            )
        rows = read_labelled_file(path, text_column, label_column, skip_bad=True)
        if not rows.texts:
            raise EmbedlabError(
                f"{path.name} has no row with both a text and a label "
                f"({rows.skipped['missing_label']} without label, {rows.skipped['empty_text']} with empty text).",
                f"fill the {label_column!r} column (fastText files: write lines as '__label__X some text').",
            )
        dataset = LabelledData(path.name, str(path), rows.texts, rows.labels, rows.skipped)
    check_classes(dataset.labels, dataset.name)
    return dataset


def check_classes(labels: list[str], name: str) -> None:
    """Refuse one class only, or a class too small to appear in train, validation and test."""
    counts = Counter(labels)
    if len(counts) < 2:
        raise EmbedlabError(
            f"{name} has only one class ({next(iter(counts), 'none')!r}) among {len(labels)} labelled rows.",
            "a classifier needs examples of two or more classes.",
        )
    rare, smallest = min(counts.items(), key=lambda item: item[1])
    if smallest < 3:
        raise EmbedlabError(
            f"class {rare!r} has {smallest} example(s); each class needs at least 3 (train, validation, test).",
            "add examples of that class or drop it.",
        )


@dataclass(frozen=True)
class Split:
    """Row indices of each part."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "validation": len(self.validation), "test": len(self.test)}


def stratified_split(labels: list[str], seed: int = 0, validation: float = 0.2, test: float = 0.2) -> Split:
    """Seeded stratified split into train/validation/test (scikit-learn's train_test_split, twice)."""
    from sklearn.model_selection import train_test_split

    if not (0 < validation < 1 and 0 < test < 1 and validation + test < 1):
        raise EmbedlabError(
            f"validation={validation} and test={test} must be fractions that leave room for training.",
            "use e.g. validation=0.2 test=0.2.",
            param="validation",
        )
    rows = np.arange(len(labels))
    y = np.asarray(labels)
    try:
        rest, test_rows = train_test_split(rows, test_size=test, stratify=y, random_state=seed)
        train_rows, val_rows = train_test_split(
            rest, test_size=validation / (1 - test), stratify=y[rest], random_state=seed
        )
    except ValueError as exc:
        raise EmbedlabError(
            f"cannot split {len(labels)} examples of {len(set(labels))} classes: {exc}",
            "give more examples per class or larger validation and test fractions.",
        ) from exc
    return Split(np.sort(train_rows), np.sort(val_rows), np.sort(test_rows))


@dataclass
class Pairs:
    """Contrastive training examples: anchor i goes with positive i (and negative i when given)."""

    anchors: list[str]
    positives: list[str]
    negatives: list[str] | None = None
    source: str = ""

    def __len__(self) -> int:
        return len(self.anchors)

    def subset(self, rows: np.ndarray | list[int]) -> Pairs:
        pick = [int(r) for r in rows]
        negatives = [self.negatives[r] for r in pick] if self.negatives is not None else None
        return Pairs([self.anchors[r] for r in pick], [self.positives[r] for r in pick], negatives, self.source)


def read_pairs(path: str | Path) -> Pairs:
    """CSV/TSV/JSONL/Parquet with columns anchor, positive and optionally negative; empty texts are refused."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise EmbedlabError(f"pair file {path} does not exist.", "pass a CSV/JSONL file with anchor,positive columns.")
    if path.suffix.lower() in (".txt", ".cor", ".md", ".text"):
        raise EmbedlabError(
            f"{path.name} is plain text; pairs need columns.", "use CSV/JSONL: anchor,positive[,negative]."
        )
    anchors: list[str] = []
    positives: list[str] = []
    negatives: list[str] = []
    has_negative: bool | None = None
    for record in read_records(path, "anchor"):
        if has_negative is None:
            if "positive" not in record.metadata:
                raise EmbedlabError(
                    f"{path.name} has no 'positive' column; columns are: anchor, {', '.join(record.metadata)}.",
                    "name the columns anchor, positive and (optionally) negative.",
                )
            has_negative = "negative" in record.metadata
        row = {"anchor": record.text, "positive": record.metadata["positive"]}
        if has_negative:
            row["negative"] = record.metadata["negative"]
        empty = [name for name, value in row.items() if value is None or not str(value).strip()]
        if empty:
            raise EmbedlabError(
                f"{path} line {record.line}: the {' and '.join(empty)} text is empty.",
                "every pair needs a non-empty anchor and positive (and negative when the column exists); "
                "fix or remove that row.",
            )
        anchors.append(str(row["anchor"]))
        positives.append(str(row["positive"]))
        if has_negative:
            negatives.append(str(row["negative"]))
    if len(anchors) < 2:
        raise EmbedlabError(
            f"{path.name} holds {len(anchors)} pair(s).", "in-batch negatives need at least 2 pairs; give more."
        )
    return Pairs(anchors, positives, negatives if has_negative else None, str(path))
