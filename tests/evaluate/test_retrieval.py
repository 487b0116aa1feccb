"""retrieval through a temporary collection, checked against scikit-learn's ndcg_score and MRR/recall computed
here from a brute-force cosine ranking, on the bundled Lee set and the same set written as a BEIR folder."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import ndcg_score

from embedlab import EmbedlabError
from embedlab.datasets import gensim_test_data
from embedlab.evaluate import evaluate
from embedlab.evaluate.retrieval import lee_retrieval, write_beir


@pytest.fixture(scope="module")
def lee_judgements():
    """Relevance grades from the human ratings file, read here: rating >= 0.6 -> the nearest point of the 1-5
    scale, halves rounded up (as docs/evaluate.md states), minus 2."""
    ratings = np.loadtxt(gensim_test_data("similarities0-1.txt"))
    ratings = np.triu(ratings) + np.triu(ratings, 1).T
    grades = np.where(ratings >= 0.6 - 1e-9, np.floor(ratings * 5 + 0.5 + 1e-9) - 2, 0)
    np.fill_diagonal(grades, 0)
    documents = [d.strip() for d in gensim_test_data("lee.cor").read_bytes().decode("latin-1").splitlines()]
    return documents, grades


def reference(vectors: np.ndarray, grades: np.ndarray, k: int) -> dict[str, float]:
    sims = vectors @ vectors.T
    ndcg, mrr, recall10, recall_k = [], [], [], []
    for q in range(len(grades)):
        if not grades[q].any():
            continue
        others = np.array([j for j in range(len(grades)) if j != q])
        truth, scores = grades[q, others], sims[q, others]
        ndcg.append(ndcg_score([truth], [scores], k=10))
        ranked = truth[np.argsort(-scores, kind="stable")]
        hits = np.flatnonzero(ranked[:10] > 0)
        mrr.append(1 / (hits[0] + 1) if len(hits) else 0.0)
        recall10.append((ranked[:10] > 0).sum() / (truth > 0).sum())
        recall_k.append((ranked[:k] > 0).sum() / (truth > 0).sum())
    return {
        "nDCG@10": np.mean(ndcg),
        "MRR@10": np.mean(mrr),
        "recall@10": np.mean(recall10),
        f"recall@{k}": np.mean(recall_k),
    }


def test_bundled_and_beir_folder_against_sklearn(wordllama, lee_judgements, tmp_path):
    documents, grades = lee_judgements
    expected = reference(wordllama.encode(documents), grades, k=20)
    folder = write_beir(lee_retrieval(), tmp_path / "lee-beir")
    for data in (None, folder):
        (result,) = evaluate("retrieval", [wordllama], data=data, k=20).results
        assert result.counts["queries"] == int((grades > 0).any(axis=1).sum()) == 39
        for metric, value in expected.items():
            assert result.metrics[metric] == pytest.approx(value, abs=1e-6), metric


def test_tfidf_is_fitted_on_the_corpus_and_ties_share_best(wordllama, lee_judgements):
    from embedlab import load

    documents, grades = lee_judgements
    report = evaluate("retrieval", ["tfidf", wordllama])
    vectors = load("tfidf").fit(documents).encode(documents)
    assert report.results[0].metrics["nDCG@10"] == pytest.approx(reference(vectors, grades, 100)["nDCG@10"], abs=1e-6)
    # every document is among the 49 others, so recall@100 is 1.0 for both: both are best
    assert report.best()[("retrieval", "Lee similar documents", "recall@100")] == ["tfidf", "wordllama"]


def test_bad_beir_folders(wordllama, tmp_path):
    folder = write_beir(lee_retrieval(), tmp_path / "beir")
    qrels = folder / "qrels" / "test.tsv"
    lines = qrels.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].rsplit("\t", 1)[0] + "\trelevant"
    qrels.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(EmbedlabError, match=r"line 3: field 3 \(score\) 'relevant' is not an integer"):
        evaluate("retrieval", [wordllama], data=folder)
    (folder / "queries.jsonl").write_text(json.dumps({"id": "q1", "text": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(EmbedlabError, match="queries.jsonl line 1: has no '_id' field"):
        evaluate("retrieval", [wordllama], data=folder)
    (folder / "corpus.jsonl").unlink()
    with pytest.raises(EmbedlabError, match="corpus.jsonl does not exist"):
        evaluate("retrieval", [wordllama], data=folder)
