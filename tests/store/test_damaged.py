"""Damaged sidecars, half-dropped collections, unfinished reembeds and empty results: clear errors, never a
traceback, and every other collection keeps working."""

from __future__ import annotations

import json
import shutil

import pytest

from embedlab.errors import AlreadyExistsError, DamagedError, NotFoundError
from embedlab.store import Store, reembed


@pytest.fixture
def two(store, wordllama, lee_records):
    """Two collections: `hurt` (to be damaged) and `fine`."""
    for name in ("hurt", "fine"):
        store.create(name, wordllama).add_records(lambda: iter(lee_records[:30]), 30)
    return store


DAMAGES = {
    "invalid json": b'{"model": "wordllama", ',
    "empty": b"",
    "binary": bytes(range(256)) * 4,
    "a list": b"[1, 2, 3]",
    "no model": json.dumps({"model_options": {}, "recipe": {"dim": 256}}).encode(),
    "options not an object": json.dumps({"model": "wordllama", "model_options": [], "recipe": {}}).encode(),
    "recipe null": json.dumps({"model": "wordllama", "model_options": {}, "recipe": None}).encode(),
}


@pytest.mark.parametrize("damage", list(DAMAGES), ids=list(DAMAGES))
def test_a_damaged_recipe_names_the_file_and_the_repair(two, run_cli, damage):
    path = two.side("hurt") / "collection.json"
    path.write_bytes(DAMAGES[damage])
    with pytest.raises(DamagedError) as caught:
        Store(two.path).collection("hurt")
    assert str(path) in caught.value.message and "collections drop hurt" in caught.value.hint
    assert Store(two.path).collection("fine").search("fire", k=2)  # the other one keeps working
    code, _, err = run_cli("search", "hurt", "fire", "--store", str(two.path))
    assert code == 2 and "damaged" in err and "Traceback" not in err
    code, out, err = run_cli("collections", "--json", "--store", str(two.path))
    rows = {row["name"]: row for row in json.loads(out)}
    assert code == 0 and rows["fine"]["items"] == 30 and str(path) in rows["hurt"]["problem"]
    code, _, err = run_cli("collections", "drop", "hurt", "-y", "--store", str(two.path))
    assert code == 0, err
    assert Store(two.path).names() == ["fine"] and Store(two.path).problems() == {}
    assert not Store(two.path).table_exists("hurt")


def test_a_missing_table_is_reported_and_droppable(two, run_cli):
    shutil.rmtree(two.path / "hurt.lance")
    with pytest.raises(DamagedError, match="table .* is missing"):
        Store(two.path).collection("hurt")
    assert "missing" in Store(two.path).problems()["hurt"]
    assert run_cli("collections", "drop", "hurt", "-y", "--store", str(two.path))[0] == 0
    assert Store(two.path).names() == ["fine"]


def test_a_table_without_recipe_is_listed_then_replaced_by_a_new_collection(two, wordllama, run_cli):
    shutil.rmtree(two.side("hurt"))  # what a kill in the middle of a create or a drop leaves
    store = Store(two.path)
    assert store.names() == ["fine"] and "without a recipe" in store.problems()["hurt"]
    code, out, _ = run_cli("collections", "--json", "--store", str(two.path))
    assert code == 0 and {r["name"] for r in json.loads(out)} == {"hurt", "fine"}
    store.create("hurt", wordllama).add(["a brand new first item", "and a second one"])
    assert len(Store(two.path).collection("hurt")) == 2 and store.problems() == {}


def test_an_ann_index_json_of_nothing_falls_back_to_exact_search(store, wordllama, lee_records, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_ANN_THRESHOLD", "50")
    news = store.create("news", wordllama)
    news.add_records(lambda: iter(lee_records[:80]), 80)
    assert news.engine.fresh_ann() is not None
    (store.side("news") / "ann" / "index.json").write_text("{}")
    reopened = Store(store.path).collection("news")
    state = reopened.info()["ann_index"]
    assert state.startswith("damaged:") and "index.json" in state and "next write" in state
    exact = reopened.search(lee_records[3].text[:200], k=3)
    assert exact[0].id == lee_records[3].id
    reopened.add(["one more story about cricket"])  # the next write rebuilds it
    assert reopened.engine.fresh_ann() is not None and reopened.info()["ann_index"].startswith("hnsw")


def test_a_stale_ann_index_is_not_used(store, wordllama, lee_records, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_ANN_THRESHOLD", "50")
    news = store.create("news", wordllama)
    news.add_records(lambda: iter(lee_records[:80]), 80)
    news.table.delete(f"id = '{lee_records[5].id}'")  # a change outside embedlab's ingest
    reopened = Store(store.path).collection("news")
    assert reopened.engine.fresh_ann() is None and reopened.info()["ann_index"].startswith("stale")
    assert lee_records[5].id not in [r.id for r in reopened.search(lee_records[5].text[:200], k=5)]


def test_empty_collection_and_empty_filter_give_no_results(store, wordllama, lee_records):
    news = store.create("news", wordllama)
    news.add_records(lambda: iter(lee_records[:20]), 20)
    for mode in ("semantic", "keyword", "hybrid"):
        assert news.search("fire", k=3, mode=mode, where="words < 0") == []
    news.table.delete("true")  # a collection with no rows left
    reopened = Store(store.path).collection("news")
    assert len(reopened) == 0
    for mode in ("semantic", "keyword", "hybrid"):
        assert reopened.search("fire", k=3, mode=mode) == []
    assert reopened.info()["items"] == 0


def test_an_unfinished_reembed_is_invisible_then_resumed(store, wordllama, lee_records, monkeypatch):
    store.create("news", wordllama).add_records(lambda: iter(lee_records[:60]), 60)
    from embedlab.store.ingest import Ingest

    real = Ingest._commit
    calls = []

    def dies_on_the_third(self, *args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, *args)

    monkeypatch.setattr(Ingest, "_commit", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt) as caught:
        reembed(store, "news", "copy", "wordllama", batch_size=10)
    assert "kept 20 of 60 items in the unfinished collection 'copy'" in caught.value.kept
    monkeypatch.setattr(Ingest, "_commit", real)
    assert "copy" not in store.names() and "unfinished" in store.problems()["copy"]
    with pytest.raises(NotFoundError, match="not complete"):
        store.collection("copy")
    with pytest.raises(AlreadyExistsError, match="unfinished reembed"):
        store.create("copy", wordllama).add(["x"])
    summary = reembed(store, "news", "copy", "wordllama", batch_size=10)  # resumes: 20 already there
    assert (summary.unchanged, summary.added, summary.total) == (20, 40, 60)
    assert store.names() == ["copy", "news"] and store.problems() == {}
    with pytest.raises(AlreadyExistsError, match="already exists"):
        reembed(store, "news", "copy", "wordllama")
