"""The evaluation cache is keyed by the whole recipe: two recipes of one model never share cached vectors."""

from __future__ import annotations

import numpy as np
from scipy import stats

from embedlab import load
from embedlab.evaluate import evaluate
from embedlab.evaluate.lee import lee_corpus


def independent_pearson(encoder) -> float:
    """docsim's Pearson computed here, without the cache: cosine of every document pair against the ratings."""
    corpus = lee_corpus()
    vectors = encoder.encode(corpus.documents, batch_size=16)
    left, right, human = corpus.pairs()
    return float(stats.pearsonr(human, np.einsum("ij,ij->i", vectors[left], vectors[right]))[0])


def test_mean_and_cls_pooling_each_miss_and_keep_their_own_metrics(tmp_path, monkeypatch, minilm) -> None:
    monkeypatch.setenv("EMBEDLAB_CACHE", str(tmp_path / "cache"))
    cls = load("minilm", pooling="cls")
    first = evaluate("docsim", [minilm]).results[0]
    second = evaluate("docsim", [cls]).results[0]
    assert first.details["cache"] == "miss" and second.details["cache"] == "miss"
    assert second.recipe["pooling"] == "cls" and first.recipe["pooling"] == "mean"
    assert abs(first.metrics["pearson"] - independent_pearson(minilm)) < 1e-6
    assert abs(second.metrics["pearson"] - independent_pearson(cls)) < 1e-6
    assert abs(first.metrics["pearson"] - second.metrics["pearson"]) > 0.01  # README: 0.656 vs 0.609
    again = evaluate("docsim", [cls]).results[0]
    assert again.details["cache"] == "hit" and again.metrics == second.metrics
    assert len(list((tmp_path / "cache" / "evaluate").glob("*.npy"))) == 2
