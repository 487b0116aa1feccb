"""Ingest a 1,000,000-line text file with `embedlab index` and report time and peak memory.

The file is built from the Lee corpus' real sentences, each line made unique by a counter, so
no two items share an id. wordllama is the encoder (fast static vectors), so the run measures the
store's streaming rather than a transformer. The indexing process samples its RSS after every
batch (/proc/self/status): bounded memory means it stays flat while the file streams through.
The HNSW index build at the end (>= 50,000 items) streams the table into the index; it is skipped
unless --ann is given.

--compare-pool runs the same ingest twice in one run, first with wordllama's own `embed` (its tokenizer
on the Rust thread pool, as before), then as shipped (one text at a time in the calling thread), and
prints both memory curves and speeds, so the memory fix is weighed against its cost in the same run.

    .venv/bin/python benchmarks/ingest_memory.py [--lines 1000000] [--compare-pool]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from embedlab.datasets import lee_news

RUNNER = """
import os
import sys, tracemalloc
from embedlab.store import Store, ingest

def rss(field):
    line = [x for x in open("/proc/self/status").read().splitlines() if x.startswith(field)][0]
    return int(line.split()[1]) // 1024

profile = sys.argv[5] == "profile"
if profile:
    tracemalloc.start(8)
import os
if os.environ.get("BENCH_SESSION"):  # experiment: LanceDB caches bounded to BENCH_SESSION MiB each
    import lancedb
    size = int(os.environ["BENCH_SESSION"]) * 2**20
    connect = lancedb.connect
    lancedb.connect = lambda *a, **k: connect(*a, session=lancedb.Session(size, size), **k)
trim = None
if os.environ.get("BENCH_TRIM"):  # experiment: hand freed heap back to the OS after each batch
    import ctypes
    trim = ctypes.CDLL("libc.so.6").malloc_trim
if os.environ.get("BENCH_NO_LOOKUP"):  # experiment: skip the per-batch lookup of stored ids (fresh ids only)
    ingest.Ingest._stored_fingerprints = lambda self, ids: {}
if os.environ.get("BENCH_APPEND"):  # experiment: append instead of merge_insert (fresh ids only)
    from embedlab.store.collection import Collection
    table_of = Collection.table.fget
    class Appending:
        def __init__(self, table):
            self._t = table
        def __getattr__(self, name):
            return getattr(self._t, name)
        def merge_insert(self, on):
            table = self._t
            class Builder:
                def when_matched_update_all(self):
                    return self
                def when_not_matched_insert_all(self):
                    return self
                def execute(self, batch):
                    table.add(batch)
            return Builder()
    Collection.table = property(lambda self: Appending(table_of(self)))
if os.environ.get("BENCH_NO_ENCODE"):  # experiment: vectors from a hash instead of wordllama
    import numpy as np
    from embedlab.encoders.wordllama import WordLlamaEncoder
    def fake(self, texts, batch_size, show_progress):
        rng = np.random.default_rng(len(texts))
        return rng.normal(size=(len(texts), self.dim)).astype(np.float32)
    WordLlamaEncoder._encode = fake
if os.environ.get("BENCH_POOL"):  # before: wordllama's embed, its tokenizer on the Rust thread pool
    from embedlab.encoders.wordllama import WordLlamaEncoder
    WordLlamaEncoder.mean_token_vectors = lambda self, texts: self.model.embed(texts, norm=False, batch_size=64)
if os.environ.get("BENCH_CLEAR_CACHE"):  # experiment: empty the tokenizer's word cache after each batch
    from embedlab.encoders.wordllama import WordLlamaEncoder
    encode = WordLlamaEncoder._encode
    def cleared(self, texts, batch_size, show_progress):
        out = encode(self, texts, batch_size, show_progress)
        self.model.tokenizer.model._clear_cache()
        return out
    WordLlamaEncoder._encode = cleared
samples, snapshots, anon = [], [], []
write_chunk = ingest.Ingest.write
def sampled(self, chunk, vectors=None):
    write_chunk(self, chunk, vectors)
    if trim:
        trim(0)
    samples.append(rss("VmRSS"))
    anon.append(rss("RssAnon"))
    if profile and len(samples) in (max(1, int(sys.argv[6]) // 10), int(sys.argv[6])):
        snapshots.append(tracemalloc.take_snapshot())
ingest.Ingest.write = sampled
if sys.argv[4] == "no-ann":
    os.environ["EMBEDLAB_ANN_THRESHOLD"] = str(10**12)
collection = Store(sys.argv[1]).create("big", "wordllama")
summary = collection.add_file(sys.argv[2], batch_size=int(sys.argv[3]))
if len(snapshots) == 2:
    for stat in snapshots[1].compare_to(snapshots[0], "traceback")[:8]:
        print("growth", stat, "|", " <- ".join(str(f) for f in stat.traceback[:4]), file=sys.stderr)
    print("python heap growth after 10%:", sum(s.size_diff for s in snapshots[1].compare_to(snapshots[0], "filename")) // 2**20, "MiB", file=sys.stderr)
tenth = max(0, len(samples) // 10 - 1)
quarter = len(samples) // 4
print(summary.total, samples[tenth], samples[quarter], samples[2 * quarter], samples[-1], max(samples), rss("VmHWM"),
      anon[tenth], anon[-1])
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--ann", action="store_true", help="also build the HNSW index at the end (slow at 1M)")
    parser.add_argument("--compare-pool", action="store_true", help="first run wordllama's thread pool (before)")
    parser.add_argument("--profile", action="store_true", help="tracemalloc: where the Python heap grows after 10%%")
    args = parser.parse_args()
    sentences = []
    for record in lee_news():
        sentences += [s for s in re.split(r"(?<=[.!?])\s+", record.text) if len(s.split()) > 4]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "lines.txt"
        with open(path, "w", encoding="utf-8") as handle:
            for i in range(args.lines):
                handle.write(f"{i}: {sentences[i % len(sentences)]}\n")
        size = path.stat().st_size / 2**20
        variants = [("wordllama's thread pool (before)", {"BENCH_POOL": "1"})] if args.compare_pool else []
        variants.append(("as shipped", {}))
        for name, env in variants:
            report(name, env, args, folder, path, size)


def report(name: str, env: dict[str, str], args: argparse.Namespace, folder: str, path: Path, size: float) -> None:
    store = Path(folder) / "store"
    shutil.rmtree(store, ignore_errors=True)
    start, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            RUNNER,
            str(store),
            str(path),
            str(args.batch_size),
            "ann" if args.ann else "no-ann",
            "profile" if args.profile else "-",
            str(-(-args.lines // args.batch_size)),
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
    shutil.rmtree(store, ignore_errors=True)
    if result.stderr.strip():
        print("\n".join(line for line in result.stderr.splitlines() if "growth" in line))
    total, tenth, q1, q2, last, stream_peak, peak, anon_tenth, anon_last = (int(x) for x in result.stdout.split())
    print(f"== {name} ({load_average()})")
    print(
        f"{args.lines:,} lines ({size:,.0f} MiB) -> {total:,} items in {seconds:,.0f}s "
        f"({total / seconds:,.0f} items/s, wordllama, batch {args.batch_size}); "
        f"CPU time {cpu_seconds:,.0f}s ({total / cpu_seconds:,.0f} items per CPU-second: the fair figure on a busy machine)"
    )
    print(
        f"RSS while streaming, after 10% / 25% / 50% / 100% of the batches: {tenth:,} / {q1:,} / {q2:,} / {last:,} MiB "
        f"(max {stream_peak:,}); end / 10% = {last / tenth:.2f}x"
    )
    print(
        f"of which anonymous memory (heap; the rest is file pages mapped from the table): {anon_tenth:,} -> "
        f"{anon_last:,} MiB, end / 10% = {anon_last / anon_tenth:.2f}x"
    )
    built = " (includes the HNSW build, streamed from the table)" if args.ann else " (HNSW build skipped: --ann)"
    print(f"peak RSS of the whole run: {peak:,} MiB{built}", flush=True)


def load_average() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
