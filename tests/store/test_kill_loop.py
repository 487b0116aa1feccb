"""SIGINT and SIGKILL at random points of `index`, `reembed` and `collections drop`, twelve times.

After every kill the store opens, every collection in it works (or is listed with what is wrong), the
collection nobody touches is unchanged, and a Ctrl-C exits 130 with one line saying what was kept. At the
end, running each command once more leaves exactly the state of an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time

import numpy as np

from embedlab.store import Store, reembed
from tests.store.conftest import finish, start

KILLS_PER_COMMAND = 4


def files_in(path) -> int:
    return sum(len(files) + len(dirs) for _, dirs, files in os.walk(path))


def interrupt(process, store_path, rng: random.Random, wait_for_write: bool) -> tuple[int, str, str, int]:
    """Kill `process` at a random point (after it starts writing, when asked); its exit code and output."""
    if wait_for_write:
        before, deadline = files_in(store_path), time.monotonic() + 60
        while process.poll() is None and files_in(store_path) == before and time.monotonic() < deadline:
            time.sleep(0.03)
        time.sleep(rng.uniform(0.0, 0.8))
    else:
        # not before the interpreter has started embedlab (a signal before any of our code runs is Python's own)
        time.sleep(rng.uniform(1.0, 2.5))
    signum = rng.choice([signal.SIGINT, signal.SIGKILL])
    if process.poll() is None:
        process.send_signal(signum)
    code, out, err = finish(process)
    return code, out, err, signum


def snapshot(store: Store, name: str) -> tuple:
    collection = store.collection(name)
    ids, vectors = collection.vectors()
    config = (store.side(name) / "collection.json").read_bytes()
    return collection.table.version, sorted(ids.tolist()), float(np.abs(vectors).sum()), config


def check_store(store_path, expected_news: set[str], bystander: tuple, run_cli) -> None:
    """The store opens; every listed collection searches; the bystander is untouched; news is a subset."""
    store = Store(store_path)
    for name in store.names():
        collection = store.collection(name)
        assert collection.search("bushfires near Sydney", k=2) or len(collection) == 0
    assert snapshot(store, "other") == bystander
    if "news" in store.names():
        ids = store.collection("news").table.to_arrow()["id"].to_pylist()
        assert len(ids) == len(set(ids)) and set(ids) <= expected_news
    code, out, err = run_cli("collections", "--json", "--store", str(store_path))
    assert code == 0, err  # damaged or unfinished collections are listed, never a failure
    assert {row["name"] for row in json.loads(out)} >= set(store.names())


def test_kill_loop_index_reembed_drop(tmp_path, sentences, wordllama, run_cli):
    rng = random.Random(13)
    store_path, reference_path = tmp_path / "store", tmp_path / "reference"
    corpus = tmp_path / "news.txt"
    corpus.write_text("\n".join(sentences[:500]) + "\n", encoding="utf-8")
    from embedlab.store import text_id

    expected_news = {text_id(t) for t in sentences[:500]}
    store = Store(store_path)
    store.create("other", wordllama).add(sentences[-50:])
    bystander = snapshot(store, "other")
    commands = {
        "index": ["index", "news", str(corpus), "-m", "wordllama", "--batch-size", "20", "--json"],
        "reembed": ["reembed", "news", "copy", "-m", "wordllama", "--batch-size", "40", "--json"],
        "drop": ["collections", "drop", "victim", "-y"],
    }
    interrupted_lines = []
    for command, args in commands.items():
        for _ in range(KILLS_PER_COMMAND):
            if command == "drop" and "victim" not in Store(store_path).names():
                Store(store_path).create("victim", wordllama).add(sentences[600:900])
            code, _, err, signum = interrupt(start(store_path, *args), store_path, rng, command != "drop")
            finished = command == "reembed" and "copy" in Store(store_path).names()
            if code == 2 and finished and "already exists" in err:
                pass  # an earlier run in this loop finished the copy before its signal: a complete target is kept
            elif signum == signal.SIGKILL:
                assert code in (0, -signal.SIGKILL), err
            elif code != 0:
                assert code == 130, err
                last = err.strip().splitlines()[-1]
                assert last.startswith("interrupted (Ctrl-C)"), err
                assert "run the same command again" in last or "while starting: nothing was written" in last, err
                interrupted_lines.append(last)
            check_store(store_path, expected_news, bystander, run_cli)
        code, _, err = finish(start(store_path, *args))  # the rerun completes it
        if code == 2 and command == "reembed":  # a run before finished it: only then "already exists"
            assert "already exists" in err and "copy" in Store(store_path).names(), err
        elif code == 2 and command == "drop":  # a run before finished it
            assert "there is no collection 'victim'" in err and "victim" not in Store(store_path).problems(), err
        else:
            assert code == 0, err
        check_store(store_path, expected_news, bystander, run_cli)
    assert any("kept" in line and "items" in line for line in interrupted_lines), interrupted_lines

    reference = Store(reference_path)  # the same commands, never interrupted
    reference.create("news", wordllama).add_file(corpus, batch_size=20)
    reembed(reference, "news", "copy", "wordllama")
    store = Store(store_path)
    assert store.names() == ["copy", "news", "other"] and store.problems() == {}
    for name in ("news", "copy"):
        got, want = store.collection(name), reference.collection(name)
        got_rows = sorted(got.table.to_arrow().select(["id", "text"]).to_pylist(), key=lambda r: r["id"])
        want_rows = sorted(want.table.to_arrow().select(["id", "text"]).to_pylist(), key=lambda r: r["id"])
        assert got_rows == want_rows
        (got_ids, got_vectors), (want_ids, want_vectors) = got.vectors(), want.vectors()
        order, want_order = np.argsort(got_ids), np.argsort(want_ids)
        np.testing.assert_allclose(got_vectors[order], want_vectors[want_order], atol=1e-5)
        assert got.config["recipe"] == want.config["recipe"]
