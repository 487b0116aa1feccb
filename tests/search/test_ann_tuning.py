"""efSearch tuned per index from real queries (`AnnIndex.tune`, `Collection.tune_search`), checked against
exact search on real vectors (wordllama, Lee corpus sentences) and on a hard set (the same sentences
drowned in noise: a high intrinsic dimension)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from embedlab.errors import EmbedlabError, UnsupportedInputError
from embedlab.search.ann import EF_CHOICES, EF_SEARCH, AnnIndex
from embedlab.store import Record


@pytest.fixture(scope="module")
def sentences(lee_records):
    texts = []
    for record in lee_records:
        texts += [s for s in re.split(r"(?<=[.!?])\s+", record.text) if len(s.split()) > 4]
    return list(dict.fromkeys(texts))


@pytest.fixture(scope="module")
def sentence_vectors(sentences, wordllama):
    return wordllama.encode(sentences, normalize=True).astype(np.float32)


def build(vectors: np.ndarray) -> AnnIndex:
    ids = np.array([f"v{i}" for i in range(len(vectors))])
    return AnnIndex.build([(ids, vectors)], vectors.shape[1], len(vectors), table_version=1)


def recall_at(index: AnnIndex, vectors: np.ndarray, queries: np.ndarray, ef: int, k: int = 10) -> float:
    """recall@k by brute force: a found row is a hit when its score reaches the k-th exact score."""
    kth = np.sort(queries @ vectors.T, axis=1)[:, -k][:, None]
    found_ids, _ = index.search_many(queries, k, ef=ef)
    scores = np.stack([vectors[[int(i[1:]) for i in row]] @ q for row, q in zip(found_ids, queries, strict=True)])
    return float(np.mean(scores >= kth - 1e-5))


def hard(vectors: np.ndarray, n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noisy = vectors[rng.integers(0, len(vectors), n)] + rng.normal(0, 0.1, (n, vectors.shape[1]))
    return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


def test_tune_picks_the_smallest_ef_that_reaches_the_target(sentence_vectors):
    tuning, later, base = sentence_vectors[:150], sentence_vectors[150:300], sentence_vectors[300:]
    index = build(base)
    assert index.ef_search == EF_SEARCH
    recalls = index.tune(tuning, target=0.99)
    tried = list(recalls)
    assert tried == list(EF_CHOICES[: len(tried)]) and index.ef_search == tried[-1] < EF_SEARCH
    for ef in tried:  # each reported recall is the truth, recomputed by brute force
        assert recalls[ef] == pytest.approx(recall_at(index, base, tuning, ef), abs=1e-3)
    assert recalls[tried[-1]] >= 0.99 and all(recalls[ef] < 0.99 for ef in tried[:-1])
    assert recall_at(index, base, later, index.ef_search) >= 0.97  # queries it was not tuned on
    assert index.search_many(later[:1], 10)[0][0].shape == (10,)  # searches use the tuned value


def test_hard_data_needs_a_wider_search_than_distinct_texts(sentence_vectors):
    easy = build(sentence_vectors[100:])
    easy.tune(sentence_vectors[:100])
    vectors = hard(sentence_vectors, 20_000)
    difficult = build(vectors)
    recalls = difficult.tune(hard(sentence_vectors, 100, seed=7))
    assert difficult.ef_search >= 4 * easy.ef_search
    assert recalls[EF_CHOICES[0]] < 0.99 <= recalls[difficult.ef_search]
    assert recall_at(difficult, vectors, hard(sentence_vectors, 100, seed=8), difficult.ef_search) >= 0.97


def test_an_unreachable_target_keeps_the_largest_ef(sentence_vectors):
    index = build(hard(sentence_vectors, 5_000))
    recalls = index.tune(hard(sentence_vectors, 50, seed=3), target=1.01)
    assert list(recalls) == list(EF_CHOICES) and index.ef_search == EF_CHOICES[-1]


def test_the_tuned_ef_is_saved_and_loaded(tmp_path, sentence_vectors):
    index = build(sentence_vectors[100:1100])
    index.tune(sentence_vectors[:100])
    index.save(tmp_path / "ann")
    assert AnnIndex.load(tmp_path / "ann").ef_search == index.ef_search
    meta = json.loads((tmp_path / "ann" / "index.json").read_text())
    meta.pop("ef_search")  # an index written before tuning existed
    (tmp_path / "ann" / "index.json").write_text(json.dumps(meta))
    assert AnnIndex.load(tmp_path / "ann").ef_search == EF_SEARCH
    meta["ef_search"] = 10**9  # damaged
    (tmp_path / "ann" / "index.json").write_text(json.dumps(meta))
    assert AnnIndex.load(tmp_path / "ann") is None


def test_a_collection_tunes_its_search_and_keeps_it(store, wordllama, sentences, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_ANN_THRESHOLD", "200")
    collection = store.create("sentences", wordllama)
    records = [Record(f"s-{i}", text, i, {}) for i, text in enumerate(sentences[200:1200])]
    collection.add_records(lambda: iter(records), len(records))
    tuned = collection.tune_search(sentences[:200], target_recall=0.99)
    assert tuned["queries"] == 200 and tuned["ef_search"] < EF_SEARCH
    assert tuned["recall"][tuned["ef_search"]] >= 0.99
    assert f"efSearch {tuned['ef_search']}" in collection.info()["ann_index"]
    more = [Record(f"s-{i}", text, i, {}) for i, text in enumerate(sentences[1200:1500], start=1200)]
    collection.add_records(lambda: iter(more), len(more))  # the index is extended
    assert collection.engine.fresh_ann().ef_search == tuned["ef_search"]
    collection.engine.update_ann(None)  # rebuilt from the table
    assert collection.engine.fresh_ann().ef_search == tuned["ef_search"]
    reopened = type(store)(store.path).collection("sentences")
    assert reopened.engine.fresh_ann().ef_search == tuned["ef_search"]
    with pytest.raises(EmbedlabError, match="target_recall"):
        collection.tune_search(sentences[:5], target_recall=1.5)
    with pytest.raises(EmbedlabError, match="queries"):
        collection.tune_search([])


def test_a_small_collection_has_nothing_to_tune(store, wordllama, sentences):
    collection = store.create("small", wordllama)
    collection.add(sentences[:50])
    with pytest.raises(UnsupportedInputError, match="searched exactly"):
        collection.tune_search(sentences[50:60])


def test_tune_search_takes_query_vectors_and_refuses_a_wrong_shape(store, wordllama, sentences, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_ANN_THRESHOLD", "200")
    collection = store.create("vectors", wordllama)
    collection.add(sentences[100:600])
    queries = wordllama.encode(sentences[:100], normalize=False)  # not unit length: tune_search normalises
    tuned = collection.tune_search(queries)
    assert tuned["queries"] == 100 and tuned["recall"][tuned["ef_search"]] >= 0.99
    for bad in (queries[:, :10], queries[0], queries[:0]):
        with pytest.raises(EmbedlabError, match="quer"):
            collection.tune_search(bad)
