"""A word2vec trained by the words lab on the bundled Lee corpus fits the word tasks through its KeyedVectors;
its figures are checked against gensim's own evaluation of those KeyedVectors."""

from __future__ import annotations

import pytest

from embedlab import load
from embedlab.datasets import gensim_test_data
from embedlab.evaluate import evaluate, fitting_tasks

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")


@pytest.fixture(scope="module")
def word2vec(tmp_path_factory):
    from embedlab.words import TrainOptions, train

    folder = tmp_path_factory.mktemp("w2v") / "lee"
    train("word2vec", gensim_test_data("lee_background.cor"), folder, TrainOptions(min_count=2, epochs=5, workers=1))
    return load(f"word2vec:{folder}")


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
