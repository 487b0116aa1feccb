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

from embedlab.datasets import pang_lee_polarity
from embedlab.encoders.base import Encoder
from embedlab.errors import EmbedlabError
from embedlab.evaluate.core import TEXT, DatasetInfo, Result, Task, sha256_files, text_encoder
from embedlab.io import labelled as labelled_files

CITATION = "Pang & Lee (2005), sentence polarity (200 sentences); via gensim test data (pang_lee_polarity.cor)"
DEFAULT_FOLDS = 5


@dataclass
class Labelled:
    info: DatasetInfo
    texts: list[str]
    labels: list[str]
    skipped: dict[str, int] = field(default_factory=dict)


def read_labelled(
    path: Path, text_column: str | None = None, label_column: str = "label", skip_bad: bool = False
) -> Labelled:
    """A labelled file (see `embedlab.io.labelled.read_labelled`), with the dataset's name and hash."""
    rows = labelled_files.read_labelled(path, text_column, label_column, skip_bad)
    return _with_info(rows, rows.path.name, "user file")


def _with_info(rows: labelled_files.LabelledRows, name: str, citation: str) -> Labelled:
    info = DatasetInfo(name, str(rows.path), citation, sha256_files([rows.path]), len(rows.texts))
    return Labelled(info, rows.texts, rows.labels, rows.skipped)


def load(
    data: Path | None = None, text_column: str | None = None, label_column: str = "label", folds: int = DEFAULT_FOLDS
) -> Labelled:
    if data is None:
        dataset = _with_info(pang_lee_polarity(), "Pang-Lee polarity", CITATION)
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
            "lower folds=, or add examples of that label.",
            param="folds",
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
