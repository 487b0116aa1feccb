"""An ingest's bookkeeping (embedlab.store.ingest) against counts and vectors worked out in the test: Lee corpus
sentences with wordllama (fast, no transformer), ids that are sha1 hashes of the texts, what is skipped, counted,
re-embedded and refused."""

from __future__ import annotations

import hashlib

import lancedb  # noqa: F401  (imported with the module: see WORDLLAMA below)
import numpy as np
import pytest

from embedlab import load
from embedlab.datasets import lee_news
from embedlab.errors import EmbedlabError, EmptyInputError
from embedlab.io.records import Record
from embedlab.store import ingest
from embedlab.store.ingest import Ingest

# Loaded when the module is imported rather than by the session fixtures: `make mutate` runs each mutant's tests in
# a process forked from one that imported the test modules once (mutmut's fork server), so the model, the corpus
# (gensim's import) and LanceDB (whose first import takes seconds) load once for all the module's mutants instead of
# once per mutant, about 6 s each on this machine.
WORDLLAMA = load("wordllama")
LEE = lee_news()
LINES = [r.text.split(". ")[0] for r in LEE[:30]]


@pytest.fixture
def wordllama():
    return WORDLLAMA


@pytest.fixture
def lee_records():
    return LEE


@pytest.fixture
def lines() -> list[str]:
    return LINES


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


def count_index_builds(monkeypatch: pytest.MonkeyPatch, threshold: int) -> list[int]:
    """Collections of more than `threshold` items get an HNSW index; each full build appends to the list returned."""
    from embedlab.search.engine import SearchEngine

    monkeypatch.setenv("EMBEDLAB_ANN_THRESHOLD", str(threshold))
    builds: list[int] = []
    build = SearchEngine.build_ann
    monkeypatch.setattr(SearchEngine, "build_ann", lambda self: builds.append(1) or build(self))
    return builds


def test_a_run_that_extends_a_fresh_index_does_not_rebuild_it(store, wordllama, lee_records, monkeypatch):
    builds = count_index_builds(monkeypatch, threshold=50)
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


def interrupt_second_commit(patch: pytest.MonkeyPatch) -> None:
    """Ctrl-C (KeyboardInterrupt) at the second commit of every run: its first batch is stored, the rest not."""
    real = Ingest._commit

    def dies_on_the_second(self, *args):
        if self.commits:
            raise KeyboardInterrupt
        return real(self, *args)

    patch.setattr(Ingest, "_commit", dies_on_the_second)


def test_an_interrupted_reembed_stays_invisible_and_resumes_with_the_items_it_kept(
    store, wordllama, lines, monkeypatch
):
    news = store.create("news", wordllama)
    Ingest(news).run(records(lines[:9], [f"n{i}" for i in range(9)]))
    real = Ingest._commit
    calls = []

    def dies_on_the_third(self, *args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, *args)

    monkeypatch.setattr(Ingest, "_commit", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt) as caught:
        ingest.reembed(store, "news", "copy", "wordllama", batch_size=4, dim=64)
    assert caught.value.kept == (
        "kept 8 of 9 items in the unfinished collection 'copy' (it appears only when complete); "
        "run the same command again to finish"
    )
    monkeypatch.setattr(Ingest, "_commit", real)
    assert "copy" not in store.names() and "unfinished" in store.problems()["copy"]
    seen: list[str] = []
    encode = type(news.encoder).encode
    monkeypatch.setattr(
        type(news.encoder), "encode", lambda self, items, *a, **k: seen.extend(items) or encode(self, items, *a, **k)
    )
    summary = ingest.reembed(store, "news", "copy", "wordllama", batch_size=4, dim=64)  # resumes: 8 already there
    assert (summary.read, summary.unchanged, summary.added, summary.total) == (9, 8, 1, 9)
    assert seen == [lines[8]]
    copy = store.collection("copy")
    assert store.names() == ["copy", "news"] and store.problems() == {} and copy.config.get("reembed_from") == "news"
    expected = load("wordllama", dim=64).encode(lines[:9])
    vectors = stored(copy)
    for i in range(9):
        np.testing.assert_allclose(vectors[f"n{i}"], expected[i], atol=1e-6)


def index_vectors(collection) -> dict[str, np.ndarray]:
    """id -> vector as the saved HNSW index holds it (read back from disk, as a later process would)."""
    from embedlab.search.ann import AnnIndex

    index = AnnIndex.load(collection.engine.ann_folder)
    assert index is not None
    labels = index.labels
    vectors = index.vectors_of(np.array(list(labels.values())))
    return {i: vectors[n] for n, i in enumerate(labels)}


def test_the_progress_bar_counts_items_or_what_the_source_says_it_read(store, wordllama, lines, monkeypatch, capsys):
    from tqdm.auto import tqdm

    history: list[int] = []

    class Recording(tqdm):
        def update(self, n=1):
            done = super().update(n)
            history.append(self.n)
            return done

    monkeypatch.setattr(ingest, "tqdm", Recording)
    news = store.create("news", wordllama)
    Ingest(news, batch_size=1, show_progress=True).run(records(lines[:3], list("abc")), total=3)
    assert history == [1, 2, 3]
    err = capsys.readouterr().err
    assert "indexing news: 100%" in err and "3/3" in err and "item/s" in err

    class Source:  # like a folder of images that skips bad files: `consumed` says how many inputs it has read
        inputs = ["bad", lines[3], lines[4], "bad", lines[5], "bad"]

        def __init__(self):
            self.read = 0

        def __call__(self):
            self.read = 0
            for n, text in enumerate(self.inputs):
                self.read += 1
                if text != "bad":
                    yield Record(f"s{n}", text, n + 1)

        def consumed(self) -> int:
            return self.read

    history.clear()
    summary = Ingest(news, batch_size=1, show_progress=True).run(Source(), total=6)
    assert summary.added == 3 and history == [2, 3, 5, 6]  # after each batch, then the bad file at the end
    assert "6/6" in capsys.readouterr().err
    Ingest(news).run(records(lines[6:8], list("gh")))  # no progress bar unless asked for
    assert capsys.readouterr().err == ""


def test_ids_duplicates_and_the_encoders_counts(store, wordllama, lines, monkeypatch):
    news = store.create("news", wordllama)
    texts = [lines[0], lines[1], lines[2], lines[3], lines[4]]
    summary = Ingest(news).run(records(texts, ["a", "", "a", "a", "b"]))
    # "" is no id: the item gets its text's hash; "a" three times in one batch: the last one is kept
    assert summary.duplicate_ids == 2 and summary.added == 3 and len(news) == 3
    assert news.get(ingest.text_id(lines[1])).text == lines[1] and news.get("a").text == lines[3]
    assert (summary.long_texts, summary.texts_without_known_words) == (0, 0)  # wordllama reports neither

    stats = iter([{"long_texts": 2, "texts_without_known_words": 1}, {"long_texts": 1, "texts_without_known_words": 3}])
    encode = wordllama.encode

    def reporting(items, *args, **kwargs):  # an encoder that truncates long texts and knows few words says so
        vectors = encode(items, *args, **kwargs)
        wordllama.last_stats = next(stats)
        return vectors

    monkeypatch.setattr(wordllama, "encode", reporting)
    summary = Ingest(news, batch_size=2).run(records(lines[5:9]))
    assert (summary.long_texts, summary.texts_without_known_words) == (3, 4)  # summed over the two batches


def test_image_items_are_refused_by_a_text_model_and_nothing_is_stored(store, wordllama, lines, tmp_path):
    from embedlab.errors import UnsupportedInputError

    news = store.create("news", wordllama)
    photo = Record("p", "harbour.jpg", 1, {}, tmp_path / "harbour.jpg")
    with pytest.raises(UnsupportedInputError) as error:
        Ingest(news).run(lambda: iter([Record("t", lines[0], 1), photo]))
    assert str(error.value) == (
        "model wordllama embeds text only, and these items are images.\n"
        "  hint: use a model that embeds images: clip:PATH (texts and images) or image:PATH (ResNet, ViT ...)."
    )
    assert error.value.param == "model" and not news.exists


def test_the_errors_of_empty_inputs_and_unfitted_models_say_what_to_do(store, wordllama):
    news = store.create("news", wordllama)
    with pytest.raises(EmptyInputError) as error:
        Ingest(news).run(records([]))
    assert str(error.value) == "the input has no items.\n  hint: give a file or list with at least one text."
    with pytest.raises(EmptyInputError) as error:
        Ingest(news).run(records([None]))
    assert str(error.value) == (
        "all 1 items have empty text; nothing to index.\n"
        "  hint: check that text_column names the column that holds the text."
    )
    with pytest.raises(EmbedlabError) as error:
        Ingest(store.create("other", "tfidf")).start()
    assert str(error.value) == "model tfidf must be fitted before this ingest." and error.value.param == "model"


def test_seconds_are_the_runs_time_in_milliseconds(store, wordllama, lines, monkeypatch):
    import types

    clock = iter([100.0, 100.25, 101.2344])  # __init__, start, complete

    monkeypatch.setattr(ingest, "time", types.SimpleNamespace(perf_counter=lambda: next(clock)))
    summary = Ingest(store.create("news", wordllama)).run(records(lines[:2]))
    assert summary.seconds == 0.984


def test_a_fitted_corpus_model_is_saved_with_the_collection(store, lines):
    from embedlab.store import Store

    news = store.create("news", "tfidf")
    Ingest(news).run(records(lines[:12], [f"n{i}" for i in range(12)]))
    reopened = Store(store.path).collection("news")  # as another process opens it
    np.testing.assert_allclose(reopened.encoder.encode(lines[:3]), news.encoder.encode(lines[:3]), atol=1e-6)
    assert reopened.search(lines[4], k=1)[0].id == "n4"


def test_the_recipe_records_when_and_with_which_version_the_collection_was_created(store, wordllama, lines):
    from datetime import datetime, timedelta, timezone

    import embedlab

    before = datetime.now(timezone.utc).replace(microsecond=0)
    Ingest(store.create("news", wordllama)).run(records(lines[:2]))
    after = datetime.now(timezone.utc)
    config = store.read_config("news")
    created = datetime.fromisoformat(config["created"])
    assert config["created"] == created.isoformat(timespec="seconds") and created.utcoffset() == timedelta(0)
    assert before <= created <= after
    assert config["embedlab_version"] == embedlab.__version__
    assert config["recipe"] == {**wordllama.recipe, "normalize": True}


def test_an_interrupt_during_or_right_after_a_commit(store, wordllama, lines, monkeypatch):
    from embedlab.search.engine import SearchEngine
    from embedlab.store.collection import Collection

    news = store.create("news", wordllama)

    def interrupted_after_the_first_commit(pad):  # the first commit creates the table
        raise KeyboardInterrupt

    monkeypatch.setattr(ingest, "MALLOC_TRIM", interrupted_after_the_first_commit)
    run = Ingest(news, batch_size=4)
    with pytest.raises(KeyboardInterrupt):
        run.run(records(lines[:8], [f"i{n}" for n in range(8)]), total=8)
    assert run.kept == 4 == len(news)
    monkeypatch.setattr(ingest, "MALLOC_TRIM", None)

    def interrupted_before_the_commit(self):  # called just before the first upsert into an existing table
        raise KeyboardInterrupt

    monkeypatch.setattr(SearchEngine, "fresh_ann", interrupted_before_the_commit)
    run = Ingest(news, batch_size=4)
    with pytest.raises(KeyboardInterrupt) as error:
        run.run(records(lines[:8], [f"i{n}" for n in range(8)]), total=8)
    assert run.kept == 4 and len(news) == 4  # the unchanged first batch, not the interrupted one
    assert error.value.kept.startswith("kept 4 of 8 items")
    monkeypatch.undo()

    # a batch that was creating the table when the interrupt came, but the table never appeared: not kept
    run = Ingest(store.create("other", wordllama))
    run.marker = -1
    assert run._committed() is False
    # and when the check itself fails, the batch is not counted either
    run = Ingest(news)
    run.marker = 0

    def unreadable(self):
        raise OSError("the table cannot be read")

    monkeypatch.setattr(Collection, "table", property(unreadable))
    assert run._committed() is False


def test_metadata_errors_name_the_field_the_lines_and_the_fix(store, wordllama, lines):
    news = store.create("news", wordllama)
    with pytest.raises(EmbedlabError) as error:
        Ingest(news).run(records(lines[:3], list("abc"), [{}, {"a.b": 1}, {}]))
    assert str(error.value) == (
        "metadata field 'a.b' (item at line 1 or after) cannot be a column name: LanceDB refuses empty names and "
        "names with '.' or '`'.\n  hint: rename that field (column header or JSON key) in the input, e.g. 'a.b' to "
        "'a_b'; nothing was stored."
    )
    with pytest.raises(EmbedlabError, match="metadata field 5 .*cannot be a column name"):
        Ingest(news).run(records(lines[:1], ["a"], [{5: 1}]))
    with pytest.raises(EmbedlabError) as error:
        Ingest(news).run(records(lines[:1], ["a"], [{"id": 1}]))
    assert str(error.value) == (
        "metadata field 'id' clashes with embedlab's own columns (id, text, vector, _*).\n"
        "  hint: rename that field in the input, or pick it as id_column or text_column."
    )
    assert error.value.param == "id_column"
    with pytest.raises(EmbedlabError) as error:
        Ingest(news).run(records(lines[:3], list("abc"), [{"year": 1}, {"year": 2}, {"year": "three"}]))
    assert str(error.value).startswith("metadata field 'year' has a value that is not of one type (items 1-3): ")
    assert str(error.value).endswith("\n  hint: make every value of a field the same type.")
    assert not news.exists


def test_a_field_that_is_empty_at_first_becomes_text_and_an_existing_collection_ignores_odd_names(
    store, wordllama, lines
):
    news = store.create("news", wordllama)
    Ingest(news).run(records(lines[:2], ["a", "b"], [{"note": None}, {"note": None}]))
    summary = Ingest(news).run(records(lines[2:4], ["c", "d"], [{"note": "kept", "a.b": 1}, {"note": None}]))
    assert summary.ignored_fields == ["a.b"] and summary.added == 2
    assert news.get("c").metadata == {"note": "kept"} and news.get("a").metadata == {"note": None}


def test_the_index_holds_the_tables_vectors_after_interleaved_writers(store, wordllama, lines, monkeypatch):
    builds = count_index_builds(monkeypatch, threshold=5)
    news = store.create("news", wordllama)
    Ingest(news).run(records(lines[:6], [f"n{i}" for i in range(6)]))
    assert len(builds) == 1
    # five commits one after the other: each extends the index, none rebuilds it
    summary = Ingest(news, batch_size=2).run(records(lines[6:16], [f"n{i}" for i in range(6, 16)]))
    assert summary.added == 10 and len(builds) == 1
    expected = dict(zip([f"n{i}" for i in range(16)], wordllama.encode(lines[:16]), strict=True))
    held = index_vectors(news)
    assert sorted(held) == sorted(expected)
    for key, vector in expected.items():
        np.testing.assert_allclose(held[key], vector, atol=1e-5)

    def other_writer(text):  # another process updates n0 (same row count, new vector)
        Ingest(store.collection("news")).run(records([text], ["n0"]))

    # between this run's commits, and after its last one: its own index is stale, so it is rebuilt
    for between in (True, False):
        text = lines[20] if between else lines[21]
        run = Ingest(news, batch_size=2)
        run.start()
        run.write([Record("n1", lines[22 + between], 1)])
        if between:
            other_writer(text)
        run.write([Record("n2", lines[24 + between], 2)])
        if not between:
            other_writer(text)
        run.complete()
        expected.update(n0=wordllama.encode([text])[0], n1=wordllama.encode([lines[22 + between]])[0])
        expected["n2"] = wordllama.encode([lines[24 + between]])[0]
        held = index_vectors(news)
        for key, vector in expected.items():
            np.testing.assert_allclose(held[key], vector, atol=1e-5)


def test_reembed_refuses_a_complete_target_and_starts_over_for_another_model(store, wordllama, lines, capsys):
    news = store.create("news", wordllama)
    Ingest(news).run(records(lines[:5], [f"n{i}" for i in range(5)]))
    capsys.readouterr()
    summary = ingest.reembed(store, "news", "copy", "wordllama", show_progress=True, dim=64)
    err = capsys.readouterr().err
    assert summary.added == 5 and "indexing copy: 100%" in err and "5/5" in err
    with pytest.raises(EmbedlabError) as error:
        ingest.reembed(store, "news", "copy", "wordllama")
    assert str(error.value) == "collection 'copy' already exists.\n  hint: pick a new name, or drop it first."
    assert error.value.param == "target"

    with pytest.MonkeyPatch.context() as patch:
        interrupt_second_commit(patch)
        with pytest.raises(KeyboardInterrupt):
            ingest.reembed(store, "news", "other", "wordllama", batch_size=2, dim=64)
    # run again with another model (128-d): the 64-d items kept are not reused, all five are embedded anew
    summary = ingest.reembed(store, "news", "other", "wordllama", batch_size=2, dim=128)
    assert (summary.added, summary.unchanged, summary.total) == (5, 0, 5)
    expected = load("wordllama", dim=128).encode(lines[:5])
    vectors = stored(store.collection("other"))
    for i in range(5):
        np.testing.assert_allclose(vectors[f"n{i}"], expected[i], atol=1e-6)
    assert capsys.readouterr().err == ""  # no progress bar unless asked for


def test_reembed_uses_minilm_unless_told(store, wordllama, lines, monkeypatch):
    Ingest(store.create("news", wordllama)).run(records(lines[:2]))
    asked = []

    def create(name, model="minilm", **options):  # stands in for loading minilm, which this test does not need
        asked.append((name, model, options))
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "create", create)
    with pytest.raises(KeyboardInterrupt):
        ingest.reembed(store, "news", "copy")
    assert asked == [("copy", "minilm", {})]


def test_malloc_trim_is_found_where_find_library_finds_nothing(monkeypatch):
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("glibc only")
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)  # no ldconfig, no compiler: a slim image
    trim = ingest._malloc_trim()
    assert trim is not None and trim(0) in (0, 1)


def test_an_interrupt_while_a_batch_is_being_committed_does_not_count_it(store, wordllama, lines, monkeypatch):
    scratch = store.create("scratch", wordllama)
    Ingest(scratch).run(records(lines[:1]))

    def interrupted(self, on):  # Ctrl-C while LanceDB writes the second batch, before its commit lands
        raise KeyboardInterrupt

    monkeypatch.setattr(type(scratch.table), "merge_insert", interrupted)
    news = store.create("news", wordllama)
    run = Ingest(news, batch_size=4)
    with pytest.raises(KeyboardInterrupt) as error:
        run.run(records(lines[:8], [f"i{n}" for n in range(8)]), total=8)
    assert run.kept == 4 == len(news) and news.table.version == 1  # only the first batch, which created the table
    assert error.value.kept.startswith("kept 4 of 8 items")


def test_each_ingest_compacts_the_table(store, wordllama, lines):
    news = store.create("news", wordllama)
    Ingest(news).run(records(lines[:4], list("abcd")))
    runs = 4
    for n in range(runs):  # each run updates one item and adds one: without compaction, each leaves new fragments
        Ingest(news).run(records([lines[10 + n], lines[20 + n]], ["a", f"new{n}"]))
    assert len(news) == 4 + runs and news.get("a").text == lines[10 + runs - 1]
    assert news.table.stats()["fragment_stats"]["num_fragments"] < runs
    assert [h.id for h in news.search(lines[20 + runs - 1], k=1, mode="keyword")] == [f"new{runs - 1}"]


def test_a_reembed_whose_unfinished_target_lost_its_table_starts_over(store, wordllama, lines):
    news = store.create("news", wordllama)
    Ingest(news).run(records(lines[:5], [f"n{i}" for i in range(5)]))
    with pytest.MonkeyPatch.context() as patch:
        interrupt_second_commit(patch)
        with pytest.raises(KeyboardInterrupt):
            ingest.reembed(store, "news", "copy", "wordllama", batch_size=2, dim=64)
    # what a crash inside the next start-over leaves (remove_leftover drops the table before the sidecar)
    store.db.drop_table("copy")
    summary = ingest.reembed(store, "news", "copy", "wordllama", batch_size=2, dim=64)
    assert (summary.added, summary.unchanged, summary.total) == (5, 0, 5) and store.problems() == {}


def test_an_interrupted_reembed_whose_count_fails_still_says_what_to_do(store, wordllama, lines):
    import shutil

    news = store.create("news", wordllama)
    Ingest(news).run(records(lines[:5], [f"n{i}" for i in range(5)]))
    real = Ingest._commit

    def dies_with_the_table_gone(self, *args):  # e.g. the disk went away under the target's table
        if self.commits:
            shutil.rmtree(store.path / "copy.lance")
            raise KeyboardInterrupt
        return real(self, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Ingest, "_commit", dies_with_the_table_gone)
        with pytest.raises(KeyboardInterrupt) as caught:
            ingest.reembed(store, "news", "copy", "wordllama", batch_size=2, dim=64)
    assert caught.value.kept == (
        "kept some items in the unfinished collection 'copy' (it appears only when complete); "
        "run the same command again to finish"
    )


def test_items_another_writer_stored_while_this_one_embedded_them_are_checked_again(
    store, wordllama, lines, monkeypatch
):
    news = store.create("news", wordllama)
    Ingest(news).run(records(lines[:2], ["a", "b"], [{"file_sha256": "h0"}] * 2))
    ours = records(lines[2:5], ["c", "d", "e"], [{"file_sha256": "h1"}, {"file_sha256": "h2"}, {"file_sha256": "h3"}])
    theirs = records(lines[2:4], ["c", "d"], [{"file_sha256": "h1"}, {"file_sha256": "h9"}])
    encode, busy = wordllama.encode, []

    def meanwhile(items, *args, **kwargs):  # while this run embeds (outside the lock), another writer commits
        if not busy:
            busy.append(1)
            Ingest(store.create("news", wordllama)).run(theirs)
        return encode(items, *args, **kwargs)

    monkeypatch.setattr(wordllama, "encode", meanwhile)
    summary = Ingest(news).run(ours)
    # c: stored meanwhile exactly as ours, left alone; d: stored with another file hash, replaced by ours; e: new
    assert (summary.unchanged, summary.updated, summary.added, summary.total) == (1, 1, 1, 5)
    assert news.get("d").metadata == {"file_sha256": "h2"} and news.get("c").metadata == {"file_sha256": "h1"}
    np.testing.assert_allclose(stored(news)["e"], encode([lines[4]])[0], atol=1e-6)


def test_an_image_item_is_embedded_from_its_file_and_a_text_item_from_its_text(store, wordllama, lines, tmp_path):
    # a stand-in for CLIP (texts and images in one space): wordllama that "sees" a file as the caption written in it
    photo = tmp_path / "harbour.png"
    photo.write_text(lines[9], encoding="utf-8")
    seen: list = []

    class Captions(type(wordllama)):
        modality = "text+image"

        def encode(self, items, *args, **kwargs):
            seen.extend(items)
            texts = [i.read_text(encoding="utf-8") if isinstance(i, type(photo)) else i for i in items]
            return super().encode(texts, *args, **kwargs)

    encoder = Captions.__new__(Captions)
    encoder.__dict__.update(wordllama.__dict__)
    news = store.create("photos", encoder)
    Ingest(news).run(lambda: iter([Record("t", lines[0], 1), Record("p", "harbour.png", 2, {}, photo)]))
    assert seen == [lines[0], photo]
    expected = wordllama.encode([lines[0], lines[9]])
    np.testing.assert_allclose(stored(news)["t"], expected[0], atol=1e-6)
    np.testing.assert_allclose(stored(news)["p"], expected[1], atol=1e-6)  # the file's, not the label's vector
    assert news.get("p").text == "harbour.png"
