"""Collections on real text: upserts, recipes, filters, bad input, read-only stores."""

from __future__ import annotations

import json
import subprocess

import pytest

from embedlab import EmbedlabError
from embedlab.store import Store, reembed


@pytest.fixture
def news(store, wordllama, lee_records):
    collection = store.create("news", wordllama)
    collection.add_records(lambda: iter(lee_records[:60]), 60, batch_size=25)
    return collection


def test_ingest_counts_and_upserts_without_duplicates(store, wordllama, lee_records):
    collection = store.create("news", wordllama)
    first = collection.add_records(lambda: iter(lee_records[:40]), 40, batch_size=16)
    assert (first.read, first.added, first.total) == (40, 40, 40)
    again = store.collection("news").add_records(lambda: iter(lee_records[:50]), 50)
    assert (again.added, again.unchanged, again.total) == (10, 40, 50)
    ids = collection.table.to_arrow()["id"].to_pylist()
    assert len(ids) == len(set(ids)) == 50


def test_changed_text_updates_the_item(news):
    summary = news.add(["A completely new text for this story."], ids=["lee-1"])
    assert (summary.updated, summary.added) == (1, 0)
    assert news.get("lee-1").text == "A completely new text for this story." and len(news) == 60


def test_empty_texts_are_skipped_and_counted(store, wordllama):
    collection = store.create("c", wordllama)
    summary = collection.add(["one", "", "   ", "two"])
    assert (summary.skipped_empty, summary.added, summary.total) == (2, 2, 2)


def test_only_empty_input_writes_nothing(store, wordllama):
    with pytest.raises(EmbedlabError, match="empty text"):
        store.create("c", wordllama).add(["", " "])
    with pytest.raises(EmbedlabError, match="no items"):
        store.create("c", wordllama).add([])
    assert store.names() == []


def test_ids_default_to_a_hash_of_the_text(store, wordllama):
    collection = store.create("c", wordllama)
    collection.add(["same text", "same text", "other"])
    assert len(collection) == 2


def test_metadata_is_stored_and_filterable(news):
    results = news.search("fire", k=5, mode="keyword", where="words < 150")
    assert results and all(r.metadata["words"] < 150 for r in results)


def test_bad_filter_is_a_clear_error(news):
    with pytest.raises(EmbedlabError) as caught:
        news.search("fire", where="words >>> 3")
    assert "does not work" in caught.value.message and "doc, words" in caught.value.hint


@pytest.mark.parametrize("k", [0, -1])
def test_k_must_be_positive(news, k):
    with pytest.raises(EmbedlabError, match="positive"):
        news.search("fire", k=k)


@pytest.mark.parametrize("query", ["", "   "])
def test_empty_query(news, query):
    with pytest.raises(EmbedlabError, match="empty"):
        news.search(query)


def test_missing_collection_suggests_close_names(news, store):
    with pytest.raises(EmbedlabError, match="Did you mean: news"):
        store.collection("newz")


def test_other_model_cannot_append(news, store):
    with pytest.raises(EmbedlabError) as caught:
        store.create("news", "tfidf")
    assert "wordllama" in caught.value.message and '"encoder": "tfidf"' in caught.value.message


def test_changed_model_is_detected_on_open(news, store):
    config_path = store.side("news") / "collection.json"
    config = json.loads(config_path.read_text())
    config["recipe"]["version"] = "wordllama 0.0.1"
    config_path.write_text(json.dumps(config))
    with pytest.raises(EmbedlabError, match="changed since its vectors were made"):
        store.collection("news").search("fire")


def test_similar_excludes_the_item(news):
    results = news.similar("lee-1", k=5)
    assert len(results) == 5 and "lee-1" not in [r.id for r in results]
    with pytest.raises(EmbedlabError, match="no item with id"):
        news.similar("lee-9999")


def test_tfidf_collection_keeps_its_fitted_vocabulary(store, lee_records):
    collection = store.create("t", "tfidf")
    collection.add_records(lambda: iter(lee_records[:30]), 30)
    reopened = store.collection("t")
    assert reopened.encoder.recipe == collection.encoder.recipe
    assert reopened.search("Qantas workers", k=1, mode="semantic")
    more = store.create("t", "tfidf").add_records(lambda: iter(lee_records[30:40]), 10)
    assert more.added == 10 and len(reopened) == 40


def test_reembed_copies_items_with_another_model(news, store):
    summary = reembed(store, "news", "news-tfidf", "tfidf")
    copy = store.collection("news-tfidf")
    assert summary.added == 60 and copy.recipe["encoder"] == "tfidf"
    assert copy.get("lee-5").metadata == news.get("lee-5").metadata
    with pytest.raises(EmbedlabError, match="already exists"):
        reembed(store, "news", "news-tfidf", "tfidf")


def test_drop_removes_table_and_sidecar(news, store):
    store.drop("news")
    assert store.names() == [] and not store.side("news").exists()


def test_invalid_name(store, wordllama):
    with pytest.raises(EmbedlabError, match="not a valid collection name"):
        store.create("../evil", wordllama)


def test_read_only_store_is_refused_and_left_intact(news, store, tmp_path):
    before = len(news)
    locked = lock(store.path)
    try:
        with pytest.raises(EmbedlabError, match="not writable"):
            store.collection("news").add(["a new story"])
        assert len(Store(store.path).collection("news")) == before
        assert Store(store.path).collection("news").search("fire", k=1)
    finally:
        locked()


def lock(path):
    """Make a folder unwritable, even for root (immutable attribute); returns the undo."""
    result = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
    if result.returncode != 0:
        path.chmod(0o555)
        return lambda: path.chmod(0o755)
    return lambda: subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.mark.parametrize("options", [{"pooling": "cls"}, {"long_text": "truncate"}])
def test_an_encoder_object_is_reloaded_with_its_options(store, options):
    from embedlab import load

    collection = store.create("c", load("minilm", **options))
    collection.add(["a first text", "a second text"])
    reopened = Store(store.path).collection("c")
    assert reopened.encoder.recipe == collection.encoder.recipe  # would raise if options were lost
    assert reopened.search("first", k=1)[0].text == "a first text"


def test_a_vectors_file_collection_reopens(store):
    from embedlab.datasets import gensim_test_data

    path = gensim_test_data("lee_fasttext.vec")
    from embedlab import load

    store.create("v", load(f"vectors:{path}", weighting="sif")).add(["bushfires near sydney", "bank rates"])
    assert Store(store.path).collection("v").search("bank rates", k=1)[0].text == "bank rates"


def test_a_model_folder_given_by_relative_path_reopens_from_elsewhere(tmp_path, monkeypatch):
    import shutil

    from embedlab.encoders.transformer import bundled_minilm_path

    shutil.copytree(bundled_minilm_path(), tmp_path / "models" / "mini")
    monkeypatch.chdir(tmp_path)
    store = Store(tmp_path / "store")
    store.create("c", "models/mini", pooling="max").add(["one text", "another text"])
    monkeypatch.chdir(tmp_path / "models")
    reopened = Store(tmp_path / "store").collection("c")
    assert reopened.config["model"] == str((tmp_path / "models" / "mini").resolve())
    assert reopened.encoder.recipe["pooling"] == "max" and len(reopened.search("one", k=1)) == 1
