"""WEAT against the formulas of Caliskan, Bryson & Narayanan (2017), computed here from hand-made vectors,
and the README's figures pinned where they are deterministic."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from embedlab.words import TemplateWords, WordStatus, named_weat, weat

VECTORS = {
    # targets X and Y, attributes A and B: 2-d vectors chosen by hand (not unit length)
    "x1": [1.0, 0.2], "x2": [0.9, 0.5], "x3": [0.4, 0.1], "x4": [0.7, -0.3],
    "y1": [0.1, 1.0], "y2": [0.3, 0.8], "y3": [-0.2, 0.6], "y4": [0.5, 0.5],
    "a1": [1.0, 0.0], "a2": [0.8, 0.1], "a3": [0.9, -0.2],
    "b1": [0.0, 1.0], "b2": [0.2, 0.9], "b3": [-0.1, 1.0],
}  # fmt: skip


class HandMade:
    """The WordEmbedder protocol over the vectors above."""

    name = "hand-made"

    def embed_words(self, words):
        matrix = np.array([VECTORS[w] for w in words], dtype=np.float32)
        return list(words), matrix, [WordStatus(w, None, "out of vocabulary") for w in words if w not in VECTORS]


def cos(u, v) -> float:
    u, v = np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64)
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))


def s(w, A, B) -> float:  # s(w, A, B) = mean cos(w, a) - mean cos(w, b)
    return np.mean([cos(VECTORS[w], VECTORS[a]) for a in A]) - np.mean([cos(VECTORS[w], VECTORS[b]) for b in B])


def test_effect_size_and_exact_p_value_by_the_papers_formulas() -> None:
    X, Y, A, B = ["x1", "x2", "x3", "x4"], ["y1", "y2", "y3", "y4"], ["a1", "a2", "a3"], ["b1", "b2", "b3"]
    sx, sy = [s(w, A, B) for w in X], [s(w, A, B) for w in Y]
    d = (np.mean(sx) - np.mean(sy)) / np.std(sx + sy, ddof=1)
    observed = sum(sx) - sum(sy)  # s(X, Y, A, B)
    everyone = X + Y
    partitions = list(combinations(everyone, len(X)))  # equal-size splits (X_i, Y_i) of X u Y
    at_least = sum(
        1
        for xi in partitions
        if sum(s(w, A, B) for w in xi) - sum(s(w, A, B) for w in everyone if w not in xi) >= observed - 1e-12
    )
    p = at_least / len(partitions)

    result = weat(HandMade(), X, Y, A, B)
    assert result.exact and result.partitions == len(partitions) == 70
    assert result.effect_size == pytest.approx(d, abs=1e-6)
    assert result.statistic == pytest.approx(observed, abs=1e-6)
    assert result.p_value == pytest.approx(p, abs=1e-6) and p == 1 / 70  # X is the most A-like split
    flipped = weat(HandMade(), Y, X, A, B)
    assert flipped.effect_size == pytest.approx(-d, abs=1e-6) and flipped.p_value == pytest.approx(1.0)


def test_readme_weat1_figures(minilm, wordllama) -> None:
    """README: minilm d = +1.315, p = 9.999e-05; WordLlama with the words as text (--seat) d = +0.70, p = 0.0065."""
    on_minilm = named_weat(minilm, "weat1")
    assert on_minilm.effect_size == pytest.approx(1.315, abs=5e-4)
    assert on_minilm.p_value == pytest.approx(1 / 10_001) and not on_minilm.exact
    on_wordllama = named_weat(TemplateWords(wordllama), "weat1")
    assert on_wordllama.effect_size == pytest.approx(0.70, abs=5e-3)
    assert on_wordllama.p_value == pytest.approx(0.0065, abs=5e-4)
