"""What compressed vector indexes cost in recall and save in memory at 1,000,000 vectors (docs/scale.md).

Vectors: the 100,000 real-text wordllama vectors of bench_data.py spread into N points the way the
`mixed` data of search_latency.py is (each mixes two real vectors plus a little noise), 256 dimensions.
Queries: 100 held-out real texts. Recall@10 is against exact search over the same N vectors, in the same
run. Memory is the index's own size (bytes per vector): what the library serialises, and for HNSW also
the growth of the process while it was built.

Parts (`--parts`, each can run in its own process):
- hnsw: the index embedlab keeps today (hnswlib, M 32, float32 vectors in the graph) and faiss HNSW32
  over int8 codes (HNSW-SQ8), both with the same efConstruction (`--ef-construction`; embedlab uses 200,
  the memory does not depend on it), searched at efSearch 256, SQ8 also with exact re-ranking;
- ivf: faiss IVF1024 Flat / SQ8 (int8 per dimension) / PQ64 / PQ32 sharing one trained coarse quantiser,
  each with and without exact re-ranking of the top 100 candidates from the float32 vectors on disk;
- lance: LanceDB's own IVF-PQ index on a table of the same vectors (refine_factor re-ranks).
Build times are wall seconds and CPU seconds of the process (the machine is shared: CPU is the fairer one).

    .venv/bin/python benchmarks/scale_memory.py [--n 1000000] [--parts hnsw,ivf,lance]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import ann_sweep  # noqa: E402
import bench_data  # noqa: E402

from embedlab import load  # noqa: E402


def spread(base: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        w = rng.uniform(0.5, 1.0, (m, 1)).astype(np.float32)
        mixed = w * base[rng.integers(0, len(base), m)] + (1 - w) * base[rng.integers(0, len(base), m)]
        mixed += rng.normal(0, 0.01, mixed.shape).astype(np.float32)
        out[start : start + m] = mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
    return out


def exact_truth(vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> np.ndarray:
    best = np.full((len(queries), 0), -1, dtype=np.int64)
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    for start in range(0, len(vectors), 200_000):
        scores = queries @ vectors[start : start + 200_000].T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        best = np.concatenate([best, top + start], 1)
        best_scores = np.concatenate([best_scores, np.take_along_axis(scores, top, 1)], 1)
    order = np.argsort(-best_scores, 1)[:, :k]
    return np.take_along_axis(best, order, 1)


def rerank_top(vectors: np.ndarray, rows: np.ndarray, query: np.ndarray, k: int = 10) -> np.ndarray:
    """The k best of some candidate rows by exact inner product with the float32 vectors (read from disk)."""
    rows = np.sort(rows[rows >= 0])  # sorted: the memory map reads the file front to back
    return rows[np.argsort(-(np.asarray(vectors[rows]) @ query))[:k]]


def row(name: str, size: float, built: tuple[float, float], rate: float, found: list, truth: np.ndarray) -> None:
    print(
        f"{name:44} {size:9.0f} {built[0]:8.0f} {built[1]:7.0f} {rate:8,.0f} {ann_sweep.recall(found, truth):10.3f}",
        flush=True,
    )


def timed(fn) -> tuple[object, tuple[float, float]]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, (time.perf_counter() - wall, time.process_time() - cpu)


def hnsw_part(vectors: np.ndarray, queries: np.ndarray, truth: np.ndarray, efc: int, folder: Path) -> None:
    import faiss
    import hnswlib

    n, dim = vectors.shape
    chunk = 100_000

    def build_hnswlib():
        index = hnswlib.Index(space="ip", dim=dim)
        index.init_index(max_elements=n, ef_construction=efc, M=32)
        for start in range(0, n, chunk):  # streamed, as embedlab builds it from the table
            index.add_items(
                np.ascontiguousarray(vectors[start : start + chunk]), np.arange(start, min(n, start + chunk))
            )
        return index

    gc.collect()
    before = ann_sweep.rss_mib()
    index, built = timed(build_hnswlib)
    grown = (ann_sweep.rss_mib() - before) * 2**20 / n
    index.save_index(str(folder / "hnsw.bin"))
    saved = (folder / "hnsw.bin").stat().st_size / n
    (folder / "hnsw.bin").unlink()
    print(
        f"hnswlib M 32 at {n:,}: {saved:,.0f} B/vector serialised, {grown:,.0f} B/vector of process growth", flush=True
    )
    for ef in (128, 256):
        index.set_ef(ef)

        def run(index=index):
            return [index.knn_query(q[None], 10)[0][0] for q in queries]

        found = run()
        row(
            f"hnswlib HNSW32 float32 efSearch {ef}",
            saved,
            built,
            ann_sweep.best_rate(run, len(queries), 2),
            found,
            truth,
        )
    del index
    gc.collect()

    def build_sq():
        index = faiss.index_factory(dim, "HNSW32,SQ8", faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = efc
        index.train(np.ascontiguousarray(vectors[np.random.default_rng(1).choice(n, min(n, 50_000), replace=False)]))
        for start in range(0, n, chunk):
            index.add(np.ascontiguousarray(vectors[start : start + chunk]))
        return index

    before = ann_sweep.rss_mib()
    index, built = timed(build_sq)
    grown = (ann_sweep.rss_mib() - before) * 2**20 / n
    saved = faiss.serialize_index(index).nbytes / n
    print(
        f"faiss HNSW32,SQ8 at {n:,}: {saved:,.0f} B/vector serialised, {grown:,.0f} B/vector of process growth",
        flush=True,
    )
    faiss.omp_set_num_threads(1)
    for ef, rerank in ((256, 0), (256, 100)):
        params = faiss.SearchParametersHNSW(efSearch=max(ef, rerank))

        def run(index=index, params=params, rerank=rerank):
            out = []
            for q in queries:
                rows = index.search(q[None], rerank or 10, params=params)[1][0]
                out.append(rerank_top(vectors, rows, q) if rerank else rows)
            return out

        found = run()
        name = f"faiss HNSW32,SQ8 efSearch {ef}" + (f" + rerank {rerank}" if rerank else "")
        row(name, saved, built, ann_sweep.best_rate(run, len(queries), 2), found, truth)
    faiss.omp_set_num_threads(os.cpu_count() or 1)


def ivf_part(vectors: np.ndarray, queries: np.ndarray, truth: np.ndarray, nlist: int) -> None:
    import faiss

    n, dim = vectors.shape
    train = np.ascontiguousarray(vectors[np.random.default_rng(1).choice(n, min(n, 50_000), replace=False)])
    faiss.omp_set_num_threads(os.cpu_count() or 1)

    def coarse():
        quantizer = faiss.IndexFlatIP(dim)
        kmeans = faiss.Clustering(dim, nlist)
        kmeans.train(train, quantizer)
        return quantizer

    quantizer, trained = timed(coarse)  # one coarse quantiser for every variant: they differ only in the codes
    print(
        f"coarse quantiser ({nlist} lists, trained on 50,000): {trained[0]:.0f}s wall, {trained[1]:.0f}s CPU",
        flush=True,
    )
    metric = faiss.METRIC_INNER_PRODUCT
    for label, make in (
        ("Flat", lambda: faiss.IndexIVFFlat(quantizer, dim, nlist, metric)),
        (
            "SQ8 (int8)",
            lambda: faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit, metric),
        ),
        ("PQ64 (64 B)", lambda: faiss.IndexIVFPQ(quantizer, dim, nlist, 64, 8, metric)),
        ("PQ32 (32 B)", lambda: faiss.IndexIVFPQ(quantizer, dim, nlist, 32, 8, metric)),
    ):

        def build(make=make):
            index = make()
            index.train(train)  # the coarse quantiser is trained already: this trains the codes only
            for start in range(0, n, 100_000):
                index.add(np.ascontiguousarray(vectors[start : start + 100_000]))
            return index

        index, built = timed(build)
        codes = index.invlists.compute_ntotal() if hasattr(index.invlists, "compute_ntotal") else n
        size = (index.code_size + 8) * codes / n  # codes and ids in the lists (the quantiser's 1 MiB aside)
        faiss.omp_set_num_threads(1)
        for nprobe in (16, 64):
            index.nprobe = nprobe
            for rerank in (0, 100):

                def run(index=index, rerank=rerank):
                    out = []
                    for q in queries:
                        rows = index.search(q[None], rerank or 10)[1][0]
                        out.append(rerank_top(vectors, rows, q) if rerank else rows)
                    return out

                found = run()
                name = f"faiss IVF{nlist},{label} nprobe {nprobe}" + (f" + rerank {rerank}" if rerank else "")
                row(name, size, built, ann_sweep.best_rate(run, len(queries), 2), found, truth)
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        del index
        gc.collect()


def lance_part(vectors: np.ndarray, queries: np.ndarray, truth: np.ndarray, nlist: int, folder: Path) -> None:
    import lancedb
    import pyarrow as pa

    n, dim = vectors.shape
    db = lancedb.connect(folder / "db")
    table = None
    for start in range(0, n, 100_000):
        chunk = np.ascontiguousarray(vectors[start : start + 100_000])
        batch = pa.table(
            {
                "row": pa.array(np.arange(start, start + len(chunk))),
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(chunk.ravel()), dim),
            }
        )
        if table is None:
            table = db.create_table("v", batch)
        else:
            table.add(batch)
    _, built = timed(
        lambda: table.create_index(
            metric="cosine", num_partitions=nlist, num_sub_vectors=dim // 8, vector_column_name="vector"
        )
    )
    sizes = sum(p.stat().st_size for p in (folder / "db" / "v.lance" / "_indices").rglob("*") if p.is_file())
    for nprobes, refine in ((16, None), (64, None), (16, 10), (64, 10), (64, 50)):

        def lance(nprobes=nprobes, refine=refine):
            out = []
            for q in queries:
                search = table.search(q).metric("cosine").nprobes(nprobes).limit(10).select(["row", "_distance"])
                if refine:
                    search = search.refine_factor(refine)
                out.append(np.asarray(search.to_arrow()["row"].to_pylist()))
            return out

        found = lance()
        name = f"LanceDB IVF{nlist},PQ{dim // 8} nprobes {nprobes}" + (f" refine {refine}" if refine else "")
        row(name, sizes / n, built, ann_sweep.best_rate(lance, len(queries), 2), found, truth)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--parts", default="hnsw,ivf,lance", help="comma-separated: hnsw, ivf, lance")
    parser.add_argument("--ef-construction", type=int, default=200, help="of both HNSW indexes (embedlab: 200)")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    _, base = bench_data.real_vectors(100_000)
    query_texts = bench_data.real_texts(100_000 + args.queries)[100_000:]
    queries = load("wordllama").encode(query_texts, normalize=True).astype(np.float32)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        np.save(folder / "vectors.npy", spread(base, args.n), allow_pickle=False)
        del base
        vectors = np.load(folder / "vectors.npy", mmap_mode="r")  # float32 on disk: re-ranking reads candidates only
        truth = exact_truth(vectors, queries)
        print(
            f"{args.n:,} x {vectors.shape[1]} vectors, {len(queries)} queries; float32 = {4 * vectors.shape[1]} B/vector; "
            f"{ann_sweep.load_average()}",
            flush=True,
        )
        print(f"{'index':44} {'B/vector':>9} {'build s':>8} {'CPU s':>7} {'q/s':>8} {'recall@10':>10}")
        if "hnsw" in parts:
            hnsw_part(vectors, queries, truth, args.ef_construction, folder)
        if "ivf" in parts:
            ivf_part(vectors, queries, truth, 1024)
        if "lance" in parts:
            lance_part(vectors, queries, truth, 1024, folder)
    print(ann_sweep.load_average())


if __name__ == "__main__":
    main()
