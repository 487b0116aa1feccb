"""`encode` of a fitted count/tfidf encoder applies the vocabulary and idf without scikit-learn (so that
a search does not import it); these oracles hold that path to scikit-learn's own vectorizers, setting
by setting, on the Lee corpus, and through save/load in a process that never imports scikit-learn."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from embedlab import load
from embedlab.encoders.sparse import SparseEncoder

SETTINGS = [
    {},
    {"stop_words": "english"},
    {"ngram_range": (1, 2)},
    {"ngram_range": (2, 3), "stop_words": "english"},
    {"lowercase": False, "sublinear_tf": True},
    {"min_df": 2, "max_df": 0.5, "max_features": 3000},
]


@pytest.fixture(scope="module")
def lee_texts(lee_records):
    return [r.text for r in lee_records]


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()) or "defaults")
@pytest.mark.parametrize("kind", ["tfidf", "count"])
def test_encode_equals_scikit_learn(kind, settings, lee_texts):
    train, queries = lee_texts[:200], lee_texts[200:] + ["Bushfires near SYDNEY", "", "zzzz qqqq", "a b c"]
    encoder = load(kind, **settings).fit(train)
    options = {k: tuple(v) if k == "ngram_range" else v for k, v in settings.items()}
    if kind == "count":
        options.pop("sublinear_tf", None)  # a CountVectorizer has no tf weighting; embedlab ignores it there too
    peer = (TfidfVectorizer if kind == "tfidf" else CountVectorizer)(**options).fit(train)
    reference = peer.transform(queries).toarray()
    got = encoder.encode(queries, normalize=False)  # count rows are raw counts, as scikit-learn's
    assert got.dtype == np.float32 and got.shape == reference.shape
    np.testing.assert_allclose(got, reference, rtol=1e-6, atol=1e-7)
    assert encoder.last_stats["texts_without_known_words"] == int((~reference.any(axis=1)).sum()) >= 2


@pytest.mark.parametrize("norm", ["l1", None])
def test_other_norms_equal_scikit_learn(norm, lee_texts):
    encoder = load("tfidf", norm=norm).fit(lee_texts[:200])
    reference = TfidfVectorizer(norm=norm).fit(lee_texts[:200]).transform(lee_texts[200:]).toarray()
    np.testing.assert_allclose(encoder.encode(lee_texts[200:], normalize=False), reference, rtol=1e-6, atol=1e-7)


def test_long_text_counts_equal_the_whole_texts_counts(lee_texts):
    encoder = load("tfidf").fit(lee_texts)
    long = " ".join(lee_texts) * 2  # ~400,000 characters: counted piece by piece
    reference = TfidfVectorizer().fit(lee_texts).transform([long]).toarray()
    np.testing.assert_allclose(encoder.encode([long]), reference, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(encoder.transform([long]).toarray(), reference, rtol=1e-5, atol=1e-7)


def test_a_saved_encoder_encodes_without_importing_scikit_learn(tmp_path, lee_texts):
    encoder = load("tfidf", ngram_range=(1, 2)).fit(lee_texts)
    encoder.save(tmp_path / "tfidf")
    queries = ["bushfires near Sydney", lee_texts[7]]
    script = (
        "import json, sys\n"
        "from embedlab.encoders.sparse import SparseEncoder\n"
        f"encoder = SparseEncoder.load({str(tmp_path / 'tfidf')!r})\n"
        f"vectors = encoder.encode({queries!r})\n"
        "print(json.dumps({'vectors': vectors.tolist(), 'identity': encoder.identity(),"
        " 'sklearn': 'sklearn' in sys.modules, 'scipy': 'scipy.sparse' in sys.modules}))\n"
    )
    out = json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout)
    assert out["sklearn"] is False and out["scipy"] is False
    np.testing.assert_allclose(np.array(out["vectors"]), encoder.encode(queries), rtol=1e-6)
    assert out["identity"] == encoder.identity()
    loaded = SparseEncoder.load(tmp_path / "tfidf")  # the scikit-learn path of a loaded encoder still works
    np.testing.assert_allclose(loaded.transform(queries).toarray(), encoder.encode(queries), rtol=1e-6)
    assert loaded.vocabulary == encoder.vocabulary


def test_a_damaged_vocabulary_is_refused(tmp_path, lee_texts):
    from embedlab.errors import DamagedError

    load("tfidf").fit(lee_texts[:20]).save(tmp_path / "tfidf")
    (tmp_path / "tfidf" / "vocabulary.json").write_text('{"not": "a list"}')
    with pytest.raises(DamagedError, match="vocabulary"):
        SparseEncoder.load(tmp_path / "tfidf")
