"""The HNSW index (hnswlib) against exact search on real data: recall, consistency after every kind of
write, filtered search at every selectivity, and batched search. The threshold is lowered so that a
small collection (about 2,000 Lee corpus sentences, wordllama) gets an index."""

from __future__ import annotations

import re

import numpy as np
import pytest

from embedlab.search import engine as engine_module
from embedlab.search import top_k
from embedlab.store import Record, Store

SELECTIVITY = {"50%": "bucket < 500", "10%": "bucket < 100", "1%": "bucket < 10", "0.5%": "bucket < 5"}


@pytest.fixture(scope="module")
def sentences(lee_records):
    out = []
    for record in lee_records:
        out += [s for s in re.split(r"(?<=[.!?])\s+", record.text) if len(s.split()) > 4]
    return list(dict.fromkeys(out))


@pytest.fixture
def indexed(store, wordllama, sentences, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_ANN_THRESHOLD", "200")
    collection = store.create("sentences", wordllama)
    records = [Record(f"s-{i}", text, i, {"bucket": (i * 7919) % 1000}) for i, text in enumerate(sentences)]
    collection.add_records(lambda: iter(records), len(records))
    assert collection.engine.fresh_ann() is not None
    return collection


def exact_hits(collection, query, k, where=None):
    ids, vectors = collection.vectors()
    if where is not None:
        keep = {
            r["id"] for r in collection.table.search().where(where).select(["id"]).limit(None).to_arrow().to_pylist()
        }
        rows = np.array([n for n, i in enumerate(ids) if i in keep], dtype=np.int64)
        ids, vectors = ids[rows], vectors[rows]
    order, scores = top_k(vectors, query, k)
    return [(str(ids[r]), float(s)) for r, s in zip(order, scores, strict=True)]


def queries(wordllama, sentences, n=40):
    return wordllama.encode([" ".join(s.split()[:6]) for s in sentences[::47][:n]], normalize=True)


def test_recall_against_exact_search_in_the_same_run(indexed, wordllama, sentences):
    recall = []
    for query in queries(wordllama, sentences):
        approx = {i for i, _ in indexed.engine.semantic(query, 10)}
        recall.append(len(approx & {i for i, _ in exact_hits(indexed, query, 10)}) / 10)
    assert np.mean(recall) >= 0.99
    assert "hnswlib" in indexed.info()["ann_index"]


def test_index_follows_add_upsert_and_delete(indexed, wordllama, sentences):
    engine = indexed.engine
    before = engine.fresh_ann()
    indexed.add(["A new story about a cricket match in Perth."], ids=["new-1"])
    grown = engine.fresh_ann()
    assert grown is before and grown.count == len(indexed) == len(sentences) + 1  # extended, not rebuilt
    assert indexed.search("cricket match in Perth", k=1)[0].id == "new-1"
    # upsert: a changed vector replaces the old row in place (marked deleted), still no rebuild
    indexed.add(["Heavy snow closed the ski fields near Thredbo overnight."], ids=["s-5"])
    index = engine.fresh_ann()
    assert index is before and index.deleted == 1 and index.count == len(indexed)
    query = wordllama.encode(["snow closed the ski fields"], normalize=True)[0]
    top = indexed.search(query, k=1)[0]
    assert top.id == "s-5" and top.score == pytest.approx(exact_hits(indexed, query, 1)[0][1], abs=1e-5)
    # saved and loaded again: the same state
    reopened = Store(indexed.store.path).collection("sentences")
    loaded = reopened.engine.fresh_ann()
    assert loaded is not None and loaded.deleted == 1 and loaded.count == len(reopened)
    assert reopened.search(query, k=1)[0].id == "s-5"
    # a delete outside an ingest makes the index stale: never used, exact search answers
    indexed.table.delete("id = 's-7'")
    assert engine.fresh_ann() is None
    hits = engine.semantic(query, 10)
    assert hits == exact_hits(indexed, query, 10) and "s-7" not in {i for i, _ in hits}
    indexed.add(["One more story after the delete."], ids=["new-2"])  # the next ingest rebuilds it
    rebuilt = engine.fresh_ann()
    assert rebuilt is not None and rebuilt is not before and rebuilt.count == len(indexed) and rebuilt.deleted == 0


def test_a_stale_index_is_never_used(indexed, wordllama):
    """Another Collection object updates an item's text; searching the new text finds it with its new score."""
    first = indexed
    assert first.engine.fresh_ann() is not None
    other = Store(first.store.path).collection("sentences")
    other.add(["Penguins waddled across the frozen harbour at dawn."], ids=["s-11"])
    again = Store(first.store.path).collection("sentences")
    query = wordllama.encode(["penguins on a frozen harbour"], normalize=True)[0]
    new_vector = wordllama.encode(["Penguins waddled across the frozen harbour at dawn."], normalize=True)[0]
    top = again.search(query, k=1)[0]
    assert top.id == "s-11" and top.score == pytest.approx(float(new_vector @ query), abs=1e-5)
    assert top.text.startswith("Penguins")


@pytest.mark.parametrize("share", list(SELECTIVITY))
def test_filtered_ann_equals_exact_filtered_search(indexed, wordllama, sentences, share, monkeypatch):
    monkeypatch.setattr(engine_module, "FILTER_EXACT_ROWS", 50)  # so 50% and 10% walk the graph here
    where = SELECTIVITY[share]
    for query in queries(wordllama, sentences, 15):
        got = indexed.engine.semantic(query, 10, where)
        want = exact_hits(indexed, query, 10, where)
        assert [i for i, _ in got] == [i for i, _ in want]
        assert [s for _, s in got] == pytest.approx([s for _, s in want], abs=1e-5)
    rows = indexed.table.count_rows(where)
    assert indexed.search("bushfire", k=10, where=where).__len__() == min(10, rows)


def test_search_many_equals_looping_search(indexed, wordllama, sentences):
    texts = [" ".join(s.split()[:5]) for s in sentences[::97][:12]]
    for mode, where in (
        ("semantic", None),
        ("semantic", "bucket < 300"),
        ("keyword", None),
        ("hybrid", "bucket < 700"),
    ):
        many = indexed.search_many(texts, k=7, mode=mode, where=where)
        looped = [indexed.search(t, k=7, mode=mode, where=where) for t in texts]
        assert [[r.id for r in rs] for rs in many] == [[r.id for r in rs] for rs in looped]
        assert [r.score for rs in many for r in rs] == pytest.approx([r.score for rs in looped for r in rs], abs=1e-5)
        assert mode == "keyword" or all(len(rs) == 7 for rs in many)
    vectors = wordllama.encode(texts, normalize=True)
    assert [[r.id for r in rs] for rs in indexed.search_many(vectors, k=3)] == [
        [r.id for r in indexed.search(v, k=3)] for v in vectors
    ]
    assert indexed.search_many([], k=3) == []
    with pytest.raises(ValueError, match="2-D array"):
        indexed.search_many(vectors[0], k=3)
