"""Single-process `embedlab index` against `--engine ray` (1 and 2 workers): items/s, driver memory, commit cost.

Two corpora built from the Lee corpus' real sentences, each line made unique by a counter: 200,000
lines with `wordllama` (static vectors: the run measures reading and committing) and 20,000 lines with
`minilm` (a transformer: the run measures the model). Each run is a fresh process with a fresh store,
so its peak RSS (VmHWM) is the driver's own; Ray's workers are other processes (their memory is not in
it). For the Ray runs the driver also times its share, `Ingest.write` (the merge_insert commits of
vectors the workers made), which no number of workers shortens: on N machines the design gives about
min(N x the per-worker rate, the commit rate measured here).

    .venv/bin/python benchmarks/scale_ingest.py [--wordllama-lines 200000] [--minilm-lines 20000]

The machine is shared; absolute numbers are noisy, compare the rows of one run.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from embedlab.datasets import lee_news

RUNNER = """
import json, sys, time
from embedlab.search import engine
from embedlab.store import Store, ingest

engine.ANN_THRESHOLD = 10**12  # the HNSW build is the same for both engines; leave it out
spent = [0.0]
write = ingest.Ingest.write
def timed(self, chunk, vectors=None):
    start = time.perf_counter()
    write(self, chunk, vectors)
    spent[0] += time.perf_counter() - start
ingest.Ingest.write = timed
store, path, model, engine_name, workers, batch = sys.argv[1:7]
start = time.perf_counter()
options = {} if engine_name == "local" else {"engine": "ray", "workers": int(workers)}
summary = Store(store).create("bench", model).add_files(path, batch_size=int(batch), **options)
seconds = time.perf_counter() - start
peak = [int(x.split()[1]) // 1024 for x in open("/proc/self/status") if x.startswith("VmHWM")][0]
print(json.dumps({"items": summary.total, "seconds": seconds, "write": spent[0], "peak": peak}))
"""


def run(folder: Path, path: Path, model: str, engine: str, workers: int, batch: int) -> dict:
    store = folder / f"store-{model}-{engine}-{workers}"
    out = subprocess.run(
        [sys.executable, "-c", RUNNER, str(store), str(path), model, engine, str(workers), str(batch)],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def corpus(path: Path, lines: int) -> Path:
    sentences = []
    for record in lee_news():
        sentences += [s for s in re.split(r"(?<=[.!?])\s+", record.text) if len(s.split()) > 4]
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(lines):
            handle.write(f"{i}: {sentences[i % len(sentences)]}\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wordllama-lines", type=int, default=200_000)
    parser.add_argument("--minilm-lines", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for model, lines in (("wordllama", args.wordllama_lines), ("minilm", args.minilm_lines)):
            if not lines:
                continue
            path = corpus(folder / f"{model}.txt", lines)
            print(f"\n{model}: {lines:,} lines, batches of {args.batch_size:,}")
            print(f"{'engine':<22}{'items/s':>10}{'seconds':>10}{'driver peak MiB':>17}{'commit items/s':>16}")
            rows = {}
            for engine, workers in (("local", 0), ("ray", 1), ("ray", 2)):
                result = run(folder, path, model, engine, workers, args.batch_size)
                rows[(engine, workers)] = result
                label = (
                    "embedlab index" if engine == "local" else f"--engine ray, {workers} worker{'s' * (workers > 1)}"
                )
                commit = f"{result['items'] / result['write']:,.0f}" if engine == "ray" else "-"
                print(
                    f"{label:<22}{result['items'] / result['seconds']:>10,.0f}{result['seconds']:>10,.1f}"
                    f"{result['peak']:>17,}{commit:>16}"
                )
            one, two, local = rows[("ray", 1)], rows[("ray", 2)], rows[("local", 0)]
            rate1, rate2 = one["items"] / one["seconds"], two["items"] / two["seconds"]
            print(
                f"scaling 1 -> 2 workers: {rate2 / rate1:.2f}x ({rate2 / rate1 / 2:.0%} efficiency); "
                f"ray 2 workers / single process: {rate2 / (local['items'] / local['seconds']):.2f}x"
            )
            commit_rate = two["items"] / two["write"]
            print(
                f"N machines: about min(N x {rate1:,.0f} items/s per worker, {commit_rate:,.0f} items/s of commits "
                f"on the driver)"
            )


if __name__ == "__main__":
    main()
