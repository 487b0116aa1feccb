"""Stress the store: 4 writer processes and 4 searcher processes on one collection for a few minutes,
while `embedlab index` runs are killed (SIGKILL / SIGINT) at random points beside them.

Writers add batches of 10-80 Lee-corpus sentences (wordllama) with ids of their own plus ids shared by
all writers (the same id always gets the same text, so every writer races to upsert it). A writer
records an id only after `add()` returned. Searchers open the store, search random sentences
(unfiltered, filtered, keyword) and check that no result repeats an id. A killer runs `embedlab index`
on a file of its own and kills it at a random point, again and again; its last run is left to finish.
A bystander collection nobody writes must stay byte-for-byte the same.

At the end: every id a writer recorded must be stored with its text (lost = 0), the table must hold
each id once (duplicates = 0), the killer's file must be complete, and the HNSW index must match
the table (the ANN threshold is set low so the index is built and extended during the run).

    .venv/bin/python benchmarks/store_stress.py [--seconds 180] [--writers 4] [--searchers 4]

Prints one table; exits 1 if anything was lost, duplicated or failed. The machine is shared, so
throughput figures are indicative; the counts of lost and duplicated items are the result.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ANN_THRESHOLD = 1_000
SHARED_IDS = 400


def sentences() -> list[str]:
    from embedlab.datasets import lee_news

    found: list[str] = []
    for record in lee_news():
        found += [s.strip() for s in re.split(r"(?<=[.!?])\s+", record.text) if len(s.split()) > 3]
    return list(dict.fromkeys(found))


def ready_then_go(start: object, ready: object, seconds: float) -> float:
    """Tell the parent this worker is loaded, wait for the common start; the deadline."""
    ready.put(1)  # type: ignore[attr-defined]
    start.wait()  # type: ignore[attr-defined]
    return time.time() + seconds


def writer(index: int, store_path: str, seconds: float, out: str, seed: int, start: object, ready: object) -> None:
    from embedlab.store import Store

    rng = random.Random(seed)
    pool = sentences()
    written: dict[str, str] = {}
    stats = {"adds": 0, "items": 0, "errors": 0, "error_kinds": []}
    collection = Store(store_path, on_wait=None).collection("stress")
    collection.encoder.encode(["warm up"])
    deadline = ready_then_go(start, ready, seconds)
    n = 0
    while time.time() < deadline:
        size = rng.randint(10, 80)
        ids, texts = [], []
        for _ in range(size):
            if rng.random() < 0.3:  # a shared id: every writer writes the same text for it
                k = rng.randrange(SHARED_IDS)
                ids.append(f"shared-{k}")
                texts.append(pool[k])
            else:
                n += 1
                ids.append(f"w{index}-{n}")
                texts.append(f"{pool[rng.randrange(len(pool))]} (writer {index}, item {n})")
        try:
            summary = collection.add(texts, ids=ids)
            stats["adds"] += 1
            stats["items"] += summary.added + summary.updated
            written.update(zip(ids, texts, strict=True))
        except Exception as exc:
            stats["errors"] += 1
            stats["error_kinds"].append(f"{type(exc).__name__}: {exc}"[:300])
    Path(out).write_text(json.dumps({"stats": stats, "written": written}))


def searcher(index: int, store_path: str, seconds: float, out: str, seed: int, start: object, ready: object) -> None:
    from embedlab.store import Store

    rng = random.Random(seed)
    pool = sentences()
    stats = {"searches": 0, "errors": 0, "repeated_ids": 0, "error_kinds": []}
    collection = Store(store_path).collection("stress")
    collection.search("warm up", k=1)
    deadline = ready_then_go(start, ready, seconds)
    while time.time() < deadline:
        try:
            if stats["searches"] % 50 == 0:
                collection = Store(store_path).collection("stress")
            query = pool[rng.randrange(len(pool))]
            kind = rng.random()
            if kind < 0.6:
                results = collection.search(query, k=10)
            elif kind < 0.8:
                results = collection.search(query, k=10, where="id LIKE 'shared-%'")
            else:
                results = collection.search(query, k=10, mode="keyword")
            ids = [r.id for r in results]
            stats["repeated_ids"] += len(ids) - len(set(ids))
            stats["searches"] += 1
        except Exception as exc:
            stats["errors"] += 1
            stats["error_kinds"].append(f"{type(exc).__name__}: {exc}"[:300])
    Path(out).write_text(json.dumps(stats))


def killer(store_path: str, corpus: Path, deadline: float, seed: int) -> dict:
    """Run `embedlab index killed FILE` again and again, killing it at a random point; finish it at the end."""
    rng = random.Random(seed)
    env = {**os.environ, "EMBEDLAB_STORE": store_path, "EMBEDLAB_ANN_THRESHOLD": str(ANN_THRESHOLD)}
    command = [
        sys.executable,
        "-m",
        "embedlab",
        "index",
        "killed",
        str(corpus),
        "-m",
        "wordllama",
        "--batch-size",
        "25",
    ]
    stats = {"kills": 0, "sigint_130": 0, "during_import": 0, "finished_before_kill": 0, "bad_exits": []}
    while time.time() < deadline - 20:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(1.0, 6.0))
        signum = rng.choice([signal.SIGKILL, signal.SIGINT])
        if process.poll() is None:
            process.send_signal(signum)
            stats["kills"] += 1
        _, err = process.communicate()
        code = process.returncode
        if code == 0:
            stats["finished_before_kill"] += 1
        elif signum == signal.SIGINT and code == 130 and "interrupted (Ctrl-C)" in err:
            stats["sigint_130"] += 1
        elif signum == signal.SIGINT and code == -signal.SIGINT and "import" in err and "embedlab.cli" not in err:
            stats["during_import"] += 1  # Python was still importing the embedlab package: nothing to keep yet
        elif not (signum == signal.SIGKILL and code == -signal.SIGKILL):
            stats["bad_exits"].append((int(signum), code, err[-300:]))
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    stats["final_exit"] = done.returncode
    return stats


def snapshot(store, name: str) -> tuple:
    collection = store.collection(name)
    ids, vectors = collection.vectors()
    return collection.table.version, sorted(ids.tolist()), float(abs(vectors).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--searchers", type=int, default=4)
    parser.add_argument("--no-killer", action="store_true", help="no `embedlab index` runs killed beside them")
    args = parser.parse_args()
    os.environ["EMBEDLAB_ANN_THRESHOLD"] = str(ANN_THRESHOLD)
    from embedlab.store import Store

    pool = sentences()
    with tempfile.TemporaryDirectory() as tmp:
        store_path = str(Path(tmp) / "store")
        store = Store(store_path)
        store.create("stress", "wordllama").add(pool[:SHARED_IDS], ids=[f"shared-{k}" for k in range(SHARED_IDS)])
        store.create("bystander", "wordllama").add(pool[-200:])
        before = snapshot(store, "bystander")
        corpus = Path(tmp) / "killed.txt"
        corpus.write_text("\n".join(pool[500:2000]) + "\n", encoding="utf-8")
        context = mp.get_context("spawn")
        start, ready = context.Event(), context.Queue()
        workers = []
        for i in range(args.writers + args.searchers):
            role, seed = (writer, 100 + i) if i < args.writers else (searcher, 200 + i)
            out = str(Path(tmp) / f"worker{i}.json")
            process = context.Process(target=role, args=(i, store_path, args.seconds, out, seed, start, ready))
            workers.append((out, process))
            process.start()
        for _ in workers:  # every worker has loaded its model and opened the store
            ready.get(timeout=600)
        started = time.time()
        deadline = started + args.seconds
        start.set()
        kills = {} if args.no_killer else killer(store_path, corpus, deadline, 300)
        for _, process in workers:
            process.join()
        elapsed = time.time() - started
        reports = [json.loads(Path(out).read_text()) if Path(out).exists() else None for out, _ in workers]
        if any(r is None for r in reports):
            print("a worker died without a report", file=sys.stderr)
            sys.exit(1)
        writers, searchers = reports[: args.writers], reports[args.writers :]

        store = Store(store_path)
        collection = store.collection("stress")
        rows = collection.table.to_arrow().select(["id", "text"]).to_pylist()
        stored = {r["id"]: r["text"] for r in rows}
        expected: dict[str, str] = {}
        for report in writers:
            expected.update(report["written"])
        lost = sum(1 for i, text in expected.items() if stored.get(i) != text)
        duplicates = len(rows) - len(stored)
        ann = collection.engine.fresh_ann()
        if len(rows) >= ANN_THRESHOLD:
            ann_ok = ann is not None and ann.count == len(rows) and set(ann.ids.tolist()) == set(stored)
        else:
            ann_ok = ann is None
        killed_rows = store.collection("killed").table.to_arrow()["id"].to_pylist() if not args.no_killer else []
        killed_ok = args.no_killer or (len(killed_rows) == len(set(killed_rows)) == 1500)
        bystander_ok = snapshot(store, "bystander") == before
        unlisted_problems = store.problems()
        laps = 2000
        clock = time.perf_counter()
        for _ in range(laps):  # what the lock costs a writer nobody else holds it against
            with store.lock("bystander"):
                pass
        lock_us = (time.perf_counter() - clock) / laps * 1e6

    writes = sum(r["stats"]["adds"] for r in writers)
    items = sum(r["stats"]["items"] for r in writers)
    write_errors = sum(r["stats"]["errors"] for r in writers)
    searches = sum(r["searches"] for r in searchers)
    search_errors = sum(r["errors"] for r in searchers)
    repeated = sum(r["repeated_ids"] for r in searchers)
    lines = [
        ("seconds", f"{elapsed:.0f}"),
        ("writers / searchers", f"{args.writers} / {args.searchers}"),
        ("writes (add calls, each its own ingest)", f"{writes:,} ({writes / elapsed:.1f}/s)"),
        ("items added or updated", f"{items:,} ({items / elapsed:.0f}/s)"),
        ("searches", f"{searches:,} ({searches / elapsed:.1f}/s)"),
        ("errors (writes / searches)", f"{write_errors} / {search_errors}"),
        ("items lost", f"{lost}"),
        ("duplicates (stored rows - distinct ids)", f"{duplicates}"),
        ("ids repeated within one result list", f"{repeated}"),
        ("rows at the end", f"{len(rows):,}"),
        ("lock taken and released, uncontended", f"{lock_us:.0f} µs"),
        ("HNSW index matches the table", "yes" if ann_ok else "NO"),
        ("bystander collection unchanged", "yes" if bystander_ok else "NO"),
        ("damaged or unfinished collections", ", ".join(unlisted_problems) or "none"),
    ]
    if kills:
        lines += [
            ("index runs killed (SIGKILL or SIGINT)", f"{kills['kills']}"),
            ("  of which SIGINT exits 130 with the kept line", f"{kills['sigint_130']}"),
            ("  of which SIGINT while Python imported embedlab", f"{kills['during_import']}"),
            ("  unexpected exit codes", f"{len(kills['bad_exits'])}"),
            ("killed collection complete after the rerun", "yes" if killed_ok and kills["final_exit"] == 0 else "NO"),
        ]
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        print(f"{key:<{width}}  {value}")
    for report in writers + searchers:
        for kind in (report.get("stats", report)["error_kinds"])[:3]:
            print("error:", kind)
    for bad in kills.get("bad_exits", [])[:3]:
        print("bad exit:", bad)
    failed = (
        lost
        or duplicates
        or write_errors
        or search_errors
        or repeated
        or not ann_ok
        or not bystander_ok
        or not killed_ok
        or unlisted_problems
        or kills.get("bad_exits")
        or kills.get("final_exit", 0)
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    try:
        main()
    except Exception:
        traceback.print_exc()
        sys.exit(1)
