"""docsim on Lee's 50 documents: the figures against scipy on the human ratings read here, and the cache."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from embedlab import EmbedlabError, load
from embedlab.datasets import gensim_test_data
from embedlab.encoders.wordllama import WordLlamaEncoder
from embedlab.evaluate import evaluate


@pytest.fixture(scope="module")
def lee():
    documents = gensim_test_data("lee.cor").read_bytes().decode("latin-1").splitlines()
    ratings = np.loadtxt(gensim_test_data("similarities0-1.txt"))
    left, right = np.triu_indices(50, 1)
    return [d.strip() for d in documents], left, right, ratings[left, right]


def reference(vectors: np.ndarray, lee) -> tuple[float, float]:
    _, left, right, human = lee
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosines = (unit[left] * unit[right]).sum(axis=1)
    return stats.pearsonr(human, cosines).statistic, stats.spearmanr(human, cosines).statistic


def test_tfidf_and_wordllama_against_scipy(wordllama, lee):
    report = evaluate("docsim", ["tfidf", wordllama])
    tfidf, llama = report.results
    fitted = load("tfidf").fit(lee[0])  # tfidf is fitted on the 50 documents themselves
    for result, vectors in ((tfidf, fitted.encode(lee[0])), (llama, wordllama.encode(lee[0]))):
        pearson, spearman = reference(vectors, lee)
        assert result.metrics["pearson"] == pytest.approx(pearson, abs=1e-5)
        assert result.metrics["spearman"] == pytest.approx(spearman, abs=1e-5)
        assert result.counts == {"pairs": 1225, "documents": 50}
    assert tfidf.recipe["encoder"] == "tfidf" and "fitted state" in tfidf.recipe["version"]
    assert report.best()[("docsim", "Lee 50 documents", "pearson")] == ["wordllama"]


def test_cache_means_no_second_encoding(wordllama, tmp_path, monkeypatch):
    first = evaluate("docsim", [wordllama]).results[0]
    assert first.details["cache"] == "miss"
    assert len(list((tmp_path / "cache" / "evaluate").glob("*.npy"))) == 1

    def refuse(*args, **kwargs):
        raise AssertionError("encoded again")

    monkeypatch.setattr(WordLlamaEncoder, "_encode", refuse)
    second = evaluate("docsim", [wordllama]).results[0]
    assert second.details["cache"] == "hit" and second.metrics == first.metrics


def test_docsim_takes_no_data_file(wordllama, tmp_path):
    with pytest.raises(EmbedlabError, match="docsim runs on the Lee corpus"):
        evaluate("docsim", [wordllama], data=tmp_path)


def test_unknown_task_and_option(wordllama):
    with pytest.raises(EmbedlabError, match="unknown task 'docsimm'. Did you mean: docsim"):
        evaluate("docsimm", [wordllama])
    with pytest.raises(EmbedlabError, match="takes no option folds"):
        evaluate("docsim", [wordllama], folds=3)
    with pytest.raises(EmbedlabError, match="folds must be a whole number >= 2"):
        evaluate("classify", [wordllama], folds=1)
