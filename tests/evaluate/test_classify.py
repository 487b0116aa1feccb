"""classify on Pang & Lee's 200 polarity sentences, checked against a hand-written stratified k-fold loop."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from embedlab import EmbedlabError
from embedlab.datasets import gensim_test_data
from embedlab.evaluate import evaluate


@pytest.fixture(scope="module")
def polarity():
    texts, labels = [], []
    for line in gensim_test_data("pang_lee_polarity.cor").read_text(encoding="cp1252").splitlines():
        label, text = line.split(" ", 1)
        labels.append(label.removeprefix("__label__"))
        texts.append(text.strip())
    return texts, np.array(labels)


def reference(vectors: np.ndarray, labels: np.ndarray, folds: int = 5) -> tuple[float, float]:
    accuracy, f1 = [], []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(vectors, labels):
        predicted = LogisticRegression(max_iter=2000).fit(vectors[train], labels[train]).predict(vectors[test])
        accuracy.append(accuracy_score(labels[test], predicted))
        f1.append(f1_score(labels[test], predicted, average="macro"))
    return float(np.mean(accuracy)), float(np.mean(f1))


def test_bundled_polarity_against_manual_cv(wordllama, polarity):
    texts, labels = polarity
    (result,) = evaluate("classify", [wordllama]).results
    accuracy, f1 = reference(wordllama.encode(texts), labels)
    assert result.metrics["accuracy"] == pytest.approx(accuracy, abs=1e-9)
    assert result.metrics["macro-F1"] == pytest.approx(f1, abs=1e-9)
    assert result.counts == {"examples": 200, "classes": 2, "folds": 5}
    assert result.details["cache"] == "miss" and result.dataset.name == "Pang-Lee polarity"


def test_user_csv_and_jsonl(wordllama, polarity, tmp_path):
    texts, labels = polarity
    csv_path = tmp_path / "reviews.csv"
    rows = ['"' + t.replace('"', '""') + f'",{y}' for t, y in zip(texts, labels, strict=True)]
    csv_path.write_text("text,sentiment\n" + "\n".join(rows) + "\n", encoding="utf-8")
    (result,) = evaluate("classify", [wordllama], data=csv_path, label_column="sentiment", folds=4).results
    accuracy, f1 = reference(wordllama.encode(texts), labels, folds=4)
    assert result.metrics["accuracy"] == pytest.approx(accuracy, abs=1e-9)
    assert result.metrics["macro-F1"] == pytest.approx(f1, abs=1e-9)
    with pytest.raises(EmbedlabError, match="no label column 'label'"):
        evaluate("classify", [wordllama], data=csv_path)


def test_bad_labelled_files(wordllama, tmp_path):
    path = tmp_path / "one.jsonl"
    path.write_text('{"text": "good film", "label": "pos"}\n{"text": "great film", "label": "pos"}\n', encoding="utf-8")
    with pytest.raises(EmbedlabError, match="only one label"):
        evaluate("classify", [wordllama], data=path)
    path.write_text('{"text": "good film", "label": "pos"}\n{"text": "bad film", "label": ""}\n', encoding="utf-8")
    with pytest.raises(EmbedlabError, match="line 2: field 'label' \\(label\\) is empty"):
        evaluate("classify", [wordllama], data=path)
    text = tmp_path / "ft.txt"
    text.write_text("__label__pos good film\nbad film\n", encoding="utf-8")
    with pytest.raises(EmbedlabError, match="line 2: does not start with '__label__NAME '"):
        evaluate("classify", [wordllama], data=text)
    text.write_text("__label__pos good\n__label__pos fine\n__label__neg bad\n", encoding="utf-8")
    with pytest.raises(EmbedlabError, match="label 'neg' has 1 example"):
        evaluate("classify", [wordllama], data=text, folds=2)
