"""Semantic search latency and recall@10 at 100,000 vectors of dim 384, through the Collection API.

Compares, in one run: embedlab's exact search (numpy over the stored vectors), embedlab's HNSW index
(faiss, built beside the LanceDB table) and LanceDB's own flat vector search as the peer; plus keyword
(BM25) and hybrid latency. Vectors: all-MiniLM-L6-v2 embeddings of ~2,300 real sentences from the Lee
corpus, spread into 100,000 points that stay on the data's manifold: each point mixes two random real
sentence vectors (weight 0.5-1.0 on the first) plus a little Gaussian noise, then is normalised
(embedding 100k texts with minilm would take ~15 minutes on 2 cores). Queries are fresh minilm
embeddings of 200 held-out sentences.

    .venv/bin/python benchmarks/search_latency.py [--n 100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import re
import resource
import tempfile
import time
from typing import Any

import numpy as np

from embedlab import load
from embedlab.datasets import lee_news
from embedlab.encoders import Encoder, l2_normalize
from embedlab.search import ann as ann_module
from embedlab.search import engine as engine_module
from embedlab.search import top_k
from embedlab.store import Record, Store


class TableEncoder(Encoder):
    """Looks up precomputed vectors by text ('item-N'); real minilm vectors for queries."""

    name = "minilm-precomputed"

    def __init__(self, vectors: np.ndarray, minilm: Encoder) -> None:
        super().__init__()
        self.vectors = vectors
        self.minilm = minilm

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def identity(self) -> dict[str, Any]:
        return {"model": "precomputed minilm vectors (benchmark)"}

    def _encode(self, texts: list[str], batch_size: int, show_progress: bool) -> np.ndarray:
        if all(t.startswith("item-") for t in texts):
            return self.vectors[[int(t.split("-")[1].split()[0]) for t in texts]]
        return self.minilm.encode(texts)


def sentences() -> list[str]:
    out = []
    for record in lee_news():
        out += [s for s in re.split(r"(?<=[.!?])\s+", record.text) if len(s.split()) > 4]
    return list(dict.fromkeys(out))


def timed(fn, repeats: int) -> float:
    start = time.perf_counter()
    for i in range(repeats):
        fn(i)
    return (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    minilm = load("minilm")
    texts = sentences()
    base_texts, query_texts = texts[: len(texts) - args.queries], texts[-args.queries :]
    print(f"encoding {len(base_texts)} real sentences and {len(query_texts)} queries with minilm ...")
    base = minilm.encode(base_texts, batch_size=64)
    queries = minilm.encode(query_texts, batch_size=64)
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(base), args.n)
    partners = rng.integers(0, len(base), args.n)
    weight = rng.uniform(0.5, 1.0, (args.n, 1)).astype(np.float32)
    noise = rng.normal(0, 0.01, (args.n, base.shape[1])).astype(np.float32)
    vectors = l2_normalize(weight * base[picks] + (1 - weight) * base[partners] + noise)

    with tempfile.TemporaryDirectory() as folder:
        store = Store(folder)
        collection = store.create("bench", TableEncoder(vectors, minilm))
        words = [t.split()[:12] for t in base_texts]
        records = [
            Record(f"id-{i}", f"item-{i} " + " ".join(words[picks[i]]), i, {"group": int(i % 10)})
            for i in range(args.n)
        ]
        started = time.perf_counter()
        collection.add_records(lambda: iter(records), len(records), show_progress=True, batch_size=5000)
        ingest = time.perf_counter() - started
        print(f"ingest: {args.n:,} items in {ingest:.1f}s ({args.n / ingest:,.0f} items/s, includes FTS + HNSW build)")

        ids, stored = collection.vectors()
        exact_sets = [{str(ids[r]) for r in top_k(stored, q, 10)[0]} for q in queries]
        ann = collection.engine.fresh_ann()
        default_ef = ann_module.EF_SEARCH
        assert ann is not None, "the HNSW index should exist at this size"
        ann_sets = [{i for i, _ in collection.engine.semantic(q, 10)} for q in queries]
        recall_ann = np.mean([len(a & e) / 10 for a, e in zip(ann_sets, exact_sets, strict=True)])

        t_ann = timed(lambda i: collection.engine.semantic(queries[i], 10), len(queries))
        sweep = []
        for ef in (64, 128, 256, 512):
            ann_module.EF_SEARCH = ef
            found = [{str(i) for i in ann.search(q, 10)[0]} for q in queries]
            seconds = timed(lambda i: ann.search(queries[i], 10), len(queries))
            sweep.append((ef, seconds, np.mean([len(a & e) / 10 for a, e in zip(found, exact_sets, strict=True)])))
        ann_module.EF_SEARCH = default_ef
        collection.engine._ann = None
        original = engine_module.AnnIndex.load
        engine_module.AnnIndex.load = staticmethod(lambda folder: None)  # force the exact path
        t_exact = timed(lambda i: collection.engine.semantic(queries[i], 10), len(queries))
        engine_module.AnnIndex.load = original
        lance_n = min(20, len(queries))
        lance_sets = []

        def lance_query(i: int) -> None:
            found = (
                collection.table.search(queries[i]).metric("cosine").limit(10).select(["id", "_distance"]).to_arrow()
            )
            lance_sets.append(set(found["id"].to_pylist()))

        t_lance = timed(lance_query, lance_n)
        recall_lance = np.mean([len(a & e) / 10 for a, e in zip(lance_sets, exact_sets, strict=False)])
        t_keyword = timed(lambda i: collection.search(query_texts[i], k=10, mode="keyword"), 50)
        t_hybrid = timed(lambda i: collection.search(query_texts[i], k=10, mode="hybrid"), 50)
        t_semantic_api = timed(lambda i: collection.search(query_texts[i], k=10), 50)

    print(
        "HNSW efSearch sweep (index only): "
        + ", ".join(f"ef {ef}: {1 / sec:,.0f} q/s recall {rec:.3f}" for ef, sec, rec in sweep)
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nsemantic top-10 over {args.n:,} x {vectors.shape[1]} vectors, {len(queries)} queries")
    print(f"{'method':34} {'ms/query':>9} {'queries/s':>10} {'recall@10':>10}")
    rows = [
        ("embedlab HNSW (faiss)", t_ann, recall_ann),
        ("embedlab exact (numpy)", t_exact, 1.0),
        ("LanceDB flat search (peer)", t_lance, recall_lance),
    ]
    for name, seconds, recall in rows:
        print(f"{name:34} {seconds * 1e3:9.2f} {1 / seconds:10,.0f} {recall:10.3f}")
    print(f"\nHNSW vs LanceDB flat: {t_lance / t_ann:,.0f}x faster;  exact vs LanceDB flat: {t_lance / t_exact:,.0f}x")
    print(
        f"full Collection.search incl. encoding the query with minilm and fetching rows: "
        f"semantic {t_semantic_api * 1e3:.1f} ms, keyword {t_keyword * 1e3:.1f} ms, hybrid {t_hybrid * 1e3:.1f} ms"
    )
    print(f"peak RSS {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
