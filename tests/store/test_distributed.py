"""The Ray ingest (`engine="ray"`) against the single-process one, on a local Ray runtime of 2 workers.

The runtime is started once for the module (`ray.init(num_cpus=2)`) and shut down after; each ingest
joins it. Every comparison is with a single-process ingest of the same files into the same store.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from embedlab.datasets import gensim_test_data
from embedlab.errors import EmbedlabError, ModelMismatchError
from embedlab.store import Store

ray = pytest.importorskip("ray")

ACTOR = "MapBatches(EncodeBatch)"  # in the process title of each Ray Data actor that embeds


@pytest.fixture(scope="module", autouse=True)
def ray_runtime():
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=512 << 20, log_to_driver=False)
    yield
    ray.shutdown()


def contents(store: Store, name: str) -> dict[str, tuple[str, dict, np.ndarray]]:
    """id -> (text, metadata, vector) of everything stored."""
    collection = store.collection(name)
    ids, vectors = collection.vectors()
    by_id = dict(zip(ids.tolist(), vectors, strict=True))
    out = {}
    for record in collection.iter_records():
        out[record.id] = (record.text, record.metadata, by_id[record.id])
    assert len(out) == len(collection) == len(ids), "ids are unique"
    return out


def assert_same(store: Store, ray_name: str, local_name: str) -> None:
    a, b = contents(store, ray_name), contents(store, local_name)
    assert set(a) == set(b)
    for key, (text, metadata, vector) in a.items():
        assert text == b[key][0] and metadata == b[key][1], key
        assert float(np.dot(vector, b[key][2])) >= 0.9999, key


def counts(summary) -> dict:
    data = summary.as_dict()
    return {k: v for k, v in data.items() if k not in ("collection", "seconds")}


def test_lee_corpus_same_as_single_process_and_rerun_adds_nothing(store):
    lee = gensim_test_data("lee_background.cor")
    distributed = store.create("lee-ray", "wordllama").add_files([lee], fmt="text", engine="ray", workers=2)
    local = store.create("lee-local", "wordllama").add_files(lee, fmt="text")
    assert counts(distributed) == counts(local)
    assert distributed.added == 293 and distributed.duplicate_ids == 7  # the corpus repeats 7 stories
    assert_same(store, "lee-ray", "lee-local")
    a, b = store.collection("lee-ray"), store.collection("lee-local")
    for query in ("bushfires in Sydney", "Israeli Palestinian violence", "cricket test match"):
        for mode in ("semantic", "keyword", "hybrid"):
            assert [r.id for r in a.search(query, k=5, mode=mode)] == [r.id for r in b.search(query, k=5, mode=mode)]
    config = json.loads((store.side("lee-ray") / "collection.json").read_text())
    assert config["recipe"] == json.loads((store.side("lee-local") / "collection.json").read_text())["recipe"]
    rerun = store.create("lee-ray", "wordllama").add_files([lee], fmt="text", engine="ray", workers=2)
    assert (rerun.added, rerun.updated, rerun.unchanged, rerun.total) == (0, 0, 293, 293)


def generated_csv(path: Path, n: int, seed: int = 0, changed: int = 0) -> Path:
    """n rows: id, text, and int/float/bool/str metadata; every 97th text is empty (skipped and counted)."""
    rng = random.Random(seed)
    words = "river stone cloud market engine garden violin harbour winter signal orbit lantern copper".split()
    lines = ["id,text,count,score,flag,topic"]
    for i in range(n):
        text = "" if i % 97 == 5 else " ".join(rng.choice(words) for _ in range(rng.randint(3, 12)))
        if i < changed and text:
            text += " revised"
        lines.append(f'doc-{i},"{text}",{i % 13},{i / 7:.3f},{"true" if i % 2 else "false"},{words[i % len(words)]}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_generated_20000_lines_same_ids_metadata_vectors_and_updates(store, tmp_path):
    source = generated_csv(tmp_path / "gen.csv", 20_000)
    distributed = store.create("gen-ray", "wordllama").add_files(source, engine="ray", workers=2, batch_size=1000)
    local = store.create("gen-local", "wordllama").add_files(source, batch_size=1000)
    assert counts(distributed) == counts(local)
    assert distributed.skipped_empty == local.skipped_empty > 200
    assert_same(store, "gen-ray", "gen-local")
    meta = store.collection("gen-ray").get("doc-13").metadata
    assert meta == {"count": 0, "score": 1.857, "flag": True, "topic": "river"}
    # 50 changed texts: both engines re-embed exactly those
    generated_csv(source, 20_000, changed=50)
    again = store.create("gen-ray", "wordllama").add_files(source, engine="ray", workers=2, batch_size=1000)
    local_again = store.create("gen-local", "wordllama").add_files(source, batch_size=1000)
    assert counts(again) == counts(local_again)
    assert again.updated == 50 - 1 and again.added == 0  # row 5 is empty
    assert_same(store, "gen-ray", "gen-local")


def test_many_files_jsonl_and_parquet_as_single_process(store, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "in"
    folder.mkdir()
    rows = [{"id": i, "text": f"note {i} about the harbour and its boats", "tag": "ab"[i % 2]} for i in range(300)]
    rows[3]["text"] = "  "
    rows[4]["extra"] = {"depth": 3}
    (folder / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows[:150]) + "\n", encoding="utf-8")
    pq.write_table(pa.Table.from_pylist(rows[150:], schema=None), folder / "b.parquet")
    distributed = store.create("mixed-ray", "wordllama").add_files([folder], engine="ray", workers=2, batch_size=64)
    local = store.create("mixed-local", "wordllama").add_files(
        [str(folder / "*.jsonl"), folder / "b.parquet"], batch_size=64
    )
    assert counts(distributed) == counts(local) and distributed.skipped_empty == 1
    assert_same(store, "mixed-ray", "mixed-local")


def test_fitted_encoder_is_fitted_once_on_the_driver(store):
    lee = gensim_test_data("lee_background.cor")
    distributed = store.create("tfidf-ray", "tfidf").add_files(lee, fmt="text", engine="ray", workers=2)
    local = store.create("tfidf-local", "tfidf").add_files(lee, fmt="text")
    assert counts(distributed) == counts(local)
    assert_same(store, "tfidf-ray", "tfidf-local")


def test_recipe_guard_and_bad_line_refused_before_or_with_file_and_line(store, tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("first text\nsecond text\n", encoding="utf-8")
    store.create("guarded", "wordllama").add_files(good, engine="ray", workers=2)
    with pytest.raises(ModelMismatchError):
        store.create("guarded", "minilm")  # refused before any work, as for the single-process path
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": "also fine"}\n{"text": oops}\n', encoding="utf-8")
    with pytest.raises(EmbedlabError, match=r"bad.jsonl line 3"):
        store.create("guarded", "wordllama").add_files(bad, engine="ray", workers=2)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\u00e9 ok\n".encode() + "caf\u00e9\n".encode("latin-1"))
    with pytest.raises(EmbedlabError, match=r"latin.txt is not UTF-8: line 2"):
        store.create("guarded", "wordllama").add_files(latin, engine="ray", workers=2)
    assert len(store.collection("guarded")) == 2
    with pytest.raises(EmbedlabError, match="workers"):
        store.create("guarded", "wordllama").add_files(good, engine="ray", workers=0)
    with pytest.raises(EmbedlabError, match="engine"):
        store.create("guarded", "wordllama").add_files(good, engine="spark")


def actor_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if ACTOR in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def test_killed_actor_leaves_whole_commits_and_rerun_completes_without_duplicates(store, tmp_path):
    source = generated_csv(tmp_path / "kill.csv", 600, seed=1)  # minilm: slow enough to kill mid-run
    name = "killed"
    killed: list[int] = []

    over = threading.Event()

    def kill_one_after_first_commit() -> None:
        while not over.is_set():
            if name in store.names() and len(store.collection(name)) > 0 and actor_pids():
                pid = actor_pids()[0]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_after_first_commit)
    killer.start()
    try:
        first = store.create(name, "minilm").add_files(source, engine="ray", workers=2, batch_size=40)
        finished = first.total
    except EmbedlabError as exc:  # Ray retries a lost actor; if it cannot, the error says how to go on
        assert "run the same command again" in str(exc)
        finished = None
    finally:
        over.set()
        killer.join()
    assert killed, "an actor was killed mid-run"
    partial = contents(store, name)  # readable, and every id once (checked inside): whole commits only
    assert finished is None or finished == len(partial)
    rerun = store.create(name, "minilm").add_files(source, engine="ray", workers=2, batch_size=40)
    local = store.create("kill-local", "wordllama").add_files(source, batch_size=40)  # ids do not depend on the model
    assert rerun.total == local.total and rerun.added + len(partial) == local.total
    done, expected = contents(store, name), contents(store, "kill-local")
    assert {k: v[:2] for k, v in done.items()} == {k: v[:2] for k, v in expected.items()}  # ids, texts, metadata
    again = store.create(name, "minilm").add_files(source, engine="ray", workers=2, batch_size=40)
    assert (again.added, again.updated, again.total) == (0, 0, local.total)


def test_cli_index_several_files_with_ray(run_cli, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("the harbour at dawn\nboats in the harbour\n", encoding="utf-8")
    b.write_text("a violin concert\n\nthe harbour at dawn\n", encoding="utf-8")
    s = ("--store", str(tmp_path / "store"))
    code, out, err = run_cli(
        "index", "cli", str(a), str(b), "-m", "wordllama", "--engine", "ray", "--workers", "2", *s, "--json"
    )
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["read"], summary["added"], summary["skipped_empty"], summary["total"]) == (5, 3, 1, 3)
    code, out, err = run_cli("index", "cli", str(tmp_path / "*.txt"), "-m", "wordllama", *s, "--json")
    assert code == 0, err
    assert (json.loads(out)["unchanged"], json.loads(out)["duplicate_ids"], json.loads(out)["total"]) == (3, 1, 3)
    code, _, err = run_cli("index", "cli", str(a), "-m", "wordllama", "--engine", "spark", *s)
    assert code == 2 and "--engine" in err
