"""Recall/speed sweep of HNSW libraries and parameters on one set of unit vectors (used by search_latency.py).

Every variant is built and measured in the same run, on the same vectors and queries; single-query
speed is the best of several repeats (the machine is shared, so the load average is printed too).
Recall@10 is against exact search (numpy) on the same data.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable

import numpy as np

Search = Callable[[np.ndarray, int], np.ndarray]  # (query, k) -> row numbers


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> np.ndarray:
    scores = queries @ vectors.T
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return np.take_along_axis(part, np.argsort(-np.take_along_axis(scores, part, 1), 1), 1)


def recall(found: list[np.ndarray], truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(map(int, f[:k])) & set(map(int, t))) / k for f, t in zip(found, truth, strict=True)]))


def best_rate(fn: Callable[[], None], count: int, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return count / best


def rss_mib() -> float:
    for line in open("/proc/self/status").read().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


def load_average() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def builders(dim: int) -> dict[str, Callable]:
    def faiss_hnsw(m: int, efc: int):
        def build(x: np.ndarray):
            import faiss

            index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = efc
            index.add(x)

            def search(ef: int) -> Search:
                params = faiss.SearchParametersHNSW(efSearch=ef)
                return lambda q, k: index.search(q.reshape(1, -1), k, params=params)[1][0]

            def batch(ef: int):
                params = faiss.SearchParametersHNSW(efSearch=ef)
                return lambda qs, k: index.search(qs, k, params=params)[1]

            return search, batch

        return build

    def hnswlib_hnsw(m: int, efc: int):
        def build(x: np.ndarray):
            import hnswlib

            index = hnswlib.Index("ip", dim)
            index.init_index(max_elements=len(x), ef_construction=efc, M=m)
            index.add_items(x, np.arange(len(x)))

            def search(ef: int) -> Search:
                index.set_ef(ef)
                return lambda q, k: index.knn_query(q, k)[0][0]

            def batch(ef: int):
                index.set_ef(ef)
                return lambda qs, k: index.knn_query(qs, k)[0]

            return search, batch

        return build

    def usearch_hnsw(m: int, efc: int, dtype: str, rerank: int = 0):
        def build(x: np.ndarray):
            from usearch.index import Index

            index = Index(ndim=dim, metric="ip", dtype=dtype, connectivity=m, expansion_add=efc)
            index.add(np.arange(len(x)), x)

            def search(ef: int) -> Search:
                index.expansion_search = ef
                if not rerank:
                    return lambda q, k: index.search(q, k).keys

                def reranked(q, k):
                    keys = index.search(q, rerank).keys
                    return keys[np.argsort(-(x[keys] @ q))[:k]]

                return reranked

            def batch(ef: int):
                index.expansion_search = ef
                return lambda qs, k: index.search(qs, k).keys

            return search, batch

        return build

    return {
        "faiss M32 efC200": faiss_hnsw(32, 200),
        "faiss M16 efC200": faiss_hnsw(16, 200),
        "hnswlib M16 efC200": hnswlib_hnsw(16, 200),
        "hnswlib M32 efC200": hnswlib_hnsw(32, 200),
        "hnswlib M32 efC400": hnswlib_hnsw(32, 400),
        "hnswlib M48 efC400": hnswlib_hnsw(48, 400),
        "hnswlib M24 efC400": hnswlib_hnsw(24, 400),
        "usearch M16 efC200 f32": usearch_hnsw(16, 200, "f32"),
        "usearch M16 efC200 i8+rerank50": usearch_hnsw(16, 200, "i8", rerank=50),
        "usearch M32 efC200 f32": usearch_hnsw(32, 200, "f32"),
        "usearch M32 efC200 i8+rerank50": usearch_hnsw(32, 200, "i8", rerank=50),
    }


def sweep(
    vectors: np.ndarray,
    queries: np.ndarray,
    names: list[str] | None = None,
    efs: tuple[int, ...] = (32, 48, 64, 96, 128, 192, 256),
    k: int = 10,
) -> list[tuple]:
    """Print and return (variant, ef, q/s single, recall@10, q/s batch 100, build s) for each setting.

    B/vector is the growth of the process's RSS while the index was built, divided by the vectors: what
    the index holds beyond the float32 matrix it was given (which the caller keeps)."""
    import faiss

    faiss.omp_set_num_threads(1)
    truth = exact_top(vectors, queries, k)
    rows = []
    variants = builders(vectors.shape[1])
    for name in names or list(variants):
        build = variants[name]
        search = batch = one = many = None  # let the previous index go before measuring this one
        gc.collect()
        started, before = time.perf_counter(), rss_mib()
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        search, batch = build(vectors)
        per_vector = (rss_mib() - before) * 2**20 / len(vectors)
        faiss.omp_set_num_threads(1)
        built = time.perf_counter() - started
        for ef in efs:
            one = search(ef)
            found = [one(q, k) for q in queries]
            rate = best_rate(lambda one=one: [one(q, k) for q in queries], len(queries))
            many = batch(ef)
            batch_rate = best_rate(
                lambda many=many: [many(queries[i : i + 100], k) for i in range(0, len(queries), 100)], len(queries)
            )
            rows.append((name, ef, rate, recall(found, truth), batch_rate, built))
            print(
                f"  {name:32} ef {ef:4}: {rate:7,.0f} q/s  recall@10 {rows[-1][3]:.4f}  batch-100 {batch_rate:7,.0f} q/s"
                f"  (built in {built:.0f}s, {per_vector:,.0f} B/vector; {load_average()})",
                flush=True,
            )
    return rows
