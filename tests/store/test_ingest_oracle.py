"""An ingest's bookkeeping (embedlab.store.ingest) against counts and vectors worked out in the test: Lee corpus
sentences with wordllama (fast, no transformer), ids that are sha1 hashes of the texts, what is skipped, counted,
re-embedded and refused."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from embedlab.errors import EmbedlabError, EmptyInputError
from embedlab.io.records import Record
from embedlab.store import ingest
from embedlab.store.ingest import Ingest


@pytest.fixture(scope="module")
def lines(lee_records) -> list[str]:
    return [r.text.split(". ")[0] for r in lee_records[:30]]


def records(texts, ids=None, metadata=None):
    def make():
        for n, text in enumerate(texts):
            yield Record(None if ids is None else ids[n], text, n + 1, dict(metadata[n]) if metadata else {})

    return make


def stored(collection) -> dict[str, np.ndarray]:
    ids, vectors = collection.vectors()
    return {str(i): v for i, v in zip(ids, vectors, strict=True)}


def test_ids_of_texts_are_sha1_prefixes_and_fingerprints_add_the_file_hash():
    assert ingest.text_id("Bushfires near Sydney.") == hashlib.sha1(b"Bushfires near Sydney.").hexdigest()[:16]
    assert ingest.text_id("é") == hashlib.sha1("é".encode()).hexdigest()[:16]
    assert ingest.fingerprint("a photo", None) == "a photo"
    assert ingest.fingerprint("a photo", "abc") == "a photo\x00abc"


def test_a_first_ingest_counts_every_kind_of_item(store, wordllama, lines):
    news = store.create("news", wordllama)
    texts = [*lines[:10], "", "   ", None, lines[3], lines[4]]
    ids = [f"n{i}" for i in range(10)] + ["e1", "e2", "e3", "n3", None]
    summary = Ingest(news, batch_size=4).run(records(texts, ids), total=len(texts))
    # n3 appears twice (in different batches of 4: the second is unchanged); None gets the text's hash as id
    assert summary.read == 15 and summary.skipped_empty == 3
    assert (summary.added, summary.updated, summary.unchanged, summary.duplicate_ids) == (11, 0, 1, 0)
    assert summary.total == 11 == len(news)
    vectors = stored(news)
    assert sorted(vectors) == sorted([f"n{i}" for i in range(10)] + [ingest.text_id(lines[4])])
    expected = wordllama.encode(lines[:10])
    for i in range(10):
        np.testing.assert_allclose(vectors[f"n{i}"], expected[i], atol=1e-6)
    assert summary.seconds > 0 and summary.as_dict()["collection"] == "news"


def test_a_duplicate_id_within_one_batch_keeps_the_last_text(store, wordllama, lines):
    news = store.create("news", wordllama)
    summary = Ingest(news, batch_size=10).run(records([lines[0], lines[1], lines[2]], ["a", "b", "a"]))
    assert summary.duplicate_ids == 1 and summary.added == 2 and summary.read == 3
    assert news.get("a").text == lines[2]
    np.testing.assert_allclose(stored(news)["a"], wordllama.encode([lines[2]])[0], atol=1e-6)


def test_a_second_ingest_updates_changed_texts_only(store, wordllama, lines, monkeypatch):
    news = store.create("news", wordllama)
    Ingest(news).run(records(lines[:6], list("abcdef")))
    seen: list[str] = []
    encode = wordllama.encode

    def spy(items, *args, **kwargs):
        seen.extend(items)
        assert kwargs["batch_size"] == ingest.ENCODE_BATCH and kwargs["normalize"] is True
        return encode(items, *args, **kwargs)

    monkeypatch.setattr(wordllama, "encode", spy)
    texts = [lines[0], lines[20], lines[2], lines[3], lines[21], lines[5], lines[22]]
    summary = Ingest(news, batch_size=3).run(records(texts, list("abcdefg")))
    assert seen == [lines[20], lines[21], lines[22]]
    assert (summary.added, summary.updated, summary.unchanged, summary.read) == (1, 2, 4, 7)
    assert summary.total == 7
    assert news.get("b").text == lines[20]
    np.testing.assert_allclose(stored(news)["e"], encode([lines[21]])[0], atol=1e-6)
    again = Ingest(news).run(records(texts, list("abcdefg")))
    assert (again.added, again.updated, again.unchanged) == (0, 0, 7) and len(seen) == 3


def test_vectors_made_elsewhere_are_stored_as_given(store, wordllama, lines):
    news = store.create("news", wordllama)
    run = Ingest(news)
    run.start()
    given = wordllama.encode([lines[7]])[0]
    run.write([Record("x", lines[0], 1), Record("y", lines[1], 2)], vectors={"x": given})
    summary = run.complete()
    assert summary.added == 2
    np.testing.assert_allclose(stored(news)["x"], given, atol=1e-7)  # not the vector of its own text
    np.testing.assert_allclose(stored(news)["y"], wordllama.encode([lines[1]])[0], atol=1e-6)


def test_metadata_becomes_columns_and_later_fields_are_ignored(store, wordllama, lines):
    news = store.create("news", wordllama)
    Ingest(news).run(records(lines[:3], list("abc"), [{"year": 2001}, {"year": 2002, "lang": "en"}, {}]))
    assert sorted(news.metadata_columns) == ["lang", "year"]
    assert news.get("b").metadata == {"year": 2002, "lang": "en"}
    assert news.get("c").metadata == {"year": None, "lang": None}
    summary = Ingest(news).run(records(lines[3:5], list("de"), [{"year": 2005, "topic": "x"}, {"mood": 1}]))
    assert summary.ignored_fields == ["mood", "topic"]
    assert news.get("d").metadata == {"year": 2005, "lang": None}


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"a.b": 1}, "metadata field 'a.b' .*cannot be a column name"),
        ({"": 1}, "metadata field '' .*cannot be a column name"),
        ({" ": 1}, "metadata field ' ' .*cannot be a column name"),
        ({"a`b": 1}, "metadata field 'a`b' .*cannot be a column name"),
        ({"text": 1}, "metadata field 'text' clashes with embedlab's own columns"),
        ({"vector": 1}, "metadata field 'vector' clashes"),
        ({"_score": 1}, "metadata field '_score' clashes"),
    ],
)
def test_metadata_names_that_cannot_be_columns_are_refused_and_nothing_is_stored(
    store, wordllama, lines, metadata, message
):
    news = store.create("news", wordllama)
    with pytest.raises(EmbedlabError, match=message):
        Ingest(news).run(records(lines[:2], ["a", "b"], [{}, metadata]))
    assert not news.exists


def test_a_metadata_field_of_two_types_is_refused_naming_the_lines(store, wordllama, lines):
    news = store.create("news", wordllama)
    with pytest.raises(EmbedlabError, match=r"metadata field 'year' has a value that is not of one type \(items 1-2\)"):
        Ingest(news).run(records(lines[:2], ["a", "b"], [{"year": 2001}, {"year": "two"}]))
    Ingest(news).run(records(lines[:1], ["a"], [{"year": 2001}]))
    with pytest.raises(EmbedlabError, match=r"metadata field 'year' has a value that is not int64 \(items 1-1\)"):
        Ingest(news).run(records(lines[1:2], ["b"], [{"year": "two"}]))


def test_empty_inputs_are_refused(store, wordllama):
    news = store.create("news", wordllama)
    with pytest.raises(EmptyInputError, match="the input has no items"):
        Ingest(news).run(records([]))
    with pytest.raises(EmptyInputError, match="all 3 items have empty text") as error:
        Ingest(news).run(records(["", " ", None]))
    assert error.value.param == "text_column"


@pytest.mark.parametrize("bad", [0, -1, 2.5, "4"])
def test_batch_size_below_one_is_refused(store, wordllama, bad):
    with pytest.raises(EmbedlabError, match="batch_size must be at least 1") as error:
        Ingest(store.create("news", wordllama), batch_size=bad)
    assert error.value.param == "batch_size"


def test_kept_line_says_what_an_interrupted_run_left(store, wordllama):
    run = Ingest(store.create("news", wordllama))
    run.kept = 8000
    assert run.kept_line() == "kept 8,000 items in collection 'news'; run the same command again to finish"
    run.total = 20000
    assert run.kept_line().startswith("kept 8,000 of 20,000 items in collection 'news'")


def test_an_interrupt_reports_the_committed_batches(store, wordllama, lines):
    news = store.create("news", wordllama)

    def stream():
        for n, text in enumerate(lines[:9]):
            if n == 7:
                raise KeyboardInterrupt
            yield Record(f"i{n}", text, n + 1)

    run = Ingest(news, batch_size=3)
    with pytest.raises(KeyboardInterrupt) as error:
        run.run(stream, total=9)
    assert run.kept == 6 and len(news) == 6
    assert error.value.kept == ("kept 6 of 9 items in collection 'news'; run the same command again to finish")


def test_a_corpus_model_is_fitted_on_the_non_empty_texts_first(store, lines):
    from sklearn.feature_extraction.text import TfidfVectorizer

    news = store.create("news", "tfidf")
    summary = Ingest(news).run(records([*lines[:12], "", None]))
    assert summary.added == 12
    vocabulary = TfidfVectorizer().fit(lines[:12]).vocabulary_
    assert news.encoder.dim == len(vocabulary)
    run = Ingest(store.create("other", "tfidf"))
    with pytest.raises(EmbedlabError, match="must be fitted before this ingest"):
        run.start()


def test_an_interrupt_after_a_commit_counts_that_batch_and_one_before_does_not(store, wordllama, lines, monkeypatch):
    news = store.create("news", wordllama)
    run = Ingest(news, batch_size=4)
    calls = []

    def interrupted_after_the_second_commit(pad):  # stands in for malloc_trim, the last step of a batch's write
        calls.append(pad)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the batch is committed; the run had not yet counted it
        return 0

    monkeypatch.setattr(ingest, "MALLOC_TRIM", interrupted_after_the_second_commit)
    with pytest.raises(KeyboardInterrupt) as error:
        run.run(records(lines[:12], [f"i{n}" for n in range(12)]), total=12)
    assert run.kept == 8 == len(news)
    assert error.value.kept.startswith("kept 8 of 12 items in collection 'news'")

    other = store.create("other", wordllama)
    Ingest(other).run(records(lines[:2], ["a", "b"]))
    encode = wordllama.encode

    def interrupted_while_embedding(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(wordllama, "encode", interrupted_while_embedding)
    run = Ingest(other, batch_size=4)
    with pytest.raises(KeyboardInterrupt) as error:
        run.run(records(lines[2:6], ["c", "d", "e", "f"]), total=4)
    monkeypatch.setattr(wordllama, "encode", encode)
    assert run.kept == 0 and len(other) == 2  # nothing of that batch was committed
    assert error.value.kept.startswith("kept 0 of 4 items")
    run.marker = -1  # an interrupt while the table was being created with the batch: kept if it now exists
    assert run._committed() is True
    run.marker = other.table.version
    assert run._committed() is False


def test_freed_memory_is_handed_back_to_the_system_on_linux():
    import sys

    trim = ingest._malloc_trim()
    if not sys.platform.startswith("linux"):
        assert trim is None
        return
    assert trim is not None and trim(0) in (0, 1)  # glibc's malloc_trim: 1 when memory was released
    assert ingest.MALLOC_TRIM is not None


def test_reembed_copies_every_item_with_the_new_models_vectors(store, wordllama, lines):
    from embedlab import load

    news = store.create("news", wordllama)
    Ingest(news).run(records(lines[:9], [f"n{i}" for i in range(9)], [{"doc": i} for i in range(9)]))
    summary = ingest.reembed(store, "news", "small", "wordllama", batch_size=4, dim=64)
    assert (summary.read, summary.added, summary.total) == (9, 9, 9)
    small = store.collection("small")
    assert small.recipe["dim"] == 64 and small.config.get("reembed_from") == "news"
    expected = load("wordllama", dim=64).encode(lines[:9])
    vectors = stored(small)
    for i in range(9):
        np.testing.assert_allclose(vectors[f"n{i}"], expected[i], atol=1e-6)
        assert small.get(f"n{i}").metadata == {"doc": i}
    assert len(store.collection("news")) == 9 and stored(news)["n0"].shape == (256,)
    with pytest.raises(EmbedlabError, match="collection 'small' already exists"):
        ingest.reembed(store, "news", "small", "wordllama")


def test_a_changed_file_hash_re_embeds_an_item_whose_text_did_not_change(store, wordllama, monkeypatch):
    # image items keep their file's hash in `file_sha256`: a new photo under the same path must be embedded again
    news = store.create("photos", wordllama)
    first = Ingest(news).run(records(["harbour.jpg", "bridge.jpg"], ["a", "b"], [{"file_sha256": "h1"}] * 2))
    assert first.added == 2
    seen: list[str] = []
    encode = wordllama.encode
    monkeypatch.setattr(wordllama, "encode", lambda items, *a, **k: seen.extend(items) or encode(items, *a, **k))
    again = Ingest(news).run(
        records(["harbour.jpg", "bridge.jpg"], ["a", "b"], [{"file_sha256": "h2"}, {"file_sha256": "h1"}])
    )
    assert (again.updated, again.unchanged, again.added) == (1, 1, 0) and seen == ["harbour.jpg"]
    assert news.get("a").metadata == {"file_sha256": "h2"}


def test_a_run_that_extends_a_fresh_index_does_not_rebuild_it(store, wordllama, lee_records, monkeypatch):
    from embedlab.search.engine import SearchEngine

    monkeypatch.setenv("EMBEDLAB_ANN_THRESHOLD", "50")
    builds = []
    build = SearchEngine.build_ann
    monkeypatch.setattr(SearchEngine, "build_ann", lambda self: builds.append(1) or build(self))
    news = store.create("news", wordllama)
    news.add_records(lambda: iter(lee_records[:60]), 60)
    assert len(builds) == 1
    # two batches committed one after the other: the index is extended with their items, not built again
    summary = Ingest(news, batch_size=5).run(lambda: iter(lee_records[60:70]), 10)
    assert summary.added == 10 and len(builds) == 1
    index = news.engine.fresh_ann()
    assert index is not None and index.count == 70
    unchanged = Ingest(news, batch_size=5).run(lambda: iter(lee_records[60:70]), 10)  # nothing written: kept
    assert unchanged.unchanged == 10 and len(builds) == 1 and news.engine.fresh_ann() is not None
    query = wordllama.encode([lee_records[65].text])[0]
    assert news.search(query, k=1)[0].id == lee_records[65].id


def test_keyword_search_sees_the_first_ingest_and_every_update(store, wordllama, lines):
    news = store.create("news", wordllama)
    Ingest(news).run(records(["Bushfires burn near Sydney.", "The bank cut rates."], ["a", "b"]))
    assert [h.id for h in news.search("bushfires", k=2, mode="keyword")] == ["a"]
    Ingest(news).run(records(["Floods hit Brisbane.", "Cricket in Perth."], ["a", "c"]))
    assert [h.id for h in news.search("floods", k=2, mode="keyword")] == ["a"]
    assert news.search("bushfires", k=2, mode="keyword") == []
    assert [h.id for h in news.search("cricket", k=2, mode="keyword")] == ["c"]
