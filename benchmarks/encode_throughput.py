"""Encode throughput (texts/s) of every embedlab backend and precision against sentence-transformers' `encode`,
same model folder (the bundled all-MiniLM-L6-v2), same texts, same batch size, same run.

For each row: texts/s (best of --repeats), the ratio to sentence-transformers fp32 measured in this run,
the minimum cosine of its vectors to embedlab torch fp32 over all texts, and peak memory (CUDA: the
torch allocator's peak; CPU: the process's resident-memory growth during the first call, sampled every 5 ms; all models
are loaded before, so it is what encoding adds).
A distilled static model (`--static DIR`, made by `embedlab distill`) gets a row too.

Texts: sentences of 5+ words from the Lee news corpus (about 3,000 distinct; `--n` larger than that
cycles through them again).

    CPU:  nice -n 0 .venv/bin/python benchmarks/encode_throughput.py --n 2000 --batch-size 32 --static models/minilm-static
    GPU:  python benchmarks/encode_throughput.py --device cuda --n 40000 --batch-size 128   # ~2 min on an H200

Other processes on a shared machine make absolute numbers noisy; the ratios are measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import re
import threading
import time
from collections.abc import Callable

import numpy as np
import torch

from embedlab import load
from embedlab.datasets import lee_news


def lee_sentences(n: int) -> list[str]:
    sentences = []
    for story in (r.text for r in lee_news()):
        sentences += [s for s in re.split(r"(?<=[.!?])\s+", story) if len(s.split()) >= 5]
    return [sentences[i % len(sentences)] for i in range(n)]


def rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_memory(fn: Callable[[], object], cuda: bool) -> tuple[object, float]:
    """fn's result and MiB: the CUDA allocator's peak during fn, or the growth of resident memory (CPU)."""
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        result = fn()
        torch.cuda.synchronize()
        return result, torch.cuda.max_memory_allocated() / 2**20
    base, peak, done = rss(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = fn()
    finally:
        done.set()
        sampler.join()
    return result, max(0, max(peak[0], rss()) - base) / 2**20


def best_of(fn: Callable[[], object], repeats: int, cuda: bool) -> float:
    times = []
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--precisions",
        nargs="*",
        help="torch half precisions to add (default: bf16 fp16 on CUDA, bf16 on CPU, where fp16 matmuls are slow)",
    )
    parser.add_argument("--no-budget", action="store_true", help="leave out the no-batch_size rows (the CPU plans its passes, a GPU fills a token budget)")
    parser.add_argument("--static", help="a static model folder made by `embedlab distill` (adds its row)")
    parser.add_argument(
        "--skip", nargs="*", default=[], help="row labels to leave out, e.g. 'embedlab torch fp16' (slow on CPU)"
    )
    args = parser.parse_args()
    from sentence_transformers import SentenceTransformer

    cuda = args.device == "cuda"
    texts = lee_sentences(args.n)
    folder = str(load("minilm", device="cpu").folder)
    reference = SentenceTransformer(folder, device=args.device)
    bs = args.batch_size
    torch_fp32 = load("minilm", device=args.device, precision="fp32")
    rows: list[tuple[str, Callable[[], np.ndarray]]] = [
        ("embedlab torch fp32", lambda: torch_fp32.encode(texts, batch_size=bs)),
        ("sentence-transformers fp32", lambda: reference.encode(texts, batch_size=bs, normalize_embeddings=True)),
    ]
    if not args.no_budget:
        rows.append(("embedlab torch fp32, no batch_size", lambda: torch_fp32.encode(texts)))
    for precision in args.precisions or (("bf16", "fp16") if cuda else ("bf16",)):
        label = f"embedlab torch {precision}"
        if label in args.skip:
            continue
        encoder = load("minilm", device=args.device, precision=precision)
        rows.append((label, lambda e=encoder: e.encode(texts, batch_size=bs)))
        if cuda:
            rows.append((label + ", no batch_size", lambda e=encoder: e.encode(texts)))
    if not cuda:  # ONNX Runtime runs on the CPU here (onnxruntime, not onnxruntime-gpu)
        for backend in ("onnx", "onnx-int8"):
            encoder = load("minilm", backend=backend)
            rows.append((f"embedlab {backend}", lambda e=encoder: e.encode(texts, batch_size=bs)))
    if args.static:
        static = load(f"static:{args.static}")
        rows.append((f"static {os.path.basename(args.static.rstrip('/'))} (model2vec)", lambda: static.encode(texts)))
    rows = [r for r in rows if r[0] not in args.skip]

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}, {len(texts)} Lee "
        f"sentences, batch size {bs}, best of {args.repeats}; load average {os.getloadavg()[0]:.2f} at start"
    )
    if cuda:
        print(f"GPU: {torch.cuda.get_device_name()}")
    truth: np.ndarray | None = None  # embedlab torch fp32's vectors (its row comes first)
    results = []
    for label, fn in rows:
        # the first call warms up (ONNX Runtime and CUDA tune on first use) and measures the memory it takes
        first, memory = peak_memory(fn, cuda)
        vectors = np.asarray(first, dtype=np.float32)
        truth = vectors if label == "embedlab torch fp32" else truth
        seconds = best_of(fn, args.repeats, cuda)
        cosine = (
            float((vectors * truth).sum(1).min())
            if truth is not None and vectors.shape == truth.shape
            else float("nan")
        )
        results.append((label, len(texts) / seconds, cosine, memory))
        print(f"  measured {label}: {len(texts) / seconds:,.0f} texts/s", flush=True)
    peer = next(speed for label, speed, _, _ in results if label.startswith("sentence-transformers"))
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end\n")
    print(
        "| model, backend, precision | texts/s | vs sentence-transformers | min cosine to torch fp32 | peak memory MiB |"
    )
    print("|---|---:|---:|---:|---:|")
    for label, speed, cosine, memory in results:
        shown = "n/a (other space)" if np.isnan(cosine) else f"{cosine:.5f}"
        print(f"| {label} | {speed:,.0f} | {speed / peer:.2f}x | {shown} | {memory:,.0f} |")


if __name__ == "__main__":
    main()
