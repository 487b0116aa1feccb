"""`analogy(exclude="inputs")` is gensim's most_similar exactly; the default also drops case variants."""

from __future__ import annotations

import warnings

import pytest

QUESTIONS = [("man", "king", "woman"), ("good", "better", "bad"), ("walk", "walked", "go"), ("boy", "girl", "brother")]


@pytest.fixture(scope="module")
def lab():
    from embedlab.words import load

    return load("wordllama")


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
def test_exclude_inputs_matches_gensim(lab, method):
    search = lab.vectors.most_similar if method == "3cosadd" else lab.vectors.most_similar_cosmul
    for a, b, c in QUESTIONS:
        ours = lab.analogy(a, b, c, k=5, method=method, exclude="inputs")
        with warnings.catch_warnings():  # gensim's most_similar_cosmul calls its own deprecated init_sims
            warnings.simplefilter("ignore", DeprecationWarning)
            theirs = search(positive=[b, c], negative=[a], topn=5)
        assert [w for w, _ in ours.neighbors] == [w for w, _ in theirs]
        assert [s for _, s in ours.neighbors] == pytest.approx([s for _, s in theirs], abs=1e-6)


def test_default_drops_case_variants_and_says_how_it_differs(lab):
    gensim_top = lab.vectors.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0]
    assert gensim_top == "Woman"  # a case variant of an input word: what the default leaves out
    ours = lab.analogy("man", "king", "woman", k=10)
    words = [w for w, _ in ours.neighbors]
    assert words[0] == "lady"
    assert not {w.lower() for w in words} & {"man", "king", "woman"}


def test_unknown_exclude_is_an_error(lab):
    from embedlab.errors import EmbedlabError

    with pytest.raises(EmbedlabError, match="exclude"):
        lab.analogy("man", "king", "woman", exclude="all")
