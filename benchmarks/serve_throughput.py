"""`embedlab serve` against in-process `encode`, and against a peer server, same model, same texts, same run.

In-process: `encoder.encode(texts, batch_size=32)` (texts/s), and the time to encode one short text.
Server: `embedlab serve --model MODEL` on a free loopback port, driven by 1, 8 and 32 concurrent clients
(one text per request, so throughput at 32 clients relies on dynamic batching alone), by 32 clients that send
`--per-request` texts per request (10, LlamaIndex's default embedding batch; LangChain's OpenAI client sends up to
1,000), and the round-trip time (p50/p99) of one short text from one client. Peer: infinity-emb (`infinity_emb v2`) serving
the same model folder, when it is installed (it does not share our dependencies: install it into its own
venv, e.g. `python -m venv .bench-venv && .bench-venv/bin/pip install "infinity-emb[server,torch]"
"transformers<5" "torch==2.13.0"`, and pass --infinity .bench-venv/bin/infinity_emb).

The clients run on the same machine as the server (2 cores here), so every figure includes the client's
own CPU use; the machine is shared, so compare the ratios of one run, not absolute numbers across runs.

    .venv/bin/python benchmarks/serve_throughput.py [--n 512] [--model minilm] [--infinity PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from embedlab import load
from embedlab.datasets import lee_news

SHORT = "A short sentence about the weather."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


async def drive(url: str, model: str, texts: list[str], clients: int, per_request: int = 1) -> float:
    """texts/s with `clients` concurrent clients, one text per request, each a keep-alive HTTP/1.1 connection.

    The clients are written on asyncio's streams rather than httpx: they run on the same 2 cores as the
    server, and httpx spends about as much CPU per request as the server does (it capped the server at
    0.44x in-process in the run of 2026-11-28), so the figure measured the client. A load generator such as
    wrk or oha does the same; `drive_httpx` keeps the httpx client for comparison (`--client httpx`)."""
    split = httpx.URL(url)
    host, port, path = split.host, split.port, split.path.rstrip("/") + "/embeddings"
    queue = list(reversed(texts))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while queue:
                batch = [queue.pop() for _ in range(min(per_request, len(queue)))]
                body = json.dumps({"model": model, "input": batch}).encode()
                writer.write(
                    f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
                answer = await reader.readexactly(length)
                if status != 200 or b'"embedding"' not in answer:
                    raise RuntimeError(f"HTTP {status}: {answer[:200]!r}")
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return len(texts) / (time.perf_counter() - start)


async def drive_httpx(url: str, model: str, texts: list[str], clients: int, per_request: int = 1) -> float:
    """As `drive`, with httpx's AsyncClient (its own CPU use counts against the server on a small machine)."""
    queue = list(reversed(texts))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:

        async def worker() -> None:
            while queue:
                batch = [queue.pop() for _ in range(min(per_request, len(queue)))]
                response = await client.post("/embeddings", json={"model": model, "input": batch})
                response.raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return len(texts) / (time.perf_counter() - start)


def round_trips(url: str, model: str, repeats: int) -> list[float]:
    times = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for _ in range(repeats + 5):
            start = time.perf_counter()
            client.post("/embeddings", json={"model": model, "input": [SHORT]}).raise_for_status()
            times.append(time.perf_counter() - start)
    return times[5:]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure_server(name: str, command: list[str], url: str, model: str, texts: list[str], args) -> dict:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "DO_NOT_TRACK": "1",
        "INFINITY_ANONYMOUS_USAGE_STATS": "0",
    }
    log = tempfile.NamedTemporaryFile(prefix=f"{name}-", suffix=".log", delete=False)
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_ready(url.removesuffix("/v1"), process)
        driver = drive_httpx if args.client == "httpx" else drive
        asyncio.run(driver(url, model, texts[:64], 8))  # warm up
        row = {"name": name}
        row["in"], row["single"] = args.in_process()
        for clients in (1, 8, 32):
            row[clients] = max(asyncio.run(driver(url, model, texts, clients)) for _ in range(args.repeats))
        # 32 clients that send their texts in batches (LlamaIndex's embed_batch_size is 10): the same texts four
        # times over, so that the run is not mostly its ramp-up and tail
        row["batched"] = max(
            asyncio.run(driver(url, model, texts * 4, 32, args.per_request)) for _ in range(args.repeats)
        )
        trips = round_trips(url, model, args.latency_repeats)
        row["p50"], row["p99"] = percentile(trips, 0.5), percentile(trips, 0.99)
        print(f"measured {name}: {row}", flush=True)
        return row
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=512, help="texts per measurement")
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--repeats", type=int, default=2, help="best of this many runs per client count")
    parser.add_argument("--latency-repeats", type=int, default=50)
    parser.add_argument(
        "--per-request", type=int, default=10, help="texts per request in the batched run (32 clients; default 10)"
    )
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw", help="the concurrent clients' HTTP code")
    default_infinity = Path(__file__).resolve().parent.parent / ".bench-venv" / "bin" / "infinity_emb"
    parser.add_argument("--infinity", default=str(default_infinity) if default_infinity.exists() else None)
    args = parser.parse_args()

    sentences = [s.strip() for r in lee_news() for s in re.split(r"(?<=[.!?])\s+", r.text) if len(s.split()) >= 5]
    texts = sentences[: args.n]
    encoder = load(args.model)
    encoder.encode(texts[:64])

    def in_process() -> tuple[float, float]:
        """(texts/s, seconds for one short text) in this process; measured next to each server's runs,
        because the load of a shared machine moves."""
        best = float("inf")
        for _ in range(args.repeats):
            began = time.perf_counter()
            encoder.encode(texts, batch_size=32)
            best = min(best, time.perf_counter() - began)
        singles = []
        for _ in range(args.latency_repeats + 5):
            start = time.perf_counter()
            encoder.encode([SHORT])
            singles.append(time.perf_counter() - start)
        result = len(texts) / best, statistics.median(singles[5:])
        print(f"measured in-process: {result[0]:.1f} texts/s, one short text {result[1] * 1000:.2f} ms", flush=True)
        return result

    def server_bound() -> float:
        """texts/s of the server's best case with one-text requests, in-process: 32 clients keep at most 32 texts
        in flight, so each of the two one-thread workers (the server's default on 2 cores) encodes groups of 16
        in arrival order; no HTTP."""
        import threading

        import torch

        groups = [texts[i : i + 16] for i in range(0, len(texts), 16)]

        def work(k: int) -> None:
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // 2))
            for group in groups[k::2]:
                encoder.encode(group)

        best = float("inf")
        for _ in range(args.repeats):
            began = time.perf_counter()
            threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            best = min(best, time.perf_counter() - began)
        return len(texts) / best

    args.in_process = in_process
    rows = []
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "embedlab",
        "serve",
        "--port",
        str(port),
        "--model",
        args.model,
        "--no-access-log",
        "--store",
        tempfile.mkdtemp(prefix="bench-store-"),
    ]
    rows.append(measure_server("embedlab serve", command, f"http://127.0.0.1:{port}/v1", args.model, texts, args))
    if args.infinity and args.model == "minilm":
        from embedlab.encoders.transformer import bundled_minilm_path

        folder = str(bundled_minilm_path())
        port = free_port()
        command = [
            args.infinity,
            "v2",
            "--model-id",
            folder,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--engine",
            "torch",
            "--device",
            "cpu",
            "--no-model-warmup",
        ]
        try:
            rows.append(measure_server("infinity-emb", command, f"http://127.0.0.1:{port}", folder, texts, args))
        except Exception as exc:  # report, don't hide: the peer is optional
            print(f"infinity-emb could not be measured: {exc}")
    elif not args.infinity:
        print("infinity-emb not measured (not installed, or --infinity ''): see the module docstring.")

    print(
        f"\nmodel {args.model}, {len(texts)} Lee sentences, one text per request ({args.client} HTTP clients); "
        f"CPU threads: {os.cpu_count()}"
    )
    batched = f"32x{args.per_request}"
    print(
        f"{'server':16} {'in-process':>10} {'1 client':>10} {'8 clients':>10} {'32 clients':>11} {'x in-proc@32':>13} "
        f"{batched + ' texts':>12} {'x in-proc':>10} {'p50 ms':>8} {'p99 ms':>8} {'p50 / in-proc':>14}"
    )
    for row in rows:
        print(
            f"{row['name']:16} {row['in']:10.1f} {row[1]:10.1f} {row[8]:10.1f} {row[32]:11.1f} {row[32] / row['in']:13.2f} "
            f"{row['batched']:12.1f} {row['batched'] / row['in']:10.2f} "
            f"{row['p50'] * 1000:8.2f} {row['p99'] * 1000:8.2f} {row['p50'] / row['single']:14.2f}"
        )
    bound = server_bound()
    print(
        f"the server's bound for one-text requests at 32 clients (in-process, 2 workers x groups of 16, no HTTP): "
        f"{bound:.1f} texts/s = {bound / rows[0]['in']:.2f}x in-process; embedlab serve reached "
        f"{rows[0][32] / bound:.2f}x of it"
    )
    print("in-process one short text, next to each row: " + ", ".join(f"{r['single'] * 1000:.2f} ms" for r in rows))
    print(
        f"(texts/s; 1/8/32 clients send one text per request, {batched}: 32 clients sending {args.per_request} texts per "
        "request; goals: >= 0.9x in-process at 32 clients, short-text p50 under 2x the in-process encode)"
    )


if __name__ == "__main__":
    main()
