"""embedlab.search's helpers against independent computations: exact top-k by a full stable sort, weighted
reciprocal rank fusion by its formula (Cormack et al., 2009, with a weight per ranking), and the errors that
`check_k` / `check_mode` give. No model and no store: the whole file runs in milliseconds."""

from __future__ import annotations

import numpy as np
import pytest

from embedlab.errors import EmbedlabError
from embedlab.search import (
    MODES,
    RRF_K,
    SearchResult,
    check_k,
    check_mode,
    reciprocal_rank_fusion,
    top_k,
    top_k_scores,
)


def by_formula(rankings, weights, k=60):
    """score(id) = sum over the rankings holding it of weight / (k + rank), rank from 1; best first, ties by id."""
    fused = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))


def test_search_result_as_dict_holds_every_field():
    hit = SearchResult("lee-3", 0.75, "Fire near Sydney.", {"doc": 3, "words": 3})
    assert hit.as_dict() == {
        "id": "lee-3",
        "score": 0.75,
        "text": "Fire near Sydney.",
        "metadata": {"doc": 3, "words": 3},
    }
    first, second = SearchResult("a", 1.0, "x"), SearchResult("b", 0.5, "y")
    first.metadata["n"] = 1  # each result has its own metadata dict
    assert second.as_dict() == {"id": "b", "score": 0.5, "text": "y", "metadata": {}}


@pytest.mark.parametrize("k", [1, 2, 7, 10_000])
def test_check_k_returns_a_positive_whole_number(k):
    assert check_k(k) == k


@pytest.mark.parametrize("k", [0, -1, -5, True, False, 2.0, 0.5, "3", None])
def test_check_k_refuses_anything_else_and_says_what_to_pass(k):
    with pytest.raises(EmbedlabError) as error:
        check_k(k)
    assert error.value.message == f"k must be a positive whole number, got {k!r}."
    assert error.value.hint == "pass e.g. -k 5."


def test_check_mode_accepts_the_three_modes_and_names_them_when_refusing():
    assert MODES == ("semantic", "keyword", "hybrid")
    for mode in MODES:
        assert check_mode(mode) == mode
    for bad in ("Semantic", "vector", "", "semantic "):
        with pytest.raises(EmbedlabError) as error:
            check_mode(bad)
        assert error.value.message == f"unknown search mode {bad!r}."
        assert error.value.hint == "choose one of semantic, keyword, hybrid."


def test_top_k_scores_equals_a_full_stable_sort():
    rng = np.random.default_rng(7)
    for n in (1, 2, 5, 40, 300):
        scores = rng.normal(size=n).astype(np.float32)
        expected = np.argsort(-scores, kind="stable")
        for k in sorted({1, 2, 3, n // 2 or 1, n - 1 or 1, n, n + 1, 5 * n}):
            order, best = top_k_scores(scores, k)
            assert list(order) == list(expected[: min(k, n)])
            np.testing.assert_array_equal(best, scores[expected[: min(k, n)]])
            assert best.dtype == np.float32


def test_top_k_scores_of_nothing_is_empty_and_still_indexes():
    ids = np.array(["a", "b", "c"])
    for scores, k in ((np.empty(0, dtype=np.float32), 5), (np.array([0.5, 0.2, 0.9], dtype=np.float32), 0)):
        order, best = top_k_scores(scores, k)
        assert len(order) == len(best) == 0
        assert list(ids[order]) == []  # integer positions: usable as an index like the non-empty ones
        assert order.dtype == np.int64 and best.dtype == np.float32  # the dtypes of a float32 search's answer


def test_top_k_scores_with_ties_gives_the_k_best_scores_at_distinct_positions():
    # the order among tied scores is argpartition's (numpy leaves it unspecified); the scores are not
    rng = np.random.default_rng(11)
    for n in (3, 17, 90):
        scores = rng.integers(0, 4, size=n).astype(np.float32)
        for k in (1, 2, n // 2, n):
            order, best = top_k_scores(scores, k)
            assert len(set(order.tolist())) == len(order) == k
            np.testing.assert_array_equal(scores[order], best)
            np.testing.assert_array_equal(best, np.sort(scores)[::-1][:k])


def test_top_k_is_cosine_top_k_over_unit_rows():
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(200, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    query = vectors[17] + 0.3 * vectors[40]
    for k in (1, 5, 200, 500):
        rows, scores = top_k(vectors, query, k)
        cosine = vectors @ query
        expected = np.argsort(-cosine, kind="stable")[:k]
        assert list(rows) == list(expected) and rows[0] == 17
        np.testing.assert_allclose(scores, cosine[expected], rtol=1e-6)


def test_rrf_equals_the_formula_with_weights_and_the_default_k():
    assert RRF_K == 60
    rankings = [["a", "b", "c", "d"], ["c", "a", "e"], ["e", "f"]]
    for weights in ([1.0, 1.0, 1.0], [2.0, 0.5, 0.0], [0.0, 0.0, 3.0], [0.25, 1.0, 1.0]):
        got = reciprocal_rank_fusion(rankings, weights)
        expected = by_formula(rankings, weights)
        assert [i for i, _ in got] == [i for i, _ in expected]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], rtol=1e-12)
    got = dict(reciprocal_rank_fusion(rankings, [1.0, 2.0, 1.0], k=1))
    assert got == pytest.approx(dict(by_formula(rankings, [1.0, 2.0, 1.0], k=1)), rel=1e-12)
    assert got["a"] == pytest.approx(1 / 2 + 2 / 3)  # first in one ranking, second in the other
    assert got["f"] == pytest.approx(1 / 3)


def test_rrf_breaks_ties_by_id_and_a_zero_weight_ranking_adds_nothing():
    # mirror-image rankings give every id the same score: the order is then by id
    fused = reciprocal_rank_fusion([["b", "a"], ["a", "b"]], [1.0, 1.0])
    assert fused == [("a", 1 / 61 + 1 / 62), ("b", 1 / 61 + 1 / 62)]
    only_first = reciprocal_rank_fusion([["z", "y"], ["y", "x"]], [1.0, 0.0])
    assert only_first == [("z", 1 / 61), ("y", 1 / 62), ("x", 0.0)]


def test_rrf_refuses_bad_weights():
    with pytest.raises(EmbedlabError) as error:
        reciprocal_rank_fusion([["a"], ["b"]], [1.0])
    assert error.value.message == "one weight is needed per ranking." and error.value.hint is None
    for weights in ([0.0, 0.0], [-1.0, 2.0], [1.0, -0.5]):
        with pytest.raises(EmbedlabError) as error:
            reciprocal_rank_fusion([["a"], ["b"]], weights)
        assert error.value.message == f"hybrid weights must be >= 0 and not all 0, got {weights}."
        assert error.value.hint == "pass e.g. 1.0,1.0."
    # the bounds themselves are allowed: a weight of 0, any positive weight however small
    assert [i for i, _ in reciprocal_rank_fusion([["a"], ["b"]], [0.0, 1e-9])] == ["b", "a"]
