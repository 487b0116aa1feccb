"""Neighbours, analogies, arithmetic, OOV and export on real models (Lee word2vec, WordLlama)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embedlab.datasets import gensim_test_data
from embedlab.errors import EmbedlabError
from embedlab.words import export_vectors, load


def test_oov_word_is_an_error_with_close_spellings(w2v) -> None:
    with pytest.raises(EmbedlabError) as info:
        w2v.neighbors("firre")
    assert "not in the vocabulary" in info.value.message and "'firre'" in info.value.message
    assert "fire" in info.value.hint


def test_lookup_lowercases_for_models_trained_lowercase(w2v) -> None:
    assert w2v.status("Fire").key == "fire" and "Fire" in w2v
    assert [s.word for s in w2v.oov(["fire", "qwxzv", "Sydney"])] == ["qwxzv"]


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (("man", "king", "man"), "repeats 'man'"),
        (("Man", "man", "king"), "repeats 'man'"),
        (("man", "", "king"), "missing"),
    ],
)
def test_bad_analogies_are_clear_errors(w2v, words: tuple[str, str, str], message: str) -> None:
    with pytest.raises(EmbedlabError, match=message):
        w2v.analogy(*words)


def test_analogy_follows_gensim_most_similar_and_excludes_inputs(w2v) -> None:
    result = w2v.analogy("israel", "israeli", "australia", k=5)
    expected = w2v.vectors.most_similar(positive=["israeli", "australia"], negative=["israel"], topn=25)
    expected = [(w, s) for w, s in expected if w not in ("israel", "israeli", "australia")][:5]
    assert [w for w, _ in result.neighbors] == [w for w, _ in expected]
    assert result.neighbors == w2v.most_similar(positive=["israeli", "australia"], negative=["israel"], topn=5)
    cosmul = w2v.analogy("israel", "israeli", "australia", k=5, method="3cosmul")
    assert cosmul.method == "3cosmul" and len(cosmul.neighbors) == 5
    with pytest.raises(EmbedlabError, match="unknown analogy method"):
        w2v.analogy("israel", "israeli", "australia", method="3cosdiv")


def test_vector_arithmetic(w2v) -> None:
    query = w2v.vec("israeli", norm=True) - w2v.vec("israel", norm=True) + w2v.vec("australia", norm=True)
    by_vector = [w for w, _ in w2v.similar_by_vector(query, 10)]
    by_words = [w for w, _ in w2v.most_similar(positive=["israeli", "australia"], negative=["israel"], topn=5)]
    assert set(by_words) <= set(by_vector)  # same direction; only the input words are kept by similar_by_vector
    assert w2v.most_similar(positive=[query], topn=3) == w2v.similar_by_vector(query, 3)
    with pytest.raises(EmbedlabError, match="length 100"):
        w2v.similar_by_vector(np.zeros(3))


def test_wordllama_maps_words_to_whole_word_tokens(wordllama_words) -> None:
    assert "king" in wordllama_words and "queen" in wordllama_words
    assert wordllama_words.status("cockroach").status == "out of vocabulary"  # split into several tokens
    with pytest.raises(EmbedlabError, match="cockroach"):
        wordllama_words.neighbors("cockroach")
    near = [w for w, _ in wordllama_words.neighbors("king", 10).neighbors]
    assert "King" in near or "queen" in near or "kings" in near


def test_wordllama_analogy_man_king_woman(wordllama_words) -> None:
    """Measured figure (docs/words.md): queen is 9th with 3CosAdd, after lady/female/women and case variants."""
    answers = [w for w, _ in wordllama_words.analogy("man", "king", "woman", k=10).neighbors]
    assert "queen" in answers
    assert not {"man", "king", "woman", "King", "Woman"} & set(answers)


def test_oov_report_on_real_text(w2v, wordllama_words) -> None:
    texts = gensim_test_data("para2para_text1.txt").read_text(encoding="utf-8").splitlines()
    lee = w2v.oov_report(texts)
    llama = wordllama_words.oov_report(texts)
    assert lee["tokens"] == llama["tokens"] > 1000
    assert 0 < llama["oov_rate"] < lee["oov_rate"] < 1  # a news corpus of 300 stories knows fewer words
    assert lee["top_oov"][0]["count"] >= lee["top_oov"][-1]["count"]
    with pytest.raises(EmbedlabError, match="no words"):
        w2v.oov_report(["", "  "])


def test_export_round_trips_through_word2vec_formats(w2v, tmp_path: Path) -> None:
    for binary, name in ((False, "vectors.txt"), (True, "vectors.bin")):
        info = export_vectors(w2v, tmp_path / name, binary=binary)
        again = load(f"vectors:{tmp_path / name}")
        assert info["words"] == len(again) == len(w2v)
        assert np.allclose(again.vec("fire"), w2v.vec("fire"), atol=1e-5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vectors.bin", "vectors.txt"]


def test_non_static_model_is_refused() -> None:
    with pytest.raises(EmbedlabError, match="not a static word-vector model"):
        load("minilm")


def test_glove_and_word2vec_files_work_as_static_models() -> None:
    glove = load(f"vectors:{gensim_test_data('test_glove.txt')}")  # GloVe text format, no header
    assert len(glove) == 76 and glove.dim == 50
    assert [w for w, _ in glove.neighbors("the", 3).neighbors][0] == "which"
    vec = load(str(gensim_test_data("lee_fasttext.vec")))  # a bare path is a vectors file; case is kept
    assert vec.status("The").key == "The" and vec.status("FIRES").key == "fires"
    assert "fires" in [w for w, _ in vec.neighbors("fire", 3).neighbors]
