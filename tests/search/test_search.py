"""Search quality and mechanics on the bundled news corpus embedded with minilm."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer

from embedlab import EmbedlabError
from embedlab.datasets import movies
from embedlab.search import reciprocal_rank_fusion, top_k


def test_tutorial_landmark_query_finds_the_asian_landmarks(demo_store):
    store, report = demo_store
    assert {r.id for r in report.landmarks["results"]} == {"great-wall", "taj-mahal"}
    results = store.collection("demo-landmarks").search("Famous structures in Asia", k=4)
    assert [r.id for r in results][:2] in (["great-wall", "taj-mahal"], ["taj-mahal", "great-wall"])


def test_tutorial_tfidf_recommendation_returns_the_movies_sharing_most_terms(demo_store):
    _, report = demo_store
    records = {r.id: r.text for r in movies()}
    analyzer = CountVectorizer(stop_words="english").build_analyzer()
    seed = set(analyzer(records["dark-knight"]))
    shared = {i: len(seed & set(analyzer(t))) for i, t in records.items() if i != "dark-knight"}
    expected = set(sorted(shared, key=shared.get, reverse=True)[:2])
    assert {r.id for r in report.movies["results"]} == expected


def test_semantic_search_finds_meaning_not_words(demo_store):
    store, _ = demo_store
    results = store.collection("demo-news").search("wildfires threatening houses", k=3)
    assert all("fire" in r.text.lower() for r in results)
    assert not any("wildfire" in r.text.lower() for r in results)  # the stories say bushfire / blaze


def test_keyword_search_matches_the_words(demo_store):
    store, _ = demo_store
    results = store.collection("demo-news").search("Qantas", k=5, mode="keyword")
    assert len(results) == 5 and all("qantas" in r.text.lower() for r in results)
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)


def test_hybrid_weights_reduce_to_each_mode(demo_store):
    news = demo_store[0].collection("demo-news")
    query = "airline staff walk off the job"
    semantic = [r.id for r in news.search(query, k=5)]
    keyword = [r.id for r in news.search(query, k=5, mode="keyword")]
    assert [r.id for r in news.search(query, k=5, mode="hybrid", weights=(1, 0))] == semantic
    assert [r.id for r in news.search(query, k=5, mode="hybrid", weights=(0, 1))] == keyword
    both = [r.id for r in news.search(query, k=5, mode="hybrid")]
    pool = {r.id for r in news.search(query, k=50)} | {r.id for r in news.search(query, k=50, mode="keyword")}
    assert len(both) == 5 and set(both) <= pool


def test_filter_applies_to_semantic_search(demo_store):
    news = demo_store[0].collection("demo-news")
    results = news.search("bushfires", k=5, where="words < 120")
    assert results and all(r.metadata["words"] < 120 for r in results)


def test_recommendation_of_a_bushfire_story_is_about_fires(demo_store):
    _, report = demo_store
    assert report.recommendation["id"] == "lee-1"
    assert all("fire" in r.text.lower() for r in report.recommendation["results"])


def test_rrf_by_hand():
    fused = reciprocal_rank_fusion([["a", "b"], ["b", "c"]], [1.0, 2.0], k=60)
    expected = {"a": 1 / 61, "b": 1 / 62 + 2 / 61, "c": 2 / 62}
    assert [i for i, _ in fused] == sorted(expected, key=expected.get, reverse=True)
    assert dict(fused) == pytest.approx(expected)
    with pytest.raises(EmbedlabError):
        reciprocal_rank_fusion([["a"]], [0.0])


def test_top_k_is_exact():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(1000, 16)).astype(np.float32)
    query = rng.normal(size=16).astype(np.float32)
    rows, scores = top_k(vectors, query, 10)
    np.testing.assert_array_equal(rows, np.argsort(-(vectors @ query))[:10])
    assert list(scores) == sorted(scores, reverse=True)


def test_ann_index_beside_the_table(store, wordllama, lee_records, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_ANN_THRESHOLD", "100")
    news = store.create("news", wordllama)
    news.add_records(lambda: iter(lee_records), len(lee_records))
    assert news.engine.fresh_ann() is not None and "hnsw" in news.info()["ann_index"]
    recall = []
    for record in lee_records[:30]:
        query = wordllama.encode([record.text[:80]])[0]
        approx = {i for i, _ in news.engine.semantic(query, 10)}
        ids, vectors = news.vectors()
        exact = {str(ids[r]) for r in top_k(vectors, query, 10)[0]}
        recall.append(len(approx & exact) / 10)
    assert np.mean(recall) >= 0.95
    grown = news.add(["A new story about a cricket match in Perth."], ids=["new-1"])
    index = news.engine.fresh_ann()
    assert grown.added == 1 and index is not None and index.count == len(news) == len(lee_records) + 1
    assert news.search("cricket match in Perth", k=1)[0].id == "new-1"
    news.add(["Changed text for an old story about bushfires."], ids=["lee-2"])  # update: old row marked deleted
    updated = news.engine.fresh_ann()
    assert updated is not None and updated.count == len(news) == len(lee_records) + 1 and updated.deleted == 1
    news.table.delete("id = 'lee-3'")  # any change outside an ingest makes the index stale
    assert news.engine.fresh_ann() is None and len(news.search("fire", k=3)) == 3
