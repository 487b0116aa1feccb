"""Ingest a 1,000,000-line text file with `embedlab index` and report time and peak memory.

The file is built from the Lee corpus' real sentences, each line made unique by a counter, so
no two items share an id. wordllama is the encoder (fast static vectors), so the run measures the
store's streaming rather than a transformer. Peak RSS of the indexing process is read from
/proc/self/status (VmHWM) after it finishes, and compared with the file's size.

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
from embedlab.store import Store
collection = Store(sys.argv[1]).create("big", "wordllama")
summary = collection.add_file(sys.argv[2], batch_size=int(sys.argv[3]))
status = open("/proc/self/status").read()
peak = [line for line in status.splitlines() if line.startswith("VmHWM")][0]
print(summary.total, summary.added, peak)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=5000)
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
            [sys.executable, "-c", RUNNER, str(Path(folder) / "store"), str(path), str(args.batch_size)],
            capture_output=True,
            text=True,
            check=True,
        )
        seconds = time.perf_counter() - start
    total, added, peak = result.stdout.split(maxsplit=2)
    peak_mib = int(peak.split()[1]) / 1024
    print(
        f"{args.lines:,} lines ({size:,.0f} MiB) -> {int(total):,} items in {seconds:,.0f}s "
        f"({int(total) / seconds:,.0f} items/s, wordllama, batch {args.batch_size})"
    )
    print(
        f"peak RSS of the indexing process: {peak_mib:,.0f} MiB "
        f"(vectors alone: {int(total) * 256 * 4 / 2**20:,.0f} MiB, held once to build the HNSW index)"
    )


if __name__ == "__main__":
    main()
