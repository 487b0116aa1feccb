"""The search engine of one collection (embedlab.search.engine) against rankings computed in the test with numpy
(exact cosine top-k, filtered and not), weighted reciprocal rank fusion written out by hand, and the engine's own
state lines; Lee corpus stories with wordllama.

Fast on purpose (this file is the mutation-testing selection of engine.py, run once per mutant): the two
collections are made once per module (`built`: 120 stories, one under the index threshold and one over it) and
each test works on its own copy of that store folder (milliseconds, where an ingest takes a second). A test
that checks how an ingest treats the index makes its own writes."""

from __future__ import annotations

import json
import os
import re
import shutil

import numpy as np
import pytest
from lancedb.query import LanceQueryBuilder

from embedlab.errors import EmbedlabError
from embedlab.search import engine
from embedlab.search.ann import EF_CHOICES, EF_SEARCH, THRESHOLD_ENV, AnnIndex, recorded
from embedlab.store import Store

STORIES = 120


@pytest.fixture(scope="module")
def built(tmp_path_factory, wordllama, lee_records):
    """A store with `plain` (the first 120 stories; exact search) and `indexed` (the same with an HNSW index)."""
    root = tmp_path_factory.mktemp("engine") / "store"
    store = Store(root)
    made: dict[tuple, np.ndarray] = {}
    encode = wordllama.encode

    def once(texts, **options):  # the second collection's stories are the first one's: embedded once
        key = (tuple(texts), tuple(sorted(options.items())))
        if key not in made:
            made[key] = encode(texts, **options)
        return made[key].copy()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(wordllama, "encode", once)
        store.create("plain", wordllama).add_records(lambda: iter(lee_records[:STORIES]), STORIES)
        patch.setenv(THRESHOLD_ENV, "50")
        store.create("indexed", wordllama).add_records(lambda: iter(lee_records[:STORIES]), STORIES)
    return root


def open_copy(built, tmp_path, name, wordllama):
    shutil.copytree(built, tmp_path / name)
    collection = Store(tmp_path / name).collection(name)
    collection.use_encoder(wordllama)
    return collection


@pytest.fixture
def news(built, tmp_path, wordllama):
    return open_copy(built, tmp_path, "plain", wordllama)


@pytest.fixture
def indexed(built, tmp_path, wordllama, monkeypatch):
    monkeypatch.setenv(THRESHOLD_ENV, "50")  # writes keep (and rebuild) the index
    return open_copy(built, tmp_path, "indexed", wordllama)


@pytest.fixture
def reads(monkeypatch):
    """The columns and row limits of the LanceDB queries made while the test runs: a search reads what it needs."""
    seen = {"select": [], "limit": []}
    select, limit = LanceQueryBuilder.select, LanceQueryBuilder.limit
    monkeypatch.setattr(
        LanceQueryBuilder, "select", lambda self, columns: seen["select"].append(columns) or select(self, columns)
    )
    monkeypatch.setattr(LanceQueryBuilder, "limit", lambda self, n: seen["limit"].append(n) or limit(self, n))
    return seen


def doc(item_id):
    return int(str(item_id).split("-")[1])


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
    assert len(got) == len(expected)
    np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], atol=1e-5)
    truth = dict(expected)
    for (i, s), (j, _) in zip(got, expected, strict=True):
        assert i == j or abs((score_of(i) if score_of else truth[i]) - s) < 1e-5


class Counting:
    """A table that counts how often its version and its row count are asked for (LanceDB looks at its
    manifests each time)."""

    def __init__(self, table):
        self._table = table
        self.asked = 0
        self.counted = 0

    @property
    def version(self):
        self.asked += 1
        return self._table.version

    def count_rows(self, *args):
        self.counted += 1
        return self._table.count_rows(*args)

    def __getattr__(self, name):
        return getattr(self._table, name)


# ---- helpers of the module -------------------------------------------------------------------------------------


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


@pytest.mark.parametrize(
    ("saved", "ef"),
    [
        ({"ef_search": 64}, 64),
        ({"ef_search": 1}, 1),
        ({"ef_search": 4096}, 4096),
        ({"ef_search": "96"}, 96),
        ({"ef_search": 0}, EF_SEARCH),
        ({"ef_search": 4097}, EF_SEARCH),
        ({"ef_search": -5}, EF_SEARCH),
        ({"ef_search": "many"}, EF_SEARCH),
        ({"ef_search": None}, EF_SEARCH),
        ({"count": 7}, EF_SEARCH),
        ([64], EF_SEARCH),
        ("{not json", EF_SEARCH),
        (None, EF_SEARCH),
    ],
)
def test_tuned_ef_is_the_saved_value_from_1_to_4096_else_the_default(tmp_path, saved, ef):
    if saved is not None:
        text = saved if isinstance(saved, str) else json.dumps(saved)
        (tmp_path / "index.json").write_text(text, encoding="utf-8")
    assert engine.tuned_ef(tmp_path) == ef


def test_exact_top_k_over_more_than_one_block_of_queries(news):
    ids, vectors = news.vectors()
    ids = np.array([str(i) for i in ids])
    queries = vectors[:70] * 0.7 + vectors[50:120] * 0.3  # 70 queries: two blocks of at most 64
    got = engine._exact(ids, vectors, queries, 4)
    assert len(got) == 70
    for query, hits in zip(queries, got, strict=True):
        scores = vectors @ query
        order = np.argsort(-scores, kind="stable")[:4]
        row = {str(i): float(v) for i, v in zip(ids, scores, strict=True)}
        same_ranking(hits, [(str(ids[i]), float(scores[i])) for i in order], row.__getitem__)
    assert engine._exact(ids, vectors, queries[:1], 500)[0][-1][0] == ids[np.argmin(vectors @ queries[0])]


# ---- exact search (no index) -----------------------------------------------------------------------------------


def test_semantic_search_without_an_index_is_exact(news, wordllama, reads):
    assert news.engine.fresh_ann() is None
    assert news.engine.ann_state() == "none (exact search; built at 50,000 items)"
    query = wordllama.encode(["bushfires burn homes near Sydney"])[0]
    reads["select"].clear()
    same_ranking(news.engine.semantic(query, 7), exact(news, query, 7))
    assert reads["select"] == [["id", "vector"]]  # the vectors of the table version, read once
    assert len(news.engine.semantic(query, 500)) == STORIES
    queries = wordllama.encode(["interest rates", "cricket test match", "Middle East violence"])
    for q, hits in zip(queries, news.engine.semantic_many(queries, 5), strict=True):
        same_ranking(hits, exact(news, q, 5))
    reads["select"].clear()
    even = news.engine.semantic(query, 6, where="doc % 2 = 0")
    assert reads["select"] == [["id", "vector"]]  # only the kept rows' ids and vectors
    same_ranking(even, exact(news, query, 6, keep=lambda i: doc(i) % 2 == 0))
    # a filter that keeps one row, or none
    assert [i for i, _ in news.engine.semantic(query, 3, where="doc = 17")] == ["lee-17"]
    assert news.engine.semantic(query, 3, where="doc > 1000") == []
    assert news.engine.semantic_many(queries, 3, where="doc > 1000") == [[], [], []]


def test_vectors_are_cached_per_table_version(news, reads):
    first = news.engine.vectors()
    assert reads["select"] == [["id", "vector"]] and reads["limit"] == [None]
    assert news.engine.vectors()[1] is first[1]
    assert news.engine.dim == 256 and first[1].shape == (STORIES, 256) and first[1].dtype == np.float32
    assert [str(i) for i in first[0]] == [f"lee-{n}" for n in range(1, STORIES + 1)]
    np.testing.assert_allclose(np.linalg.norm(first[1], axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(first[1][4], news.vector("lee-5"))
    news.add(["A new story about rain."], ids=["rain"])
    ids, vectors = news.engine.vectors()
    assert len(ids) == STORIES + 1 and "rain" in [str(i) for i in ids] and vectors.shape == (STORIES + 1, 256)
    news.engine.forget()
    assert news.engine._matrix is None
    # a table with no rows left: no ids, and no vectors of the right width and type
    news.table.delete("id IS NOT NULL")
    ids, vectors = news.engine.vectors()
    assert len(ids) == 0 and ids.dtype.kind in "UO" and vectors.shape == (0, 256) and vectors.dtype == np.float32


def test_the_table_version_is_asked_again_only_after_a_commit(news, tmp_path):
    engine_ = news.engine
    first = engine_.table_version()
    assert len(engine_.vectors()[0]) == STORIES  # cached for this version
    engine_.table = counting = Counting(engine_.table)
    for _ in range(3):
        assert engine_.table_version() == first
    assert counting.asked == 0  # nothing was committed: LanceDB is not asked again
    other = Store(news.store.path).collection("plain")  # another writer of the same table
    other.use_encoder(news.encoder)
    other.add(["A story from another writer."], ids=["other"])
    assert engine_.table_version() == int(counting._table.version) > first
    assert counting.asked == 1
    assert engine_.table_version() == int(counting._table.version) and counting.asked == 1
    assert "other" in [str(i) for i in engine_.vectors()[0]]  # the cached vectors were of the older version
    # without the `_versions` folder (another layout), LanceDB is asked every time
    engine_.versions_folder = tmp_path / "nowhere"
    before = counting.asked
    version = engine_.table_version()
    other.add(["One more story."], ids=["more"])
    assert engine_.table_version() == int(counting._table.version) > version
    assert counting.asked == before + 2
    # an engine made without the folder (its default) asks every time too
    bare = engine.SearchEngine(news.table, tmp_path / "ann")
    seen = bare.table_version()
    other.add(["A third story."], ids=["third"])
    assert bare.table_version() == int(news.table.version) > seen


def test_keyword_search_is_bm25_over_the_text_and_takes_a_filter(news, lee_records, reads):
    hits = news.engine.keyword("cricket", 5)
    assert reads["select"] == [["id", "_score"]] and reads["limit"] == [5]
    assert 0 < len(hits) <= 5
    texts = {h.id: h.text for h in news.search("cricket", k=5, mode="keyword")}
    assert [i for i, _ in hits] == list(texts)
    assert all("cricket" in texts[i].lower() for i, _ in hits)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert all(isinstance(s, float) and s > 0 for _, s in hits)
    filtered = news.engine.keyword("cricket", 5, where="doc % 2 = 1")
    assert filtered and all(doc(i) % 2 == 1 for i, _ in filtered)
    every = news.engine.keyword("cricket", 200)
    assert {i for i, _ in every} == {r.id for r in lee_records[:STORIES] if re.search(r"\bcricket\b", r.text.lower())}
    odd = [hit for hit in every if doc(hit[0]) % 2 == 1]
    # the filter applies before the top k is taken: the k best odd stories, not the odd ones among the k best
    assert [i for i, _ in news.engine.keyword("cricket", 1, where="doc % 2 = 1")] == [odd[0][0]]
    assert [i for i, _ in filtered] == [i for i, _ in odd[:5]]
    assert every[0][0] != odd[0][0]  # the best story is even: a filter applied after the top 1 would find nothing


def test_keyword_search_reads_the_text_column_even_beside_a_metadata_column_named_TEXT(store, wordllama):
    # SQL names are case-insensitive, Arrow's are not: a user's metadata may hold a "TEXT" column of its own
    shop = store.create("shop", wordllama)
    shop.add(
        ["the cricket match", "rain and hail", "a quiet day"],
        ids=["a", "b", "c"],
        metadata=[{"TEXT": "rain"}, {"TEXT": "cricket"}, {"TEXT": "cricket"}],
    )
    assert [i for i, _ in shop.engine.keyword("cricket", 5)] == ["a"]
    assert [i for i, _ in shop.engine.keyword("rain", 5)] == ["b"]


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
    assert [i for i, _ in news.engine.hybrid(query_text, query, 5, None, (0.0, 1.0))] == keyword[:5]
    odd = news.engine.hybrid(query_text, query, 8, "doc % 2 = 1")
    assert len(odd) == 8 and all(doc(i) % 2 == 1 for i, _ in odd)


def test_hybrid_asks_each_ranking_for_max_50_or_4k(news, wordllama, monkeypatch):
    asked = []
    semantic, keyword = news.engine.semantic, news.engine.keyword
    monkeypatch.setattr(
        news.engine, "semantic", lambda q, k, where=None: asked.append(("s", k, where)) or semantic(q, k, where)
    )
    monkeypatch.setattr(
        news.engine, "keyword", lambda t, k, where=None: asked.append(("k", k, where)) or keyword(t, k, where)
    )
    query = wordllama.encode(["rain"])[0]
    for k in (1, 12, 13, 30):
        news.engine.hybrid("rain", query, k, None)
    assert asked == [(m, n, None) for n in (50, 50, 52, 120) for m in ("s", "k")]


def test_check_where(news, reads):
    assert news.engine.check_where(None, []) is None
    assert news.engine.check_where("   ", []) is None
    assert reads["limit"] == []  # nothing to check: no query
    assert news.engine.check_where("doc > 3", []) == "doc > 3"
    # checking a filter reads at most one id, whatever the table's size
    assert reads["limit"] == [1] and reads["select"] == [["id"]]
    try:
        news.table.search().where("nope > 3").select(["id"]).limit(1).to_arrow()
    except Exception as exc:  # what LanceDB says about the filter, first line
        said = str(exc).splitlines()[0]
    with pytest.raises(EmbedlabError) as error:
        news.engine.check_where("nope > 3", ["doc", "words"])
    assert error.value.message == f"the filter 'nope > 3' does not work: {said}"
    assert error.value.hint == "write SQL like \"year > 2000 AND lang = 'en'\"; columns: doc, words."
    assert error.value.param == "where"
    with pytest.raises(EmbedlabError) as error:
        news.engine.check_where("nope > 3", [])
    assert error.value.hint.endswith("; columns: none.")


# ---- with the HNSW index ---------------------------------------------------------------------------------------


def test_unfiltered_search_is_answered_by_the_index(indexed, wordllama):
    """A planted index (the same graph with every row labelled with another item's id) shows which path ran."""
    index = indexed.engine.fresh_ann()
    assert index is not None and index.count == STORIES
    # while nothing is committed, the index is not checked against the table again
    indexed.engine.table = counting = Counting(indexed.engine.table)
    for _ in range(3):
        assert indexed.engine.fresh_ann() is index
    assert counting.asked == counting.counted == 0
    assert indexed.engine.ann_state() == "hnsw (hnswlib), up to date, efSearch 256"
    queries = wordllama.encode(["bushfires near Sydney", "interest rates rise"])
    truth = [[i for i, _ in exact(indexed, q, 5)] for q in queries]
    assert [[i for i, _ in hits] for hits in indexed.engine.semantic_many(queries, 5)] == truth
    planted = np.roll(index.ids, 7)
    indexed.engine._ann = AnnIndex(index.index, planted, index.table_version)
    rows = {str(i): r for r, i in enumerate(index.ids)}
    expected = [[str(planted[rows[i]]) for i in ids] for ids in truth]
    assert [[i for i, _ in hits] for hits in indexed.engine.semantic_many(queries, 5)] == expected
    assert [i for i, _ in indexed.engine.semantic(queries[0], 5)] == expected[0]
    assert [h.id for h in indexed.search(queries[1], k=5)] == expected[1]
    scores = [s for _, s in indexed.engine.semantic(queries[0], 5)]
    np.testing.assert_allclose(scores, [s for _, s in exact(indexed, queries[0], 5)], atol=1e-5)


def test_filters_through_an_index_are_exact_narrow_or_broad(indexed, wordllama, monkeypatch, reads):
    engine_ = indexed.engine
    ann = engine_.fresh_ann()
    query = wordllama.encode(["police arrest men over the attack"])[0]
    narrow = "doc <= 60"  # at most FILTER_EXACT_ROWS rows: exact over the kept rows' vectors
    copied = []
    vectors_of = ann.vectors_of
    monkeypatch.setattr(ann, "vectors_of", lambda labels: copied.append(len(labels)) or vectors_of(labels))
    hits = engine_.semantic(query, 5, narrow)
    assert reads["select"] == [["id"]]  # the ids that pass; their vectors are the index's
    same_ranking(hits, exact(indexed, query, 5, lambda i: doc(i) <= 60))
    key = next(k for k in engine_._masks if k[0] == narrow)
    mask, labels, kept = engine_._masks[key]
    assert key == (narrow, indexed.table.version, STORIES)
    assert mask.dtype == bool and mask.shape == (STORIES,) and mask.sum() == len(labels) == 60
    assert sorted(str(i) for i in ann.ids[labels]) == sorted(f"lee-{n}" for n in range(1, 61))
    assert kept is not None and kept.shape == (60, engine_.dim)
    again = engine_.semantic(query, 5, narrow)  # from the cached mask and vectors
    same_ranking(again, exact(indexed, query, 5, lambda i: doc(i) <= 60))
    assert copied == [60]  # the kept rows' vectors were copied once
    # exactly FILTER_EXACT_ROWS kept rows are still searched exactly; one more walks the graph with the mask,
    # its efSearch widened by filtered_ef for the kept share
    walks = []
    search_many = ann.search_many
    monkeypatch.setattr(
        ann,
        "search_many",
        lambda q, k, ef=None, allowed=None: walks.append((k, ef, allowed)) or search_many(q, k, ef, allowed),
    )
    monkeypatch.setattr(engine, "FILTER_EXACT_ROWS", 40)
    same_ranking(engine_.semantic(query, 5, "doc <= 40"), exact(indexed, query, 5, lambda i: doc(i) <= 40))
    assert walks == [] and copied == [60, 40]
    broad = engine_.semantic(query, 5, "doc % 3 = 0")  # 40 rows: exact
    assert walks == [] and copied == [60, 40, 40]
    same_ranking(broad, exact(indexed, query, 5, lambda i: doc(i) % 3 == 0))
    queries = wordllama.encode(["cricket", "rates", "fire"])
    for where, keep, kept_rows in (
        ("doc <= 41", lambda i: doc(i) <= 41, 41),
        ("doc % 2 = 0", lambda i: doc(i) % 2 == 0, 60),
    ):
        walks.clear()
        got = engine_.semantic_many(queries, 4, where)
        for q, hits in zip(queries, got, strict=True):
            same_ranking(hits, exact(indexed, q, 4, keep))
        assert len(walks) == 1 and walks[0][:2] == (4, engine.filtered_ef(4, kept_rows / STORIES))
        assert walks[0][1] > EF_SEARCH and walks[0][2].sum() == kept_rows
    assert copied == [60, 40, 40]  # the graph walk copies no vectors
    # only the most recent MASK_CACHE filters are kept, the least recently used dropped first
    engine_._masks.clear()
    for n in range(engine.MASK_CACHE):
        engine_.semantic(query, 1, f"doc > {n}")
    engine_.semantic(query, 1, "doc > 0")  # used again: now the most recent
    engine_.semantic(query, 1, "doc > 100")
    assert len(engine_._masks) == engine.MASK_CACHE
    assert [k[0] for k in engine_._masks] == [f"doc > {n}" for n in range(2, engine.MASK_CACHE)] + [
        "doc > 0",
        "doc > 100",
    ]
    # a write drops every cached mask (they belong to the old table version)
    indexed.add(["A story about a quiet day."], ids=["quiet"])
    assert engine_._masks == {}


def test_the_index_follows_add_upsert_and_delete(indexed, wordllama, monkeypatch, reads):
    engine_ = indexed.engine
    before = engine_.fresh_ann()
    indexed.add(["A new story about a cricket match in Perth."], ids=["new-1"])
    grown = engine_.fresh_ann()
    assert grown is before and grown.count == len(indexed) == STORIES + 1  # extended, not rebuilt
    assert indexed.search("cricket match in Perth", k=1)[0].id == "new-1"
    # upsert: a changed vector replaces the old row in place (marked deleted), still no rebuild
    indexed.add(["Heavy snow closed the ski fields near Thredbo overnight."], ids=["lee-5"])
    index = engine_.fresh_ann()
    assert index is before and index.deleted == 1 and index.count == len(indexed) == STORIES + 1
    assert engine_.ann_state() == "hnsw (hnswlib), up to date, efSearch 256"
    query = wordllama.encode(["snow closed the ski fields"])[0]
    top = indexed.search(query, k=1)[0]
    assert top.id == "lee-5" and top.score == pytest.approx(exact(indexed, query, 1)[0][1], abs=1e-5)
    # saved and loaded again: the same state
    reopened = Store(indexed.store.path).collection("indexed")
    loaded = reopened.engine.fresh_ann()
    assert loaded is not None and loaded.deleted == 1 and loaded.count == len(reopened)
    assert reopened.search(query, k=1)[0].id == "lee-5"
    # a delete outside an ingest makes the index stale: never used, exact search answers
    indexed.table.delete("id = 'lee-7'")
    assert engine_.fresh_ann() is None
    hits = engine_.semantic(query, 10)
    assert hits == exact(indexed, query, 10) and "lee-7" not in {i for i, _ in hits}
    # the next ingest rebuilds it from the table, read in batches of BUILD_BATCH rows, with the tuned efSearch
    # kept, and lets the old graph go before building the new one
    folder = indexed.store.side("indexed") / "ann"
    meta = json.loads((folder / "index.json").read_text())
    (folder / "index.json").write_text(json.dumps(meta | {"ef_search": 48}))
    monkeypatch.setattr(engine, "BUILD_BATCH", 16)
    batches, held = [], []
    upsert, build = AnnIndex.upsert, AnnIndex.build.__func__
    monkeypatch.setattr(
        AnnIndex, "upsert", lambda self, ids, vectors: batches.append(len(ids)) or upsert(self, ids, vectors)
    )
    monkeypatch.setattr(
        AnnIndex, "build", classmethod(lambda cls, *a, **kw: held.append(engine_._ann) or build(cls, *a, **kw))
    )
    engine_.vectors()
    build_ann = engine_.build_ann
    monkeypatch.setattr(engine_, "build_ann", lambda: reads["select"].clear() or build_ann())
    indexed.add(["One more story after the delete."], ids=["new-2"])
    assert reads["select"] == [["id", "vector"]]  # the rebuild reads the ids and vectors, nothing else
    rebuilt = engine_.fresh_ann()
    assert held == [None]
    assert rebuilt is not None and rebuilt is not before and rebuilt.deleted == 0
    assert rebuilt.count == len(indexed) == STORIES + 1 and rebuilt.ef_search == 48
    assert max(batches) == 16 and sum(batches) == STORIES + 1
    assert sorted(str(i) for i in rebuilt.ids) == sorted(str(i) for i in engine_.vectors()[0])
    assert engine_.ann_state() == "hnsw (hnswlib), up to date, efSearch 48"
    assert [i for i, _ in engine_.semantic(query, 10)] == [i for i, _ in exact(indexed, query, 10)]


def test_build_ann_makes_an_index_of_the_whole_table_at_its_version(indexed, wordllama):
    indexed.table.delete("id = 'lee-3'")  # a version the saved index does not hold
    built = indexed.engine.build_ann()
    assert built.matches(indexed.table.version, STORIES - 1) and built.deleted == 0
    assert sorted(str(i) for i in built.ids) == sorted(f"lee-{n}" for n in range(1, STORIES + 1) if n != 3)
    ids, vectors = indexed.vectors()
    row = {str(i): n for n, i in enumerate(ids)}
    stored = vectors[[row[str(i)] for i in built.ids]]  # each label's vector is its item's
    np.testing.assert_allclose(built.vectors_of(np.arange(len(built.ids))), stored, atol=1e-6)
    query = wordllama.encode(["bushfires near Sydney"])[0]
    found, scores = built.search(query, 5)
    assert [str(i) for i in found] == [i for i, _ in exact(indexed, query, 5)]


def test_an_index_saved_by_another_writer_is_loaded(indexed, wordllama):
    engine_ = indexed.engine
    first = engine_.fresh_ann()
    assert engine_.fresh_ann() is first  # not read again while nothing changed
    other = Store(indexed.store.path).collection("indexed")
    other.use_encoder(wordllama)
    meta = (indexed.store.side("indexed") / "ann" / "index.json").stat()
    other.add(["Penguins waddled across the frozen harbour at dawn."], ids=["lee-11"])
    # on a file system with coarse timestamps the new index.json may keep the old mtime: its inode differs
    os.utime(indexed.store.side("indexed") / "ann" / "index.json", ns=(meta.st_atime_ns, meta.st_mtime_ns))
    loaded = engine_.fresh_ann()
    assert loaded is not None and loaded is not first and loaded.deleted == 1
    assert loaded.table_version == engine_.table_version() == indexed.table.version
    assert engine_.ann_state() == "hnsw (hnswlib), up to date, efSearch 256"
    query = wordllama.encode(["penguins on a frozen harbour"])[0]
    new_vector = wordllama.encode(["Penguins waddled across the frozen harbour at dawn."])[0]
    top = indexed.search(query, k=1)[0]
    assert top.id == "lee-11" and top.score == pytest.approx(float(new_vector @ query), abs=1e-5)


def test_the_index_exists_from_the_threshold_on(store, wordllama, lee_records, monkeypatch):
    monkeypatch.setenv(THRESHOLD_ENV, "30")
    small = store.create("small", wordllama)
    small.add_records(lambda: iter(lee_records[:29]), 29)
    folder = store.side("small") / "ann"
    assert small.engine.fresh_ann() is None and not folder.exists()
    assert small.engine.ann_state() == "none (exact search; built at 30 items)"
    small.add_records(lambda: iter(lee_records[29:30]), 1)  # exactly the threshold
    index = small.engine.fresh_ann()
    assert index is not None and index.count == 30 and folder.is_dir()
    # below the threshold again (a delete, then a write): the index is removed, exact search answers
    small.table.delete("id IN ('lee-1', 'lee-2')")
    small.add(["A short story."], ids=["short"])
    assert len(small) == 29 and not folder.exists() and small.engine.fresh_ann() is None
    assert small.engine.ann_state() == "none (exact search; built at 30 items)"
    query = wordllama.encode(["a short story"])[0]
    assert small.engine.semantic(query, 5) == exact(small, query, 5)


def test_the_state_line_says_why_no_index_is_used(indexed):
    folder = indexed.store.side("indexed") / "ann"
    version = indexed.table.version
    assert indexed.engine.ann_state() == "hnsw (hnswlib), up to date, efSearch 256"
    # a write that did not update the index (another tool, a crash before the index was saved)
    indexed.table.delete("id = 'lee-1'")
    assert indexed.engine.ann_state() == (
        f"stale (holds {STORIES} items of table version {version}; the table has {STORIES - 1} at version "
        f"{indexed.table.version}); exact search until the next write rebuilds it"
    )
    assert indexed.table.version != version
    # the graph cannot be read though index.json matches the table
    meta = json.loads((folder / "index.json").read_text())
    (folder / "index.json").write_text(
        json.dumps(meta | {"table_version": indexed.table.version, "count": STORIES - 1})
    )
    (folder / "hnsw.bin").write_bytes(b"not an index")
    assert (
        indexed.engine.ann_state()
        == f"damaged: {folder} cannot be loaded; exact search until the next write rebuilds it"
    )
    (folder / "index.json").write_text("{not json")
    damaged = recorded(folder)
    assert isinstance(damaged, str) and "index.json is damaged" in damaged
    assert indexed.engine.ann_state() == f"damaged: {damaged}; exact search until the next write rebuilds it"


def test_tune_ann_tunes_the_fresh_index_with_the_callers_settings_and_saves_it(indexed, news, wordllama, monkeypatch):
    queries = wordllama.encode(["bushfires near Sydney", "cricket test", "interest rates", "Middle East talks"])
    assert news.engine.tune_ann(queries, 0.9, 5) is None  # no index: exact search, nothing to tune
    engine_ = indexed.engine
    ann = engine_.fresh_ann()
    asked = []
    tune = ann.tune
    monkeypatch.setattr(ann, "tune", lambda q, target, k: asked.append((q, target, k)) or tune(q, target, k))
    recalls = engine_.tune_ann(queries, 0.5, 5)
    assert len(asked) == 1 and asked[0][0] is queries and asked[0][1:] == (0.5, 5)
    # 120 items: efSearch 32, the smallest choice, already finds the 5 best of every query
    assert recalls == {EF_CHOICES[0]: 1.0} and ann.ef_search == EF_CHOICES[0]
    assert engine.tuned_ef(indexed.store.side("indexed") / "ann") == EF_CHOICES[0]
    assert engine_.fresh_ann() is ann  # the saved index is the one in memory: not read again
    assert Store(indexed.store.path).collection("indexed").engine.fresh_ann().ef_search == EF_CHOICES[0]
    assert engine_.ann_state() == f"hnsw (hnswlib), up to date, efSearch {EF_CHOICES[0]}"


def test_search_many_equals_looping_search(indexed, wordllama, lee_records):
    texts = [" ".join(r.text.split()[:5]) for r in lee_records[:STORIES:23]]
    for mode, where in (("semantic", None), ("semantic", "doc < 80"), ("keyword", None), ("hybrid", "doc < 90")):
        many = indexed.search_many(texts, k=7, mode=mode, where=where)
        looped = [indexed.search(t, k=7, mode=mode, where=where) for t in texts]
        assert [[r.id for r in rs] for rs in many] == [[r.id for r in rs] for rs in looped]
        assert [r.score for rs in many for r in rs] == pytest.approx([r.score for rs in looped for r in rs], abs=1e-5)
        assert mode == "keyword" or all(len(rs) == 7 for rs in many)
