"""Models trained by the words lab on the bundled Lee background corpus: word2vec fits the word tasks through
its KeyedVectors (checked against gensim's own evaluation of them); doc2vec fits the text tasks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from embedlab import load
from embedlab.datasets import gensim_test_data
from embedlab.evaluate import evaluate, fitting_tasks

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")


def trained(kind: str, folder, epochs: int):
    from embedlab.words import TrainOptions, train

    train(kind, gensim_test_data("lee_background.cor"), folder, TrainOptions(min_count=2, epochs=epochs, workers=1))
    return load(f"{kind}:{folder}")


@pytest.fixture(scope="module")
def word2vec(tmp_path_factory):
    return trained("word2vec", tmp_path_factory.mktemp("w2v") / "lee", 5)


def test_word2vec_fits_every_task(word2vec):
    assert fitting_tasks(word2vec) == ["wordsim", "analogy", "docsim", "sts", "retrieval", "classify"]


def test_word2vec_wordsim_and_analogy_match_gensim(word2vec):
    kv = word2vec.vectors
    for result, file in zip(evaluate("wordsim", [word2vec]).results, ("wordsim353.tsv", "simlex999.txt"), strict=True):
        pearson, spearman, oov = kv.evaluate_word_pairs(str(gensim_test_data(file)))
        assert result.metrics["spearman"] == pytest.approx(spearman.statistic, abs=1e-6)
        assert 100 * result.counts["oov"] / result.counts["pairs"] == pytest.approx(oov)
    (result,) = evaluate("analogy", [word2vec]).results
    _, sections = kv.evaluate_word_analogies(str(gensim_test_data("questions-words.txt")), restrict_vocab=30000)
    total = sections[-1]
    assert result.counts["used"] == len(total["correct"]) + len(total["incorrect"])
    assert result.metrics["3CosAdd all"] == pytest.approx(len(total["correct"]) / result.counts["used"])


def test_doc2vec_docsim_against_scipy(tmp_path):
    doc2vec = trained("doc2vec", tmp_path / "d2v", 10)
    assert fitting_tasks(doc2vec) == ["docsim", "sts", "retrieval", "classify"]
    (result,) = evaluate("docsim", [doc2vec]).results
    documents = [d.strip() for d in gensim_test_data("lee.cor").read_bytes().decode("latin-1").splitlines()]
    vectors = doc2vec.encode(documents)
    left, right = np.triu_indices(50, 1)
    human = np.loadtxt(gensim_test_data("similarities0-1.txt"))[left, right]
    cosines = (vectors[left] * vectors[right]).sum(axis=1)
    assert result.metrics["pearson"] == pytest.approx(stats.pearsonr(human, cosines).statistic, abs=1e-5)
