"""Start-up time of the command line, next to `python -c pass`, same run.

Measures (best and median of --repeats runs, each a fresh process):
- `python -c pass` (the floor: the interpreter itself);
- `embedlab --help`;
- `embedlab search` on a TF-IDF collection of the 300 Lee stories (built once in a temp store);
- the same search through a running server (`--server URL`), which needs no store libraries.

Goals: `--help` under 0.5 s, the TF-IDF search under 1.5 s. The machine is shared: compare the rows of one
run (the ratio to `python -c pass` says how much is ours).

    .venv/bin/python benchmarks/cli_startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def timed(command: list[str], repeats: int, env: dict[str, str]) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("EMBEDLAB_API_KEY", None)
    store = Path(tempfile.mkdtemp(prefix="cli-bench-")) / "store"
    from embedlab.datasets import lee_news
    from embedlab.store import Store

    records = lee_news()
    Store(store).create("lee", "tfidf").add_records(lambda: iter(records), total=len(records))
    embedlab = [sys.executable, "-m", "embedlab"]
    search = [*embedlab, "search", "lee", "bushfires near Sydney", "-k", "3", "--store", str(store)]
    rows = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("embedlab --help", [*embedlab, "--help"]),
        ("embedlab search (tfidf)", search),
    ]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [*embedlab, "serve", "--store", str(store), "--port", str(port), "--no-access-log"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        rows.append(("embedlab search --server", [*search[:-2], "--server", url]))
        results = [(name, *timed(command, args.repeats, env)) for name, command in rows]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    floor = results[0][1]
    print(f"{'command':28} {'best s':>8} {'median s':>9} {'best - python':>14}")
    for name, best, median in results:
        print(f"{name:28} {best:8.3f} {median:9.3f} {best - floor:14.3f}")
    print("(goals: --help < 0.5 s, tfidf search < 1.5 s; each a fresh process, best of", args.repeats, "runs)")


if __name__ == "__main__":
    main()
