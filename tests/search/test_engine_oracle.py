"""The search engine of one collection (embedlab.search.engine) against rankings computed in the test with numpy
(exact cosine top-k, filtered and not), weighted reciprocal rank fusion written out by hand, and the engine's own
state lines; Lee corpus stories with wordllama, so each test takes seconds."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embedlab.errors import EmbedlabError
from embedlab.search import engine


@pytest.fixture
def news(store, wordllama, lee_records):
    collection = store.create("news", wordllama)
    collection.add_records(lambda: iter(lee_records[:120]), 120)
    return collection


def exact(collection, query, k, keep=None):
    ids, vectors = collection.vectors()
    ids = np.array([str(i) for i in ids])
    if keep is not None:
        mask = np.array([keep(i) for i in ids])
        ids, vectors = ids[mask], vectors[mask]
    scores = vectors @ query
    order = np.argsort(-scores, kind="stable")[:k]
    return [(ids[i], float(scores[i])) for i in order]


def same_ranking(got, expected, score_of=None):
    """The same ids in the same order; where two scores are within float32 noise, either order is right
    (`score_of(id)`: the true score of any id, for ties at the k-th place)."""
    np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], atol=1e-5)
    truth = dict(expected)
    for (i, s), (j, _) in zip(got, expected, strict=True):
        assert i == j or abs((score_of(i) if score_of else truth[i]) - s) < 1e-5


def test_sql_string_doubles_quotes():
    assert engine.sql_string("it's") == "'it''s'"
    assert engine.sql_string("''") == "''''''"
    assert engine.sql_string("plain") == "'plain'"


@pytest.mark.parametrize(
    ("k", "kept", "ef"),
    [(10, 1.0, 256), (10, 0.25, 512), (10, 0.01, 2048), (10, 1e-6, 2048), (500, 1.0, 500), (300, 0.09, 1000)],
)
def test_filtered_ef_widens_by_one_over_the_square_root_of_the_kept_share(k, kept, ef):
    # min(max(EF_SEARCH=256, k) / sqrt(max(kept, 0.001)), 2048), as an int
    assert engine.filtered_ef(k, kept) == ef
    assert isinstance(engine.filtered_ef(k, kept), int)


def test_exact_top_k_over_more_than_one_block_of_queries(wordllama, lee_records):
    texts = [r.text for r in lee_records[:150]]
    vectors = wordllama.encode(texts)
    ids = np.array([f"d{i}" for i in range(150)])
    queries = vectors[:70] * 0.7 + vectors[80:150] * 0.3  # 70 queries: two blocks of at most 64
    got = engine._exact(ids, vectors, queries, 4)
    assert len(got) == 70
    for query, hits in zip(queries, got, strict=True):
        scores = vectors @ query
        order = np.argsort(-scores, kind="stable")[:4]
        row = {str(i): float(v) for i, v in zip(ids, scores, strict=True)}
        same_ranking(hits, [(str(ids[i]), float(scores[i])) for i in order], row.__getitem__)
    assert engine._exact(ids, vectors, queries[:1], 500)[0][-1][0] == ids[np.argmin(vectors @ queries[0])]


def test_semantic_search_without_an_index_is_exact(news, wordllama):
    query = wordllama.encode(["bushfires burn homes near Sydney"])[0]
    same_ranking(news.engine.semantic(query, 7), exact(news, query, 7))
    queries = wordllama.encode(["interest rates", "cricket test match", "Middle East violence"])
    for q, hits in zip(queries, news.engine.semantic_many(queries, 5), strict=True):
        same_ranking(hits, exact(news, q, 5))
    even = news.engine.semantic(query, 6, where="doc % 2 = 0")
    same_ranking(even, exact(news, query, 6, keep=lambda i: int(i.split("-")[1]) % 2 == 0))


def test_filters_through_an_index_are_exact_narrow_or_broad(news, wordllama, lee_records, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_ANN_THRESHOLD", "50")
    news.add_records(lambda: iter(lee_records[120:]), len(lee_records) - 120)
    assert news.engine.fresh_ann() is not None
    assert news.engine.ann_state() == "hnsw (hnswlib), up to date, efSearch 256"
    query = wordllama.encode(["police arrest men over the attack"])[0]
    narrow = "doc <= 60"  # at most FILTER_EXACT_ROWS rows: exact over the kept rows' vectors
    same_ranking(news.engine.semantic(query, 5, narrow), exact(news, query, 5, lambda i: int(i.split("-")[1]) <= 60))
    key = next(k for k in news.engine._masks if k[0] == narrow)
    mask, labels, kept = news.engine._masks[key]
    assert mask.sum() == len(labels) == 60 and kept is not None and kept.shape == (60, news.engine.dim)
    again = news.engine.semantic(query, 5, narrow)  # from the cached mask and vectors
    same_ranking(again, exact(news, query, 5, lambda i: int(i.split("-")[1]) <= 60))
    # a broad filter walks the graph with the mask: every hit passes it, and the best ones are found
    monkeypatch.setattr(engine, "FILTER_EXACT_ROWS", 10)
    broad = news.engine.semantic(query, 5, "doc % 3 = 0")
    expected = exact(news, query, 5, lambda i: int(i.split("-")[1]) % 3 == 0)
    same_ranking(broad, expected)
    # only the most recent MASK_CACHE filters are kept
    for n in range(engine.MASK_CACHE + 2):
        news.engine.semantic(query, 1, f"doc > {n}")
    assert len(news.engine._masks) == engine.MASK_CACHE
    assert (f"doc > {engine.MASK_CACHE + 1}", news.table.version, len(news)) in news.engine._masks
    assert not any(k[0] == narrow for k in news.engine._masks)


def test_keyword_search_is_bm25_over_the_text_and_takes_a_filter(news):
    hits = news.engine.keyword("cricket", 5)
    assert 0 < len(hits) <= 5
    texts = {h.id: h.text for h in news.search("cricket", k=5, mode="keyword")}
    assert [i for i, _ in hits] == list(texts)
    assert all("cricket" in texts[i].lower() for i, _ in hits)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    filtered = news.engine.keyword("cricket", 5, where="doc % 2 = 1")
    assert filtered and all(int(i.split("-")[1]) % 2 == 1 for i, _ in filtered)
    every = news.engine.keyword("cricket", 200)
    odd = [hit for hit in every if int(hit[0].split("-")[1]) % 2 == 1]
    # the filter applies before the top k is taken: the k best odd stories, not the odd ones among the k best
    assert [i for i, _ in news.engine.keyword("cricket", 1, where="doc % 2 = 1")] == [odd[0][0]]
    assert [i for i, _ in filtered] == [i for i, _ in odd[:5]]
    assert every[0][0] != odd[0][0]  # the best story is even: a filter applied after the top 1 would find nothing


def test_hybrid_is_weighted_rrf_of_pools_of_max_50_or_4k(news, wordllama):
    query_text = "bushfires near Sydney"
    query = wordllama.encode([query_text])[0]
    for k in (5, 20):
        pool = max(engine.HYBRID_POOL, 4 * k)
        semantic = [i for i, _ in news.engine.semantic(query, pool)]
        keyword = [i for i, _ in news.engine.keyword(query_text, pool)]
        for weights in ((1.0, 1.0), (2.0, 0.5)):
            fused: dict[str, float] = {}
            for ranking, weight in zip((semantic, keyword), weights, strict=True):
                for rank, item in enumerate(ranking, start=1):
                    fused[item] = fused.get(item, 0.0) + weight / (60 + rank)
            expected = sorted(fused.items(), key=lambda p: (-p[1], p[0]))[:k]
            got = news.engine.hybrid(query_text, query, k, None, weights)
            assert [i for i, _ in got] == [i for i, _ in expected]
            np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], rtol=1e-9)
    assert [i for i, _ in news.engine.hybrid(query_text, query, 5, None, (1.0, 0.0))] == semantic[:5]


def test_hybrid_asks_each_ranking_for_max_50_or_4k(news, wordllama, monkeypatch):
    asked = []
    semantic, keyword = news.engine.semantic, news.engine.keyword
    monkeypatch.setattr(
        news.engine, "semantic", lambda q, k, where=None: asked.append(("s", k)) or semantic(q, k, where)
    )
    monkeypatch.setattr(news.engine, "keyword", lambda t, k, where=None: asked.append(("k", k)) or keyword(t, k, where))
    query = wordllama.encode(["rain"])[0]
    for k in (1, 12, 13, 30):
        news.engine.hybrid("rain", query, k, None)
    assert asked == [(m, n) for n in (50, 50, 52, 120) for m in ("s", "k")]


def test_check_where(news):
    assert news.engine.check_where(None, []) is None
    assert news.engine.check_where("   ", []) is None
    assert news.engine.check_where("doc > 3", []) == "doc > 3"
    with pytest.raises(EmbedlabError, match=r"the filter 'nope > 3' does not work: ") as error:
        news.engine.check_where("nope > 3", ["doc", "words"])
    assert error.value.param == "where" and "columns: doc, words." in error.value.hint
    with pytest.raises(EmbedlabError) as error:
        news.engine.check_where("nope > 3", [])
    assert "columns: none." in error.value.hint


def test_vectors_are_cached_per_table_version(news, wordllama, lee_records):
    first = news.engine.vectors()
    assert news.engine.vectors()[1] is first[1]
    assert news.engine.dim == 256 and first[1].shape == (120, 256)
    news.add(["A new story about rain."], ids=["rain"])
    ids, vectors = news.engine.vectors()
    assert len(ids) == 121 and "rain" in [str(i) for i in ids]
    news.engine.forget()
    assert news.engine._matrix is None


def test_the_state_line_says_why_no_index_is_used(store, wordllama, lee_records, monkeypatch):
    news = store.create("news", wordllama)
    news.add_records(lambda: iter(lee_records[:60]), 60)
    assert news.engine.ann_state() == "none (exact search; built at 50,000 items)"
    monkeypatch.setenv("EMBEDLAB_ANN_THRESHOLD", "50")
    news.add_records(lambda: iter(lee_records[60:70]), 10)
    assert news.engine.ann_state() == "hnsw (hnswlib), up to date, efSearch 256"
    folder = store.side("news") / "ann"
    meta = json.loads((folder / "index.json").read_text())
    version = news.table.version
    # a write that did not update the index (another tool, a crash before the index was saved)
    news.table.delete("id = 'lee-1'")
    assert news.engine.ann_state() == (
        f"stale (holds 70 items of table version {version}; the table has 69 at version {news.table.version}); "
        "exact search until the next write rebuilds it"
    )
    assert news.table.version != version and meta
    (folder / "index.json").write_text("{not json")
    assert news.engine.ann_state().startswith("damaged: ")
    assert news.engine.ann_state().endswith("; exact search until the next write rebuilds it")
