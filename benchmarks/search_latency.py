"""Semantic search at 100,000 vectors: an HNSW library/parameter sweep, then embedlab's own search through
the Collection API (single queries, batches of 100, filters), against exact search and LanceDB's flat search.

Two data sets, each with recall@10 measured against exact search (numpy) on the same data in the same run:

- `mixed` (near-duplicate heavy, the old README data): all-MiniLM-L6-v2 embeddings of ~2,100 real
  sentences of the Lee corpus, spread into 100,000 points that each mix two random sentence vectors
  (weight 0.5-1.0 on the first) plus a little Gaussian noise; every query has dozens of near-duplicates.
  Queries: minilm embeddings of 200 held-out sentences. 384 dimensions.
- `real`: 100,000 distinct real texts from the corpora gensim ships (benchmarks/bench_data.py), embedded
  with wordllama (256 dimensions; minilm did not fit the time on this shared machine). Queries: 200
  further distinct texts.

The machine is shared: every variant is measured in the same run, single-query speed is the best of
several repeats, and the load average is printed beside each figure.

    .venv/bin/python benchmarks/search_latency.py [--n 100000] [--queries 200] [--data mixed,real] [--quick]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import ann_sweep  # noqa: E402
import bench_data  # noqa: E402

from embedlab import load  # noqa: E402
from embedlab.datasets import lee_news  # noqa: E402
from embedlab.encoders import Encoder, l2_normalize  # noqa: E402
from embedlab.search import ann as ann_module  # noqa: E402
from embedlab.search import engine as engine_module  # noqa: E402
from embedlab.store import Record, Store  # noqa: E402

SELECTIVITY = {"50%": "bucket < 500", "10%": "bucket < 100", "1%": "bucket < 10", "0.1%": "bucket < 1"}


class TableEncoder(Encoder):
    """Looks up precomputed vectors by text ('item-N'); a real encoder for anything else."""

    name = "precomputed"

    def __init__(self, vectors: np.ndarray, real: Encoder) -> None:
        super().__init__()
        self.vectors = vectors
        self.real = real

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def identity(self) -> dict[str, Any]:
        return {"model": "precomputed vectors (benchmark)"}

    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        if all(t.startswith("item-") for t in texts):
            return self.vectors[[int(t.split("-")[1].split()[0]) for t in texts]]
        return self.real.encode(texts)


def lee_sentences() -> list[str]:
    out = []
    for record in lee_news():
        out += [s for s in re.split(r"(?<=[.!?])\s+", record.text) if len(s.split()) > 4]
    return list(dict.fromkeys(out))


def mixed_data(n: int, n_queries: int) -> tuple[list[str], np.ndarray, list[str], np.ndarray, Encoder, np.ndarray]:
    """Also returns `n_queries` other held-out sentences' vectors, to tune efSearch with (never the
    evaluation queries)."""
    minilm = load("minilm")
    texts = lee_sentences()
    held = 2 * n_queries
    base_texts, query_texts = texts[: len(texts) - held], texts[-n_queries:]
    cache = bench_data.CACHE / f"lee-minilm-{len(texts)}.npy"
    if cache.exists():
        encoded = np.load(cache)
    else:
        encoded = minilm.encode(texts, batch_size=64, normalize=True)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, encoded, allow_pickle=False)
    base, tuning, queries = encoded[: len(base_texts)], encoded[-held:-n_queries], encoded[-n_queries:]
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(base), n)
    partners = rng.integers(0, len(base), n)
    weight = rng.uniform(0.5, 1.0, (n, 1)).astype(np.float32)
    noise = rng.normal(0, 0.01, (n, base.shape[1])).astype(np.float32)
    vectors = l2_normalize(weight * base[picks] + (1 - weight) * base[partners] + noise).astype(np.float32)
    words = [t.split()[:12] for t in base_texts]
    texts_out = [" ".join(words[p]) for p in picks]
    return texts_out, vectors, query_texts, queries.astype(np.float32), minilm, tuning.astype(np.float32)


def real_data(n: int, n_queries: int) -> tuple[list[str], np.ndarray, list[str], np.ndarray, Encoder, np.ndarray]:
    texts, vectors = bench_data.real_vectors(n)
    held = bench_data.real_texts(n + 2 * n_queries)[n:]
    query_texts, tuning_texts = held[:n_queries], held[n_queries:]
    wordllama = load("wordllama")
    queries = wordllama.encode(query_texts, normalize=True).astype(np.float32)
    return texts, vectors, query_texts, queries, wordllama, wordllama.encode(tuning_texts, normalize=True)


def best_rate(fn, count: int, repeats: int = 5) -> float:
    return ann_sweep.best_rate(fn, count, repeats)


def recall_of(found: list[list[str]], truth: list[list[str]]) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True) if t]))


def collection_run(name: str, texts, vectors, query_texts, queries, encoder, tuning) -> dict[str, Any]:
    """Ingest into a real collection, then time its searches (single, batch of 100, filtered, peer)."""
    n = len(vectors)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        store = Store(folder)
        collection = store.create("bench", TableEncoder(vectors, encoder))
        records = [Record(f"id-{i}", f"item-{i} {texts[i]}", i, {"bucket": int(i * 7919 % 1000)}) for i in range(n)]
        started = time.perf_counter()
        collection.add_records(lambda: iter(records), n, batch_size=5000)
        out["ingest_s"] = time.perf_counter() - started
        engine = collection.engine
        ann = engine.fresh_ann()
        assert ann is not None, "the HNSW index should exist at this size"
        ids, stored = collection.vectors()
        exact = ann_sweep.exact_top(stored, queries, 10)
        truth = [[str(ids[r]) for r in row] for row in exact]
        found = [[i for i, _ in engine.semantic(q, 10)] for q in queries]
        out["recall"] = recall_of(found, truth)
        out["single"] = best_rate(lambda: [engine.semantic(q, 10) for q in queries], len(queries))
        batches = [queries[i : i + 100] for i in range(0, len(queries), 100)]
        many = [hits for b in batches for hits in engine.semantic_many(b, 10)]
        out["batch_recall"] = recall_of([[i for i, _ in h] for h in many], truth)
        out["batch100"] = best_rate(lambda: [engine.semantic_many(b, 10) for b in batches], len(queries))
        tuned = collection.tune_search(tuning, target_recall=0.99)
        out["tuned_ef"] = tuned["ef_search"]
        found = [[i for i, _ in engine.semantic(q, 10)] for q in queries]
        out["tuned_recall"] = recall_of(found, truth)
        out["tuned_single"] = best_rate(lambda: [engine.semantic(q, 10) for q in queries], len(queries))
        out["exact"] = best_rate(lambda: ann_sweep.exact_top(stored, queries[:50], 10), 50, 3) / 1  # numpy, 1 call
        out["exact_single"] = best_rate(
            lambda: [engine_module._exact(ids, stored, q[None], 10) for q in queries[:50]], 50, 3
        )
        lance_found = []

        def lance() -> None:
            lance_found.clear()
            for q in queries[:20]:
                got = collection.table.search(q).metric("cosine").limit(10).select(["id"]).to_arrow()
                lance_found.append(got["id"].to_pylist())

        out["lance"] = best_rate(lance, 20, 2)
        out["lance_recall"] = recall_of(lance_found, truth[:20])
        # filtered: the engine's rule, and both paths forced, at each selectivity
        bucket = (np.arange(n) * 7919) % 1000
        rows_bucket = bucket[[int(str(i).split("-")[1]) for i in ids]]
        filtered = {}
        for share, where in SELECTIVITY.items():
            limit = int(where.split("<")[1])
            keep = np.flatnonzero(rows_bucket < limit)
            truth_f = [[str(ids[keep[r]]) for r in row] for row in ann_sweep.exact_top(stored[keep], queries, 10)]
            engine.semantic(queries[0], 10, where)  # the filter's mask is computed once per table version
            started = time.perf_counter()
            engine_module.MASK_CACHE, saved = 0, engine_module.MASK_CACHE
            engine._masks.clear()
            engine.semantic(queries[0], 10, where)
            first = time.perf_counter() - started
            engine_module.MASK_CACHE = saved
            engine.semantic(queries[0], 10, where)
            row = {"rows": len(keep), "first_ms": first * 1e3}
            for label, exact_rows in (("auto", engine_module.FILTER_EXACT_ROWS), ("graph", 0), ("exact", 10**12)):
                # the forced paths run on 30 queries: a graph walk under a 0.1% filter visits most of the graph
                some = queries if label == "auto" else queries[:30]
                engine_module.FILTER_EXACT_ROWS, saved_rows = exact_rows, engine_module.FILTER_EXACT_ROWS
                got = [[i for i, _ in engine.semantic(q, 10, where)] for q in some]
                rate = best_rate(lambda w=where, s=some: [engine.semantic(q, 10, w) for q in s], len(some), 2)
                engine_module.FILTER_EXACT_ROWS = saved_rows
                row[label] = (rate, recall_of(got, truth_f[: len(some)]))
            filtered[share] = row
        out["filtered"] = filtered
        out["api"] = {
            mode: best_rate(lambda m=mode: [collection.search(t, k=10, mode=m) for t in query_texts[:30]], 30, 2)
            for mode in ("semantic", "keyword", "hybrid")
        }
        out["api_many"] = best_rate(lambda: collection.search_many(query_texts[:100], k=10), 100, 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--data", default="mixed,real")
    parser.add_argument("--variants", default=",".join(ann_sweep.builders(8)))
    parser.add_argument("--efs", default="32,48,64,96,128,192,256")
    parser.add_argument("--no-sweep", action="store_true")
    parser.add_argument("--no-collection", action="store_true")
    args = parser.parse_args()
    efs = tuple(int(x) for x in args.efs.split(","))
    print(
        f"HNSW used by embedlab: {ann_module.LIBRARY} M={ann_module.HNSW_M} efConstruction="
        f"{ann_module.EF_CONSTRUCTION} efSearch={ann_module.EF_SEARCH}; {os.cpu_count()} CPUs; "
        f"{ann_sweep.load_average()}"
    )
    for data in args.data.split(","):
        texts, vectors, query_texts, queries, encoder, tuning = (mixed_data if data == "mixed" else real_data)(
            args.n, args.queries
        )
        print(f"\n=== {data}: {len(vectors):,} x {vectors.shape[1]}, {len(queries)} queries ===", flush=True)
        if not args.no_sweep:
            print("sweep (index only; single-query q/s best of 3 repeats; batch of 100 with the library's threads):")
            ann_sweep.sweep(vectors, queries, args.variants.split(","), efs)
        if args.no_collection:
            continue
        result = collection_run(data, texts, vectors, query_texts, queries, encoder, tuning)
        print(
            f"\nembedlab through the Collection ({ann_sweep.load_average()}); ingest {result['ingest_s']:.0f}s "
            f"incl. FTS and HNSW build"
        )
        print(f"{'semantic top-10':40} {'queries/s':>10} {'recall@10':>10}")
        for label, rate, rec in (
            (f"HNSW ({ann_module.LIBRARY}), one query per call", result["single"], result["recall"]),
            (
                f"HNSW, tune_search (efSearch {result['tuned_ef']})",
                result["tuned_single"],
                result["tuned_recall"],
            ),
            ("HNSW, search_many, batches of 100", result["batch100"], result["batch_recall"]),
            ("exact (numpy), one query per call", result["exact_single"], 1.0),
            ("LanceDB flat search (peer)", result["lance"], result["lance_recall"]),
        ):
            print(f"{label:40} {rate:10,.0f} {rec:10.3f}")
        print(
            f"HNSW vs LanceDB flat: {result['single'] / result['lance']:,.0f}x;  "
            f"HNSW vs exact: {result['single'] / result['exact_single']:,.1f}x"
        )
        print(
            f"\nfiltered semantic top-10 (FILTER_EXACT_ROWS={engine_module.FILTER_EXACT_ROWS:,}): "
            "q/s and recall@10 against exact filtered search"
        )
        print(
            f"{'kept':>6} {'rows':>7} {'mask ms':>8} {'embedlab rule':>20} {'graph walk + filter':>20} "
            f"{'exact over kept rows':>22}"
        )
        for share, row in result["filtered"].items():
            cells = [f"{row[x][0]:8,.0f} q/s {row[x][1]:.3f}" for x in ("auto", "graph", "exact")]
            print(f"{share:>6} {row['rows']:7,} {row['first_ms']:8.1f} {cells[0]:>20} {cells[1]:>20} {cells[2]:>22}")
        api = result["api"]
        print(
            f"\nwhole Collection.search incl. encoding the query and fetching rows: semantic "
            f"{api['semantic']:,.0f} q/s, keyword {api['keyword']:,.0f} q/s, hybrid {api['hybrid']:,.0f} q/s; "
            f"search_many of 100 texts: {result['api_many']:,.0f} q/s"
        )
    print(
        f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB; {ann_sweep.load_average()}"
    )


if __name__ == "__main__":
    main()
