"""Ingest a 1,000,000-line text file with `embedlab index` and report time and peak memory.

The file is built from the Lee corpus' real sentences, each line made unique by a counter, so
no two items share an id. wordllama is the encoder (fast static vectors), so the run measures the
store's streaming rather than a transformer. The indexing process samples its RSS after every
batch (/proc/self/status): bounded memory means it stays flat while the file streams through.
The HNSW index build at the end (>= 50,000 items) needs all vectors in memory and is skipped
unless --ann is given.

    .venv/bin/python benchmarks/ingest_memory.py [--lines 1000000]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from embedlab.datasets import lee_news

RUNNER = """
import sys
from embedlab.search import engine
from embedlab.store import Store, ingest

def rss(field):
    line = [x for x in open("/proc/self/status").read().splitlines() if x.startswith(field)][0]
    return int(line.split()[1]) // 1024

samples = []
write_chunk = ingest.Ingest.write
def sampled(self, chunk, vectors=None):
    write_chunk(self, chunk, vectors)
    samples.append(rss("VmRSS"))
ingest.Ingest.write = sampled
if sys.argv[4] == "no-ann":
    engine.ANN_THRESHOLD = 10**12
collection = Store(sys.argv[1]).create("big", "wordllama")
summary = collection.add_file(sys.argv[2], batch_size=int(sys.argv[3]))
quarter = len(samples) // 4
print(summary.total, samples[quarter], samples[2 * quarter], samples[-1], max(samples), rss("VmHWM"))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--ann", action="store_true", help="also build the HNSW index at the end (slow at 1M)")
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
        start = time.perf_counter()
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                RUNNER,
                str(Path(folder) / "store"),
                str(path),
                str(args.batch_size),
                "ann" if args.ann else "no-ann",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        seconds = time.perf_counter() - start
    total, q1, q2, last, stream_peak, peak = (int(x) for x in result.stdout.split())
    print(
        f"{args.lines:,} lines ({size:,.0f} MiB) -> {total:,} items in {seconds:,.0f}s "
        f"({total / seconds:,.0f} items/s, wordllama, batch {args.batch_size})"
    )
    print(
        f"RSS while streaming, after 25% / 50% / 100% of the batches: {q1:,} / {q2:,} / {last:,} MiB (max {stream_peak:,})"
    )
    built = " (includes the HNSW build, which holds all vectors twice)" if args.ann else " (HNSW build skipped: --ann)"
    print(f"peak RSS of the whole run: {peak:,} MiB{built}")


if __name__ == "__main__":
    main()
