"""Several `embedlab` processes writing one collection at once: nothing lost, nothing duplicated.

Real processes (not threads), the small wordllama model, an ANN threshold of 100 items so the HNSW
index is built and extended while the writers race.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from embedlab.store import Store, text_id
from tests.store.conftest import ANN_THRESHOLD, cli_env, finish, start


@pytest.fixture(autouse=True)
def _small_ann_threshold(monkeypatch):
    monkeypatch.setenv("EMBEDLAB_ANN_THRESHOLD", ANN_THRESHOLD)


def check_consistent(store: Store, name: str, expected_texts: set[str]) -> None:
    """Count = distinct ids, every item findable by its own text and vector, ANN index matching the table."""
    collection = store.collection(name)
    rows = collection.table.to_arrow().select(["id", "text"]).to_pylist()
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate ids"
    assert {r["text"] for r in rows} == expected_texts
    assert set(ids) == {text_id(t) for t in expected_texts}
    ann = collection.engine.fresh_ann()
    assert ann is not None, collection.info()["ann_index"]
    assert ann.count == len(ids) and ann.table_version == collection.table.version
    assert set(ann.ids.tolist()) == set(ids)
    all_ids, vectors = collection.vectors()
    for item_id, vector in zip(all_ids, vectors, strict=True):  # every item is its own nearest neighbour
        hits = collection.engine.semantic(vector, 3)
        assert any(hit == item_id or score > 0.9999 for hit, score in hits), item_id
    for text in sorted(expected_texts)[:25]:  # and found by its exact text in unfiltered search
        assert text_id(text) in [r.id for r in collection.search(text, k=5)]


@pytest.mark.parametrize(
    ("processes", "existing", "same_file"),
    [(2, False, False), (4, False, True), (2, True, True), (4, True, False)],
    ids=["2-new-different", "4-new-same", "2-existing-same", "4-existing-different"],
)
def test_concurrent_index(tmp_path, sentences, wordllama, processes, existing, same_file):
    store_path = tmp_path / "store"
    store = Store(store_path)
    chunks = [sentences[i * 120 : (i + 1) * 120] for i in range(processes)]
    texts = [chunks[0]] * processes if same_file else chunks
    files = []
    for i, part in enumerate(texts):
        files.append(tmp_path / f"part{i}.txt")
        files[-1].write_text("\n".join(part) + "\n", encoding="utf-8")
    seed: list[str] = []
    if existing:  # an existing collection that overlaps every file by 30 items and holds 40 of its own
        seed = sentences[-40:] + [t for part in texts for t in part[:30]]
        store.create("news", wordllama).add(seed)
    runs = [
        start(store_path, "index", "news", str(f), "-m", "wordllama", "--batch-size", "15", "--json") for f in files
    ]
    results = [finish(r) for r in runs]
    for code, _, err in results:
        assert code == 0, err
    expected = set(seed) | {t for part in texts for t in part}
    check_consistent(store, "news", expected)
    summaries = [json.loads(out) for _, out, _ in results]
    # each item was added by exactly one process, whichever won the race; the others saw it unchanged
    assert sum(s["added"] for s in summaries) == len(expected) - len(set(seed))
    assert sum(s["added"] + s["unchanged"] for s in summaries) == sum(len(p) for p in texts)
    assert all(s["updated"] == 0 for s in summaries)


def test_two_reembeds_into_one_target(tmp_path, sentences, wordllama):
    store_path = tmp_path / "store"
    store = Store(store_path)
    store.create("news", wordllama).add(sentences[:300])
    runs = [start(store_path, "reembed", "news", "copy", "-m", "wordllama", "--json") for _ in range(2)]
    results = sorted(finish(r) for r in runs)
    assert [code for code, _, _ in results] == [0, 2], results
    assert "already exists" in results[1][2]
    check_consistent(store, "copy", set(sentences[:300]))


def test_a_waiting_writer_says_so_and_no_wait_fails_at_once(tmp_path, sentences, wordllama):
    store_path = tmp_path / "store"
    store = Store(store_path)
    store.create("news", wordllama).add(sentences[:20])
    corpus = tmp_path / "more.txt"
    corpus.write_text("\n".join(sentences[20:60]) + "\n", encoding="utf-8")
    log = tmp_path / "stderr.txt"
    with store.lock("news"):  # another writer holds the collection
        code, _, err = finish(start(store_path, "index", "news", str(corpus), "-m", "wordllama", "--no-wait"))
        assert code == 2 and "being written by another process" in err
        with open(log, "w") as handle:
            waiting = subprocess.Popen(
                [sys.executable, "-m", "embedlab", "index", "news", str(corpus), "-m", "wordllama"],
                env=cli_env(store_path),
                stdout=subprocess.DEVNULL,
                stderr=handle,
            )
        deadline = time.monotonic() + 120
        while "waiting for another process" not in log.read_text() and time.monotonic() < deadline:
            assert waiting.poll() is None, log.read_text()
            time.sleep(0.2)
        assert "waiting for another process writing collection 'news'" in log.read_text()
        assert waiting.poll() is None and len(store.collection("news")) == 20  # readers never wait
    assert waiting.wait(timeout=120) == 0, log.read_text()
    assert len(store.collection("news")) == 60
    assert np.isclose(store.collection("news").search(sentences[45], k=1)[0].score, 1.0, atol=1e-4)
