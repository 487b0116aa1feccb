"""Classification: logistic regression on frozen embeddings, stratified k-fold cross-validation,
accuracy and macro-F1 (scikit-learn).

Bundled set: 200 movie-review sentences labelled positive/negative (Pang & Lee, 2005, sentence polarity;
gensim's test data `pang_lee_polarity.cor`). Your own data: a CSV/TSV/JSONL/Parquet file with a text and
a label column, or a fastText-style .txt file of `__label__X text` lines. count/tfidf are fitted on all
of the task's texts before the folds are split (unsupervised; no labels are seen).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embedlab.datasets import gensim_test_data
from embedlab.encoders.base import Encoder
from embedlab.errors import EmbedlabError
from embedlab.evaluate.core import TEXT, DatasetInfo, Result, Task, line_error, sha256_files, text_encoder
from embedlab.store.readers import read_records

CITATION = "Pang & Lee (2005), sentence polarity (200 sentences); via gensim test data (pang_lee_polarity.cor)"
PREFIX = "__label__"
DEFAULT_FOLDS = 5


@dataclass
class Labelled:
    info: DatasetInfo
    texts: list[str]
    labels: list[str]
    skipped: dict[str, int] = field(default_factory=dict)


def read_fasttext(
    path: Path, name: str | None = None, citation: str = "user file", encoding: str = "utf-8", skip_bad: bool = False
) -> Labelled:
    """`__label__X text` lines (fastText format). A line without label or text is an error, or with
    `skip_bad` counted in `skipped` ('missing_label', 'empty_text') and left out."""
    texts, labels = [], []
    skipped = {"missing_label": 0, "empty_text": 0}
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
            skipped["missing_label" if not labelled else "empty_text"] += 1
            continue
        if not labelled or not text.strip():
            raise line_error(path, number, "does not start with '__label__NAME ' followed by text", "'__label__X text'")
        labels.append(label[len(PREFIX) :])
        texts.append(text.strip())
    return Labelled(
        DatasetInfo(name or path.name, str(path), citation, sha256_files([path]), len(texts)), texts, labels, skipped
    )


def read_labelled(
    path: Path, text_column: str | None = None, label_column: str = "label", skip_bad: bool = False
) -> Labelled:
    """A labelled file: fastText .txt, or CSV/TSV/JSONL/Parquet with text and label columns.

    A row without label or text is an error naming its line, or with `skip_bad` counted in `skipped`.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise EmbedlabError(f"dataset file {path} does not exist.", "pass a labelled CSV/JSONL file with --data.")
    if path.suffix.lower() in (".txt", ".cor"):
        return read_fasttext(path, skip_bad=skip_bad)
    texts, labels = [], []
    skipped = {"missing_label": 0, "empty_text": 0}
    for record in read_records(path, text_column):
        if label_column not in record.metadata:
            raise EmbedlabError(
                f"{path.name} has no label column {label_column!r}; columns are: "
                f"{', '.join(['text', *record.metadata])}.",
                "name the column that holds the labels with --label-column.",
            )
        label = record.metadata[label_column]
        if label is None or str(label).strip() == "":
            if not skip_bad:
                raise line_error(path, record.line, f"field {label_column!r} (label) is empty", "a label on every row")
            skipped["missing_label"] += 1
        elif record.text is None or not str(record.text).strip():
            if not skip_bad:
                raise line_error(path, record.line, "the text is empty", "a text on every row")
            skipped["empty_text"] += 1
        else:
            texts.append(str(record.text))
            labels.append(str(label).strip())
    info = DatasetInfo(path.name, str(path), "user file", sha256_files([path]), len(texts))
    return Labelled(info, texts, labels, skipped)


def load(
    data: Path | None = None, text_column: str | None = None, label_column: str = "label", folds: int = DEFAULT_FOLDS
) -> Labelled:
    if data is None:
        # the file is Windows-1252 (em dashes, accents)
        dataset = read_fasttext(gensim_test_data("pang_lee_polarity.cor"), "Pang-Lee polarity", CITATION, "cp1252")
    else:
        dataset = read_labelled(data, text_column, label_column)
    counts = Counter(dataset.labels)
    if len(counts) < 2:
        raise EmbedlabError(
            f"{dataset.info.name} has only one label ({next(iter(counts), 'none')}).", "give two or more classes."
        )
    rare, smallest = min(counts.items(), key=lambda item: item[1])
    if smallest < folds:
        raise EmbedlabError(
            f"label {rare!r} has {smallest} example(s), fewer than the {folds} folds.",
            "lower --folds, or add examples of that label.",
        )
    return dataset


def score(
    encoder: Encoder,
    model: str,
    dataset: Labelled,
    folds: int = DEFAULT_FOLDS,
    seed: int = 0,
    text_column: str | None = None,
    label_column: str = "label",
) -> list[Result]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_validate

    started = time.perf_counter()
    cached = text_encoder(encoder, dataset.texts)
    vectors = cached.encode(dataset.texts)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = cross_validate(
        LogisticRegression(max_iter=2000),
        vectors,
        np.asarray(dataset.labels),
        cv=splitter,
        scoring=("accuracy", "f1_macro"),
    )
    accuracy, f1 = scores["test_accuracy"], scores["test_f1_macro"]
    return [
        Result(
            "classify",
            model,
            dataset.info,
            {"accuracy": float(accuracy.mean()), "macro-F1": float(f1.mean())},
            {"examples": len(dataset.texts), "classes": len(set(dataset.labels)), "folds": folds},
            cached.recipe,
            {
                "cache": cached.cache_state,
                "accuracy_std": float(accuracy.std()),
                "macro_f1_std": float(f1.std()),
                "classifier": "scikit-learn LogisticRegression(max_iter=2000)",
                "cv": f"StratifiedKFold(n_splits={folds}, shuffle=True, random_state={seed})",
            },
            time.perf_counter() - started,
        )
    ]


TASK = Task(
    "classify",
    TEXT,
    "logistic regression on frozen embeddings, stratified k-fold CV: accuracy, macro-F1 (bundled: Pang-Lee polarity)",
    ("folds", "seed", "text_column", "label_column"),
    load,
    score,
)
