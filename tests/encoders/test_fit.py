"""`fit(texts)` returns the encoder for every kind; encoders that learn from a corpus refuse to work before it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embedlab import load
from embedlab.datasets import gensim_test_data, lee_news
from embedlab.errors import NotFittedError

TEXTS = [r.text for r in lee_news()[:40]]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny word2vec, fastText and doc2vec folders trained on the Lee corpus (seconds)."""
    from embedlab.words import TrainOptions, train

    root = tmp_path_factory.mktemp("fit-models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMBEDLAB_CONFIG_DIR", str(root / "config"))
        options = dict(dim=16, epochs=2, min_count=3, workers=1, buckets=5_000)
        for kind in ("word2vec", "fasttext", "doc2vec"):
            train(kind, gensim_test_data("lee_background.cor"), root / kind, TrainOptions(**options))
    return {kind: root / kind for kind in ("word2vec", "fasttext", "doc2vec")}


@pytest.mark.parametrize("name", ["tfidf", "count"])
def test_corpus_encoders_must_be_fitted_first(name: str) -> None:
    encoder = load(name)
    assert encoder.requires_fit and not encoder.fitted
    for use in (lambda: encoder.encode(["a cat"]), lambda: encoder.dim, lambda: encoder.recipe):
        with pytest.raises(NotFittedError, match="has not been fitted"):
            use()
    assert encoder.fit(TEXTS) is encoder and encoder.fitted
    vectors = encoder.encode(TEXTS[:3])
    assert vectors.shape == (3, encoder.dim) and encoder.recipe["encoder"] == name


def test_pretrained_encoders_fit_as_a_no_op(minilm, wordllama) -> None:
    for encoder in (minilm, wordllama):
        before = encoder.encode(TEXTS[:2])
        assert not encoder.requires_fit and encoder.fitted
        assert encoder.fit(TEXTS) is encoder
        np.testing.assert_array_equal(encoder.encode(TEXTS[:2]), before)


def test_word_vector_files_fit_their_sif_weights(tmp_path: Path) -> None:
    path = tmp_path / "v.txt"
    path.write_text("the 1 0\ncat 0 1\ndog 1 1\n", encoding="utf-8")
    encoder = load(f"vectors:{path}", weighting="sif")
    ranked = encoder.encode(["the cat"])
    assert encoder.fit(["the the the the cat"]) is encoder  # 'the' is now frequent, so it weighs less
    refitted = encoder.encode(["the cat"])
    assert refitted[0, 1] / refitted[0, 0] > ranked[0, 1] / ranked[0, 0]


@pytest.mark.parametrize("kind", ["word2vec", "fasttext", "doc2vec"])
def test_trained_word_models_fit_as_a_no_op(trained: dict[str, Path], kind: str, monkeypatch) -> None:
    monkeypatch.setenv("EMBEDLAB_CONFIG_DIR", str(trained[kind].parent / "config"))
    encoder = load(f"{kind}:{trained[kind]}")
    before = encoder.encode(TEXTS[:2])
    assert encoder.fitted and encoder.fit(TEXTS) is encoder
    np.testing.assert_array_equal(encoder.encode(TEXTS[:2]), before)
    assert encoder.spec().kind == kind and encoder.recipe["encoder"] == kind
