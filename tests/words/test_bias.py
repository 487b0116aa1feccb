"""WEAT and direct bias with the word lists of Caliskan et al. (2017)."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.errors import EmbedlabError
from embedlab.words import TemplateWords, direct_bias, named_weat, weat, weat_data, word_set
from embedlab.words import bias as bias_module


def test_paper_word_lists_ship_with_their_citation() -> None:
    data = weat_data()
    assert "Caliskan" in data["source"] and "10.1126/science.aal4230" in data["source"]
    assert list(data["tests"]) == [f"weat{i}" for i in range(1, 11)]
    assert len(data["sets"]["flowers"]) == len(data["sets"]["insects"]) == 25
    assert data["tests"]["weat1"] == {
        "title": "Flowers vs insects, pleasant vs unpleasant",
        "targets": ["flowers", "insects"],
        "attributes": ["pleasant", "unpleasant"],
    }
    assert word_set("a, b ,a") == ("custom", ["a", "b"])


def test_exact_permutation_p_value_by_hand() -> None:
    # partitions of 4 scores into 2 + 2: only {3, 2} reaches the observed (3 + 2) - (1 + 0) = 4, so p = 1/6
    p, exact, partitions = bias_module.permutation_p_value(np.array([3.0, 2.0, 1.0, 0.0]), 2, 4.0, 100, 0)
    assert (p, exact, partitions) == (pytest.approx(1 / 6), True, 6)


def test_sampled_p_value_is_seeded_and_close_to_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    scores = np.random.default_rng(0).normal(size=16)
    observed = scores[:8].sum() - scores[8:].sum()
    exact, is_exact, _ = bias_module.permutation_p_value(scores, 8, observed, 0, 0)
    assert is_exact
    monkeypatch.setattr(bias_module, "EXACT_LIMIT", 10)
    first = bias_module.permutation_p_value(scores, 8, observed, 20_000, 5)
    assert first == bias_module.permutation_p_value(scores, 8, observed, 20_000, 5)
    assert not first[1] and abs(first[0] - exact) < 0.02


def test_weat1_flowers_insects_on_wordllama_words_as_text(wordllama) -> None:
    """Measured figure (docs/words.md): d = +0.70, p = 0.0065 (10,000 permutations, seed 0)."""
    result = named_weat(TemplateWords(wordllama), "weat1")
    assert result.effect_size > 0 and result.p_value < 0.05
    assert result.targets == ("flowers", "insects") and not result.exact and result.partitions == 10_000
    assert named_weat(TemplateWords(wordllama), "weat1").p_value == result.p_value  # seeded


def test_swapping_targets_flips_the_effect(wordllama) -> None:
    model = TemplateWords(wordllama)
    forward = weat(model, "flowers", "insects", "pleasant", "unpleasant")
    backward = weat(model, "insects", "flowers", "pleasant", "unpleasant")
    assert backward.effect_size == pytest.approx(-forward.effect_size, abs=1e-5)


def test_all_oov_sets_and_tiny_sets_are_refused(wordllama_words) -> None:
    with pytest.raises(EmbedlabError, match="only 1 of the 25 words of set flowers"):
        named_weat(wordllama_words, "weat1")  # WordLlama has a whole-word token only for 'rose'
    with pytest.raises(EmbedlabError, match="set X has 1 word"):
        weat(wordllama_words, ["king", " king "], "queen,woman", "good,nice", "bad,awful")
    with pytest.raises(EmbedlabError, match="not a named word set"):
        weat(wordllama_words, "flower", "insects", "pleasant", "unpleasant")
    with pytest.raises(EmbedlabError, match="no WEAT test"):
        named_weat(wordllama_words, "weat11")


def test_oov_words_are_dropped_and_reported(wordllama_words) -> None:
    result = weat(wordllama_words, "king,queen,qwxzv", "man,woman", "good,nice", "bad,awful")
    assert result.words["X"] == ["king", "queen"] and result.dropped_oov == {"X": ["qwxzv"]}
    assert result.exact and result.partitions == 6  # 2 + 2 words: C(4, 2) partitions, enumerated exactly


def test_direct_bias_he_she(wordllama_words) -> None:
    result = direct_bias(wordllama_words, top=10)
    assert 0 < result["direct_bias"] < 1 and result["direction"] == "he - she"
    she_end = {w["word"].lower() for w in result["most_she"]}
    assert {"her", "woman", "hers"} & she_end
    he_end = {w["word"].lower() for w in result["most_he"]}
    assert {"his", "him", "man"} & he_end
    with pytest.raises(EmbedlabError, match="two different words"):
        direct_bias(wordllama_words, pair=("he", "He"))
