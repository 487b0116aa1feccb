"""What compressed vector indexes cost in recall and save in memory at 1,000,000 vectors (docs/scale.md).

Vectors: the 100,000 real-text wordllama vectors of bench_data.py spread into N points the way the
`mixed` data of search_latency.py is (each mixes two real vectors plus a little noise), 256 dimensions.
Queries: 100 held-out real texts. Recall@10 is against exact search over the same N vectors, in the same
run. Memory is the index's own size (bytes per vector), measured from what the library stores.

Variants: faiss IVF-Flat, IVF-SQ8 (int8 per dimension), IVF-PQ (32 and 64 one-byte sub-quantisers), each
with and without exact re-ranking of the top candidates from the float32 vectors on disk (a memory map),
and LanceDB's own IVF-PQ index on a table of the same vectors. HNSW at 1M is not built here (over half an
hour on this shared 2-core machine); its memory is linear in N and measured at 100k by search_latency.py.

    .venv/bin/python benchmarks/scale_memory.py [--n 1000000] [--no-lance]
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    import faiss

    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--no-lance", action="store_true")
    args = parser.parse_args()
    _, base = bench_data.real_vectors(100_000)
    query_texts = bench_data.real_texts(100_000 + args.queries)[100_000:]
    queries = load("wordllama").encode(query_texts, normalize=True).astype(np.float32)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "vectors.npy"
        np.save(path, spread(base, args.n), allow_pickle=False)
        vectors = np.load(path, mmap_mode="r")  # float32 on disk: the re-ranking reads only the candidates
        dim = vectors.shape[1]
        truth = exact_truth(vectors, queries)
        print(
            f"{args.n:,} x {dim} vectors, {len(queries)} queries; float32 = {4 * dim} B/vector; "
            f"{ann_sweep.load_average()}",
            flush=True,
        )
        print(f"{'index':40} {'B/vector':>9} {'build s':>8} {'q/s':>8} {'recall@10':>10}")
        train = np.ascontiguousarray(vectors[np.random.default_rng(1).choice(args.n, 50_000, replace=False)])
        nlist = 1024
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        for label, factory in (
            ("IVF1024,Flat", "IVF1024,Flat"),
            ("IVF1024,SQ8 (int8)", "IVF1024,SQ8"),
            ("IVF1024,PQ64 (64 B)", "IVF1024,PQ64"),
            ("IVF1024,PQ32 (32 B)", "IVF1024,PQ32"),
        ):
            started = time.perf_counter()
            index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
            index.train(train)
            for start in range(0, args.n, 100_000):
                index.add(np.ascontiguousarray(vectors[start : start + 100_000]))
            built = time.perf_counter() - started
            size = faiss.serialize_index(index).nbytes / args.n
            faiss.omp_set_num_threads(1)
            for nprobe in (16, 64):
                index.nprobe = nprobe
                for rerank in (0, 100):
                    want = rerank or 10

                    def run(index=index, want=want, rerank=rerank):
                        out = []
                        for q in queries:
                            rows = index.search(q[None], want)[1][0]
                            if rerank:
                                rows = rows[rows >= 0]
                                rows = rows[np.argsort(-(np.asarray(vectors[rows]) @ q))[:10]]
                            out.append(rows)
                        return out

                    found = run()
                    rate = ann_sweep.best_rate(run, len(queries), 2)
                    name = f"faiss {label} nprobe {nprobe}" + (f" + rerank {rerank}" if rerank else "")
                    print(
                        f"{name:40} {size:9.0f} {built:8.0f} {rate:8,.0f} {ann_sweep.recall(found, truth):10.3f}",
                        flush=True,
                    )
            faiss.omp_set_num_threads(os.cpu_count() or 1)
            del index
        if not args.no_lance:
            import lancedb
            import pyarrow as pa

            db = lancedb.connect(Path(folder) / "db")
            table = None
            for start in range(0, args.n, 100_000):
                chunk = np.ascontiguousarray(vectors[start : start + 100_000])
                batch = pa.table(
                    {
                        "row": pa.array(np.arange(start, start + len(chunk))),
                        "vector": pa.FixedSizeListArray.from_arrays(pa.array(chunk.ravel()), dim),
                    }
                )
                table = db.create_table("v", batch) if table is None else table
                if start:
                    table.add(batch)
            started = time.perf_counter()
            table.create_index(
                metric="cosine", num_partitions=nlist, num_sub_vectors=dim // 8, vector_column_name="vector"
            )
            built = time.perf_counter() - started
            sizes = sum(
                p.stat().st_size for p in (Path(folder) / "db" / "v.lance" / "_indices").rglob("*") if p.is_file()
            )
            for nprobes, refine in ((16, None), (64, None), (64, 10)):

                def lance(nprobes=nprobes, refine=refine):
                    out = []
                    for q in queries:
                        search = table.search(q).metric("cosine").nprobes(nprobes).limit(10).select(["row"])
                        if refine:
                            search = search.refine_factor(refine)
                        out.append(np.asarray(search.to_arrow()["row"].to_pylist()))
                    return out

                found = lance()
                rate = ann_sweep.best_rate(lance, len(queries), 2)
                name = f"LanceDB IVF{nlist},PQ{dim // 8} nprobes {nprobes}" + (f" refine {refine}" if refine else "")
                print(
                    f"{name:40} {sizes / args.n:9.0f} {built:8.0f} {rate:8,.0f} {ann_sweep.recall(found, truth):10.3f}",
                    flush=True,
                )
    print(ann_sweep.load_average())


if __name__ == "__main__":
    main()
