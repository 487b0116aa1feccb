from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from embedlab import EmbedlabError, load
from embedlab.encoders import SparseEncoder


def test_tfidf_matches_scikit_learn(lee_records):
    texts = [r.text for r in lee_records]
    encoder = load("tfidf").fit(texts)
    sklearn = TfidfVectorizer().fit(texts)  # scikit-learn's defaults are embedlab's: all terms, no stop words, l2
    reference = sklearn.transform(texts[:5]).toarray()
    np.testing.assert_allclose(encoder.encode(texts[:5]), reference, atol=1e-6)
    sparse = encoder.transform(texts[:5])
    assert sp.issparse(sparse) and sparse.shape == (5, encoder.dim) == (5, len(sklearn.vocabulary_))
    np.testing.assert_allclose(sparse.toarray(), reference, atol=1e-6)  # "as scikit-learn gives it"
    assert encoder.recipe["stop_words"] is None and encoder.recipe["max_features"] is None
    assert encoder.recipe["norm"] == "l2"


def test_stop_words_and_max_features_are_options_recorded_in_the_recipe(lee_records):
    texts = [r.text for r in lee_records]
    encoder = load("tfidf", stop_words="english", max_features=4096).fit(texts)
    reference = TfidfVectorizer(stop_words="english", max_features=4096).fit(texts).transform(texts[:5]).toarray()
    np.testing.assert_allclose(encoder.transform(texts[:5]).toarray(), reference, atol=1e-6)
    assert encoder.dim == 4096
    assert encoder.recipe["stop_words"] == "english" and encoder.recipe["max_features"] == 4096


def test_a_query_without_known_words_is_an_error_not_arbitrary_rows(store, lee_records):
    from embedlab.errors import EmbedlabError

    texts = [r.text for r in lee_records[:50]]
    collection = store.create("news", "tfidf")
    collection.add(texts)
    assert collection.search("bushfire", k=1)[0].score > 0
    for mode in ("semantic", "hybrid"):
        with pytest.raises(EmbedlabError, match="all zeros"):
            collection.search("zzyzx qwertyuiop", mode=mode)


def test_a_vocabulary_too_large_to_store_dense_is_refused(monkeypatch, lee_records):
    from embedlab.encoders import sparse
    from embedlab.errors import EmbedlabError

    monkeypatch.setattr(sparse, "MAX_TERMS", 1000)
    with pytest.raises(EmbedlabError, match="max_features"):
        load("tfidf").fit([r.text for r in lee_records])
    assert load("tfidf", max_features=1000).fit([r.text for r in lee_records]).dim == 1000


def test_count_encoder_counts_words():
    encoder = load("count", stop_words=None).fit(["red fish blue fish", "one fish"])
    raw = encoder.encode(["fish fish red"], normalize=False)[0]
    assert raw[encoder.vocabulary.index("fish")] == 2 and raw[encoder.vocabulary.index("red")] == 1


def test_save_and_load_round_trip(tmp_path, lee_records):
    texts = [r.text for r in lee_records[:50]]
    encoder = load("tfidf").fit(texts)
    encoder.save(tmp_path / "enc")
    assert not list(tmp_path.glob("enc/*.pkl"))
    again = SparseEncoder.load(tmp_path / "enc")
    np.testing.assert_allclose(again.encode(texts[:3]), encoder.encode(texts[:3]))
    assert again.recipe == encoder.recipe


def test_unfitted_encoder_says_fit_first():
    with pytest.raises(EmbedlabError, match="fit"):
        load("tfidf").encode(["hello"])


def test_damaged_saved_vectorizer(tmp_path):
    encoder = load("tfidf").fit(["alpha beta", "beta gamma"])
    encoder.save(tmp_path / "enc")
    np.save(tmp_path / "enc" / "idf.npy", np.ones(7))
    with pytest.raises(EmbedlabError, match="damaged"):
        SparseEncoder.load(tmp_path / "enc")


def test_corpus_without_words():
    with pytest.raises(EmbedlabError, match="cannot fit"):
        load("tfidf").fit(["", "  "])
